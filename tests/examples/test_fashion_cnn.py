"""Small VGG- and ResNet-style networks on Fashion-MNIST (sec. 8.4.3, 8.4.5): their shapes
and parameter counts (counted by hand), the residual and plain networks of the same depth
differing only by the shortcuts, a small VGG learning the clothes, and the plain deep
network training worse than the residual one."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

fc = load_example('fashion_cnn')

try:
    fc.load(n_train=1, n_test=1)
except FileNotFoundError as e:     # the data is a Debian package (.ci/run installs it)
    pytest.skip(f'Fashion-MNIST is not on this machine: {e}', allow_module_level=True)


def conv(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


def bn(c):
    return 2 * c


def test_fashion_mnist_is_on_the_machine():
    X, y, X_te, y_te = fc.load(n_train=100, n_test=50)
    assert X.shape == (100, 1, 28, 28) and X_te.shape == (50, 1, 28, 28)
    assert X.dtype == numpy.float32 and 0.0 <= X.min() and X.max() <= 1.0
    assert set(numpy.unique(y)) <= set(range(10))
    X14, _, _, _ = fc.load(n_train=100, n_test=0, side=14)
    numpy.testing.assert_allclose(X14[:, 0, 0, 0], X[:, 0, :2, :2].mean((1, 2)), rtol=1e-6)


def test_small_vgg_follows_the_vgg_pattern():
    model = fc.small_vgg().eval()
    with autograd.no_grad():
        out = model(autograd.zeros(2, 1, 28, 28))
        feat = model.features(autograd.zeros(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 10) and tuple(feat.shape) == (2, 32, 7, 7)
    convs = [m for m in model.features if isinstance(m, fc.nn.Conv2d)]
    assert all(m.kernel_size == (3, 3) and m.padding == (1, 1) for m in convs)
    expected = (conv(1, 16, 3) + conv(16, 16, 3) + conv(16, 32, 3) + conv(32, 32, 3)
                + (32 * 49 * 128 + 128) + (128 * 128 + 128) + (128 * 10 + 10))
    assert fc.cnn.count(model) == expected
    assert fc.weight_layers(model) == 7


def test_small_resnet_shapes_and_count():
    model = fc.small_resnet().eval()
    with autograd.no_grad():
        out = model(autograd.zeros(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 10)
    block = lambda c_in, c: conv(c_in, c, 3, False) + bn(c) + conv(c, c, 3, False) + bn(c)
    projection = lambda c_in, c: conv(c_in, c, 1, False) + bn(c)
    expected = (conv(1, 16, 3, False) + bn(16) + block(16, 16) + block(16, 32)
                + projection(16, 32) + block(32, 64) + projection(32, 64) + 64 * 10 + 10)
    assert fc.cnn.count(model) == expected
    assert fc.weight_layers(model) == 8


def test_plain_and_residual_differ_only_by_the_shortcuts():
    residual, plain = fc.deep_net(3, True), fc.deep_net(3, False)
    assert fc.weight_layers(residual) == fc.weight_layers(plain) == 20
    # the only extra parameters: the two 1 x 1 projections (with batch norm)
    assert fc.cnn.count(residual) - fc.cnn.count(plain) == (conv(8, 16, 1, False) + bn(16)
                                                            + conv(16, 32, 1, False) + bn(32))
    # with the residual branch switched off (last batch norm of each block scaled to 0)
    # a residual block passes its input through unchanged; a plain block gives relu(0) = 0
    x = autograd.rand(2, 8, 14, 14)
    for model, same in ((residual, True), (plain, False)):
        block = model.layers[0].eval()
        with autograd.no_grad():
            block.bn2.weight.zero_()
            block.bn2.bias.zero_()
            out = block(x)
        assert autograd.equal(out, x) == same


def test_smooth_is_a_running_mean():
    numpy.testing.assert_allclose(fc.smooth([1, 2, 3, 4], k=2), [1, 1.5, 2.5, 3.5])


@pytest.mark.slow
def test_small_vgg_learns_fashion_mnist():
    data = fc.load(n_train=1500, n_test=500)
    _, losses, accuracies = fc.train_classifier(fc.small_vgg, data, epochs=1, batch_size=32,
                                                log=None)
    assert accuracies[-1] > 0.5                            # chance is 0.10
    assert numpy.mean(losses[-5:]) < numpy.mean(losses[:5])


@pytest.mark.slow
def test_the_plain_deep_network_trains_worse_than_the_residual_one():
    curves = fc.depth_comparison(blocks=3, steps=40, n_train=1280, batch_size=32, log=None)
    residual, plain = (numpy.mean(curves[k][-10:]) for k in ('residual', 'plain'))
    assert residual < plain
    # and the residual net does learn (a trainer that did nothing would pass the line above):
    # seed 0 takes its loss from 2.30 (ln 10, first 5 steps) to 1.16 (last 10; plain 1.63)
    assert residual < 0.75 * numpy.mean(curves['residual'][:5])


@pytest.mark.slow
def test_the_script_runs_and_draws_the_loss_curves(tmp_path):
    r = run_example('fashion_cnn', tmp_path, '--epochs', 1, '--n-train', 64, '--n-test', 64,
                    '--depth-blocks', 1, '--depth-steps', 3)
    assert len(r['vgg']) == len(r['resnet']) == 1
    assert len(r['curves']['residual']) == len(r['curves']['plain']) == 3
    assert (tmp_path / 'residual_vs_plain.png').stat().st_size > 0

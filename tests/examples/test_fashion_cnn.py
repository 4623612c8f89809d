"""Small AlexNet-, VGG-, GoogLeNet- and ResNet-style networks on Fashion-MNIST (sec.
8.4.1-8.4.5): their shapes and parameter counts (counted by hand), the design choices each
keeps from its original (AlexNet's large strided first filter, overlapping pools, response
normalisation and dropout, ZFNet's smaller first filter; GoogLeNet's inception modules and
average pooling), the residual and plain networks of the same depth differing only by the
shortcuts, each small network learning the clothes in a short run, and the plain deep network
training worse than the residual one."""
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
    # standardised: by the training images' mean and deviation, the test images alike
    Xs, _, Xs_te, _ = fc.load(n_train=100, n_test=50, standardize=True)
    assert abs(Xs.mean()) < 1e-5 and abs(Xs.std() - 1) < 1e-5
    numpy.testing.assert_allclose(Xs_te, (X_te - X.mean()) / X.std(), rtol=1e-5, atol=1e-5)


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


def _shapes_after(model, modules, x):
    """The output shape (without the batch) of each module in ``modules`` for input x, in
    the order they run, and the model's output shape."""
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for m in modules]
    with autograd.no_grad():
        out = model.eval()(x)
    for h in hooks:
        h.remove()
    return shapes, tuple(out.shape)


def fc_(n_in, n_out):
    return n_in * n_out + n_out


@pytest.mark.parametrize('zfnet', [False, True])
def test_small_alexnet_follows_alexnets_design(zfnet):
    nn = fc.nn
    model = fc.SmallAlexNet(zfnet=zfnet)
    layers = list(model.features)
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    pools = [m for m in layers if isinstance(m, nn.MaxPool2d)]
    shapes, out = _shapes_after(model, convs + pools, autograd.zeros(2, 1, 28, 28))
    assert out == (2, 10)
    # AlexNet's widths (96, 256, 384, 384, 256) and ZFNet's (96, 256, 512, 1024, 512), Table
    # 8.1, divided by 4
    widths = (96, 256, 512, 1024, 512) if zfnet else (96, 256, 384, 384, 256)
    assert [m.out_channels * 4 for m in convs] == list(widths)
    # a large first filter with a stride; ZFNet's is smaller with a smaller stride, and its
    # second convolution takes the stride instead, so the later footprints are AlexNet's
    k1, s1, s2 = (5, 1, 2) if zfnet else (7, 2, 1)
    assert convs[0].kernel_size == (k1, k1) and convs[0].stride == (s1, s1)
    assert convs[1].kernel_size == (5, 5) and convs[1].stride == (s2, s2)
    assert all(m.kernel_size == (3, 3) and m.stride == (1, 1) for m in convs[2:])
    # hooks fire in forward order: conv1, MP, conv2, MP, conv3, conv4, conv5, MP
    side1 = 28 if zfnet else 14
    assert shapes[:4] == [(24, side1, side1), (24, side1 // 2, side1 // 2),
                          (64, 7, 7), (64, 4, 4)]
    assert shapes[4:] == [(c // 4, 4, 4) for c in widths[2:]] + [(widths[-1] // 4, 2, 2)]
    # overlapping 3 x 3 pools at stride 2, each of the first two after ReLU and response
    # normalisation (AlexNet's n = 5, alpha = 1e-4, beta = 0.75, k = 2)
    assert all(m.kernel_size == 3 and m.stride == 2 for m in pools) and len(pools) == 3
    for i in (layers.index(pools[0]), layers.index(pools[1])):
        lrn = layers[i - 1]
        assert isinstance(lrn, nn.LocalResponseNorm) and isinstance(layers[i - 2], nn.ReLU)
        assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2.0)
    # dropout (0.5) before each hidden fully connected layer; no batch norm anywhere
    kinds = [type(m).__name__ for m in model.classifier]
    assert kinds == ['Flatten', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU',
                     'Linear']
    assert all(m.p == 0.5 for m in model.classifier if isinstance(m, nn.Dropout))
    assert not any('BatchNorm' in type(m).__name__ for m in model.modules())
    c = [w // 4 for w in widths]
    expected = (conv(1, 24, k1) + conv(24, 64, 5) + conv(64, c[2], 3) + conv(c[2], c[3], 3)
                + conv(c[3], c[4], 3) + fc_(c[4] * 4, 256) + fc_(256, 256) + fc_(256, 10))
    assert fc.cnn.count(model) == expected
    assert fc.weight_layers(model) == 8                     # AlexNet's 5 conv + 3 FC


def test_small_googlenet_is_inception_modules_and_global_average_pooling():
    nn = fc.nn
    model = fc.small_googlenet()
    modules = [m for m in model.features if isinstance(m, fc.cnn.Inception)]
    shapes, out = _shapes_after(model, [model.features[0]] + modules,
                                autograd.zeros(2, 1, 28, 28))
    assert out == (2, 10)
    assert shapes == [(48, 14, 14), (64, 14, 14), (120, 7, 7), (128, 7, 7)]
    # a quarter of the widths of GoogLeNet's inception modules 3a, 3b, 4a (Szegedy et al.
    # Table 1)
    for small, name in zip(fc.SMALL_INCEPTION, ('3a', '3b', '4a')):
        assert [4 * w for w in small] == list(fc.cnn.INCEPTION[name])
    # the classifier is global average pooling and one linear layer (no big dense layers),
    # and GoogLeNet v1 has no batch normalisation
    assert isinstance(model.features[-1], nn.AdaptiveAvgPool2d)
    assert [m.in_features for m in model.modules() if isinstance(m, nn.Linear)] == [128]
    assert not any('BatchNorm' in type(m).__name__ for m in model.modules())

    def inception(c_in, c1, r3, c3, r5, c5, pool_proj):
        return (conv(c_in, c1, 1) + conv(c_in, r3, 1) + conv(r3, c3, 3) + conv(c_in, r5, 1)
                + conv(r5, c5, 5) + conv(c_in, pool_proj, 1))

    expected = (conv(1, 48, 5) + sum(inception(*w) for w in fc.SMALL_INCEPTION)
                + fc_(128, 10))
    assert fc.cnn.count(model) == expected
    # the book: VGG spends most of its parameters connecting the last convolution to the
    # first dense layer; average pooling leaves GoogLeNet far fewer (here a quarter of the
    # small VGG's) and almost none in its classifier
    vgg = fc.small_vgg()
    assert vgg.classifier[1].weight.numel() > 0.8 * fc.cnn.count(vgg)
    assert 3 * expected < fc.cnn.count(vgg)
    assert fc.cnn.count(model.classifier) < 0.05 * expected


@pytest.mark.parametrize('make', ['small_alexnet', 'small_googlenet'])
def test_the_networks_without_batch_norm_start_from_he_initialisation(make):
    autograd.manual_seed(0)
    model = getattr(fc, make)()
    layers = [m for m in model.modules() if isinstance(m, (fc.nn.Conv2d, fc.nn.Linear))]
    for m in layers:
        w = m.weight.detach().cpu().numpy()
        fan_in = w[0].size
        gain = 1.0 if m is layers[-1] else 2.0            # the linear output layer: 1 / fan-in
        if w.size >= 2000:                                # enough draws for a 10% check
            assert abs(w.std() / numpy.sqrt(gain / fan_in) - 1) < 0.1
        assert not m.bias.detach().cpu().numpy().any()


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


@pytest.fixture(scope='module')
def short_run_data():
    return fc.load(n_train=1280, n_test=500, standardize=True)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['alexnet', 'vgg', 'googlenet', 'resnet'])
def test_each_small_network_learns_the_clothes(name, short_run_data):
    # 40 steps of 32 images, each network with the script's learning rate: seed 0 reaches
    # 45% (AlexNet), 64% (VGG), 42% (GoogLeNet), 55% (ResNet) of 500 held-out images
    _, losses, accuracies = fc.train_classifier(fc.NETWORKS[name], short_run_data, epochs=1,
                                                batch_size=32, lr=fc.LR[name], log=None)
    assert len(losses) == 40
    assert accuracies[-1] > 0.3                             # chance is 0.10
    assert numpy.mean(losses[-5:]) < 0.8 * numpy.mean(losses[:5])


@pytest.mark.slow
def test_the_plain_deep_network_trains_worse_than_the_residual_one():
    curves = fc.depth_comparison(blocks=3, steps=40, n_train=1280, batch_size=32, log=None)
    residual, plain = (numpy.mean(curves[k][-10:]) for k in ('residual', 'plain'))
    assert residual < plain
    # and the residual net does learn (a trainer that did nothing would pass the line above):
    # seed 0 takes its loss from 2.30 (ln 10, first 5 steps) to 1.16 (last 10; plain 1.63)
    assert residual < 0.75 * numpy.mean(curves['residual'][:5])


@pytest.mark.slow
def test_the_script_runs_and_draws_the_loss_curves(tmp_path, capsys):
    nets = ['alexnet', 'zfnet', 'vgg', 'googlenet', 'resnet']
    r = run_example('fashion_cnn', tmp_path, '--epochs', 1, '--n-train', 64, '--n-test', 64,
                    '--nets', ','.join(nets), '--depth-blocks', 1, '--depth-steps', 3)
    assert all(len(r[name]) == 1 for name in nets)
    assert len(r['curves']['residual']) == len(r['curves']['plain']) == 3
    assert (tmp_path / 'residual_vs_plain.png').stat().st_size > 0
    # each network's parameter count is printed with its accuracy
    printed = capsys.readouterr().out
    for name in nets:
        n = fc.cnn.count(fc.NETWORKS[name]())
        assert r['parameters'][name] == n
        assert f'small {name} ({n:,d} parameters' in printed


def test_the_script_rejects_an_unknown_network(tmp_path):
    with pytest.raises(SystemExit):
        run_example('fashion_cnn', tmp_path, '--nets', 'alexnet,lenet', '--skip-depth')

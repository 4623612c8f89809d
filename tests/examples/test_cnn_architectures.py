"""Chapter 8's networks: shapes as in the book's tables (Table 8.1, Table 8.2, Fig. 8.5),
parameter counts equal to the published ones (counted independently by hand below),
and LeNet-5 learning the digits."""
import pytest

import autograd
from example_scripts import load_example

cnn = load_example('cnn_architectures')


def _shapes_after(model, modules, x):
    """The output shape (without the batch) of each module in ``modules`` for input x."""
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for m in modules]
    with autograd.no_grad():
        out = model(x)
    for h in hooks:
        h.remove()
    return shapes, tuple(out.shape)


def conv(c_in, c_out, k):
    return c_in * c_out * k * k + c_out


def fc(n_in, n_out):
    return n_in * n_out + n_out


def test_lenet5_shapes_and_count():
    model = cnn.LeNet5().eval()
    f = model.features
    shapes, out = _shapes_after(model, [f[0], f[1], f[3], f[4]], autograd.zeros(2, 1, 32, 32))
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    assert out == (2, 10)
    assert cnn.count(model) == (conv(1, 6, 5) + conv(6, 16, 5) + fc(400, 120) + fc(120, 84)
                                + fc(84, 10)) == 61706


@pytest.mark.slow
@pytest.mark.parametrize('zfnet', [False, True])
def test_alexnet_and_zfnet_follow_table_8_1(zfnet):
    autograd.manual_seed(0)
    model = cnn.AlexNet(zfnet=zfnet).eval()
    layers = [m for m in model.features if isinstance(m, (cnn.nn.Conv2d, cnn.nn.MaxPool2d))]
    shapes, out = _shapes_after(model, layers, autograd.zeros(1, 3, 224, 224))
    # hooks fire in forward order: conv1, MP, conv2, MP, conv3, conv4, conv5, MP
    if zfnet:
        # Table 8.1: conv 7x7 stride 2 + MP 55x55x96, conv 5x5 stride 2 + MP 13x13x256
        assert shapes[1] == (96, 55, 55) and shapes[3] == (256, 13, 13)
        assert shapes[4:7] == [(512, 13, 13), (1024, 13, 13), (512, 13, 13)]
        widths = (96, 256, 512, 1024, 512)
        first = conv(3, 96, 7)
    else:
        assert shapes[0] == (96, 55, 55)                         # 96 filters 11x11, stride 4
        assert shapes[2] == (256, 27, 27)
        assert shapes[4:7] == [(384, 13, 13), (384, 13, 13), (256, 13, 13)]
        widths = (96, 256, 384, 384, 256)
        first = conv(3, 96, 11)
    assert shapes[-1] == (widths[-1], 6, 6) and out == (1, 1000)
    expected = (first + conv(96, 256, 5) + conv(widths[1], widths[2], 3)
                + conv(widths[2], widths[3], 3) + conv(widths[3], widths[4], 3)
                + fc(widths[4] * 36, 4096) + fc(4096, 4096) + fc(4096, 1000))
    assert cnn.count(model) == expected


def test_vgg_configurations_have_the_books_layer_counts():
    # Table 8.2: weight layers (convolutions + 3 fully connected) per column
    for name, layers in (('A', 11), ('A-LRN', 11), ('B', 13), ('C', 16), ('D', 16),
                         ('E', 19)):
        convs = [c for c in cnn.VGG_CONFIGS[name] if c not in ('M', 'LRN')]
        assert len(convs) + 3 == layers, name
        assert cnn.VGG_CONFIGS[name].count('M') == 5           # 224 -> 7


def test_small_vgg_shapes():
    model = cnn.VGG('A', classes=10, width=64).eval()
    pools = [m for m in model.features if isinstance(m, cnn.nn.MaxPool2d)]
    shapes, out = _shapes_after(model, pools, autograd.zeros(2, 3, 64, 64))
    # each max-pool halves the footprint, the filters double up to 512
    assert shapes == [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4), (512, 2, 2)]
    assert out == (2, 10)


@pytest.mark.slow
def test_vgg_d_has_the_books_138_million_parameters():
    model = cnn.VGG('D')
    first_fc = model.classifier[1]
    assert first_fc.weight.numel() == 7 * 7 * 512 * 4096 == 102760448     # the book's figure
    n = cnn.count(model)
    assert n == 138357544                                   # "about 138,000,000"
    assert first_fc.weight.numel() / n > 0.74               # "nearly 75% ... in a single layer"


def test_inception_module_concatenates_its_four_branches():
    module = cnn.Inception(*cnn.INCEPTION['3a'])
    with autograd.no_grad():
        out = module(autograd.zeros(1, 192, 28, 28))
    assert tuple(out.shape) == (1, 64 + 128 + 32 + 32, 28, 28)
    assert module.out_channels == 256                      # Table 1: 3a's output depth


@pytest.mark.slow
def test_googlenet_is_an_order_of_magnitude_smaller_than_vgg():
    model = cnn.GoogLeNet(classes=1000).eval()
    modules = [m for m in model.features if isinstance(m, cnn.Inception)]
    shapes, out = _shapes_after(model, modules, autograd.zeros(1, 3, 224, 224))
    assert [s[0] for s in shapes] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert [s[1] for s in shapes] == [28, 28, 14, 14, 14, 14, 14, 7, 7]
    assert out == (1, 1000)
    assert 6.5e6 < cnn.count(model) < 7.5e6 and cnn.count(model) * 10 < 138357544


@pytest.mark.parametrize('blocks, expected', [((2, 2, 2, 2), 11689512),
                                              ((3, 4, 6, 3), 21797672)])
def test_resnet_counts(blocks, expected):
    # torchvision's resnet18 / resnet34 totals (the same definition: basic blocks, BN,
    # 1x1 projection shortcuts where the shape changes)
    assert cnn.count(cnn.ResNet(blocks)) == expected


def test_resnet_forward_shapes_on_small_inputs():
    model = cnn.ResNet((2, 2, 2, 2), classes=10).eval()
    stages = [model.layers[i] for i in (1, 3, 5, 7)]
    shapes, out = _shapes_after(model, stages, autograd.zeros(1, 3, 64, 64))
    assert shapes == [(64, 16, 16), (128, 8, 8), (256, 4, 4), (512, 2, 2)]
    assert out == (1, 10)
    plain = cnn.ResNet((2, 2, 2, 2), residual=False)
    assert all(b.downsample is None for b in plain.layers)   # no shortcuts at all


@pytest.mark.slow
def test_lenet5_learns_the_digits():
    _, accuracies = cnn.train_lenet(epochs=3, n_train=1500, lr=3e-3, log=None)
    assert accuracies[-1] > 0.88

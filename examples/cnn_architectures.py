"""The convolutional networks of chapter 8 as definitions: LeNet-5, AlexNet and ZFNet, VGG
configurations A-E, GoogLeNet (Inception modules), ResNet-18/34; their parameter counts
printed next to the published ones, their shapes checked, and LeNet-5 trained on digits.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.4: LeNet-5 (8.4 / Fig. 8.5: two
convolutions with 2 x 2 subsampling, then 120-84-10 fully connected layers on a 32 x 32
input; here softmax outputs instead of the hand-made RBF units, as the book recommends),
AlexNet (sec. 8.4.1, Table 8.1: 96 filters of 11 x 11 at stride 4 giving 55 x 55 x 96,
then 256, 384, 384, 256 filters, 3 x 3 max-pools at stride 2, FC 4096-4096-1000),
ZFNet (Table 8.1: 7 x 7 filters at stride 2, 512/1024/512 filters in layers 3-5),
VGG (sec. 8.4.3, Table 8.2: columns A-E; D has about 138,000,000 parameters, of which
7 x 7 x 512 x 4096 = 102,760,448 are in the first fully connected layer), GoogLeNet (sec.
8.4.4: Inception modules with 1 x 1 bottlenecks, an order of magnitude fewer parameters
than VGG), ResNet (sec. 8.4.5: residual blocks of two 3 x 3 convolutions with identity or
1 x 1 projection shortcuts).

The "published" counts: LeNet-5 is ours to count (LeCun et al. 1998 report ~60,000 with a
partially connected C3); AlexNet with the book's single-tower (ungrouped) filters; VGG from
Simonyan & Zisserman (2015), Table 2, in millions; GoogLeNet from Szegedy et al. (2015),
Table 1 (weights only, in thousands); ResNets as torchvision counts them.

Run: ``python examples/cnn_architectures.py [--epochs 8]``
"""

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim


# ---------------------------------------------------------------------------------------------
# LeNet-5

class LeNet5(nn.Module):
    """32 x 32 x 1 -> C1 6@28x28 -> S2 6@14x14 -> C3 16@10x10 -> S4 16@5x5 -> C5 120 ->
    F6 84 -> 10.  Subsampling is 2 x 2 average pooling followed by the activation (the
    original order); tanh as in LeCun et al."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.AvgPool2d(2), nn.Tanh(),
            nn.Conv2d(6, 16, 5), nn.AvgPool2d(2), nn.Tanh())
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(),   # C5: a 5x5 conv = FC
            nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------------------------------
# AlexNet and ZFNet (Table 8.1)

class AlexNet(nn.Module):
    """224 x 224 x 3 -> 55x55x96 -> 27x27x256 -> 13x13x384 -> 13x13x384 -> 13x13x256 ->
    6x6x256 -> 4096 -> 4096 -> classes.  ``zfnet=True`` gives ZFNet's changes: 7 x 7 filters
    at stride 2 in the first layer, 5 x 5 at stride 2 in the second, 512, 1024, 512 filters
    in layers 3-5."""

    def __init__(self, classes=1000, zfnet=False, dropout=0.5):
        super().__init__()
        if zfnet:
            widths = (96, 256, 512, 1024, 512)
            head = [nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(),
                    nn.MaxPool2d(3, 2, padding=1),
                    nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
        else:
            widths = (96, 256, 384, 384, 256)
            head = [nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.ReLU(),
                    nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
                    nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(),
                    nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2)]
        c2, c3, c4, c5 = widths[1:]
        self.features = nn.Sequential(
            *head,
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c5 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------------------------------
# VGG (Table 8.2)

# numbers: 3 x 3 convolutions with that many filters; (n, 1): a 1 x 1 convolution; 'M':
# 2 x 2 max-pool; 'LRN': local response normalisation
VGG_CONFIGS = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'A-LRN': [64, 'LRN', 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'B': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'C': [64, 64, 'M', 128, 128, 'M', 256, 256, (256, 1), 'M', 512, 512, (512, 1), 'M',
          512, 512, (512, 1), 'M'],
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
          512, 512, 512, 'M'],
    'E': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M',
          512, 512, 512, 512, 'M'],
}


class VGG(nn.Module):
    """A column of Table 8.2: convolutions with padding that keeps the footprint, each
    followed by ReLU; five 2 x 2 max-pools take 224 to 7; FC4096-FC4096-FC classes.  The
    adaptive average pool is the identity at 224 x 224 and lets small inputs through.
    ``config`` names a column of VGG_CONFIGS or is a list in the same notation (the small
    VGG-style networks of fashion_cnn.py)."""

    def __init__(self, config='D', classes=1000, in_channels=3, width=4096, dropout=0.5):
        super().__init__()
        layers, c = [], in_channels
        for item in VGG_CONFIGS[config] if isinstance(config, str) else config:
            if item == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            elif item == 'LRN':
                layers.append(nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0))
            else:
                out, k = item if isinstance(item, tuple) else (item, 3)
                layers += [nn.Conv2d(c, out, k, padding=k // 2), nn.ReLU()]
                c = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * 7 * 7, width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


# ---------------------------------------------------------------------------------------------
# GoogLeNet

class Inception(nn.Module):
    """Four branches concatenated on channels: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool ->
    1x1 (the 1x1 'reduce' convolutions are the bottlenecks of sec. 8.4.4)."""

    def __init__(self, c_in, c1, r3, c3, r5, c5, pool_proj):
        super().__init__()
        conv = lambda i, o, k: nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU())
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.b1 = conv(c_in, c1, 1)
        self.b3 = nn.Sequential(conv(c_in, r3, 1), conv(r3, c3, 3))
        self.b5 = nn.Sequential(conv(c_in, r5, 1), conv(r5, c5, 5))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), conv(c_in, pool_proj, 1))

    def forward(self, x):
        return autograd.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


# Szegedy et al. (2015), Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
INCEPTION = {'3a': (192, 64, 96, 128, 16, 32, 32), '3b': (256, 128, 128, 192, 32, 96, 64),
             '4a': (480, 192, 96, 208, 16, 48, 64), '4b': (512, 160, 112, 224, 24, 64, 64),
             '4c': (512, 128, 128, 256, 24, 64, 64), '4d': (512, 112, 144, 288, 32, 64, 64),
             '4e': (528, 256, 160, 320, 32, 128, 128), '5a': (832, 256, 160, 320, 32, 128, 128),
             '5b': (832, 384, 192, 384, 48, 128, 128)}


class GoogLeNet(nn.Module):
    """The network of Table 1 without the auxiliary classifiers (used only in training):
    224 -> 7x7/2 conv 64 -> pool -> 1x1 conv 64, 3x3 conv 192 -> pool -> inception 3a, 3b ->
    pool -> 4a-4e -> pool -> 5a, 5b -> global average pool -> dropout -> linear."""

    def __init__(self, classes=1000):
        super().__init__()
        inc = lambda name: Inception(*INCEPTION[name])
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
            nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2, padding=1),
            inc('3a'), inc('3b'), nn.MaxPool2d(3, 2, padding=1),
            inc('4a'), inc('4b'), inc('4c'), inc('4d'), inc('4e'), nn.MaxPool2d(3, 2, padding=1),
            inc('5a'), inc('5b'), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.4), nn.Linear(1024, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------------------------------
# ResNet

class BasicBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm; the input added back (through a 1 x 1
    projection when the shape changes).  ``residual=False`` drops the shortcut: the plain
    network the book compares with."""

    def __init__(self, c_in, c_out, stride=1, residual=True):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if residual and (stride != 1 or c_in != c_out):
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                            nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return F.relu(out)


class ResNet(nn.Module):
    """ResNet-18 (``blocks=(2, 2, 2, 2)``) or -34 (``(3, 4, 6, 3)``) on 224 x 224 inputs:
    7x7/2 conv 64, 3x3/2 max-pool, four stages of basic blocks (64, 128, 256, 512 filters,
    the last three halving the footprint), global average pool, linear.  ``stem=False``
    replaces the stem by one 3 x 3 convolution for small images."""

    def __init__(self, blocks=(2, 2, 2, 2), classes=1000, in_channels=3, widths=(64, 128, 256, 512),
                 residual=True, stem=True):
        super().__init__()
        w0 = widths[0]
        if stem:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, w0, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(w0), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, w0, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(w0), nn.ReLU())
        layers, c = [], w0
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                layers.append(BasicBlock(c, w, 2 if (j == 0 and i > 0) else 1, residual))
                c = w
        self.layers = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))

    def forward(self, x):
        return self.head(self.layers(self.stem(x)))


# ---------------------------------------------------------------------------------------------

def count(model, weights_only=False):
    """The number of trainable parameters (``weights_only``: without the biases)."""
    return sum(p.numel() for name, p in model.named_parameters()
               if not (weights_only and name.endswith('bias')))


# name -> (constructor, published count, what the published number counts)
PUBLISHED = {
    'LeNet-5': (LeNet5, 61706, 'full C3 connectivity (LeCun 1998: ~60,000, C3 partial)'),
    'AlexNet': (AlexNet, 62378344, 'single tower, ungrouped filters'),
    'ZFNet': (lambda: AlexNet(zfnet=True), None, 'no published total'),
    'VGG-A': (lambda: VGG('A'), 133e6, 'Simonyan & Zisserman Table 2: 133 M'),
    'VGG-A-LRN': (lambda: VGG('A-LRN'), 133e6, 'Table 2: 133 M'),
    'VGG-B': (lambda: VGG('B'), 133e6, 'Table 2: 133 M'),
    'VGG-C': (lambda: VGG('C'), 134e6, 'Table 2: 134 M'),
    'VGG-D': (lambda: VGG('D'), 138e6, 'the book: about 138,000,000'),
    'VGG-E': (lambda: VGG('E'), 144e6, 'Table 2: 144 M'),
    'GoogLeNet': (GoogLeNet, 6797.7e3, 'Szegedy Table 1: weights, sum of 6,797.7 K'),
    'ResNet-18': (lambda: ResNet((2, 2, 2, 2)), 11689512, 'torchvision resnet18'),
    'ResNet-34': (lambda: ResNet((3, 4, 6, 3)), 21797672, 'torchvision resnet34'),
}


def parameter_table(names=None, log=print):
    """Build each network (VGG-E alone is 144 M parameters, 575 MB), count its
    parameters, and print them next to the published figures.  Returns {name: (ours,
    published)}; GoogLeNet's 'ours' counts weights only, as its paper's table does."""
    rows = {}
    for name in names or PUBLISHED:
        make, published, note = PUBLISHED[name]
        model = make()
        ours = count(model, weights_only=(name == 'GoogLeNet'))
        rows[name] = (ours, published)
        if log:
            shown = f'{published:,.0f}' if published else '-'
            log(f'  {name:10s} {ours:>13,d}   published {shown:>13s}  ({note})')
        del model
    return rows


def pad_to_32(X):
    """MNIST 28 x 28 images (n, 784) -> (n, 1, 32, 32) with a 2-pixel border, LeNet's input."""
    return numpy.pad(X.reshape(-1, 1, 28, 28), ((0, 0), (0, 0), (2, 2), (2, 2)))


def train_lenet(epochs=8, batch_size=64, lr=2e-3, n_train=4000, seed=0, device=None,
                log=print):
    """LeNet-5 on MNIST-5k (``n_train`` / the rest, shuffled); returns the model and the
    held-out accuracy after each epoch."""
    device = device or autograd.get_default_device()
    X, y = _data.mnist5k()
    X_tr, y_tr, X_te, y_te = _data.split(pad_to_32(X), y, len(X) - n_train, seed)
    X_tr, y_tr, X_te, y_te = _data.to_tensors(X_tr, y_tr, X_te, y_te, device=device)
    autograd.manual_seed(seed)
    model = LeNet5().to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    accuracies = []
    for epoch in range(epochs):
        model.train()
        _data.sgd_epoch(model, opt, F.cross_entropy, X_tr, y_tr, batch_size)
        model.eval()
        with autograd.no_grad():
            accuracies.append(_data.accuracy(model(X_te), y_te))
        if log:
            log(f'  LeNet-5 epoch {epoch + 1}: held-out accuracy {100 * accuracies[-1]:.1f}%')
    return model, accuracies


def main(argv=None):
    p = _data.parser('cnn_architectures', __doc__, epochs=8)
    p.add_argument('--skip-table', action='store_true', help='do not build the big networks')
    args = p.parse_args(argv)
    rows = {} if args.skip_table else parameter_table()
    model, accuracies = train_lenet(args.epochs, seed=args.seed, device=args.device)
    print(f'LeNet-5 ({count(model):,d} parameters) on MNIST-5k: held-out accuracy '
          f'{100 * accuracies[-1]:.1f}% after {args.epochs} epochs')
    return dict(table=rows, lenet_accuracy=accuracies)


if __name__ == '__main__':
    main()

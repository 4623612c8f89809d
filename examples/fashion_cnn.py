"""Small AlexNet-, VGG-, GoogLeNet- and ResNet-style networks trained on Fashion-MNIST, and a
residual network against the plain network of the same depth: the plain one trains worse.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.4.1 (AlexNet: large first filters with
a stride, ReLU, response normalisation and overlapping 3 x 3 max-pools at stride 2 after the
first two convolutions, dropout 0.5 in the fully connected layers), sec. 8.4.2 (ZFNet: a
smaller first filter at a smaller stride, wider layers 3-5), sec. 8.4.3 (VGG: only 3 x 3
convolutions with padding that keeps the footprint, the number of filters doubling after
each 2 x 2 max-pool), sec. 8.4.4 (GoogLeNet: a stem, inception modules with 1 x 1
bottlenecks, average pooling over the whole final maps instead of large fully connected
layers) and sec. 8.4.5 (ResNet: skip connections across blocks of two 3 x 3 convolutions
with batch normalisation, so that "the shorter paths enable a significant portion of the
learning with unimpeded gradient flows"; without them, deeper networks are harder to train,
and the training error itself, not only the test error, of a deep plain network is worse;
He et al. 2016, Fig. 1 and Fig. 6, CIFAR-10 plain-20/56 against ResNet-20/56).  The
networks, each sized to train in a minute or two of one CPU core:

- small AlexNet (:class:`SmallAlexNet`): a quarter of AlexNet's widths, 28 -> 14 -> 7 -> 4 ->
  2, FC 256-256-10; ``zfnet=True`` (``--nets zfnet``) with ZFNet's changes;
- small VGG: ``cnn_architectures.VGG`` with [16, 16, M, 32, 32, M], FC 128-128-10;
- small GoogLeNet (:class:`SmallGoogLeNet`): a strided stem convolution and three
  ``cnn_architectures.Inception`` modules with a quarter of GoogLeNet's 3a, 3b, 4a widths,
  global average pooling, one linear layer; no batch normalisation (GoogLeNet v1);
- small ResNet: ``cnn_architectures.ResNet`` with one 3 x 3 convolution, three stages of one
  basic block each (16, 32, 64 filters, the last two halving the footprint), global average
  pool, linear;
- the depth comparison: 6n + 2 weight layers (n basic blocks per stage, 8/16/32 filters),
  with the shortcuts (residual) and without them (plain), the same initialisation seed, the
  same mini-batches, on images average-pooled to 14 x 14 to keep the run short; the
  training-loss curves are plotted.

The classifiers are trained alike: Adam, mini-batches of 32, cross-entropy, the images
standardised by the training set's pixel mean and deviation (sec. 3.3.2); AlexNet and
GoogLeNet, which have no batch normalisation, start from He et al.'s initialisation.

Data: Debian's ``dataset-fashion-mnist`` (IDX files in /usr/share/datasets/fashion-mnist;
``apt-get install dataset-fashion-mnist``); ``--n-train`` images of the training file, the
first ``--n-test`` of the test file.

Run: ``python examples/fashion_cnn.py [--epochs 3] [--nets alexnet,vgg,googlenet,resnet]
[--depth-blocks 3]``
"""
import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import cnn_architectures as cnn
import nn
import nn.functional as F
import optim

CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
           'Sneaker', 'Bag', 'Ankle boot')
SMALL_VGG = [16, 16, 'M', 32, 32, 'M']


def load(n_train=3000, n_test=2000, side=28, seed=0, standardize=False):
    """(X_train, y_train, X_test, y_test) as NumPy arrays, images (n, 1, side, side) with
    side 28 or 14 (2 x 2 average pooling); ``n_train`` random training images.  Pixels in
    [0, 1], or with ``standardize`` shifted and scaled by the training images' mean and
    standard deviation (two numbers, as torchvision's ``Normalize``)."""
    X, y = _data.fashion_mnist(train=True)
    keep = numpy.random.default_rng(seed).permutation(len(X))[:n_train]
    X_te, y_te = _data.fashion_mnist(train=False)
    X, y, X_te, y_te = X[keep], y[keep], X_te[:n_test], y_te[:n_test]
    out = []
    for a in (X, X_te):
        a = a.reshape(-1, 1, 28, 28)
        if side == 14:
            a = a.reshape(-1, 1, 14, 2, 14, 2).mean((3, 5))
        out.append(numpy.ascontiguousarray(a, dtype=numpy.float32))
    if standardize:
        mean, std = out[0].mean(), out[0].std()
        out = [(a - mean) / std for a in out]
    return out[0], y, out[1], y_te


def small_vgg():
    """VGG-style: 3 x 3 convolutions only, filters doubling after each max-pool."""
    return cnn.VGG(SMALL_VGG, classes=10, in_channels=1, width=128, dropout=0.3)


def small_resnet():
    """ResNet-style: a 3 x 3 stem and three stages of one basic block (8 weight layers)."""
    return cnn.ResNet((1, 1, 1), classes=10, in_channels=1, widths=(16, 32, 64), stem=False)


class SmallAlexNet(nn.Module):
    """AlexNet's design (sec. 8.4.1) scaled to 28 x 28 x 1, a quarter of its widths
    (96, 256, 384, 384, 256 -> 24, 64, 96, 96, 64; FC 4096 -> 256): a large first filter with
    a stride, ReLU after every convolution, response normalisation and an overlapping 3 x 3
    max-pool at stride 2 after each of the first two convolutions, three 3 x 3 convolutions
    without pooling or normalisation between them, a last pool, then two fully connected
    layers with dropout 0.5.  Footprints: 28 -> conv 7x7/2 -> 14 -> MP -> 7 -> conv 5x5 -> 7
    -> MP -> 4 -> conv 3x3 (x3) -> 4 -> MP -> 2.

    ``zfnet=True``: ZFNet's changes (sec. 8.4.2, Table 8.1), scaled the same way: a smaller
    first filter at a smaller stride (11x11/4 -> 7x7/2 there, 7x7/2 -> 5x5/1 here), the second
    convolution at stride 2 so that the later footprints stay AlexNet's, and wider layers
    3-5 (384, 384, 256 -> 512, 1024, 512 there; 96, 96, 64 -> 128, 256, 128 here)."""

    def __init__(self, classes=10, in_channels=1, zfnet=False, hidden=256, dropout=0.5):
        super().__init__()
        lrn = lambda: nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)     # AlexNet's n, alpha, beta, k
        pool = lambda: nn.MaxPool2d(3, 2, padding=1)               # overlapping pools
        c1, c2, c3, c4, c5 = (24, 64, 128, 256, 128) if zfnet else (24, 64, 96, 96, 64)
        first = (nn.Conv2d(in_channels, c1, 5, 1, 2) if zfnet
                 else nn.Conv2d(in_channels, c1, 7, 2, 3))
        self.features = nn.Sequential(
            first, nn.ReLU(), lrn(), pool(),
            nn.Conv2d(c1, c2, 5, 2 if zfnet else 1, 2), nn.ReLU(), lrn(), pool(),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(), pool())
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c5 * 2 * 2, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        he_init(self)

    def forward(self, x):
        return self.classifier(self.features(x))


def he_init(model):
    """Gaussian weights of variance 2 / fan-in for the layers followed by a ReLU (He et al.'s
    rule for rectifiers, cited in the book's sec. 3.7), 1 / fan-in (sec. 3.4) for the linear
    output layer, biases 0 (sec. 3.4): a network without batch normalisation starts with
    activations of one scale in every layer."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m in layers:
        nn.init.kaiming_normal_(m.weight, nonlinearity='relu' if m is not layers[-1]
                                else 'linear')
        nn.init.zeros_(m.bias)


# a quarter of the widths of GoogLeNet's inception 3a, 3b and 4a (Szegedy et al. 2015,
# Table 1; cnn_architectures.INCEPTION): input, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj
SMALL_INCEPTION = ((48, 16, 24, 32, 4, 8, 8), (64, 32, 32, 48, 8, 24, 16),
                   (120, 48, 24, 52, 4, 12, 16))


class SmallGoogLeNet(nn.Module):
    """GoogLeNet's design (sec. 8.4.4) scaled to 28 x 28 x 1: a stem (a 5 x 5 convolution at
    stride 2 to 48 channels, a quarter of the 192 that enter GoogLeNet's first inception module,
    then response normalisation: 28 -> 14), three inception modules
    (``cnn_architectures.Inception``, with their 1 x 1 bottlenecks; 64, 120 and 128 output
    channels) with an overlapping max-pool after the first (14 -> 7), then global average
    pooling, dropout 0.4 and one linear layer: no large fully connected layers, and no batch
    normalisation (GoogLeNet v1 had none)."""

    def __init__(self, classes=10, in_channels=1, dropout=0.4):
        super().__init__()
        a, b, c = (cnn.Inception(*widths) for widths in SMALL_INCEPTION)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, SMALL_INCEPTION[0][0], 5, 2, 2), nn.ReLU(),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
            a, nn.MaxPool2d(3, 2, padding=1), b, c, nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout),
                                        nn.Linear(c.out_channels, classes))
        he_init(self)

    def forward(self, x):
        return self.classifier(self.features(x))


def small_alexnet():
    """AlexNet-style (see :class:`SmallAlexNet`)."""
    return SmallAlexNet()


def small_zfnet():
    """AlexNet-style with ZFNet's changes."""
    return SmallAlexNet(zfnet=True)


def small_googlenet():
    """GoogLeNet-style: inception modules and global average pooling."""
    return SmallGoogLeNet()


# the classifiers (--nets), in the book's order of sec. 8.4, their Adam learning rates, and
# the ones trained by default
NETWORKS = {'alexnet': small_alexnet, 'zfnet': small_zfnet, 'vgg': small_vgg,
            'googlenet': small_googlenet, 'resnet': small_resnet}
LR = {'alexnet': 1e-3, 'zfnet': 1e-3, 'vgg': 2e-3, 'googlenet': 2e-3, 'resnet': 2e-3}
DEFAULT_NETS = ('alexnet', 'vgg', 'googlenet', 'resnet')


def deep_net(blocks, residual):
    """6 * blocks + 2 weight layers, with (residual) or without (plain) the shortcuts."""
    return cnn.ResNet((blocks,) * 3, classes=10, in_channels=1, widths=(8, 16, 32),
                      residual=residual, stem=False)


def weight_layers(model):
    """Convolutions and linear layers on the main path (1 x 1 shortcut projections are not
    counted, as in He et al.)."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) and not name.endswith('downsample.0')
               for name, m in model.named_modules())


def train_classifier(make, data, epochs=3, batch_size=32, lr=2e-3, seed=0, device=None,
                     log=print, name=''):
    """Adam on cross-entropy; returns the model, the training loss of every step and the
    held-out accuracy after each epoch."""
    X_tr, y_tr, X_te, y_te = _data.to_tensors(*data, device=device)
    autograd.manual_seed(seed)
    model = make().to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    g = autograd.Generator(device=X_tr.device).manual_seed(seed)
    losses, accuracies = [], []
    for epoch in range(epochs):
        model.train()
        losses += _data.sgd_epoch(model, opt, F.cross_entropy, X_tr, y_tr, batch_size, g)
        model.eval()
        with autograd.no_grad():
            accuracies.append(sum(_data.accuracy(model(X_te[i:i + 500]), y_te[i:i + 500])
                                  * len(y_te[i:i + 500]) for i in range(0, len(y_te), 500))
                              / len(y_te))
        if log:
            log(f'  {name} epoch {epoch + 1}: training loss {numpy.mean(losses[-50:]):.3f}, '
                f'held-out accuracy {100 * accuracies[-1]:.1f}%')
    return model, losses, accuracies


def depth_comparison(blocks=3, steps=200, n_train=4000, batch_size=32, lr=0.05, seed=0,
                     device=None, log=print):
    """Train the residual and the plain network of 6 * blocks + 2 layers with SGD (momentum
    0.9) for ``steps`` mini-batches of the same 14 x 14 images in the same order.  Returns
    {'residual': losses, 'plain': losses} (the training loss of each step)."""
    X_tr, y_tr, _, _ = load(n_train, 0, side=14, seed=seed)
    X, y = _data.to_tensors(X_tr, y_tr, device=device)
    curves = {}
    for name, residual in (('residual', True), ('plain', False)):
        autograd.manual_seed(seed)
        model = deep_net(blocks, residual).to(device)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        g = autograd.Generator(device=X.device).manual_seed(seed)
        losses = []
        model.train()
        while len(losses) < steps:
            for xb, yb in _data.minibatches(X, y, batch_size, generator=g):
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
                if len(losses) == steps:
                    break
        curves[name] = losses
        if log:
            log(f'  {name}-{weight_layers(model)}: training loss over the last 20 steps '
                f'{numpy.mean(losses[-20:]):.3f}')
    return curves


def smooth(values, k=10):
    """Running mean over ``k`` steps (the first k-1 values average what there is)."""
    c = numpy.cumsum(numpy.insert(numpy.asarray(values, float), 0, 0.0))
    n = numpy.arange(1, len(values) + 1)
    return (c[n] - c[numpy.maximum(n - k, 0)]) / numpy.minimum(n, k)


def plot(curves, depth, out):
    fig, ax = _data.figure(figsize=(6, 4))
    for name, losses in curves.items():
        ax.plot(smooth(losses), label=f'{name}-{depth}')
    ax.set_xlabel('mini-batch')
    ax.set_ylabel('training loss (running mean of 10)')
    return _data.savefig(fig, out, 'residual_vs_plain.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('fashion_cnn', __doc__, epochs=3)
    p.add_argument('--n-train', type=int, default=10000)
    p.add_argument('--n-test', type=int, default=2000)
    p.add_argument('--nets', default=','.join(DEFAULT_NETS),
                   help=f'the classifiers to train, from {", ".join(NETWORKS)}')
    p.add_argument('--depth-blocks', type=int, default=3, help='n: 6n + 2 layers')
    p.add_argument('--depth-steps', type=int, default=200)
    p.add_argument('--skip-classifiers', action='store_true')
    p.add_argument('--skip-depth', action='store_true', help='no residual vs plain run')
    args = p.parse_args(argv)
    results = {}
    names = [] if args.skip_classifiers else args.nets.split(',')
    if unknown := set(names) - set(NETWORKS):
        p.error(f'unknown network(s) {", ".join(sorted(unknown))}; choose from '
                f'{", ".join(NETWORKS)}')
    if names:
        data = load(args.n_train, args.n_test, seed=args.seed, standardize=True)
        results['parameters'] = {}
    for name in names:
        model, _, acc = train_classifier(NETWORKS[name], data, args.epochs, lr=LR[name],
                                         seed=args.seed, device=args.device, name=name)
        results[name] = acc
        results['parameters'][name] = cnn.count(model)
        print(f'small {name} ({cnn.count(model):,d} parameters, {weight_layers(model)} '
              f'weight layers): Fashion-MNIST held-out accuracy {100 * acc[-1]:.1f}% after '
              f'{args.epochs} epochs on {args.n_train:,d} images')
    if args.skip_depth:
        return results
    curves = depth_comparison(args.depth_blocks, args.depth_steps, seed=args.seed,
                              device=args.device)
    depth = 6 * args.depth_blocks + 2
    plot(curves, depth, args.out)
    last = {k: float(numpy.mean(v[-20:])) for k, v in curves.items()}
    print(f'{depth} layers: training loss over the last 20 of {args.depth_steps} steps: '
          f'residual {last["residual"]:.3f}, plain {last["plain"]:.3f}')
    results.update(curves=curves, final_loss=last)
    return results


if __name__ == '__main__':
    main()

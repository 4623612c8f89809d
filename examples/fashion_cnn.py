"""Small VGG-style and ResNet-style networks trained on Fashion-MNIST, and a residual network
against the plain network of the same depth: the plain one trains worse.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.4.3 (VGG: only 3 x 3 convolutions with
padding that keeps the footprint, the number of filters doubling after each 2 x 2 max-pool)
and sec. 8.4.5 (ResNet: skip connections across blocks of two 3 x 3 convolutions with batch
normalisation, so that "the shorter paths enable a significant portion of the learning with
unimpeded gradient flows"; without them, deeper networks are harder to train, and the
training error itself, not only the test error, of a deep plain network is worse; He et al.
2016, Fig. 1 and Fig. 6, CIFAR-10 plain-20/56 against ResNet-20/56).  The definitions are
``cnn_architectures.py``'s ``VGG`` and ``ResNet`` at small sizes:

- small VGG: [16, 16, M, 32, 32, M] then FC 128-128-10 (28 -> 14 -> 7);
- small ResNet: one 3 x 3 convolution, three stages of one basic block each (16, 32, 64
  filters, the last two halving the footprint), global average pool, linear;
- the depth comparison: 6n + 2 weight layers (n basic blocks per stage, 8/16/32 filters),
  with the shortcuts (residual) and without them (plain), the same initialisation seed, the
  same mini-batches, on images average-pooled to 14 x 14 to keep the run short; the
  training-loss curves are plotted.

Data: Debian's ``dataset-fashion-mnist`` (IDX files in /usr/share/datasets/fashion-mnist;
``apt-get install dataset-fashion-mnist``); ``--n-train`` images of the training file, the
first ``--n-test`` of the test file.

Run: ``python examples/fashion_cnn.py [--epochs 2] [--depth-blocks 3]``
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


def load(n_train=3000, n_test=2000, side=28, seed=0):
    """(X_train, y_train, X_test, y_test) as NumPy arrays, images (n, 1, side, side) with
    side 28 or 14 (2 x 2 average pooling); ``n_train`` random training images."""
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
    return out[0], y, out[1], y_te


def small_vgg():
    """VGG-style: 3 x 3 convolutions only, filters doubling after each max-pool."""
    return cnn.VGG(SMALL_VGG, classes=10, in_channels=1, width=128, dropout=0.3)


def small_resnet():
    """ResNet-style: a 3 x 3 stem and three stages of one basic block (8 weight layers)."""
    return cnn.ResNet((1, 1, 1), classes=10, in_channels=1, widths=(16, 32, 64), stem=False)


def deep_net(blocks, residual):
    """6 * blocks + 2 weight layers, with (residual) or without (plain) the shortcuts."""
    return cnn.ResNet((blocks,) * 3, classes=10, in_channels=1, widths=(8, 16, 32),
                      residual=residual, stem=False)


def weight_layers(model):
    """Convolutions and linear layers on the main path (1 x 1 shortcut projections are not
    counted, as in He et al.)."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) and not name.endswith('downsample.0')
               for name, m in model.named_modules())


def train_classifier(make, data, epochs=3, batch_size=64, lr=2e-3, seed=0, device=None,
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
    p = _data.parser('fashion_cnn', __doc__, epochs=2)
    p.add_argument('--n-train', type=int, default=3000)
    p.add_argument('--n-test', type=int, default=2000)
    p.add_argument('--depth-blocks', type=int, default=3, help='n: 6n + 2 layers')
    p.add_argument('--depth-steps', type=int, default=200)
    p.add_argument('--skip-classifiers', action='store_true')
    p.add_argument('--skip-depth', action='store_true', help='no residual vs plain run')
    args = p.parse_args(argv)
    results = {}
    if not args.skip_classifiers:
        data = load(args.n_train, args.n_test, seed=args.seed)
        for name, make in (('vgg', small_vgg), ('resnet', small_resnet)):
            model, _, acc = train_classifier(make, data, args.epochs, seed=args.seed,
                                             device=args.device, name=name)
            results[name] = acc
            print(f'small {name} ({cnn.count(model):,d} parameters, {weight_layers(model)} '
                  f'weight layers): Fashion-MNIST held-out accuracy {100 * acc[-1]:.1f}%')
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

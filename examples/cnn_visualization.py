"""What a trained CNN looks at: saliency maps, "deconvnet" and guided backpropagation (custom
backward rules for ReLU through ``autograd.Function``), and class-model visualisation from
the zero image.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.5.1: the sensitivity dh/dx_i of a
class score (or hidden feature) to each pixel; ReLU's backward rule g_i = g_{i+1} I(z_i > 0)
replaced by g_i = g_{i+1} I(g_{i+1} > 0) in the deconvnet and by
g_i = g_{i+1} I(z_i > 0) I(g_{i+1} > 0) in guided backpropagation (Fig. 8.14); and the
synthesised image that maximises a class score o with regularisation,
J(x) = o - lambda ||x||^2, by gradient ascent from the zero image, x <- x + alpha grad J (eq. 8.4).

A small CNN (conv-ReLU-pool twice, a ReLU hidden layer, linear scores) is trained on
MNIST-5k; its ReLUs are modules whose backward rule can be switched between the three
variants, so the same trained weights give all three maps.  Pictures: runs/cnn_visualization/.

Run: ``python examples/cnn_visualization.py [--epochs 3]``
"""

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim


class DeconvReLU(autograd.Function):
    """ReLU forward; backward passes the positive part of the incoming gradient, whatever
    the forward input was: g_i = g_{i+1} I(g_{i+1} > 0)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class GuidedReLU(autograd.Function):
    """ReLU forward; backward g_i = g_{i+1} I(z_i > 0) I(g_{i+1} > 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


class SwitchableReLU(nn.Module):
    """A ReLU whose backward rule is ``mode``: 'backprop' (the true gradient), 'deconvnet'
    or 'guided'.  The forward value is the same in every mode."""

    def __init__(self):
        super().__init__()
        self.mode = 'backprop'

    def forward(self, x):
        if self.mode == 'deconvnet':
            return DeconvReLU.apply(x)
        if self.mode == 'guided':
            return GuidedReLU.apply(x)
        return F.relu(x)


class SmallCNN(nn.Module):
    """28x28 -> conv 5x5 16 -> ReLU -> pool 2 -> conv 5x5 32 -> ReLU -> pool 2 ->
    FC 128 -> ReLU -> 10."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), SwitchableReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2), SwitchableReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), SwitchableReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    def set_relu_mode(self, mode):
        for m in self.modules():
            if isinstance(m, SwitchableReLU):
                m.mode = mode
        return self


def train(epochs=3, n_train=4000, batch_size=64, lr=2e-3, seed=0, device=None, log=print):
    """The CNN trained on MNIST-5k; returns the model, the held-out images, labels and
    accuracy."""
    device = device or autograd.get_default_device()
    X, y = _data.mnist5k()
    X_tr, y_tr, X_te, y_te = _data.split(X.reshape(-1, 1, 28, 28), y, len(X) - n_train, seed)
    X_tr, y_tr, X_te, y_te = _data.to_tensors(X_tr, y_tr, X_te, y_te, device=device)
    autograd.manual_seed(seed)
    model = SmallCNN().to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        model.train()
        _data.sgd_epoch(model, opt, F.cross_entropy, X_tr, y_tr, batch_size)
        model.eval()
        with autograd.no_grad():
            acc = _data.accuracy(model(X_te), y_te)
        if log:
            log(f'  epoch {epoch + 1}: held-out accuracy {100 * acc:.1f}%')
    return model, X_te, y_te, acc


def input_gradient(model, images, classes, mode='backprop'):
    """d(score of ``classes``)/d(pixels) for images (B, 1, 28, 28) under the ReLU backward
    rule ``mode``; returns (B, 1, 28, 28)."""
    model.set_relu_mode(mode)
    x = images.detach().clone().requires_grad_()
    scores = model(x)
    picked = scores.gather(1, classes.unsqueeze(1)).sum()
    grad, = autograd.grad(picked, x)
    model.set_relu_mode('backprop')
    return grad


def ink_share(maps, images, threshold=0.2):
    """Per image: the share of |map| that falls on the digit's ink (pixels above
    ``threshold``) divided by the ink's share of the image: > 1 means the map favours
    the digit over the background."""
    ink = (images > threshold).float()
    mass = maps.abs()
    on_ink = (mass * ink).sum((1, 2, 3)) / mass.sum((1, 2, 3)).clamp_min(1e-12)
    return on_ink / ink.mean((1, 2, 3))


def class_model(model, cls, steps=200, lr=0.1, lam=0.05, device=None):
    """The image x maximising score_cls(x) - lam ||x||^2 by gradient ascent from zero
    (eq. 8.4); returns x (1, 1, 28, 28) and the softmax probability of ``cls`` at x."""
    device = device or next(model.parameters()).device
    x = autograd.zeros(1, 1, 28, 28, device=device, requires_grad=True)
    for _ in range(steps):
        J = model(x)[0, cls] - lam * (x ** 2).sum()
        grad, = autograd.grad(J, x)
        with autograd.no_grad():
            x += lr * grad
    with autograd.no_grad():
        prob = model(x).softmax(-1)[0, cls].item()
    return x.detach(), prob


def picture(rows, titles, out, filename):
    """A grid: one row per list of (28, 28) arrays in ``rows``, column titles ``titles``."""
    fig, axes = _data.figure(len(rows), len(rows[0]),
                             figsize=(1.3 * len(rows[0]), 1.4 * len(rows)))
    axes = numpy.atleast_2d(axes)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            ax = axes[r, c]
            ax.imshow(img, cmap='gray' if r == 0 else 'magma')
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and titles:
                ax.set_title(titles[c], fontsize=8)
    return _data.savefig(fig, out, filename)


def main(argv=None):
    p = _data.parser('cnn_visualization', __doc__, epochs=3)
    args = p.parse_args(argv)
    model, X_te, y_te, acc = train(args.epochs, seed=args.seed, device=args.device)
    images, labels = X_te[:8], y_te[:8]
    maps = {mode: input_gradient(model, images, labels, mode)
            for mode in ('backprop', 'deconvnet', 'guided')}
    shares = {mode: ink_share(m, images).mean().item() for mode, m in maps.items()}
    rows = [[img[0] for img in images.cpu().numpy()]]
    rows += [[m[0] for m in maps[mode].abs().cpu().numpy()] for mode in maps]
    picture(rows, [str(c) for c in labels.tolist()], args.out, 'saliency.png')
    synth = [class_model(model, c) for c in range(10)]
    picture([[x[0, 0] for x, _ in synth]], [f'{c}: p={p:.2f}' for c, (_, p) in
                                            enumerate(synth)], args.out, 'class_models.png')
    print(f'CNN held-out accuracy {100 * acc:.1f}%; share of each map on the ink relative to '
          'the ink area: ' + ', '.join(f'{m} {s:.2f}' for m, s in shares.items())
          + '; class models from the zero image reach p(class) '
          + f'{min(p for _, p in synth):.3f} or more')
    return dict(accuracy=acc, shares=shares, class_probs=[p for _, p in synth])


if __name__ == '__main__':
    main()

"""Maxout units against the ReLU, the leaky ReLU and the PReLU: the special cases, the
doubled parameters, dying neurons.

Aggarwal, *Neural Networks and Deep Learning*, sec. 3.4.3.  A maxout unit has two
coefficient vectors and computes max{W1 . X + b1, W2 . X + b2} (Goodfellow et al. [148];
``--pieces`` k generalises to the max of k affine pieces).  PyTorch has no maxout layer, so
``Maxout`` here is an ``nn.Module`` on the public API: one ``nn.Linear(in, out * k)``
whose rows j k, ..., j k + k - 1 are unit j's pieces, and a max over them.

* The book's special cases, exactly: W2 = 0, b2 = 0 gives the ReLU; W2 = alpha W1,
  b2 = alpha b1 gives the leaky ReLU of eq. 3.39 (and a learned alpha, the PReLU).
  "The only drawback ... is that it doubles the number of required parameters."
* Dying neurons and "brain damage" (sec. 3.4.3): with non-negative inputs (pixels) and
  every weight and bias of the first layer initialised negative, every ReLU outputs 0 for
  every input, its gradient is zero, and it never recovers; the leaky ReLU leaks a little
  gradient; maxout, being linear almost everywhere, always passes gradient to one piece
  and trains from the same start.
* A high learning rate "knocks out" ReLU units: the fraction of hidden units that fire
  for no training input after training, ReLU against maxout (a maxout unit cannot die),
  and the held-out accuracies, with and without dropout at the modest rate (maxout was
  designed to work with it), on 2,000 digits of MNIST-5k.

Run: python examples/maxout.py [--epochs 8] [--hidden 128] [--out runs/maxout]
"""

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class Maxout(nn.Module):
    """``pieces`` affine maps of the input, the largest kept per unit: (n, in) -> (n, out).
    ``linear.weight`` is (out * pieces, in); rows j * pieces + k belong to unit j."""

    def __init__(self, in_features, out_features, pieces=2):
        super().__init__()
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x):
        z = self.linear(x)
        return z.view(*z.shape[:-1], self.out_features, self.pieces).amax(-1)

    def piece(self, k):
        """(weight (out, in), bias (out,)) of piece k of every unit: views, writable."""
        return self.linear.weight[k::self.pieces], self.linear.bias[k::self.pieces]

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}'


def net(kind, hidden=128, n_in=784, n_out=10, pieces=2, p_drop=0.0):
    """n_in-hidden-hidden-n_out with units of ``kind``: 'relu', 'leaky relu', 'prelu' or
    'maxout'; dropout after each hidden layer when ``p_drop`` > 0."""
    layers, width = [], n_in
    for _ in range(2):
        if kind == 'maxout':
            layers.append(Maxout(width, hidden, pieces))
        else:
            layers += [nn.Linear(width, hidden),
                       {'relu': nn.ReLU, 'leaky relu': nn.LeakyReLU, 'prelu': nn.PReLU}[kind]()]
        if p_drop:
            layers.append(nn.Dropout(p_drop))
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, n_out))


def hidden_layers(model):
    """The first affine layer of each hidden block (nn.Linear, or the Linear of a Maxout)."""
    out = []
    for m in model:
        if isinstance(m, Maxout):
            out.append(m.linear)
        elif isinstance(m, nn.Linear):
            out.append(m)
    return out[:-1]                    # not the output layer


def brain_damage_(model, scale=0.01):
    """Sec. 3.4.3's example: every weight and bias of the first hidden layer negative
    (|N(0, scale^2)| negated, biases -scale), so that on non-negative inputs every
    pre-activation is negative."""
    first = hidden_layers(model)[0]
    with autograd.no_grad():
        first.weight.copy_(-first.weight.normal_(0, scale).abs())
        first.bias.fill_(-scale)
    return model


def dead_fraction(model, X):
    """The fraction of the first hidden layer's units that output 0 for every row of X
    (units whose gradient is zero on the whole data set; a maxout unit never qualifies
    unless all its pieces are constant zero, so this is measured on ReLU-type layers)."""
    model.eval()
    with autograd.no_grad():
        h = model[1](model[0](X)) if not isinstance(model[0], Maxout) else model[0](X)
    model.train()
    return ((h != 0).sum(0) == 0).float().mean().item()


def train(model, X, y, epochs, lr, momentum=0.9, generator=None):
    """SGD with momentum, mini-batches of 64; returns the per-epoch mean training loss."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        losses.append(float(numpy.mean(_data.sgd_epoch(model, opt, loss_fn, X, y, 64,
                                                       generator=generator))))
    return losses


def accuracy(model, X, y):
    model.eval()
    with autograd.no_grad():
        a = _data.accuracy(model(X), y)
    model.train()
    return a


def first_layer_grad_norm(model, X, y):
    """|d loss / d W| of the first hidden layer on (X, y): zero for dead ReLUs."""
    model.zero_grad()
    nn.functional.cross_entropy(model(X), y).backward()
    g = hidden_layers(model)[0].weight.grad
    out = g.norm().item()
    model.zero_grad()
    return out


def main(argv=None):
    p = _data.parser('maxout', __doc__, epochs=8)
    p.add_argument('--hidden', type=int, default=128)
    p.add_argument('--n-train', type=int, default=2000)
    p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--high-lr', type=float, default=0.2, help='the rate that knocks units out')
    args = p.parse_args(argv)
    dev = args.device
    X, y = _data.mnist5k()
    Xtr, ytr, Xte, yte = _data.split(X, y, 1000, seed=args.seed)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr[:args.n_train], ytr[:args.n_train], Xte, yte,
                                          device=dev)
    results, curves = {}, {}

    def fresh(kind, **kw):
        autograd.manual_seed(args.seed)
        return net(kind, args.hidden, **kw).to(dev)

    results['parameters'] = {k: sum(q.numel() for q in fresh(k).parameters())
                             for k in ('relu', 'prelu', 'maxout')}
    results['hidden-layer parameters, maxout / relu'] = (
        sum(q.numel() for m in hidden_layers(fresh('maxout')) for q in m.parameters())
        / sum(q.numel() for m in hidden_layers(fresh('relu')) for q in m.parameters()))

    # brain damage: all first-layer weights and biases negative
    for kind in ('relu', 'leaky relu', 'maxout'):
        model = brain_damage_(fresh(kind))
        gen = autograd.Generator(dev).manual_seed(args.seed)
        dead0, grad0 = dead_fraction(model, Xtr), first_layer_grad_norm(model, Xtr, ytr)
        curves[f'negative init: {kind}'] = train(model, Xtr, ytr, args.epochs, args.lr, generator=gen)
        results[f'negative init: {kind}'] = {
            'dead at start': dead0, 'first-layer |grad| at start': grad0,
            'dead after training': dead_fraction(model, Xtr),
            'accuracy': accuracy(model, Xte, yte)}

    # ordinary initialisation, a modest and a high learning rate, with and without dropout
    for lr in (args.lr, args.high_lr):
        for kind in ('relu', 'maxout'):
            for p_drop in (0.0, 0.5) if lr == args.lr else (0.0,):
                model = fresh(kind, p_drop=p_drop)
                gen = autograd.Generator(dev).manual_seed(args.seed)
                name = f'lr {lr}: {kind}' + (' + dropout' if p_drop else '')
                curves[name] = train(model, Xtr, ytr, args.epochs, lr, generator=gen)
                r = {'accuracy': accuracy(model, Xte, yte),
                     'final training loss': curves[name][-1]}
                if kind == 'relu':
                    r['dead units'] = dead_fraction(model, Xtr)
                results[name] = r

    for key, val in results.items():
        print(f'{key:36s} {val}')

    fig, axes = _data.figure(1, 3, figsize=(15, 4))
    for ax, prefix, title in ((axes[0], 'negative init', 'all first-layer weights negative'),
                              (axes[1], f'lr {args.lr}', f'SGD, lr = {args.lr}'),
                              (axes[2], f'lr {args.high_lr}', f'SGD, lr = {args.high_lr}')):
        for name, c in curves.items():
            if name.startswith(prefix):
                ax.plot(range(1, len(c) + 1), c, 'o-', ms=3, label=name.split(': ', 1)[1])
        ax.set(xlabel='epoch', ylabel='training cross-entropy', title=title, yscale='log')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'maxout.png'))
    results['curves'] = curves
    return results


if __name__ == '__main__':
    main()

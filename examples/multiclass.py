"""Three multiclass linear classifiers on handwritten digits.

Each model is one ``nn.Linear(d, 10)`` producing class scores z = W x + b; they differ
in the loss (Aggarwal, *Neural Networks and Deep Learning*, sec. 2.3):

    softmax regression       -log softmax(z)_y                 (``nn.CrossEntropyLoss``)
    multiclass perceptron    max_j z_j - z_y                   (zero iff y scores highest)
    Weston-Watkins SVM       sum_{j != y} max(0, 1 - z_y + z_j) / C   (``nn.MultiMarginLoss``)

trained by mini-batch SGD on the same split of scikit-learn's 8x8 digits (1,797 real
images; ``--dataset mnist5k`` uses 5,000 28x28 MNIST digits instead).  It reports the
held-out accuracy of each and draws each model's ten weight vectors as images: the
"templates" a linear classifier matches against.

Run: python examples/multiclass.py [--epochs 30] [--dataset digits] [--out runs/multiclass]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


def perceptron_criterion(z, y):
    """Multiclass perceptron loss, mean over the batch of max_j z_j - z_y (z: (n, C))."""
    return (z.amax(1) - z.gather(1, y.unsqueeze(1)).squeeze(1)).mean()


LOSSES = {
    'softmax regression': nn.CrossEntropyLoss(),
    'multiclass perceptron': perceptron_criterion,
    'Weston-Watkins SVM': nn.MultiMarginLoss(),
}


def train(loss_fn, Xtr, ytr, Xte, yte, epochs, lr=0.05, batch_size=32, generator=None):
    """Mini-batch SGD on ``loss_fn(scores, labels)`` for a linear model.

    Xtr (n, d), ytr (n,) int64.  Returns (model, held-out accuracy after each epoch).
    """
    model = nn.Linear(Xtr.shape[1], 10).to(Xtr.device)
    opt = optim.SGD(model.parameters(), lr=lr)
    curve = []
    for _ in range(epochs):
        _data.sgd_epoch(model, opt, loss_fn, Xtr, ytr, batch_size, generator=generator)
        with autograd.no_grad():
            curve.append(_data.accuracy(model(Xte), yte))
    return model, curve


def main(argv=None):
    p = _data.parser('multiclass', __doc__, epochs=30)
    p.add_argument('--dataset', choices=('digits', 'mnist5k'), default='digits')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    X, y = _data.digits() if args.dataset == 'digits' else _data.mnist5k()
    Xtr, ytr, Xte, yte = _data.to_tensors(*_data.split(X, y, len(X) // 5, seed=args.seed),
                                          device=args.device)
    side = int(round(X.shape[1] ** 0.5))

    fig_w, axes = _data.figure(len(LOSSES), 10, figsize=(12, 1.4 * len(LOSSES) + 0.4))
    fig_c, ax_c = _data.figure(figsize=(6, 4))
    results = {}
    for row, (name, loss_fn) in zip(axes, LOSSES.items()):
        model, curve = train(loss_fn, Xtr, ytr, Xte, yte, args.epochs, generator=gen)
        results[name] = curve[-1]
        print(f'{name:22s} held-out accuracy {curve[-1]:.3f}')
        ax_c.plot(numpy.arange(1, len(curve) + 1), curve, label=name)
        W = model.weight.detach().cpu().numpy()
        vmax = numpy.abs(W).max()           # symmetric colours: white is a zero weight
        for k, ax in enumerate(row):
            ax.imshow(W[k].reshape(side, side), cmap='RdBu_r', vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(str(k), fontsize=8)
        row[0].set_ylabel(f'{name}\n{curve[-1]:.1%}', fontsize=8, rotation=0, ha='right')
    ax_c.set(xlabel='epoch', ylabel='held-out accuracy', title=f'{args.dataset}')
    ax_c.legend(fontsize=8)
    print('plots:', _data.savefig(fig_w, args.out, 'weights.png'),
          _data.savefig(fig_c, args.out, 'accuracy.png'))
    return results


if __name__ == '__main__':
    main()

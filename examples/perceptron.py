"""The perceptron, the pocket algorithm, and why XOR needs a hidden layer.

Rosenblatt's perceptron (Aggarwal, *Neural Networks and Deep Learning*, sec. 1.2) scores
x with w.x + b and predicts sign(w.x + b).  Its update, w <- w + y x on a mistake, is
stochastic gradient descent with learning rate 1 on the *perceptron criterion*

    L_i = max(0, -y_i (w.x_i + b)),

so here it is written as that loss, differentiated by the engine and stepped by
``optim.SGD``.  The demonstrations:

1. On linearly separable data the perceptron converges (Novikoff's theorem): 100%.
2. On noisy, non-separable data it never settles; the *pocket* algorithm (Gallant, 1990)
   keeps the best weights seen so far, which beat the last iterate.
3. On XOR no line does better than 3 of the 4 corners: even the pocket stays near 75%.
4. One hidden layer of ReLUs (Linear(2, 8) -> ReLU -> Linear(8, 1)) separates XOR: 100%.

Run: python examples/perceptron.py [--epochs 20] [--device cpu] [--out runs/perceptron]
"""
import copy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


def perceptron_criterion(score, y):
    """max(0, -y s): zero for a correct sign, a linear penalty for a mistake."""
    return autograd.relu(-y * score).sum()


def train_perceptron(X, y, epochs, pocket=False, generator=None):
    """Train a perceptron one example at a time (lr 1, as Rosenblatt's rule).

    X: (n, d), y: (n,) in {-1, +1}.  Returns (model, training accuracy); with
    ``pocket=True`` the model holds the best weights met during training instead of the
    last ones, and the accuracy is theirs.
    """
    model = nn.Linear(X.shape[1], 1).to(X.device)
    opt = optim.SGD(model.parameters(), lr=1.0)
    best_acc, best_state = -1.0, None
    for _ in range(epochs):
        for xi, yi in _data.minibatches(X, y, 1, generator=generator):
            loss = perceptron_criterion(model(xi).squeeze(1), yi)
            if loss.item() == 0:            # correct: the perceptron leaves w alone
                continue
            opt.zero_grad()
            loss.backward()
            opt.step()
            if pocket:
                acc = sign_accuracy(model, X, y)
                if acc > best_acc:
                    best_acc, best_state = acc, copy.deepcopy(model.state_dict())
        if not pocket and sign_accuracy(model, X, y) == 1.0:
            break                           # converged: a full pass with no mistake
    if pocket and best_state is not None:
        model.load_state_dict(best_state)
    return model, sign_accuracy(model, X, y)


def sign_accuracy(model, X, y):
    """Fraction of points whose predicted sign matches y (+-1)."""
    with autograd.no_grad():
        return ((model(X).squeeze(1) > 0).float() * 2 - 1 == y).float().mean().item()


def train_xor_mlp(X, y, steps=300, hidden=8):
    """One hidden ReLU layer trained full-batch with Adam on the logistic loss
    log(1 + exp(-y s)) (``nn.SoftMarginLoss``).  Returns (model, accuracy)."""
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1)).to(X.device)
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.SoftMarginLoss()
    for _ in range(steps):
        loss = loss_fn(model(X).squeeze(1), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, sign_accuracy(model, X, y)


def main(argv=None):
    args = _data.parser('perceptron', __doc__, epochs=20).parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    sets = {'separable': _data.blobs(200, seed=args.seed),
            'noisy': _data.noisy_blobs(400, flip=0.1, seed=args.seed),
            'xor': _data.xor(200, seed=args.seed)}
    tensors = {k: _data.to_tensors(X, y, device=args.device) for k, (X, y) in sets.items()}

    runs = {
        'perceptron, separable': train_perceptron(*tensors['separable'], args.epochs,
                                                  generator=gen),
        'perceptron, noisy (last iterate)': train_perceptron(*tensors['noisy'], args.epochs,
                                                             generator=gen),
        'pocket, noisy': train_perceptron(*tensors['noisy'], args.epochs, pocket=True,
                                          generator=gen),
        'pocket perceptron, XOR': train_perceptron(*tensors['xor'], args.epochs, pocket=True,
                                                   generator=gen),
        'ReLU MLP (2-8-1), XOR': train_xor_mlp(*tensors['xor']),
    }
    data_of = ['separable', 'noisy', 'noisy', 'xor', 'xor']
    fig, axes = _data.figure(1, 5, figsize=(17, 3.6))
    for ax, (name, (model, acc)), key in zip(axes, runs.items(), data_of):
        print(f'{name:34s} training accuracy {acc:.3f}')
        _data.decision_regions(ax, lambda g, m=model: m(g).squeeze(1), *sets[key],
                               f'{name}: {acc:.1%}', device=args.device)
    print('plot:', _data.savefig(fig, args.out, 'decision_regions.png'))
    return {name: acc for name, (_, acc) in runs.items()}


if __name__ == '__main__':
    main()

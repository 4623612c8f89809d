"""Logistic regression, the hinge-loss SVM and the L2-SVM: one linear model, three losses.

All three score x with z = w.x + b and predict sign(z); they differ only in how they
penalise the margin m = y z (Aggarwal, *Neural Networks and Deep Learning*, sec. 2.2-2.4):

    logistic regression   log(1 + exp(-m))      (``nn.SoftMarginLoss``)
    linear SVM (hinge)    max(0, 1 - m)
    L2-SVM                max(0, 1 - m)^2

each plus the penalty (lam/2) ||w||^2, minimised by full-batch gradient descent.  The
comparison runs on the same split of the Wisconsin breast-cancer data (569 real cases,
30 features, shipped with scikit-learn): held-out accuracy, how often the three agree,
and the cosine between their weight vectors.  A 2-D noisy two-class set shows the three
decision lines side by side, and a plot of the losses against the margin shows why the
SVMs ignore points beyond the margin while logistic regression never quite does.

Run: python examples/linear_classifiers.py [--epochs 300] [--out runs/linear_classifiers]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

LOSSES = {
    'logistic': nn.SoftMarginLoss(),
    'hinge SVM': lambda z, y: autograd.relu(1 - y * z).mean(),
    'L2-SVM': lambda z, y: autograd.relu(1 - y * z).square().mean(),
}


def fit(X, y, loss, steps, lr=0.1, lam=1e-3):
    """Full-batch gradient descent on mean loss(z, y) + (lam/2)||w||^2 (the bias is not
    penalised).  X (n, d), y (n,) in {-1, +1}.  Returns (model, loss per step)."""
    model = nn.Linear(X.shape[1], 1).to(X.device)
    opt = optim.SGD(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        objective = loss(model(X).squeeze(1), y) + 0.5 * lam * model.weight.square().sum()
        opt.zero_grad()
        objective.backward()
        opt.step()
        history.append(objective.item())
    return model, history


def predict(model, X):
    with autograd.no_grad():
        return (model(X).squeeze(1) > 0).float() * 2 - 1


def main(argv=None):
    args = _data.parser('linear_classifiers', __doc__, epochs=300).parse_args(argv)
    autograd.manual_seed(args.seed)
    X, y = _data.breast_cancer()
    Xtr, ytr, Xte, yte = _data.split(X, y, n_test=169, seed=args.seed)
    Xtr, Xte = _data.standardize(Xtr, Xte)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr, ytr, Xte, yte, device=args.device)

    models, histories, results = {}, {}, {}
    for name, loss in LOSSES.items():
        models[name], histories[name] = fit(Xtr, ytr, loss, args.epochs)
        results[name] = (predict(models[name], Xte) == yte).float().mean().item()
        print(f'{name:10s} held-out accuracy {results[name]:.3f}')
    names = list(LOSSES)
    weights = {k: m.weight.detach().reshape(-1) for k, m in models.items()}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            agree = (predict(models[a], Xte) == predict(models[b], Xte)).float().mean().item()
            cos = (weights[a] @ weights[b] / (weights[a].norm() * weights[b].norm())).item()
            results[f'agreement {a} / {b}'] = agree
            print(f'{a} vs {b}: predictions agree on {agree:.1%}, cos(w) = {cos:.3f}')
    with autograd.no_grad():
        margins = ytr * models['hinge SVM'](Xtr).squeeze(1)
    print(f'hinge SVM: {int((margins <= 1.0001).sum().item())} of {len(ytr)} training '
          'points on or inside the margin (the support vectors)')

    fig, (ax1, ax2, ax3) = _data.figure(1, 3, figsize=(15, 4))
    m = numpy.linspace(-2, 3, 200)
    ax1.plot(m, numpy.log1p(numpy.exp(-m)), label='logistic')
    ax1.plot(m, numpy.maximum(0, 1 - m), label='hinge')
    ax1.plot(m, numpy.maximum(0, 1 - m) ** 2, label='L2-SVM')
    ax1.plot(m, numpy.maximum(0, -m), '--', label='perceptron')
    ax1.set(xlabel='margin y (w.x + b)', ylabel='loss', ylim=(0, 4), title='losses')
    ax1.legend(fontsize=8)
    for name, h in histories.items():
        ax2.semilogy(h, label=name)
    ax2.set(xlabel='step', ylabel='objective', title='breast cancer: training')
    ax2.legend(fontsize=8)
    X2, y2 = _data.noisy_blobs(300, flip=0.05, seed=args.seed)
    tX2, ty2 = _data.to_tensors(X2, y2, device=args.device)
    ax3.scatter(X2[:, 0], X2[:, 1], c=numpy.where(y2 > 0, 'tab:blue', 'tab:red'), s=8)
    xs = numpy.array([X2[:, 0].min(), X2[:, 0].max()])
    for name, loss in LOSSES.items():
        model, _ = fit(tX2, ty2, loss, args.epochs)
        (w0, w1), b = model.weight.detach().cpu().numpy()[0], model.bias.item()
        ax3.plot(xs, -(w0 * xs + b) / w1, label=name)     # the line w.x + b = 0
    ax3.set(ylim=(X2[:, 1].min(), X2[:, 1].max()), title='2-D: the three decision lines')
    ax3.legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'linear_classifiers.png'))
    return results


if __name__ == '__main__':
    main()

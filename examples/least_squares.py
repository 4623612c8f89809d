"""Least squares three ways: the normal equations, gradient descent, and Widrow-Hoff.

Linear regression minimises J(w) = (1/2n) ||X w - y||^2 + (lam/2) ||w||^2 (ridge when
lam > 0; Aggarwal, *Neural Networks and Deep Learning*, sec. 2.2.2).  Setting the
gradient (1/n) X^T (X w - y) + lam w to zero gives the closed form

    w* = (X^T X / n + lam I)^{-1} X^T y / n.

Full-batch gradient descent on J (the engine computes the gradient, ``optim.SGD`` steps)
converges to w* linearly, at a rate set by the condition number of X^T X / n + lam I.
Widrow and Hoff's LMS rule (1960) is the same loss taken one example at a time,

    w <- w + eta (y_i - w.x_i) x_i,

i.e. SGD on (1/2)(w.x_i - y_i)^2; with a constant step it hovers in a noise-sized
neighbourhood of w* (its size grows with eta and sigma).  The data are synthetic,
y = X w_true + noise (sigma = 0.5), so the held-out RMSE can be compared with the noise
floor sigma.  float64 throughout, so the
agreement with the closed form is limited only by the number of steps.

Run: python examples/least_squares.py [--epochs 5] [--steps 500] [--out runs/least_squares]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

SIGMA = 0.5     # the noise standard deviation: the best achievable RMSE
ETA = 0.05      # Widrow-Hoff step size


def make_data(n, d, seed):
    """Correlated Gaussian features (a mildly ill-conditioned X^T X), y = X w_true + noise."""
    rng = numpy.random.default_rng(seed)
    mix = numpy.eye(d) + 0.3 * rng.normal(size=(d, d))
    X = rng.normal(size=(n, d)) @ mix / numpy.sqrt(d)
    w_true = rng.normal(size=d)
    return X, X @ w_true + SIGMA * rng.normal(size=n)


def closed_form(X, y, lam=0.0):
    """Solve the (ridge) normal equations (X^T X / n + lam I) w = X^T y / n (NumPy)."""
    n, d = X.shape
    return numpy.linalg.solve(X.T @ X / n + lam * numpy.eye(d), X.T @ y / n)


def gradient_descent(X, y, lam=0.0, steps=500, lr=None, w_star=None):
    """Full-batch GD on J(w).  X (n, d), y (n,) tensors.  lr defaults to 1/L, L the largest
    eigenvalue of the Hessian X^T X / n + lam I (the largest step that is safe for any
    start).  Returns (w, distances ||w_t - w_star|| per step)."""
    n, d = X.shape
    if lr is None:
        hessian = (X.T @ X / n).cpu().numpy() + lam * numpy.eye(d)
        lr = 1.0 / numpy.linalg.eigvalsh(hessian)[-1]
    w = nn.Parameter(autograd.zeros(d, dtype=X.dtype, device=X.device))
    opt = optim.SGD([w], lr=lr)
    dist = []
    for _ in range(steps):
        loss = 0.5 * ((X @ w - y) ** 2).mean() + 0.5 * lam * (w * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if w_star is not None:
            dist.append((w.detach() - w_star).norm().item())
    return w.detach(), dist


def widrow_hoff(X, y, epochs, eta=ETA, w_star=None, generator=None):
    """LMS: one SGD step per example on (1/2)(w.x_i - y_i)^2.  Returns (w, distance to
    w_star after each epoch)."""
    w = nn.Parameter(autograd.zeros(X.shape[1], dtype=X.dtype, device=X.device))
    opt = optim.SGD([w], lr=eta)
    dist = []
    for _ in range(epochs):
        for xi, yi in _data.minibatches(X, y, 1, generator=generator):
            loss = 0.5 * ((xi @ w - yi) ** 2).sum()
            opt.zero_grad()
            loss.backward()             # gradient (w.x_i - y_i) x_i: the Widrow-Hoff update
            opt.step()
        if w_star is not None:
            dist.append((w.detach() - w_star).norm().item())
    return w.detach(), dist


def rmse(X, y, w):
    return ((X @ w - y) ** 2).mean().sqrt().item()


def main(argv=None):
    p = _data.parser('least_squares', __doc__, epochs=5)
    p.add_argument('--steps', type=int, default=500, help='gradient-descent steps')
    p.add_argument('--n', type=int, default=500, help='training examples')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    d = 10
    X, y = make_data(args.n + 1000, d, args.seed)
    Xtr, ytr, Xte, yte = X[:args.n], y[:args.n], X[args.n:], y[args.n:]

    def t(a):
        return autograd.tensor(a, dtype=autograd.float64, device=args.device)
    tX, ty, tXte, tyte = t(Xtr), t(ytr), t(Xte), t(yte)

    lam = 0.03
    w_ols, w_ridge = t(closed_form(Xtr, ytr)), t(closed_form(Xtr, ytr, lam))
    w_gd, d_gd = gradient_descent(tX, ty, steps=args.steps, w_star=w_ols)
    w_gdr, d_gdr = gradient_descent(tX, ty, lam, steps=args.steps, w_star=w_ridge)
    w_lms, d_lms = widrow_hoff(tX, ty, args.epochs, w_star=w_ols, generator=gen)

    results = {'gd_vs_closed_form': d_gd[-1], 'ridge_gd_vs_closed_form': d_gdr[-1],
               'lms_vs_closed_form': d_lms[-1],
               'noise_sigma': SIGMA}
    for name, w in (('closed_form', w_ols), ('ridge', w_ridge), ('gd', w_gd), ('lms', w_lms)):
        results[f'test_rmse_{name}'] = rmse(tXte, tyte, w)
    print(f'||w_GD - w*||       = {d_gd[-1]:.2e}  after {args.steps} steps')
    print(f'||w_GD,ridge - w*|| = {d_gdr[-1]:.2e}  (lambda = {lam})')
    print(f'||w_LMS - w*||      = {d_lms[-1]:.2e}  after {args.epochs} epochs')
    print('held-out RMSE (noise floor {:.3f}): '.format(SIGMA) + ', '.join(
        f'{k[10:]} {v:.3f}' for k, v in results.items() if k.startswith('test_rmse')))

    # Ridge path: the closed form over a range of lambda, with GD's answer at each.
    lams = numpy.logspace(-3, 1.5, 12)
    path = numpy.array([closed_form(Xtr, ytr, a) for a in lams])
    gd_path = numpy.array([gradient_descent(tX, ty, a, steps=args.steps)[0].cpu().numpy()
                           for a in lams[::3]])
    fig, (ax1, ax3, ax2) = _data.figure(1, 3, figsize=(14, 4))
    ax1.semilogy(d_gd, label='least squares')
    ax1.semilogy(d_gdr, label=f'ridge (lambda={lam})')
    ax1.set(xlabel='step', ylabel='||w - w*||', title='gradient descent vs closed form')
    ax1.legend(fontsize=8)
    ax3.semilogy(numpy.arange(1, args.epochs + 1), d_lms, 'o-')
    ax3.set(xlabel='epoch', ylabel='||w - w*||', title=f'Widrow-Hoff (eta = {ETA})')
    ax2.semilogx(lams, path, color='0.6')
    dots = ax2.semilogx(lams[::3], gd_path, 'k.')
    ax2.set(xlabel='lambda', ylabel='coefficient', title='ridge path: closed form (lines)')
    ax2.legend(dots[:1], ['gradient descent'], fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'least_squares.png'))
    return results


if __name__ == '__main__':
    main()

"""The bias-variance trade-off measured on the book's polynomial example, and hold-out and
cross-validation choosing the degree and the regulariser.

Aggarwal, *Neural Networks and Deep Learning*, secs. 4.1-4.3.  The model is eq. 4.1,
y_hat = sum_{i=0}^d w_i x^i: a neural network with inputs x, x^2, ..., x^d, one linear
output and a bias neuron, trained on the squared loss (solved exactly here, by least
squares, ``autograd.linalg.lstsq``; the powers are taken of (x - 2) / 2 for conditioning,
which spans the same polynomials).  The true model is slightly curved (Fig. 4.1):
f(x) = 1 + x - 0.2 x^2 on [0, 4], observed with Gaussian noise (sigma = 0.5); the x of a
training set are drawn one in each of n equal cells of [0, 4] (stratified).

* Figs. 4.1-4.2: training sets of five points; the degree-4 polynomial fits each exactly
  (zero training error), the linear model does not; at the unseen point x = 2 the linear
  predictions agree across training sets and the degree-4 predictions scatter.
* Sec. 4.2.1: E[MSE] = bias^2 + variance + noise, each term *measured* over thousands of
  training sets drawn from the base distribution: bias^2 = mean_i (f(Z_i) - E[g(Z_i, D)])^2,
  variance = mean_i E[(g(Z_i, D) - E[g(Z_i, D)])^2], noise = E[eps^2], against the
  directly measured mean squared error on fresh noisy test targets (Fig. 4.3: the error is
  smallest at an intermediate complexity).  With five points the linear model beats the
  quartic; with enough data the quartic wins ("if enough training data is provided").
* Sec. 4.3.1: one data set of 30 points; q-fold cross-validation (and leave-one-out,
  q = n) and hold-out choose the degree, and the ridge penalty lambda sum_{i>=1} w_i^2 of a
  degree-9 model; each choice is judged by its true expected error (known here), averaged
  over 20 such data sets (one set's choice is itself a random variable).

Run: python examples/bias_variance.py [--datasets 5000] [--out runs/bias_variance]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd

F64 = autograd.float64
LO, HI, SIGMA = 0.0, 4.0, 0.5


def f(x):
    """The true model: 1 + x - 0.2 x^2 (slightly curved on [0, 4])."""
    return 1 + x - 0.2 * x ** 2


def features(x, d):
    """(..., n) -> (..., n, d + 1): the inputs 1, u, ..., u^d of eq. 4.1, u = (x - 2) / 2."""
    u = (x - 2) / 2
    return u[..., None] ** autograd.arange(d + 1, dtype=u.dtype, device=u.device)


def draw(shape, generator, device):
    """Training sets of the base distribution, shape (..., n): x stratified uniform on
    [LO, HI] (one point uniform in each of n equal cells, so that no two points of a set
    of five coincide and the interpolating quartic stays finite), y = f(x) + N(0, SIGMA^2)."""
    n = shape[-1]
    cell = autograd.arange(n, dtype=F64, device=device)
    u = autograd.rand(shape, dtype=F64, generator=generator, device=device)
    x = LO + (HI - LO) * (cell + u) / n
    y = f(x) + SIGMA * autograd.randn(shape, dtype=F64, generator=generator, device=device)
    return x, y


def fit(x, y, d, lam=0.0):
    """Least-squares weights (..., d + 1) of the degree-d polynomial on the training sets
    x, y (..., n), with the ridge penalty lam * sum_{i>=1} w_i^2 (the bias w_0 is not
    penalised) appended as sqrt(lam) rows."""
    A, b = features(x, d), y[..., None]
    if lam:
        reg = (lam ** 0.5) * autograd.eye(d + 1, dtype=F64, device=x.device)[1:]
        A = autograd.cat([A, reg.expand(*A.shape[:-2], d, d + 1)], -2)
        b = autograd.cat([b, autograd.zeros(*b.shape[:-2], d, 1, dtype=F64, device=x.device)], -2)
    return autograd.linalg.lstsq(A, b).solution[..., 0]


def predict(w, z):
    """g(z, D) for weights w (..., d + 1) at points z (t,) -> (..., t)."""
    return w @ features(z, w.shape[-1] - 1).T


def decomposition(n, d, datasets, Z, generator, device, lam=0.0):
    """Sec. 4.2.1 measured: fit degree d on ``datasets`` training sets of n points each and
    predict the test points Z (t,).  Returns a dict of bias^2, variance, noise, their sum,
    the directly measured E[MSE] on fresh noisy targets y_i = f(Z_i) + eps_i (one draw of
    the noise per training set and test point), and the mean training error."""
    x, y = draw((datasets, n), generator, device)
    w = fit(x, y, d, lam)
    g = predict(w, Z)                                    # (datasets, t)
    mean_g = g.mean(0)
    bias2 = ((f(Z) - mean_g) ** 2).mean().item()
    variance = ((g - mean_g) ** 2).mean().item()
    eps = SIGMA * autograd.randn(g.shape, dtype=F64, generator=generator, device=device)
    mse = ((g - (f(Z) + eps)) ** 2).mean().item()
    train = (((features(x, d) @ w[..., None])[..., 0] - y) ** 2).mean().item()
    return {'bias^2': bias2, 'variance': variance, 'noise': (eps ** 2).mean().item(),
            'sum': bias2 + variance + (eps ** 2).mean().item(), 'E[MSE]': mse,
            'training MSE': train}


def true_error(w, Z):
    """The expected squared error of one fitted model on a fresh point of the base
    distribution: mean over the grid Z of (g - f)^2, plus the noise SIGMA^2."""
    return (((predict(w, Z) - f(Z)) ** 2).mean() + SIGMA ** 2).item()


def folds(n, q, generator, device):
    """q index sets partitioning a random permutation of range(n) (sizes differ by <= 1)."""
    perm = autograd.randperm(n, generator=generator, device=device)
    return [perm[i::q] for i in range(q)]


def cross_validation_error(x, y, d, q, lam=0.0, generator=None):
    """Sec. 4.3.1: the mean squared error over the q held-out segments, each predicted by
    the model fitted on the other q - 1 (q = n: leave-one-out).  The q fits run as one
    batch, so q must divide n (equal segments)."""
    n = x.shape[0]
    if n % q:
        raise ValueError(f'cross_validation_error: q = {q} does not divide n = {n}')
    test = autograd.stack(folds(n, q, generator, x.device))            # (q, n / q)
    keep = autograd.ones(q, n, dtype=autograd.bool, device=x.device)
    keep[autograd.arange(q, device=x.device)[:, None], test] = False
    w = fit(x.expand(q, n)[keep].reshape(q, -1), y.expand(q, n)[keep].reshape(q, -1), d, lam)
    pred = (features(x[test], d) @ w[..., None])[..., 0]
    return ((pred - y[test]) ** 2).mean().item()


def hold_out_error(x, y, d, fraction=0.25, lam=0.0, generator=None):
    """Hold-out: fit on a random 1 - fraction of the points, the error on the rest."""
    n = x.shape[0]
    perm = autograd.randperm(n, generator=generator, device=x.device)
    cut = int(round(fraction * n))
    test, train = perm[:cut], perm[cut:]
    w = fit(x[train], y[train], d, lam)
    return ((predict(w, x[test]) - y[test]) ** 2).mean().item()


def main(argv=None):
    p = _data.parser('bias_variance', __doc__, epochs=0)
    p.add_argument('--datasets', type=int, default=5000, help='training sets per setting')
    p.add_argument('--n', type=int, default=5, help="the book's five training points")
    p.add_argument('--n-large', type=int, default=100)
    p.add_argument('--n-cv', type=int, default=30, help='points of the cross-validated set')
    p.add_argument('--q', type=int, default=5, help='folds')
    p.add_argument('--cv-sets', type=int, default=20, help='independent data sets to choose on')
    args = p.parse_args(argv)
    dev = args.device
    gen = autograd.Generator(dev).manual_seed(args.seed)
    Z = autograd.linspace(LO, HI, 101, dtype=F64, device=dev)      # the test instances
    results = {}

    # Fig. 4.2: three training sets of five points, linear and quartic fits, x = 2
    x3, y3 = draw((3, args.n), gen, dev)
    two = autograd.tensor([2.0], dtype=F64, device=dev)
    fits = {d: fit(x3, y3, d) for d in (1, 4)}
    results['fig 4.2: degree-4 training error (exact fit)'] = max(
        (((features(x3, 4) @ fits[4][..., None])[..., 0] - y3) ** 2).max().item(), 0.0)
    x_many, y_many = draw((args.datasets, args.n), gen, dev)
    for d in (1, 4):
        at2 = predict(fit(x_many, y_many, d), two)[:, 0]
        results[f'fig 4.2: degree {d}, spread (std) of predictions at x = 2'] = at2.std().item()

    # sec. 4.2.1 and Fig. 4.3: bias^2 + variance + noise against degree
    table = {}
    for n in (args.n, args.n_large):
        table[n] = {d: decomposition(n, d, args.datasets, Z, gen, dev)
                    for d in range(0, min(n - 1, 8) + 1)}
        results[f'n = {n}'] = {d: {k: round(v, 4) for k, v in r.items()}
                               for d, r in table[n].items()}
        best = min(table[n], key=lambda d: table[n][d]['E[MSE]'])
        results[f'n = {n}: degree with the least E[MSE]'] = best

    # sec. 4.3.1: choosing the degree and the ridge penalty from one data set, repeated
    # on --cv-sets independent sets to average out the luck of one set
    degrees = list(range(0, 10))
    lams = [10.0 ** e for e in range(-6, 3)]
    methods = (f'{args.q}-fold CV', 'leave-one-out', 'hold-out 25%', 'training')
    cv = {'degree': {v: {} for v in degrees}, 'ridge': {v: {} for v in lams}}
    chosen = {(name, m): [] for name in cv for m in methods + ('true',)}
    for _ in range(args.cv_sets):
        x, y = draw((args.n_cv,), gen, dev)
        for name, grid, to_kw in (('degree', degrees, lambda d: (d, 0.0)),
                                  ('ridge', lams, lambda lam: (9, lam))):
            errors = {}
            for v in grid:
                d, lam = to_kw(v)
                w = fit(x, y, d, lam)
                errors[v] = {
                    methods[0]: cross_validation_error(x, y, d, args.q, lam, gen),
                    methods[1]: cross_validation_error(x, y, d, args.n_cv, lam, gen),
                    methods[2]: hold_out_error(x, y, d, 0.25, lam, gen),
                    methods[3]: ((predict(w, x) - y) ** 2).mean().item(),
                    'true': true_error(w, Z)}
                for m, e in errors[v].items():
                    cv[name][v].setdefault(m, []).append(e)
            for m in methods + ('true',):
                pick = min(grid, key=lambda v: errors[v][m])
                chosen[name, m].append((pick, errors[pick]['true']))
    for (name, m), picks in chosen.items():
        label = f'{name}: best possible per set' if m == 'true' else f'{name} chosen by {m}'
        results[label] = {'mean true error': float(numpy.mean([e for _, e in picks])),
                          'choices': sorted(dict.fromkeys(v for v, _ in picks))}
    for name, grid in (('degree', degrees), ('ridge', lams)):
        fixed = min(grid, key=lambda v: numpy.mean(cv[name][v]['true']))
        results[f'{name}: best fixed choice'] = {'choice': fixed, 'mean true error':
                                                 float(numpy.mean(cv[name][fixed]['true']))}
    results['noise floor sigma^2'] = SIGMA ** 2

    for key, val in results.items():
        print(f'{key:52s} {val}')
    results['cv'] = cv
    results['table'] = table

    fig, axes = _data.figure(1, 4, figsize=(17, 4))
    zs = numpy.linspace(LO, HI, 200)
    zt = autograd.tensor(zs, dtype=F64, device=dev)
    for ax, d in zip(axes[:2], (1, 4)):
        ax.plot(zs, f(zs), 'k', lw=2, label='true model')
        for j in range(3):
            line, = ax.plot(zs, predict(fits[d][j], zt).cpu().numpy(), lw=1)
            ax.plot(x3[j].cpu().numpy(), y3[j].cpu().numpy(), 'o', color=line.get_color())
        ax.axvline(2.0, color='gray', ls=':')
        ax.set(title=f'degree {d} on three sets of {args.n} points', xlabel='x', ylabel='y',
               ylim=(-2, 5))
        ax.legend(fontsize=8)
    ax = axes[2]
    for n, style in ((args.n, '-'), (args.n_large, '--')):
        ds = sorted(table[n])
        for key, color in (('bias^2', 'tab:blue'), ('variance', 'tab:orange'),
                           ('E[MSE]', 'tab:green')):
            ax.plot(ds, [table[n][d][key] for d in ds], style, color=color, marker='o', ms=3,
                    label=f'{key}, n = {n}')
    ax.axhline(SIGMA ** 2, color='gray', ls=':', label='noise')
    ax.set(yscale='log', xlabel='degree d', ylabel='squared error',
           title='bias^2 + variance + noise (measured)')
    ax.legend(fontsize=7)
    ax = axes[3]
    for method in methods + ('true',):
        ax.plot(degrees, [numpy.mean(cv['degree'][d][method]) for d in degrees], marker='o',
                ms=3, label=method)
    ax.set(yscale='log', xlabel='degree d', ylabel='squared error (mean over sets)',
           title=f'estimates of the error, sets of {args.n_cv} points')
    ax.legend(fontsize=7)
    print('plot:', _data.savefig(fig, args.out, 'bias_variance.png'))
    return results


if __name__ == '__main__':
    main()

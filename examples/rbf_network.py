"""Radial basis function networks: prototypes, bandwidths, and a linear output layer.

Aggarwal, *Neural Networks and Deep Learning*, chapter 5.  The hidden unit i compares x
with its prototype mu_i (eq. 5.1),

    h_i = Phi_i(x) = exp(-||x - mu_i||^2 / (2 sigma_i^2)),

and the output is linear in h: y_hat = sum_i w_i h_i (+ a bias, "a hidden unit with
sigma = infinity").  What the script shows, section by section:

* 5.2.1 the hidden layer, unsupervised: prototypes by k-means (started from m random
  training points), bandwidths by the book's heuristics sigma = d_max / sqrt(m),
  sigma = 2 d_ave, or per unit the distance to its r-th nearest prototype.
* 5.2.2 the output layer two ways that reach the same weights: the closed form
  W^T = (H^T H + lam I)^{-1} H^T y (eq. 5.4, ``autograd.linalg.solve``) and gradient
  descent on L = 1/2 ||H W^T - y||^2 + lam/2 ||W||^2 (eq. 5.2, ``optim.SGD``).
* 5.3.3 (Fig. 5.2) the XOR-like clusters: not linearly separable in the input space (a
  perceptron stays near 75%), but with one prototype per cluster the hidden code is nearly
  one-hot, and the book's weights W = [1, -1, 1, -1] (in cluster order) separate them.
  The perceptron criterion (eq. 5.9) and the hinge loss (eq. 5.11) on H learn it too.
* 5.3.4 exact interpolation: every training point a prototype, H square, W = H^{-1} y
  (eq. 5.14) passes through all the points.
* 5.2.4 fully supervised training: the engine's gradients with respect to the prototypes
  and the widths equal the book's formulas (eq. 5.8 and the one above it), and training
  all three (prototypes, widths, weights) lowers the loss below the two-stage fit.
* The logistic map x(t+1) = 4 x(t)(1 - x(t)) of the Wikipedia article (S2): five
  Gaussian units of fixed width (beta = 5, normalised: beta = 6) centred on five exemplars,
  weights by projection-operator training (nu = 0.3), one pass over 100 points; the
  article reports rms errors of 0.15 and 0.084 (normalised).

Run: python examples/rbf_network.py [--epochs 300] [--device cpu] [--out runs/rbf_network]
"""
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

F64 = autograd.float64


class RBFNetwork(nn.Module):
    """x (n, d) -> y_hat (n, out).  ``centres`` (m, d) and ``sigma`` (m,) are Parameters
    (frozen unless trained in the fully supervised way), ``output`` a Linear(m, out)."""

    def __init__(self, centres, sigma, out_features=1, bias=True):
        super().__init__()
        m = centres.shape[0]
        self.centres = nn.Parameter(centres.clone())
        self.sigma = nn.Parameter(sigma.expand(m).clone())
        self.output = nn.Linear(m, out_features, bias=bias).to(
            dtype=centres.dtype, device=centres.device)

    def hidden(self, x):
        """H (n, m): eq. 5.1 for every point and prototype."""
        return rbf_features(x, self.centres, self.sigma)

    def forward(self, x):
        return self.output(self.hidden(x))


def sq_distances(x, c):
    """||x_i - c_j||^2 for x (n, d), c (m, d): (n, m)."""
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)


def rbf_features(x, centres, sigma):
    """exp(-||x - mu_i||^2 / (2 sigma_i^2)), eq. 5.1; x (n, d), centres (m, d), sigma (m,)
    or a number: (n, m)."""
    return autograd.exp(-sq_distances(x, centres) / (2 * sigma ** 2))


def kmeans(X, m, iters=50, n_init=5, generator=None):
    """Lloyd's k-means (sec. 5.2.1): start from m random training points, assign each point
    to its nearest prototype, replace each prototype by its cluster's mean, until nothing
    moves.  The best of ``n_init`` starts (least within-cluster sum of squares).
    X (n, d) -> (centres (m, d), assignment (n,))."""
    best = None
    for _ in range(n_init):
        c = X[autograd.randperm(X.shape[0], generator=generator, device=X.device)[:m]]
        for _ in range(iters):
            assign = sq_distances(X, c).argmin(1)
            onehot = nn.functional.one_hot(assign, m).to(X.dtype)
            counts = onehot.sum(0)
            means = onehot.T @ X / counts.clamp(min=1)[:, None]
            new = autograd.where(counts[:, None] > 0, means, c)     # an empty cluster stays
            if bool((new == c).all()):
                break
            c = new
        assign = sq_distances(X, c).argmin(1)
        sse = ((X - c[assign]) ** 2).sum().item()
        if best is None or sse < best[0]:
            best = (sse, c, assign)
    return best[1], best[2]


def bandwidths(centres, r=None):
    """The heuristics of sec. 5.2.1 for prototypes (m, d): a dict with 'd_max/sqrt(m)',
    '2 d_ave' (numbers) and, given r, 'r-th neighbour' ((m,) tensor: each prototype's
    distance to its r-th nearest other prototype)."""
    m = centres.shape[0]
    d = sq_distances(centres, centres).clamp(min=0).sqrt()
    off = d[~autograd.eye(m, dtype=autograd.bool, device=centres.device)]
    out = {'d_max/sqrt(m)': off.max().item() / math.sqrt(m), '2 d_ave': 2 * off.mean().item()}
    if r is not None:
        out['r-th neighbour'] = d.sort(1).values[:, r]          # column 0 is the unit itself
    return out


def with_bias(H):
    """H (n, m) with a column of ones (the bias unit, sigma = infinity)."""
    return autograd.cat([H, autograd.ones(H.shape[0], 1, dtype=H.dtype, device=H.device)], 1)


def closed_form(H, y, lam=0.0):
    """W^T = (H^T H + lam I)^{-1} H^T y (eq. 5.4), by a linear solve.  H (n, m), y (n,)."""
    m = H.shape[1]
    A = H.T @ H + lam * autograd.eye(m, dtype=H.dtype, device=H.device)
    return autograd.linalg.solve(A, H.T @ y)


def gradient_descent(H, y, lam=0.0, steps=2000, lr=None):
    """Full-batch gradient descent on eq. 5.2, W <- W(1 - alpha lam) - alpha H^T(HW - y);
    alpha defaults to 1/L (L the largest eigenvalue of H^T H + lam I).  Returns W (m,)."""
    m = H.shape[1]
    if lr is None:
        lr = 1.0 / (autograd.linalg.eigvalsh(H.T @ H).max().item() + lam)
    w = nn.Parameter(autograd.zeros(m, dtype=H.dtype, device=H.device))
    opt = optim.SGD([w], lr=lr, momentum=0.9)
    for _ in range(steps):
        loss = 0.5 * ((H @ w - y) ** 2).sum() + 0.5 * lam * (w * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach()


def train_linear_on_features(H, y, loss, epochs=100, lr=0.1, lam=1e-4):
    """Mini-batch-free SGD of a linear unit on the hidden codes H (n, m) with labels y in
    {-1, +1}: 'perceptron' is max(0, -y W.H) (eq. 5.9), 'hinge' max(0, 1 - y W.H)
    (eq. 5.11), each with Tikhonov regularisation (eqs. 5.10, 5.12).  Returns W (m,)."""
    w = nn.Parameter(autograd.zeros(H.shape[1], dtype=H.dtype, device=H.device))
    opt = optim.SGD([w], lr=lr, weight_decay=lam)
    margin = 0.0 if loss == 'perceptron' else 1.0
    for _ in range(epochs):
        for i in range(H.shape[0]):
            score = H[i] @ w
            if (y[i] * score).item() <= margin:   # S+: the points where the loss is active
                opt.zero_grad()                 # (a zero score counts as a mistake)
                (margin - y[i] * score).backward()
                opt.step()
    return w.detach()


def sign_accuracy(score, y):
    return (autograd.sign(score) == y).to(F64).mean().item()


# ---- the demonstrations --------------------------------------------------------------

def xor_clusters(n, device, seed=0):
    """Fig. 5.2's four clusters on the corners of the square, classes on the diagonals:
    X (n, 2) float64, y (n,) in {-1, +1}."""
    X, y = _data.xor(n, noise=0.25, seed=seed)
    return (autograd.tensor(X, dtype=F64, device=device),
            autograd.tensor(y, dtype=F64, device=device))


def xor_demo(X, y, generator=None):
    """Prototypes by k-means (m = 4), sigma a third of the distance between neighbouring
    prototypes ("an appropriate choice of bandwidth": each point lights one unit); the book's weights
    [1, -1, 1, -1] (signed by each cluster's class: the book lists the clusters in the
    order that makes the signs alternate), the perceptron and the hinge loss on H, and a
    linear perceptron on the raw inputs for contrast.  Returns (a dict of accuracies and
    the hidden codes' mean 'one-hotness' (largest activation / sum), the prototypes (4, 2)
    in the book's order, sigma, H (n, 4) in that order)."""
    centres, assign = kmeans(X, 4, generator=generator)
    sigma = bandwidths(centres, r=1)['r-th neighbour'].min().item() / 3
    H = rbf_features(X, centres, sigma)
    # order the clusters so that their classes alternate +1, -1, +1, -1, as in Fig. 5.2
    cls = autograd.stack([y[assign == j].mean() for j in range(4)])
    pos = (cls > 0).nonzero().flatten().tolist()
    neg = (cls <= 0).nonzero().flatten().tolist()
    order = [pos[0], neg[0], pos[1], neg[1]]
    H_book = H[:, order]
    book_w = autograd.tensor([1.0, -1.0, 1.0, -1.0], dtype=F64, device=X.device)
    out = {'book weights [1,-1,1,-1]': sign_accuracy(H_book @ book_w, y),
           'perceptron on H': sign_accuracy(H @ train_linear_on_features(H, y, 'perceptron',
                                                                           epochs=5), y),
           'hinge on H': sign_accuracy(H @ train_linear_on_features(H, y, 'hinge',
                                                                     epochs=5), y),
           'one-hotness': (H.max(1).values / H.sum(1)).mean().item()}
    Xb = with_bias(X)
    out['perceptron on x (linear)'] = sign_accuracy(
        Xb @ train_linear_on_features(Xb, y, 'perceptron', epochs=5), y)
    return out, centres[order], sigma, H_book


def target_function(x):
    """A smooth 1-D regression target (Runge-like bump plus a wave)."""
    return autograd.sin(3 * x) + 1.0 / (1 + 4 * x ** 2)


def interpolation_demo(n, device, seed=0):
    """Sec. 5.3.4: n distinct points, each one a prototype; W = H^{-1} y (eq. 5.14) by
    ``linalg.solve``; returns (max |H W - y| on the points, the points, W, sigma)."""
    rng = numpy.random.default_rng(seed)
    x = autograd.tensor(numpy.sort(rng.uniform(-2, 2, n)), dtype=F64, device=device)[:, None]
    y = target_function(x[:, 0])
    sigma = bandwidths(x)['2 d_ave'] / 8        # narrow enough that H is well conditioned
    H = rbf_features(x, x, sigma)
    w = autograd.linalg.solve(H, y)
    return (H @ w - y).abs().max().item(), x, y, w, sigma


def book_gradients(x, y, model):
    """The book's derivatives of L = 1/2 sum_i (H_i.W - y_i)^2 (sec. 5.2.4, no bias):
    dL/dsigma_j = sum_i (H_i.W - y_i) w_j Phi_j(X_i) ||X_i - mu_j||^2 / sigma_j^3 and
    dL/dmu_jk = sum_i (H_i.W - y_i) w_j Phi_j(X_i) (x_ik - mu_jk) / sigma_j^2 (eq. 5.8),
    computed by hand (no graph).  Returns (d sigma (m,), d mu (m, d))."""
    with autograd.no_grad():
        mu, s, w = model.centres, model.sigma, model.output.weight[0]
        Phi = rbf_features(x, mu, s)
        err = Phi @ w - y
        coef = err[:, None] * w[None, :] * Phi                     # (n, m)
        d_sigma = (coef * sq_distances(x, mu)).sum(0) / s ** 3
        d_mu = (coef[:, :, None] * (x[:, None, :] - mu[None])).sum(0) / (s ** 2)[:, None]
    return d_sigma, d_mu


def supervised_demo(x, y, m, epochs, generator=None):
    """Two-stage fit (k-means, the d_max heuristic, closed-form output layer) against the
    same network with prototypes, widths and weights then trained together by Adam (sec.
    5.2.4).  x (n, d), y (n,).  Returns (two-stage loss, supervised loss, model)."""
    centres, _ = kmeans(x, m, generator=generator)
    sigma = autograd.tensor(bandwidths(centres)['d_max/sqrt(m)'], dtype=F64, device=x.device)
    model = RBFNetwork(centres, sigma, bias=False)
    with autograd.no_grad():
        model.output.weight.copy_(closed_form(model.hidden(x), y, 1e-8)[None])
    loss_fn = lambda: 0.5 * ((model(x)[:, 0] - y) ** 2).mean()  # noqa: E731
    two_stage = loss_fn().item()
    opt = optim.Adam(model.parameters(), lr=0.005)
    for _ in range(epochs):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return two_stage, loss_fn().item(), model


def logistic_map_series(n, x0=0.3141):
    """x(t+1) = 4 x(t) (1 - x(t)), the fully chaotic logistic map: (n + 1,) float64."""
    xs = [x0]
    for _ in range(n):
        xs.append(4 * xs[-1] * (1 - xs[-1]))
    return numpy.array(xs)


def logistic_map_demo(device, normalized=False, nu=0.3, seed=0):
    """S2's example: phi(x) = sum_i a_i rho(|x - c_i|), rho = exp(-beta (x - c)^2), five
    centres c_i drawn from the series, beta = 5 (normalised: phi = sum a_i rho_i / sum rho_i,
    beta = 6), weights by projection-operator training a <- a + nu (y - phi) v / (v.v)
    (v the basis vector at x(t)) in one pass over 100 points; returns the rms error on 100
    held-out points."""
    series = logistic_map_series(400)
    rng = numpy.random.default_rng(seed)
    t = lambda a: autograd.tensor(a, dtype=F64, device=device)  # noqa: E731
    x_tr, y_tr = t(series[:100]), t(series[1:101])
    x_te, y_te = t(series[200:300]), t(series[201:301])
    centres = t(rng.choice(series[:100], 5, replace=False))
    beta = 6.0 if normalized else 5.0

    def basis(x):
        v = autograd.exp(-beta * (x[..., None] - centres) ** 2)
        return v / v.sum(-1, keepdim=True) if normalized else v

    a = nn.Parameter(autograd.zeros(5, dtype=F64, device=device))
    opt = optim.SGD([a], lr=nu)
    for i in range(100):
        v = basis(x_tr[i])
        loss = 0.5 * (y_tr[i] - v @ a) ** 2
        opt.zero_grad()
        loss.backward()                       # gradient -(y - phi) v
        a.grad.div_((v * v).sum())            # the projection: a step of nu (y - phi) v / |v|^2
        opt.step()
    with autograd.no_grad():
        return ((basis(x_te) @ a - y_te) ** 2).mean().sqrt().item()


def logistic_map_medians(device, draws, seed=0):
    """The median rms error, unnormalised and normalised, over ``draws`` draws of the
    five centres (seeds seed, seed + 1, ...)."""
    plain = [logistic_map_demo(device, seed=seed + k) for k in range(draws)]
    normed = [logistic_map_demo(device, normalized=True, seed=seed + k) for k in range(draws)]
    return float(numpy.median(plain)), float(numpy.median(normed))


def main(argv=None):
    p = _data.parser('rbf_network', __doc__, epochs=300,
                     epochs_help='steps of fully supervised training')
    p.add_argument('--n', type=int, default=200, help='points in the XOR-like clusters')
    p.add_argument('--draws', type=int, default=21, help='draws of the logistic-map centres')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    dev = args.device
    results = {}

    # Fig. 5.2: the XOR-like clusters
    X, y = xor_clusters(args.n, dev, seed=args.seed)
    xor, centres, sigma, H_book = xor_demo(X, y, generator=gen)
    results.update({f'xor: {k}': v for k, v in xor.items()})

    # 5.2.2: both trainings of the output layer on a regression task
    xr = autograd.linspace(-2, 2, 120, dtype=F64, device=dev)[:, None]
    yr = target_function(xr[:, 0]) + 0.05 * autograd.randn(120, dtype=F64, device=dev,
                                                          generator=gen)
    c, _ = kmeans(xr, 12, generator=gen)
    hw = bandwidths(c, r=2)
    H = with_bias(rbf_features(xr, c, hw['r-th neighbour']))
    lam = 0.01
    w_cf, w_gd = closed_form(H, yr, lam), gradient_descent(H, yr, lam, steps=6000)
    results['output layer: |W_gd - W_closed|'] = (w_gd - w_cf).norm().item()
    results['output layer: rmse'] = ((H @ w_cf - yr) ** 2).mean().sqrt().item()
    for name in ('d_max/sqrt(m)', '2 d_ave', 'r-th neighbour'):
        Hs = with_bias(rbf_features(xr, c, hw[name]))
        results[f'bandwidth {name}: rmse'] = (
            (Hs @ closed_form(Hs, yr, lam) - yr) ** 2).mean().sqrt().item()

    # 5.3.4: exact interpolation
    results['interpolation: max |HW - y|'], xi, yi, wi, si = interpolation_demo(15, dev)

    # 5.2.4: fully supervised centres and widths
    two_stage, supervised, model = supervised_demo(xr, yr, 4, args.epochs, generator=gen)
    results['supervised: two-stage loss'] = two_stage
    results['supervised: trained loss'] = supervised

    # S2: the logistic map; the error depends on which five exemplars became centres, so
    # the median over draws of them is reported
    plain, normed = logistic_map_medians(dev, args.draws, args.seed)
    results['logistic map rmse (median)'] = plain
    results['logistic map rmse, normalised (median)'] = normed
    for k, v in results.items():
        print(f'{k:40s} {v:.4g}')

    fig, axes = _data.figure(1, 4, figsize=(17, 4))
    Xn, yn = X.cpu().numpy(), y.cpu().numpy()
    book_w = autograd.tensor([1.0, -1.0, 1.0, -1.0], dtype=F64, device=dev)
    _data.decision_regions(axes[0], lambda g: rbf_features(g.to(F64), centres, sigma)
                           @ book_w, Xn, yn, 'Fig. 5.2: W = [1, -1, 1, -1] on the RBF code',
                           device=dev)
    cn = centres.cpu().numpy()
    axes[0].plot(cn[:, 0], cn[:, 1], 'k*', ms=12, label='k-means prototypes')
    axes[0].legend(fontsize=8)
    grid = autograd.linspace(-2, 2, 400, dtype=F64, device=dev)[:, None]
    with autograd.no_grad():
        fits = {name: with_bias(rbf_features(grid, c, hw[name])) @ closed_form(
            with_bias(rbf_features(xr, c, hw[name])), yr, lam) for name in hw}
        interp = rbf_features(grid, xi, si) @ wi
        sup = model(grid)[:, 0]
    g = grid[:, 0].cpu().numpy()
    axes[1].plot(xr[:, 0].cpu().numpy(), yr.cpu().numpy(), 'k.', ms=3, label='data')
    for name, f in fits.items():
        axes[1].plot(g, f.cpu().numpy(), label=f'sigma: {name}')
    axes[1].set(title='output layer by least squares, 12 k-means prototypes', xlabel='x')
    axes[1].legend(fontsize=8)
    axes[2].plot(g, interp.cpu().numpy(), label='interpolant (15 prototypes = 15 points)')
    axes[2].plot(xi[:, 0].cpu().numpy(), yi.cpu().numpy(), 'ko', label='points')
    axes[2].set(title='exact interpolation, W = H^{-1} y (eq. 5.14)', xlabel='x')
    axes[2].legend(fontsize=8)
    axes[3].plot(xr[:, 0].cpu().numpy(), yr.cpu().numpy(), 'k.', ms=3, label='data')
    axes[3].plot(g, sup.cpu().numpy(), label='4 units, centres + widths trained')
    axes[3].plot(model.centres.detach()[:, 0].cpu().numpy(),
                 numpy.zeros(model.centres.shape[0]) - 1.2, 'r^', label='trained centres')
    axes[3].set(title=f'fully supervised: loss {two_stage:.3f} -> {supervised:.4f}',
                xlabel='x')
    axes[3].legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'rbf_network.png'))
    return results


if __name__ == '__main__':
    main()

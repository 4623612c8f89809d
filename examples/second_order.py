"""Second-order optimisation: Newton, conjugate gradients / Hessian-free with
Hessian-vector products through double backprop, L-BFGS, and Newton drawn into a saddle.

Aggarwal, *Neural Networks and Deep Learning*, sec. 3.5.6.

* Newton (eq. 3.48): W <- W - H^{-1} grad L.  On a quadratic loss the quadratic model is
  exact, so one step lands on the minimum.  H comes from ``autograd.functional.hessian``,
  the step from ``autograd.linalg.solve``.
* Conjugate gradients (sec. 3.5.6.1): q_0 = -grad L, W <- W + alpha_t q_t with the exact
  line search on a quadratic, q_{t+1} = -grad L(W_{t+1}) + beta_t q_t with
  beta_t = q_t^T H grad L(W_{t+1}) / q_t^T H q_t (eqs. 3.49, 3.50).  H appears only in
  products H v, computed without forming H by differentiating grad L . v once more
  (double backprop; the book's finite difference, eq. 3.51, is exact on a quadratic and
  is compared).  On a d-dimensional quadratic CG finishes in at most d steps.
* Hessian-free optimisation: Newton steps on a non-quadratic loss (L2-regularised
  logistic regression on the breast-cancer table), each solved approximately by a few
  CG iterations on the local quadratic model, again through H v products only.
* L-BFGS (sec. 3.5.6.2): ``optim.LBFGS`` with a strong-Wolfe line search on Rosenbrock's
  function.
* Saddle points (sec. 3.5.6.3, Fig. 3.17): on g(x, y) = x^2 - y^2 the Newton step from any
  point goes straight to the stationary point (0, 0), a saddle, and stays there; gradient
  descent from the same start escapes along y.

Run: python examples/second_order.py [--device cpu] [--out runs/second_order]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
from autograd import functional

F64 = autograd.float64


def quadratic(d, cond, device=None, seed=0):
    """L(w) = 1/2 w^T A w - b^T w with A symmetric positive definite of condition number
    ``cond``: returns (loss function, A, b, the minimiser A^{-1} b), all float64."""
    rng = numpy.random.default_rng(seed)
    Q, _ = numpy.linalg.qr(rng.normal(size=(d, d)))
    A = Q @ numpy.diag(numpy.geomspace(1.0, cond, d)) @ Q.T
    b = rng.normal(size=d)
    A, b = (autograd.tensor(a, dtype=F64, device=device) for a in (A, b))
    return (lambda w: 0.5 * w @ A @ w - b @ w), A, b, autograd.linalg.solve(A, b)


def gradient(loss, w, create_graph=False):
    w = w.detach().requires_grad_()
    (g,) = autograd.grad(loss(w), w, create_graph=create_graph)
    return g if create_graph else g.detach()


def hvp_double_backprop(loss, w, v):
    """H v = d/dw (grad L(w) . v): two reverse sweeps, no Hessian."""
    w = w.detach().requires_grad_()
    (g,) = autograd.grad(loss(w), w, create_graph=True)
    (hv,) = autograd.grad((g * v).sum(), w)
    return hv.detach()


def hvp_finite_difference(loss, w, v, delta=1e-4):
    """Eq. 3.51: (grad L(w + delta v) - grad L(w)) / delta."""
    return (gradient(loss, w + delta * v) - gradient(loss, w)) / delta


def newton_step(loss, w):
    """W - H^{-1} grad L(W) (eq. 3.48), H from ``autograd.functional.hessian``."""
    H = functional.hessian(loss, w.detach())
    return w - autograd.linalg.solve(H, gradient(loss, w))


def conjugate_gradients(loss, w, steps, hvp=hvp_double_backprop):
    """Linear CG on a quadratic loss (eqs. 3.49, 3.50) with the exact line search
    alpha_t = -grad.q / q^T H q.  Returns (w, gradient norm after each step)."""
    g = gradient(loss, w)
    q = -g
    norms = [g.norm().item()]
    for _ in range(steps):
        if norms[-1] < 1e-12:
            break
        Hq = hvp(loss, w, q)
        alpha = -(g @ q) / (q @ Hq)
        w = w + alpha * q
        g = gradient(loss, w)
        q = -g + (q @ hvp(loss, w, g)) / (q @ Hq) * q
        norms.append(g.norm().item())
    return w, norms


def cg_solve(hvp, rhs, iters, tol=1e-10):
    """Solve H x = rhs approximately by CG using only products hvp(v) = H v."""
    x = autograd.zeros_like(rhs)
    r = rhs.clone()
    p = r.clone()
    rr = r @ r
    for _ in range(iters):
        Hp = hvp(p)
        alpha = rr / (p @ Hp)
        x = x + alpha * p
        r = r - alpha * Hp
        rr_new = r @ r
        if rr_new.item() < tol ** 2:
            break
        p = r + rr_new / rr * p
        rr = rr_new
    return x


def hessian_free(loss, w, outer, inner=10, damping=1e-4):
    """Truncated Newton: each outer step solves (H + damping I) s = -grad L by ``inner``
    CG iterations on H v products.  Returns (w, loss after each outer step)."""
    losses = [loss(w).item()]
    for _ in range(outer):
        g = gradient(loss, w)
        s = cg_solve(lambda v: hvp_double_backprop(loss, w, v) + damping * v, -g, inner)
        w = (w + s).detach()
        losses.append(loss(w).item())
    return w, losses


def logistic_problem(device=None, lam=1e-3):
    """L2-regularised logistic regression on the standardised breast-cancer table:
    (loss function of the weights (31,), dimension)."""
    X, y = _data.breast_cancer()
    (X,) = _data.standardize(X)
    X = numpy.hstack([X, numpy.ones((len(X), 1), numpy.float32)])
    X, y = (autograd.tensor(a, dtype=F64, device=device) for a in (X, y))
    # softplus(-y w.x) = log(1 + exp(-y w.x)); nn.functional.softplus is smooth at 0, where
    # max(z, 0) + log1p(exp(-|z|)) would give autodiff the kinks of max and |.| at w = 0
    return (lambda w: nn.functional.softplus(-y * (X @ w)).mean() + 0.5 * lam * (w @ w),
            X.shape[1])


def gradient_descent(loss, w, steps, lr):
    losses = [loss(w).item()]
    for _ in range(steps):
        w = w - lr * gradient(loss, w)
        losses.append(loss(w).item())
    return w, losses


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def lbfgs(loss, w0, iters):
    """``optim.LBFGS`` (strong-Wolfe line search) from w0, one quasi-Newton iteration per
    ``step`` (max_iter=1; max_eval=25 leaves the line search room: with max_iter=1 its
    default, 1.25 evaluations, stops PyTorch's search before it moves).  Returns (w, loss
    per step)."""
    w = w0.clone().requires_grad_()
    opt = optim.LBFGS([w], lr=1, max_iter=1, max_eval=25, history_size=10,
                      line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        out = loss(w)
        out.backward()
        return out
    losses = [loss(w).item()]
    for _ in range(iters):
        opt.step(closure)
        losses.append(loss(w).item())
    return w.detach(), losses


def saddle(w):
    """g(x, y) = x^2 - y^2 (Fig. 3.17(b))."""
    return w[0] ** 2 - w[1] ** 2


def main(argv=None):
    p = _data.parser('second_order', __doc__, epochs=60,
                     epochs_help='L-BFGS iterations on Rosenbrock')
    args = p.parse_args(argv)
    dev = args.device
    results = {}

    # a 10-dimensional quadratic, condition number 1000
    loss, A, b, w_star = quadratic(10, 100.0, dev, args.seed)
    w0 = autograd.zeros(10, dtype=F64, device=dev)
    results['newton: |w1 - w*| after one step'] = (newton_step(loss, w0) - w_star).norm().item()
    v = autograd.ones(10, dtype=F64, device=dev)
    results['Hv: double backprop vs A v'] = (hvp_double_backprop(loss, w0, v) - A @ v).norm().item()
    results['Hv: finite difference (eq. 3.51) vs A v'] = (
        hvp_finite_difference(loss, w0, v) - A @ v).norm().item()
    results['Hv: functional.hvp vs A v'] = (
        functional.hvp(loss, w0, v)[1] - A @ v).norm().item()
    w_cg, cg_norms = conjugate_gradients(loss, w0, 10)
    results['CG: |w_10 - w*| after d = 10 steps'] = (w_cg - w_star).norm().item()
    gd_norms = _grad_norms(loss, dev, 10)

    # Hessian-free vs gradient descent on logistic regression
    lr_loss, d = logistic_problem(dev)
    w0 = autograd.zeros(d, dtype=F64, device=dev)
    w_hf, hf = hessian_free(lr_loss, w0, 10)
    w_ref, _ = hessian_free(lr_loss, w0, 40, inner=100, damping=0.0)
    optimum = lr_loss(w_ref).item()
    _, gd = gradient_descent(lr_loss, w0, 10 * 11, 1.0)     # ~ as many gradient evaluations
    _, lb = lbfgs(lr_loss, w0, 10)
    results['logistic: optimum'] = optimum
    results['logistic: Hessian-free, 10 steps, gap'] = hf[-1] - optimum
    results['logistic: L-BFGS, 10 steps, gap'] = lb[-1] - optimum
    results['logistic: gradient descent, 110 steps, gap'] = gd[-1] - optimum

    # L-BFGS on Rosenbrock
    w_rb, rb = lbfgs(rosenbrock, autograd.tensor([-1.2, 1.0], dtype=F64, device=dev),
                     args.epochs)
    results['rosenbrock: L-BFGS distance to (1, 1)'] = (w_rb - 1).norm().item()

    # the saddle
    start = autograd.tensor([1.0, 0.5], dtype=F64, device=dev)
    w_newton = newton_step(saddle, start)
    w_newton2 = newton_step(saddle, w_newton)
    w_gd = start
    path_gd = [start.cpu().numpy()]
    for _ in range(20):
        w_gd = w_gd - 0.1 * gradient(saddle, w_gd)
        path_gd.append(w_gd.cpu().numpy())
    results['saddle: Newton lands on (0, 0)'] = w_newton.norm().item()
    results['saddle: Newton stays there'] = w_newton2.norm().item()
    results['saddle: gradient descent |y| after 20 steps'] = abs(w_gd[1].item())
    results['saddle: gradient descent g after 20 steps'] = saddle(w_gd).item()
    for k, val in results.items():
        print(f'{k:48s} {val:.3g}')

    fig, axes = _data.figure(1, 4, figsize=(18, 4))
    axes[0].semilogy(cg_norms, 'o-', label='conjugate gradients')
    axes[0].semilogy(gd_norms, 's-', label='gradient descent (lr 1/L)')
    axes[0].axvline(10, color='0.5', ls='--', label='d = 10')
    axes[0].set(xlabel='step', ylabel='|grad L|', title='quadratic, d = 10, condition 100')
    axes[0].legend(fontsize=8)
    for name, c in (('Hessian-free (CG on Hv)', hf), ('L-BFGS', lb),
                    ('gradient descent', gd)):
        gap = numpy.maximum(numpy.array(c) - optimum, 1e-16)
        axes[1].semilogy(gap, label=name)
    axes[1].set(xlabel='outer step (GD: step)', ylabel='loss - optimum',
                title='logistic regression, breast cancer')
    axes[1].legend(fontsize=8)
    axes[2].semilogy(numpy.array(rb) + 1e-20, 'o-')
    axes[2].set(xlabel='L-BFGS step', ylabel='Rosenbrock f', title='L-BFGS from (-1.2, 1)')
    g0, g1 = numpy.meshgrid(numpy.linspace(-1.2, 1.2, 100), numpy.linspace(-1.2, 1.2, 100))
    axes[3].contour(g0, g1, g0 ** 2 - g1 ** 2, levels=15, cmap='coolwarm')
    pg = numpy.array(path_gd)
    axes[3].plot(pg[:, 0], pg[:, 1], 'o-', ms=3, label='gradient descent: escapes')
    sn = start.cpu().numpy()
    axes[3].annotate('', xy=(0, 0), xytext=sn, arrowprops=dict(arrowstyle='->', color='k'))
    axes[3].plot([sn[0], 0], [sn[1], 0], 'k--', label='Newton: one step into the saddle')
    axes[3].set(xlabel='x', ylabel='y', title='g = x^2 - y^2 (Fig. 3.17)',
                xlim=(-1.2, 1.2), ylim=(-1.2, 1.2))
    axes[3].legend(fontsize=8, loc='lower left')
    print('plot:', _data.savefig(fig, args.out, 'second_order.png'))
    return results


def _grad_norms(loss, device, steps):
    """|grad L| along gradient descent (lr 1/L, L = 100) from 0 on the quadratic."""
    w = autograd.zeros(10, dtype=F64, device=device)
    out = [gradient(loss, w).norm().item()]
    for _ in range(steps):
        w = w - gradient(loss, w) / 100.0
        out.append(gradient(loss, w).norm().item())
    return out


if __name__ == '__main__':
    main()

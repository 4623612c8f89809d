"""Statistical training: Boltzmann and Cauchy training (simulated annealing over the
weights) and the Cauchy/backprop hybrid, on the XOR network that backprop alone can get
stuck on.

The shorter text S0 ("Statistical (stochastic) training", L387-438); Aggarwal, *Neural
Networks and Deep Learning*, sec. 1.2.1.3 (the XOR network) and sec. 6.3 (Boltzmann machines
are named after the same distribution).

* Boltzmann training: at temperature T, change one weight at a time by a Gaussian step
  (P(w) = exp(-w^2 / T^2), standard deviation T / sqrt 2), keep the change if the objective
  improves, else keep it with probability P(c) = exp(-c / kT) (c the increase of the
  objective, compared with r ~ U[0, 1]); after every sweep over the weights cool as
  T(t) = T0 / log(1 + t).
* Cauchy training: the step is x_c = rho T(t) tan(u), u ~ U(-pi/2, pi/2) (the integrated
  Cauchy distribution, fat-tailed), so the faster schedule T(t) = T0 / (1 + t) may be used.
* The hybrid: all weights change at once by
  eta [alpha dW_{t-1} + (1 - alpha) delta OUT] + (1 - eta) x_c, the backprop step (with
  momentum) mixed with the Cauchy step; the change is accepted as in Cauchy training.
  eta = 0 is pure Cauchy, eta = 1 pure backprop.

Every method runs on R independent networks at once (a batch of weight vectors), so the
results are fractions of R runs: how many reach a correct XOR, after how many objective
evaluations.  The objective is the quadratic error E = 1/2 sum_p (out_p - y_p)^2 of a 2-2-1
sigmoid network; k = 1.

Run: python examples/simulated_annealing.py [--epochs 1000] [--device cpu]
     [--out runs/simulated_annealing]
"""
import math

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd

N_WEIGHTS = 9      # 2-2-1: W1 (2 x 2), b1 (2), w2 (2), b2 (1)


def xor_data(device=None):
    X = autograd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=device)
    return X, autograd.tensor([0.0, 1.0, 1.0, 0.0], device=device)


def forward(w, X):
    """Outputs (R, 4) of R sigmoid 2-2-1 networks, weights w (R, 9), inputs X (4, 2)."""
    R = w.shape[0]
    W1, b1 = w[:, :4].reshape(R, 2, 2), w[:, 4:6]
    w2, b2 = w[:, 6:8], w[:, 8:]
    h = autograd.sigmoid(autograd.einsum('pi,rij->rpj', X, W1) + b1.unsqueeze(1))
    return autograd.sigmoid((h * w2.unsqueeze(1)).sum(-1) + b2)


def objective(w, X, y):
    """E = 1/2 sum_p (out_p - y_p)^2 for each of the R networks: (R,)."""
    return 0.5 * ((forward(w, X) - y) ** 2).sum(-1)


def solved(w, X, y):
    """(R,) bool: every pattern on the right side of 0.5."""
    return ((forward(w, X) - y).abs() < 0.5).all(-1)


def boltzmann_temperature(t, T0):
    """T(t) = T0 / log(1 + t), the cooling that Boltzmann training needs (t >= 1)."""
    return T0 / math.log(1 + t)


def cauchy_temperature(t, T0):
    """T(t) = T0 / (1 + t), fast enough with Cauchy steps."""
    return T0 / (1 + t)


def gaussian_step(shape, T, generator, device=None):
    """Steps w with density proportional to exp(-w^2 / T^2): normal, std T / sqrt 2."""
    return T / math.sqrt(2) * autograd.randn(shape, generator=generator, device=device)


def cauchy_step(shape, T, rho, generator, device=None):
    """x_c = rho T tan(u), u uniform on (-pi/2, pi/2): Cauchy with scale rho T."""
    u = (autograd.rand(shape, generator=generator, device=device) - 0.5) * math.pi
    return rho * T * autograd.tan(u)


def accept(c, T, generator, k=1.0):
    """Keep a change that raised the objective by c with probability exp(-c / kT): (R,) bool
    (an improvement, c <= 0, is always kept)."""
    r = autograd.rand(c.shape, generator=generator, device=c.device)
    return (c <= 0) | (autograd.exp(-c / (k * T)) > r)


def squashed(w, s):
    """s tanh(w / s): shrinks large weights, barely touches small ones, keeps signs (the
    text's remedy for the paralysis that Cauchy's unbounded steps cause)."""
    return s * autograd.tanh(w / s)


def anneal(w, X, y, sweeps, T0, kind, generator, rho=1.0, k=1.0, squash=None):
    """Boltzmann (``kind='boltzmann'``) or Cauchy training of the R networks w (R, 9), one
    weight at a time.  Returns (w, fraction solved after each sweep, evaluations per sweep)."""
    w = w.clone()
    E = objective(w, X, y)
    curve = []
    with autograd.no_grad():
        for t in range(1, sweeps + 1):
            if kind == 'boltzmann':
                T = boltzmann_temperature(t, T0)
            else:
                T = cauchy_temperature(t, T0)
            for i in range(N_WEIGHTS):
                if kind == 'boltzmann':
                    step = gaussian_step((w.shape[0],), T, generator, w.device)
                else:
                    step = cauchy_step((w.shape[0],), T, rho, generator, w.device)
                trial = w.clone()
                trial[:, i] += step
                if squash:
                    trial = squashed(trial, squash)
                E_trial = objective(trial, X, y)
                keep = accept(E_trial - E, T, generator, k)
                w = autograd.where(keep.unsqueeze(1), trial, w)
                E = autograd.where(keep, E_trial, E)
            curve.append(solved(w, X, y).float().mean().item())
    return w, curve, N_WEIGHTS


def hybrid(w, X, y, steps, T0, eta, generator, lr=2.0, alpha=0.9, rho=1.0, k=1.0,
           squash=None):
    """The Cauchy/backprop hybrid (all weights at once); eta = 1 is backprop with momentum
    (every change kept: accepted as Cauchy training would, only when T0 > 0).  Returns
    (w, fraction solved after each step, evaluations per step)."""
    w = w.clone()
    prev = autograd.zeros_like(w)
    curve = []
    for t in range(1, steps + 1):
        wg = w.detach().requires_grad_()
        E = objective(wg, X, y)
        (grad,) = autograd.grad(E.sum(), wg)     # the R networks are independent
        with autograd.no_grad():
            change = eta * (alpha * prev + (1 - alpha) * (-lr * grad))
            if eta < 1:
                T = cauchy_temperature(t, T0)
                change = change + (1 - eta) * cauchy_step(w.shape, T, rho, generator, w.device)
            trial = w + change
            if squash:
                trial = squashed(trial, squash)
            if eta < 1:
                keep = accept(objective(trial, X, y) - E.detach(), T, generator, k).unsqueeze(1)
                w = autograd.where(keep, trial, w)
                prev = autograd.where(keep, change, autograd.zeros_like(change))
            else:
                w, prev = trial, change
            curve.append(solved(w, X, y).float().mean().item())
    return w, curve, 2 if eta < 1 else 1


def first_reaching(curve, level, per_step):
    """Objective evaluations until the solved fraction first reaches ``level`` (or None)."""
    return next(((t + 1) * per_step for t, v in enumerate(curve) if v >= level), None)


def main(argv=None):
    p = _data.parser('simulated_annealing', __doc__, epochs=1000,
                     epochs_help='sweeps (annealing) or steps (backprop, hybrid)')
    p.add_argument('--runs', type=int, default=100, help='independent networks per method')
    args = p.parse_args(argv)
    dev = autograd.device(args.device)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, y = xor_data(dev)
    n = args.epochs
    # temperatures: the step sizes follow T (Gaussian std T / sqrt 2, Cauchy scale rho T),
    # the acceptance of a worse objective follows kT with k = 0.001: E lies in [0, 2]
    methods = {
        'backprop + momentum': lambda w: hybrid(w, X, y, n, 0.0, 1.0, gen),
        'Boltzmann (T0 / log(1 + t))': lambda w: anneal(w, X, y, n, 2.0, 'boltzmann', gen,
                                                        k=1e-3),
        'Cauchy (T0 / (1 + t))': lambda w: anneal(w, X, y, n, 10.0, 'cauchy', gen, rho=0.1,
                                                  k=1e-3),
        'hybrid, eta = 0.5': lambda w: hybrid(w, X, y, n, 10.0, 0.5, gen, rho=0.1, k=1e-3),
    }
    w0 = autograd.randn(args.runs, N_WEIGHTS, generator=gen, device=dev)   # the same start
    results = {'initial mean error': objective(w0, X, y).mean().item()}
    curves, final = {}, {}
    for name, run in methods.items():
        w, curve, per_step = run(w0)
        E = objective(w, X, y)
        curves[name], final[name] = (curve, per_step), w
        results[name] = {'solved': curve[-1], 'mean error': E.mean().item(),
                         'evaluations to 25% solved': first_reaching(curve, 0.25, per_step)}
        print(f'{name:28s} solved {curve[-1]:.2f} of {args.runs} runs, mean E '
              f'{E.mean().item():.4f}, evaluations to 25% solved: '
              f'{results[name]["evaluations to 25% solved"]}')

    # the nets backprop left in a local minimum (E ~ 0.25: one pattern at 0.5): continued by
    # backprop, by Boltzmann annealing and by the hybrid for as many steps/sweeps again
    stuck = ~solved(final['backprop + momentum'], X, y)
    results['stuck after backprop'] = int(stuck.sum().item())
    if results['stuck after backprop']:
        ws = final['backprop + momentum'][stuck]
        for name in methods:
            _, curve, per_step = methods[name](ws)
            results[f'rescued by {name}'] = curve[-1]
            print(f'stuck nets ({results["stuck after backprop"]}) continued by {name:28s} '
                  f'solved {curve[-1]:.2f}')

    fig, ax = _data.figure(figsize=(6, 4))
    for name, (curve, per_step) in curves.items():
        ax.plot([(t + 1) * per_step for t in range(len(curve))], curve, label=name)
    ax.set_xscale('log')
    ax.set(xlabel='objective evaluations', ylabel=f'fraction of {args.runs} XOR nets solved',
           title='XOR, 2-2-1 sigmoid net')
    print('plot:', _data.savefig(fig, args.out, 'simulated_annealing.png', legend_fontsize=8))
    return results


if __name__ == '__main__':
    main()

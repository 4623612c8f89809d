"""An optimisation lab: seven optimizers on three two-dimensional surfaces.

Each optimizer moves one point p = (x, y), an ``nn.Parameter``, downhill on

    bowl        f = x^2 + 4 y^2            an ill-conditioned quadratic (curvatures 2 and 8)
    saddle      f = x^2 - y^2              a saddle point at the origin
    Rosenbrock  f = (1 - x)^2 + 100 (y - x^2)^2    a long curved valley, minimum at (1, 1)

(Aggarwal, *Neural Networks and Deep Learning*, sec. 3.5; Goodfellow et al., *Deep
Learning*, sec. 8.2-8.5).  What the trajectories show:

- On the bowl, plain gradient descent zig-zags across the steep direction while crawling
  along the shallow one; momentum and Nesterov smooth the zig-zag; the adaptive methods
  (AdaGrad, RMSProp, AdaDelta, Adam) rescale each coordinate, so they head straight in.
- At the saddle, started a hair (1e-3) off the ridge, gradient descent is held up by the
  tiny y-gradient: |y| grows only by the factor 1 + 2 lr per step; the methods that
  divide by the gradient's size (AdaGrad, RMSProp, Adam) escape within a few steps.
  Started exactly on the ridge, nothing escapes: the y-gradient is exactly zero.
- Along Rosenbrock's curved valley, plain gradient descent needs a tiny step to stay
  stable (the curvature at the start is ~1,900) and crawls; momentum, Nesterov and Adam
  reach (1, 1).

Two remedies of sec. 3.5 get a panel of their own (``clipping_polyak.png``):

- Gradient clipping (sec. 3.5.5): on Rosenbrock, gradient descent at 3x its largest stable
  step (lr 3e-3) overflows within ten steps, the gradient at the valley's wall being in the
  thousands; clipped by norm to 1 (``nn.utils.clip_grad_norm_``: the direction is kept) it
  gets closer to (1, 1) than the stable step does in the same 3,000 steps; clipped by value
  (``clip_grad_value_``: each component cut to [-1, 1], the direction bent) less so.
- Polyak averaging (sec. 3.5.7): SGD on the bowl with noisy gradients (the noise of a
  mini-batch, N(0, 2^2) per component) keeps bouncing around the minimum; the plain average
  of the iterates (eq. 3.57) and their exponential average (the recursive formula with
  beta = 0.95, ``optim.swa_utils.AveragedModel``) sit much closer to it.

Run: python examples/optimization_lab.py [--epochs 1] [--out runs/optimization_lab]
(``--epochs`` multiplies each surface's number of steps.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


def bowl(x, y):
    return x ** 2 + 4 * y ** 2


def saddle(x, y):
    return x ** 2 - y ** 2


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


# surface: (function, start, steps, minimum or None, learning rate for each optimizer).
# AdaDelta's lr multiplies a step that has no units of its own; at the default 1.0 its
# first steps are ~sqrt(eps) = 1e-3 long, so on the short runs it is scaled up.
SURFACES = {
    'bowl': (bowl, (-4.0, 1.5), 100, (0.0, 0.0),
             {'SGD': 0.2, 'momentum': 0.02, 'Nesterov': 0.02, 'AdaGrad': 1.0,
              'RMSProp': 0.1, 'AdaDelta': 50.0, 'Adam': 0.3}),
    'saddle': (saddle, (-1.5, 1e-3), 100, None,
               {'SGD': 0.1, 'momentum': 0.02, 'Nesterov': 0.02, 'AdaGrad': 0.3,
                'RMSProp': 0.05, 'AdaDelta': 3.0, 'Adam': 0.1}),
    'Rosenbrock': (rosenbrock, (-1.5, 2.0), 3000, (1.0, 1.0),
                   {'SGD': 1e-3, 'momentum': 5e-4, 'Nesterov': 5e-4, 'AdaGrad': 1.0,
                    'RMSProp': 3e-3, 'AdaDelta': 1.0, 'Adam': 2e-2}),
}

OPTIMIZERS = {
    'SGD': lambda p, lr: optim.SGD(p, lr=lr),
    'momentum': lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
    'Nesterov': lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    'AdaGrad': lambda p, lr: optim.Adagrad(p, lr=lr),
    'RMSProp': lambda p, lr: optim.RMSprop(p, lr=lr),
    'AdaDelta': lambda p, lr: optim.Adadelta(p, lr=lr),
    'Adam': lambda p, lr: optim.Adam(p, lr=lr),
}


def descend(f, start, optimizer, lr, steps, device=None):
    """Run ``steps`` steps of ``optimizer`` on f from ``start``.  Returns the trajectory,
    a NumPy array (steps + 1, 2)."""
    p = nn.Parameter(autograd.tensor(start, dtype=autograd.float64, device=device))
    opt = OPTIMIZERS[optimizer]([p], lr)
    path = [p.detach().clone()]
    for _ in range(steps):
        loss = f(p[0], p[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(p.detach().clone())
    return autograd.stack(path).cpu().numpy()


# ---------------------------------------------------------------------------------------------
# Gradient clipping (sec. 3.5.5) and Polyak averaging (sec. 3.5.7)

class Point(nn.Module):
    """The optimised point p = (x, y) as a module, so that ``AveragedModel`` can average it."""

    def __init__(self, start, device=None):
        super().__init__()
        self.p = nn.Parameter(autograd.tensor(start, dtype=autograd.float64, device=device))


def descend_clipped(f, start, lr, steps, clip=None, threshold=1.0, device=None):
    """Gradient descent on f with the gradient clipped before each step: ``clip`` is None,
    'norm' (``clip_grad_norm_``) or 'value' (``clip_grad_value_``).  Returns the trajectory
    (steps + 1, 2), cut short after the first non-finite point (an overflow)."""
    point = Point(start, device)
    opt = optim.SGD(point.parameters(), lr=lr)
    path = [point.p.detach().clone()]
    for _ in range(steps):
        loss = f(point.p[0], point.p[1])
        opt.zero_grad()
        loss.backward()
        if clip == 'norm':
            nn.utils.clip_grad_norm_(point.parameters(), threshold)
        elif clip == 'value':
            nn.utils.clip_grad_value_(point.parameters(), threshold)
        opt.step()
        path.append(point.p.detach().clone())
        if not autograd.isfinite(path[-1]).all().item():
            break
    return autograd.stack(path).cpu().numpy()


def noisy_descent(f, start, lr, steps, noise=2.0, beta=0.95, seed=0, device=None):
    """SGD on f with Gaussian noise of std ``noise`` added to each gradient component (a
    stochastic gradient), and the Polyak averages kept alongside: the plain mean of all
    iterates (eq. 3.57) and the exponential average W^f_t = (1 - beta) W_t + beta W^f_t-1.
    Returns three trajectories (steps + 1, 2): the iterates, the mean, the exponential mean."""
    point = Point(start, device)
    opt = optim.SGD(point.parameters(), lr=lr)
    mean = optim.swa_utils.AveragedModel(point)
    ema = optim.swa_utils.AveragedModel(
        point, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(beta))
    gen = autograd.Generator().manual_seed(seed)      # CPU draws: the same on any device
    paths = [[point.p.detach().clone()] for _ in range(3)]
    for _ in range(steps):
        xi = noise * autograd.randn(2, dtype=autograd.float64, generator=gen, device='cpu')
        loss = f(point.p[0], point.p[1]) + (xi.to(point.p.device) * point.p).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        mean.update_parameters(point)
        ema.update_parameters(point)
        for path, model in zip(paths, (point, mean.module, ema.module)):
            path.append(model.p.detach().clone())
    return tuple(autograd.stack(path).cpu().numpy() for path in paths)


def remedies(steps=1, device=None, log=print):
    """The clipping and averaging experiments; ``steps`` multiplies their lengths.  Returns
    their trajectories and the distances of their final points to the minimum."""
    out = {'clipping': {}, 'polyak': {}}
    runs = (('lr 1e-3 (stable)', 1e-3, None), ('lr 3e-3', 3e-3, None),
            ('lr 3e-3, norm clipped to 1', 3e-3, 'norm'),
            ('lr 3e-3, value clipped to 1', 3e-3, 'value'))
    for name, lr, clip in runs:
        path = descend_clipped(rosenbrock, (-1.5, 2.0), lr, 3000 * steps, clip, 1.0, device)
        finite = bool(numpy.isfinite(path[-1]).all())
        dist = float(numpy.hypot(*(path[-1] - 1.0))) if finite else float('inf')
        out['clipping'][name] = dict(path=path, distance=dist, steps=len(path) - 1)
        if log:
            log(f'Rosenbrock GD {name:28s} ' + (f'ends {dist:.3f} from (1, 1)' if finite else
                                                 f'overflows at step {len(path) - 1}'))
    iterates, mean, ema = noisy_descent(bowl, (-4.0, 1.5), 0.1, 200 * steps, device=device)
    for name, path in (('last iterate', iterates), ('mean of iterates', mean),
                       ('exponential mean (beta 0.95)', ema)):
        # the bouncing is judged over the last 50 steps: the mean distance to the minimum
        dist = float(numpy.hypot(*path[-50:].T).mean())
        out['polyak'][name] = dict(path=path, distance=dist)
        if log:
            log(f'noisy bowl  SGD {name:28s} mean distance to (0, 0) over the last 50 steps '
                f'{dist:.3f}')
    return out


def plot_remedies(out, path):
    fig, (ax0, ax1, ax2) = _data.figure(1, 3, figsize=(16, 4.6))
    g0, g1 = numpy.meshgrid(numpy.linspace(-2, 2, 300), numpy.linspace(-1, 3, 300))
    ax0.contour(g0, g1, rosenbrock(g0, g1), levels=numpy.logspace(-1, 3.5, 20), colors='0.75')
    for name, r in out['clipping'].items():
        p = r['path'][numpy.isfinite(r['path']).all(1)]
        ax0.plot(p[:, 0], p[:, 1], '.-', ms=2, lw=1, label=name)
        ax1.semilogy(numpy.maximum(numpy.hypot(*(p - 1.0).T), 1e-6), label=name)
    ax0.plot(1, 1, 'k*', ms=10)
    ax0.set(title='gradient clipping on Rosenbrock', xlim=(-2, 2), ylim=(-1, 3))
    ax1.set(title='distance to (1, 1) (lr 3e-3 unclipped overflows)', xlabel='step',
            ylim=(1e-3, 1e2))
    for name, r in out['polyak'].items():
        ax2.plot(*r['path'][len(r['path']) // 2:].T, '.-', ms=2, lw=0.8, label=name)
    ax2.plot(0, 0, 'k*', ms=10)
    ax2.set(title='Polyak averaging: SGD with noisy gradients on the bowl (second half)',
            xlabel='x', ylabel='y')
    ax2.title.set_fontsize(9)
    for ax in (ax0, ax1, ax2):
        ax.legend(fontsize=7)
    return _data.savefig(fig, *path)


def escape_step(path, threshold=1.0):
    """The first step at which |y| exceeds ``threshold`` (None if it never does)."""
    out = numpy.nonzero(numpy.abs(path[:, 1]) > threshold)[0]
    return int(out[0]) if len(out) else None


def main(argv=None):
    p = _data.parser('optimization_lab', __doc__, epochs=1)
    p.add_argument('--only', nargs='*', choices=list(OPTIMIZERS), help='a subset to run')
    args = p.parse_args(argv)
    fig, axes = _data.figure(1, 3, figsize=(17, 5))
    results = {}
    for ax, (name, (f, start, steps, minimum, lrs)) in zip(axes, SURFACES.items()):
        paths = {o: descend(f, start, o, lrs[o], steps * args.epochs, args.device)
                 for o in args.only or OPTIMIZERS}
        results[name] = {}
        for o, path in paths.items():
            x, y = path[-1]
            r = {'final': (float(x), float(y)), 'f': float(f(x, y))}
            if minimum is not None:
                r['distance'] = float(numpy.hypot(x - minimum[0], y - minimum[1]))
            else:
                r['escape_step'] = escape_step(path)
            results[name][o] = r
            print(f'{name:10s} {o:9s} lr {lrs[o]:<6g} ends at ({x:8.4f}, {y:8.4f})  '
                  f'f = {r["f"]:.3g}'
                  + (f'  escaped |y| > 1 at step {r["escape_step"]}' if minimum is None else ''))
        plot_surface(ax, f, paths, name, start, minimum)
    ridge = descend(saddle, (-1.5, 0.0), 'Adam', 0.1, 100, args.device)[-1]
    results['saddle']['from the ridge'] = {'final': (float(ridge[0]), float(ridge[1]))}
    print(f'saddle     Adam started exactly on the ridge (y = 0) ends at '
          f'({ridge[0]:.4f}, {ridge[1]:.4f}): the y-gradient is exactly zero there')
    print('plot:', _data.savefig(fig, args.out, 'trajectories.png'))
    results['remedies'] = remedies(args.epochs, args.device)
    print('plot:', plot_remedies(results['remedies'], (args.out, 'clipping_polyak.png')))
    return results


def plot_surface(ax, f, paths, title, start, minimum):
    """Contours of f with each optimizer's trajectory."""
    if title == 'Rosenbrock':
        g0, g1 = numpy.meshgrid(numpy.linspace(-2, 2, 300), numpy.linspace(-1, 3, 300))
        ax.contour(g0, g1, f(g0, g1), levels=numpy.logspace(-1, 3.5, 20), colors='0.75')
    else:
        g0, g1 = numpy.meshgrid(numpy.linspace(-4.5, 4.5, 300), numpy.linspace(-3, 3, 300))
        ax.contour(g0, g1, f(g0, g1), levels=25, colors='0.75')
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], '.-', ms=2, lw=1, label=name)
    ax.plot(*start, 'ko', ms=5)
    if minimum is not None:
        ax.plot(*minimum, 'k*', ms=10)
    ax.set(title=title, xlim=(g0.min(), g0.max()), ylim=(g1.min(), g1.max()))
    ax.legend(fontsize=7, loc='lower right')


if __name__ == '__main__':
    main()

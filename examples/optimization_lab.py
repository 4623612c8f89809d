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

Pictures (in ``--out``): ``trajectories.png`` (the bowl and the saddle), ``rosenbrock.png``
(one panel per optimizer, as the seven paths share one valley, and their distances to (1, 1)
on a log scale), ``progress.png`` (per step, log scale: f on the bowl, |y| at the saddle,
the distance to (1, 1) on Rosenbrock) and ``clipping_polyak.png``; an optimizer keeps its
colour, line style and marker throughout.

Run: python examples/optimization_lab.py [--epochs 1] [--out runs/optimization_lab]
(``--epochs`` multiplies each surface's number of steps.)
"""
import _data  # noqa: I001  (first: fixes the BLAS threads, makes a checkout importable)
import numpy
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


def plot_remedies(out):
    """Clipping on Rosenbrock (paths and log distances) and Polyak averages (figure, 3 axes)."""
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
    return fig


def escape_step(path, threshold=1.0):
    """The first step at which |y| exceeds ``threshold`` (None if it never does)."""
    out = numpy.nonzero(numpy.abs(path[:, 1]) > threshold)[0]
    return int(out[0]) if len(out) else None


def main(argv=None):
    p = _data.parser('optimization_lab', __doc__, epochs=1)
    p.add_argument('--only', nargs='*', choices=list(OPTIMIZERS), help='a subset to run')
    args = p.parse_args(argv)
    results, paths = {}, {}
    for name, (f, start, steps, minimum, lrs) in SURFACES.items():
        paths[name] = {o: descend(f, start, o, lrs[o], steps * args.epochs, args.device)
                       for o in args.only or OPTIMIZERS}
        results[name] = {}
        for o, path in paths[name].items():
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
    ridge = descend(saddle, (-1.5, 0.0), 'Adam', 0.1, 100, args.device)[-1]
    results['saddle']['from the ridge'] = {'final': (float(ridge[0]), float(ridge[1]))}
    print(f'saddle     Adam started exactly on the ridge (y = 0) ends at '
          f'({ridge[0]:.4f}, {ridge[1]:.4f}): the y-gradient is exactly zero there')
    figures = {'trajectories': plot_trajectories(paths),
               'rosenbrock': plot_rosenbrock(paths['Rosenbrock']),
               'progress': plot_progress(paths)}
    for name, fig in figures.items():
        print('plot:', _data.savefig(fig, args.out, f'{name}.png'))
    results['remedies'] = remedies(args.epochs, args.device)
    figures['clipping_polyak'] = plot_remedies(results['remedies'])
    print('plot:', _data.savefig(figures['clipping_polyak'], args.out, 'clipping_polyak.png'))
    results['figures'] = figures
    return results


# ---------------------------------------------------------------------------------------------
# Pictures: each optimizer keeps one colour, line style and marker in every figure

STYLES = {'SGD': ('tab:blue', '-', 'o'), 'momentum': ('tab:orange', '--', 's'),
          'Nesterov': ('tab:green', '-.', '^'), 'AdaGrad': ('tab:red', ':', 'v'),
          'RMSProp': ('tab:purple', '-', 'D'), 'AdaDelta': ('tab:brown', '--', 'P'),
          'Adam': ('black', '-.', '*')}


def _style(name, n_points):
    color, line, marker = STYLES[name]
    return dict(color=color, ls=line, marker=marker, markevery=max(1, n_points // 8), ms=4,
                lw=1.3, label=name)


def _contours(ax, f, name):
    if name == 'Rosenbrock':
        g0, g1 = numpy.meshgrid(numpy.linspace(-2, 2, 300), numpy.linspace(-1, 3, 300))
        ax.contour(g0, g1, f(g0, g1), levels=numpy.logspace(-1, 3.5, 20), colors='0.8',
                   linewidths=0.7)
    else:
        g0, g1 = numpy.meshgrid(numpy.linspace(-4.5, 4.5, 300), numpy.linspace(-3, 3, 300))
        ax.contour(g0, g1, f(g0, g1), levels=25, colors='0.8', linewidths=0.7)
    ax.set(xlim=(g0.min(), g0.max()), ylim=(g1.min(), g1.max()))


def plot_trajectories(paths):
    """The bowl and the saddle: contours with every optimizer's path (figure, 2 axes)."""
    fig, axes = _data.figure(1, 2, figsize=(12, 4.8))
    for ax, name in zip(axes, ('bowl', 'saddle')):
        f, start, _, minimum, _ = SURFACES[name]
        _contours(ax, f, name)
        for o, path in paths[name].items():
            ax.plot(path[:, 0], path[:, 1], **_style(o, len(path)))
        ax.plot(*start, 'ko', ms=6)
        if minimum is not None:
            ax.plot(*minimum, 'k*', ms=12)
        ax.set(title=name, xlabel='x', ylabel='y')
        ax.legend(fontsize=7, loc='lower right')
    return fig


def plot_rosenbrock(paths):
    """Small multiples: one panel per optimizer on Rosenbrock's contours (start, minimum,
    final distance), and a last panel of every distance to (1, 1) on a log scale, so that
    the seven paths along the same valley do not hide one another.  (figure, n + 1 axes)"""
    n = len(paths)
    cols = min(4, n + 1)
    rows = -(-(n + 1) // cols)
    fig, axes = _data.figure(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n + 1:]:
        fig.delaxes(ax)
    start, minimum = SURFACES['Rosenbrock'][1], SURFACES['Rosenbrock'][3]
    for ax, (o, path) in zip(axes, paths.items()):
        _contours(ax, rosenbrock, 'Rosenbrock')
        finite = path[numpy.isfinite(path).all(1)]
        ax.plot(finite[:, 0], finite[:, 1], **_style(o, len(finite)))
        ax.plot(*start, 'ko', ms=5)
        ax.plot(*minimum, marker='*', ms=12, color='gold', mec='k', ls='')
        dist = numpy.hypot(*(path[-1] - minimum))
        ax.set_title(f'{o}: ends {dist:.2g} from (1, 1)', fontsize=9)
        ax.tick_params(labelsize=7)
    ax = axes[n]
    for o, path in paths.items():
        ax.semilogy(_distance(path, minimum), **_style(o, len(path)))
    ax.set(xlabel='step', ylabel='distance to (1, 1)', title='all, log scale')
    ax.title.set_fontsize(9)
    ax.legend(fontsize=6)
    return fig


def _distance(path, point):
    """|p_t - point| for each step, floored at 1e-12 for a log scale."""
    return numpy.maximum(numpy.hypot(*(path - numpy.asarray(point)).T), 1e-12)


def plot_progress(paths):
    """Progress per step on a log scale, one panel per surface: f on the bowl (minimum 0),
    |y| at the saddle (the distance from the ridge that an escape must grow), and the
    distance to (1, 1) on Rosenbrock.  (figure, 3 axes; one curve per optimizer)"""
    fig, axes = _data.figure(1, 3, figsize=(15, 4.2))
    measures = {'bowl': ('f(x, y) = x^2 + 4 y^2', lambda p: numpy.maximum(bowl(*p.T), 1e-20)),
                'saddle': ('|y| (distance from the ridge y = 0)',
                           lambda p: numpy.maximum(numpy.abs(p[:, 1]), 1e-20)),
                'Rosenbrock': ('distance to the minimum (1, 1)',
                               lambda p: _distance(p, (1.0, 1.0)))}
    for ax, (name, (label, measure)) in zip(axes, measures.items()):
        for o, path in paths[name].items():
            ax.semilogy(measure(path), **_style(o, len(path)))
        ax.set(title=name, xlabel='step', ylabel=label)
        ax.legend(fontsize=7, ncol=2)
    return fig


if __name__ == '__main__':
    main()

"""Gradient checking: catching a wrong backward in a user-written layer.

A layer written as a custom ``autograd.Function`` supplies its own backward, and a
mistake there silently trains the wrong model.  ``autograd.gradcheck`` compares the
backward's Jacobian with central finite differences,

    dy/dx_k ~ (f(x + eps e_k) - f(x - eps e_k)) / (2 eps),   error O(eps^2)

(Aggarwal, *Neural Networks and Deep Learning*, sec. 3.2.10), in float64 so that rounding
does not swamp the comparison.  The layer is y = tanh(x W^T + b), whose backward is

    dz = dy * (1 - y^2),   dx = dz W,   dW = dz^T x,   db = sum over the batch of dz.

Three versions are checked:

    correct                  the formulas above: gradcheck and gradgradcheck pass
    wrong derivative         dz = dy * (1 - y): the derivative of tanh mistyped
    ignores grad_output      dz = 1 - y^2: drops the incoming gradient dy (chain rule)

The two wrong ones are caught (``GradcheckError``, whose message holds both Jacobians).
The plot puts the analytical Jacobian entries (from the backward) against the numerical
ones on symmetric-log axes, entries of both signs (the weights have both): the correct
layer lies on the diagonal, the wrong ones leave it.  Finally the correct layer, wrapped in an
``nn.Module``, trains a small regression to show it is usable as any built-in layer.

Run: python examples/gradcheck_demo.py [--epochs 200] [--out runs/gradcheck_demo]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class TanhLinear(autograd.Function):
    """y = tanh(x W^T + b) for x (n, in), W (out, in), b (out,): y (n, out)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        y = autograd.tanh(x @ weight.T + bias)
        ctx.save_for_backward(x, weight, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, y = ctx.saved_tensors
        grad_z = grad_y * (1 - y * y)           # tanh'(z) = 1 - tanh(z)^2
        return grad_z @ weight, grad_z.T @ x, grad_z.sum(0)


class WrongDerivative(TanhLinear):
    @staticmethod
    def backward(ctx, grad_y):
        x, weight, y = ctx.saved_tensors
        grad_z = grad_y * (1 - y)               # BUG: should be 1 - y^2
        return grad_z @ weight, grad_z.T @ x, grad_z.sum(0)


class IgnoresGradOutput(TanhLinear):
    @staticmethod
    def backward(ctx, grad_y):
        x, weight, y = ctx.saved_tensors
        grad_z = 1 - y * y                      # BUG: the chain rule needs grad_y * (...)
        return grad_z @ weight, grad_z.T @ x, grad_z.sum(0)


VERSIONS = {'correct': TanhLinear, 'wrong derivative': WrongDerivative,
            'ignores grad_output': IgnoresGradOutput}


class TanhLinearLayer(nn.Module):
    """The checked Function as a layer with its own parameters (init as ``nn.Linear``)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        ref = nn.Linear(in_features, out_features)
        self.weight, self.bias = ref.weight, ref.bias

    def forward(self, x):
        return TanhLinear.apply(x, self.weight, self.bias)


def jacobians(fn, x, eps=1e-6):
    """What gradcheck compares, for input x: the numerical Jacobian by central differences
    and the analytical one row by row from backward (vector-Jacobian products with unit
    vectors).  Both are lists of the (x.numel() * y.numel()) entries."""
    y = fn(x)
    flat = x.detach().reshape(-1)
    numerical = []
    for k in range(flat.numel()):
        step = autograd.zeros_like(flat)
        step[k] = eps
        plus = fn((flat + step).reshape(x.shape)).detach()
        minus = fn((flat - step).reshape(x.shape)).detach()
        numerical.append(((plus - minus) / (2 * eps)).reshape(-1))
    analytical = []
    for j in range(y.numel()):
        unit = autograd.zeros(y.numel(), dtype=y.dtype, device=y.device)
        unit[j] = 1.0
        g, = autograd.grad(y, x, unit.reshape(y.shape), retain_graph=True)
        analytical.append(g.reshape(-1))
    return (autograd.stack(numerical).reshape(-1).tolist(),
            autograd.stack(analytical).T.reshape(-1).tolist())


def plot_jacobians(jac, passed):
    """One panel per version: each Jacobian entry dy_i/dx_j, analytical (from backward)
    against numerical, on symmetric-log axes (linear within 1e-2 of 0, logarithmic beyond),
    so that entries of both signs and of every size are seen.  The entries that are zero by
    the layer's structure (output row i does not depend on input row j) are drawn apart:
    a backward that is right puts them at (0, 0).  Returns the figure."""
    fig, axes = _data.figure(1, len(jac), figsize=(4.2 * len(jac), 4.2))
    for ax, (name, (numerical, analytical)) in zip(axes, jac.items()):
        num, ana = numpy.array(numerical), numpy.array(analytical)
        zero = num == 0.0                   # exactly: x_j's row never reaches y_i's
        ax.plot(num[~zero], ana[~zero], 'o', ms=4, color='tab:blue',
                label='y_i depends on x_j')
        ax.plot(num[zero], ana[zero], 'x', ms=5, color='tab:red',
                label='zero by structure')
        lim = 1.5 * max(numpy.abs(num).max(), numpy.abs(ana).max())
        ax.plot([-lim, lim], [-lim, lim], 'k--', lw=0.8, label='analytical = numerical')
        for axis in ('x', 'y'):
            getattr(ax, f'set_{axis}scale')('symlog', linthresh=1e-2)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim),
               title=f'{name}: {"passes" if passed[name] else "caught"}',
               xlabel='numerical dy/dx (central differences)',
               ylabel='analytical dy/dx (backward)')
        ax.axhline(0, color='0.8', lw=0.5)
        ax.axvline(0, color='0.8', lw=0.5)
    axes[0].legend(fontsize=7, loc='upper left')    # its upper left is empty: y = x there
    return fig


def main(argv=None):
    args = _data.parser('gradcheck_demo', __doc__, epochs=200).parse_args(argv)
    autograd.manual_seed(args.seed)

    def f64(*shape):
        return autograd.randn(*shape, dtype=autograd.float64, device=args.device,
                              requires_grad=True)
    x, b = f64(4, 3), f64(2)
    # weights of both signs (|N(0, 1)| with a checkerboard of signs): the Jacobian entries
    # (1 - y^2) W then have both signs, and the check is seen to hold on either side of 0
    signs = autograd.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]], dtype=autograd.float64,
                            device=args.device)
    w = (autograd.randn(2, 3, dtype=autograd.float64, device=args.device).abs()
         * signs).requires_grad_()

    results, jac = {}, {}
    for name, fn in VERSIONS.items():
        numerical, analytical = jacobians(lambda t, fn=fn: fn.apply(t, w, b), x)
        jac[name] = (numerical, analytical)
        worst = max(abs(a - n) for a, n in zip(analytical, numerical))
        try:
            results[name] = autograd.gradcheck(fn.apply, (x, w, b))
            print(f'{name:20s} gradcheck passed (largest |analytical - numerical| '
                  f'for x: {worst:.1e})')
        except autograd.GradcheckError as err:      # its message holds both Jacobians
            results[name] = False
            first_line = str(err).splitlines()[0].rstrip(',')
            print(f'{name:20s} gradcheck caught it: {first_line} (largest '
                  f'|analytical - numerical| for x: {worst:.2f})')
    results['figure'] = plot_jacobians(jac, results)
    results['gradgradcheck'] = autograd.gradgradcheck(TanhLinear.apply, (x, w, b))
    print(f'correct: gradgradcheck {"passed" if results["gradgradcheck"] else "failed"} '
          '(the backward is written with tensor ops, so it differentiates again)')
    print('plot:', _data.savefig(results['figure'], args.out, 'jacobians.png'))

    # The checked layer in use: fit y = sin(x) on [-2, 2] with two of them and a Linear.
    model = nn.Sequential(TanhLinearLayer(1, 16), TanhLinearLayer(16, 16), nn.Linear(16, 1))
    model.to(args.device)
    X = autograd.linspace(-2, 2, 64, device=args.device).unsqueeze(1)
    y = autograd.sin(X)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(args.epochs):
        loss = nn.functional.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    results['fit_mse'] = loss.item()
    print(f'two TanhLinear layers fit sin(x): mean squared error {loss.item():.2e} '
          f'after {args.epochs} Adam steps')
    return results


if __name__ == '__main__':
    main()

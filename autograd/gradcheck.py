"""``gradcheck`` and ``gradgradcheck``: analytical gradients against finite differences.

The numerical Jacobian of output o with respect to input x is built one input element
at a time by central differences, J[k, :] = (f(x + eps e_k) - f(x - eps e_k)) / (2 eps),
whose error is O(eps^2) (Nocedal & Wright, Numerical Optimization, sec. 8.1).  The
analytical one is built one output element at a time by vector-Jacobian products with
unit vectors: row k of J^T is autograd.grad(o, x, grad_outputs=e_k).  Both are laid out
as PyTorch's: shape (x.numel(), o.numel()).  Use float64 inputs: in float32 the
rounding error of f, divided by 2 eps, swamps the tolerance.
"""
import warnings

import numpy

from .backend import CPU, to_numpy
from .engine import grad as _grad
from .tensor import Tensor, _make

__all__ = ['gradcheck', 'gradgradcheck', 'GradcheckError']


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` and :func:`gradgradcheck` when a check fails."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Check the gradients of ``func(*inputs)`` with respect to the ``inputs`` that require
    grad against central finite differences; each Jacobian entry must satisfy
    ``|analytical - numerical| <= atol + rtol * |numerical|``.

    Returns True, or raises :class:`GradcheckError` naming the output and input indices
    with both Jacobians (returns False instead when ``raise_exception=False``).  Also
    checks that backward is deterministic (within ``nondet_tol``) and that zero output
    gradients give zero input gradients.  Forward-mode, batched and fast-mode checks are
    not implemented here.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError('Expected at least one of check_forward_ad or check_backward_ad '
                             'to be True')
    for flag, name in ((check_forward_ad, 'check_forward_ad'),
                       (check_batched_grad, 'check_batched_grad'),
                       (check_batched_forward_grad, 'check_batched_forward_grad'),
                       (fast_mode, 'fast_mode'), (masked, 'masked')):
        if flag:
            raise NotImplementedError(f'gradcheck: {name}=True is not supported (this engine '
                                      'has reverse mode only)')
    try:
        return _gradcheck(func, _as_tuple(inputs), eps, atol, rtol, nondet_tol,
                          check_undefined_grad, check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: runs :func:`gradcheck` on the function
    ``(inputs, v) -> autograd.grad(func(inputs), inputs, v, create_graph=True)``.

    ``grad_outputs`` (the v, one per differentiable output) default to random float64
    tensors in [-1, 1) that require grad, so the check covers the derivatives with
    respect to them too.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError('Expected at least one of check_fwd_over_rev or '
                             'check_rev_over_rev to be True')
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = numpy.random.default_rng(0)       # fixed: a failing check must reproduce
        outs = _differentiable_outputs(func(*inputs))
        grad_outputs = tuple(_random_like(o, rng, gen_non_contig_grad_outputs) for o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_inputs = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args):
        ins, vs = args[:-n_out] if n_out else args, args[-n_out:] if n_out else ()
        outputs = _differentiable_outputs(func(*ins))
        gs = _grad(outputs, [ins[i] for i in diff_inputs], vs, create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, masked=masked)


# ----------------------------------------------------------------------------- the checks

def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_zero_grad, check_grad_dtypes):
    diff_inputs = _check_inputs(inputs)
    func_out = _as_tuple(func(*inputs))
    outputs = _differentiable_outputs(func_out)
    float_outs = [o for o in func_out if _is_float_tensor(o)]
    numerical = _numerical_jacobian(func, inputs, diff_inputs, eps,
                                    [o._data.size for o in float_outs])     # [input][output]
    if not outputs:
        if any(numpy.any(j != 0) for per_in in numerical for j in per_in):
            raise GradcheckError('Numerical gradient for function expected to be zero')
        return True
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobian(o, diff_inputs, nondet_tol, check_grad_dtypes)
        col = next(k for k, f in enumerate(float_outs) if f is o)
        for j, a in enumerate(analytical):
            n = numerical[j][col]
            if not numpy.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f'Jacobian mismatch for output {i:d} with respect to input {j:d},\n'
                    f'numerical:{_show(n)}\nanalytical:{_show(a)}\n')
    _check_zero_grad_outputs(outputs, diff_inputs)
    return True


def _check_inputs(inputs):
    """The inputs that require grad; warns about non-float64 ones as PyTorch does."""
    diff = []
    for idx, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != numpy.float64:
                warnings.warn(f'Input #{idx} requires gradient and is not a double precision '
                              'floating point or complex. This check will likely fail if all '
                              'the inputs are not of double precision floating point or '
                              'complex. ', stacklevel=4)
            # (an empty array overlaps nothing; NumPy gives it zero strides)
            if x._data.size and any(st == 0 and sz > 1
                                    for st, sz in zip(x._data.strides, x._data.shape)):
                raise RuntimeError(f'The {idx}th input has a dimension with stride 0. gradcheck '
                                   'only supports inputs that are non-overlapping to be able to '
                                   'compute the numerical gradients correctly. You should call '
                                   '.contiguous on the input before passing it to gradcheck.')
            diff.append(x)
    if not diff:
        raise ValueError('gradcheck expects at least one input tensor to require gradient, but '
                         'none of them have requires_grad=True.')
    return diff


def _numerical_jacobian(func, inputs, diff_inputs, eps, out_sizes):
    """jac[j][o]: (x_j.numel(), out_o.numel()) host array for every floating output o."""
    jac = []
    for x in diff_inputs:
        data = x._data
        cols = []
        for idx in numpy.ndindex(data.shape):
            orig = data[idx].copy()
            data[idx] = orig - eps              # perturb the storage itself, as PyTorch does
            before = _float_outputs(func(*inputs))
            data[idx] = orig + eps
            after = _float_outputs(func(*inputs))
            data[idx] = orig
            cols.append([((b - a) / (2 * eps)).reshape(-1) for a, b in zip(before, after)])
        jac.append([numpy.stack([c[o] for c in cols]) if cols else numpy.zeros((0, size))
                    for o, size in enumerate(out_sizes)])
    return jac


def _analytical_jacobian(output, diff_inputs, nondet_tol, check_grad_dtypes):
    """Per input, the (x.numel(), output.numel()) Jacobian from unit-vector VJPs, computed
    twice to catch a backward that is not deterministic."""
    first, types_ok, sizes_ok = _vjp_rows(output, diff_inputs)
    second, _, _ = _vjp_rows(output, diff_inputs)
    if not types_ok and check_grad_dtypes:
        raise GradcheckError('Gradient has dtype mismatch')
    if not sizes_ok:
        raise GradcheckError('Analytical gradient has incorrect size')
    for a, b in zip(first, second):
        if a.size and numpy.max(numpy.abs(a - b)) > nondet_tol:
            raise GradcheckError(
                'Backward is not reentrant, i.e., running backward with same input and '
                'grad_output multiple times gives different values, although analytical '
                f'gradient matches numerical gradient.The tolerance for nondeterminism was '
                f'{nondet_tol}.')
    return first


def _vjp_rows(output, diff_inputs):
    xp, dev = output._device.xp, output._device
    n = output._data.size
    jac = [numpy.zeros((x._data.size, n), dtype=_host_dtype(output, x)) for x in diff_inputs]
    types_ok = sizes_ok = True
    for k in range(n):
        e = xp.zeros(n, dtype=output._data.dtype)
        e[k] = 1
        gs = _grad(output, diff_inputs, _make(e.reshape(output._data.shape), dev),
                   retain_graph=True, allow_unused=True)
        for j, (g, x) in enumerate(zip(gs, diff_inputs)):
            if g is None:
                continue
            if g._data.dtype != x._data.dtype:
                types_ok = False
            if g._data.shape != x._data.shape:
                sizes_ok = False
                continue
            jac[j][:, k] = to_numpy(g._data).reshape(-1)
    return jac, types_ok, sizes_ok


def _check_zero_grad_outputs(outputs, diff_inputs):
    """Backward must scale by grad_output: zero output gradients give zero input gradients
    of the inputs' dtype, device and shape."""
    zeros = [_make(o._device.xp.zeros_like(o._data), o._device) for o in outputs]
    gs = _grad(outputs, diff_inputs, zeros, allow_unused=True)
    for g, x in zip(gs, diff_inputs):
        if g is None:
            continue
        if g._device.xp.any(g._data != 0):
            raise GradcheckError('backward not multiplied by grad_output')
        if g._data.dtype != x._data.dtype:
            raise GradcheckError('grad is incorrect type')
        if g._device != x._device:
            raise GradcheckError('grad is incorrect device')
        if g._data.shape != x._data.shape:
            raise GradcheckError('grad is incorrect size')


# ----------------------------------------------------------------------------- helpers

def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float_tensor(o):
    return isinstance(o, Tensor) and o._data.dtype.kind in 'fV'


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.requires_grad)


def _float_outputs(out):
    return [to_numpy(o._data).astype(numpy.float64) for o in _as_tuple(out)
            if _is_float_tensor(o)]


def _host_dtype(output, x):
    return numpy.promote_types(output._data.dtype, x._data.dtype)


def _show(jac):
    return repr(_make(numpy.asarray(jac), CPU))


def _random_like(o, rng, non_contiguous):
    """A float tensor of ``o``'s shape and device, uniform in [-1, 1), requiring grad."""
    dtype = o._data.dtype if o._data.dtype.kind == 'f' else numpy.float64
    host = rng.uniform(-1, 1, o._data.shape).astype(dtype)
    if non_contiguous and host.ndim:
        wide = numpy.empty(host.shape[:-1] + (2 * host.shape[-1],), dtype)
        wide[..., ::2] = host
        host = wide[..., ::2]           # the same values with a stride-2 last dim
    t = _make(o._device.asarray(host), o._device)
    t.requires_grad_()
    return t

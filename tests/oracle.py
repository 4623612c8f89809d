"""The differential-testing harness: run the same program through PyTorch and autograd.

Our API mirrors PyTorch's, so one function ``fn(lib, *tensors)`` works with both
``lib=torch`` and ``lib=autograd``.  ``check_op`` compares the forward values, the
first-order gradients of a random weighted sum of the outputs, and the second-order
gradients (the gradient of a random weighted sum of those gradients).

Without PyTorch installed, ``torch`` here (tests import it from this module; PyTorch's
submodules through ``torch_module``) is a stand-in whose every use skips the test that
makes it, saying so; ``each_library`` runs a test's expectations on ours alone; and
``check_op`` checks our side alone: the forward and backward run, each gradient has its
input's shape and dtype, and on float64 copies of the inputs the gradients match central
finite differences (``autograd.gradcheck``, and ``autograd.gradgradcheck`` for second
order).  Forward values cannot be compared without the oracle, nor can ``check_raises``
compare the exception's type with PyTorch's (ours must still raise, with the message
given).  A call where nothing but the running could be checked (forward values alone,
only integer inputs, points where the function is not differentiable, an error with no
type or message given) is collected in ``UNCHECKED``, and tests/conftest.py reports its
test as skipped, saying what, once everything else in it has passed.
"""
import importlib

import numpy as np
import pytest

import autograd

NO_TORCH = 'needs PyTorch, the oracle (pip install -e .[test])'


class _MissingTorch:
    """Stands for a PyTorch module where PyTorch is not installed: using any of its
    attributes skips the running test (or, at import time, its whole module)."""

    def __init__(self, name='torch'):
        self._name = name

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        pytest.skip(f'{NO_TORCH}: uses {self._name}.{name}', allow_module_level=True)

    def __bool__(self):
        return False

    def __repr__(self):
        return f'<{self._name}: PyTorch is not installed>'


try:
    import torch
except ImportError:
    torch = _MissingTorch()
HAVE_TORCH = not isinstance(torch, _MissingTorch)


def torch_module(name):
    """The PyTorch module ``name`` (say 'torch.utils.data'), or its stand-in."""
    return importlib.import_module(name) if HAVE_TORCH else _MissingTorch(name)


def functional(lib):
    """``lib``'s ``nn.functional``: PyTorch's for ``torch``, ours otherwise."""
    if lib is torch:
        return torch.nn.functional
    import nn.functional
    return nn.functional


def is_torch_tensor(x):
    return HAVE_TORCH and isinstance(x, torch.Tensor)


def each_library(*subjects):
    """The ``subjects`` (libraries, or tuples of their modules) that are installed: all of
    them, or without PyTorch those that are not PyTorch's.  For a test that holds each
    library to the same written expectations (``for lib in each_library(torch, autograd)``),
    so that without PyTorch ours is still held to them."""
    def missing(s):
        return any(isinstance(m, _MissingTorch) for m in (s if isinstance(s, tuple) else (s,)))
    return tuple(s for s in subjects if not missing(s))


# What check_op and check_raises could not check in the running test without PyTorch;
# tests/conftest.py empties it before each test and reads it after.
UNCHECKED = []

TOL = {
    'float64': dict(rtol=1e-9, atol=1e-11),
    'float32': dict(rtol=2e-5, atol=2e-6),
    'float16': dict(rtol=2e-3, atol=2e-3),
}


def to_numpy(t):
    """Host copy of a tensor of either library (None passes through)."""
    if t is None:
        return None
    if is_torch_tensor(t):
        return t.detach().cpu().numpy(force=True)      # force: PyTorch's lazy zero tensors
    return t.detach().cpu().numpy()


def rand(*shape, low=-2.0, high=2.0, seed=None, dtype='float64', away_from=None):
    """Uniform test values; ``away_from=v`` keeps them at least 0.1 from v (for kinks)."""
    rng = np.random.default_rng(seed if seed is not None else
                                abs(hash((shape, low, high))) % 2**32)
    x = rng.uniform(low, high, shape)
    if away_from is not None:
        x = np.where(np.abs(x - away_from) < 0.1, away_from + 0.1 + np.abs(x - away_from), x)
    return x.astype(dtype)


def _wrap(lib, arrays, requires_grad):
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            rg = requires_grad and a.dtype.kind == 'f'
            if lib is torch:
                out.append(torch.tensor(a, requires_grad=rg))
            else:
                out.append(autograd.tensor(a, requires_grad=rg))
        else:
            out.append(a)
    return out


def _outputs(out):
    if isinstance(out, (tuple, list)):        # includes torch's (values, indices) results
        return list(out)
    return [out]


def assert_close(ours, theirs, what, rtol, atol):
    a, b = to_numpy(ours), to_numpy(theirs)
    if a is None or b is None:
        # an unused input: None on one side may be zeros on the other
        other = a if b is None else b
        if other is not None:
            assert np.all(other == 0), f'{what}: one side is None, the other nonzero'
        return
    assert a.shape == b.shape, f'{what}: shape {a.shape} != torch {b.shape}'
    assert str(a.dtype) == str(b.dtype), f'{what}: dtype {a.dtype} != torch {b.dtype}'
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def check_op(fn, *arrays, grad=True, double=True, rtol=None, atol=None, seed=0,
             derivative=True):
    """Compare ``fn`` through PyTorch and autograd on ``arrays`` (NumPy inputs; floating
    ones require grad).  Non-array arguments are passed through unchanged.  Without
    PyTorch: our side alone, see ``check_alone``; ``derivative=False`` says that the
    gradient PyTorch gives is, by its convention, not the derivative of ``fn`` (``fn``
    detaches a value it computes, writes duplicate indices), so finite differences cannot
    check it."""
    if not HAVE_TORCH:
        return check_alone(fn, *arrays, grad=grad, double=double, seed=seed,
                           derivative=derivative)
    results = {lib: _run(lib, fn, arrays, grad, double, seed)[0] for lib in (torch, autograd)}
    theirs, ours = results[torch], results[autograd]
    # tolerance of the least precise floating dtype among inputs and outputs
    dtypes = {str(a.dtype) for a in arrays if isinstance(a, np.ndarray)} | \
        {str(to_numpy(o).dtype) for o in theirs['out']}
    dtype = next((d for d in ('float16', 'float32', 'float64') if d in dtypes), 'float64')
    tol = dict(TOL[dtype])
    if rtol is not None:
        tol['rtol'] = rtol
    if atol is not None:
        tol['atol'] = atol
    assert len(ours['out']) == len(theirs['out'])
    for i, (a, b) in enumerate(zip(ours['out'], theirs['out'])):
        assert_close(a, b, f'forward output {i}', **tol)
    for key in ('grad', 'grad2'):
        assert (key in ours) == (key in theirs) or key == 'grad2', \
            f'{key}: computed by one library only'
        for i, (a, b) in enumerate(zip(ours.get(key, ()), theirs.get(key, ()))):
            assert_close(a, b, f'{key} of input {i}', **tol)
    return results


# ----------------------------------------------------------------------------- without PyTorch

def check_alone(fn, *arrays, grad=True, double=True, seed=0, derivative=True):
    """``check_op`` without an oracle: run ``fn`` through autograd on ``arrays`` (forward,
    then the gradient of a random weighted sum of the outputs, with its own gradient where
    ``double``; each gradient must have its input's shape and dtype), then check those
    derivatives against finite differences on float64 copies of the floating inputs:
    ``autograd.gradcheck``, and ``autograd.gradgradcheck`` where ``double``.  Returns
    ``{autograd: {'out': ..., 'grad': ..., 'grad2': ...}}`` as ``check_op`` does.

    Forward values are not checked; neither are gradients where ``grad`` is False, where no
    input is floating, where the outputs are not differentiable, or where the function is
    not differentiable at the sample points (the one-sided differences disagree), or where
    the gradient is not the derivative (``derivative=False``): each such gap goes to
    ``UNCHECKED``."""
    res, diff_inputs = _run(autograd, fn, arrays, grad, double, seed)
    for key in ('grad', 'grad2'):
        _assert_like_inputs(res.get(key, ()), diff_inputs, key)
    float_outs = [o for o in res['out'] if o.requires_grad]
    results = {autograd: res}
    if not grad:
        UNCHECKED.append('forward values (grad=False)')
    elif not diff_inputs:
        UNCHECKED.append('forward values (no floating-point input to differentiate)')
    elif not float_outs:
        UNCHECKED.append('forward values (no differentiable output)')
    elif not derivative:
        UNCHECKED.append("gradients (PyTorch's convention, not the derivative)")
    else:
        _gradchecks(fn, arrays, double)
    return results


def _assert_like_inputs(grads, inputs, what):
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is not None:
            assert g.shape == x.shape, f'{what} of input {i}: shape {g.shape} != {x.shape}'
            assert g.dtype == x.dtype, f'{what} of input {i}: dtype {g.dtype} != {x.dtype}'


def _gradchecks(fn, arrays, double):
    """gradcheck (and gradgradcheck) of ``fn`` at float64 copies of the floating arrays."""
    x64 = [a.astype(np.float64) if _is_float(a) else a for a in arrays]

    def tensors(values):
        return [autograd.tensor(a, requires_grad=_is_float(a)) if isinstance(a, np.ndarray)
                else a for a in values]

    def f(*ts):     # empty outputs dropped: they add nothing, and NumPy's zero strides
        return tuple(o for o in _outputs(fn(autograd, *ts)) if o.numel())    # upset gradcheck

    def host(values):       # fn's floating outputs at these input values, as NumPy arrays
        with autograd.no_grad():
            return [to_numpy(o).astype(np.float64) for o in f(*tensors(values))
                    if o.dtype.is_floating_point]

    outs = f(*tensors(x64))
    odd = sorted({str(o.dtype) for o in outs if o.dtype.is_floating_point and
                  o.dtype != autograd.float64})
    if odd:
        UNCHECKED.append(f'gradients ({"/".join(odd)} output from float64 inputs: too coarse '
                         'for finite differences)')
        return
    if not all(np.isfinite(v).all() for v in host(x64)):
        UNCHECKED.append('gradients (non-finite output at the sample points)')
        return
    if not _passes(autograd.gradcheck, f, tensors(x64), host, x64, 'gradients'):
        return
    if not double:
        return
    w = [np.random.default_rng(1).standard_normal(tuple(o.shape))
         for o in outs if o.requires_grad]

    def first_derivatives(values):      # the gradient of sum(w * outputs) at these values
        ts = tensors(values)
        outs = [o for o in f(*ts) if o.requires_grad]
        loss = sum((o * autograd.tensor(v)).sum() for o, v in zip(outs, w))
        diff = [t for t in ts if getattr(t, 'requires_grad', False)]
        return [np.zeros(t.shape) if g is None else to_numpy(g).astype(np.float64)
                for g, t in zip(autograd.grad(loss, diff, allow_unused=True), diff)]

    _passes(autograd.gradgradcheck, f, tensors(x64), first_derivatives, x64,
            'second derivatives')


def _passes(check, f, inputs, host, x64, what):
    """Run ``check(f, inputs)``.  A mismatch where the function (``host``) is not
    differentiable at the sample points is noted as unchecked (returns False); elsewhere it
    fails the test."""
    try:
        return check(f, inputs)
    except Exception as e:      # a mismatch, or fn raising for a perturbed input
        kink = _kink(host, x64)
        if kink is None and isinstance(e, autograd.GradcheckError):
            raise AssertionError(f'{what} differ from finite differences: {e}') from None
        if kink is None:
            raise
        UNCHECKED.append(f'{what} (the one-sided differences disagree: not differentiable '
                         f'at the sample points, or computed below float64: {kink})')
        return False


def _kink(host, x64, h=1e-6, rtol=1e-3, atol=1e-5):
    """Where ``host`` (float64 arrays in, arrays out) is not differentiable at ``x64``: the
    first input element whose one-sided differences, right and left, over steps h and 10 h,
    disagree (a kink, or a jump), described; None if there is none."""
    at = host(x64)
    for i, a in enumerate(x64):
        if not _is_float(a):
            continue
        for idx in np.ndindex(a.shape):
            slopes = []
            for step in (h, 10 * h, -h, -10 * h):
                moved = list(x64)
                moved[i] = a.copy()
                moved[i][idx] += step
                try:
                    slopes.append([(m - c) / step for m, c in zip(host(moved), at)])
                except Exception as e:
                    return f'input {i} at {idx} moved by {step:g}: {type(e).__name__}: {e}'

            for o, ref in enumerate(slopes[0]):
                for step, other in zip(('10h right', 'h left', '10h left'), slopes[1:]):
                    bad = ~np.isclose(other[o], ref, rtol=rtol, atol=atol)
                    if bad.any():
                        k = np.flatnonzero(bad)[0]
                        return (f'input {i} at {idx}, output {o}: slope {ref.flat[k]:.4g} '
                                f'over h right, {other[o].flat[k]:.4g} over {step}')
    return None


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == 'f'


def _run(lib, fn, arrays, grad, double, seed):
    """``fn`` through ``lib``: {'out': outputs, 'grad': the gradients of a random weighted
    sum of the outputs, 'grad2': the gradients of a random weighted sum of those}, and the
    inputs that require grad.  The weights come from ``seed``: the same for both
    libraries."""
    rng = np.random.default_rng(seed)
    xs = _wrap(lib, arrays, grad)
    outs = _outputs(fn(lib, *xs))
    res = {'out': outs}
    diff_inputs = [x for x in xs if getattr(x, 'requires_grad', False)]
    float_outs = [o for o in outs if o.requires_grad]
    if grad and diff_inputs and float_outs:
        ws = [lib.tensor(rng_weights(rng, o), dtype=o.dtype) for o in float_outs]
        loss = sum((o * w).sum() for o, w in zip(float_outs, ws))
        gs = lib.autograd.grad(loss, diff_inputs, create_graph=double, allow_unused=True) \
            if lib is torch else autograd.grad(loss, diff_inputs, create_graph=double,
                                               allow_unused=True)
        res['grad'] = gs
        if double:
            used = [(g, x) for g, x in zip(gs, diff_inputs) if g is not None and
                    g.requires_grad]
            if used:
                vs = [lib.tensor(rng_weights(rng, g), dtype=g.dtype) for g, _ in used]
                loss2 = sum((g * v).sum() for (g, _), v in zip(used, vs))
                g2 = (torch.autograd.grad if lib is torch else autograd.grad)(
                    loss2, diff_inputs, allow_unused=True)
                res['grad2'] = g2
    return res, diff_inputs


def rng_weights(rng, t):
    return rng.standard_normal(tuple(t.shape))


def check_raises(fn, *arrays, match=None, exc=None):
    """Both libraries raise on ``fn``; ours with PyTorch's exception type.  Without
    PyTorch: ours raises ``exc`` (any exception if None) matching ``match``; with neither
    given, which exception it raises goes unchecked."""
    if not HAVE_TORCH:
        with pytest.raises(exc or Exception, match=match):
            try:
                fn(autograd, *_wrap(autograd, arrays, False))
            finally:
                await_checks()
        if exc is None and match is None:
            UNCHECKED.append('which exception (no type or message given: PyTorch decides)')
        return
    xs_t = _wrap(torch, arrays, False)
    with pytest.raises(Exception) as theirs:
        fn(torch, *xs_t)
    xs_a = _wrap(autograd, arrays, False)
    expected = exc or type(theirs.value)
    with pytest.raises(expected, match=match):
        try:
            fn(autograd, *xs_a)
        finally:
            await_checks()


def await_checks():
    """On a GPU, data checks (index bounds, target ranges) fail at the next synchronisation,
    as PyTorch's device-side asserts do (autograd.extend.check_data)."""
    if autograd.get_default_device().type == 'cuda':
        autograd.cuda.synchronize()

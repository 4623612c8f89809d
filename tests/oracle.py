"""The differential-testing harness: run the same program through PyTorch and autograd.

Our API mirrors PyTorch's, so one function ``fn(lib, *tensors)`` works with both
``lib=torch`` and ``lib=autograd``.  ``check_op`` compares the forward values, the
first-order gradients of a random weighted sum of the outputs, and the second-order
gradients (the gradient of a random weighted sum of those gradients).
"""
import numpy as np
import pytest

import autograd

torch = pytest.importorskip('torch')

TOL = {
    'float64': dict(rtol=1e-9, atol=1e-11),
    'float32': dict(rtol=2e-5, atol=2e-6),
    'float16': dict(rtol=2e-3, atol=2e-3),
}


def to_numpy(t):
    """Host copy of a tensor of either library (None passes through)."""
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
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


def check_op(fn, *arrays, grad=True, double=True, rtol=None, atol=None, seed=0):
    """Compare ``fn`` through PyTorch and autograd on ``arrays`` (NumPy inputs; floating
    ones require grad).  Non-array arguments are passed through unchanged."""
    rng = np.random.default_rng(seed)
    results = {}
    for lib in (torch, autograd):
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
        results[lib] = res
        rng = np.random.default_rng(seed)      # same weights for both libraries
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


def rng_weights(rng, t):
    return rng.standard_normal(tuple(t.shape))


def check_raises(fn, *arrays, match=None, exc=None):
    """Both libraries raise on ``fn``; ours with PyTorch's exception type."""
    xs_t = _wrap(torch, arrays, False)
    with pytest.raises(Exception) as theirs:
        fn(torch, *xs_t)
    xs_a = _wrap(autograd, arrays, False)
    expected = exc or type(theirs.value)
    with pytest.raises(expected, match=match):
        fn(autograd, *xs_a)

"""The engine's fast paths keep PyTorch's behaviour: what the speed work (issue 19) changed
is checked here against PyTorch and against NumPy's own state."""
import warnings

import numpy as np
import pytest

import autograd
from oracle import check_op, torch

EXTREMES = np.array([1e38, np.inf, 0.0, -np.inf, 3.0, np.nan], dtype=np.float32)
OTHERS = np.array([1e38, np.inf, np.inf, -np.inf, -1e38, 1.0], dtype=np.float32)


@pytest.mark.parametrize('fn', [
    lambda lib, a, b: a + b, lambda lib, a, b: a - b, lambda lib, a, b: a * b,
    lambda lib, a, b: lib.add(a, b, alpha=1e30), lambda lib, a, b: lib.sub(a, b, alpha=-1e30),
    lambda lib, a, b: (a * b - a) * 1e30 + b,
], ids=['add', 'sub', 'mul', 'add-alpha', 'sub-alpha', 'chain'])
def test_arithmetic_at_overflow_and_inf_is_silent_and_matches_pytorch(fn):
    """inf - inf, 0 * inf and float32 overflow: PyTorch's values (NaN, inf), no warning
    from NumPy, forward or backward."""
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        ours = check_op(fn, EXTREMES, OTHERS, double=False) if torch else None
        a = autograd.tensor(EXTREMES, requires_grad=True)
        b = autograd.tensor(OTHERS, requires_grad=True)
        fn(autograd, a, b).sum().backward()
    assert ours is None or ours[autograd]['out'][0].shape == (6,)


def test_numpy_error_state_is_restored_after_forward_backward_and_errors():
    """The forwards and the sweep set NumPy's error state directly; the caller's state
    (here: raise on everything) is back after each, also after an op raised."""
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    with np.errstate(all='raise'):
        before = np.geterr()
        y = a * a + a - a
        assert np.geterr() == before
        y.sum().backward()
        assert np.geterr() == before
        for op in (lambda: a + autograd.ones(3), lambda: a * autograd.ones(3),
                   lambda: a - autograd.ones(3)):
            with pytest.raises(RuntimeError, match='must match the size'):
                op()
            assert np.geterr() == before
        with pytest.raises(FloatingPointError):    # the caller's own NumPy code still raises
            np.array([1.0]) / np.array([0.0])
    assert a.grad.tolist() == [2.0 * 1.0 + 1 - 1, 2.0 * 2.0 + 1 - 1]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sigmoid_matches_pytorch_in_the_tails(dtype):
    """sigmoid as 1 / (1 + e^-x), PyTorch's formula: its values where e^-x overflows (0) and
    where the result is subnormal, no warnings, and its gradient and second derivative."""
    x = np.array([-1000.0, -745.0, -720.0, -700.0, -100.0, -88.0, -87.0, -30.0, -5.0, 0.0,
                  5.0, 20.0, 40.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        check_op(lambda lib, x: lib.sigmoid(x), x)
        check_op(lambda lib, x: lib.sigmoid(x * 0.01) * x, x[4:-1])
    if torch:
        ours = autograd.sigmoid(autograd.tensor(x)).cpu().numpy()
        theirs = torch.sigmoid(torch.tensor(x)).numpy()
        assert np.array_equal(ours, theirs) or np.allclose(ours, theirs, rtol=1e-6, atol=0)


def test_sigmoid_of_integers_and_0d():
    """Integer input is read as the default float; a 0-d input gives a 0-d result."""
    assert autograd.sigmoid(autograd.tensor(0)).item() == 0.5
    out = autograd.sigmoid(autograd.tensor([0, 1]))
    assert out.dtype == autograd.float32
    assert np.allclose(out.cpu().numpy(), [0.5, 1 / (1 + np.exp(-1.0))])


def _erf_reference(x):
    """erf in double precision, from the standard library (independent of NumPy/SciPy)."""
    import math
    return np.array([math.erf(v) for v in x.astype(np.float64).ravel()]).reshape(x.shape)


def test_float32_erf_of_large_arrays_is_within_8_ulp():
    """Large float32 arrays take a vectorized rational approximation on the CPU: within
    8 ulp of erf in double, over [-6, 6], tiny magnitudes, signed zeros, inf and NaN."""
    x = np.concatenate([np.linspace(-6, 6, 20001), 10.0 ** np.arange(-40, 1, 0.25),
                        -(10.0 ** np.arange(-40, 1, 0.25)),
                        [0.0, -0.0, np.inf, -np.inf, 3e38, -3e38]]).astype(np.float32)
    ours = autograd.erf(autograd.tensor(x, device='cpu')).numpy()
    ref = _erf_reference(x)
    assert ours.dtype == np.float32
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert (np.abs(ours - ref) / ulp).max() <= 8
    assert np.signbit(ours[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()
    assert np.isnan(autograd.erf(autograd.tensor(np.full(100, np.nan, np.float32))).cpu().numpy()).all()


@pytest.mark.parametrize('approximate', ['none'])
def test_gelu_of_a_gpt_sized_batch_matches_pytorch(approximate):
    """GELU on (8, 32, 256) float32 (the fast erf's path): values, gradient and second
    derivative against PyTorch."""
    x = np.random.default_rng(0).standard_normal((8, 32, 256)).astype(np.float32) * 3
    check_op(lambda lib, x: lib.nn.functional.gelu(x, approximate=approximate)
             if lib is torch else __import__('nn').functional.gelu(x, approximate=approximate), x)
    check_op(lambda lib, x: lib.erf(x), x)

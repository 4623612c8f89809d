"""SGD's updates as PyTorch's ``add_(x, alpha=)`` (issue 19): ``autograd.extend.axpy``
adds ``alpha * x`` in one fused pass (BLAS's axpy, rounded once, as PyTorch's CPU kernels)
for contiguous float32/float64 NumPy arrays, else as a product and a sum.  Against
PyTorch: the parameters after several steps, bit for bit where the fused pass runs, over
odd sizes, 0-d and empty parameters, dampening, Nesterov, weight decay and maximize; and
the fallback on non-contiguous, float16 and device arrays."""
import numpy as np
import pytest

import autograd
import optim
from autograd.extend import array_of, axpy
from oracle import torch

SHAPES = [(7,), (13, 5), (), (0, 3), (256, 33)]
OPTIONS = [dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
           dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2),
           dict(lr=0.02, momentum=0.5, maximize=True)]


def _steps(lib, O, dtype, kwargs, n=4):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in SHAPES]
    opt = O(params, **kwargs)
    for _ in range(n):
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
        opt.step()
    return [np.asarray(p.detach().tolist(), dtype=dtype).reshape(tuple(p.shape))
            for p in params]


@pytest.mark.parametrize('kwargs', OPTIONS)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sgd_matches_pytorch(kwargs, dtype):
    ours = _steps(autograd, optim.SGD, dtype, kwargs)
    theirs = _steps(torch, torch.optim.SGD, dtype, kwargs)
    tol = 1e-6 if dtype == 'float32' else 1e-14
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_fused_update_equals_pytorch_bit_for_bit():
    """Where SciPy's BLAS serves it (the NumPy device), plain SGD's update of a float32
    weight is PyTorch's to the bit: both round alpha * x + y once."""
    pytest.importorskip('scipy.linalg')
    rng = np.random.default_rng(1)
    w = rng.standard_normal((256, 784)).astype(np.float32)
    g = rng.standard_normal((256, 784)).astype(np.float32)
    y = w.copy()
    axpy(-0.01, g, y)
    expected = torch.tensor(w).add_(torch.tensor(g), alpha=-0.01).numpy()
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16'])
def test_axpy_in_place_on_any_layout(dtype):
    """Non-contiguous targets and sources, float16, 0-d and empty arrays: in place, and
    alpha * x + y to rounding (against PyTorch's add_)."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 8)).astype(dtype)
    xs = rng.standard_normal((6, 8)).astype(dtype)
    cases = [(base.copy(), xs), (base.copy()[:, ::2], xs[:, 1::2]), (base.copy().T, xs.T),
             (base.copy()[2, 3:4].reshape(()), xs[0, 0:1].reshape(())),
             (base.copy()[:0], xs[:0])]
    tol = {'float16': 1e-3, 'float32': 1e-6, 'float64': 1e-15}[dtype]
    for y, x in cases:
        expected = torch.tensor(np.array(y)).add_(torch.tensor(np.array(x)), alpha=0.3).numpy()
        before = y.__array_interface__['data'][0]
        out = axpy(0.3, x, y)
        assert out is y and y.__array_interface__['data'][0] == before
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


def test_axpy_on_device_tensors_data():
    """On the test device (the CuPy stand-in on the cuda leg) the arrays behind tensors."""
    p = autograd.tensor([1.0, 2.0, 3.0])
    y = array_of(p)
    axpy(-2.0, array_of(autograd.tensor([1.0, 1.0, 0.5])), y)
    assert p.tolist() == [-1.0, 0.0, 2.0]

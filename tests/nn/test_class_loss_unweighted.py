"""Cross-entropy and NLL on (N, C) logits whose class-index targets are all in range, with
no class weights (issue 19): on NumPy one comparison of the targets decides, and the loss
then runs with no mask of ignored rows and no weights.  Against PyTorch (values,
gradients, second order), and bit for bit against the general path (the same loss with
weights of 1, which builds the mask and the weights), with an ignore_index inside [0, C)
that no target uses, targets as uint8, batch 1, one class, odd sizes, non-contiguous
logits and float32/float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from oracle import check_op, functional as F


pytestmark = pytest.mark.usefixtures('no_numpy_warnings')


def _case(n, C, dtype, seed=0):
    rng = np.random.default_rng(seed + 31 * n + C)
    return (rng.standard_normal((n, C)) * 3).astype(dtype), rng.integers(0, C, n)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 9), C=st.sampled_from([1, 2, 5, 10, 27]),
       reduction=st.sampled_from(['mean', 'sum', 'none']),
       dtype=st.sampled_from(['float64', 'float32']), fn=st.sampled_from(['ce', 'nll']),
       ignore_index=st.sampled_from([-100, -1, 300]))
def test_against_pytorch_to_second_order(n, C, reduction, dtype, fn, ignore_index):
    x, y = _case(n, C, dtype)

    def loss(lib, x):
        f = F(lib).cross_entropy if fn == 'ce' else F(lib).nll_loss
        return f(x, lib.tensor(y), ignore_index=ignore_index, reduction=reduction)
    check_op(loss, x)


def _loss_and_grad(x, y, reduction, fn, **kw):
    xt = autograd.tensor(x, requires_grad=True)
    f = nn.functional.cross_entropy if fn == 'ce' else nn.functional.nll_loss
    out = f(xt, y, reduction=reduction, **kw)
    g = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(x.dtype)
    out.backward(autograd.tensor(g))
    return out.detach().cpu().numpy(), xt.grad.cpu().numpy()


@pytest.mark.parametrize('fn', ['ce', 'nll'])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n,C', [(1, 1), (1, 10), (64, 10), (37, 27), (5, 65)])
def test_same_bits_as_the_weighted_path(fn, reduction, dtype, n, C):
    """Weights of 1 take the general path (mask, weights): the unweighted loss and its
    gradient are the same numbers, bit for bit."""
    x, y = _case(n, C, dtype, seed=1)
    yt = autograd.tensor(y)
    plain = _loss_and_grad(x, yt, reduction, fn)
    weighted = _loss_and_grad(x, yt, reduction, fn,
                              weight=autograd.ones(C, dtype=getattr(autograd, dtype)))
    for a, b in zip(plain, weighted):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ignore_index_inside_the_classes(dtype):
    """An ignore_index that is a class: rows with that target are skipped (the mask path),
    and with no row using it the loss is the plain one; as PyTorch."""
    x, y = _case(6, 4, dtype, seed=2)
    y[:] = [1, 2, 3, 1, 2, 3]
    for ignore_index in (0, 2):
        check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y),
                                                     ignore_index=ignore_index), x)


def test_uint8_targets_and_non_contiguous_logits():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((10, 14))[:, ::2]           # (10, 7), strided rows
    y = rng.integers(0, 7, 10).astype(np.uint8)
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y)), x)
    check_op(lambda lib, x: F(lib).cross_entropy(x.T.contiguous().T, lib.tensor(y)),
             np.ascontiguousarray(x))


def test_gradient_reaches_some_inputs_only():
    """Logits from a product in which only one factor requires grad."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((9, 4)).astype(np.float32)
    b = rng.standard_normal((4, 6)).astype(np.float32)
    y = rng.integers(0, 6, 9)
    check_op(lambda lib, a: F(lib).cross_entropy(a @ lib.tensor(b), lib.tensor(y)), a)

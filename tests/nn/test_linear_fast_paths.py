"""``linear``'s bias gradient as a product with ones (issue 19): the column sums of the
incoming gradient by BLAS for float32/float64 from 64 rows, NumPy's sum otherwise.  Against PyTorch
(values, gradients, second-order gradients) over odd sizes, batch 1, an empty batch,
leading batch dims, non-contiguous inputs, and gradients asked of some inputs only."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import check_op, torch, functional as F


@settings(max_examples=10, deadline=None, derandomize=True)
@given(lead=st.sampled_from([(), (1,), (5,), (2, 3), (0,), (64,), (5, 13), (67,)]),
       n_in=st.integers(1, 9),
       n_out=st.integers(1, 9), dtype=st.sampled_from(['float32', 'float64']))
def test_linear_with_bias_matches_pytorch(lead, n_in, n_out, dtype):
    rng = np.random.default_rng(n_in * 10 + n_out)
    x = rng.standard_normal(lead + (n_in,)).astype(dtype)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    check_op(lambda lib, x, w, b: F(lib).linear(x, w, b), x, w, b)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_bias_gradient_alone_and_non_contiguous_inputs(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 70)).astype(dtype)
    w = rng.standard_normal((5, 6)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    grads = []
    for lib in (autograd, torch):
        xt, wt = lib.tensor(x), lib.tensor(w)            # only the bias requires grad
        bt = lib.tensor(b, requires_grad=True)
        y = F(lib).linear(xt.t(), wt, bt)                 # a transposed (70, 6) input
        (y * lib.tensor(np.arange(350.0, dtype=dtype).reshape(70, 5))).sum().backward()
        grads.append(np.asarray(bt.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5 if dtype == 'float32' else 1e-12)
    check_op(lambda lib, x, w, b: F(lib).linear(x.t(), w, b), x, w, b)


def test_float16_bias_gradient_keeps_numpy_sum():
    x = np.full((3, 4), 0.5, dtype=np.float16)
    w = autograd.tensor(np.ones((2, 4), dtype=np.float16))
    b = autograd.tensor(np.zeros(2, dtype=np.float16), requires_grad=True)
    F(autograd).linear(autograd.tensor(x), w, b).sum().backward()
    assert b.grad.dtype == autograd.float16 and b.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize('lead', [(64,), (3, 33), (129,)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_batches_of_64_rows_and_more_take_the_product(lead, dtype):
    rng = np.random.default_rng(len(lead))
    x = rng.standard_normal(lead + (5,)).astype(dtype)
    w = rng.standard_normal((3, 5)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    check_op(lambda lib, x, w, b: F(lib).linear(x, w, b), x, w, b)


# ``linear``'s forward with a bias (``extend.linear_rows`` for matrices) on inputs of any
# layout, and with gradients of some inputs only.

@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_bias_inside_the_product_with_non_contiguous_weight_and_input(dtype):
    rng = np.random.default_rng(3)
    x = np.asfortranarray(rng.standard_normal((7, 9)).astype(dtype))   # column-major input
    w = rng.standard_normal((9, 4)).astype(dtype)                       # used transposed
    b = rng.standard_normal(4).astype(dtype)
    check_op(lambda lib, x, w, b: F(lib).linear(x, w.t(), b), x, w, b)
    check_op(lambda lib, x, w, b: F(lib).linear(x[::2], w.t(), b), x, w, b)     # strided rows


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_bias_inside_the_product_with_gradients_of_some_inputs_only(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 11)).astype(dtype)
    w = rng.standard_normal((6, 11)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    g = rng.standard_normal((2, 5, 6)).astype(dtype)
    for wants in [(False, True, False), (True, False, True), (False, False, True)]:
        grads = []
        for lib in (autograd, torch):
            args = [lib.tensor(a, requires_grad=r) for a, r in zip((x, w, b), wants)]
            (F(lib).linear(*args) * lib.tensor(g)).sum().backward()
            grads.append([np.asarray(a.grad.tolist()) if r else a.grad
                          for a, r in zip(args, wants)])
        for ours, ref, r in zip(*grads, wants):
            if r:
                np.testing.assert_allclose(ours, ref, rtol=1e-5 if dtype == 'float32' else 1e-12,
                                           atol=1e-5 if dtype == 'float32' else 1e-12)
            else:
                assert ours is None and ref is None


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n, k, m', [(1, 1, 1), (64, 784, 256), (3, 17, 5), (0, 4, 3), (4, 0, 3)])
def test_linear_rows_is_the_product_plus_the_bias(n, k, m, dtype):
    from autograd.extend import linear_rows
    rng = np.random.default_rng(n + k + m)
    x = rng.standard_normal((n, k)).astype(dtype)
    w = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    out = linear_rows(x, w, b)
    assert out.shape == (n, m) and out.dtype == np.dtype(dtype) and out.flags.c_contiguous
    exact = x.astype(np.float64) @ w.T.astype(np.float64) + b
    tol = 1e-5 * (k + 1) if dtype == 'float32' else 1e-13 * (k + 1)
    np.testing.assert_allclose(out, exact, rtol=tol, atol=tol)


@pytest.mark.parametrize('changed', ['weight', 'input'])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_keeps_only_what_a_needed_gradient_reads(changed, bias):
    """As PyTorch: dW reads x and dx reads W, so W changed in place after the forward is
    fine when x needs no gradient (and x changed is fine when W needs none); changing one
    that a needed gradient reads raises.  The gradients are those of the values used."""
    rng = np.random.default_rng(7)
    x0, w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)

    def run(lib, needed):
        w = lib.tensor(w0, requires_grad=changed == 'input' and needed or changed == 'weight')
        x_leaf = lib.tensor(x0, requires_grad=changed == 'weight' and needed or
                            changed == 'input')
        x = x_leaf * 1
        b = lib.tensor(b0, requires_grad=True) if bias else None
        y = (F(lib).linear(x, w, b) ** 2).sum()
        with lib.no_grad():
            (w if changed == 'weight' else x).mul_(0.5)
        try:
            y.backward()
        except RuntimeError as e:
            return 'modified by an inplace operation' in str(e)
        return [None if t is None or t.grad is None else t.grad.cpu().numpy()
                for t in (w, x_leaf, b)]

    for needed in (False, True):
        theirs, ours = run(torch, needed), run(autograd, needed)
        assert (theirs is True) == (ours is True) == needed
        if not needed:
            for a, b in zip(ours, theirs):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-12)

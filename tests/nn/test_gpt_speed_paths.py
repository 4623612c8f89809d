"""The paths a GPT block's step takes, reworked for speed (issue 19, gpt-block), against
PyTorch: softmax/log_softmax along a short last axis (the row max from a Fortran-ordered
copy, row sums as products with ones) with masked (-inf) and NaN entries, and softmax's
exp unshifted from 1024 elements where the scores' range allows (against long-double
values); layer, group and batch norm's statistics as products with ones (trailing or
leading axes), in the forward and in the backward formula, to second order; GELU's
derivative op, to third order, and its unclipped float32 logistic form; the shapes of the
heads' view/reshape."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from oracle import check_op, check_raises, rand, to_numpy, torch

F = nn.functional


def _lib_f(lib):
    return torch.nn.functional if lib is torch else F


def _node_names(t):
    """The names of the nodes in ``t``'s graph."""
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(node.name())
        stack.extend(e[0] for e in node.next_functions if e is not None)
    return names


# ----------------------------------------------------------------------------- softmax

def _causal(n):
    return ~np.tril(np.ones((n, n), bool))       # True above the diagonal: masked


@pytest.mark.parametrize('n', [2, 5, 32, 64, 65])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_masked_softmax_along_short_rows_to_second_order(n, dtype, name):
    """Attention's pattern: scores masked to -inf above the diagonal, softmax over keys."""
    x = rand(2, 3, n, n, dtype=dtype, low=-6, high=6, seed=n)
    mask = np.broadcast_to(_causal(n), (1, 1, n, n)).copy()
    check_op(lambda lib, x, m: getattr(_lib_f(lib), name)(
        x.masked_fill(m, float('-inf')), dim=-1), x, mask, double=dtype == 'float64')


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_rows_with_nan_inf_and_all_masked(name):
    """A NaN row stays NaN, a row of -inf is NaN, +inf rows as PyTorch: the row max's
    propagation is the same as NumPy's reduction's."""
    x = rand(6, 8, seed=3)
    x[0, 3] = np.nan
    x[1, :] = -np.inf
    x[2, 5] = np.inf
    x[3, ::2] = -np.inf
    x[4, :] = 1e30                  # equal huge entries: the shift keeps them finite
    check_op(lambda lib, x: getattr(_lib_f(lib), name)(x, dim=-1), x, double=False)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(rows=st.integers(1, 40), n=st.integers(1, 70), dtype=st.sampled_from(['float32', 'float64']),
       scale=st.sampled_from([1.0, 30.0]), masked=st.floats(0.0, 0.6),
       name=st.sampled_from(['softmax', 'log_softmax']))
def test_softmax_last_axis_matches_torch(rows, n, dtype, scale, masked, name):
    rng = np.random.default_rng(rows * 100 + n)
    x = (rng.standard_normal((rows, n)) * scale).astype(dtype)
    m = rng.random((rows, n)) < masked
    m[:, 0] = False                  # one live entry per row
    check_op(lambda lib, x, m: getattr(_lib_f(lib), name)(
        x.masked_fill(m, float('-inf')), dim=-1), x, m, double=False)


def _softmax_input(case, dtype):
    """Inputs of >= 1024 elements (where softmax and log_softmax may skip the shift by the
    row max) and at the edges of the range where they may: float32's exp is normal from
    -87.3 and n e^x finite to 88.7 (float64: -708, 709)."""
    rng = np.random.default_rng(len(case))
    low, high = (-80.0, 80.0) if dtype == 'float32' else (-700.0, 700.0)
    x = rng.standard_normal((4, 4, 16, 33)) * 3
    if case == 'causal':
        x[..., ~np.tril(np.ones((16, 33), bool))] = -np.inf
    elif case == 'below_low':              # a finite score whose exp would be subnormal
        x[1, 2, 3, :] = low - 5 + rng.random(33)
    elif case == 'near_low':
        x[1, 2, 3, :] = low + 0.5 + rng.random(33)
    elif case == 'near_high':              # just within high - log(n): sums stay finite
        x[0, 1, 2, :] = high - np.log(33) - 0.5 - rng.random(33)
    elif case == 'above_high':
        x[0, 1, 2, :5] = high - 1
    elif case == 'long_rows':              # n e^x would overflow without the log(n) margin
        x = high - 2 - rng.random((2, 3000))
    elif case == 'nan':
        x[2, 0, 1, 7] = np.nan
    elif case == 'pinf':
        x[3, 3, 3, 4] = np.inf
    elif case == 'dead_row':               # every score masked: NaN, as PyTorch
        x[0, 0, 5, :] = -np.inf
        x[1, ..., ::3] = -np.inf
    return x.astype(dtype)


def _long_softmax(x, axis, name):
    """softmax or log_softmax along ``axis`` in NumPy's long double (64-bit significand on
    x86: a reference for float64 too), as float64; NaN rows as PyTorch makes them."""
    x = x.astype(np.longdouble)
    with np.errstate(invalid='ignore', divide='ignore'):
        z = x - x.max(axis=axis, keepdims=True)
        s = np.exp(z).sum(axis=axis, keepdims=True)
        out = np.exp(z) / s if name == 'softmax' else z - np.log(s)
    return out.astype('float64')


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', ['plain', 'causal', 'below_low', 'near_low', 'near_high',
                                  'above_high', 'long_rows', 'nan', 'pinf', 'dead_row'])
@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('layout', ['last', 'dim1', 'transposed'])
def test_softmax_from_1024_elements_is_as_accurate_as_torch(dtype, case, name, layout):
    """From 1024 elements NumPy's softmax takes exp(x) unshifted where no score is out of
    range (else the row max's shift; log_softmax always shifts): values against the exact
    ones (long double) no further off (relative; log_softmax relative to max(|z|, 1)) than twice
    PyTorch's own float32/float64 result plus two ulps, the largest error over the tail
    (the smallest tenth of the probabilities) and over the rest each, with the same NaN,
    zero and -inf entries; along the last axis, along dim 1, and on a transposed view."""
    x = _softmax_input(case, dtype)
    dim = 1 if layout == 'dim1' else -1

    def f(lib, t):
        t = t.transpose(-1, -2).transpose(-1, -2) if layout != 'transposed' else \
            t.transpose(0, -1)
        return getattr(_lib_f(lib), name)(t, dim=dim)
    ours = to_numpy(f(autograd, autograd.tensor(x)))
    theirs = f(torch, torch.tensor(x)).numpy()
    exact = _long_softmax(np.swapaxes(x, 0, -1) if layout == 'transposed' else x, dim, name)
    assert ours.dtype == x.dtype and ours.shape == exact.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(exact))
    np.testing.assert_array_equal(ours == 0, theirs == 0)
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    live = np.isfinite(exact) & (exact != 0)
    scale = np.abs(exact[live]) if name == 'softmax' else np.maximum(np.abs(exact[live]), 1)
    mine, torchs = (np.abs(y[live].astype('float64') - exact[live]) / scale for y in (ours, theirs))
    p = np.exp(exact[live]) if name == 'log_softmax' else exact[live]
    tail = p <= np.quantile(p, 0.1)
    eps = np.finfo(dtype).eps
    for part in (tail, ~tail):
        assert mine[part].max() <= 2 * torchs[part].max() + 2 * eps, \
            (mine[part].max(), torchs[part].max())


def test_softmax_from_1024_elements_to_second_order_and_float16():
    """Unshifted exp in softmax: gradients to second order against PyTorch
    (float64), and float16 (computed in float32) against PyTorch's float16."""
    x = _softmax_input('causal', 'float64')[:1, :2]
    check_op(lambda lib, x: _lib_f(lib).softmax(x, dim=-1) * 2 +
             _lib_f(lib).log_softmax(x, dim=-1).clamp(min=-30), x)
    h = _softmax_input('plain', 'float16')
    for name in ('softmax', 'log_softmax'):
        ours = to_numpy(getattr(F, name)(autograd.tensor(h), dim=-1))
        theirs = getattr(torch.nn.functional, name)(torch.tensor(h), dim=-1).numpy()
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours.astype('float64'), theirs.astype('float64'),
                                   rtol=2e-3, atol=1e-6 if name == 'softmax' else 2e-3)


def test_softmax_of_a_transposed_view_along_its_last_axis():
    """A non-contiguous input (scores produced transposed) reduces along the right axis."""
    x = rand(3, 16, 24, seed=5)
    check_op(lambda lib, x: _lib_f(lib).softmax(x.transpose(-1, -2), dim=-1) *
             _lib_f(lib).log_softmax(x.transpose(-1, -2), dim=-1), x)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_masked_fill_under_a_broadcast_mask_copies_and_writes_through_it(dtype):
    """masked_fill's copy written through a causal (1, 1, T, T) mask that broadcasts over
    batch and heads, on a transposed (non-contiguous) input, a 0-d tensor value that
    requires grad, and a gradient holding inf and NaN where the mask is (exact zeros there,
    not inf * 0), against PyTorch."""
    x = rand(2, 5, 3, 5, dtype=dtype, seed=50)
    check_op(lambda lib, x, v: x.transpose(1, 2).masked_fill(
        lib.tensor(_causal(5)).view(1, 1, 5, 5), v.sum()), x, rand(1, dtype=dtype, seed=51))
    g = rand(2, 3, 5, 5, dtype=dtype, seed=52)
    g[..., 0, 4] = np.inf
    g[..., 1, 3] = np.nan
    grads = []
    for lib in (torch, autograd):
        xt = lib.tensor(x, requires_grad=True)
        y = xt.transpose(1, 2).masked_fill(lib.tensor(_causal(5)).view(1, 1, 5, 5), -np.inf)
        y.backward(lib.tensor(g))
        grads.append(to_numpy(xt.grad))
    np.testing.assert_array_equal(grads[1], grads[0])
    assert (grads[1][:, 0, :, 4] == 0).all() and (grads[1][:, 1, :, 3] == 0).all()


# ----------------------------------------------------------------------------- normalization

@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape,normalized', [((4, 7, 6), (6,)), ((3, 5, 4), (5, 4)),
                                              ((2, 3), (3,))])
def test_layer_norm_to_second_order(dtype, shape, normalized):
    x = rand(*shape, dtype=dtype, seed=1)
    w = rand(*normalized, dtype=dtype, seed=2)
    b = rand(*normalized, dtype=dtype, seed=3)
    check_op(lambda lib, x, w, b: _lib_f(lib).layer_norm(x, normalized, w, b), x, w, b)


def test_layer_norm_backward_graph_uses_products_with_ones():
    """Under create_graph the gradients are one NormGrad node; differentiating it replays
    the gradient formula, whose sums are products with ones (recorded, and so
    differentiated again): the fast paths are the ones taken."""
    x = autograd.tensor(rand(4, 5, 6, seed=4), requires_grad=True)
    w = autograd.tensor(rand(6, seed=5), requires_grad=True)
    g, = autograd.grad(F.layer_norm(x, (6,), w).pow(2).sum(), x, create_graph=True)
    assert g.grad_fn.name() == 'NormGradBackward0'
    h, = autograd.grad(g.pow(2).sum(), x, create_graph=True)
    names = _node_names(h)
    assert 'MatMulBackward0' in names and 'MeanBackward1' not in names, names
    assert autograd.gradgradcheck(lambda x, w: F.layer_norm(x, (6,), w), (x, w))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_batch_norm1d_leading_axis_and_group_norm_to_second_order(dtype):
    x = rand(6, 4, dtype=dtype, seed=6)
    w, b = rand(4, dtype=dtype, seed=7), rand(4, dtype=dtype, seed=8)
    check_op(lambda lib, x, w, b: _lib_f(lib).batch_norm(x, None, None, w, b, training=True),
             x, w, b)
    y = rand(2, 6, 3, 2, dtype=dtype, seed=9)
    check_op(lambda lib, y, w, b: _lib_f(lib).group_norm(y, 3, w.repeat(2)[:6],
                                                         b.repeat(2)[:6]), y, w, b)


def test_layer_norm_float16_and_non_contiguous_input_match_torch():
    x = rand(5, 8, 6, seed=10)
    check_op(lambda lib, x: _lib_f(lib).layer_norm(x.transpose(0, 1), (6,)), x)
    h = rand(4, 16, seed=11).astype('float16')
    ours = F.layer_norm(autograd.tensor(h), (16,))
    theirs = torch.nn.functional.layer_norm(torch.tensor(h), (16,))
    assert ours.dtype == autograd.float16
    np.testing.assert_allclose(to_numpy(ours).astype('float64'),
                               to_numpy(theirs).astype('float64'), rtol=1e-2, atol=1e-2)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(lead=st.lists(st.integers(1, 5), min_size=0, max_size=2),
       m=st.integers(1, 33).filter(lambda m: m != 2),
       affine=st.sampled_from(['wb', 'w', '']),
       dtype=st.sampled_from(['float32', 'float64']))
def test_layer_norm_rows_path_over_shapes_and_affines(lead, m, affine, dtype):
    """NormGrad's rows of m (trailing axes, w and b of the normalised shape or absent)
    and the statistics as matrix-vector products, to second order: batch 1, m = 1, odd
    sizes, weight alone, a 1-d input (its weight spans it: no axes to sum the weight's
    gradient over).  (m = 2 is left out: x_hat = +-1 there, and float32's second
    derivatives differ from PyTorch's by 2e-4 relative, as they did before this path; a
    bias alone: the oracle's second-order sum meets PyTorch's None.)"""
    x = rand(*lead, m, dtype=dtype, seed=m)
    params = [rand(m, dtype=dtype, seed=m + 1 + i) for i in range(len(affine))]

    def fn(lib, x, *p):
        named = dict(zip(affine, p))
        return _lib_f(lib).layer_norm(x, (m,), named.get('w'), named.get('b'))
    check_op(fn, x, *params)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('wanted', ['x', 'w', 'b', 'xb', 'wb'])
def test_layer_norm_gradients_of_some_inputs_only(dtype, wanted):
    """NormGrad computes only the gradients whose inputs require grad; they match
    PyTorch's, and so do second derivatives through them."""
    arrays = {'x': rand(3, 4, 10, dtype=dtype, seed=20), 'w': rand(10, dtype=dtype, seed=21),
              'b': rand(10, dtype=dtype, seed=22)}
    g = rand(3, 4, 10, dtype=dtype, seed=23)
    results = []
    for lib in (torch, autograd):
        ts = {k: lib.tensor(a, requires_grad=k in wanted) for k, a in arrays.items()}
        y = _lib_f(lib).layer_norm(ts['x'].transpose(0, 1), (10,), ts['w'], ts['b'])
        grad = torch.autograd.grad if lib is torch else autograd.grad
        wrt = [ts[k] for k in wanted]
        firsts = grad(y, wrt, lib.tensor(g).transpose(0, 1), create_graph=True)
        assert all(f is not None for f in firsts)
        second = []             # (dL/db = sum g depends on no input: no second order)
        if wanted != 'b':
            second = grad(sum((f * f).sum() for f in firsts), wrt, allow_unused=True)
        results.append([to_numpy(f) for f in firsts] +
                       [None if s is None else to_numpy(s) for s in second])
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else dict(rtol=1e-9, atol=1e-10)
    for theirs, ours in zip(*results):
        if theirs is None:          # (PyTorch: no second derivative reaches a bias)
            assert ours is None or not np.any(ours)
        else:
            np.testing.assert_allclose(ours, theirs, **tol)


def test_group_and_eval_batch_norm_take_the_general_grad_path():
    """Group norm (trailing axes, per-channel weights) and batch norm in evaluation (fixed
    statistics) go through NormGrad's general sums, to second order."""
    x = rand(2, 6, 5, seed=30)
    w, b = rand(6, seed=31), rand(6, seed=32)
    check_op(lambda lib, x, w, b: _lib_f(lib).group_norm(x, 2, w, b), x, w, b)
    mean, var = rand(6, seed=33), rand(6, low=0.5, high=2.0, seed=34)
    check_op(lambda lib, x, w, b: _lib_f(lib).batch_norm(
        x, lib.tensor(mean), lib.tensor(var), w, b, training=False), x, w, b)


# ----------------------------------------------------------------------------- GELU

@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_gelu_to_second_order_on_erfs_float32_path(dtype):
    """(8, 32) elements: float32 takes the vectorised erf (>= 64 elements)."""
    x = rand(8, 32, low=-5, high=5, dtype=dtype, seed=12)
    check_op(lambda lib, x: _lib_f(lib).gelu(x), x)


def test_gelu_third_derivative_matches_torch():
    x = rand(4, 20, low=-4, high=4, seed=13)
    results = []
    for lib in (torch, autograd):
        xt = lib.tensor(x, requires_grad=True)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        g1, = grad(_lib_f(lib).gelu(xt).sum(), xt, create_graph=True)
        g2, = grad(g1.sum(), xt, create_graph=True)
        g3, = grad((g2 * g2).sum(), xt)
        results.append([to_numpy(g) for g in (g1, g2, g3)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    xt = autograd.tensor(x, requires_grad=True)
    g1, = autograd.grad(F.gelu(xt).sum(), xt, create_graph=True)
    assert 'GeluGradBackward0' in _node_names(g1)


@pytest.mark.parametrize('n', [63, 64, 4001])
def test_gelu_float32_logistic_form_of_phi_over_a_dense_grid(n):
    """float32 GELU (the logistic form of Phi on the host from 64 elements, the device's
    erf below that and on an accelerator) against PyTorch's in float64: within 6e-7
    absolute over [-9, 9] (PyTorch's own float32 is 3.7e-7), derivative within 1e-6;
    PyTorch's float32 bit for bit in the far negative tail (0), and -inf -> NaN as
    PyTorch's."""
    x = np.linspace(-9, 9, n).astype('float32')
    xt = autograd.tensor(x, requires_grad=True)
    y = F.gelu(xt)
    y.backward(autograd.ones_like(y))
    x64 = torch.tensor(x.astype('float64'), requires_grad=True)
    ref = torch.nn.functional.gelu(x64)
    ref.backward(torch.ones_like(ref))
    np.testing.assert_allclose(to_numpy(y), ref.detach().numpy(), rtol=0, atol=6e-7)
    np.testing.assert_allclose(to_numpy(xt.grad), x64.grad.numpy(), rtol=0, atol=1e-6)
    tail = np.array([-5.55, -5.76, -100.0, -1e30, -np.inf] * 16, 'float32')
    ours = to_numpy(F.gelu(autograd.tensor(tail)))
    theirs = torch.nn.functional.gelu(torch.tensor(tail)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert (ours[:-1:5] == 0).all() and np.isnan(ours[4::5]).all()


def test_gelu_float32_unclipped_logistic_form_saturates_quietly_as_torch():
    """The float32 logistic form of Phi runs unclipped: beyond |x| = 5.75, and where x^2
    overflows, GELU is PyTorch's bit for bit (x, or 0) and its derivative PyTorch's, with
    no NumPy warning; the boundary's neighbours and NaN too."""
    edge = np.nextafter(np.float32(5.75), np.float32(0))
    big = np.array([5.75, edge, 5.76, 7.0, 9.5, 13.0, 100.0, 1e19, 2e19, 1e30, 1e38],
                   'float32')
    x = np.concatenate([big, -big, [np.nan]] * 8).astype('float32')    # >= 64: that form
    x64 = torch.tensor(x.astype('float64'), requires_grad=True)
    ref = torch.nn.functional.gelu(x64)
    ref.backward(torch.ones_like(ref))
    with np.errstate(all='raise'):
        xt = autograd.tensor(x, requires_grad=True)
        y = F.gelu(xt)
    y.backward(autograd.ones_like(y))
    theirs = torch.nn.functional.gelu(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(to_numpy(y), theirs)     # (the sign of a 0 is the CPU
    #                                                          kernel's: -0 or 0 in PyTorch)
    np.testing.assert_allclose(to_numpy(y), ref.detach().numpy().astype('float32'), rtol=0,
                               atol=6e-7)
    np.testing.assert_allclose(to_numpy(xt.grad), x64.grad.numpy(), rtol=0, atol=1e-6)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       dtype=st.sampled_from(['float32', 'float64']), transpose=st.booleans())
def test_gelu_grad_op_over_shapes_and_strides(shape, dtype, transpose):
    """GeluGrad (g times the derivative, one op) to second order over sizes below and
    above erf's vectorised float32 path (64 elements), batch 1, transposed inputs."""
    x = rand(*shape, 8, low=-5, high=5, dtype=dtype, seed=len(shape))
    check_op(lambda lib, x: _lib_f(lib).gelu(x.transpose(0, -1) if transpose else x), x)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_gelu_second_order_through_the_incoming_gradient(dtype):
    """d/dg of GeluGrad (the op again, on the cotangent) and d/dx, with the incoming
    gradient a tensor that requires grad, against PyTorch."""
    x, v = rand(5, 13, low=-4, high=4, dtype=dtype, seed=40), rand(5, 13, dtype=dtype, seed=41)
    results = []
    for lib in (torch, autograd):
        grad = torch.autograd.grad if lib is torch else autograd.grad
        xt, vt = lib.tensor(x, requires_grad=True), lib.tensor(v, requires_grad=True)
        gx, = grad(_lib_f(lib).gelu(xt), xt, vt, create_graph=True)
        dx, dv = grad((gx * gx).sum(), (xt, vt))
        results.append([to_numpy(t) for t in (gx, dx, dv)])
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, **tol)


# ----------------------------------------------------------------------------- attention

@pytest.mark.parametrize('L,S', [(5, 5), (7, 3), (3, 7), (1, 4)])
def test_causal_sdpa_without_dead_row_handling_to_second_order(L, S):
    """is_causal masks keys j > i; key 0 stays open for every query, longer queries too."""
    q, k, v = rand(2, L, 4, seed=L), rand(2, S, 4, seed=S + 10), rand(2, S, 3, seed=S + 20)
    check_op(lambda lib, q, k, v: _lib_f(lib).scaled_dot_product_attention(
        q, k, v, is_causal=True), q, k, v)


# ----------------------------------------------------------------------------- heads' views

@pytest.mark.parametrize('shape', [(8, 32, 4, 16), (8, 32, -1, 16), [8, 32, 4, 16],
                                   (np.int64(8), 32, 4, 16), (8, 32, 4, 16.0)])
@pytest.mark.parametrize('contiguous', [True, False])
@pytest.mark.parametrize('op', ['view', 'reshape'])
def test_heads_view_and_reshape_shape_forms_as_torch(shape, contiguous, op):
    """Splitting heads off c_attn's output: view/reshape of a column slice (a strided view)
    or of a contiguous tensor, with the shape as ints, with -1, as a list, with a NumPy int,
    and with a float, which PyTorch refuses (its exception type); values and gradients to
    second order."""
    x = rand(8, 32, 64 if contiguous else 192, seed=60)

    def f(lib, x):
        t = x if contiguous else x[..., 64:128]
        return getattr(t, op)(*shape) if isinstance(shape, tuple) else getattr(t, op)(shape)
    if isinstance(shape, tuple) and any(isinstance(s, float) for s in shape):
        check_raises(f, x)
    else:
        check_op(lambda lib, x: f(lib, x) * 2, x)


@pytest.mark.parametrize('shape', [(-2, -16), (2, -1, -1), (3, 5), (0, 4), (8, 32, 4, 16, 2)])
def test_view_shapes_refused_as_torch(shape):
    """Negative sizes other than -1, two -1s, a wrong count, an empty dim against a full
    tensor: PyTorch's exception types, both for view and reshape."""
    x = rand(2, 16, seed=61)
    for op in ('view', 'reshape'):
        check_raises(lambda lib, x: getattr(x, op)(*shape), x)

"""Divergences from PyTorch that the differential fuzzer (tests/test_fuzz.py) found, each
pinned by a test that runs the same program through PyTorch and through autograd."""
import math
import warnings

import numpy as np
import pytest

import autograd
from oracle import HAVE_TORCH, check_op, torch, to_numpy

pytestmark = pytest.mark.skipif(not HAVE_TORCH, reason='needs PyTorch, the oracle')
nan, inf = math.nan, math.inf


def both(fn):
    """fn(lib, grad) through PyTorch and autograd, as NumPy (None stays None)."""
    out = []
    for lib in (torch, autograd):
        G = torch.autograd.grad if lib is torch else autograd.grad
        r = fn(lib, G)
        out.append([None if x is None else to_numpy(x) for x in r])
    return out


def assert_same(fn):
    theirs, ours = both(fn)
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize('op', ['relu', 'abs', 'floor', 'sign', 'clamp'])
def test_second_derivative_through_piecewise_op_is_zeros_not_unused(op):
    """grad of (g * g).sum() where g = d op(x) / dx: zeros (PyTorch), not 'appears to not
    have been used'."""
    def fn(lib, G):
        x = lib.tensor([1.5, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        f = (lambda t: lib.clamp(t, -1, 1)) if op == 'clamp' else getattr(lib, op)
        g, = G(f(x).sum(), x, create_graph=True)
        if not g.requires_grad:         # PyTorch's g for sign/floor is a constant
            return [g]
        return [g, *G((g * g).sum(), x)]
    assert_same(fn)


@pytest.mark.parametrize('f', [
    lambda lib, t: lib.relu(t), lambda lib, t: lib.clamp(t, 0, 0.5),
    lambda lib, t: lib.clamp(t, min=0), lambda lib, t: lib.maximum(t, lib.zeros_like(t)),
    lambda lib, t: t.amax(), lambda lib, t: t.max(), lambda lib, t: t.reshape(2, 2).amin(1),
])
def test_gradient_routing_at_nan(f):
    def fn(lib, G):
        x = lib.tensor([nan, 1.0, -1.0, 0.0], dtype=lib.float64, requires_grad=True)
        return G(f(lib, x).sum(), x)
    assert_same(fn)


@pytest.mark.parametrize('mode', ['floor', 'trunc'])
def test_div_rounding_mode_gradient_is_zero_at_zero(mode):
    def fn(lib, G):
        a = lib.tensor([0.0, 1.5, -2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        return [lib.div(a, b, rounding_mode=mode), *G(lib.div(a, b, rounding_mode=mode).sum(),
                                                       [a, b])]
    assert_same(fn)


def test_div_floor_of_infinity_is_nan():
    def fn(lib, G):
        a = lib.tensor([-inf, inf, 5.0, -5.0, 0.0])
        return [lib.div(a, lib.tensor([1.0, 0.0, 0.0, 0.0, -2.0]), rounding_mode='floor')]
    assert_same(fn)


@pytest.mark.parametrize('op', ['fmod', 'remainder'])
def test_second_order_of_modulus_at_zero(op):
    def fn(lib, G):
        a = lib.tensor([0.0, 1.5, -2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        ga, gb = G(getattr(lib, op)(a, b).sum(), [a, b], create_graph=True)
        return [ga, gb, *G(gb.sum(), [a, b], allow_unused=True)]
    assert_same(fn)


def test_pow_exponent_second_derivative_at_zero_base():
    def fn(lib, G):
        a = lib.tensor([0.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 1.5], dtype=lib.float64, requires_grad=True)
        ga, gb = G((a ** b).sum(), [a, b], create_graph=True)
        return [ga, gb, *G(gb.sum(), [a, b])]
    assert_same(fn)


def test_integer_pow_with_negative_tensor_exponents():
    assert_same(lambda lib, G: [lib.tensor([1, -1, 0, 2, -1]) ** lib.tensor([-1, -1, -1, -1, -2])])


@pytest.mark.parametrize('call', [
    lambda lib: lib.tensor([1e30]) * lib.tensor([1e30]),
    lambda lib: lib.tensor([1e300], dtype=lib.float64) + 1e300,
    lambda lib: lib.tensor([-1e300], dtype=lib.float64) - 1e300,
    lambda lib: lib.tensor([nan]).long(),
    lambda lib: lib.sigmoid(lib.tensor([nan])),
    lambda lib: lib.tensor([[inf, -inf]]).sum(),
    lambda lib: lib.tensor([1.0]).var(),
    lambda lib: lib.tensor([[1e300, 1e300]], dtype=lib.float64).norm(),
    lambda lib: lib.nn.functional.gelu(lib.tensor([-inf, 0.0], dtype=lib.float64)),
    lambda lib: lib.nn.functional.gelu(lib.tensor([-inf] * 70)),
    lambda lib: lib.nn.functional.gelu(lib.tensor([-inf, 0.0]), approximate='tanh'),
])
def test_no_numpy_warning_reaches_the_user(call):
    """PyTorch computes these silently; ours must not leak NumPy's RuntimeWarning (a
    UserWarning of PyTorch's own, as var's on no degrees of freedom, is allowed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ours = to_numpy(call(autograd))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    np.testing.assert_array_equal(ours, to_numpy(call(torch)))


def test_backward_formulas_do_not_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        x = autograd.tensor([0.0, inf, -1.0], requires_grad=True)
        (autograd.sqrt(x) * autograd.log(x)).sum().backward()
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_floor_divide_of_floats_records_a_node_whose_backward_raises():
    for lib in (torch, autograd):
        x = lib.tensor([1.5, -1.0], requires_grad=True)
        y = x // 2.0
        assert y.requires_grad
        with pytest.raises(RuntimeError, match='floor_divide'):
            y.sum().backward()


@pytest.mark.parametrize('data', [[True], [True, True], [[True, True]], [True, False], True])
def test_bool_printing(data):
    assert repr(autograd.tensor(data, device='cpu')) == repr(torch.tensor(data))


@pytest.mark.parametrize('lo,hi', [(0, 1), (1, 0)])
def test_clamp_unsigned_with_negative_bound_wraps_as_pytorch(lo, hi):
    def fn(lib, G):
        u = lib.tensor([1, 5, 200], dtype=lib.uint8)
        return [lib.clamp(u, max=-1) if hi else lib.clamp(u, min=-1)]
    assert_same(fn)


def test_clamp_zero_dim_bound_beside_a_number_is_a_number():
    def fn(lib, G):
        x = lib.tensor([1.5, -1.0, 0.2])
        return [lib.clamp(x, min=lib.tensor(0.0), max=1), lib.clamp(x, lib.tensor(2.0), 1)]
    assert_same(fn)


@pytest.mark.parametrize('shape', [(2, 0), (0,)])
def test_empty_reductions(shape):
    def fn(lib, G):
        x = lib.zeros(*shape)
        return [x.median(), lib.zeros(*shape, dtype=lib.int64).median(),
                lib.softmax(lib.zeros(*shape, dtype=lib.int64), -1)]
    assert_same(fn)


def test_var_without_degrees_of_freedom_warns_as_pytorch():
    for lib in (torch, autograd):
        with pytest.warns(UserWarning, match='degrees of freedom is <= 0'):
            assert math.isnan(lib.tensor([1.0]).var().item())


def test_setitem_nan_into_integers_casts_from_a_tensor_and_refuses_a_number():
    def fn(lib, G):
        x = lib.zeros(3, dtype=lib.int64)
        x[:] = lib.tensor(nan)
        return [x]
    assert_same(fn)
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match='without overflow'):
            lib.zeros(3, dtype=lib.int64)[0] = nan


def test_check_op_agrees_on_a_fuzzed_chain():
    """One chain the fuzzer once failed on (relu's second order), through the oracle's
    check_op: values, gradients and second derivatives."""
    x = np.array([[0.5, -1.0], [2.0, -0.25]])
    check_op(lambda lib, t: (lib.relu(t) * t).exp().sum(1), x)


def test_lerp_is_pytorchs_two_branch_formula():
    def fn(lib, G):
        a = lib.tensor([2.5, -1e300, 1.0], dtype=lib.float64)
        b = lib.tensor([-0.058, -inf, 3.0], dtype=lib.float64)
        return [lib.lerp(a, b, 2.0), lib.lerp(a, b, 0.3),
                lib.lerp(a, b, lib.tensor([0.25, 0.75, 1.0], dtype=lib.float64))]
    assert_same(fn)


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'bool', 'float64', 'float32'])
def test_empty_tensors_print_their_dtype_as_pytorch(dtype):
    ours = repr(autograd.zeros(2, 0, dtype=getattr(autograd, dtype), device='cpu'))
    assert ours.replace('autograd.', 'torch.') == repr(torch.zeros(2, 0, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize('call', [
    lambda lib: lib.zeros(1, 3, 0, dtype=lib.float64) | lib.zeros(3, 0, 2, dtype=lib.float64),
    lambda lib: lib.zeros(3, dtype=lib.bool) // lib.zeros(2, dtype=lib.bool),
])
def test_shapes_are_checked_before_dtypes(call):
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match='must match the size'):
            call(lib)


def test_integer_division_by_zero_of_an_empty_result_is_empty():
    assert_same(lambda lib, G: [lib.div(lib.zeros(2, 2, 0, dtype=lib.int64),
                                        lib.tensor([[0], [1]]), rounding_mode='floor')])


def test_promotion_to_float32_overflows_silently():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = autograd.zeros(1, 0) < autograd.tensor(-1e300, dtype=autograd.float64)
        assert out.shape == (1, 0)
        assert (autograd.ones(1) + autograd.tensor(1e300, dtype=autograd.float64)).item() == inf


@pytest.mark.parametrize('call', [
    lambda lib: lib.zeros(0, 2, dtype=lib.bool) // lib.tensor(True),
    lambda lib: lib.zeros(0, dtype=lib.bool) % lib.tensor(False),
])
def test_integer_division_of_empty_bools_still_refuses(call):
    for lib in (torch, autograd):
        with pytest.raises(NotImplementedError):
            call(lib)


def test_pow_zero_exponent_gradient_is_zeros_even_for_infinite_incoming_gradient():
    def fn(lib, G):
        x = lib.tensor([-1.255, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        return G(((x ** 0) * lib.tensor([inf, 1.0, nan], dtype=lib.float64)).sum(), x)
    assert_same(fn)


# ----------------------------------------------------------------------------- histograms

HIST_VALUES = [
    ([0.0, 1.0, 2.0, 3.0, 4.0], 'float64'),             # elements on interior edges
    ([0.0, 0.0, 0.0], 'float32'),                       # an empty range, widened
    ([1e300, 1e300], 'float64'),                        # widening by 1 changes nothing
    ([1e17, 1e17], 'float32'),
    ([0.0, 1e38, 5e37], 'float32'),                     # (x - lo) * bins overflows
    ([-3e38, 3e38, 0.0], 'float32'),                    # the step overflows: no edges
    ([1e308, -1e308, 0.5], 'float64'),
    ([-2.013, 2.5, -1.929, -2.0, 0.3, 0.7, 1.1], 'float64'),
    ([-1.302, 2.5, 1e-40, -0.0, 0.1], 'float32'),
]


@pytest.mark.parametrize('values,dtype', HIST_VALUES)
@pytest.mark.parametrize('bins', [1, 3, 5, 7, 100])
def test_histogram_bins_as_pytorchs_cpu_kernel(values, dtype, bins):
    """Counts and edges to the bit (PyTorch's linspace edges, its widened empty range, its
    bins where the bin guess overflows)."""
    def fn(lib, G):
        x = lib.tensor(np.array(values, dtype=dtype))
        w = lib.tensor(np.linspace(0.5, 2.0, len(values)).astype(dtype))
        return [lib.histc(x, bins), lib.histc(x, bins, -1, 2.5), *lib.histogram(x, bins),
                *lib.histogram(x, bins, weight=w, density=True)]
    assert_same(fn)


@pytest.mark.parametrize('call', [
    lambda lib: lib.histc(lib.tensor([nan, 1.0]), 4),
    lambda lib: lib.histc(lib.tensor([inf, 1.0], dtype=lib.float64), 4),
    lambda lib: lib.histogram(lib.tensor([nan, 1.0]), 4),
    lambda lib: lib.histogram(lib.tensor([-inf, 1.0]), 4),
    lambda lib: lib.histogram(lib.tensor([1.0]), 4, range=(0.0, inf)),
    lambda lib: lib.histc(lib.tensor([1.0]), 3, 2, 1),
    lambda lib: lib.histogram(lib.tensor([1.0]), 3, range=(2.0, 1.0)),
    lambda lib: lib.histc(lib.tensor([1, 2]), 0),
    lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), 2, weight=lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), 2,
                              weight=lib.tensor([1.0, 2.0], dtype=lib.float64)),
])
def test_histogram_refuses_as_pytorch(call):
    """Non-finite ranges (NaN or inf data), reversed ranges, bad bin counts and weights:
    PyTorch's exception type."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type):
        call(autograd)


@pytest.mark.parametrize('call', [
    lambda lib: lib.histc(lib.tensor([True]), 3),
    lambda lib: lib.histc(lib.tensor([1, 2]), 3),
    lambda lib: lib.histogram(lib.tensor([1, 2]), 3),
])
def test_histogram_of_integers_is_not_implemented(call):
    for lib in (torch, autograd):
        with pytest.raises(NotImplementedError, match='not implemented for'):
            call(lib)


def test_histogram_records_a_node_whose_backward_raises():
    """PyTorch's hist and bin_edges require grad when the input does (under no_grad they do
    not); backward raises RuntimeError, histc records nothing."""
    for lib in (torch, autograd):
        G = torch.autograd.grad if lib is torch else autograd.grad
        x = lib.tensor([0.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
        hist, edges = lib.histogram(x, 3)
        assert hist.requires_grad and edges.requires_grad
        assert not lib.histc(x, 3).requires_grad
        with lib.no_grad():
            assert not lib.histogram(x, 3).hist.requires_grad
        with pytest.raises(RuntimeError, match='derivative for aten::histogram is not '
                                               'implemented'):
            G(hist.cosh().sum(), x)


# ----------------------------------------------------------------------------- integration

def assert_same_outcome(call):
    """``call(lib)`` through both libraries: the same exception type, or results of the
    same values, dtypes, shapes and requires_grad."""
    try:
        theirs = call(torch)
    except Exception as error:
        with pytest.raises(type(error)):
            call(autograd)
        return
    ours = call(autograd)
    assert ours.requires_grad == theirs.requires_grad
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize('name', ['trapz', 'trapezoid', 'cumulative_trapezoid'])
@pytest.mark.parametrize('make', [
    lambda lib: (lib.zeros(1, 0, dtype=lib.bool),),         # empty bool: bool zeros (trapz)
    lambda lib: (lib.zeros(0, dtype=lib.bool),),
    lambda lib: (lib.zeros(3, 1, 0, dtype=lib.int64),),     # empty int: int zeros (trapz)
    lambda lib: (lib.ones(2, 1, dtype=lib.int64),),
    lambda lib: (lib.zeros(2, 0, dtype=lib.float64, requires_grad=True),),
    lambda lib: (lib.tensor([1.0, 2.0, 4.0], dtype=lib.float64, requires_grad=True),
                 lib.tensor([0.0, 1.0, 3.0], dtype=lib.float64)),
    lambda lib: (lib.tensor(True),),                        # 0-d: the dim, then the dtype
    lambda lib: (lib.tensor(1.0),),
    lambda lib: (lib.zeros(2, 1, dtype=lib.bool),),
    lambda lib: (lib.tensor([True, False, True]), lib.tensor([1.0, 2.0, 4.0])),
    lambda lib: (lib.tensor([1.0, 2.0, 4.0]), lib.tensor([True, False, True])),
    lambda lib: (lib.tensor([1.0, 2.0, 4.0]), 2.0),         # a number is not x (dx= is)
    lambda lib: (lib.tensor(1.0), lib.tensor([1.0])),
])
def test_trapezoid_as_pytorch(name, make):
    """Results (dtype and requires_grad included) or exception types, in PyTorch's order of
    checks: x a tensor, the dim, then bool."""
    assert_same_outcome(lambda lib: getattr(lib, name)(*make(lib)))


# ----------------------------------------------------------------------------- refusals

def test_positive_of_bool_raises():
    for lib in (torch, autograd):
        for call in (lambda x: lib.positive(x), lambda x: +x, lambda x: x.positive()):
            with pytest.raises(RuntimeError, match='on a bool tensor is not supported'):
                call(lib.tensor([True, False]))
        assert lib.positive(lib.tensor([1, 2])).tolist() == [1, 2]


@pytest.mark.parametrize('call', [
    lambda lib: lib.cholesky(lib.tensor([[1]])),
    lambda lib: lib.cholesky(lib.tensor([[True]])),
    lambda lib: lib.cholesky_inverse(lib.tensor([[True]])),
    lambda lib: lib.cholesky_inverse(lib.zeros(0, 0, dtype=lib.int64)),
])
def test_old_cholesky_api_of_integers_is_not_implemented(call):
    for lib in (torch, autograd):
        with pytest.raises(NotImplementedError, match='not implemented for'):
            call(lib)


@pytest.mark.parametrize('call', [
    lambda lib: lib.cholesky(lib.tensor([1.0, 2.0])),
    lambda lib: lib.cholesky(lib.zeros(2, 3, dtype=lib.int64)),
    lambda lib: lib.cholesky_inverse(lib.zeros(2, 0)),
    lambda lib: lib.cholesky_inverse(lib.tensor([True, False])),
])
def test_old_cholesky_api_checks_shapes_first(call):
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match='at least 2 dimensions|square matrices'):
            call(lib)


@pytest.mark.parametrize('shape,dtype', [((0,), 'float32'), ((2, 0, 3), 'float32'),
                                         ((0, 0), 'bool'), ((3, 2, 0), 'int64')])
def test_old_cholesky_returns_any_empty_input(shape, dtype):
    assert_same(lambda lib, G: [lib.cholesky(lib.zeros(shape, dtype=getattr(lib, dtype)))])


# ----------------------------------------------------------------------------- statistics

@pytest.mark.parametrize('values', [
    [[1e30, -1e30, 3.0]],           # the float64 accumulation keeps std finite
    [[3e38, 3e38, -1e38]],          # the one-value reduction's float32 mean overflows
    [[0.5, -1.25, 2.0], [3.0, 1.5, -0.5]],
])
@pytest.mark.parametrize('dim', [None, 0, 1])
def test_float32_var_std_as_pytorchs_cpu_kernels(values, dim):
    def fn(lib, G):
        x = lib.tensor(values, dtype=lib.float32)
        args = () if dim is None else (dim,)
        return [lib.std(x, *args), lib.var(x, *args), *lib.std_mean(x, *args),
                *lib.var_mean(x, *args)]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)        # no degrees of freedom, both
        theirs, ours = both(fn)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, equal_nan=True)


def test_std_mean_gradients_as_pytorch():
    def fn(lib, G):
        x = lib.tensor([[0.5, -1.25, 2.0], [3.0, 1.5, -0.5]], requires_grad=True)
        s, m = lib.std_mean(x, 1)
        v, m2 = lib.var_mean(x)
        return G((s * lib.tensor([1.0, -2.0])).sum() + m.sum() * 3 + v + m2, x)
    theirs, ours = both(fn)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)


@pytest.mark.parametrize('call', [
    lambda lib: lib.std_mean(lib.tensor([1e300, -1e300, 1e300], dtype=lib.float64)),
    lambda lib: lib.slogdet(lib.tensor([[1e300, 1e300], [1e300, -1e300]], dtype=lib.float64)),
    lambda lib: lib.linalg.slogdet(lib.tensor([[1e308, 1e308], [1e308, -1e308]],
                                              dtype=lib.float64)),
    lambda lib: lib.det(lib.tensor([[1e300, 1e300], [1e300, -1e300]], dtype=lib.float64)),
    lambda lib: lib.logdet(lib.tensor([[0.0, -2.744], [1.066, -0.0]]).reciprocal()),
    lambda lib: lib.i0(lib.tensor([100.0, inf, 1e30])),
    lambda lib: lib.special.i1(lib.tensor([-100.0, -inf])),
])
def test_no_numpy_warning_from_overflowing_statistics(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ours = call(autograd)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    theirs = call(torch)
    for a, b in zip(ours if isinstance(ours, tuple) else (ours,),
                    theirs if isinstance(theirs, tuple) else (theirs,)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize('dtype', ['bool', 'int64', 'float32'])
@pytest.mark.parametrize('call', [
    lambda lib, x: lib.median(x), lambda lib, x: lib.nanmedian(x),
    lambda lib, x: lib.nanmedian(x, 0), lambda lib, x: lib.median(x, -1, True),
])
@pytest.mark.parametrize('shape', [(0,), (3, 1, 0), (0, 2), (2,), ()])
def test_median_of_empty_and_bool_inputs(dtype, call, shape):
    """The empty value (NaN, the integer minimum, True) or the empty-dim IndexError first,
    then bool's NotImplementedError, as PyTorch's order."""
    def fn(lib, G):
        x = lib.zeros(shape, dtype=getattr(lib, dtype))
        out = call(lib, x)
        return list(out) if isinstance(out, tuple) else [out]
    try:
        expected = both(fn)
    except Exception as error:          # PyTorch refuses: ours must, with its type
        with pytest.raises(type(error)):
            fn(autograd, None)
        return
    theirs, ours = expected
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_nanmedian_of_all_nan_slices_along_a_dim():
    def fn(lib, G):
        x = lib.tensor([[nan, nan], [1.0, nan], [nan, 2.0]], dtype=lib.float64,
                       requires_grad=True)
        values, indices = lib.nanmedian(x, 1)
        return [values, indices, *G(values.nansum(), x)]
    assert_same(fn)


def test_bessel_i_at_infinity_is_nan_as_pytorch():
    def fn(lib, G):
        x = lib.tensor([inf, -inf, 1e300, -700.0, 0.5], dtype=lib.float64)
        return [lib.i0(x), lib.special.i1(x), lib.special.i0e(x), lib.special.i1e(x)]
    assert_same(fn)


@pytest.mark.parametrize('reduce', ['max', 'min', 'median', 'nanmedian'])
def test_gradient_of_a_full_selection_fills_the_selected_elements_only(reduce):
    """PyTorch's CPU evenly_distribute_backward masked-fills the share: an infinite or NaN
    incoming gradient reaches the selected elements, the others get 0 (not 0 * inf)."""
    def fn(lib, G):
        x = lib.tensor([0.0, 1.5, 1.5, -2.0], dtype=lib.float64, requires_grad=True)
        y = getattr(x, reduce)()
        g, = G(y * lib.tensor(inf, dtype=lib.float64), x, create_graph=True)
        return [g]
    assert_same(fn)


def test_median_then_pow_second_derivative():
    """A fuzzed chain: median (0) raised to a tensor power (0): second derivatives with a
    NaN reach only the median's element."""
    def fn(lib, G):
        x = lib.tensor([0.0, 1.221], requires_grad=True)
        e = lib.tensor([0.0], requires_grad=True)
        gx, ge = G((x.median() ** e).sum(), [x, e], create_graph=True)
        return G(gx.sum() + ge.sum(), [x, e])
    assert_same(fn)


@pytest.mark.parametrize('values', [[nan], [inf], [1.5], [1.0, 2.0, 4.0], [[1.0, inf], [2.0, 3.0]]])
@pytest.mark.parametrize('kwargs', [{}, {'dx': 0.5}, {'dim': 0}])
def test_trapezoid_with_constant_spacing_is_pytorchs_form(values, kwargs):
    def fn(lib, G):
        y = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = lib.trapezoid(y, **kwargs)
        return [out, *G(out.sum(), y)]
    assert_same(fn)


@pytest.mark.parametrize('eps', [None, 0.1, 0.0])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_logit_gradients_outside_the_interval_as_pytorch(eps, dtype):
    """NaN outside [0, 1] without eps, 0 outside [eps, 1 - eps] with it; second derivatives
    of PyTorch's where-form."""
    def fn(lib, G):
        dt = getattr(lib, dtype)
        x = lib.tensor([-0.84, 0.0, 0.05, 0.3, 0.5, 0.95, 1.0, 1.3, nan, inf], dtype=dt,
                       requires_grad=True)
        y = lib.logit(x, eps)
        g, = G((y * lib.arange(10, dtype=dt)).sum(), x, create_graph=True)
        return [y, g, *G((g * lib.arange(10, dtype=dt).flip(0)).sum(), x)]
    theirs, ours = both(fn)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)


def test_logit_passes_gradcheck():
    x = autograd.tensor([0.2, 0.7, 0.45], dtype=autograd.float64, requires_grad=True)
    for eps in (None, 0.1):
        assert autograd.gradcheck(lambda t: autograd.logit(t, eps), (x,))
        assert autograd.gradgradcheck(lambda t: autograd.logit(t, eps), (x,))


def test_setitem_of_a_zero_dim_float_that_requires_grad_into_integers():
    """The values as PyTorch's; the integer result does not require grad (PyTorch's does,
    and its backward then fails an internal assertion: docs/DIFFERENCES.md)."""
    def fn(lib, G):
        x = lib.zeros(2, dtype=lib.int64)
        x[...] = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        return [x]
    assert_same(fn)
    x = autograd.zeros(2, dtype=autograd.int64)
    x[...] = autograd.tensor(1.5, dtype=autograd.float64, requires_grad=True)
    assert not x.requires_grad


@pytest.mark.parametrize('fn', ['qr', 'svd'])
def test_fuzzer_normalises_factor_signs(fn):
    """The fuzzer's qr/svd steps compare Q and U with their columns' signs normalised: LAPACK
    implementations may flip a column (and the matching row of R or column of V), and both
    are right."""
    import fuzz_programs as F
    a = np.array([[1.5, -0.3], [0.2, 1.0], [2.0, -1.0]])
    for lib in (torch, autograd):
        q = lib.qr(lib.tensor(a))[0] if fn == 'qr' else lib.svd(lib.tensor(a))[0]
        flipped = q * lib.tensor([-1.0, 1.0], dtype=lib.float64)
        assert np.array_equal(to_numpy(q * F._column_signs(lib, q)),
                              to_numpy(flipped * F._column_signs(lib, flipped)))
    program = {'inputs': [a, np.zeros(1)], 'steps': [(fn, {}), ('exp', {})]}
    assert F.check(program) is None


def test_save_over_a_read_only_file_raises_permission_error(tmp_path, monkeypatch):
    """torch.save opens the file for writing, which a read-only file refuses (for a user
    without the privilege to override it); ours renames a temporary over the file, which
    only the folder's permission governs, so it asks for the file's: PermissionError, the
    file unchanged and no temporary left.  (Tests run as root here, whom nothing refuses:
    the permission check is made to answer as it would for an ordinary user.)"""
    import os
    path = tmp_path / 'state.pt'
    autograd.save({'w': autograd.ones(2)}, path)
    before = path.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda p, mode, *a, **k: False if os.fspath(p) == str(
        path) and mode == os.W_OK else real_access(p, mode, *a, **k))
    with pytest.raises(PermissionError):
        autograd.save({'w': autograd.zeros(2)}, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ['state.pt']
    monkeypatch.undo()
    autograd.save({'w': autograd.zeros(2)}, path)       # writable again: saved
    assert autograd.load(path)['w'].tolist() == [0.0, 0.0]


@pytest.mark.parametrize('f', [
    lambda lib, x: lib.asin(lib.clamp(x, 1, 300)),
    lambda lib, x: lib.asin(lib.clamp(x, max=-1)),
    lambda lib, x: lib.asin(lib.clamp(x, min=1)),
    lambda lib, x: lib.clamp(x, min=nan, max=-1).reciprocal().cos(),
    lambda lib, x: lib.asin(x.clone().fill_(1.0)) * x,
    lambda lib, x: lib.asin(x.clone().zero_() + 1) * x,
])
def test_infinite_gradients_stop_at_clamped_and_filled_elements(f):
    """PyTorch's clamp backward is where(mask, grad, 0) and fill_'s zeros_like(grad): an
    infinite gradient (asin' at 1) gives 0 there, not 0 * inf = NaN; second order too."""
    def fn(lib, G):
        x = lib.tensor([0.5, 3.0, -2.0, 1.0], dtype=lib.float64, requires_grad=True)
        g, = G(f(lib, x).sum(), x, create_graph=True)
        return [g, *G(g.sum(), x, allow_unused=True)]
    assert_same(fn)


@pytest.mark.parametrize('value', [-1.684, [2.0], [inf], [nan], [[2.0]], [2.0, 3.0]])
@pytest.mark.parametrize('f', [
    lambda lib, x: x.var(), lambda lib, x: lib.var_mean(x)[0], lambda lib, x: x.std(),
    lambda lib, x: x.var(correction=3), lambda lib, x: x.var(0),
    lambda lib, x: x.std(correction=2), lambda lib, x: x.var(keepdim=True, dim=None),
])
def test_variance_without_degrees_of_freedom_has_a_constant_gradient(value, f):
    """PyTorch's var_backward without a dim and with N - correction <= 0 is a constant
    (NaN, or inf away from the mean): it does not require grad, so no second order; with a
    dim it is the ordinary formula."""
    def fn(lib, G):
        x = lib.tensor(value, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)
            g, = G(f(lib, x).sum(), x, create_graph=True)
        out = [g, lib.tensor(g.requires_grad)]
        return out + list(G(g.sum(), x)) if g.requires_grad else out
    assert_same(fn)


@pytest.mark.parametrize('p', [2, 3, -2, 0.5, 1, inf, 0])
@pytest.mark.parametrize('values,dim', [([1e38], None), (1e38, None), ([[1e38], [2e38]], -1),
                                        ([[1e38], [2e38]], 0), ([-2.0], None)])
def test_vector_norm_of_one_element_is_its_magnitude(p, values, dim):
    """One element per norm: PyTorch gives |x| (no overflow in x**p); with more, float32
    overflows as PyTorch's does."""
    def fn(lib, G):
        x = lib.tensor(values, requires_grad=True)
        y = lib.linalg.vector_norm(x, p, dim)
        return [y, *G(y.sum(), x)] if p != 0 else [y]
    assert_same(fn)


@pytest.mark.parametrize('shape', [(2, 0), (0, 0), (0, 3), (2, 0, 0), (0,), (3, 2, 0)])
def test_old_cholesky_of_an_empty_non_square_input_refuses_in_backward(shape):
    """torch.cholesky returns any empty input as it is; its backward then refuses what is
    no batch of square matrices (RuntimeError), and passes the others' empty gradient."""
    def outcome(lib):
        G = torch.autograd.grad if lib is torch else autograd.grad
        x = lib.zeros(shape, requires_grad=True)
        y = lib.cholesky(x)
        assert y.requires_grad and tuple(y.shape) == shape
        return G(y.sum(), x)[0]
    assert_same_outcome(outcome)


@pytest.mark.parametrize('exponent', [False, True, 0, 0.0])
def test_pow_with_a_bool_exponent_differentiates_as_pytorch(exponent):
    """PyTorch's zero-exponent shortcut (zeros, no graph) does not catch ``False``: the
    general formula gives NaN at 0 and a second derivative."""
    def fn(lib, G):
        x = lib.tensor([0.0, 2.0], requires_grad=True)
        g, = G((x ** exponent).sum(), x, create_graph=True)
        return [g, *G(g.sum(), x)] if g.requires_grad else [g]
    assert_same(fn)


@pytest.mark.parametrize('a,b', [(2.191, 0.0), (0.0, 0.0), (-1.5, 2.0), (inf, 0.0)])
def test_division_second_derivatives_at_a_zero_divisor(a, b):
    """The divisor's gradient is PyTorch's -g * ((a / b) / b): the same second derivatives
    (NaN, not inf, at b == 0)."""
    def fn(lib, G):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        gx, gy = G(x / y, [x, y], create_graph=True)
        return [gx, gy, *G(gx + gy, [x, y])]
    assert_same(fn)


def test_variance_of_an_empty_tensor_differentiates_silently():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        x = autograd.zeros(1, 0, dtype=autograd.float64, requires_grad=True)
        g, = autograd.grad(x.std(), x, create_graph=True)
    assert tuple(g.shape) == (1, 0)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_printing_values_spanning_the_float_range_is_silent():
    """A fuzzed chain: broadcast_shapes(tensor) raises with the tensor in its message, and
    printing [1e300, 1e-40] computed the magnitude ratio with an overflow warning."""
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        text = repr(autograd.tensor([1e300, 1e-40, nan], dtype=autograd.float64, device='cpu'))
    assert text == repr(torch.tensor([1e300, 1e-40, nan], dtype=torch.float64)).replace(
        'torch.', 'autograd.')


def test_angle_of_a_real_tensor_has_a_constant_zero_gradient():
    """angle(x) of real x is piecewise constant: PyTorch's gradient is zeros that do not
    require grad, and NaN/inf reaching it from later steps stay out."""
    def fn(lib, G):
        x = lib.tensor([0.0, -1.0, 2.0, nan], dtype=lib.float64, requires_grad=True)
        g, = G((lib.angle(x) * inf).sum(), x)
        h, = G(lib.angle(x).sum(), x, create_graph=True)
        return g, h, lib.tensor(float(h.requires_grad))
    assert_same(fn)


def test_det_of_an_empty_batch_has_a_constant_gradient():
    """det of a (0, n, n) batch: the gradient under create_graph does not require grad."""
    def fn(lib, G):
        a = lib.zeros(0, 2, 2, dtype=lib.float64, requires_grad=True)
        g, = G(lib.linalg.det(a).sum(), a, create_graph=True)
        return g, lib.tensor(float(g.requires_grad))
    assert_same(fn)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_remainder_zero_keeps_the_dividends_sign(dtype):
    """remainder(-0., 1) is -0. and remainder(0., -1.269) is 0. (PyTorch: fmod, then + b
    where the signs differ); the sign reaches digamma's infinities."""
    def fn(lib, G):
        a = lib.tensor([0.0, -0.0, 0.0, -0.0, 2.0, -2.0], dtype=getattr(lib, dtype))
        b = lib.tensor([1.0, 1.0, -1.269, -1.269, 1.0, -1.0], dtype=getattr(lib, dtype))
        r = lib.remainder(a, b)
        return r, lib.signbit(r), lib.digamma(r), lib.remainder(a, 1.0), lib.remainder(a, -1.0)
    assert_same(fn)


def test_frexp_of_subnormals_is_silent():
    def fn(lib, G):
        x = lib.tensor([1e-40, 1.0, inf, -3.0], dtype=lib.float32, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            m, e = lib.frexp(x)
            g, = G(m.sum(), x)
        return m, e, g
    assert_same(fn)


def test_remainder_of_a_float_by_an_int_tensor_keeps_the_default_dtype():
    def fn(lib, G):
        x = lib.tensor([0, -1, 0, 3])
        return lib.remainder(inf, x), lib.remainder(2.5, x), lib.remainder(x, 2.5), \
            lib.remainder(x.float(), x)
    assert_same(fn)


def test_backward_of_a_complex_scalar_needs_a_gradient():
    for lib in (torch, autograd):
        x = lib.zeros(2, requires_grad=True)
        with pytest.raises(RuntimeError, match='only for real scalar outputs but got'):
            lib.view_as_complex(x).backward()


def test_in_place_narrowing_cast_overflows_silently():
    """add_ of a float64 1e300 into float32: inf, silently (the cast in the write)."""
    def fn(lib, G):
        x = lib.tensor([1.0, 2.0], dtype=lib.float32)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            x.add_(lib.tensor([1e300, -1e300], dtype=lib.float64))
            x.add_(lib.tensor([1.0, 1.0], dtype=lib.float64), alpha=0.5)
        return (x,)
    assert_same(fn)


@pytest.mark.parametrize('sa, sb', [((2,), (2,)), ((0,), (0,)), ((2, 2), (2, 2)), ((2, 2), (2,)),
                                    ((2,), (2, 2)), ((2, 2, 2), (2, 2, 2)), ((2, 2, 2), (2,)),
                                    ((2, 0), (0, 2)), ((0, 2), (2,)), ((3,), (3, 0))])
def test_matmul_of_bool_tensors_refuses_as_pytorch(sa, sb):
    """PyTorch's kernel names ("dot", "addmv_impl_cpu", "bmm", "addmm_impl_cpu_"); empty
    products other than dot return."""
    outcome = []
    for lib in (torch, autograd):
        a, b = lib.zeros(sa, dtype=lib.bool), lib.zeros(sb, dtype=lib.bool)
        try:
            outcome.append(('value', tuple((a @ b).shape)))
        except NotImplementedError as e:
            outcome.append(('raise', str(e)))
    assert outcome[0] == outcome[1]


def test_sinc_second_derivative_matches_pytorch_away_from_zero():
    """Values, gradients and second derivatives of sinc over a broadcast batch, including
    points near 0 where the gradient is its Taylor polynomial (|pi x| < 1e-3)."""
    x = np.array([[-2.5, -0.3, 1e-2, 0.7], [1.0, 2.0, -1.5, 3e-3]])
    check_op(lambda lib, t: lib.sinc(t) * 2.0, x)
    check_op(lambda lib, t, u: lib.sinc(t * u), x, np.array([0.5, -1.5, 2.0, 1.0]))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sinc_second_derivative_at_zero_is_the_true_value(dtype):
    """d2/dx2 sinc(x) at 0 is -pi^2/3 (PyTorch: NaN, documented in docs/DIFFERENCES.md);
    the first derivative is 0 there, as PyTorch's, whatever the incoming gradient."""
    def fn(lib, G):
        x = lib.tensor([0.0, -0.0, 2e-4, 0.5], dtype=getattr(lib, dtype), requires_grad=True)
        g, = G(lib.sinc(x).sum(), x, create_graph=True)
        g2, = G(g.sum(), x)
        gi, = G(lib.sinc(x[:2]), x, lib.tensor([inf, nan], dtype=getattr(lib, dtype)))
        return g, g2, gi
    theirs, ours = both(fn)
    np.testing.assert_array_equal(ours[2], theirs[2])          # 0 where x == 0
    assert np.isnan(theirs[1][:2]).all()
    np.testing.assert_allclose(ours[1][:2], -math.pi ** 2 / 3, rtol=1e-6)
    # at 0.5 as PyTorch; at 2e-4 the true values (PyTorch's float32 formula cancels there)
    tol = dict(rtol=2e-5) if dtype == 'float32' else dict(rtol=1e-9)
    np.testing.assert_allclose(ours[0][[0, 1, 3]], theirs[0][[0, 1, 3]], **tol)
    np.testing.assert_allclose(ours[1][3], theirs[1][3], **tol)
    u = math.pi * 2e-4
    np.testing.assert_allclose(ours[0][2], math.pi * (u ** 3 / 30 - u / 3), rtol=1e-6)
    np.testing.assert_allclose(ours[1][2], math.pi ** 2 * (u ** 2 / 10 - 1 / 3), rtol=1e-6)
    if dtype == 'float64':
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)
    x = autograd.tensor([0.0, 1e-4, -3e-4, 0.25], dtype=autograd.float64, requires_grad=True)
    assert autograd.autograd.gradcheck(autograd.sinc, (x,))
    assert autograd.autograd.gradgradcheck(autograd.sinc, (x,))


@pytest.mark.parametrize('shapes', [[(0,), (0,)], [(0,), (3,)], [(2, 0), (2, 0)],
                                    [(0,), (2, 3)], [(0, 3), (2, 3)]])
def test_second_derivative_through_a_cat_of_empty_tensors(shapes):
    """A (0,) input's gradient from cat is fresh zeros (PyTorch's cat backward), with no
    graph behind it: no second derivative through it; other empty shapes keep theirs."""
    def fn(lib, G):
        xs = [lib.ones(s, dtype=lib.float64, requires_grad=True) for s in shapes]
        out = lib.cat(xs, 0 if len(shapes[1]) == 1 or shapes[0] != (0,) else 0).abs()
        gs = G((out * out).sum(), xs, create_graph=True)
        used = [g for g in gs if g.requires_grad]
        rg = [lib.tensor(float(g.requires_grad)) for g in gs]
        g2 = list(G(sum(g.sum() for g in used), xs, allow_unused=True)) if used else []
        return [*gs, *rg, *g2]
    assert_same(fn)


@pytest.mark.parametrize('fn', ['zeros', 'ones', 'empty', 'rand', 'randn'])
def test_creation_without_a_size_raises_type_error(fn):
    """zeros() is a TypeError (PyTorch); zeros(()) and zeros([]) are 0-d."""
    messages = []
    for lib in (torch, autograd):
        with pytest.raises(TypeError) as info:
            getattr(lib, fn)()
        messages.append(str(info.value).split('\n')[0])
        assert getattr(lib, fn)(()).shape == getattr(lib, fn)([]).shape == ()
        assert tuple(getattr(lib, fn)(2, 0).shape) == (2, 0)
    assert messages[0] == messages[1]


@pytest.mark.parametrize('case', [
    lambda lib: lib.tensor(True).pow_(lib.tensor([True])),
    lambda lib: lib.tensor(1).add_(lib.tensor([1.5])),
    lambda lib: lib.tensor(True).mul_(lib.tensor([1.0, 2.0])),
    lambda lib: lib.tensor(1).div_(lib.tensor([1])),
    lambda lib: lib.tensor(1).clamp_(min=lib.tensor([0.5])),
    lambda lib: lib.tensor(1).copysign_(lib.tensor([1.0])),
    lambda lib: lib.tensor(1).remainder_(lib.tensor([1.5])),
    lambda lib: lib.tensor(1.0).lerp_(lib.tensor([1.0]), 0.5),
    lambda lib: lib.tensor([1.0]).ldexp_(lib.tensor([[1.0], [2.0]])),
    lambda lib: lib.tensor(1).__iadd__(lib.tensor([1.5])),
    lambda lib: lib.tensor([1, 2]).add_(lib.tensor([1.5])),      # same shape: the cast
    lambda lib: lib.tensor(True).pow_(2),
])
def test_in_place_ops_check_the_broadcast_shape_before_the_dtype(case):
    """PyTorch checks that the result broadcasts into self before the dtype cast and the
    kernel's dtype checks: the same exception type and message."""
    outcome = []
    for lib in (torch, autograd):
        with pytest.raises(Exception) as info:
            case(lib)
        outcome.append((type(info.value), str(info.value).split(' (')[0]))
    assert outcome[0][0] is outcome[1][0]
    if 'broadcast shape' in outcome[0][1]:
        assert outcome[0][1] == outcome[1][1]


def test_device_without_an_index_keeps_index_none():
    """device('cuda') prints 'cuda' and has index None (PyTorch); a tensor put there is
    on the current device, cuda:0."""
    if not autograd.cuda.is_available():
        pytest.skip('needs the cuda device (the CI cuda leg runs it on the CuPy stand-in)')
    for lib in (torch, autograd):
        d = lib.device('cuda')
        assert (repr(d), str(d), d.index, d.type) == ("device(type='cuda')", 'cuda', None, 'cuda')
        assert str(lib.device('cuda', 0)) == str(lib.device('cuda:0')) == 'cuda:0'
        assert lib.device(d) == d and str(lib.device(d)) == 'cuda'
    d = autograd.device('cuda')
    x = autograd.zeros(2, device=d)
    assert str(x.device) == 'cuda:0' and x.device.index == 0
    assert (x + autograd.ones(2).to(d)).device == x.device
    import pickle
    assert str(pickle.loads(pickle.dumps(d))) == 'cuda'


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_det_gradient_of_a_matrix_holding_nan_or_inf(dtype):
    """acos makes NaN of entries beyond [-1, 1]; det's backward then gives NaN (and inf)
    as PyTorch's instead of an SVD that does not converge; finite matrices of the same
    batch keep their gradients."""
    def fn(lib, G):
        a = lib.tensor([[[-1.62, -0.172], [-0.172, -1.393]], [[0.5, 0.2], [0.1, 0.3]],
                        [[2.0, 1.0], [2.0, 1.0]]], dtype=getattr(lib, dtype),
                       requires_grad=True)
        b = lib.tensor([[[inf, 1.0], [2.0, 3.0]]], dtype=getattr(lib, dtype),
                       requires_grad=True)
        return [*G(lib.det(lib.acos(a)).sum(), a), *G(lib.det(b).sum(), b),
                *G(lib.linalg.slogdet(lib.acos(a))[1].sum(), a)]
    theirs, ours = both(fn)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, equal_nan=True)


def test_frexp_gradient_is_the_true_value_within_float32s_exponent_range():
    """g / 2^exponent: as PyTorch's where 2^exponent fits float32; beyond, PyTorch's
    float32 2^exponent is inf or 0 (docs/DIFFERENCES.md) and ours the true value."""
    def fn(lib, G):
        x = lib.tensor([[3.0, -0.7], [1e-30, 5e20]], dtype=lib.float64, requires_grad=True)
        m, _ = lib.frexp(x)
        return G((m * m).sum(), x, create_graph=True)
    assert_same(fn)
    x = autograd.tensor([1e-300, 1e300], dtype=autograd.float64, requires_grad=True)
    g, = autograd.grad(autograd.frexp(x)[0].sum(), x)
    _, e = np.frexp(np.array([1e-300, 1e300]))
    np.testing.assert_allclose(g.cpu().numpy(), np.ldexp(1.0, -e), rtol=1e-15)
    theirs = torch.tensor([1e-300, 1e300], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.grad(torch.frexp(theirs)[0].sum(), theirs)[0].tolist() == [inf, 0.0]


@pytest.mark.parametrize('key', [Ellipsis, slice(None), (slice(None), Ellipsis), slice(0, 9)])
@pytest.mark.parametrize('value', ['tensor', '0-d', 'number', 'int', 'grad'])
def test_setitem_of_the_whole_tensor_is_a_copy(key, value):
    """x[...] = v (or x[:] = v) selects all of x: PyTorch writes with copy_ (fill_ for a
    number), whose gradient for the old x is a constant zeros; v's gradient is summed."""
    def fn(lib, G):
        x = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        v = {'tensor': lambda: lib.tensor([5.0, 6.0, 7.0], dtype=lib.float64),
             'int': lambda: lib.tensor([1, 2, 3]), '0-d': lambda: lib.tensor(4.0),
             'number': lambda: 2.5, 'grad': lambda: w * w}[value]()
        t = x * x
        t[key] = v
        g = G((t * t).sum() + (x ** 3).sum(), [x, w], create_graph=True, allow_unused=True)
        g = [lib.zeros(()) if gi is None else gi for gi in g]
        rg = [lib.tensor(float(gi.requires_grad)) for gi in g]
        used = [gi for gi in g if gi.requires_grad]
        g2 = G(sum(gi.sum() for gi in used), [x, w], allow_unused=True)
        return [*g, *rg, *g2]
    assert_same(fn)


def test_std_of_an_overwritten_empty_tensor_has_no_second_derivative():
    """The seed-47 program: an empty x overwritten (x[...] = bool[0]), then std_mean."""
    def fn(lib, G):
        x = lib.zeros((3, 3, 0), dtype=lib.float32, requires_grad=True)
        t = x.clone()
        t[...] = lib.zeros((0,), dtype=lib.bool)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)
            s, m = lib.std_mean(t)
        g, = G(s + m, x, create_graph=True)
        return [g, lib.tensor(float(g.requires_grad))]
    assert_same(fn)


def test_fmod_where_the_quotient_overflows_is_the_exact_remainder():
    """fmod(-1e300, 1e-30): C's exact remainder, as PyTorch's scalar path gives (its
    vectorised kernel, for longer tensors, gives NaN: docs/DIFFERENCES.md)."""
    a = np.array([-1e300, 1e300, 5.0, 1e-300])
    theirs = torch.fmod(torch.tensor(a[:1]), 1e-30).item()      # the scalar path
    ours = autograd.fmod(autograd.tensor(np.tile(a, 4)), 1e-30).cpu().numpy()
    np.testing.assert_array_equal(ours, np.tile(np.fmod(a, 1e-30), 4))
    assert ours[0] == theirs
    # remainder likewise (the seed-77 class): PyTorch's scalar path, Python's modulo
    theirs = torch.remainder(torch.tensor(a[:2]), 1e-40)
    ours = autograd.remainder(autograd.tensor(np.tile(a, 4)), 1e-40).cpu().numpy()
    np.testing.assert_array_equal(ours, np.tile(np.remainder(a, 1e-40), 4))
    assert ours[0] == torch.remainder(torch.tensor(a[0]), 1e-40).item() == a[0] % 1e-40
    assert np.isnan(theirs.numpy()).all() or theirs.tolist() == ours[:2].tolist()


@pytest.mark.parametrize('sx, sv', [((), (1,)), ((), (1, 1)), ((2, 3), (1, 1, 3)), ((3,), (1, 3))])
def test_setitem_of_the_whole_tensor_drops_the_values_leading_ones(sx, sv):
    """The seed-48 program: x0d[...] = v[1] (PyTorch drops v's leading 1s, then copies)."""
    def fn(lib, G):
        x = lib.ones(sx, dtype=lib.float64, requires_grad=True)
        v = lib.full(sv, 3.0, dtype=lib.float64, requires_grad=True)
        t = x * 2
        t[...] = v * v
        return [t, *G((t * t).sum(), [x, v], allow_unused=True)]
    assert_same(fn)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_trigamma_at_a_pole_is_inf(dtype):
    """polygamma(1, x) at x = 0, -1, -2: inf here (the limit), a large finite rounding
    residue in PyTorch (docs/DIFFERENCES.md); elsewhere the same values."""
    x = np.array([0.0, -1.0, -2.0, -1.5, 0.5, 3.0], dtype=dtype)
    ours = autograd.polygamma(1, autograd.tensor(x)).cpu().numpy()
    theirs = torch.polygamma(1, torch.tensor(x)).numpy()
    assert np.isposinf(ours[:3]).all() and np.isposinf(theirs[0])      # 0: inf in both
    assert np.isfinite(theirs[1:3]).all() and (theirs[1:3] > 1e14).all()
    np.testing.assert_allclose(ours[3:], theirs[3:], rtol=1e-5 if dtype == 'float32' else 1e-8)


@pytest.mark.parametrize('upper', [False, True])
@pytest.mark.parametrize('shape', [(0, 1, 1), (0, 2, 2), (2, 0, 0)])
def test_old_cholesky_of_an_empty_batch_has_second_derivatives(shape, upper):
    """The seed-50 programs: torch.cholesky of an empty batch of float matrices goes the
    factorization's way, so its gradient has a graph (PyTorch's second derivative)."""
    def fn(lib, G):
        x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        y = lib.cholesky(lib.cholesky(x, upper=upper))
        g, = G(y.sum(), [x], create_graph=True)
        return [y, g, *G(g.sum(), [x], allow_unused=True)]
    assert_same(fn)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('expr', [
    'L.ceil(x)', 'L.floor(x)', 'L.trunc(x)', 'L.round(x)', 'L.round(x, decimals=2)',
    'L.median(x)', 'L.median(x, 0)', 'L.nanmedian(x)', 'L.nanmedian(x, 0)', 'x.median()',
    'L.unique(x)', 'L.unique(x, dim=0)', 'L.unique_consecutive(x)', 'x.unique()',
    'L.unique_consecutive(x, dim=0)', 'L.bincount(x)', 'L.nansum(x)', 'L.nansum(x, 0)',
    'L.signbit(x)', 'L.isposinf(x)', 'L.isneginf(x)', 'L.bitwise_not(x)', '~x'])
def test_complex_input_refused_as_pytorch_refuses(expr, dtype):
    """The seed-52 class (ceil of a complex tensor leaked NumPy's TypeError), and every
    function a sweep of the ops' tables found refusing complex input differently from
    PyTorch 2.13 (or not at all): the same exception type and message."""
    errors = []
    for L in (torch, autograd):
        x = L.view_as_complex(L.tensor([[0.5, 1.0], [2.0, -1.0]], dtype=getattr(L, dtype)))
        with pytest.raises(Exception) as info:
            eval(expr)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_view_as_complex_keeps_a_finite_part_beside_a_nan_part(dtype):
    """The seed-54 program: view_as_complex of (0.2965, NaN) is 0.2965 + NaN j (the parts
    as they are, as PyTorch's view), not NaN + NaN j."""
    a = np.array([[0.2965, np.nan], [np.nan, 1.0], [np.inf, -0.0]], dtype=dtype)
    ours = autograd.view_as_complex(autograd.tensor(a)).cpu().numpy()
    theirs = torch.view_as_complex(torch.tensor(a)).numpy()
    assert ours.dtype == theirs.dtype
    for part in (np.real, np.imag):
        np.testing.assert_array_equal(part(ours), part(theirs))
        np.testing.assert_array_equal(np.signbit(part(ours)), np.signbit(part(theirs)))


def test_sinc_second_derivative_near_zero_is_the_true_value():
    """The seed-54 program: sinc(sinc(x * y)) at x = y = -3 (the inner sinc is 1e-18):
    d2/dx2 + d2/dxdy = -0.73108180748810 (mpmath, 50 digits); PyTorch's formula gives 0."""
    x = autograd.tensor(-3.0, dtype=autograd.float64, requires_grad=True)
    y = autograd.tensor(-3.0, dtype=autograd.float64, requires_grad=True)
    out = autograd.sinc(autograd.sinc(x * y))
    gx, gy = autograd.autograd.grad(out, [x, y], create_graph=True)
    h, = autograd.autograd.grad(gx + gy, [x])
    assert abs(h.item() - (-0.7310818074881006)) < 1e-12


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fn', ['svd', 'svdvals', 'pinv', 'matrix_rank', 'matrix_norm'])
def test_svd_of_a_matrix_holding_inf_returns(fn, dtype):
    """The seed-58 program hung: OpenBLAS's gesdd never returns on a matrix holding inf.
    Such a batch element's U and S are NaN, as PyTorch's; the others are factored."""
    a = np.array([[[-np.inf, -2.0, -0.5], [-np.inf, 0.9, 0.4], [-0.0, -0.3, -1.5]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]]], dtype=dtype)
    out = []
    for lib in (torch, autograd):
        f = {'svd': lambda A: lib.linalg.svd(A, full_matrices=False)[1],
             'matrix_norm': lambda A: lib.linalg.matrix_norm(A, ord=2)}.get(
                 fn, getattr(lib.linalg, fn))
        out.append(to_numpy(f(lib.tensor(a))))
    ours, theirs = out
    if fn == 'matrix_rank':         # NaN singular values count as none here, 3 in PyTorch
        assert ours[1] == theirs[1] == 3
        return
    np.testing.assert_array_equal(np.isnan(ours[0]), np.isnan(theirs[0]))
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5 if dtype == 'float32' else 1e-12)


def test_svd_of_a_matrix_holding_nan_raises_pytorchs_error():
    a = np.eye(3)[None].repeat(2, 0)
    a[1, 0, 0] = np.nan
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match=r'linalg.svd: \(Batch element 1\): The '
                           'algorithm failed to converge because the input matrix contained '
                           'non-finite values'):
            lib.linalg.svd(lib.tensor(a))


def test_clamp_bool_by_two_tensor_bounds_is_not_implemented_as_pytorch():
    """The seed-60 class: one bool tensor bound is maximum/minimum (bool is fine), both
    are clamp's kernel, which PyTorch has no bool version of; nothing is changed in place."""
    for lib in (torch, autograd):
        b = lib.tensor([False, True])
        for call in (lambda: lib.clamp(b, min=b, max=b), lambda: b.clamp_(min=b, max=b)):
            with pytest.raises(NotImplementedError, match='"clamp_cpu" not implemented for '
                                                          "'Bool'"):
                call()
        assert b.tolist() == [False, True]
        assert lib.clamp(b, min=b).dtype == lib.bool
        assert lib.clamp(b, min=b, max=lib.tensor(1)).tolist() == [0, 1]


def test_pow_by_a_huge_scalar_second_derivative_groups_as_pytorch():
    """The seed-62 class: d/da (g * (b * a^(b-1))) meets its factors as 1e30 * (1e30 * 0)
    in float32 (0), not (1e30 * 1e30) * 0 (NaN)."""
    def fn(lib, G):
        x = lib.tensor(-1.941, requires_grad=True)
        y = lib.expm1(x) ** 1e30
        g, = G(y, x, create_graph=True)
        return [y, g, G(g, x)[0]]
    assert_same(fn)


def test_old_cholesky_of_a_matrix_holding_inf_raises_quietly_with_pytorchs_message():
    """The seed-62 class: finding the failing minor of a matrix holding inf warned
    (inf - inf); the deprecated ``cholesky`` names itself as PyTorch's does."""
    a = np.array([[[1.0, 0.5], [0.5, 1.0]], [[1.001, inf], [inf, inf]]])
    messages = []
    for lib in (torch, autograd):
        with warnings.catch_warnings():
            warnings.simplefilter('error', RuntimeWarning)
            with pytest.raises(Exception) as e:
                lib.cholesky(lib.tensor(a))
        assert type(e.value).__name__.endswith('LinAlgError')
        messages.append(str(e.value))
    assert messages[0] == messages[1] and messages[0].startswith('cholesky: (Batch element 1)')


def test_prod_gradient_where_the_product_underflows_is_the_product_of_the_others():
    """The seed-62 class (documented): no factor is 0 but the product underflows to -0;
    each factor's gradient is the product of the others (PyTorch's prod / x gives 0)."""
    x = autograd.tensor([1.09e-41, 2.788e-300, -1e260], dtype=autograd.float64,
                        requires_grad=True)
    p = x.prod()
    p.backward()
    assert p.item() == 0
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2.788e-300 * -1e260, 1.09e-41 * -1e260, 0.0],
                               rtol=1e-15)



def test_cumprod_over_a_dim_of_size_one_passes_the_gradient_through():
    """The seed-64 class: as PyTorch's, the gradient has no graph through x there, so a
    second derivative asked of it is PyTorch's error, not zeros."""
    for lib in (torch, autograd):
        x = lib.tensor([[[-2.0, -0.0]]], requires_grad=True)
        g, = lib.autograd.grad(lib.cumprod(x * 3, dim=1).sum(), x, create_graph=True)
        assert not g.requires_grad and g.tolist() == [[[3.0, 3.0]]]


def test_block_diag_gradient_of_an_empty_block_is_fresh_zeros():
    """The seed-64 class: PyTorch's block_diag gives an empty 1-d input fresh zeros, so
    the second derivative does not reach the other factor: PyTorch's 'not used' error."""
    errors = []
    for lib in (torch, autograd):
        a = lib.tensor(np.zeros(0), requires_grad=True)
        b = lib.tensor([0.0], requires_grad=True)
        out = lib.block_diag(lib.acos(lib.abs(a))) * b
        ga, gb = lib.autograd.grad(out.sum(), [a, b], create_graph=True)
        assert ga.requires_grad and gb.requires_grad
        with pytest.raises(RuntimeError) as e:
            lib.autograd.grad(ga.sum() + gb.sum(), [a, b])
        errors.append(str(e.value))
    assert all('appears to not have been used in the graph' in e for e in errors)


def test_matrix_exp_of_a_non_normal_matrix_is_not_overscaled():
    """The seed-65 class: scaled by its 1-norm (1e38: 124 squarings), [[1, -1e38], [-1, -1]]
    lost its eigenvalues (+-1e19) to the approximant's rounding and came out 0; scaled by
    max(||A^4||^(1/4), ||A^5||^(1/5)) it overflows as the true value does (PyTorch's).  A
    non-normal triangular matrix: its diagonal is exp of A's to rounding (PyTorch's is
    2e-12 off), the rest SciPy's."""
    def fn(lib, G):
        return [lib.matrix_exp(lib.tensor([[1.0, -1e38], [-1.0, -1.0]], dtype=lib.float64))]
    assert_same(fn)
    scipy_linalg = pytest.importorskip('scipy.linalg')
    b = np.array([[0.5, 2e4, -3e2], [0.0, -0.25, 7e3], [0.0, 0.0, 0.1]])
    ours = to_numpy(autograd.matrix_exp(autograd.tensor(b)))
    np.testing.assert_allclose(np.diag(ours), np.exp(np.diag(b)), rtol=1e-14)
    np.testing.assert_allclose(ours, scipy_linalg.expm(b), rtol=1e-11)


def test_matrix_exp_of_a_far_from_normal_matrix_is_balanced():
    """The seed-76 class: scaled by its norm, [[0.5, -2], [-1e300, 1]] needed about 1,000
    squarings of an approximant whose tiny entries had rounded away against 1, and came
    out NaN (or a wrong finite matrix for 1e200) where the exponential overflows (PyTorch:
    inf).  Balanced first (D^-1 A D, D powers of two) it overflows as it should, in a batch
    with a matrix that needs no balancing; a finite far-from-normal D^-1 B D is exp's
    D^-1 exp(B) D to 1e-12 elementwise (PyTorch's is 9% off in its smallest entry)."""
    def fn(lib, G):
        big = [lib.matrix_exp(lib.tensor([[[0.5, -2.0], [-b, 1.0]], [[1.0, 0.0], [0.0, -1.0]]],
                                         dtype=lib.float64)) for b in (1e300, 1e200, 1e100)]
        return big + [lib.matrix_exp(lib.tensor([[0.5, -2.0], [-1e100, 1.0]]).double())]
    assert_same(fn)
    scipy_linalg = pytest.importorskip('scipy.linalg')
    b = np.array([[0.5, -2.0, 0.25], [-3.0, 1.0, 0.5], [1.0, 0.125, -1.5]])
    d = 2.0 ** np.array([0, -30, 20])
    a = b * d[None, :] / d[:, None]
    expected = scipy_linalg.expm(b) * d[None, :] / d[:, None]
    ours = to_numpy(autograd.matrix_exp(autograd.tensor(a)))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_matrix_exp_of_one_by_one_matrices_is_exp():
    """The seed-66 class: PyTorch's matrix_exp of 1 x 1 matrices is exp itself (bit for
    bit, and exp(-inf) = 0 where the approximant gives NaN)."""
    def fn(lib, G):
        x = lib.tensor([[[-inf]], [[3.0]], [[0.5]]], dtype=lib.float64)
        return [lib.matrix_exp(x), lib.matrix_exp(x.float())]
    assert_same(fn)


def test_fuzzer_compares_matrix_functions_normwise():
    """The seed-66 class: a float32 inverse whose exact 0 entry is rounding noise of the
    matrix's size on both sides is agreement; a difference beyond that is not."""
    import fuzz_programs as F
    a = np.array([[-250.0, -1.6e-9], [77.3, -0.917]], dtype=np.float32)
    b = np.array([[-250.0, -2.2e-5], [77.3, -0.917]], dtype=np.float32)
    assert F._same(a, b, True) is not None and F._normwise_close(a, b, True)
    assert not F._normwise_close(a, b + np.float32(0.1), True)
    assert not F._normwise_close(a, np.where(b == b[0, 1], np.nan, b), True)


def test_integer_lerp_checks_shapes_before_the_kernel_and_copy_casts_quietly():
    """The seed-68 classes: lerp of int64 tensors that do not broadcast is PyTorch's shape
    RuntimeError, not the kernel's NotImplementedError; writing 1e300 into a float32 tensor
    gives inf without a NumPy warning."""
    for lib in (torch, autograd):
        a, b = lib.zeros(2, 0, 1, dtype=lib.int64), lib.zeros(2, 1, dtype=lib.int64)
        with pytest.raises(RuntimeError, match='must match the size of tensor b'):
            lib.lerp(a, b, 0.5)
        with pytest.raises(NotImplementedError, match='lerp_kernel_scalar'):
            lib.lerp(b, b, 0.5)
        t = lib.zeros(2)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            t[...] = lib.tensor(1e300, dtype=lib.float64)
            t.copy_(lib.tensor([-1e300, 2.0], dtype=lib.float64))
        assert t.tolist() == [-inf, 2.0]


def test_logdet_of_a_negative_determinant_has_no_gradient():
    """The seed-69 class: PyTorch's logdet is where(sign == -1, nan, logabsdet), so the
    gradient is zero where det < 0 (ours had logabsdet's); first and second order."""
    def fn(lib, G):
        x = lib.tensor([[[-0.176]]], dtype=lib.float64, requires_grad=True)
        a = lib.tensor([[[-2.0, 0.3], [0.1, 1.0]], [[2.0, 0.3], [0.1, 1.0]]],
                       dtype=lib.float64, requires_grad=True)
        y = lib.logdet(x) * 2 + lib.logdet(a).sum()
        gx, ga = G(y.sum(), [x, a], create_graph=True)
        return [y, gx, ga, G(ga.sum(), a)[0]]
    assert_same(fn)


def test_qr_reads_negative_zero_as_zero_and_pinv_overflows_quietly():
    """The seed-71 classes: qr of a matrix whose column starts with -0.0 (NumPy's LAPACK
    takes the reflector's sign from -0.0 as negative, PyTorch's as positive: Q's columns
    and R's rows came out negated); pinv of a float32 matrix of subnormals overflows to
    inf without a NumPy warning."""
    def fn(lib, G):
        a = lib.tensor([[[-0.0, 0.0], [0.382, -0.0], [0.469, 0.0]],
                        [[-0.0, 1.0], [0.382, 2.0], [0.469, 0.0]]], dtype=lib.float64,
                       requires_grad=True)
        q, r = lib.linalg.qr(a)
        w = lib.arange(6.0, dtype=lib.float64).view(3, 2)
        ga, = G((q[1] * w).sum() + r[1].sum(), a)       # the full-rank matrix's gradient
        return [q, r, ga]
    assert_same(fn)
    for lib in (torch, autograd):
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            p = lib.linalg.pinv(lib.tensor([[1e-40], [1e-40]], dtype=lib.float32))
        assert p.tolist() == [[inf, inf]]


@pytest.mark.parametrize('upper', [True, False])
@pytest.mark.parametrize('left', [True, False])
def test_solve_triangular_with_a_singular_matrix_in_the_batch(upper, left):
    """Found behind the seed-71 qr class: a batch holding an exactly singular triangular
    matrix goes through substitution (LAPACK's inf/NaN there); with ``left=False`` it
    solved against A instead of A^T, so the batch's regular matrices came out wrong."""
    low = np.array([[[0.0, 0.0], [0.0, 2.0]], [[0.6, 0.0], [1.3, 2.0]]])
    a = np.swapaxes(low, -1, -2) if upper else low
    b = np.arange(1.0, 7.0).reshape(1, 3, 2).repeat(2, 0)
    b = b if not left else np.swapaxes(b, -1, -2)

    def fn(lib, G):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        out = lib.linalg.solve_triangular(x, y, upper=upper, left=left)
        return [out] + list(G(out[1].sum(), [x, y]))
    assert_same(fn)


def test_nan_to_num_gradient_multiplies_by_isfinite_and_int64_min_powers():
    """The seed-75 classes: nan_to_num's gradient is PyTorch's grad * isfinite(x), so a NaN
    gradient stays NaN where x is not finite (ours masked with where: 0), to second order
    through fmod by zero; an integer tensor to the power int64 min is 0 (abs(int64 min)
    overflowed, and NumPy's refusal came out as a broadcasting error)."""
    def fn(lib, G):
        a = lib.tensor([[-0.0, 0.0], [-0.871, 0.0], [-0.33, 1.772]], dtype=lib.float64,
                       requires_grad=True)
        b = lib.tensor([0.532, -1.677], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([nan, 1.0, inf], dtype=lib.float64, requires_grad=True)
        z = lib.expm1(lib.nan_to_num(lib.fmod(b, a)))
        g = G(z.sum(), [a, b], create_graph=True)
        gx, = G((lib.nan_to_num(x) * lib.tensor([nan, nan, inf], dtype=lib.float64)).sum(), x)
        return list(g) + list(G(g[0].sum() + g[1].sum(), [a, b])) + [gx]
    assert_same(fn)
    for lib in (torch, autograd):
        m = lib.tensor(-2 ** 63)
        v = lib.tensor([-2 ** 63, -3, -1, 0, 1, 2])
        assert (m ** m).item() == 0
        assert (v[:, None] ** v).tolist() == (torch.tensor(v.tolist())[:, None] **
                                              torch.tensor(v.tolist())).tolist()


_OVERFLOWING_SOLVES = [
    lambda lib, a: lib.linalg.solve(a, lib.ones(1, 1)),
    lambda lib, a: lib.linalg.solve(a, lib.ones(1)),
    lambda lib, a: lib.linalg.solve_ex(a, lib.ones(1, 1)).result,
    lambda lib, a: lib.linalg.tensorsolve(a, lib.ones(1)),
    lambda lib, a: lib.linalg.inv(a), lambda lib, a: lib.linalg.inv_ex(a).inverse,
    lambda lib, a: lib.linalg.solve_triangular(a, lib.ones(1, 1), upper=True),
    lambda lib, a: lib.cholesky_solve(lib.ones(1, 1), a), lambda lib, a: lib.cholesky_inverse(a),
]


@pytest.mark.parametrize('call', _OVERFLOWING_SOLVES)
def test_a_float32_solve_that_overflows_is_inf_quietly(call):
    """The seed-81 class: float32 [[1e-40]] is not singular, its inverse overflows.  PyTorch
    gives inf with no error; ours leaked NumPy's 'overflow encountered in cast', and solve
    (so solve_ex and tensorsolve) raised 'the input matrix is singular'.  A zero pivot still
    raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ours = to_numpy(call(autograd, autograd.tensor([[1e-40]])))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    np.testing.assert_array_equal(ours, to_numpy(call(torch, torch.tensor([[1e-40]]))))
    with pytest.raises(torch.linalg.LinAlgError, match='singular'):
        torch.linalg.solve(torch.zeros(2, 1, 1), torch.ones(2, 1, 1))
    with pytest.raises(autograd.linalg.LinAlgError, match='singular'):
        autograd.linalg.solve(autograd.tensor([[[1e-40]], [[0.0]]]), autograd.ones(2, 1, 1))


def test_seed_87_variance_of_equal_large_values_then_heaviside():
    """Fuzz seed 87: var of 42 equal float64 1e38s gave 3.3e45 here (NumPy's mean is an
    ulp off, and var kept its square), 0 in PyTorch; heaviside after it turned that into a
    different answer."""
    def fn(lib, G):
        x = lib.full((14, 3), 1e38, dtype=lib.float64)
        v = x.var(keepdim=True, dim=None)
        return [v, lib.heaviside(v, lib.tensor(0.5, dtype=lib.float64))]
    assert_same(fn)


@pytest.mark.parametrize('value', [1e38, 0.1, 1 / 3, -2.5, 7e-300])
@pytest.mark.parametrize('n', [2, 3, 42, 1000, 12345])
def test_float64_variance_of_equal_values_is_exactly_zero(value, n):
    """The exact answer, not PyTorch's: its cascade sum leaves 3.6e44 for 1000 equal float64
    1e38s.  (float32 follows PyTorch's one-value var, its mean in float32, and is as
    inexact as PyTorch's: 1e30 three times gives inf in both.)"""
    x = autograd.full((n,), value, dtype=autograd.float64)
    for y in (x.var(), x.std(0), autograd.var_mean(x)[0], x.reshape(1, n).var(1, keepdim=True)):
        assert autograd.count_nonzero(y).item() == 0, (y, value, n)


def test_float64_variance_is_accurate_far_from_zero():
    """Against the exact rational answer, on data whose mean is up to 1e8 standard
    deviations from zero: relative error within a few ulps times the condition number
    (mean / std)^2, over random sizes, dims and corrections."""
    from fractions import Fraction
    rng = np.random.default_rng(87)
    for _ in range(100):
        n, cols = int(rng.integers(2, 60)), int(rng.integers(1, 4))
        x = rng.standard_normal((n, cols)) * 10 ** rng.uniform(-3, 3) + 10 ** rng.uniform(-2, 8)
        correction = int(rng.integers(0, 2))
        got = autograd.tensor(x).var(0, correction=correction).cpu().numpy()
        for j in range(cols):
            col = [Fraction(v) for v in x[:, j]]
            mean = sum(col) / n
            exact = sum((v - mean) ** 2 for v in col) / (n - correction)
            cond = 1 + float(mean * mean / exact)
            assert abs(got[j] - float(exact)) <= 16 * n * 2.0 ** -52 * cond * float(exact)


@pytest.mark.parametrize('values', [
    [[inf, inf, inf], [inf, 1.0, inf], [inf, 1.0, inf]],     # fuzz seed 92: reciprocal of bools
    [[nan, 1.0], [1.0, 1.0]], [[1.0, nan], [0.0, 1.0]], [[2.0, 0.0], [0.0, nan]],
    [[inf, 1.3], [0.6, 0.0]], [[0.0, 0.0], [inf, 1.0]], [[inf, 1.0], [1.0, 1.0]],
    [[-inf, 1.0], [1.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]]])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_det_and_slogdet_of_matrices_with_nan_or_inf(values, dtype):
    """A NaN anywhere, or an infinity in a singular matrix: NaN (and sign 0), as PyTorch
    multiplies U's whole diagonal; NumPy stopped at the first zero pivot (0, -inf)."""
    def fn(lib, G):
        a = lib.tensor([values, values], dtype=getattr(lib, dtype))
        s, l = lib.linalg.slogdet(a)
        return [s.abs(), l, lib.det(a)]         # (the sign of a zero sign is LAPACK's)
    assert_same(fn)


@pytest.mark.parametrize('base', [0, 0.0, 2.0, 0.5, -1.5, 1])
@pytest.mark.parametrize('exponent', [9.99e37, 2.0, 0.0, -1.0, -3.5, inf, nan])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_second_derivative_of_a_number_to_a_tensor_power(base, exponent, dtype):
    """Fuzz seed 92: d2/dx2 of 0 ** x at x = 1e38 is NaN in PyTorch (its zero base is
    masked inside g * where(x >= 0, 0, 0 ** x * log 0): 0 * -inf), 0 here."""
    def fn(lib, G):
        x = lib.tensor(exponent, dtype=getattr(lib, dtype), requires_grad=True)
        y = base ** x
        g, = G(y * 3, x, create_graph=True)
        return [y, g, *G(g * 2, x)]
    assert_same(fn)


@pytest.mark.parametrize('upper', [False, True])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('triangular', [False, True])
def test_cholesky_inverse_gradient_is_pytorchs_formula_on_the_whole_factor(upper, dtype,
                                                                           triangular):
    """Fuzz seed 93: PyTorch's cholesky_inverse gradient is -(Y (G + G^T) Y) L on all of L,
    not the gradient of the triangle its forward reads (nonzero in the other triangle, and
    different in its own where the other is not zero); ours was the masked one.  First
    and second derivatives, batched."""
    rng = np.random.default_rng(93)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    if triangular:
        a = np.triu(a) if upper else np.tril(a)

    def fn(lib, G):
        x = lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.cholesky_inverse(x, upper=upper)
        g, = G((lib.log1p(y.abs()) * lib.arange(9.0, dtype=y.dtype).reshape(3, 3)).sum(), x,
               create_graph=True)
        return [y, g, *G((g * g).sum(), x)]
    if dtype == 'float64':
        assert_same(fn)
    else:
        theirs, ours = both(fn)
        for u, v in zip(ours, theirs):
            np.testing.assert_allclose(u, v, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize('number', [0, 0.0, -0.0, 1, 2.5, -3, True, 1e30])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'bool'])
def test_number_divided_by_a_tensor_is_its_reciprocal_times_the_number(number, dtype):
    """Fuzz seed 100: PyTorch's ``number / x`` is ``x.reciprocal() * number``, so 0 divided
    by a float32 subnormal (1e-40) is NaN there (its reciprocal overflows), and 0 here was;
    values, node name, first and second derivatives."""
    values = {'float32': [1e-40, -1e-40, 0.0, -0.0, 3.0, 7.0, inf, -inf, nan, 3e38, 1e-30],
              'float64': [1e-310, 0.0, -0.0, 3.0, 7.0, inf, nan, 1e-300, 1e300],
              'int64': [0, 3, -7, 1], 'bool': [True, False]}[dtype]
    floating = dtype.startswith('float')

    def fn(lib, G):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=floating)
        y = number / x
        if not floating:
            return [y]
        assert y.grad_fn.name() == 'MulBackward0'
        g, = G((y * lib.arange(1.0, len(values) + 1, dtype=x.dtype)).sum(), x,
               create_graph=True)
        return [y, g, *G((g * 0.5).sum(), x)]
    assert_same(fn)


@pytest.mark.parametrize('values, dim', [
    ([0.0], None), ([[0.0]], None), ([[0.0]], 1), ([[0.0, 2.0]], 0), ([[0.0], [2.0]], 1),
    ([[0.0], [2.0]], 0), ([[3.0], [2.0]], 1), ([2.0], None), ([[0.0, 0.0], [1.5, 0.0]], 1)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_product_over_a_length_one_axis_of_a_tensor_with_a_zero_has_a_constant_gradient(
        values, dim, dtype):
    """Fuzz seed 102: prod(x + 2 y) at x = y = [0.]: PyTorch's gradient, where the input
    holds a zero, is g times the exclusive products, none along a length-1 axis, so it has
    no graph back to x (a second derivative finds none); ours was g * ProdOthers(x), which
    had one.  Values, whether the gradient requires grad, and second derivatives."""
    def fn(lib, G):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.prod(x * 2) if dim is None else lib.prod(x * 2, dim, keepdim=dim == 1)
        g, = G((y * 1.5).sum(), x, create_graph=True)
        out = [y, g, lib.tensor(g.requires_grad)]
        if g.requires_grad:
            out += G((g * lib.arange(1.0, g.numel() + 1).reshape(g.shape)).sum(), x)
        return out
    assert_same(fn)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n', [1, 5, 67])
def test_relu_keeps_the_sign_of_a_negative_zero(dtype, n):
    """Fuzz seed 107: signbit(relu(-0.0)) is True in PyTorch (relu is clamp_min: -0.0 is not
    below 0, so it passes through), and was False here (NumPy's maximum(-0.0, 0) is +0.0).
    relu, relu_ and F.relu over -0.0, +0.0, negatives, NaN and positives, scalar and
    vectorised lengths: the same values and signs of zero."""
    base = np.array([-0.0, 0.0, -1.5, nan, 2.0, -0.0, -inf], dtype)
    x = np.resize(base, n)
    outs = []
    for lib in (torch, autograd):
        F = torch.nn.functional if lib is torch else __import__('nn').functional
        t = lib.tensor(x)
        outs.append([to_numpy(y) for y in (lib.relu(t), t.clone().relu_(), F.relu(t))])
    for theirs, ours in zip(*outs):
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))

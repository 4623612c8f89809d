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

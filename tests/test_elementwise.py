"""Elementwise ops against PyTorch: forward, gradient and second derivative."""
import operator as O

import numpy as np
import pytest

from oracle import check_op, check_raises, rand

UNARY = {
    'exp': dict(), 'exp2': dict(), 'expm1': dict(), 'log': dict(low=0.1, high=3),
    'log2': dict(low=0.1, high=3), 'log10': dict(low=0.1, high=3), 'log1p': dict(low=-0.5),
    'sqrt': dict(low=0.1, high=3), 'rsqrt': dict(low=0.1, high=3), 'square': dict(),
    'reciprocal': dict(away_from=0.0), 'abs': dict(away_from=0.0), 'sign': dict(),
    'sin': dict(), 'cos': dict(), 'tan': dict(low=-1.2, high=1.2), 'sinh': dict(),
    'cosh': dict(), 'asin': dict(low=-0.9, high=0.9), 'acos': dict(low=-0.9, high=0.9),
    'atan': dict(), 'tanh': dict(), 'sigmoid': dict(), 'relu': dict(away_from=0.0),
    'erf': dict(), 'floor': dict(), 'ceil': dict(), 'trunc': dict(), 'neg': dict(),
}


@pytest.mark.parametrize('name', sorted(UNARY))
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape', [(), (5,), (2, 3)])
def test_unary(name, dtype, shape):
    x = rand(*shape, dtype=dtype, **UNARY[name])
    check_op(lambda lib, x: getattr(lib, name)(x), x)
    check_op(lambda lib, x: getattr(x, name)(), x)


BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'atan2', 'remainder', 'fmod']
SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 3)), ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize('name', BINARY)
@pytest.mark.parametrize('shapes', SHAPES)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_binary(name, shapes, dtype):
    low = 0.5 if name == 'pow' else -2.0
    a = rand(*shapes[0], low=low, dtype=dtype, seed=1)
    b = rand(*shapes[1], low=low, dtype=dtype, seed=2, away_from=0.0)
    check_op(lambda lib, a, b: getattr(lib, name)(a, b), a, b)


ARITH = [O.add, O.sub, O.mul, O.truediv, O.pow]


@pytest.mark.parametrize('op', ARITH)
@pytest.mark.parametrize('scalar', [2, 0.5, -1.5])
def test_operators_with_numbers(op, scalar):
    x = rand(2, 3, low=0.5, high=2.0)
    check_op(lambda lib, x: op(x, scalar), x)
    check_op(lambda lib, x: op(scalar, x), x)


def test_clamp_where_lerp():
    x = rand(4, 5, away_from=0.5)
    check_op(lambda lib, x: x.clamp(-0.5, 0.5), x)
    check_op(lambda lib, x: lib.clamp(x, min=0.5), x)
    y = rand(4, 5, seed=3)
    check_op(lambda lib, x, y: lib.where(x > 0, x, y), x, y)
    check_op(lambda lib, x, y: lib.where(x > 0, x * 2, 0.0), x, y)
    w = rand(5, low=0, high=1, seed=4)
    check_op(lambda lib, x, y, w: lib.lerp(x, y, w), x, y, w)
    check_op(lambda lib, x, y: lib.lerp(x, y, 0.3), x, y)


def test_maximum_ties_share_gradient():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 5.0])
    check_op(lambda lib, a, b: lib.maximum(a, b), a, b)
    check_op(lambda lib, a, b: lib.minimum(a, b), a, b)


@pytest.mark.parametrize('a_dtype,b', [('int64', 2.5), ('int32', 3), ('bool', 1), ('int64', True),
                                       ('float16', 2.5), ('int32', 2.0)])
def test_promotion_with_numbers(a_dtype, b):
    a = np.array([1, 0, 3]).astype(a_dtype)
    for op in [O.add, O.mul, O.sub, O.truediv]:
        if O.sub is op and (a_dtype == 'bool' or isinstance(b, bool)):
            continue
        check_op(lambda lib, a: op(a, b), a, grad=False)


@pytest.mark.parametrize('da,db', [('int64', 'float32'), ('int32', 'int64'), ('float32', 'float64'),
                                   ('bool', 'int32'), ('int64', 'float16'), ('uint8', 'int64')])
def test_promotion_between_tensors(da, db):
    a = np.array([1, 2, 3]).astype(da)
    b = np.array([3, 1, 2]).astype(db)
    check_op(lambda lib, a, b: a + b, a, b, grad=False)
    check_op(lambda lib, a, b: a * b[0], a, b, grad=False)      # zero-dim operand
    check_op(lambda lib, a, b: a / b, a, b, grad=False)


def test_unary_float_ops_promote_integers():
    a = np.array([1, 2, 3])
    for name in ['exp', 'sqrt', 'log', 'sigmoid', 'tanh', 'sin']:
        check_op(lambda lib, a: getattr(lib, name)(a), a, grad=False)


def test_comparisons_are_bool_and_not_differentiable():
    import autograd
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x > 1.5
    assert y.dtype == autograd.bool and not y.requires_grad
    a, b = rand(3, 4, seed=5), rand(4, seed=6)
    for op in [O.eq, O.ne, O.lt, O.le, O.gt, O.ge]:
        check_op(lambda lib, a, b: op(a, b), a, b, grad=False)


def test_broadcast_error_names_op_and_shapes():
    import autograd
    a, b = autograd.ones(2, 3), autograd.ones(4)
    for fn in [lambda: a + b, lambda: a * b, lambda: autograd.maximum(a, b), lambda: a / b]:
        with pytest.raises(RuntimeError, match=r'size of tensor a \(3\) must match.*\[2, 3\].*\[4\]'):
            fn()


# ----------------------------------------------------------------------------- array sweep
# A backward that records no graph (no create_graph) hands every op's backward bare arrays;
# arithmetic on 0-d arrays gives NumPy scalars, which the formulas must cope with.

@pytest.mark.parametrize('name', sorted(UNARY))
@pytest.mark.parametrize('shape', [(), (2, 3)])
def test_unary_gradient_on_arrays(name, shape):
    x = rand(*shape, dtype='float32', **UNARY[name])
    check_op(lambda lib, x: getattr(lib, name)(x), x, double=False)


@pytest.mark.parametrize('name', BINARY)
@pytest.mark.parametrize('shapes', [((), ()), ((2, 1), (1, 4))])
def test_binary_gradient_on_arrays(name, shapes):
    low = 0.5 if name == 'pow' else -2.0
    a = rand(*shapes[0], low=low, dtype='float32', seed=1)
    b = rand(*shapes[1], low=low, dtype='float32', seed=2, away_from=0.0)
    check_op(lambda lib, a, b: getattr(lib, name)(a, b), a, b, double=False)


def test_clamp_where_lerp_gradient_on_arrays():
    x, y = rand(4, 5, away_from=0.5), rand(4, 5, seed=3)
    check_op(lambda lib, x: x.clamp(-0.5, 0.5), x, double=False)
    check_op(lambda lib, x, y: lib.where(x > 0, x, y), x, y, double=False)
    check_op(lambda lib, x, y: lib.lerp(x, y, y.sigmoid()), x, y, double=False)
    check_op(lambda lib, x: 2.0 ** x + x ** 3, x, double=False)


@pytest.mark.filterwarnings('ignore:divide by zero encountered in log')
def test_pow_exponent_gradient_at_zero_base_on_arrays():
    # d(a^b)/db = a^b log a is taken as 0 where a == 0 (and b >= 0), as PyTorch
    check_op(lambda lib, a, b: a ** b, np.array([0.0, 2.0]), np.array([1.5, 2.0]), double=False)


# ----------------------------------------------------------------------------- fuzzing finds

def test_clamp_tensor_bounds_ties_go_to_input():
    # as PyTorch: x keeps the whole gradient where it equals a bound; a bound gets it only
    # where it binds (and min > max hands it to max)
    x = np.array([1.0, 2.0, 3.0, 0.5, 4.0])
    lo = np.array([1.0, 1.0, 4.0, 2.0, 1.0])
    hi = np.array([1.0, 2.0, 5.0, 1.0, 3.0])
    check_op(lambda lib, x, lo: lib.clamp(x, min=lo), x, lo)
    check_op(lambda lib, x, hi: lib.clamp(x, max=hi), x, hi)
    check_op(lambda lib, x, lo, hi: lib.clamp(x, lo, hi), x, lo, hi)
    check_op(lambda lib, x, lo: lib.clamp(x, min=lo[:1]), x.reshape(5, 1), lo)   # broadcast
    check_op(lambda lib, x, lo: (x * 1).clamp_(min=lo), x, lo)
    check_op(lambda lib, x, lo: lib.clamp(x, min=lo), np.array([1, 2, 3]), np.array([1.5]),
             grad=False)


@pytest.mark.parametrize('fn', [O.floordiv, O.mod, lambda a, b: a.fmod(b),
                                lambda a, b: a.remainder(b),
                                lambda a, b: a.div(b, rounding_mode='trunc')])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8'])
def test_integer_division_by_zero_raises(fn, dtype):
    a, b = np.array([1, 2, 3]).astype(dtype), np.array([1, 0, 1]).astype(dtype)
    check_raises(lambda lib, a, b: fn(a, b), a, b, match='ZeroDivisionError', exc=RuntimeError)
    check_raises(lambda lib, a: fn(a, 0), a, match='ZeroDivisionError', exc=RuntimeError)
    check_op(lambda lib, a, b: fn(a, b), a, b + 1, grad=False)


def test_float_division_by_zero_is_not_an_error():
    a, z = np.array([1.0, -2.0, 0.0]), np.zeros(3)
    for fn in [O.floordiv, O.mod, lambda a, b: a.fmod(b)]:
        check_op(lambda lib, a, z: fn(a, z), a, z, grad=False)
        check_op(lambda lib, a: fn(a, 0), a, grad=False)


@pytest.mark.filterwarnings('ignore::RuntimeWarning')
def test_gradients_at_zero_and_nan_as_pytorch():
    # finite where PyTorch's are: pow at (0, 0), atan2(0, 0), abs and sign at NaN; and at
    # NaN maximum/minimum give both operands the whole gradient (clamp gives x none)
    nan = np.nan
    a, b = np.array([0.0, 0.0, 0.0, 2.0, 0.0]), np.array([0.0, -1.0, 2.0, 0.0, 0.5])
    check_op(lambda lib, a, b: a ** b, a, b, double=False)
    check_op(lambda lib, b: 0.0 ** b, np.array([0.0, 1.0, -1.0]), double=False)
    check_op(lambda lib, a, b: lib.atan2(a, b), np.array([0.0, 1.0]), np.array([0.0, 0.0]),
             double=False)
    x = np.array([nan, 0.0, -1.0, 2.0])
    check_op(lambda lib, x: x.abs(), x, double=False)
    check_op(lambda lib, x: x.sign(), x, double=False)
    y = np.array([0.0, nan, 2.0, 2.0])
    for name in ['maximum', 'minimum']:
        check_op(lambda lib, x, y: getattr(lib, name)(x, y), x, y, double=False)
    check_op(lambda lib, x, y: lib.clamp(x, min=y), x, y, double=False)
    check_op(lambda lib, x, y: lib.clamp(x, max=y), x, y, double=False)
    check_op(lambda lib, x: x.clamp(-0.5, 1.0), x, double=False)


def test_integer_and_bool_dtypes_as_pytorch():
    i, b = np.array([1, 2]), np.array([True, False])
    for dtype in ['int64', 'int32', 'bool']:
        check_op(lambda lib, x: lib.atan2(x, x), i.astype(dtype), grad=False)   # default float
    for fn in [lambda x: x ** True, lambda x: x ** False, lambda x: x ** 1,
               lambda x: x.add(x, alpha=2), lambda x: x.add(True, alpha=2),
               lambda x: x.add(x, alpha=0), lambda x: x.clamp(max=-1), lambda x: x.clamp(0, True),
               lambda x: x.clamp(min=0.5)]:
        check_op(lambda lib, x: fn(x), b, grad=False)
    check_op(lambda lib, x: x.add(x, alpha=3), i, grad=False)
    check_op(lambda lib, x: x.round(), i, grad=False)


@pytest.mark.parametrize('fn', [lambda lib, x: x ** x, lambda lib, x: True ** x,
                                lambda lib, x: x // x, lambda lib, x: x // True,
                                lambda lib, x: x % x, lambda lib, x: x.fmod(x),
                                lambda lib, x: x.round(), lambda lib, x: x.round(decimals=1),
                                lambda lib, x: x.floor(), lambda lib, x: x.ceil(),
                                lambda lib, x: x.trunc(), lambda lib, x: x.clamp(min=True),
                                lambda lib, x: x.clamp(max=False),
                                lambda lib, x: x.clamp(False, True)])
def test_bool_operands_pytorch_refuses(fn):
    check_raises(fn, np.array([True, False]), match="not implemented for 'Bool'",
                 exc=NotImplementedError)


def test_alpha_checked_against_result_dtype():
    i = np.array([1, 2])
    for fn in [lambda lib, x: x.add(x, alpha=2.5), lambda lib, x: x.sub(1, alpha=1.0),
               lambda lib, x: x.add(x, alpha=True)]:
        check_raises(fn, i, match='alpha', exc=RuntimeError)
    check_raises(lambda lib, x: x.round(decimals=1), i, match="round_cpu.*'Long'",
                 exc=NotImplementedError)


def test_forwards_do_not_warn():
    # PyTorch gives inf and NaN silently; NumPy would warn (log of negatives, 1/0, overflow)
    import warnings
    x, z = np.array([-1.0, 0.0, 100.0, np.inf]), np.array([0.0, 0.0, 1.0, 1.0])
    fns = [lambda lib, x, z, n=n: getattr(lib, n)(x) for n in
           ['log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'exp', 'exp2',
            'expm1', 'sinh', 'cosh', 'asin', 'acos', 'sin', 'cos', 'tan']]
    fns += [lambda lib, x, z: x ** -1, lambda lib, x, z: x ** 0.5, lambda lib, x, z: (-2.0) ** x,
            lambda lib, x, z: x ** (z - 1), lambda lib, x, z: x / z, lambda lib, x, z: x / 0,
            lambda lib, x, z: x // z, lambda lib, x, z: x % z, lambda lib, x, z: x.fmod(z),
            lambda lib, x, z: (x.float() * 1e30).square()]
    for fn in fns:
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            check_op(fn, x, z, grad=False)


@pytest.mark.parametrize('shapes', [((), ()), ((), (3,)), ((2, 1), (3,)), ((), (0,))])
def test_isclose(shapes):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    # a 0-d result is a 0-d array, as every tensor's data, so that it converts and prints
    check_op(lambda lib, a, b: lib.isclose(a, b).float(), a, b, grad=False)
    check_op(lambda lib, a, b: lib.isclose(a, a + b * 1e-7, equal_nan=True), a, b, grad=False)
    check_op(lambda lib, a: lib.tensor([lib.allclose(a, a * (1 + 1e-9)),
                                        isinstance(a.isclose(a).cpu().numpy(), np.ndarray)]),
             a, grad=False)


@pytest.mark.parametrize('fn,arrays,exc,match', [
    (lambda lib, a, b: lib.isclose(a, b), (rand(2, 3), rand(3, 2)), RuntimeError,
     r'isclose: The size of tensor a \(3\) must match the size of tensor b \(2\) at '
     r'non-singleton dimension 1'),
    (lambda lib, a, b: lib.allclose(a, b), (rand(2), rand(3)), RuntimeError, 'size of tensor'),
    (lambda lib, a, b: lib.isclose(a, b), (rand(), rand().astype('float32')), RuntimeError,
     'Double did not match Float'),
    (lambda lib, a, b: lib.allclose(a, b), (rand(2), np.arange(2)), RuntimeError,
     'Double did not match Long'),
    (lambda lib, a: lib.isclose(a, 1.0), (rand(),), TypeError, "argument 'other'"),
    (lambda lib, a: a.isclose(a, rtol=-1.0), (rand(),), RuntimeError,
     'rtol must be greater than or equal to zero, but got -1$'),
    (lambda lib, a: a.isclose(a, atol=-0.5), (rand(),), RuntimeError,
     'atol must be greater than or equal to zero, but got -0.5$'),
])
def test_isclose_errors(fn, arrays, exc, match):
    check_raises(fn, *arrays, exc=exc, match=match)

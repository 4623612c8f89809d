"""autograd.functional (= torch.autograd.functional): jacobian, hessian, vjp, jvp, hvp,
vhp against PyTorch's, with the same return structures, create_graph and strict errors;
and the textbook Hessian of x^2 + 4 y^2."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from autograd import functional as AF
from oracle import rand, to_numpy, torch, torch_module

TF = torch_module('torch.autograd.functional')


def both(*arrays):
    """The arrays as (torch tensors, autograd tensors), float64, not requiring grad."""
    return (tuple(torch.tensor(a) for a in arrays), tuple(autograd.tensor(a) for a in arrays))


def assert_same(ours, theirs, what='result'):
    """The same nesting of tuples, and close tensors of the same shape and dtype."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), \
            f'{what}: {type(ours).__name__} of {len(ours) if isinstance(ours, tuple) else 1}'
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f'{what}[{k}]')
        return
    assert isinstance(ours, autograd.Tensor), f'{what}: {type(ours).__name__}, not a Tensor'
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape and str(a.dtype) == str(b.dtype), (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=what)


# functions written once for both libraries: lib is torch or autograd
def f_scalar(lib, x):
    return (x.sin() * x.exp()).sum()


def f_vector(lib, x):
    return lib.stack([x[0] * x[1], x[1] ** 3, x.sum()])


def f_two_in(lib, x, y):
    return x @ y + x.sum()


def f_two_out(lib, x, y):
    return x * y, (x ** 2).sum() + y.tanh().sum()


def f_quadratic(lib, x, y):
    return (x ** 2 * y).sum() + (y ** 3).sum()


CASES = [  # (function, input arrays, as a tuple of inputs?)
    (f_scalar, (rand(3, seed=1),), False),
    (f_vector, (rand(2, seed=2),), False),
    (f_two_in, (rand(2, 3, seed=3), rand(3, seed=4)), True),
    (f_two_out, (rand(3, seed=5), rand(3, seed=6)), True),
    (f_scalar, (rand(2, 2, seed=7),), True),
]


def run(fn_name, f, arrays, as_tuple, **kw):
    (tt, aa) = both(*arrays)
    t_in, a_in = (tt, aa) if as_tuple else (tt[0], aa[0])
    theirs = getattr(TF, fn_name)(lambda *xs: f(torch, *xs), t_in, **kw)
    ours = getattr(AF, fn_name)(lambda *xs: f(autograd, *xs), a_in, **kw)
    return ours, theirs


@pytest.mark.parametrize('f, arrays, as_tuple', CASES)
@pytest.mark.parametrize('vectorize', [False, True])
def test_jacobian(f, arrays, as_tuple, vectorize):
    ours, theirs = run('jacobian', f, arrays, as_tuple, vectorize=vectorize)
    assert_same(ours, theirs)


def test_jacobian_forward_mode_strategy():
    x = rand(3, seed=8)
    ours, theirs = run('jacobian', f_vector, (x[:2],), False, vectorize=True,
                       strategy='forward-mode')
    assert_same(ours, theirs)
    for lib, F in ((torch, TF), (autograd, AF)):
        with pytest.raises(NotImplementedError, match='only implemented for `vectorize=True`'):
            F.jacobian(lambda x: x * 2, lib.tensor(x), strategy='forward-mode')
        with pytest.raises(NotImplementedError, match='create_graph=True'):
            F.jacobian(lambda x: x * 2, lib.tensor(x), strategy='forward-mode',
                       create_graph=True, vectorize=True)


@pytest.mark.parametrize('f, arrays, as_tuple', [c for c in CASES if c[0] in
                                                 (f_scalar, f_quadratic)] +
                         [(f_quadratic, (rand(2, seed=9), rand(2, seed=10)), True)])
def test_hessian(f, arrays, as_tuple):
    ours, theirs = run('hessian', f, arrays, as_tuple)
    assert_same(ours, theirs)


def test_hessian_of_the_textbook_quadratic():
    # f(x, y) = x^2 + 4 y^2: the Hessian is [[2, 0], [0, 8]] everywhere
    def f(xy):
        return xy[0] ** 2 + 4 * xy[1] ** 2
    for point in ([0.0, 0.0], [1.5, -2.0]):
        h = AF.hessian(f, autograd.tensor(point, dtype=autograd.float64))
        assert h.tolist() == [[2.0, 0.0], [0.0, 8.0]]
    # with two inputs: a tuple of tuples of 0-d tensors
    h = AF.hessian(lambda x, y: x ** 2 + 4 * y ** 2,
                   (autograd.tensor(1.0, dtype=autograd.float64),
                    autograd.tensor(2.0, dtype=autograd.float64)))
    assert [[e.item() for e in row] for row in h] == [[2.0, 0.0], [0.0, 8.0]]


@pytest.mark.parametrize('fn_name', ['vjp', 'jvp'])
@pytest.mark.parametrize('f, arrays, as_tuple', CASES)
def test_vjp_jvp(fn_name, f, arrays, as_tuple):
    tt, _ = both(*arrays)
    outs = f(torch, *tt)
    if fn_name == 'vjp':
        ref = outs if isinstance(outs, tuple) else (outs,)
        tuple_v = isinstance(outs, tuple)
    else:
        ref, tuple_v = tt, as_tuple
    vs = [rand(*r.shape, seed=20 + k) for k, r in enumerate(ref)]
    (tv, av) = both(*vs)
    t_in, a_in = (tt, both(*arrays)[1]) if as_tuple else (tt[0], both(*arrays)[1][0])
    theirs = getattr(TF, fn_name)(lambda *xs: f(torch, *xs), t_in,
                                  tv if tuple_v else tv[0])
    ours = getattr(AF, fn_name)(lambda *xs: f(autograd, *xs), a_in,
                                av if tuple_v else av[0])
    assert_same(ours, theirs)


@pytest.mark.parametrize('fn_name', ['hvp', 'vhp'])
@pytest.mark.parametrize('arrays, as_tuple', [((rand(3, seed=11),), False),
                                              ((rand(2, seed=12), rand(2, seed=13)), True)])
def test_hvp_vhp(fn_name, arrays, as_tuple):
    f = f_scalar if len(arrays) == 1 else f_quadratic
    vs = [rand(*a.shape, seed=30 + k) for k, a in enumerate(arrays)]
    (tt, aa), (tv, av) = both(*arrays), both(*vs)
    pick = (lambda xs: xs) if as_tuple else (lambda xs: xs[0])
    theirs = getattr(TF, fn_name)(lambda *xs: f(torch, *xs), pick(tt), pick(tv))
    ours = getattr(AF, fn_name)(lambda *xs: f(autograd, *xs), pick(aa), pick(av))
    assert_same(ours, theirs)


def test_v_may_be_omitted_for_one_element():
    (tt, aa) = both(np.array([0.7]))
    for fn_name in ('vjp', 'jvp', 'hvp', 'vhp'):
        theirs = getattr(TF, fn_name)(lambda x: (x ** 3).sum(), tt[0])
        ours = getattr(AF, fn_name)(lambda x: (x ** 3).sum(), aa[0])
        assert_same(ours, theirs, fn_name)


@pytest.mark.parametrize('fn_name', ['jacobian', 'hessian', 'vjp', 'jvp', 'hvp', 'vhp'])
def test_create_graph_gives_differentiable_results(fn_name):
    x = rand(3, seed=14)
    v = rand(3, seed=15)
    results = []
    for lib, F in ((torch, TF), (autograd, AF)):
        xt = lib.tensor(x, requires_grad=True)
        args = () if fn_name in ('jacobian', 'hessian') else (lib.tensor(v),)
        fn = (lambda y: (y.sin() * y).sum()) if fn_name in ('hessian', 'hvp', 'vhp') \
            else (lambda y: y.sin() * y)
        res = getattr(F, fn_name)(fn, xt, *args, create_graph=True)
        out = res if fn_name in ('jacobian', 'hessian') else res[1]
        assert out.requires_grad
        (g,) = (torch.autograd.grad if lib is torch else autograd.grad)((out ** 2).sum(), xt)
        results.append(g)
    np.testing.assert_allclose(to_numpy(results[1]), to_numpy(results[0]), rtol=1e-10)


def test_results_are_detached_without_create_graph():
    x = autograd.tensor(rand(3, seed=16), requires_grad=True)
    jac = AF.jacobian(lambda y: y * y, x)
    out, vjp = AF.vjp(lambda y: y * y, x, autograd.ones(3, dtype=autograd.float64))
    assert not jac.requires_grad and not vjp.requires_grad and not out.requires_grad


def test_independent_inputs_give_zeros_or_strict_errors():
    (tt, aa) = both(rand(2, seed=17), rand(2, seed=18))

    def f(lib, x, y):
        return x * 2

    for F, xs, lib in ((TF, tt, torch), (AF, aa, autograd)):
        jac = F.jacobian(lambda x, y: f(lib, x, y), xs)
        assert to_numpy(jac[1]).tolist() == [[0.0, 0.0], [0.0, 0.0]]
        with pytest.raises(RuntimeError, match='Output 0 of the user-provided function is '
                           'independent of input 1. This is not allowed in strict mode.'):
            F.jacobian(lambda x, y: f(lib, x, y), xs, strict=True)
        with pytest.raises(RuntimeError, match='independent of input 1'):
            F.vjp(lambda x, y: f(lib, x, y), xs, lib.ones(2, dtype=lib.float64), strict=True)
        with pytest.raises(RuntimeError, match='Output 0 of the user-provided function does not '
                           'require gradients'):
            F.vjp(lambda x: lib.ones(2, dtype=lib.float64), xs[0],
                  lib.ones(2, dtype=lib.float64), strict=True)
        with pytest.raises(RuntimeError, match='jacobian of the user-provided function with '
                           'respect to input 0 is independent'):
            F.hessian(lambda x: x.sum(), xs[0], strict=True)
        with pytest.raises(RuntimeError, match='`strict=True` and `vectorized=True`'):
            F.jacobian(lambda x: x * 2, xs[0], strict=True, vectorize=True)


def test_bad_arguments():
    for F, lib in ((TF, torch), (AF, autograd)):
        x = lib.ones(2, dtype=lib.float64)
        with pytest.raises(TypeError, match='The inputs given to jacobian must be either a '
                           'Tensor or a tuple of Tensors but the given inputs has type'):
            F.jacobian(lambda x: x, [1.0, 2.0])
        with pytest.raises(RuntimeError, match='The vector v can only be None if the '
                           'user-provided function returns a single Tensor with a single '
                           'element.'):
            F.vjp(lambda x: x * 2, x)
        with pytest.raises(RuntimeError, match=r'v has invalid size: should be '):
            F.jvp(lambda x: x * 2, x, lib.ones(3, dtype=lib.float64))
        with pytest.raises(RuntimeError, match='v is a tuple of invalid length: should be 2 '
                           'but got 1.'):
            F.jvp(lambda x, y: x * y, (x, x), (x,))
        with pytest.raises(RuntimeError, match='The function given to hessian should return a '
                           'single Tensor'):
            F.hessian(lambda x: (x.sum(), x.sum()), x)
        with pytest.raises(RuntimeError, match='should contain a single element'):
            F.hvp(lambda x: x * 2, x, x)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(1, 3), st.integers(1, 3))
def test_jacobian_of_a_matrix_function(n, m):
    w = rand(m, n, seed=n * 10 + m)
    x = rand(n, seed=n + m)
    ours, theirs = run('jacobian', lambda lib, w, x: (w @ x).tanh(), (w, x), True)
    assert_same(ours, theirs)

"""nn.utils.parametrize / parametrizations and the hook-based weight_norm / spectral_norm
against PyTorch's: the same layer with the same state (copied by state-dict key, so the
keys must be PyTorch's), then outputs, gradients, buffers after power iterations, and
what registration and removal leave behind."""
import copy
import warnings

import numpy as np
import pytest

import autograd
import nn
from nn.utils import parametrizations, parametrize
from oracle import to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')
torch_parametrize = torch_module('torch.nn.utils.parametrize')
torch_parametrizations = torch_module('torch.nn.utils.parametrizations')
TOL = dict(rtol=1e-11, atol=1e-12)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _copy_state(theirs, ours):
    """Load PyTorch's state into ours by key (strict: the keys must be the same)."""
    ours.load_state_dict({k: autograd.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


def _assert_same_state(theirs, ours, **tol):
    t, o = theirs.state_dict(), ours.state_dict()
    assert list(o) == list(t)
    for k in t:
        np.testing.assert_allclose(to_numpy(o[k]), to_numpy(t[k]), err_msg=k, **(tol or TOL))


def _passes(theirs, ours, x, steps=1):
    """``steps`` forward/backward passes of both; outputs and parameter gradients agree."""
    for _ in range(steps):
        results = []
        for lib, layer in ((torch, theirs), (autograd, ours)):
            layer.zero_grad()
            y = layer(lib.tensor(x))
            w = lib.tensor(_rand(*y.shape, seed=99))
            (y * w).sum().backward()
            results.append((to_numpy(y), {k: to_numpy(p.grad) for k, p in
                                          layer.named_parameters()}))
        (yt, gt), (yo, go) = results
        np.testing.assert_allclose(yo, yt, **TOL)
        assert list(go) == list(gt)
        for k in gt:
            np.testing.assert_allclose(go[k], gt[k], err_msg=k, **TOL)


def _second_order(theirs, ours, x):
    """Second derivatives: the gradient of a weighted sum of the parameter gradients
    (taken with ``create_graph``) with respect to the parameters, for both libraries."""
    results = []
    for lib, layer in ((torch, theirs), (autograd, ours)):
        params = [p for _, p in layer.named_parameters()]
        y = layer(lib.tensor(x))
        grads = lib.autograd.grad((y * lib.tensor(_rand(*y.shape, seed=98))).sum(), params,
                                  create_graph=True) if lib is torch else \
            autograd.grad((y * autograd.tensor(_rand(*y.shape, seed=98))).sum(), params,
                          create_graph=True)
        total = sum((g * lib.tensor(_rand(*g.shape, seed=97 + i))).sum()
                    for i, g in enumerate(grads))
        second = (torch.autograd.grad if lib is torch else autograd.grad)(
            total, params, allow_unused=True)
        results.append([None if s is None else to_numpy(s) for s in second])
    for st, so in zip(*results):
        if st is None:
            assert so is None or not np.any(so)
        else:
            np.testing.assert_allclose(so, st, **TOL)


def _symmetric(lnn):
    class Symmetric(lnn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _scale(lnn, c):
    class Scale(lnn.Module):
        def forward(self, X):
            return c * X

        def right_inverse(self, A):
            return A / c
    return Scale()


def _sum_of_two(lnn):
    class SumOfTwo(lnn.Module):         # right_inverse returns two tensors: original0, 1
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return X * 0.25, X * 0.75
    return SumOfTwo()


def _pair(build, seed=0):
    torch.manual_seed(seed)
    theirs = build(torch_nn).double()
    ours = build(nn).double()
    _copy_state(theirs, ours)
    return theirs, ours


def _square(lnn):
    return lnn.Linear(5, 5)


def test_register_parametrization_matches_pytorch():
    theirs, ours = _pair(_square)
    torch_parametrize.register_parametrization(theirs, 'weight', _symmetric(torch_nn))
    assert parametrize.register_parametrization(ours, 'weight', _symmetric(nn)) is ours
    _assert_same_state(theirs, ours)
    assert list(ours.state_dict()) == ['bias', 'parametrizations.weight.original']
    assert type(ours).__name__ == 'ParametrizedLinear' and isinstance(ours, nn.Linear)
    assert type(nn.Linear(5, 5)) is nn.Linear                 # other instances untouched
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, 'weight')
    assert not parametrize.is_parametrized(ours, 'bias')
    w = to_numpy(ours.weight)
    np.testing.assert_array_equal(w, w.T)
    _passes(theirs, ours, _rand(3, 5, seed=1), steps=2)


def test_chained_parametrizations_and_assignment_through_right_inverse():
    theirs, ours = _pair(_square)
    for lnn, p, layer in ((torch_nn, torch_parametrize, theirs), (nn, parametrize, ours)):
        p.register_parametrization(layer, 'weight', _symmetric(lnn))
        p.register_parametrization(layer, 'weight', _scale(lnn, 3.0))
    assert len(ours.parametrizations.weight) == 2
    _assert_same_state(theirs, ours)
    _passes(theirs, ours, _rand(2, 5, seed=2))
    target = _rand(5, 5, seed=3)
    target = target + target.T
    theirs.weight = torch.tensor(target)
    original = ours.parametrizations.weight.original
    ours.weight = autograd.tensor(target)
    assert ours.parametrizations.weight.original is original      # written in place
    np.testing.assert_allclose(to_numpy(ours.weight), target, **TOL)
    _assert_same_state(theirs, ours)


def test_several_originals_from_right_inverse():
    theirs, ours = _pair(_square)
    torch_parametrize.register_parametrization(theirs, 'weight', _sum_of_two(torch_nn))
    parametrize.register_parametrization(ours, 'weight', _sum_of_two(nn))
    assert list(ours.state_dict()) == ['bias', 'parametrizations.weight.original0',
                                       'parametrizations.weight.original1']
    _assert_same_state(theirs, ours)
    assert isinstance(ours.parametrizations.weight.original0, nn.Parameter)
    _passes(theirs, ours, _rand(2, 5, seed=4))
    with pytest.raises(ValueError, match='sequence of tensors'):
        parametrize.remove_parametrizations(ours, 'weight', leave_parametrized=False)
    parametrize.remove_parametrizations(ours, 'weight')
    torch_parametrize.remove_parametrizations(theirs, 'weight')
    _assert_same_state(theirs, ours)
    assert type(ours) is nn.Linear and isinstance(ours.weight, nn.Parameter)


@pytest.mark.parametrize('leave_parametrized', [True, False])
def test_remove_parametrizations(leave_parametrized):
    theirs, ours = _pair(_square)
    for lnn, p, layer in ((torch_nn, torch_parametrize, theirs), (nn, parametrize, ours)):
        p.register_parametrization(layer, 'weight', _symmetric(lnn))
        p.register_parametrization(layer, 'bias', _scale(lnn, 2.0))
        p.remove_parametrizations(layer, 'weight', leave_parametrized=leave_parametrized)
    assert type(ours).__name__ == 'ParametrizedLinear'       # bias is still parametrized
    _assert_same_state(theirs, ours)
    for p, layer in ((torch_parametrize, theirs), (parametrize, ours)):
        p.remove_parametrizations(layer, 'bias', leave_parametrized=leave_parametrized)
    _assert_same_state(theirs, ours)
    assert type(ours) is nn.Linear and not hasattr(ours, 'parametrizations')
    assert list(ours.state_dict()) == ['weight', 'bias']
    _passes(theirs, ours, _rand(2, 5, seed=5))


def test_parametrized_buffer_stays_a_buffer():
    bn = nn.BatchNorm1d(3).double()
    parametrize.register_parametrization(bn, 'running_var', _scale(nn, 2.0))
    assert 'parametrizations.running_var.original' in dict(bn.named_buffers())
    # right_inverse stores running_var / 2; reading it doubles that back
    np.testing.assert_array_equal(to_numpy(bn.parametrizations.running_var.original), 0.5)
    np.testing.assert_array_equal(to_numpy(bn.running_var), 1.0)
    parametrize.remove_parametrizations(bn, 'running_var')
    assert 'running_var' in dict(bn.named_buffers())


def test_cached_computes_each_parametrization_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    lin = nn.Linear(3, 3)
    parametrize.register_parametrization(lin, 'weight', Counting())
    calls.clear()
    with parametrize.cached():
        a, b = lin.weight, lin.weight
        assert a is b
        lin(autograd.ones(1, 3))
    assert len(calls) == 1
    lin.weight
    assert len(calls) == 2


def test_unsafe_allows_changing_the_shape():
    class Flat(nn.Module):
        def forward(self, X):
            return X.reshape(-1)

    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match='may not change the shape'):
        parametrize.register_parametrization(lin, 'weight', Flat())
    assert isinstance(lin.weight, nn.Parameter) and type(lin) is nn.Linear
    parametrize.register_parametrization(lin, 'weight', Flat(), unsafe=True)
    assert lin.weight.shape == (6,)


@pytest.mark.parametrize('call', [
    lambda p, lnn, m: p.register_parametrization(m, 'nope', _scale(lnn, 2.0)),
    lambda p, lnn, m: p.remove_parametrizations(m, 'weight'),
])
def test_bad_input_raises_as_pytorch(call):
    theirs, ours = _pair(_square)
    with pytest.raises(Exception) as expected:
        call(torch_parametrize, torch_nn, theirs)
    with pytest.raises(type(expected.value)):
        call(parametrize, nn, ours)


def test_transfer_parametrizations_and_params():
    theirs, ours = _pair(_square)
    results = []
    for lnn, p, layer in ((torch_nn, torch_parametrize, theirs), (nn, parametrize, ours)):
        p.register_parametrization(layer, 'weight', _symmetric(lnn))
        target = p.transfer_parametrizations_and_params(layer, lnn.Linear(5, 5).double())
        assert p.is_parametrized(target, 'weight')
        assert target.parametrizations.weight.original is layer.parametrizations.weight.original
        results.append(target)
    np.testing.assert_array_equal(to_numpy(results[1].weight), to_numpy(results[0].weight))


def test_parametrized_module_deep_copies():
    lin = nn.Linear(4, 4).double()
    parametrize.register_parametrization(lin, 'weight', _symmetric(nn))
    twin = copy.deepcopy(lin)
    assert type(twin).__name__ == 'ParametrizedLinear'
    np.testing.assert_array_equal(to_numpy(twin.weight), to_numpy(lin.weight))
    with autograd.no_grad():
        twin.parametrizations.weight.original.add_(1.0)
    assert not np.array_equal(to_numpy(twin.weight), to_numpy(lin.weight))


def test_module_conversion_reaches_the_originals():
    lin = parametrizations.weight_norm(nn.Linear(3, 2))
    lin.double()
    assert lin.weight.dtype == autograd.float64
    assert lin.parametrizations.weight.original1.dtype == autograd.float64
    lin(autograd.ones(1, 3, dtype=autograd.float64)).sum().backward()
    assert lin.parametrizations.weight.original0.grad.shape == (2, 1)


# ---------------------------------------------------------------- parametrizations.weight_norm
@pytest.mark.parametrize('build, dim', [
    (lambda lnn: lnn.Linear(5, 4), 0), (lambda lnn: lnn.Linear(5, 4), 1),
    (lambda lnn: lnn.Linear(5, 4), None), (lambda lnn: lnn.Conv2d(2, 3, 3), 0),
    (lambda lnn: lnn.Conv2d(2, 3, 3), 2)])
def test_weight_norm_parametrization_matches_pytorch(build, dim):
    theirs, ours = _pair(build)
    torch_parametrizations.weight_norm(theirs, dim=dim)
    parametrizations.weight_norm(ours, dim=dim)
    _assert_same_state(theirs, ours)
    assert [k for k in ours.state_dict() if 'original' in k] == [
        'parametrizations.weight.original0', 'parametrizations.weight.original1']
    x = _rand(2, 5, seed=6) if isinstance(ours, nn.Linear) else _rand(2, 2, 5, 5, seed=6)
    _passes(theirs, ours, x)
    if dim in (None, 2):        # PyTorch's unfused formula (see the test below)
        _second_order(theirs, ours, x)


@pytest.mark.parametrize('dim', [0, 1])
def test_weight_norm_second_derivatives_are_those_of_the_formula(dim):
    # For dim 0 and the last dim, PyTorch 2.13's fused CPU kernel has second derivatives
    # that fail its own gradgradcheck; ours are compared with PyTorch's unfused formula
    # v * (g / norm_except_dim(v, 2, dim)), which passes it.
    torch.manual_seed(0)
    layer = torch_nn.Linear(5, 4).double()
    torch_parametrizations.weight_norm(layer, dim=dim)
    ours = parametrizations.weight_norm(nn.Linear(5, 4).double(), dim=dim)
    _copy_state(layer, ours)
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1

    def theirs(x):
        weight = v * (g / torch.norm_except_dim(v, 2, dim))
        return torch.nn.functional.linear(x, weight, layer.bias)

    theirs.named_parameters = layer.named_parameters
    theirs.zero_grad = layer.zero_grad
    _passes(theirs, ours, _rand(3, 5, seed=16))
    _second_order(theirs, ours, _rand(3, 5, seed=16))


def test_weight_norm_loads_the_old_state_dict_layout():
    torch.manual_seed(0)
    old = torch_nn.Linear(4, 3).double()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        torch_nn.utils.weight_norm(old)
    assert {'weight_g', 'weight_v'} <= set(old.state_dict())
    ours = parametrizations.weight_norm(nn.Linear(4, 3).double())
    _copy_state(old, ours)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(old.weight), **TOL)


def test_weight_norm_second_derivatives():
    g = autograd.tensor(_rand(3, 1, seed=7) + 2, requires_grad=True)
    v = autograd.tensor(_rand(3, 4, seed=8), requires_grad=True)
    wn = parametrizations._WeightNorm(0)
    assert autograd.gradcheck(wn, (g, v))
    assert autograd.gradgradcheck(wn, (g, v))


# ---------------------------------------------------------------- parametrizations.spectral_norm
@pytest.mark.parametrize('build, x_shape, kwargs', [
    (lambda lnn: lnn.Linear(6, 4), (3, 6), {}),
    (lambda lnn: lnn.Linear(6, 4), (3, 6), dict(n_power_iterations=3, dim=1)),
    (lambda lnn: lnn.Conv2d(2, 3, 3), (2, 2, 5, 5), dict(eps=1e-6)),
    (lambda lnn: lnn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4), {}),
])
def test_spectral_norm_parametrization_matches_pytorch(build, x_shape, kwargs):
    theirs, ours = _pair(build)
    torch_parametrizations.spectral_norm(theirs, **kwargs)
    parametrizations.spectral_norm(ours, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert 'parametrizations.weight.0._u' in ours.state_dict()
    _copy_state(theirs, ours)                  # the same u, v: the iterations then agree
    _passes(theirs, ours, _rand(*x_shape, seed=9), steps=3)      # training: u, v move
    _assert_same_state(theirs, ours)
    for layer in (theirs, ours):
        layer.eval()
    before = to_numpy(ours.parametrizations.weight[0]._u).copy()
    _passes(theirs, ours, _rand(*x_shape, seed=10), steps=2)
    np.testing.assert_array_equal(to_numpy(ours.parametrizations.weight[0]._u), before)
    _second_order(theirs, ours, _rand(*x_shape, seed=11))


def test_spectral_norm_derivatives_by_finite_differences():
    sn = parametrizations._SpectralNorm(autograd.tensor(_rand(4, 3, seed=14)), dim=0)
    sn.eval()                                 # u, v fixed: W / (u . W v) is smooth in W
    w = autograd.tensor(_rand(4, 3, seed=15), requires_grad=True)
    assert autograd.gradcheck(sn, (w,))
    assert autograd.gradgradcheck(sn, (w,))


def test_spectral_norm_divides_by_the_largest_singular_value():
    lin = nn.Linear(7, 5).double()
    parametrizations.spectral_norm(lin, n_power_iterations=50)
    sigma = np.linalg.svd(to_numpy(lin.weight), compute_uv=False)[0]
    np.testing.assert_allclose(sigma, 1.0, rtol=1e-6)


def test_spectral_norm_of_a_vector_normalizes_it():
    lin = nn.Linear(3, 4).double()
    parametrizations.spectral_norm(lin, name='bias')
    np.testing.assert_allclose(np.linalg.norm(to_numpy(lin.bias)), 1.0, rtol=1e-12)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match='has no parameter or buffer'):
        parametrizations.spectral_norm(nn.Linear(2, 2), name='nope')
    with pytest.raises(ValueError, match='n_power_iterations'):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match='Dimension out of range'):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)


# ---------------------------------------------------------------- the hook-based forms
@pytest.mark.parametrize('dim', [0, 1, None])
def test_old_weight_norm_matches_pytorch(dim):
    theirs, ours = _pair(lambda lnn: lnn.Linear(5, 4))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        torch_nn.utils.weight_norm(theirs, dim=dim)
    with pytest.warns(FutureWarning, match='deprecated'):
        nn.utils.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == ['bias', 'weight_g', 'weight_v']
    _assert_same_state(theirs, ours)
    _passes(theirs, ours, _rand(3, 5, seed=11), steps=2)
    if dim is None:             # PyTorch's unfused formula (see above)
        _second_order(theirs, ours, _rand(3, 5, seed=12))
    with pytest.raises(RuntimeError, match='Cannot register two weight_norm hooks'), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(ours, dim=dim)
    torch_nn.utils.remove_weight_norm(theirs)
    nn.utils.remove_weight_norm(ours)
    _assert_same_state(theirs, ours)
    assert isinstance(ours.weight, nn.Parameter) and not ours._forward_pre_hooks
    with pytest.raises(ValueError, match='weight_norm of'):
        nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize('build, x_shape, kwargs', [
    (lambda lnn: lnn.Linear(6, 4), (3, 6), {}),
    (lambda lnn: lnn.Conv2d(2, 3, 3), (2, 2, 5, 5), dict(n_power_iterations=2)),
    (lambda lnn: lnn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4), dict(dim=None)),
])
def test_old_spectral_norm_matches_pytorch(build, x_shape, kwargs):
    theirs, ours = _pair(build)
    torch_nn.utils.spectral_norm(theirs, **kwargs)
    nn.utils.spectral_norm(ours, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k in ours.state_dict() if k.startswith('weight')] == [
        'weight_orig', 'weight_u', 'weight_v']
    _copy_state(theirs, ours)
    _passes(theirs, ours, _rand(*x_shape, seed=12), steps=3)      # train: power iteration
    _assert_same_state(theirs, ours)
    for layer in (theirs, ours):
        layer.eval()
    u = to_numpy(ours.weight_u).copy()
    _passes(theirs, ours, _rand(*x_shape, seed=13), steps=2)       # eval: u, v as they are
    np.testing.assert_array_equal(to_numpy(ours.weight_u), u)
    _second_order(theirs, ours, _rand(*x_shape, seed=14))
    meta = ours.state_dict()._metadata['']
    assert meta['spectral_norm'] == {'weight.version': 1}
    with pytest.raises(RuntimeError, match='Cannot register two spectral_norm hooks'):
        nn.utils.spectral_norm(ours)
    torch_nn.utils.remove_spectral_norm(theirs)
    nn.utils.remove_spectral_norm(ours)
    _assert_same_state(theirs, ours)
    assert not ours._forward_pre_hooks and not ours._state_dict_hooks
    with pytest.raises(ValueError, match='spectral_norm of'):
        nn.utils.remove_spectral_norm(ours)

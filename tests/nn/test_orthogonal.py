"""nn.utils.parametrizations.orthogonal against PyTorch's: for each map (matrix_exp, cayley,
householder), with and without the dynamic trivialization, on square, tall, wide and
batched weights: the initial weight, the state-dict keys, the weight and the gradients
after loading PyTorch's state, assignment, second derivatives, training keeping the layer
orthogonal, and PyTorch's errors."""
import numpy as np
import pytest

import autograd
import nn
import optim
from nn.utils import parametrizations, parametrize
from oracle import to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')
torch_parametrizations = torch_module('torch.nn.utils.parametrizations')
TOL = dict(rtol=1e-9, atol=1e-11)
MAPS = ['matrix_exp', 'cayley', 'householder']
SHAPES = [(4, 4), (5, 3), (3, 5), (2, 4, 3)]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _holder(lib_nn, lib, w):
    """A module with one parameter ``weight`` (a Linear for a matrix, so ``bias`` is there)."""
    if w.ndim == 2:
        layer = lib_nn.Linear(w.shape[1], w.shape[0]).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(w))
        return layer
    layer = lib_nn.Module()
    layer.weight = lib_nn.Parameter(lib.tensor(w))
    return layer


def _pair(shape, orthogonal_map, use_trivialization, seed=0):
    w = _rand(*shape, seed=seed)
    theirs = torch_parametrizations.orthogonal(
        _holder(torch_nn, torch, w), orthogonal_map=orthogonal_map,
        use_trivialization=use_trivialization)
    ours = parametrizations.orthogonal(
        _holder(nn, autograd, w), orthogonal_map=orthogonal_map,
        use_trivialization=use_trivialization)
    return theirs, ours


def _perturbation(shape, orthogonal_map, seed):
    """Noise to add to the original (off the diagonal for householder, whose diagonal
    holds the signs +-1, read by truncation)."""
    noise = _rand(*shape, seed=seed) * 0.3
    if orthogonal_map == 'householder':
        noise = noise * (1 - np.eye(shape[-2], shape[-1]))
    return torch.tensor(noise)


def _load(theirs, ours):
    ours.load_state_dict({k: autograd.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


def _assert_orthonormal(w):
    q = to_numpy(w)
    if q.shape[-2] < q.shape[-1]:
        q = np.swapaxes(q, -1, -2)
    eye = np.eye(q.shape[-1])
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(eye, q.shape[:-2] + eye.shape),
                               atol=1e-10)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('orthogonal_map', MAPS)
@pytest.mark.parametrize('use_trivialization', [True, False])
def test_weight_and_gradients_match_pytorch(shape, orthogonal_map, use_trivialization):
    theirs, ours = _pair(shape, orthogonal_map, use_trivialization)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours).__name__ == type(theirs).__name__
    # the initial weight: the tensor made orthogonal as PyTorch does (the columns a tall
    # trivialized weight is completed with are random, and do not show in the weight)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(theirs.weight), **TOL)
    _assert_orthonormal(ours.weight)
    # the same state (a perturbed original, so every entry of the map is exercised)
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(_perturbation(shape, orthogonal_map, 1))
    _load(theirs, ours)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(theirs.weight), **TOL)
    _assert_orthonormal(ours.weight)
    g = _rand(*shape, seed=2)
    (theirs.weight * torch.tensor(g)).sum().backward()
    (ours.weight * autograd.tensor(g)).sum().backward()
    np.testing.assert_allclose(to_numpy(ours.parametrizations.weight.original.grad),
                               to_numpy(theirs.parametrizations.weight.original.grad), **TOL)


@pytest.mark.parametrize('orthogonal_map', MAPS)
@pytest.mark.parametrize('shape', [(3, 3), (4, 2), (2, 4)])
def test_second_derivatives_match_pytorch(orthogonal_map, shape):
    theirs, ours = _pair(shape, orthogonal_map, True, seed=3)
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(_perturbation(shape, orthogonal_map, 4))
    _load(theirs, ours)
    g, v = _rand(*shape, seed=5), _rand(*shape, seed=6)
    results = []
    for lib, layer in ((torch, theirs), (autograd, ours)):
        x = layer.parametrizations.weight.original
        grad = torch.autograd.grad if lib is torch else autograd.grad
        gx, = grad((layer.weight * lib.tensor(g)).sum(), x, create_graph=True)
        hv, = grad((gx * lib.tensor(v)).sum(), x)
        results.append(to_numpy(hv))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('orthogonal_map', MAPS)
def test_gradgradcheck_of_the_map(orthogonal_map):
    layer = parametrizations.orthogonal(nn.Linear(2, 3).double(), orthogonal_map=orthogonal_map,
                                        use_trivialization=False)
    x = autograd.tensor(_rand(3, 2, seed=7) * 0.5, requires_grad=True)
    if orthogonal_map == "householder":   # its diagonal is truncated to signs: keep it off +-1
        x = autograd.tensor(np.tril(_rand(3, 2, seed=7), -1) * 0.5 + 1.5 * np.eye(3, 2),
                            requires_grad=True)
    ortho = layer.parametrizations.weight[0]
    assert autograd.gradcheck(ortho, (x,))
    assert autograd.gradgradcheck(ortho, (x,))


@pytest.mark.parametrize('shape', [(4, 4), (6, 3), (3, 6)])
def test_default_map_is_pytorchs(shape):
    for lib, orth in ((torch_nn, torch_parametrizations.orthogonal),
                      (nn, parametrizations.orthogonal)):
        layer = orth(lib.Linear(shape[1], shape[0]))
        expected = 'matrix_exp' if shape[0] == shape[1] else 'householder'
        assert layer.parametrizations.weight[0].orthogonal_map.name == expected


@pytest.mark.parametrize('orthogonal_map', MAPS)
@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (3, 5)])
def test_assignment_matches_pytorch(orthogonal_map, shape):
    theirs, ours = _pair(shape, orthogonal_map, True, seed=8)
    q = np.linalg.qr(_rand(max(shape), min(shape), seed=9))[0]
    q = q if shape[0] >= shape[1] else q.T
    theirs.weight = torch.tensor(q)
    ours.weight = autograd.tensor(q)
    np.testing.assert_allclose(to_numpy(ours.weight), q, atol=1e-12)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(theirs.weight), **TOL)
    if shape[0] == shape[1]:        # a square base is the assigned matrix itself
        np.testing.assert_allclose(to_numpy(ours.parametrizations.weight[0].base),
                                   to_numpy(theirs.parametrizations.weight[0].base), **TOL)


def test_householder_without_trivialization_assigns_by_qr():
    theirs, ours = _pair((5, 3), 'householder', False, seed=10)
    w = _rand(5, 3, seed=11)
    theirs.weight = torch.tensor(w)
    ours.weight = autograd.tensor(w)
    np.testing.assert_allclose(to_numpy(ours.parametrizations.weight.original),
                               to_numpy(theirs.parametrizations.weight.original), **TOL)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(theirs.weight), **TOL)


@pytest.mark.parametrize('orthogonal_map', MAPS)
def test_training_keeps_the_layer_orthogonal(orthogonal_map):
    autograd.manual_seed(0)
    layer = parametrizations.orthogonal(nn.Linear(3, 5).double(), orthogonal_map=orthogonal_map)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = autograd.tensor(_rand(16, 3, seed=12))
    target = autograd.tensor(_rand(16, 5, seed=13))
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        _assert_orthonormal(layer.weight)
    assert losses[-1] < losses[0]


def test_remove_leaves_the_orthogonal_weight():
    layer = parametrizations.orthogonal(nn.Linear(3, 3).double())
    w = to_numpy(layer.weight)
    parametrize.remove_parametrizations(layer, 'weight')
    assert type(layer) is nn.Linear and list(layer.state_dict()) == ['bias', 'weight']  # as PyTorch
    np.testing.assert_allclose(to_numpy(layer.weight), w)


def test_errors_as_pytorchs():
    for lib, orth in ((torch_nn, torch_parametrizations.orthogonal),
                      (nn, parametrizations.orthogonal)):
        with pytest.raises(ValueError, match='Expected a matrix or batch of matrices'):
            orth(lib.Linear(3, 3), name='bias')
        with pytest.raises(ValueError, match='has no parameter or buffer'):
            orth(lib.Linear(3, 3), name='nothing')
        with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
            orth(lib.Linear(3, 3), orthogonal_map='qr')
        layer = orth(lib.Linear(3, 3), orthogonal_map='cayley', use_trivialization=False)
        lib_ = torch if lib is torch_nn else autograd
        with pytest.raises(NotImplementedError, match='use_trivialization=False'):
            layer.weight = lib_.eye(3)
        layer = orth(lib.Linear(3, 3))
        with pytest.raises(ValueError, match='Expected a matrix or batch of matrices of shape'):
            layer.parametrizations.weight[0].right_inverse(lib_.eye(4))

"""nn.utils against PyTorch: gradient clipping (both held to the norms and scaled gradients
written out by hand), parameter vectors, pad_sequence."""
import numpy as np
import pytest

import autograd
import nn
from oracle import check_op, each_library, rand, to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')


def _params(lib, lnn, grads):
    ps = []
    for i, g in enumerate(grads):
        p = lnn.Parameter(lib.tensor(rand(*g.shape, seed=i)))
        p.grad = lib.tensor(g)
        ps.append(p)
    ps.append(lnn.Parameter(lib.zeros(2)))         # no gradient: skipped
    return ps


GRADS = [rand(3, 4, low=-5, high=5, seed=10), rand(4, low=-5, high=5, seed=11)]


@pytest.mark.parametrize('norm_type', [2.0, 1.0, 3.0, float('inf'), 'inf'])
@pytest.mark.parametrize('max_norm', [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    # the p-norm of all gradients together; each is scaled by max_norm / (norm + 1e-6)
    # where that is below 1
    g = np.abs(np.concatenate([a.ravel() for a in GRADS]))
    p = float(norm_type)
    total = g.max() if p == float('inf') else (g ** p).sum() ** (1 / p)
    scale = min(1.0, max_norm / (total + 1e-6))
    for lib, lnn in each_library((torch, torch_nn), (autograd, nn)):
        params = _params(lib, lnn, GRADS)
        got = lnn.utils.clip_grad_norm_(params, max_norm, norm_type)
        assert isinstance(got, lib.Tensor)
        np.testing.assert_allclose(to_numpy(got), total, rtol=1e-12)
        for param, grad in zip(params[:2], GRADS):
            np.testing.assert_allclose(to_numpy(param.grad), grad * scale, rtol=1e-12)


def test_clip_grad_norm_keeps_grad_identity_and_accepts_one_tensor():
    p = _params(autograd, nn, GRADS)[0]
    g = p.grad
    nn.utils.clip_grad_norm_(p, 0.1)
    assert p.grad is g
    np.testing.assert_allclose(np.linalg.norm(to_numpy(g)), 0.1, rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    ps = _params(autograd, nn, [np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match='non-finite'):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(autograd.ones(2))], 1.0).item() == 0.0


def test_clip_grad_value_matches_pytorch():
    for lib, lnn in each_library((torch, torch_nn), (autograd, nn)):
        params = _params(lib, lnn, GRADS)
        assert lnn.utils.clip_grad_value_(params, 1.5) is None
        for param, grad in zip(params[:2], GRADS):
            np.testing.assert_array_equal(to_numpy(param.grad), np.clip(grad, -1.5, 1.5))


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(lin.parameters())
    expected = np.concatenate([to_numpy(lin.weight.detach()).ravel(),
                               to_numpy(lin.bias.detach())])
    np.testing.assert_array_equal(to_numpy(v.detach()), expected)
    w = lin.weight
    nn.utils.vector_to_parameters(autograd.arange(8.0), lin.parameters())
    assert lin.weight is w
    np.testing.assert_array_equal(to_numpy(lin.weight.detach()), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(to_numpy(lin.bias.detach()), [6.0, 7.0])
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters([1.0], lin.parameters())


def test_parameters_to_vector_is_differentiable():
    check_op(lambda lib, a, b: (torch.nn.utils if lib is torch else nn.utils)
             .parameters_to_vector([a, b]) * 2, rand(2, 3), rand(4, seed=1))


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('side', ['right', 'left'])
def test_pad_sequence(batch_first, side):
    seqs = [rand(3, 2, seed=1), rand(1, 2, seed=2), rand(4, 2, seed=3)]
    check_op(lambda lib, *xs: (torch.nn.utils.rnn if lib is torch else nn.utils.rnn)
             .pad_sequence(list(xs), batch_first=batch_first, padding_value=-1.5,
                           padding_side=side), *seqs)


def test_pad_sequence_of_1d_sequences():
    seqs = [rand(3, seed=1), rand(5, seed=2)]
    check_op(lambda lib, *xs: (torch.nn.utils.rnn if lib is torch else nn.utils.rnn)
             .pad_sequence(list(xs)), *seqs)

"""What the per-op and recurrent speed work (issue 19) changed keeps its results: quiet
sums and means, the row-wise scatter-add (embedding gradients), the recurrent layers'
tanh.  Values are compared with PyTorch or with the generic path they replace."""
import warnings

import numpy as np
import pytest

import autograd
import nn
from autograd.extend import array_of, scatter_add, xp_of
from oracle import check_op, torch


# ----------------------------------------------------------------------------- Sum, Mean

@pytest.mark.parametrize('reduce', ['sum', 'mean'])
@pytest.mark.parametrize('dim', [None, 0, (0, 1)])
def test_overflowing_sum_and_mean_are_silent_and_match_pytorch(reduce, dim):
    """float32 sums past the largest float: inf as PyTorch, no NumPy warning (the forwards
    set the error state themselves), forward and backward."""
    big = np.full((3, 4), 3e38, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        fn = (lambda lib, x: getattr(x, reduce)()) if dim is None else \
            (lambda lib, x: getattr(x, reduce)(dim))
        check_op(fn, big, double=False)
        x = autograd.tensor(big, requires_grad=True)
        fn(autograd, x).sum().backward()
    assert np.isinf(autograd.tensor(big).sum().item())


def test_error_state_is_restored_after_a_sum_or_mean_raised():
    """A bad dim raises inside the quiet region; the caller's NumPy error state is back."""
    x = autograd.tensor([[1.0, 2.0]])
    with np.errstate(all='raise'):
        before = np.geterr()
        for reduce in (autograd.sum, autograd.mean):
            with pytest.raises(IndexError):
                reduce(x, 5)
            assert np.geterr() == before
        assert x.sum().item() == 3.0 and np.geterr() == before


# ----------------------------------------------------------------------------- scatter_add

def _generic(out, key, values):
    """NumPy's add.at with a row index: the path the flat one replaces."""
    out = np.array(out)
    np.add.at(out, np.asarray(key), np.asarray(values))
    return out


@pytest.mark.parametrize('shape,n,key_dtype', [
    ((27, 10), 96, np.int64), ((40, 32), 160, np.int32), ((5, 3, 2), 40, np.int64),
    ((7, 1), 20, np.uint8), ((4, 6), 0, np.int64)])
def test_row_scatter_add_is_bit_identical_to_add_at(shape, n, key_dtype):
    """Repeated (and negative) row indices: the same sums in the same order as add.at."""
    rng = np.random.default_rng(n)
    key = rng.integers(0 if key_dtype == np.uint8 else -shape[0], shape[0], n).astype(key_dtype)
    values = rng.standard_normal((n,) + shape[1:]).astype(np.float32)
    start = rng.standard_normal(shape).astype(np.float32)
    t = autograd.tensor(start)
    xp = xp_of(t)
    out = array_of(t)
    scatter_add(xp, out, xp.asarray(key), xp.asarray(values))
    assert np.array_equal(t.cpu().numpy(), _generic(start, key, values))


def test_scatter_add_into_a_strided_view_takes_the_generic_path():
    """A non-contiguous target (a column slice) is added into in place, rows summed."""
    base = autograd.zeros(4, 6, dtype=autograd.float64)
    view = array_of(base)[:, ::2]
    xp = xp_of(base)
    scatter_add(xp, view, xp.asarray([1, 1, 3]), xp.ones((3, 3)))
    expected = np.zeros((4, 6))
    expected[1, ::2], expected[3, ::2] = 2.0, 1.0
    assert np.array_equal(base.cpu().numpy(), expected)


@pytest.mark.parametrize('scale_grad_by_freq', [False, True])
def test_embedding_gradient_with_repeated_indices_matches_pytorch(scale_grad_by_freq):
    """An embedding's gradient where most rows are picked many times, float64, with the
    second derivative (the lookup again).  With ``scale_grad_by_freq`` the output is
    linear in the weight: PyTorch's double backward of the lookup omits the frequency
    scaling (``embedding_dense_double_backward``), so a second derivative would differ."""
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 9, (16, 5))
    weight = rng.standard_normal((9, 4))

    def fn(lib, w):
        F = torch.nn.functional if lib is torch else nn.functional
        out = F.embedding(lib.tensor(idx), w, scale_grad_by_freq=scale_grad_by_freq)
        return out * 3.0 if scale_grad_by_freq else out * out
    check_op(fn, weight)


# ----------------------------------------------------------------------------- recurrent layers

@pytest.mark.parametrize('mode', ['LSTM', 'GRU'])
def test_recurrent_layer_float32_matches_pytorch_after_the_tanh_change(mode):
    """The fused layers' tanh (NumPy's SIMD loop): outputs and weight gradients of a float32
    layer over 12 steps within float32 rounding of PyTorch's."""
    torch_layer = getattr(torch.nn, mode)(6, 8, batch_first=True)
    ours = getattr(nn, mode)(6, 8, batch_first=True)
    ours.load_state_dict({k: autograd.tensor(v.detach().numpy())
                          for k, v in torch_layer.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((3, 12, 6)).astype(np.float32) * 2
    out_t = torch_layer(torch.tensor(x))[0]
    out_o = ours(autograd.tensor(x))[0]
    np.testing.assert_allclose(out_o.detach().cpu().numpy(), out_t.detach().numpy(),
                               rtol=1e-5, atol=2e-6)
    out_t.square().sum().backward()
    out_o.square().sum().backward()
    for (name, p), q in zip(ours.named_parameters(), torch_layer.parameters()):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)

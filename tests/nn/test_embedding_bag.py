"""EmbeddingBag against PyTorch: F.embedding_bag in the three modes, with offsets or 2-D input,
per_sample_weights, padding_idx, include_last_offset and max_norm (values, gradients of the
weight and the per-sample weights, second order where PyTorch has it); the module, its
from_pretrained, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch

W = rand(10, 4)
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 2])
OFFSETS = np.array([0, 2, 2, 5, 9])                 # bags of 2, 0, 3, 4 and 1 lookups
IDX2 = np.array([[1, 2, 4], [4, 3, 2], [9, 0, 0]])


def fn(lib):
    return torch.nn.functional if lib is torch else F


def bag(**kw):
    def run(lib, w, idx, offsets=None, psw=None):
        return fn(lib).embedding_bag(idx, w, offsets, per_sample_weights=psw, **kw)
    return run


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_modes_with_offsets(mode):
    check_op(bag(mode=mode), W, IDX, OFFSETS)
    check_op(bag(mode=mode), W.astype('float32'), IDX.astype('int32'), OFFSETS.astype('int32'))


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_2d_input(mode):
    check_op(bag(mode=mode), W, IDX2)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_padding_idx_is_left_out(mode):
    check_op(bag(mode=mode, padding_idx=2), W, IDX, OFFSETS)
    check_op(bag(mode=mode, padding_idx=-10), W, IDX2)           # index 0, bag 2 all padding


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_include_last_offset(mode):
    offsets = np.append(OFFSETS, len(IDX))
    check_op(bag(mode=mode, include_last_offset=True), W, IDX, offsets)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(mode=st.sampled_from(['sum', 'mean', 'max']), sizes=st.lists(st.integers(0, 4), min_size=1,
       max_size=5), padding=st.sampled_from([None, 0, 3]), last=st.booleans(), seed=st.integers(0, 99))
def test_random_bags_match_torch(mode, sizes, padding, last, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 6, size=sum(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    if last:
        offsets = np.append(offsets, len(idx))
    check_op(bag(mode=mode, padding_idx=padding, include_last_offset=last), rand(6, 3, seed=seed),
             idx, offsets, double=mode != 'max')


def test_per_sample_weights():
    # PyTorch has no second derivative through per_sample_weights' gradient
    check_op(bag(mode='sum'), W, IDX, OFFSETS, rand(10, seed=3), double=False)
    check_op(bag(mode='sum', padding_idx=4), W, IDX2, None, rand(3, 3, seed=4), double=False)


def test_scale_grad_by_freq_divides_by_the_batch_frequency():
    # As F.embedding's (and PyTorch's documentation): each row's gradient divided by how often
    # its index occurs in the batch.  PyTorch 2.x's CPU embedding_bag kernel gives 1.5, not 1,
    # to an index seen three times here, so the oracle is the definition.
    w = autograd.ones(5, 1, dtype=autograd.float64, requires_grad=True)
    F.embedding_bag(autograd.tensor([1, 2, 2, 3, 3, 3]), w, autograd.tensor([0, 3]), mode='sum',
                    scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad).ravel(), [0, 1, 1, 1, 0])


def test_max_norm_renormalises_the_looked_up_rows():
    results = []
    for lib, nn_ in ((torch, torch.nn), (autograd, nn)):
        w = lib.tensor(W * 3)
        out = fn(lib).embedding_bag(lib.tensor(IDX), w, lib.tensor(OFFSETS), max_norm=1.5,
                                    mode='sum')
        results.append((to_numpy(out), to_numpy(w)))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_empty_input_and_no_bags():
    check_op(bag(mode='sum'), W, np.zeros(0, np.int64), np.array([0, 0]), grad=False)
    check_op(bag(mode='max'), W, np.zeros(0, np.int64), np.array([0, 0]), grad=False)
    # no bags at all (PyTorch 2.x's kernel crashes the process on this one)
    for mode in ('sum', 'mean', 'max'):
        out = F.embedding_bag(autograd.tensor(IDX), autograd.tensor(W),
                              autograd.zeros(0, dtype=autograd.int64), mode=mode)
        assert tuple(out.shape) == (0, 4)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_module_matches_torch(mode):
    def build(nn):
        return nn.EmbeddingBag(10, 4, mode=mode, padding_idx=3)

    check_layer(build, IDX, OFFSETS)
    check_layer(build, IDX2)
    if mode == 'sum':
        check_layer(lambda nn: nn.EmbeddingBag(10, 4, mode='sum', include_last_offset=True),
                    IDX, np.append(OFFSETS, 10), rand(10, seed=2),
                    call=lambda layer, i, o, p: layer(i, o, per_sample_weights=p))


def test_module_defaults_repr_and_from_pretrained():
    layer = nn.EmbeddingBag(6, 3, padding_idx=-1, max_norm=1.0, mode='max')
    assert repr(layer) == repr(torch.nn.EmbeddingBag(6, 3, padding_idx=-1, max_norm=1.0,
                                                     mode='max'))
    assert layer.padding_idx == 5 and not to_numpy(layer.weight)[5].any()
    assert list(layer.state_dict()) == ['weight'] and layer.include_last_offset is False
    pre = autograd.tensor(W)
    frozen = nn.EmbeddingBag.from_pretrained(pre, mode='sum')
    assert not frozen.weight.requires_grad and frozen.mode == 'sum'
    assert nn.EmbeddingBag.from_pretrained(pre, freeze=False).weight.requires_grad
    out = frozen(autograd.tensor(IDX2))
    np.testing.assert_allclose(to_numpy(out), W[IDX2].sum(1))


def test_errors():
    check_raises(bag(), W, IDX)                                             # 1-D, no offsets
    check_raises(bag(), W, IDX2, np.array([0, 1]))                          # 2-D with offsets
    check_raises(bag(), W, IDX2[None])                                      # 3-D input
    check_raises(bag(), W, IDX, OFFSETS[None])                              # 2-D offsets
    check_raises(bag(mode='prod'), W, IDX, OFFSETS)
    check_raises(bag(mode='mean'), W, IDX, OFFSETS, rand(10))               # psw needs 'sum'
    check_raises(bag(mode='sum'), W, IDX, OFFSETS, rand(9))                 # psw's shape
    check_raises(bag(mode='max', scale_grad_by_freq=True), W, IDX, OFFSETS)
    check_raises(bag(), W, IDX.astype('float64'), OFFSETS)                  # float indices
    check_raises(bag(), W, IDX, np.array([1, 2]))                           # offsets[0] != 0
    check_raises(bag(), W, IDX, np.array([0, 12]))                          # past the end
    check_raises(bag(), W, np.array([1, 12]), np.array([0]))                # index range
    check_raises(bag(padding_idx=10), W, IDX, OFFSETS)

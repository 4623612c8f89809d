"""Packed sequences against PyTorch: packing and unpacking (values, gradients, the index
tensors), the padding helpers, and RNN/LSTM/GRU on a PackedSequence (outputs, final states
taken at each sequence's last step, and the gradients of inputs, states and parameters)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch

X = rand(5, 4, 3)                       # (T, B, H_in)
LENGTHS = [3, 5, 1, 4]                  # unsorted; all different, so every sort agrees
SORTED = [5, 4, 3, 1]


def rnn_utils(lib):
    return torch.nn.utils.rnn if lib is torch else nn.utils.rnn


def lib_of(layer):
    return autograd if isinstance(layer, nn.Module) else torch


def tolist(t):
    return None if t is None else [int(v) for v in t.tolist()]


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('enforce_sorted', [False, True])
def test_pack_padded_sequence_matches_torch(batch_first, enforce_sorted):
    x = np.ascontiguousarray(X.transpose(1, 0, 2)) if batch_first else X
    lengths = SORTED if enforce_sorted else LENGTHS
    packs = []
    for lib in (torch, autograd):
        packs.append(rnn_utils(lib).pack_padded_sequence(lib.tensor(x), lengths, batch_first,
                                                         enforce_sorted))
    ours, theirs = packs[1], packs[0]
    np.testing.assert_array_equal(to_numpy(ours.data), to_numpy(theirs.data))
    for field in ('batch_sizes', 'sorted_indices', 'unsorted_indices'):
        assert tolist(getattr(ours, field)) == tolist(getattr(theirs, field)), field
    assert ours.batch_sizes.device == autograd.device('cpu')
    assert ours.batch_sizes.dtype == autograd.int64
    check_op(lambda lib, x: rnn_utils(lib).pack_padded_sequence(
        x, lengths, batch_first, enforce_sorted).data, x)


@pytest.mark.parametrize('batch_first', [False, True])
def test_pad_packed_sequence_matches_torch(batch_first):
    def roundtrip(lib, x):
        u = rnn_utils(lib)
        lengths = lib.tensor(LENGTHS, device='cpu')      # a CPU tensor of lengths
        packed = u.pack_padded_sequence(x, lengths, enforce_sorted=False)
        padded, out_lengths = u.pad_packed_sequence(packed, batch_first, padding_value=-2.0,
                                                    total_length=7)
        assert tolist(out_lengths) == LENGTHS and out_lengths.dtype == lib.int64
        return padded

    check_op(roundtrip, X)


def test_pack_sequence_and_unpack_sequence():
    seqs = [rand(n, 2, seed=n) for n in LENGTHS]

    def packed_data(lib, *xs):
        return rnn_utils(lib).pack_sequence(list(xs), enforce_sorted=False).data

    def unpacked(lib, *xs):
        u = rnn_utils(lib)
        return tuple(u.unpack_sequence(u.pack_sequence(list(xs), enforce_sorted=False)))

    check_op(packed_data, *seqs)
    check_op(unpacked, *seqs)
    check_op(lambda lib, *xs: rnn_utils(lib).pack_sequence(list(xs)).data,
             *[rand(n, 2, seed=n) for n in SORTED])


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('side', ['left', 'right'])
def test_pad_sequence_and_unpad_sequence(batch_first, side):
    seqs = [rand(n, 2, seed=n) for n in LENGTHS]
    check_op(lambda lib, *xs: rnn_utils(lib).pad_sequence(list(xs), batch_first, 1.5, side),
             *seqs)

    def unpadded(lib, *xs):
        u = rnn_utils(lib)
        padded = u.pad_sequence(list(xs), batch_first)
        return tuple(u.unpad_sequence(padded, lib.tensor(LENGTHS), batch_first))

    check_op(unpadded, *seqs)


def test_packed_sequence_is_a_namedtuple_with_to():
    packed = nn.utils.rnn.pack_sequence([autograd.ones(3, 2), autograd.ones(1, 2)],
                                        enforce_sorted=False)
    assert isinstance(packed, tuple) and packed._fields == torch.nn.utils.rnn.PackedSequence._fields
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert tolist(batch_sizes) == [2, 1, 1] and tolist(sorted_indices) == [0, 1]
    doubled = packed.to(autograd.float64)
    assert doubled.data.dtype == autograd.float64 and doubled.batch_sizes is batch_sizes
    assert packed.to(autograd.float32) is packed and packed.double().data.dtype == \
        autograd.float64
    assert packed.is_cuda == (packed.data.device.type == 'cuda')
    assert not packed.cpu().is_cuda and packed.cpu().sorted_indices.device.type == 'cpu'
    again = nn.utils.rnn.PackedSequence(data, batch_sizes, sorted_indices)
    assert tolist(again.unsorted_indices) == [0, 1]
    inv = nn.utils.rnn.invert_permutation(autograd.tensor([2, 0, 1]))
    assert tolist(inv) == [1, 2, 0]


RNN_CASES = [
    ('RNN', dict()), ('RNN', dict(nonlinearity='relu', bidirectional=True)),
    ('LSTM', dict()), ('LSTM', dict(num_layers=2, bidirectional=True)),
    ('LSTM', dict(proj_size=2, bidirectional=True)),
    ('GRU', dict()), ('GRU', dict(num_layers=2, bidirectional=True, batch_first=True)),
]


@pytest.mark.parametrize('kind,kw', RNN_CASES)
def test_rnn_on_packed_sequences(kind, kw):
    batch_first = kw.get('batch_first', False)
    x = np.ascontiguousarray(X.transpose(1, 0, 2)) if batch_first else X

    def call(layer, x):
        u = rnn_utils(lib_of(layer))
        packed = u.pack_padded_sequence(x, LENGTHS, batch_first, enforce_sorted=False)
        out, hidden = layer(packed)
        assert isinstance(out, u.PackedSequence)
        assert tolist(out.unsorted_indices) == tolist(packed.unsorted_indices)
        return u.pad_packed_sequence(out, batch_first)[0], hidden

    check_layer(lambda nn: getattr(nn, kind)(3, 4, **kw), x, call=call)


@pytest.mark.parametrize('kind', ['RNN', 'LSTM', 'GRU'])
def test_rnn_on_packed_sequences_with_initial_state(kind):
    dirs, layers = 2, 2
    h0 = rand(dirs * layers, 4, 4, seed=5)
    c0 = rand(dirs * layers, 4, 4, seed=6)

    def call(layer, x, h0, c0):
        u = rnn_utils(lib_of(layer))
        packed = u.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
        out, hidden = layer(packed, (h0, c0) if kind == 'LSTM' else h0)
        return out.data, hidden

    check_layer(lambda nn: getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=True), X,
                h0, c0, call=call)


def test_sorted_packed_input_and_data_gradient():
    def call(layer, x):
        u = rnn_utils(lib_of(layer))
        out, (h, c) = layer(u.pack_padded_sequence(x, SORTED))
        return out.data, h, c

    check_layer(lambda nn: nn.LSTM(3, 4, bidirectional=True), X, call=call)


def test_errors():
    u = lambda lib: rnn_utils(lib)     # noqa: E731
    check_raises(lambda lib, x: u(lib).pack_padded_sequence(x, LENGTHS), X, match='decreasing')
    check_raises(lambda lib, x: u(lib).pack_padded_sequence(x, [5, 4, 3, 0]), X,
                 match='greater than 0')
    check_raises(lambda lib, x: u(lib).pack_padded_sequence(x, [5, 4, 3]), X,
                 match='equal to batch_size')
    check_raises(lambda lib, x: u(lib).pack_padded_sequence(x, lib.tensor([SORTED])), X)
    check_raises(lambda lib, x: u(lib).pad_packed_sequence(
        u(lib).pack_padded_sequence(x, SORTED), total_length=3), X, match='total_length')
    check_raises(lambda lib, x: u(lib).pad_sequence([x[0], x[1]], padding_side='top'), X)
    with pytest.raises(RuntimeError):
        nn.utils.rnn.pack_padded_sequence(autograd.tensor(X), [6, 4, 3, 1])   # > T steps
    layer = nn.GRU(2, 4)
    packed = nn.utils.rnn.pack_padded_sequence(autograd.tensor(X), SORTED)
    with pytest.raises(RuntimeError, match='input_size'):
        layer(packed)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4), kind=st.sampled_from(
    ['RNN', 'LSTM', 'GRU']), bidirectional=st.booleans())
def test_random_lengths_match_torch(lengths, kind, bidirectional):
    x = rand(max(lengths), len(lengths), 2, seed=len(lengths))

    def call(layer, x):
        u = rnn_utils(lib_of(layer))
        out, hidden = layer(u.pack_padded_sequence(x, lengths, enforce_sorted=False))
        return u.pad_packed_sequence(out)[0], hidden

    check_layer(lambda nn: getattr(nn, kind)(2, 3, bidirectional=bidirectional), x, call=call)


def test_second_order_through_a_packed_lstm():
    autograd.manual_seed(0)
    layer = nn.LSTM(2, 2, bidirectional=True).double()
    x = autograd.tensor(rand(3, 2, 2), requires_grad=True)

    def f(x):
        out, (h, c) = layer(nn.utils.rnn.pack_padded_sequence(x, [3, 1]))
        return out.data, h, c

    assert autograd.gradgradcheck(f, (x,))

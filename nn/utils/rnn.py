"""Utilities for variable-length sequences (PyTorch's ``nn.utils.rnn``): padding, and packed
sequences, the layout in which the recurrent layers skip the padding.

A ``PackedSequence`` stores a batch of B sequences sorted by decreasing length, time-major:
``data`` holds step 0 of every sequence, then step 1 of those still running, and so on;
``batch_sizes[t]`` (a CPU int64 tensor) says how many sequences run at step t.
``sorted_indices[i]`` is the original batch position of the i-th longest sequence and
``unsorted_indices`` its inverse (both None when the batch came sorted).
"""
from collections import namedtuple

import numpy

import autograd
from autograd.extend import array_of, wrap, xp_of

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence',
           'pad_packed_sequence', 'pad_sequence', 'unpad_sequence', 'pack_sequence',
           'unpack_sequence']

_PackedSequenceBase = namedtuple('PackedSequence_',
                                 ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None for None)."""
    if permutation is None:
        return None
    xp, p = xp_of(permutation), array_of(permutation)
    inverse = xp.empty_like(p)
    inverse[p] = xp.arange(p.shape[0], dtype=p.dtype)
    return wrap(inverse, permutation.device)


class PackedSequence(_PackedSequenceBase):
    """(data (sum of lengths, *), batch_sizes (T,), sorted_indices (B,) or None,
    unsorted_indices (B,) or None): a namedtuple, as PyTorch's.  Made by
    ``pack_padded_sequence`` or ``pack_sequence``; not meant to be built by hand."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:                      # PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        if batch_sizes.device.type != 'cpu':
            raise ValueError('batch_sizes should always be on CPU. Instances of PackedSequence '
                             'should never be created manually. They should be instantiated by'
                             ' functions like pack_sequence and pack_padded_sequences in '
                             'nn.utils.rnn. https://pytorch.org/docs/stable/nn.html'
                             '#torch.nn.utils.rnn.pack_sequence')
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` moved/cast as ``Tensor.to``; the index tensors follow to its device;
        ``batch_sizes`` stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to(*args, device='cuda', **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to(*args, device='cpu', **kwargs)

    def double(self):
        return self.to(dtype=autograd.float64)

    def float(self):
        return self.to(dtype=autograd.float32)

    def half(self):
        return self.to(dtype=autograd.float16)

    def long(self):
        return self.to(dtype=autograd.int64)

    def int(self):
        return self.to(dtype=autograd.int32)

    def bool(self):
        return self.to(dtype=autograd.bool)

    @property
    def is_cuda(self):
        return self.data.device.type == 'cuda'

    def is_pinned(self):
        return False


def _lengths_array(lengths):
    """``lengths`` (a list, or a 1-D CPU integer tensor) as a NumPy int64 array."""
    if isinstance(lengths, autograd.Tensor):
        if lengths.ndim != 1 or lengths.device.type != 'cpu':
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f'{lengths.ndim}D {lengths.device} {lengths.dtype} tensor')
        return numpy.asarray(lengths.tolist(), dtype=numpy.int64).reshape(-1)
    return numpy.asarray(lengths, dtype=numpy.int64).reshape(-1)


def _batch_sizes(lengths):
    """Sorted decreasing lengths -> how many sequences run at each step."""
    steps = numpy.arange(int(lengths[0]) if len(lengths) else 0)
    return (lengths[None, :] > steps[:, None]).sum(1).astype(numpy.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``input`` (T, B, *) ((B, T, *) with ``batch_first``) of sequences
    of the given ``lengths``.  With ``enforce_sorted`` the lengths must decrease; else the
    batch is sorted here and the permutation kept in the result."""
    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = numpy.argsort(-lens, kind='stable')
        lens = lens[order]
        sorted_indices = autograd.tensor(order, dtype=autograd.int64, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    batch = input.shape[0 if batch_first else 1]
    if len(lens) != batch:
        raise RuntimeError(f'Expected `len(lengths)` to be equal to batch_size, but got '
                           f'{len(lens)} (batch_size={batch})')
    if len(lens) and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted and (numpy.diff(lens) > 0).any():
        raise RuntimeError('`lengths` array must be sorted in decreasing order when '
                           '`enforce_sorted` is True. You can pass `enforce_sorted=False` to '
                           'pack_padded_sequence and/or pack_sequence to sidestep this '
                           'requirement if you do not need ONNX exportability.')
    steps = input.shape[1 if batch_first else 0]
    if len(lens) and lens[0] > steps:
        raise RuntimeError(f'pack_padded_sequence: a length {int(lens[0])} exceeds the '
                           f'{steps} steps of the padded input {list(input.shape)}')
    batch_sizes = _batch_sizes(lens)
    # flat position of each packed row in the (T * B) or (B * T) rows of the input
    t = numpy.repeat(numpy.arange(len(batch_sizes)), batch_sizes)
    b = numpy.concatenate([numpy.arange(n) for n in batch_sizes]) if len(t) else t
    rows = b * steps + t if batch_first else t * batch + b
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = flat.index_select(0, autograd.tensor(rows, dtype=autograd.int64, device=input.device))
    return PackedSequence(data, autograd.tensor(batch_sizes, dtype=autograd.int64, device='cpu'),
                          sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: (padded (T, B, *) ((B, T, *) with
    ``batch_first``) in the original batch order, lengths (B,) CPU int64).  ``total_length``
    pads to that many steps."""
    data, batch_sizes = sequence.data, _lengths_array(sequence.batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f'Expected total_length to be at least the length of the longest '
                             f'sequence in input, but got total_length={total_length} and max '
                             f'sequence length being {steps}')
        steps = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    lens = (batch_sizes[None, :] > numpy.arange(batch)[:, None]).sum(1).astype(numpy.int64)
    # each padded cell reads packed row `source` (or row n, the padding value)
    n = data.shape[0]
    source = numpy.full((steps, batch), n, dtype=numpy.int64)
    t = numpy.repeat(numpy.arange(len(batch_sizes)), batch_sizes)
    b = numpy.concatenate([numpy.arange(k) for k in batch_sizes]) if n else t
    source[t, b] = numpy.arange(n)
    if batch_first:
        source = source.T
    fill = autograd.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                         device=data.device)
    rows = autograd.cat([data, fill]).index_select(
        0, autograd.tensor(source.reshape(-1), dtype=autograd.int64, device=data.device))
    padded = rows.reshape(*source.shape, *data.shape[1:])
    lengths = autograd.tensor(lens, dtype=autograd.int64, device='cpu')
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack sequences of shapes ``(L_i, *)`` into ``(L_max, B, *)`` (or ``(B, L_max, *)``
    with ``batch_first``), filling with ``padding_value`` on ``padding_side``."""
    from ..functional.misc import pad
    if padding_side not in ('left', 'right'):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, autograd.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError('received an empty list of sequences')
    for i, s in enumerate(sequences):
        if not isinstance(s, autograd.Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(s).__name__}')
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        tail = [0, 0] * (s.ndim - 1)
        spec = tail + ([0, extra] if padding_side == 'right' else [extra, 0])
        padded.append(pad(s, spec, value=padding_value) if extra else s)
    return autograd.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Inverse of ``pad_sequence``: the list of B tensors ``padded[:lengths[i], i]``.
    (PyTorch transposes a time-major input in place first; this leaves it untouched.)"""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = _lengths_array(lengths.cpu() if isinstance(lengths, autograd.Tensor) else lengths)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = [v.shape[0] for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Inverse of ``pack_sequence``: the list of tensors (L_i, *), in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

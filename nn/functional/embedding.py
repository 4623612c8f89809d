"""``embedding``: rows of a weight matrix picked by integer indices (a table lookup).

The gradient of the lookup scatter-adds the output gradient into the picked rows
(repeated indices sum); ``padding_idx``'s row gets none, and ``scale_grad_by_freq``
divides each row's gradient by how often its index occurs in the batch.
"""
import autograd
from autograd.extend import check_data
from autograd.extend import (Op, array_of, const_like, increment_version, scatter_add, wrap,
                             xp_of)

__all__ = ['embedding', 'one_hot', 'embedding_bag']


class Embedding(Op):
    """``weight[indices]``: weight ``(num, *row)`` -> ``(*indices.shape, *row)``."""
    __slots__ = ('indices', 'num', 'scale')
    array_backward = True

    def forward(self, xp, weight, indices=None, scale=None):
        self.indices, self.num, self.scale = indices, weight.shape[0], scale
        return xp.take(weight, indices, axis=0)     # (NumPy: half of weight[indices]'s time)

    def backward(self, g):
        return EmbeddingBackward.apply(g, indices=self.indices, num=self.num, scale=self.scale)


class EmbeddingBackward(Op):
    """The adjoint of the lookup: zeros ``(num, *row)`` with ``scale * g`` added at the
    indices.  Its own adjoint is the lookup again (times ``scale``)."""
    __slots__ = ('indices', 'scale')
    array_backward = True

    def forward(self, xp, g, indices=None, num=0, scale=None):
        self.indices, self.scale = indices, scale
        if scale is not None:
            g = g * scale
        row = g.shape[indices.ndim:]
        out = xp.zeros((num,) + row, dtype=g.dtype)
        scatter_add(xp, out, indices.reshape(-1), g.reshape((-1,) + row))
        return out

    def backward(self, gg):
        out = Embedding.apply(gg, indices=self.indices)
        if self.scale is None:
            return out
        return out * const_like(self.scale, gg)


def _grad_scale(xp, idx, num, padding_idx, scale_grad_by_freq, dtype, row_ndim):
    """The per-lookup gradient factor (None when every factor is 1)."""
    scale = None
    if scale_grad_by_freq:
        counts = xp.zeros(num, dtype)
        scatter_add(xp, counts, idx.reshape(-1), 1.0)   # no bincount: no host read of idx
        scale = 1.0 / counts[idx]
    if padding_idx is not None:
        keep = (idx != padding_idx).astype(dtype)
        scale = keep if scale is None else scale * keep
    if scale is not None:
        scale = scale.reshape(scale.shape + (1,) * row_ndim)
    return scale


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Scale the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` down to
    ``max_norm`` (in place, untracked, as PyTorch's ``embedding_renorm_``)."""
    xp = xp_of(weight)
    w = array_of(weight)
    rows = xp.unique(idx.reshape(-1))
    sub = w[rows]
    flat = sub.reshape(len(rows), -1)
    if norm_type == float('inf'):
        norms = xp.abs(flat).max(axis=1)
    else:
        norms = (xp.abs(flat) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    factor = xp.where(big, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = sub * factor.reshape((-1,) + (1,) * (sub.ndim - 1))
    increment_version(weight)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight (num_embeddings, embedding_dim)`` at the integer ``input`` indices:
    output ``(*input.shape, embedding_dim)``."""
    if input.dtype not in (autograd.int64, autograd.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           'following scalar types: Long, Int; but got '
                           f'{input.dtype} instead (while checking arguments for embedding)')
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, 'Padding_idx must be within num_embeddings'
        elif padding_idx < 0:
            assert padding_idx >= -num, 'Padding_idx must be within num_embeddings'
            padding_idx = num + padding_idx
    idx = array_of(input)
    xp = xp_of(weight)
    check_data(xp, ((idx < 0) | (idx >= num)).any(), IndexError, 'index out of range in self')
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    scale = None
    if weight.requires_grad and autograd.is_grad_enabled():
        scale = _grad_scale(xp, idx, num, padding_idx, scale_grad_by_freq, array_of(weight).dtype,
                            weight.ndim - 1)
    return Embedding.apply(weight, indices=idx, scale=scale)


def one_hot(tensor, num_classes=-1):
    """``(*shape)`` int64 class indices -> ``(*shape, num_classes)`` int64 one-hot rows."""
    if tensor.dtype != autograd.int64:
        raise RuntimeError('one_hot is only applicable to index tensor of type LongTensor.')
    a = array_of(tensor)
    xp = xp_of(tensor)
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError('Can not infer total number of classes from empty tensor.')
        num_classes = int(a.max()) + 1
    if a.size:
        if int(a.min()) < 0:
            raise RuntimeError('Class values must be non-negative.')
        if int(a.max()) >= num_classes:
            raise RuntimeError('Class values must be smaller than num_classes.')
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return wrap(out, tensor.device)


def _bags(xp, n, offsets, batch, include_last_offset):
    """For each of the ``n`` flattened lookups: its bag, and whether it lies in one (with
    ``include_last_offset`` lookups past ``offsets[-1]`` lie in none); each bag's start."""
    starts = offsets[:batch]
    ends = offsets[1:batch + 1] if include_last_offset else xp.concatenate(
        [offsets[1:batch], xp.asarray([n], dtype=offsets.dtype)])
    j = xp.arange(n)
    bag = xp.searchsorted(starts, j, side='right') - 1
    inside = (bag >= 0) & (j < ends[-1])
    return xp.clip(bag, 0, batch - 1), inside, starts, ends


def _check_bag_args(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq,
                    padding_idx):
    """PyTorch's argument checks, in its order; returns the flat input, the offsets and the
    per-sample weights (as 1-D), and padding_idx made non-negative."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f'embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is '
                         f'not None, then it must have the same shape as the input '
                         f'({input.shape})')
    if weight.ndim != 2:
        raise ValueError(f'weight has to be a 2D Tensor, but got Tensor of dimension '
                         f'{weight.ndim}')
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError('if input is 2D, then offsets has to be None, as input is treated '
                             'is a mini-batch of fixed length sequences. However, found offsets '
                             f'of type {type(offsets)}')
        batch, length = input.shape
        offsets = autograd.arange(0, batch * length, length if length else 1,
                                  dtype=input.dtype, device=input.device)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError('offsets has to be a 1D Tensor but got None')
        if offsets.ndim != 1:
            raise ValueError('offsets has to be a 1D Tensor')
    else:
        raise ValueError(f'input has to be 1D or 2D Tensor, but got Tensor of dimension '
                         f'{input.ndim}')
    if mode not in ('sum', 'mean', 'max'):
        raise ValueError('mode has to be one of sum, mean or max')
    if scale_grad_by_freq and mode == 'max':
        raise ValueError('max mode does not support scaling the gradient by the frequency')
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    for name, t in (('indices', input), ('offsets', offsets)):
        if t.dtype not in (autograd.int64, autograd.int32):
            raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the "
                               f'following scalar types: Long, Int; but got {t.dtype} instead '
                               '(while checking arguments for embedding_bag)')
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"embedding_bag: expected per_sample_weights of weight's dtype "
                           f'{weight.dtype}, but got {per_sample_weights.dtype}')
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f'padding_idx must be within the number of embeddings, -{num} '
                               f'through {num - 1}, but got {padding_idx}')
        padding_idx %= num
    off = array_of(offsets)
    n = input.shape[0]
    if off.size:
        if int(off[0]) != 0:
            raise RuntimeError(f'offsets[0] has to be 0, i.e., the first sequence in the '
                               f'mini-batch has to start from position 0. However, got '
                               f'{int(off[0])}')
        if int(off[-1]) > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but "
                               f'got offsets[-1] of {int(off[-1])}')
        if off.size > 1 and bool((off[1:] < off[:-1]).any()):
            raise RuntimeError(f'embedding_bag: offsets must be non-decreasing, got '
                               f'{off.tolist() if off.size < 20 else list(offsets.shape)}')
    idx = array_of(input)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num):
        raise RuntimeError(f'embedding_bag: index out of range: indices must lie in [0, {num}) '
                           f'for a weight of {num} rows, got min {int(idx.min())} and max '
                           f'{int(idx.max())}')
    return input, offsets, per_sample_weights, padding_idx


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode='mean', sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without the ``(bags, length, dim)``
    intermediate of ``embedding`` then a reduction.

    ``input`` (B, N): B bags of N indices; or 1-D with ``offsets`` (B,) (or (B + 1,) with
    ``include_last_offset``), bag b being ``input[offsets[b]:offsets[b + 1]]``.  Lookups of
    ``padding_idx`` are left out of their bag (not counted by 'mean'); an empty bag gives
    zeros.  ``per_sample_weights`` (input's shape; 'sum' only) scales each lookup.
    Returns (B, embedding_dim)."""
    input, offsets, per_sample_weights, padding_idx = _check_bag_args(
        input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq, padding_idx)
    xp = xp_of(weight)
    n, dim = input.shape[0], weight.shape[1]
    off = array_of(offsets)
    batch = max(off.shape[0] - 1, 0) if include_last_offset else off.shape[0]
    rows = embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if batch == 0 or n == 0:
        return _no_lookups(xp, rows, batch, dim)
    bag, inside, starts, ends = _bags(xp, n, off, batch, include_last_offset)
    keep = inside
    if padding_idx is not None:
        keep = keep & (array_of(input) != padding_idx)
    dtype = array_of(weight).dtype
    bag_t = wrap(bag.astype(xp.int64), input.device)
    if mode == 'max':
        return _bag_max(xp, rows, bag, keep, starts, ends, batch, dim)
    factor = keep.astype(dtype)
    if mode == 'mean':
        counts = xp.zeros(batch, dtype=dtype)
        scatter_add(xp, counts, bag, factor)
        factor = factor / xp.maximum(counts, 1)[bag]
    scale = wrap(factor[:, None], input.device)
    terms = rows * scale
    if per_sample_weights is not None:
        terms = terms * per_sample_weights.unsqueeze(1)
    out = autograd.zeros(batch, dim, dtype=weight.dtype, device=weight.device)
    return out.index_add(0, bag_t, terms)


def _no_lookups(xp, rows, batch, dim):
    """Zeros (batch, dim) for bags that are all empty, still connected to the weight (its
    gradient is then zero, as PyTorch's)."""
    out = autograd.zeros(batch, dim, dtype=rows.dtype, device=rows.device)
    none = wrap(xp.zeros(0, dtype=xp.int64), rows.device)
    return out.index_add(0, none, rows[:0])


def _bag_max(xp, rows, bag, keep, starts, ends, batch, dim):
    """Each bag's elementwise maximum, as a gather of the winning lookups (so the gradient
    goes to the argmax, as PyTorch's); zeros for an empty bag."""
    n = rows.shape[0]
    length = int((ends - starts).max())
    pos = xp.arange(n) - starts[bag]
    dense = xp.full((batch, max(length, 1), dim), -xp.inf, dtype=array_of(rows).dtype)
    dense[bag[keep], pos[keep]] = array_of(rows)[keep]
    winner = dense.argmax(axis=1)                                    # (batch, dim)
    nonempty = xp.zeros(batch, dtype=bool)
    nonempty[bag[keep]] = True
    which = xp.where(nonempty[:, None], starts[:, None] + winner, 0).astype(xp.int64)
    out = rows.gather(0, wrap(which, rows.device))
    return out * wrap(nonempty[:, None].astype(dense.dtype), rows.device)

"""``embedding``: rows of a weight matrix picked by integer indices (a table lookup).

The gradient of the lookup scatter-adds the output gradient into the picked rows
(repeated indices sum); ``padding_idx``'s row gets none, and ``scale_grad_by_freq``
divides each row's gradient by how often its index occurs in the batch.
"""
import autograd
from autograd.extend import (Op, array_of, const_like, increment_version, scatter_add, wrap,
                             xp_of)

__all__ = ['embedding', 'one_hot']


class Embedding(Op):
    """``weight[indices]``: weight ``(num, *row)`` -> ``(*indices.shape, *row)``."""
    __slots__ = ('indices', 'num', 'scale')
    array_backward = True

    def forward(self, xp, weight, indices=None, scale=None):
        self.indices, self.num, self.scale = indices, weight.shape[0], scale
        return weight[indices]

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
        counts = xp.bincount(idx.reshape(-1), minlength=num)
        scale = 1.0 / counts[idx].astype(dtype)
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
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num):
        raise IndexError('index out of range in self')
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

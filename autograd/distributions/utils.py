"""Helpers of the distributions (torch.distributions.utils): broadcasting parameters,
probabilities and logits, lazy properties, and the sampling and dtype helpers that the
families share."""
from __future__ import annotations

import math
from functools import update_wrapper

import numpy

import autograd
import nn.functional as F
from autograd import Tensor
from autograd.extend import as_dtype

__all__ = ['broadcast_all', 'logits_to_probs', 'clamp_probs', 'probs_to_logits',
           'lazy_property', 'euler_constant']

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant
_Number = (int, float)


class finfo:
    """The machine limits of a floating dtype as Python floats (``eps``, ``tiny``, ``max``,
    ``min``), as ``torch.finfo`` gives them."""
    __slots__ = ('eps', 'tiny', 'max', 'min')

    def __init__(self, dtype):
        info = numpy.finfo(as_dtype(dtype).np)
        self.eps, self.tiny = float(info.eps), float(info.tiny)
        self.max, self.min = float(info.max), float(info.min)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape (``torch.broadcast_tensors``)."""
    shape = autograd.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(t if tuple(t.shape) == tuple(shape) else t.expand(shape) for t in tensors)


def broadcast_all(*values):
    r"""The values (tensors or numbers) broadcast to one shape; numbers become tensors of
    the first tensor's dtype and device (the default dtype if there is none).

    Raises ValueError if a value is neither a number nor a tensor.
    """
    if not all(isinstance(v, (Tensor,) + _Number) for v in values):
        raise ValueError('Input arguments must all be instances of Number, '
                         'torch.Tensor or objects implementing __torch_function__.')
    if not all(isinstance(v, Tensor) for v in values):
        options = dict(dtype=autograd.get_default_dtype())
        for value in values:
            if isinstance(value, Tensor):
                options = dict(dtype=value.dtype, device=value.device)
                break
        values = [v if isinstance(v, Tensor) else autograd.tensor(v, **options)
                  for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return autograd.randn(tuple(shape), dtype=dtype, device=device)


def _uniform(shape, dtype, device, low=0.0):
    """Uniform samples on [0, 1) of ``shape``, or on [low, 1) (low > 0 keeps logs finite)."""
    u = autograd.rand(tuple(shape), dtype=dtype, device=device)
    return u if low == 0.0 else u.clamp(min=low)


def _sum_rightmost(value, dim):
    r"""Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    required_shape = tuple(value.shape[:-dim]) + (-1,)
    return value.reshape(required_shape).sum(-1)


def logits_to_probs(logits, is_binary=False):
    r"""Probabilities from logits: the sigmoid of log-odds (``is_binary``), else the
    softmax over the last dimension of (unnormalised) log-probabilities."""
    if is_binary:
        return autograd.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Probabilities clamped to ``[eps, 1 - eps]`` (``eps`` of their dtype)."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    r"""Logits from probabilities: log-odds (``is_binary``), else log-probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return autograd.log(ps_clamped) - autograd.log1p(-ps_clamped)
    return autograd.log(ps_clamped)


def atanh(x):
    """The inverse hyperbolic tangent, ``(log1p(x) - log1p(-x)) / 2``."""
    return (autograd.log1p(x) - autograd.log1p(-x)) * 0.5


class lazy_property:
    r"""A property computed on first use (with grad enabled) and then stored on the
    instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with autograd.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """Looks like a property to documentation tools and like a lazy_property to
    ``Distribution.__init__``'s validation."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


_LOG_2PI = math.log(2 * math.pi)


def tril_matrix_to_vec(mat, diag=0):
    r"""The lower triangle (from diagonal ``diag``) of a batch of ``D x D`` matrices as
    vectors, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f'diag ({diag}) provided is outside [{-n}, {n - 1}].')
    arange = autograd.arange(n, device=mat.device)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    return mat[..., tril_mask]


def vec_to_tril_matrix(vec, diag=0):
    r"""The inverse of ``tril_matrix_to_vec``: vectors back to lower triangular matrices."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = float(finfo(vec.dtype).eps)
    if round(n) - n > eps:
        raise ValueError(f'The size of last dimension is {vec.shape[-1]} which cannot be '
                         'expressed as the lower triangular part of a square D x D matrix.')
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    arange = autograd.arange(n, device=vec.device)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    mat[..., tril_mask] = vec
    return mat

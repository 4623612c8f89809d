"""Dropout: zero elements (or whole channels) with probability ``p`` during training and
scale the survivors by ``1 / (1 - p)`` so that the expected value is unchanged."""
import warnings

import autograd
from autograd.extend import Op, array_of, wrap, xp_of

__all__ = ['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout',
           'feature_alpha_dropout']


class _MaskMul(Op):
    """``x * mask`` with a constant (broadcastable) mask; backward ``g * mask``."""
    __slots__ = ('mask',)
    torch_name = 'MulBackward0'     # PyTorch's dropout multiplies by the scaled mask
    array_backward = True

    def forward(self, xp, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, g):
        return _MaskMul.apply(g, mask=self.mask)


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f'dropout probability has to be between 0 and 1, but got {p}')


def _keep_mask(input, shape, p):
    """``Bernoulli(1 - p) / (1 - p)`` samples of ``shape`` as an array of input's dtype."""
    dtype = array_of(input).dtype
    if p == 1.0:
        return xp_of(input).zeros(shape, dtype=dtype)
    u = array_of(autograd.rand(*shape, dtype=input.dtype, device=input.device))
    return (u >= p).astype(dtype) * (1.0 / (1.0 - p))


def _masked(input, mask, inplace):
    return _MaskMul.apply_(input, mask=mask) if inplace else _MaskMul.apply(input, mask=mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (identity when not ``training``)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _masked(input, _keep_mask(input, tuple(input.shape), p), inplace)


def _feature_dropout(input, p, training, inplace):
    """Zero whole channels: one draw per ``(batch, channel)`` pair of ``(N, C, *)`` input."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked(input, _keep_mask(input, shape, p), inplace)


def _unbatched(fn, input, p, training, inplace):
    """Run channel dropout on an unbatched input by adding the batch dim for the call."""
    out = fn(input.unsqueeze(0), p, training, False).squeeze(0)
    return input.copy_(out) if inplace else out       # copy_ records the write


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for ``(N, C, L)`` or ``(C, L)`` input."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f'dropout1d: Expected 2D or 3D input, but received a {input.ndim}D '
                           'input. Note that dropout1d exists to provide channel-wise dropout on '
                           'inputs with 1 spatial dimension, a channel dimension, and an optional '
                           'batch dimension (i.e. 2D or 3D inputs).')
    if input.ndim == 2:
        return _unbatched(_feature_dropout, input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for ``(N, C, H, W)`` input.  As PyTorch, a 3-D input is read as
    ``(N, C, L)`` (with a warning)."""
    if input.ndim not in (3, 4):
        warnings.warn(f'dropout2d: Received a {input.ndim}-D input to dropout2d, which is '
                      'deprecated and will result in an error in a future release. To retain the '
                      'behavior and silence this warning, please use dropout instead. Note that '
                      'dropout2d exists to provide channel-wise dropout on inputs with 2 spatial '
                      'dimensions, a channel dimension, and an optional batch dimension (i.e. 3D '
                      'or 4D inputs).')
    if input.ndim == 3:
        warnings.warn('dropout2d: Received a 3D input to dropout2d and assuming that channel-wise '
                      '1D dropout behavior is desired - input is interpreted as shape (N, C, L), '
                      'where C is the channel dim. This behavior will change in a future release '
                      'to interpret the input as one without a batch dimension, i.e. shape '
                      '(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch '
                      'to using dropout1d instead.')
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    if input.ndim not in (4, 5):
        warnings.warn(f'dropout3d: Received a {input.ndim}-D input to dropout3d, which is '
                      'deprecated and will result in an error in a future release.')
    if input.ndim == 4:
        return _unbatched(_feature_dropout, input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


# SELU's negative saturation value -scale * alpha (Klambauer et al. 2017)
_ALPHA_PRIME = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, shape):
    """Set dropped units to SELU's saturation value and apply the affine map ``a x + b``
    that keeps zero mean and unit variance (Klambauer et al. 2017, eq. 7)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    a = 1.0 / ((_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
    keep = array_of(autograd.rand(*shape, dtype=input.dtype, device=input.device)) >= p
    keep = keep.astype(array_of(input).dtype)
    b = wrap((keep - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p, input.device)
    out = _MaskMul.apply(input, mask=keep * a) + b
    return input.copy_(out) if inplace else out       # copy_ records the write


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: keeps the mean and variance of its input."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of ``(N, C, *)`` input."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, shape)

"""Gradient clipping: rescale (by norm) or clamp (by value) the ``.grad`` of parameters
in place, as done between ``backward()`` and the optimizer step."""
import autograd
from autograd import Tensor, no_grad
from autograd.extend import array_of, increment_version, wrap, xp_of

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_']


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(xp, a, norm_type):
    """The ``norm_type``-norm of all entries of array ``a`` (a 0-d array)."""
    a = xp.abs(a.reshape(-1))
    if norm_type == float('inf'):
        return a.max() if a.size else xp.zeros((), a.dtype)
    if norm_type == float('-inf'):
        return a.min()
    if norm_type == 0:
        return (a != 0).sum().astype(a.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return xp.sqrt((a * a).sum())
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients by ``min(1, max_norm / (total_norm + 1e-6))``, where
    ``total_norm`` is the ``norm_type``-norm of all gradients together; returns it."""
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return autograd.tensor(0.0)
    dev = grads[0].device
    xp = xp_of(grads[0])
    for g in grads:
        if g.device is not dev:
            raise RuntimeError(f'clip_grad_norm_: gradients on different devices ({dev} and '
                               f'{g.device})')
    dtype = array_of(grads[0]).dtype
    norms = xp.stack([_vector_norm(xp, array_of(g), norm_type).astype(dtype) for g in grads])
    total = _vector_norm(xp, norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f'The total norm of order {norm_type} for gradients from `parameters` '
                           'is non-finite, so it cannot be clipped. To disable this error and '
                           'scale the gradients by the non-finite norm anyway, set '
                           '`error_if_nonfinite=False`')
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            data = array_of(g)
            data *= coef.astype(data.dtype)
            increment_version(g)
    return wrap(total, dev)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    import warnings
    warnings.warn('`nn.utils.clip_grad_norm` is now deprecated in favor of '
                  '`nn.utils.clip_grad_norm_`.', FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        data = array_of(g)
        xp_of(g).clip(data, -clip_value, clip_value, out=data)
        increment_version(g)

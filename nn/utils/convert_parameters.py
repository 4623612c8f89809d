"""Flatten parameters into one vector and back (e.g. for second-order optimisers)."""
import autograd
from autograd import Tensor

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def _check_same_device(param, device):
    if device is None:
        return param.device
    if param.device != device:
        raise TypeError('Found two parameters on different devices, this is currently not '
                        'supported.')
    return device


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    device = None
    flat = []
    for p in parameters:
        device = _check_same_device(p, device)
        flat.append(p.reshape(-1))
    return autograd.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f'expected Tensor, but got: {type(vec).__name__}')
    device = None
    pointer = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].reshape(tuple(p.shape)).data
        pointer += n

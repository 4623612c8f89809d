"""Helpers shared by the layers (as PyTorch's ``torch/nn/modules/utils.py``)."""
import autograd

from ..parameter import Parameter

__all__ = ['empty_parameters']


def empty_parameters(module, device=None, dtype=None, **shapes):
    """Register on ``module`` one uninitialised Parameter per keyword ``name=shape``, in
    order (the order of ``state_dict``); ``name=None`` registers None: the layer has no such
    parameter (``bias=False``), yet the attribute exists, as in PyTorch."""
    for name, shape in shapes.items():
        module.register_parameter(name, None if shape is None else Parameter(
            autograd.empty(*shape, device=device, dtype=dtype)))

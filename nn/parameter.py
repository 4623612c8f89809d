"""``Parameter``: a leaf tensor that a ``Module`` registers as learnable state, and
``Buffer``: a tensor that a ``Module`` registers as non-learnable state (as PyTorch's
``torch.nn.Parameter`` and ``torch.nn.Buffer``).
"""
from autograd import Tensor, empty
from autograd.extend import alias, allow_by_default

__all__ = ['Parameter', 'Buffer']


class Parameter(Tensor):
    """A leaf tensor that shares ``data``'s array and requires grad by default.

    Assigning a ``Parameter`` as a ``Module`` attribute registers it in the module's
    ``parameters()``.  ``Parameter(None)`` is an empty float tensor of shape ``(0,)``.
    """
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f'Parameter data must be a Tensor, got {type(data).__name__}')
        # shares storage and version counter with data; requires_grad checks the dtype
        return alias(data, cls, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass                             # everything happens in __new__

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()


class Buffer(Tensor):
    """``Buffer(tensor, persistent=True)``: a tensor that, assigned as a ``Module``
    attribute, is registered as a buffer (persistent ones are saved in ``state_dict``)."""
    __slots__ = ('persistent',)

    def __new__(cls, data=None, *, persistent=True):
        b = alias(empty(0) if data is None else data, cls)
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


allow_by_default([Parameter, Buffer])     # autograd.load rebuilds them, as PyTorch's loader

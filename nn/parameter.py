"""``Parameter``: a leaf tensor that a ``Module`` registers as learnable state, and
``Buffer``: a tensor that a ``Module`` registers as non-learnable state (as PyTorch's
``torch.nn.Parameter`` and ``torch.nn.Buffer``).
"""
from autograd.tensor import Tensor, _make

__all__ = ['Parameter', 'Buffer']

_new = object.__new__


class Parameter(Tensor):
    """A leaf tensor that shares ``data``'s array and requires grad by default.

    Assigning a ``Parameter`` as a ``Module`` attribute registers it in the module's
    ``parameters()``.  ``Parameter(None)`` is an empty float tensor of shape ``(0,)``.
    """
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from autograd.creation import empty
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f'Parameter data must be a Tensor, got {type(data).__name__}')
        p = _new(cls)
        p._data = data._data             # shares storage (and version counter) with data
        p._device = data._device
        p._vc = data._vc
        p._requires_grad = False
        p.grad = None
        p.grad_fn = None
        p._view_src = None
        p.requires_grad = requires_grad  # checks the dtype can carry a gradient
        return p

    def __init__(self, data=None, requires_grad=True):
        pass                             # everything happens in __new__

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()


class Buffer(Tensor):
    """``Buffer(tensor, persistent=True)``: a tensor that, assigned as a ``Module``
    attribute, is registered as a buffer (persistent ones are saved in ``state_dict``)."""
    __slots__ = ('persistent',)

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from autograd.creation import empty
            data = empty(0)
        b = _new(cls)
        b._data = data._data
        b._device = data._device
        b._vc = data._vc
        b._requires_grad = False
        b.grad = None
        b.grad_fn = None
        b._view_src = None
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass

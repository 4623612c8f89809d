"""``Parameter``: a leaf tensor that a ``Module`` registers as learnable state, and
``Buffer``: a tensor that a ``Module`` registers as non-learnable state (as PyTorch's
``torch.nn.Parameter`` and ``torch.nn.Buffer``); ``UninitializedParameter`` and
``UninitializedBuffer``, their placeholders of unknown shape in lazy modules.
"""
from autograd import Tensor, empty
from autograd.extend import alias, allow_by_default

__all__ = ['Parameter', 'Buffer', 'UninitializedParameter', 'UninitializedBuffer']


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


class UninitializedTensorMixin:
    """A placeholder of unknown shape (an empty tensor underneath) that ``materialize``
    turns, in place, into a tensor of class ``cls_to_become``: the object keeps its
    identity, so an optimizer or a hook that holds it keeps working."""
    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Become an uninitialised (``empty``) tensor of ``shape``, on ``device`` and of
        ``dtype`` (default: the placeholder's own)."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self.data = empty(*shape, device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            'happens in `load_state_dict` when trying to load an uninitialized parameter into an '
            'initialized one. Call `forward` to initialize the parameters before accessing their '
            'attributes.')

    def _placeholder(self, t):
        """``t`` (an empty tensor, a conversion of this one) as a placeholder like this one."""
        if t is self:
            return self
        new = alias(t.detach(), type(self), self.requires_grad)
        if isinstance(self, Buffer):
            new.persistent = self.persistent
        return new

    # conversions (``Module.to``, ``.double()``, ``.cuda()`` ...) keep a placeholder a placeholder
    def to(self, *args, **kwargs):
        return self._placeholder(super().to(*args, **kwargs))

    def cpu(self):
        return self._placeholder(super().cpu())

    def cuda(self, *args, **kwargs):
        return self._placeholder(super().cuda(*args, **kwargs))

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            'initialize the parameters before calling `module.share_memory()`.')

    def __repr__(self):
        return f'<{type(self).__name__}>'


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape a lazy module infers at its first call
    (``materialize(shape)`` makes it a ``Parameter``)."""
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return alias(empty(0, device=device, dtype=dtype), cls, requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer whose shape a lazy module infers at its first call (``materialize(shape)``
    makes it a tensor: an ``nn.Buffer``, whose layout it shares, where PyTorch makes a
    plain ``Tensor``)."""
    __slots__ = ()
    cls_to_become = Buffer

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = alias(empty(0, device=device, dtype=dtype), cls, requires_grad)
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def is_lazy(param):
    """Whether ``param`` is an uninitialised parameter or buffer of a lazy module."""
    return isinstance(param, UninitializedTensorMixin)


allow_by_default([Parameter, Buffer])     # autograd.load rebuilds them, as PyTorch's loader

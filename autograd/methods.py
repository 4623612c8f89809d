"""Bind the ops onto Tensor: operators, math methods and in-place (trailing underscore) forms.

Each ops module lists its public functions in ``FUNCTIONS`` and the ones that are also
Tensor methods in ``METHODS``; in-place forms come from its ``INPLACE`` table
(``name_ -> op class``).  Nothing else in the package needs to know the full list.
"""
import numpy

from . import creation
from .ops import elementwise as E
from .ops import OP_MODULES
from .op import binary_operator
from .node import named
from .tensor import Tensor

_FAST = frozenset((Tensor, float, int, bool))
_num = E._num


def _other(x):
    """The second operand of an operator, or NotImplemented for foreign types: as PyTorch's
    operators, Python numbers and NumPy arrays and scalars only (a list, None, a Fraction or
    an object of the caller's class gets Python's TypeError, or its own reflected method)."""
    if x.__class__ in _FAST or isinstance(x, Tensor):
        return x
    if not isinstance(x, (int, float, complex, numpy.ndarray, numpy.generic)):
        return NotImplemented
    try:
        return _num(x)
    except (TypeError, ValueError):
        return NotImplemented


def _operator(cls, reflected=False, inplace=False):
    """The dunder for binary op ``cls``: ``self op other``, the reflected ``other op self``,
    or the in-place ``self op= other``; NotImplemented for an operand of a foreign type."""
    if not inplace:
        return binary_operator(cls, _other, _FAST, reflected)

    def op(self, other):
        if other.__class__ not in _FAST:
            other = _other(other)
            if other is NotImplemented:
                return NotImplemented
        E.check_inplace_shape(self, other)
        return cls.apply_(self, other)
    return op


def _inplace(cls):
    def op(self, *args, **kwargs):
        args = [_num(a) for a in args]
        E.check_inplace_shape(self, *args)
        return cls.apply_(self, *args, **kwargs)
    op.__name__ = cls.__name__.lower() + '_'
    return op


def _install():
    T = Tensor
    for mod in OP_MODULES:
        for name in getattr(mod, 'METHODS', ()):
            if name not in T.__dict__:
                setattr(T, name, getattr(mod, name))
        for name, cls in getattr(mod, 'INPLACE', {}).items():
            if name not in T.__dict__:
                setattr(T, name, _inplace(cls))
        for name, fn in getattr(mod, 'OPERATORS', {}).items():
            setattr(T, name, fn)

    # arithmetic and bitwise: self op other, other op self (for an op that commutes, self op
    # other again, as PyTorch records it) and self op= other
    for name, cls, commutes in (('add', E.Add, True), ('sub', E.Sub, False),
                                ('mul', E.Mul, True), ('truediv', E.Div, False),
                                ('floordiv', E.FloorDivide, False), ('mod', E.Remainder, False),
                                ('pow', E.Pow, False), ('and', E.BitwiseAnd, True),
                                ('or', E.BitwiseOr, True), ('xor', E.BitwiseXor, True)):
        setattr(T, f'__{name}__', _operator(cls))
        setattr(T, f'__r{name}__', _operator(cls, reflected=not commutes))
        setattr(T, f'__i{name}__', _operator(cls, inplace=True))
    # PyTorch's node name for number - tensor (rsub); number / tensor is its reciprocal times
    # the number (ReciprocalMul)
    T.__rsub__ = _operator(named(E.Sub, 'RsubBackward1'), reflected=True)
    T.__rtruediv__ = _operator(E.ReciprocalMul, reflected=True)
    for name, cls in (('eq', E.Eq), ('ne', E.Ne), ('lt', E.Lt), ('le', E.Le), ('gt', E.Gt),
                      ('ge', E.Ge)):
        setattr(T, f'__{name}__', _operator(cls))
    T.__neg__ = E.neg
    T.__pos__ = E.positive
    T.__abs__ = E.abs
    T.__invert__ = E.invert
    T.__hash__ = object.__hash__
    T.where = lambda self, condition, other: E.where(condition, self, other)

    # creation-style methods
    T.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: \
        creation.tensor(data, dtype=dtype or self.dtype, device=device or self._device,
                        requires_grad=requires_grad)
    for name in ('zeros', 'ones', 'empty'):
        fn = getattr(creation, name)
        setattr(T, 'new_' + name, (lambda fn: lambda self, *size, dtype=None, device=None,
                                   requires_grad=False: fn(*size, dtype=dtype or self.dtype,
                                                           device=device or self._device,
                                                           requires_grad=requires_grad))(fn))
    T.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: \
        creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self._device,
                      requires_grad=requires_grad)


_install()

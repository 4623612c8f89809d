"""Bind the ops onto Tensor: operators, math methods and in-place (trailing underscore) forms.

Each ops module lists its public functions in ``FUNCTIONS`` and the ones that are also
Tensor methods in ``METHODS``; in-place forms come from its ``INPLACE`` table
(``name_ -> op class``).  Nothing else in the package needs to know the full list.
"""
from . import creation
from .ops import elementwise as E
from .ops import OP_MODULES
from .op import apply_binary
from .tensor import Tensor

_FAST = frozenset((Tensor, float, int, bool))
_num = E._num


def _other(x):
    """The second operand of an operator, or NotImplemented for foreign types."""
    if x.__class__ in _FAST or isinstance(x, Tensor):
        return x
    try:
        return _num(x)
    except (TypeError, ValueError):
        return NotImplemented


def _binop(cls):
    def op(self, other):
        if other.__class__ not in _FAST:
            other = _other(other)
            if other is NotImplemented:
                return NotImplemented
        return apply_binary(cls, self, other)
    return op


def _rbinop(cls):
    def op(self, other):
        if other.__class__ not in _FAST:
            other = _other(other)
            if other is NotImplemented:
                return NotImplemented
        return apply_binary(cls, other, self)
    return op


def _ibinop(cls):
    def op(self, other):
        if other.__class__ not in _FAST:
            other = _other(other)
            if other is NotImplemented:
                return NotImplemented
        return cls.apply_(self, other)
    return op


def _inplace(cls):
    def op(self, *args, **kwargs):
        return cls.apply_(self, *[_num(a) for a in args], **kwargs)
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

    T.__add__ = T.__radd__ = _binop(E.Add)
    T.__iadd__ = _ibinop(E.Add)
    T.__sub__ = _binop(E.Sub)
    T.__rsub__ = _rbinop(E.Sub)
    T.__isub__ = _ibinop(E.Sub)
    T.__mul__ = T.__rmul__ = _binop(E.Mul)
    T.__imul__ = _ibinop(E.Mul)
    T.__truediv__ = _binop(E.Div)
    T.__rtruediv__ = _rbinop(E.Div)
    T.__itruediv__ = _ibinop(E.Div)
    T.__floordiv__ = _binop(E.FloorDivide)
    T.__rfloordiv__ = _rbinop(E.FloorDivide)
    T.__ifloordiv__ = _ibinop(E.FloorDivide)
    T.__mod__ = _binop(E.Remainder)
    T.__rmod__ = _rbinop(E.Remainder)
    T.__imod__ = _ibinop(E.Remainder)
    T.__pow__ = _binop(E.Pow)
    T.__rpow__ = _rbinop(E.Pow)
    T.__ipow__ = _ibinop(E.Pow)
    T.__eq__ = _binop(E.Eq)
    T.__ne__ = _binop(E.Ne)
    T.__lt__ = _binop(E.Lt)
    T.__le__ = _binop(E.Le)
    T.__gt__ = _binop(E.Gt)
    T.__ge__ = _binop(E.Ge)
    T.__and__ = T.__rand__ = _binop(E.BitwiseAnd)
    T.__or__ = T.__ror__ = _binop(E.BitwiseOr)
    T.__xor__ = T.__rxor__ = _binop(E.BitwiseXor)
    T.__iand__ = _ibinop(E.BitwiseAnd)
    T.__ior__ = _ibinop(E.BitwiseOr)
    T.__ixor__ = _ibinop(E.BitwiseXor)
    T.__neg__ = E.neg
    T.__pos__ = lambda self: self
    T.__abs__ = E.abs
    T.__invert__ = E.bitwise_not
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
    for name in ('uniform_', 'normal_', 'bernoulli_', 'fill_', 'zero_', 'random_',
                 'exponential_'):
        setattr(T, name, getattr(creation, name))


_install()

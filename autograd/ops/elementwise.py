"""Elementwise ops: forward on arrays, backward with operators and ops (so it differentiates
again, and runs on bare arrays in a sweep that records no graph: ``array_backward``).

Binary ops broadcast; their backward returns gradients of the broadcast shape, which the
engine sums back to each input's shape.  A Python number may stand in for either operand;
it gets no gradient.
"""
import math
import sys

from ..backend import erf as erf_of_array
from ..backend import float32, result_type
from ..backend import opmath
from ..backend import scalar_name as backend_scalar_name
from ..extend import zeros_like_shape
from ..creation import (as_tensor, check_probabilities, check_std, integers,
                        rng_of, sample)
from ..op import Op, apply_binary, apply_unary, unary_function
from ..node import named, renamed
from ..tensor import Tensor, _make, _python_data
from ._util import broadcast_shape, broadcast_shapes, complex_not_implemented, fits
from .complex import conj_of, is_cplx, sgn_of, unordered
from ._util import (IGNORE_ERRORS, binary, broadcast_error, promote, quiet, reset_errstate,
                    scalar_name, set_errstate, to_float, variant)


def _needs(node, i):
    return node._next[i] is not None


def _is_number(x):
    """A Python number standing in for an operand (saved as it is, in either sweep)."""
    return x.__class__ in (int, float, bool)


# ----------------------------------------------------------------------------- arithmetic

# Binary ops return gradients of the broadcast shape; the engine sums each back to its
# input's shape (engine._validate -> sum_to), the one place broadcasting is undone.

# Add, Sub and Mul are quiet (inf - inf, overflow: PyTorch does not warn) with the error
# state set in their own forwards: ``quiet``'s wrapper would cost a frame per op.
class Add(Op):
    __slots__ = ('alpha',)
    array_backward = True

    def forward(self, xp, a, b, alpha=1):
        if a.__class__ is not b.__class__ or a.dtype is not b.dtype:
            a, b = promote(a, b)
        self.alpha = alpha
        token = set_errstate(IGNORE_ERRORS)
        try:
            if alpha.__class__ is not int or alpha != 1:
                b = _scaled(a, b, alpha)
            return xp.add(a, b)
        except ValueError:
            raise broadcast_error('add', a, b) from None
        finally:
            reset_errstate(token)

    def backward(self, g):
        return g, (g if self.alpha == 1 else g * self.alpha)


class Sub(Op):
    __slots__ = ('alpha',)
    array_backward = True

    def forward(self, xp, a, b, alpha=1):
        if a.__class__ is not b.__class__ or a.dtype is not b.dtype:
            _no_bool_sub(a, b)
            a, b = promote(a, b)
        elif a.dtype.kind == 'b':
            _no_bool_sub(a, b)
        self.alpha = alpha
        token = set_errstate(IGNORE_ERRORS)
        try:
            if alpha.__class__ is not int or alpha != 1:
                b = _scaled(a, b, alpha)
            return xp.subtract(a, b)
        except ValueError:
            raise broadcast_error('sub', a, b) from None
        finally:
            reset_errstate(token)

    def backward(self, g):
        return g, (-g if self.alpha == 1 else g * -self.alpha)


def _scaled(a, b, alpha):
    """``alpha * b`` for add/sub (``a``, ``b`` promoted), with PyTorch's checks of alpha
    against the result dtype (a bool result ORs in ``b`` if alpha is nonzero)."""
    kind = (a if getattr(a, 'dtype', None) is not None else b).dtype.kind
    if alpha.__class__ is bool and kind != 'b':
        raise RuntimeError('Boolean alpha only supported for Boolean results.')
    if kind in 'biu' and isinstance(alpha, float):
        raise RuntimeError('For integral input tensors, argument alpha must not be a floating '
                           'point number.')
    if kind == 'b':
        return b if alpha else False
    return b * alpha


def _no_bool_sub(a, b):
    if a.__class__ is bool or b.__class__ is bool or \
            getattr(a, 'dtype', None) == bool or getattr(b, 'dtype', None) == bool:
        raise RuntimeError('Subtraction, the `-` operator, with a bool tensor is not '
                           'supported. If you are trying to invert a mask, use the `~` or '
                           '`logical_not()` operator instead.')


class Mul(Op):
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    save_for = (1, 0)       # d/da reads b, d/db reads a

    def forward(self, xp, a, b):
        if a.__class__ is not b.__class__ or a.dtype is not b.dtype:
            a, b = promote(a, b)
        token = set_errstate(IGNORE_ERRORS)
        try:
            return xp.multiply(a, b)
        except ValueError:
            raise broadcast_error('mul', a, b) from None
        finally:
            reset_errstate(token)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self._next
        if g.dtype.kind != 'c':     # a real product has real factors: no conjugates to take
            return (g * b if na is not None else None, g * a if nb is not None else None)
        return (g * conj_of(b) if na is not None else None,
                g * conj_of(a) if nb is not None else None)


@quiet
class Div(Op):
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    save_for = (1, None)    # d/da reads b; d/db reads a and b

    def forward(self, xp, a, b):
        if a.__class__ is not b.__class__ or a.dtype is not b.dtype:
            a, b = promote(a, b)
        if getattr(a, 'dtype', None) is not None and a.dtype.kind not in 'fc':
            a = to_float(a)
        if getattr(b, 'dtype', None) is not None and b.dtype.kind not in 'fc':
            b = to_float(b)
        try:
            return xp.true_divide(a, b)
        except ValueError:
            raise broadcast_error('div', a, b) from None

    def backward(self, g):
        a, b = self.saved_tensors
        # PyTorch's terms: g / b and -g * ((a / b) / b), so that the second derivatives
        # (inf against NaN at b == 0) are its too
        return g / conj_of(b) if self._next[0] is not None else None, \
            (-g * conj_of((a / b) / b) if self._next[1] is not None else None)


@quiet
class ReciprocalMul(Div):
    """``number / tensor`` (the reflected operator), as PyTorch's ``tensor.reciprocal() *
    number``: 0 divided by a float32 subnormal is NaN (its reciprocal overflows to inf),
    and the gradient is its -(g * number) * (r * r), r = 1 / tensor.  One node, named as
    PyTorch's last (MulBackward0).  A complex tensor (outside reciprocal's subset here), or
    an array on the left, is divided."""
    __slots__ = ()
    torch_name = 'MulBackward0'

    def forward(self, xp, a, b):
        if a.__class__ not in _REAL_NUMBERS or b.dtype.kind == 'c':
            return Div.forward(self, xp, a, b)
        r = 1 / to_float(b)
        if a == 1:
            return r
        if r.__class__ is xp.ndarray:
            return xp.multiply(r, a, out=r)
        return r * a

    def backward(self, g):
        a, b = self.saved_tensors
        if a.__class__ not in _REAL_NUMBERS or b.dtype.kind == 'c':
            return Div.backward(self, g)
        r = Reciprocal.apply(b)
        return None, -(g * a) * (r * r)


_REAL_NUMBERS = (int, float, bool)


class Neg(Op):
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a):
        if a.dtype.kind == 'b':
            raise RuntimeError('Negation, the `-` operator, on a bool tensor is not supported. '
                               'If you are trying to invert a mask, use the `~` or '
                               '`logical_not()` operator instead.')
        return xp.negative(a)

    def backward(self, g):
        return -g


@quiet
class Pow(Op):
    """``a ** b`` for tensor/number combinations."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    save_output = True

    def name(self):
        """PyTorch's: ``PowBackward0`` for a number exponent, 1 for a tensor one, 2 for a
        number base (read from the saved inputs' versions: None for a number)."""
        if self.torch_name:
            return self.torch_name
        v = self._versions
        return 'PowBackward0' if v[1] is None else 'PowBackward2' if v[0] is None else \
            'PowBackward1'

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        da = getattr(a, 'dtype', None)
        if da is not None and da.kind in 'iu' and isinstance(b, int) and b < 0:
            raise RuntimeError('Integers to negative integer powers are not allowed.')
        if (a if da is not None else b).dtype.kind == 'b':
            if b.__class__ is bool:     # bool tensor ** True/False: itself, or all True
                return a.copy() if b else xp.ones_like(a)
            if getattr(b, 'shape', None) is not None and da is not None:
                broadcast_shape('pow', a.shape, b.shape)      # shapes are checked first
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        if da is not None and da.kind in 'iu' and getattr(b, 'dtype', None) is not None and \
                b.dtype.kind in 'iu' and bool((b < 0).any()):
            return _integer_pow(xp, a, b)
        return binary(xp.power, a, b, 'pow')

    def backward(self, g):
        a, b, out = self.saved_tensors
        ga = gb = None
        if _needs(self, 0):
            if not _is_number(b):       # 0 where b == 0, even at a == 0 (as PyTorch)
                ga = Where.apply(b == 0, 0.0, g * (b * a ** (b - 1)))
            elif b == 0 and b is not False:     # PyTorch's zeros_like: 0 even where g is
                ga = zeros_like_shape(g, g.shape)   # inf or NaN (its test misses False)
            else:
                # grouped as PyTorch's g * (b * a^(b-1)): its second derivative's factors
                # meet in the same order (1e30 * (1e30 * 0) is 0; (1e30 * 1e30) * 0 NaN)
                ga = g * (b * a ** (b - 1)) if b != 2 else g * (2 * a)
        if _needs(self, 1):
            if not _is_number(a):
                # d(a^b)/db = a^b log a, taken as 0 where a == 0 and b >= 0 (as PyTorch)
                # PyTorch's formula, term for term: its second derivative at a == 0 too
                gb = g * Where.apply((a == 0) & (b >= 0), 0.0, out * apply_unary(Log, a))
            else:
                # PyTorch's grouping, g * (a^b log a), its zero base masked inside: the
                # masked branch's second derivative is 0 * -inf = NaN there as well
                gb = g * (out * (math.log(a) if a > 0 else math.nan)) if a != 0 else \
                    g * Where.apply(b >= 0, 0.0, out * -math.inf)
        return ga, gb


def _integer_pow(xp, a, b):
    """Integer ``a ** b`` with some exponents negative, as PyTorch (NumPy refuses): 1 ** -n is
    1, (-1) ** -n is +-1, and every other base gives 0."""
    # (the negative exponents' powers are not used: 0 there; abs(int64 min) would overflow)
    pos = binary(xp.power, a, xp.where(b < 0, 0, b), 'pow')
    odd = b % 2 == 1
    neg = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0)).astype(pos.dtype)
    return xp.where(b < 0, neg, pos)


class Abs(Op):
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        if a.dtype.kind == 'b':
            raise NotImplementedError('"abs_cpu" not implemented for \'Bool\'')
        return xp.abs(a)

    def backward(self, g):
        a, = self.saved_tensors
        return g * (sgn_of(a) if is_cplx(a) else apply_unary(Sign, a))


class Sign(Op):
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a):
        if a.dtype.kind == 'f':         # 0 at NaN, as PyTorch
            return xp.where(a != a, 0.0, xp.sign(a))
        if a.dtype.kind == 'b':         # sign(bool) is the bool itself
            return a.copy()
        if a.dtype.kind == 'c':         # PyTorch's sign refuses complex (sgn takes it)
            raise unordered('sign', a)
        return xp.sign(a)

    def backward(self, g):
        return zeros_like_shape(g, g.shape)


# ----------------------------------------------------------------------------- in-place fills

def _fill(t, value):
    """Overwrite ``t`` in place with ``value`` (a number or array broadcast to its shape)."""
    return Fill.apply_(t, value=value)


def _float_only(t, kernel):
    """PyTorch's refusal of a continuous distribution's fill on an integer or bool tensor."""
    if t._data.dtype.kind not in 'fV':
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(t._data)}\'')


def uniform_(t, a=0.0, b=1.0, *, generator=None):
    _float_only(t, 'check_uniform_bounds')
    if not (math.isfinite(a) and math.isfinite(b)):
        raise RuntimeError(f'uniform_: from={a}, to={b} out of bounds for {t.dtype}')
    if a > b:
        raise RuntimeError(f'uniform_ expects to return a [from, to) range, but found '
                           f'from={a} > to={b}')
    u = sample(t._device, generator, 'uniform', t._data.shape, t.dtype)
    return _fill(t, u * (b - a) + a)


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    _float_only(t, 'normal_kernel_cpu')
    check_std(std)
    z = sample(t._device, generator, 'normal', t._data.shape, t.dtype)
    return _fill(t, z * std + mean)


def bernoulli_(t, p=0.5, *, generator=None):
    check_probabilities('bernoulli', p)
    u = sample(t._device, generator, 'uniform', t._data.shape, float32
                if not t.is_floating_point() else t.dtype)
    pv = p._data if isinstance(p, Tensor) else p
    return _fill(t, u < pv)


def fill_(t, value):
    if isinstance(value, Tensor):
        value = value.item()
    if t._data.dtype.kind in 'iu':
        value = _python_data(value, t.dtype).item()    # NaN, overflow: RuntimeError
    return _fill(t, fits(value, t._data.dtype))


def zero_(t):
    return _fill(t, 0)


def random_(t, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low
    return _fill(t, integers(rng_of(t._device, generator), low, high, t._data.shape))


def exponential_(t, lambd=1.0, *, generator=None):
    if t._data.dtype.kind != 'f':
        raise RuntimeError('Exponential distribution is a continuous probability distribution. '
                           f'dtype must be a floating point but you specified {scalar_name(t._data)}')
    if not lambd > 0:
        raise RuntimeError(f'exponential_ expects lambda > 0.0, but found lambda={lambd}')
    u = sample(t._device, generator, 'uniform', t._data.shape, t.dtype)
    return _fill(t, -t._device.xp.log1p(-u) / lambd)


# ----------------------------------------------------------------------------- unary math

class _Unary(Op):
    """``xp.<fn>`` of a float (integers promoted).  Backward is ``formula(g, v)``: the
    gradient as a formula of ``g`` and the saved value ``v``, the input or (for ops that
    set ``save_output``) the output."""
    __slots__ = ()
    array_backward = True
    fn = None
    quiet = False               # no NumPy warnings from forward (set by ``_util.quiet``)

    def forward(self, xp, a):
        if a.dtype.kind != 'f':
            a = to_float(a)
        if not self.quiet:
            return getattr(xp, self.fn)(a)
        token = set_errstate(IGNORE_ERRORS)
        try:
            return getattr(xp, self.fn)(a)
        finally:
            reset_errstate(token)

    def backward(self, g):
        v, = self.saved_tensors
        return self.formula(g, v)


def _unary_op(name, fn, dx=None, dy=None):
    """The ``_Unary`` op ``name`` computing ``xp.<fn>``, whose gradient is ``dx(g, x)`` of
    its input x or ``dy(g, y)`` of its output y (the one backward then keeps alive)."""
    attrs = {'__slots__': (), 'fn': fn, '__module__': __name__}
    if dy is not None:
        attrs.update(save_output=True, formula=staticmethod(dy))
    else:
        attrs.update(save=(0,), formula=staticmethod(dx))
    return type(name, (_Unary,), attrs)


_LN2, _LN10 = math.log(2.0), math.log(10.0)

# the op, its NumPy function, and its gradient g * d(op)/dx as a formula of the input x
# (dx=) or of the output y (dy=); ``quiet`` where NumPy warns of ordinary inputs (log(-1),
# exp(100)), as PyTorch does not
Exp = quiet(_unary_op('Exp', 'exp', dy=lambda g, y: g * y))
Exp2 = quiet(_unary_op('Exp2', 'exp2', dy=lambda g, y: g * y * _LN2))
Expm1 = quiet(_unary_op('Expm1', 'expm1', dy=lambda g, y: g * (y + 1)))
Log = quiet(_unary_op('Log', 'log', dx=lambda g, x: g / x))
Log2 = quiet(_unary_op('Log2', 'log2', dx=lambda g, x: g / (x * _LN2)))
Log10 = quiet(_unary_op('Log10', 'log10', dx=lambda g, x: g / (x * _LN10)))
Log1p = quiet(_unary_op('Log1p', 'log1p', dx=lambda g, x: g / (x + 1)))
Sqrt = quiet(_unary_op('Sqrt', 'sqrt', dy=lambda g, y: g / (2 * y)))
Sin = quiet(_unary_op('Sin', 'sin', dx=lambda g, x: g * apply_unary(Cos, x)))
Cos = quiet(_unary_op('Cos', 'cos', dx=lambda g, x: -g * apply_unary(Sin, x)))
Tan = quiet(_unary_op('Tan', 'tan', dy=lambda g, y: g * (1 + y * y)))
Sinh = quiet(_unary_op('Sinh', 'sinh', dx=lambda g, x: g * apply_unary(Cosh, x)))
Cosh = quiet(_unary_op('Cosh', 'cosh', dx=lambda g, x: g * apply_unary(Sinh, x)))
Asin = quiet(_unary_op('Asin', 'arcsin', dx=lambda g, x: g * apply_unary(Rsqrt, 1 - x * x)))
Acos = quiet(_unary_op('Acos', 'arccos', dx=lambda g, x: -g * apply_unary(Rsqrt, 1 - x * x)))
Atan = _unary_op('Atan', 'arctan', dx=lambda g, x: g / (1 + x * x))
Tanh = _unary_op('Tanh', 'tanh', dy=lambda g, y: apply_binary(TanhBackward, g, y))


@quiet
class Rsqrt(Op):
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        a = to_float(a)
        return 1 / xp.sqrt(a)

    def backward(self, g):
        y, = self.saved_tensors
        return g * -0.5 * y ** 3


@quiet
class Square(Op):
    __slots__ = ()
    torch_name = 'PowBackward0'         # PyTorch's square is pow(x, 2)
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        if a.dtype.kind == 'b':
            a = a.astype('int64')
        return xp.square(a)

    def backward(self, g):
        a, = self.saved_tensors
        return g * 2 * a


@quiet
class Reciprocal(Op):
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        return 1 / to_float(a)

    def backward(self, g):
        y, = self.saved_tensors
        return -g * (y * y)         # PyTorch's grouping: 0 * (1e30 * 1e30) is NaN in float32


class TanhBackward(Op):
    """g * (1 - y^2): tanh's gradient at its output y, one node instead of three."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)

    def forward(self, xp, g, y):
        return g * (1 - y * y)

    def backward(self, gg):
        g, y = self.saved_tensors
        return (TanhBackward.apply(gg, y) if self._next[0] is not None else None,
                gg * g * y * -2 if self._next[1] is not None else None)


@quiet
class Sigmoid(Op):
    __slots__ = ()
    array_backward = True
    save_output = True

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, a):
        # 1 / (1 + e^-a), PyTorch's formula (the same values, bit for bit on CPU: 0 where
        # e^-a overflows), in place in one buffer: a sixteenth of exp(-logaddexp(0, -a))'s
        # time, which cost 30% of a LeNet step with sigmoids
        a = to_float(a)
        t = xp.negative(a, out=xp.empty_like(a))    # (an array also when a is 0-d)
        xp.exp(t, out=t)
        t += 1
        return xp.reciprocal(t, out=t)

    def backward(self, g):
        y, = self.saved_tensors
        return apply_binary(SigmoidBackward, g, y)


@quiet
class SigmoidBackward(Op):
    """g * y * (1 - y): the sigmoid's gradient at its output y, as one node."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)

    def forward(self, xp, g, y):
        t = xp.subtract(1, y, out=xp.empty_like(y))     # one buffer, multiplied in place
        t *= y
        return xp.multiply(g, t, out=t) if t.shape == g.shape and t.dtype == g.dtype else g * t

    def backward(self, gg):
        g, y = self.saved_tensors
        return (SigmoidBackward.apply(gg, y) if self._next[0] is not None else None,
                gg * g * (1 - 2 * y) if self._next[1] is not None else None)


class Relu(Op):
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        if a.dtype.kind in 'bc':
            if a.dtype.kind == 'c':
                raise unordered('relu', a)
            raise RuntimeError('"relu" not implemented for \'Bool\'')
        # 0 first: NumPy's maximum returns its second argument between equals, so -0.0
        # stays -0.0, as PyTorch's relu (clamp_min) keeps it; -1 gives +0.0
        return xp.maximum(0, a)

    def backward(self, g):
        y, = self.saved_tensors
        return apply_binary(ReluBackward, g, y)


class ReluBackward(Op):
    """g where y > 0, else 0 (y is relu's output).  Piecewise linear in g: its gradient with
    respect to y is zero, a defined zero as PyTorch's (a second derivative through relu is
    zeros, not an unused input)."""
    __slots__ = ()
    array_backward = True
    save = (1,)

    def forward(self, xp, g, y):
        # PyTorch's threshold_backward: g passes at NaN (y <= 0 is false there)
        if (g.dtype.kind != 'f' or g.shape != y.shape or not g.ndim
                or g.dtype.itemsize not in (2, 4, 8)):
            return xp.where(y <= 0, 0, g)
        # g's bits and-ed with all ones or all zeros: exact (an inf in g never becomes NaN),
        # and vectorised by NumPy, whose where() on a random mask runs 5x slower
        bits = xp.dtype(f'int{8 * g.dtype.itemsize}')
        keep = xp.subtract(y <= 0, 1, dtype=bits)           # 0 where y <= 0, else -1
        xp.bitwise_and(g.view(bits), keep, out=keep)
        return keep.view(g.dtype)

    def backward(self, gg):
        y, = self.saved_tensors
        return (ReluBackward.apply(gg, y) if self._next[0] is not None else None,
                zeros_like_shape(gg, y.shape) if self._next[1] is not None else None)


class Erf(Op):
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return erf_of_array(to_float(a))

    def backward(self, g):
        a, = self.saved_tensors
        return g * (2.0 / math.sqrt(math.pi)) * apply_unary(Exp, -(a * a))


class _NoGrad(Op):
    """Piecewise-constant functions: zero gradient everywhere (as PyTorch)."""
    __slots__ = ()
    array_backward = True
    fn = None

    def forward(self, xp, a):
        if a.dtype.kind == 'b':
            raise NotImplementedError(f'"{self.fn}_vml_cpu" not implemented for \'Bool\'')
        if a.dtype.kind == 'c':
            raise NotImplementedError(f'{self.fn} is not supported for complex inputs')
        return getattr(xp, self.fn)(a)

    def backward(self, g):
        return zeros_like_shape(g, g.shape)      # PyTorch's zeros_like: 0 where g is inf


Floor = variant(_NoGrad, 'Floor', 'floor')
Ceil = variant(_NoGrad, 'Ceil', 'ceil')
Trunc = variant(_NoGrad, 'Trunc', 'trunc')


class Round(_NoGrad):
    __slots__ = ('decimals',)

    def forward(self, xp, a, decimals=0):
        if a.dtype.kind in 'biuc' and (decimals or a.dtype.kind in 'bc'):
            name = 'round_cpu' if decimals else 'round_vml_cpu'
            raise NotImplementedError(f'"{name}" not implemented for \'{scalar_name(a)}\'')
        return xp.round(a, decimals)


# ----------------------------------------------------------------------------- two-operand

@quiet
class Maximum(Op):
    """Elementwise max; ties share the gradient equally, and at NaN both operands get it
    all (as PyTorch)."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    fn = 'maximum'

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if is_cplx(a) or is_cplx(b):
            raise unordered(self.fn, a if is_cplx(a) else b)
        return binary(getattr(xp, self.fn), a, b, self.fn)

    def backward(self, g):
        a, b = self.saved_tensors
        lose_a, lose_b = (a < b, a > b) if self.fn == 'maximum' else (a > b, a < b)
        h = Where.apply(a == b, g * 0.5, g)
        return (Where.apply(lose_a, 0.0, h) if _needs(self, 0) else None,
                Where.apply(lose_b, 0.0, h) if _needs(self, 1) else None)


Minimum = variant(Maximum, 'Minimum', 'minimum')


def _scalar_of(value, dtype):
    """Number ``value`` as a NumPy scalar of ``dtype`` (an argument of the kernel, not a
    copy to the device), wrapping a negative integer into an unsigned type as ``astype``."""
    if dtype.kind == 'u' and isinstance(value, int) and value < 0:
        value %= 1 << (8 * dtype.itemsize)
    return dtype.type(value)


class Clamp(Op):
    """Clamp to [min, max] with number bounds; gradient passes where min <= a <= max."""
    __slots__ = ('lo', 'hi')
    torch_name = 'ClampBackward1'       # PyTorch's node name (clamp with number bounds)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        self.lo, self.hi = min, max
        if a.dtype.kind == 'c':
            raise unordered('clamp', a)
        if a.dtype.kind == 'b':         # the bounds' type, as PyTorch: int64 or float
            dt = result_type(a, *[x for x in (min, max) if x is not None])
            if dt.np.kind == 'b':
                name = 'clamp_min' if max is None else 'clamp_max' if min is None else 'clamp'
                raise NotImplementedError(f'"{name}_scalar_cpu" not implemented for \'Bool\'')
            a = a.astype(dt.np)
        elif a.dtype.kind != 'f' and (isinstance(min, float) or isinstance(max, float)):
            a = to_float(a)
        out = a
        # the bounds as scalars of a's dtype: kernel arguments, not host-to-device copies
        if min is not None:
            out = xp.maximum(out, _scalar_of(fits(min, a.dtype), a.dtype))
        if max is not None:
            out = xp.minimum(out, _scalar_of(fits(max, a.dtype), a.dtype))
        return out

    def backward(self, g):
        a, = self.saved_tensors
        mask = None
        if self.lo is not None:
            mask = a >= self.lo
        if self.hi is not None:
            m = a <= self.hi
            mask = m if mask is None else mask & m
        # PyTorch's clamp_backward is where(mask, grad, 0): an infinite or NaN gradient
        # stops at a clamped element (0 * inf would be NaN)
        return Where.apply(mask, g, 0.0)


class ClampBounds(Op):
    """Clamp to tensor bounds ``lo``/``hi`` (either may be None), broadcast with ``a``.  As
    PyTorch, ``a`` gets the whole gradient where ``lo <= a <= hi`` (ties included, none at
    NaN), ``lo`` where ``a < lo < hi``, ``hi`` where ``a > hi`` or ``hi < lo``."""
    __slots__ = ()
    torch_name = 'ClampBackward0'       # PyTorch's node name (clamp with tensor bounds)
    array_backward = True
    save = (0, 1, 2)

    def forward(self, xp, a, lo, hi):
        dt = result_type(a, *[x for x in (lo, hi) if x is not None]).np
        if dt == bool and lo is not None and hi is not None:
            # one bound is clamp_min/clamp_max (maximum/minimum); both is clamp's kernel
            raise NotImplementedError('"clamp_cpu" not implemented for \'Bool\'')
        out = a if a.dtype == dt else a.astype(dt)
        for fn, bound in ((xp.maximum, lo), (xp.minimum, hi)):
            if bound is not None:
                if getattr(bound, 'dtype', dt) != dt:
                    bound = bound.astype(dt)
                out = binary(fn, out, bound, 'clamp')
        return out

    def backward(self, g):
        a, lo, hi = self.saved_tensors
        ga = glo = ghi = None
        if hi is None:
            keep = a >= lo
            if _needs(self, 1):
                glo = Where.apply(a < lo, g, 0.0)
        elif lo is None:
            keep = a <= hi
            if _needs(self, 2):
                ghi = Where.apply(a > hi, g, 0.0)
        else:
            keep = (a >= lo) & (a <= hi)
            if _needs(self, 1):
                glo = Where.apply((a < lo) & (lo < hi), g, 0.0)
            if _needs(self, 2):
                ghi = Where.apply((a > hi) | (hi < lo), g, 0.0)
        if _needs(self, 0):
            ga = Where.apply(keep, g, 0.0)
        return ga, glo, ghi


@quiet
class Where(Op):
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, cond, a, b):
        if getattr(cond, 'dtype', None) is None or cond.dtype.kind != 'b':
            raise RuntimeError(f'where expected condition to be a boolean tensor, but got a '
                               f'tensor with dtype {getattr(cond, "dtype", type(cond).__name__)}')
        a, b = promote(a, b)
        try:
            return xp.where(cond, a, b)
        except ValueError:
            raise broadcast_error('where', cond, a if hasattr(a, 'shape') else b) from None

    def backward(self, g):
        cond, = self.saved_tensors
        a_in, b_in = self._next[1], self._next[2]
        ga = gb = None
        if a_in is not None:
            ga = Where.apply(cond, g, 0.0)
        if b_in is not None:
            gb = Where.apply(cond, 0.0, g)
        return None, ga, gb


@quiet
class Lerp(Op):
    """``a + w * (b - a)``."""
    __slots__ = ()
    array_backward = True
    save = (0, 1, 2)

    def forward(self, xp, a, b, w):
        a, b = promote(a, b)
        try:
            # PyTorch's lerp: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w)
            if _is_number(w):
                return a + w * (b - a) if -0.5 < w < 0.5 else b - (b - a) * (1 - w)
            return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))
        except ValueError:
            raise broadcast_error('lerp', b if hasattr(w, 'shape') and w.shape == b.shape
                                  else a, w if hasattr(w, 'shape') else b) from None

    def backward(self, g):
        a, b, w = self.saved_tensors
        ga = g * (1 - w) if _needs(self, 0) else None
        gb = g * w if _needs(self, 1) else None
        gw = g * (b - a) if _needs(self, 2) else None
        return ga, gb, gw


@quiet
class _Modulus(Op):
    """``a - b * rounding(a / b)``; ``fn`` (NumPy's name, PyTorch's too) sets the rounding
    and so the sign of the result.  d/da = 1, d/db = -rounding(a / b)."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    fn = rounding = None

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        _integer_division(self.fn, a, b)
        return binary(getattr(xp, self.fn), a, b, self.fn)

    def backward(self, g):
        a, b = self.saved_tensors
        if _is_number(a):           # PyTorch's remainder(Scalar, Tensor) has no derivative
            raise RuntimeError(f'derivative for aten::{self.fn} is not implemented')
        ga = g if _needs(self, 0) else None
        gb = -g * DivRounding.apply(a, b, mode=self.rounding) if _needs(self, 1) else None
        return ga, gb


class Remainder(_Modulus):
    """Python-style modulus (the sign of the divisor), as ``torch.remainder``.  A zero
    result keeps the dividend's sign, as PyTorch's (fmod, then + b where the signs differ):
    ``remainder(-0., 1)`` is -0. and ``remainder(0., -1)`` is 0., where NumPy gives the
    divisor's sign."""
    __slots__ = ()
    fn, rounding = 'remainder', 'floor'

    def forward(self, xp, a, b):
        out = _Modulus.forward(self, xp, a, b)
        if out.dtype.kind == 'f':     # (copysign by an int array would promote)
            out = xp.where(out == 0, xp.copysign(out, a), out).astype(out.dtype, copy=False)
        return out


class Fmod(_Modulus):
    """C-style modulus (the sign of the dividend), as ``torch.fmod``."""
    __slots__ = ()
    fn, rounding = 'fmod', 'trunc'


@quiet
class DivRounding(Op):
    """``div(a, b, rounding_mode='floor' | 'trunc')`` of floats: one op, as PyTorch's, whose
    gradient is zero everywhere (a defined zero: no NaN where b is 0, none through a second
    derivative of remainder/fmod, which use it)."""
    __slots__ = ()
    torch_name = 'DivBackward2'         # PyTorch's node name
    array_backward = True

    def forward(self, xp, a, b, mode='floor'):
        a, b = promote(a, b)
        if getattr(a, 'dtype', None) is not None and a.dtype.kind not in 'fc':
            a = to_float(a)
        if getattr(b, 'dtype', None) is not None and b.dtype.kind not in 'fc':
            b = to_float(b)
        if mode == 'floor':         # NumPy's floor_divide is PyTorch's div_floor (NaN at inf)
            return binary(xp.floor_divide, a, b, 'div')
        return xp.trunc(binary(xp.true_divide, a, b, 'div'))

    def backward(self, g):
        return tuple(zeros_like_shape(g, g.shape) if e is not None else None
                     for e in self._next)


@quiet
class Atan2(Op):
    __slots__ = ()
    array_backward = True
    save = (0, 1)

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if a.__class__ is not float and a.dtype.kind != 'f':
            a = to_float(a)         # integers: the default float dtype (as PyTorch)
        if b.__class__ is not float and getattr(b, 'dtype', None) is not None and \
                b.dtype.kind != 'f':
            b = to_float(b)
        return binary(xp.arctan2, a, b, 'atan2')

    def backward(self, g):
        a, b = self.saved_tensors
        r = a * a + b * b           # 0 where r == 0 (as PyTorch), not 0/0
        recip = Where.apply(r == 0, 0.0, apply_unary(Reciprocal, r))
        if _needs(self, 1) and str(getattr(a, 'dtype', '')).endswith('bool'):     # PyTorch's formula negates the bool a
            raise RuntimeError('Negation, the `-` operator, on a bool tensor is not supported. '
                               'If you are trying to invert a mask, use the `~` or '
                               '`logical_not()` operator instead.')
        return g * b * recip, -g * a * recip


# ----------------------------------------------------------------------------- not differentiable

class _Pred(Op):
    """Comparisons and logical ops: bool results, no gradient."""
    __slots__ = ()
    differentiable = False
    fn = None

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        return binary(getattr(xp, self.fn), a, b, self.fn)


class _Order(_Pred):
    """The ordering comparisons: complex values have no order (PyTorch refuses them)."""
    __slots__ = ()

    def forward(self, xp, a, b):
        if is_cplx(a) or is_cplx(b):
            raise unordered(self.fn, a if is_cplx(a) else b)
        return _Pred.forward(self, xp, a, b)


Eq = variant(_Pred, 'Eq', 'equal')
Ne = variant(_Pred, 'Ne', 'not_equal')
Lt = variant(_Order, 'Lt', 'less')
Le = variant(_Order, 'Le', 'less_equal')
Gt = variant(_Order, 'Gt', 'greater')
Ge = variant(_Order, 'Ge', 'greater_equal')
LogicalAnd = variant(_Pred, 'LogicalAnd', 'logical_and')
LogicalOr = variant(_Pred, 'LogicalOr', 'logical_or')
LogicalXor = variant(_Pred, 'LogicalXor', 'logical_xor')


class _Bitwise(_Pred):
    __slots__ = ()

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        for x in (a, b):
            if getattr(x, 'dtype', None) is not None and x.dtype.kind == 'f' or \
                    isinstance(x, float):
                _same_shapes(self.fn, a, b)     # shapes are checked first, as in PyTorch
                raise NotImplementedError(f'"{self.fn}_cpu" not implemented for '
                                          f'\'{backend_scalar_name(result_type(a, b))}\'')
        return binary(getattr(xp, self.fn), a, b, self.fn)


BitwiseAnd = variant(_Bitwise, 'BitwiseAnd', 'bitwise_and')
BitwiseOr = variant(_Bitwise, 'BitwiseOr', 'bitwise_or')
BitwiseXor = variant(_Bitwise, 'BitwiseXor', 'bitwise_xor')


class _UnaryPred(Op):
    __slots__ = ()
    differentiable = False
    fn = None

    def forward(self, xp, a):
        return getattr(xp, self.fn)(a)


LogicalNot = variant(_UnaryPred, 'LogicalNot', 'logical_not')
IsNan = variant(_UnaryPred, 'IsNan', 'isnan')
IsInf = variant(_UnaryPred, 'IsInf', 'isinf')
IsFinite = variant(_UnaryPred, 'IsFinite', 'isfinite')


class BitwiseNot(_UnaryPred):
    __slots__ = ()

    def forward(self, xp, a):
        if a.dtype.kind in 'fc':
            raise NotImplementedError(
                f'"bitwise_not_cpu" not implemented for \'{scalar_name(a)}\'')
        return xp.invert(a)


def invert(input):
    """``~input`` (``Tensor.__invert__``): integers and bools only, as PyTorch's operator."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        raise TypeError('~ (operator.invert) is only implemented on integer and Boolean-type '
                        'tensors')
    return bitwise_not(input)


@quiet
class FloorDivide(Op):
    """``a // b`` rounding toward minus infinity.  Not differentiable, as in PyTorch: a
    floating result that requires grad records a node whose backward raises (use
    ``div(rounding_mode='floor')``, whose gradient is zero)."""
    __slots__ = ()

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        _integer_division('floor_divide', a, b)
        return binary(xp.floor_divide, a, b, 'floor_divide')

    def backward(self, g):
        raise RuntimeError('derivative for aten::floor_divide is not implemented')


def _same_shapes(op, a, b):
    """PyTorch's broadcasting error for operands ``a`` and ``b`` (arrays or numbers), which
    it raises before any dtype refusal."""
    if getattr(a, 'shape', None) is not None and getattr(b, 'shape', None) is not None:
        broadcast_shape(op, a.shape, b.shape)


def _integer_division(op, a, b):
    """PyTorch's errors for an integer division (``a`` and ``b`` promoted) by zero (NumPy
    would give 0 with a warning; an empty result divides nothing) and for bool operands.
    Floating division costs one dtype check."""
    kind = (a if getattr(a, 'dtype', None) is not None else b).dtype.kind
    if kind in 'biu':
        _same_shapes(op, a, b)
        if kind == 'b':
            name = 'div_floor' if op == 'floor_divide' else op
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
        if 0 in getattr(a, 'shape', ()) or 0 in getattr(b, 'shape', ()):
            return
        if (b == 0) if _is_number(b) else (b == 0).any():
            raise RuntimeError(f'ZeroDivisionError (integer {op} by zero)')


class Fill(Op):
    """Every element replaced by ``value`` (used in place: ``fill_``, ``zero_``, ``normal_``...).
    The result no longer depends on the old values, so their gradient is zero."""
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a, value):
        out = xp.empty_like(a)
        out[...] = value
        return out

    def backward(self, g):
        # zeros, a constant, as PyTorch's zeros_like(grad) (not g * 0: NaN for an infinite g)
        return zeros_like_shape(g, g.shape)


# ----------------------------------------------------------------------------- functions
# The public functions (``autograd.exp(x)``) and the names bound as Tensor methods.

def _num(x):
    """Accept tensors and Python numbers; NumPy scalars become Python numbers."""
    if isinstance(x, Tensor) or x.__class__ in (float, int, bool):
        return x
    if hasattr(x, 'item') and getattr(x, 'ndim', 1) == 0 and not hasattr(x, '_data'):
        return x.item()
    if isinstance(x, (float, int)):
        return x
    return as_tensor(x)


def add(input, other, *, alpha=1):
    if alpha.__class__ is not int or alpha != 1:
        return Add.apply(input, _num(other), alpha=alpha)
    return Add.apply(input, _num(other))


def sub(input, other, *, alpha=1):
    if alpha.__class__ is not int or alpha != 1:
        return Sub.apply(input, _num(other), alpha=alpha)
    return Sub.apply(input, _num(other))


def mul(input, other):
    return Mul.apply(input, _num(other))


def div(input, other, *, rounding_mode=None):
    other = _num(other)
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode == 'floor':
        if _is_int(input) and _is_int(other):
            return FloorDivide.apply(input, other)
        return DivRounding.apply(input, other, mode='floor')
    if rounding_mode == 'trunc':
        if _is_int(input) and _is_int(other):
            q = FloorDivide.apply(input, other)
            r = Remainder.apply(input, other)
            fix = (r != 0) & ((Lt.apply(input, 0)) ^ (Lt.apply(other, 0) if isinstance(
                other, Tensor) else (other < 0)))
            return q + fix
        return DivRounding.apply(input, other, mode='trunc')
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


def _is_int(x):
    if isinstance(x, Tensor):
        return x._data.dtype.kind in 'biu'
    return isinstance(x, int)


def true_divide(input, other):
    return Div.apply(input, _num(other))


def floor_divide(input, other):
    return FloorDivide.apply(input, _num(other))


def remainder(input, other):
    return Remainder.apply(input, _num(other))


def fmod(input, other):
    return Fmod.apply(input, _num(other))


def pow(input, exponent):
    if not isinstance(input, Tensor):
        return Pow.apply(_num(input), exponent)
    return Pow.apply(input, _num(exponent))


def neg(input):
    if not isinstance(input, Tensor):
        _tensor_arg('neg', input)
    return apply_unary(Neg, input)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` else of ``other`` (broadcast together)."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    return Where.apply(condition, _num(input), _num(other))


def clamp(input, min=None, max=None):
    """Limit to [min, max]; tensor bounds broadcast (gradient flows to them where they bind)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        min, max, tensors = _clamp_bounds(min, max)
        if tensors:
            return ClampBounds.apply(input, min, max)
    return Clamp.apply(input, min=min, max=max)


def _clamp_bounds(lo, hi):
    """PyTorch's parser for a tensor bound beside a number bound: a 0-d tensor that needs no
    gradient is read as a number (the (Tensor, Scalar?, Scalar?) overload); anything else
    beside a number is a TypeError.  Returns the bounds, and whether either is a tensor."""
    if not (isinstance(lo, (int, float)) or isinstance(hi, (int, float))):
        return lo, hi, True
    out = []
    for x in (lo, hi):
        if isinstance(x, Tensor):
            if x.ndim or x.requires_grad:
                raise TypeError(f'clamp() received an invalid combination of arguments - got '
                                f'(Tensor, min={type(lo).__name__}, max={type(hi).__name__})')
            x = x.item()
        out.append(x)
    return out[0], out[1], False


def _bound_given(name, bound):
    """PyTorch's TypeError for ``clamp_min``/``clamp_max`` without their bound."""
    if bound is None:
        raise TypeError(f'{name}() received an invalid combination of arguments - got '
                        f'(Tensor, NoneType), but expected (Tensor input, Tensor {name[6:9]}) or '
                        f'(Tensor input, Number {name[6:9]})')


def clamp_min(input, min):
    _bound_given('clamp_min', min)
    if isinstance(min, Tensor):
        return renamed(clamp(input, min=min), 'ClampMinBackward1')
    return _CLAMP_MIN.apply(input, min=min, max=None)


def clamp_max(input, max):
    _bound_given('clamp_max', max)
    if isinstance(max, Tensor):
        return renamed(clamp(input, max=max), 'ClampMaxBackward1')
    return _CLAMP_MAX.apply(input, min=None, max=max)


_CLAMP_MIN = named(Clamp, 'ClampMinBackward0')      # PyTorch's node names
_CLAMP_MAX = named(Clamp, 'ClampMaxBackward0')


def clamp_min_(input, min):
    _bound_given('clamp_min_', min)
    return clamp_(input, min=min)


def clamp_max_(input, max):
    _bound_given('clamp_max_', max)
    return clamp_(input, max=max)


def clamp_(input, min=None, max=None):
    """In-place ``clamp``."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        check_inplace_shape(input, min, max)
        min, max, tensors = _clamp_bounds(min, max)
        if tensors:
            return ClampBounds.apply_(input, min, max)
    return Clamp.apply_(input, min=min, max=max)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    return input + (tensor1 * tensor2 if value == 1 else tensor1 * tensor2 * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    return input + (tensor1 / tensor2 if value == 1 else tensor1 / tensor2 * value)


def addcmul_(input, tensor1, tensor2, *, value=1):
    return input.add_(tensor1 * tensor2, alpha=value)


def addcdiv_(input, tensor1, tensor2, *, value=1):
    return input.add_(tensor1 / tensor2, alpha=value)


def _tensor_arg(fn, x, name='input', position=1):
    """``x`` if it is a tensor, else PyTorch's TypeError for an argument that must be one."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def maximum(input, other):
    return Maximum.apply(_tensor_arg('maximum', input), _tensor_arg('maximum', other, 'other', 2))


def minimum(input, other):
    return Minimum.apply(_tensor_arg('minimum', input), _tensor_arg('minimum', other, 'other', 2))


_C_NAMES = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half',
            'int64': 'long int', 'int32': 'int', 'bool': 'bool', 'uint8': 'unsigned char'}


def lerp(input, end, weight):
    """``input + weight * (end - input)``: floating tensors of one dtype (no promotion, as
    PyTorch's)."""
    weight = _num(weight)
    for name, x in (('end', end), ('weight', weight)):
        if isinstance(x, Tensor) and x.dtype != input.dtype:
            raise RuntimeError(f'expected dtype {_C_NAMES.get(input.dtype.name, input.dtype.name)} '
                               f'for `{name}` but got dtype '
                               f'{_C_NAMES.get(x.dtype.name, x.dtype.name)}')
    if not input.dtype.is_floating_point:
        shape = tuple(input.shape)          # PyTorch checks the shapes before the kernel
        for x in (end, weight):
            if isinstance(x, Tensor):
                shape = broadcast_shape('lerp', shape, tuple(x.shape))
        kernel = 'lerp_kernel_tensor' if isinstance(weight, Tensor) else 'lerp_kernel_scalar'
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(input._data)}\'')
    return Lerp.apply(input, end, weight)


def atan2(input, other):
    return Atan2.apply(_tensor_arg('atan2', input), _tensor_arg('atan2', other, 'other', 2))


def _unary(cls):
    """``autograd.<name>`` and ``Tensor.<name>`` of a one-input op: one Python frame."""
    name = cls.__name__.lower()
    return unary_function(cls, lambda x: _tensor_arg(name, x), name)


exp = _unary(Exp)
exp2 = _unary(Exp2)
expm1 = _unary(Expm1)
log = _unary(Log)
log2 = _unary(Log2)
log10 = _unary(Log10)
log1p = _unary(Log1p)
sqrt = _unary(Sqrt)
rsqrt = _unary(Rsqrt)
square = _unary(Square)
reciprocal = _unary(Reciprocal)
abs = _unary(Abs)
sign = _unary(Sign)
sin = _unary(Sin)
cos = _unary(Cos)
tan = _unary(Tan)
sinh = _unary(Sinh)
cosh = _unary(Cosh)
asin = _unary(Asin)
acos = _unary(Acos)
atan = _unary(Atan)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
relu = _unary(Relu)
erf = _unary(Erf)
floor = _unary(Floor)
ceil = _unary(Ceil)
trunc = _unary(Trunc)
logical_not = _unary(LogicalNot)
bitwise_not = _unary(BitwiseNot)
isnan = _unary(IsNan)
isinf = _unary(IsInf)
isfinite = _unary(IsFinite)


def round(input, decimals=0):
    return Round.apply(input, decimals=decimals)


def _binary_fn(cls, name):
    def fn(input, other):
        return cls.apply(input, _num(other))
    fn.__name__ = name
    return fn


eq = _binary_fn(Eq, 'eq')
ne = _binary_fn(Ne, 'ne')
lt = _binary_fn(Lt, 'lt')
le = _binary_fn(Le, 'le')
gt = _binary_fn(Gt, 'gt')
ge = _binary_fn(Ge, 'ge')


def _tensors_fn(cls, name):
    """A two-tensor function: PyTorch refuses a Python number for either argument."""
    def fn(input, other):
        return cls.apply(_tensor_arg(name, input), _tensor_arg(name, other, 'other', 2))
    fn.__name__ = name
    return fn


logical_and = _tensors_fn(LogicalAnd, 'logical_and')
logical_or = _tensors_fn(LogicalOr, 'logical_or')
logical_xor = _tensors_fn(LogicalXor, 'logical_xor')
bitwise_and = _binary_fn(BitwiseAnd, 'bitwise_and')
bitwise_or = _binary_fn(BitwiseOr, 'bitwise_or')
bitwise_xor = _binary_fn(BitwiseXor, 'bitwise_xor')
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
clip = clamp
absolute = abs
multiply, divide, subtract, negative = mul, div, sub, neg
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool((input == other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if ``isclose`` everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise, with PyTorch's checks: tensors
    of one dtype, rtol and atol >= 0, shapes that broadcast."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not "
                        f'{type(other).__name__}')
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(f'{scalar_name(a)} did not match {scalar_name(b)}')
    for name, tol in (('rtol', rtol), ('atol', atol)):
        if tol < 0:
            raise RuntimeError(f'{name} must be greater than or equal to zero, but got {tol:g}')
    xp = input._device.xp
    out = binary(lambda a, b: xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
                 a, b, 'isclose')
    return _make(xp.asarray(out), input._device)      # (a 0-d result is a NumPy scalar)


def check_inplace_shape(target, *others):
    """PyTorch's first check of an in-place elementwise op on ``target``: the operands
    broadcast to ``target``'s own shape.  It comes before the result's dtype cast and the
    kernel's dtype checks (``pow_`` of a 0-d bool by a [1] bool refuses for the shape); a
    failed broadcast itself is left to the op's own error."""
    shape = target._data.shape
    out = shape
    for o in others:
        if isinstance(o, Tensor) and o._data.shape != shape:
            try:
                out = broadcast_shapes(out, o._data.shape)
            except RuntimeError:
                return
    if out != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                           f'shape {list(out)}')


# In-place forms: name_ -> op class (second operand, if any, passed through).
INPLACE = {
    'add_': Add, 'sub_': Sub, 'mul_': Mul, 'div_': Div, 'pow_': Pow, 'neg_': Neg,
    'exp_': Exp, 'log_': Log, 'sqrt_': Sqrt, 'abs_': Abs, 'sigmoid_': Sigmoid, 'tanh_': Tanh,
    'relu_': Relu, 'floor_': Floor, 'ceil_': Ceil, 'trunc_': Trunc, 'round_': Round,
    'sin_': Sin, 'cos_': Cos, 'reciprocal_': Reciprocal, 'remainder_': Remainder,
    'fmod_': Fmod, 'square_': Square, 'rsqrt_': Rsqrt, 'expm1_': Expm1, 'log1p_': Log1p,
    'sign_': Sign, 'erf_': Erf, 'lerp_': Lerp, 'maximum_': Maximum, 'minimum_': Minimum,
}

FUNCTIONS = [
    'add', 'sub', 'mul', 'div', 'true_divide', 'floor_divide', 'remainder', 'fmod', 'pow', 'neg',
    'where', 'clamp', 'clamp_min', 'clamp_max', 'clip', 'addcmul', 'addcdiv', 'maximum', 'minimum', 'lerp', 'atan2',
    'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'square',
    'reciprocal', 'abs', 'absolute', 'sign', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'asin', 'acos',
    'atan', 'arcsin', 'arccos', 'arctan', 'arctan2', 'tanh', 'sigmoid', 'relu', 'erf', 'floor',
    'ceil', 'trunc', 'round', 'logical_not', 'logical_and', 'logical_or', 'logical_xor',
    'bitwise_not', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'isnan', 'isinf', 'isfinite',
    'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'greater_equal', 'less', 'less_equal',
    'not_equal', 'equal', 'allclose', 'isclose', 'multiply', 'divide', 'subtract', 'negative',
]

METHODS = [n for n in FUNCTIONS if n not in ('where',)] + ['clamp_', 'clip_', 'addcmul_',
                                                          'addcdiv_']
METHODS += ['uniform_', 'normal_', 'bernoulli_', 'fill_', 'zero_', 'random_', 'exponential_']
METHODS += ['clamp_min_', 'clamp_max_']
clip_ = clamp_


# ----------------------------------------------------------------------------- tensor functions
# (issue 14, "tensor functions": logaddexp ... nan_to_num, each with its gradient formula)

from ..backend import float64, get_default_dtype  # noqa: E402
from ..extend import array_of, const_like, xp_of  # noqa: E402

def _float_operands(name, a, b):
    """``a``, ``b`` promoted; integer results are refused as PyTorch's float-only kernels
    do (``"logaddexp_cpu" not implemented for 'Long'``)."""
    a, b = promote(a, b)
    kind = (a if getattr(a, 'dtype', None) is not None else b).dtype.kind
    if kind != 'f':
        t = a if getattr(a, 'dtype', None) is not None else b
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar_name(t)}\'')
    return a, b


@quiet
class LogAddExp(Op):
    """log(exp(a) + exp(b)); d/da = sigmoid(a - b), d/db = sigmoid(b - a)."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    fn, scale = 'logaddexp', 1.0

    def forward(self, xp, a, b):
        a, b = _float_operands(self.fn, a, b)
        return binary(getattr(xp, self.fn), a, b, self.fn)

    def backward(self, g):
        a, b = self.saved_tensors
        # base 2: d/da log2(2^a + 2^b) = 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2)
        da = apply_unary(Sigmoid, (a - b) * self.scale if self.scale != 1.0 else a - b)
        return (g * da if _needs(self, 0) else None,
                g * (1 - da) if _needs(self, 1) else None)


class LogAddExp2(LogAddExp):
    """log2(2^a + 2^b)."""
    __slots__ = ()
    fn, scale = 'logaddexp2', math.log(2.0)


@quiet
class Hypot(Op):
    """sqrt(a^2 + b^2) without overflow; d/da = a / out, d/db = b / out."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    save_output = True

    def forward(self, xp, a, b):
        a, b = _float_operands('hypot', a, b)
        return binary(xp.hypot, a, b, 'hypot')

    def backward(self, g):
        a, b, out = self.saved_tensors
        return (g * a / out if _needs(self, 0) else None,
                g * b / out if _needs(self, 1) else None)


class Copysign(Op):
    """|a| with the sign of b (its sign bit: -0.0 counts as negative).  d/da = out / a
    (+-1; 0 at a == 0, as PyTorch), d/db = 0."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if getattr(a, 'dtype', None) is not None and a.dtype.kind not in 'fc':
            a = to_float(a)
        if getattr(b, 'dtype', None) is not None and b.dtype.kind not in 'fc':
            b = to_float(b)
        return binary(xp.copysign, a, b, 'copysign')

    def backward(self, g):
        a, out = self.saved_tensors
        xp, ad, od = xp_of(a), array_of(a), array_of(out)
        factor = xp.where(ad == 0, 0, xp.copysign(xp.ones_like(od), od) *
                          xp.copysign(xp.ones_like(ad), ad)).astype(od.dtype)
        return (g * const_like(factor, g) if _needs(self, 0) else None,
                g * 0 if _needs(self, 1) else None)


class Heaviside(Op):
    """0 where a < 0, ``values`` where a == 0, 1 where a > 0.  PyTorch records it but has
    no derivative: backward raises, as there."""
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a, b):
        if getattr(b, 'dtype', None) is None or a.dtype != b.dtype:
            raise RuntimeError('heaviside is not yet implemented for tensors with different '
                               'dtypes.')
        return binary(xp.heaviside, a, b, 'heaviside').astype(a.dtype)

    def backward(self, g):
        raise RuntimeError('derivative for aten::heaviside is not implemented')


class Fmax(Op):
    """max(a, b) ignoring NaN (NaN only where both are).  Gradient as PyTorch's: all to
    ``a`` where a >= b or b is NaN, else to ``b`` (no sharing at ties)."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    fn = 'fmax'

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        return binary(getattr(xp, self.fn), a, b, self.fn)

    def backward(self, g):
        a, b = self.saved_tensors
        xp, ad, bd = xp_of(a), array_of(a), array_of(b)
        with_a = (ad >= bd if self.fn == 'fmax' else ad <= bd) | xp.isnan(bd)
        cond = const_like(with_a, g)
        return (Where.apply(cond, g, 0.0) if _needs(self, 0) else None,
                Where.apply(cond, 0.0, g) if _needs(self, 1) else None)


Fmin = variant(Fmax, 'Fmin', 'fmin')


@quiet
class Frac(Op):
    """a - trunc(a); gradient 1."""
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a):
        if a.dtype.kind != 'f':
            raise NotImplementedError(f'"frac_cpu" not implemented for \'{scalar_name(a)}\'')
        return a - xp.trunc(a)

    def backward(self, g):
        return g


@quiet
class Sinc(Op):
    """sin(pi x) / (pi x), 1 at 0.  Gradient pi (u cos u - sin u) / u^2 (u = pi x), and
    near 0 (|u| < 1e-3) its Taylor polynomial pi (u^3/30 - u/3), so that the gradient's
    own derivative is right there too: -pi^2/3 at 0, where PyTorch's is NaN
    (docs/DIFFERENCES.md).  At 0 the gradient is 0 whatever g (PyTorch's where)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return xp.sinc(to_float(a))

    def backward(self, g):
        x, = self.saved_tensors
        u = x * math.pi
        small = apply_unary(Abs, u) < 1e-3
        us = Where.apply(small, u, 0.0)
        ub = Where.apply(small, 1.0, u)
        taylor = us * us * us / 30.0 - us / 3.0
        exact = (ub * apply_unary(Cos, ub) - apply_unary(Sin, ub)) / (ub * ub)
        d = Where.apply(small, taylor, exact) * math.pi
        # PyTorch's 0 at x == 0 even for an infinite or NaN g
        g = Where.apply(LogicalAnd.apply(x == 0, apply_unary(IsFinite, g) == False), 0.0, g)  # noqa: E712
        return g * d


class Signbit(_UnaryPred):
    """True where the sign bit is set (-0.0 and NaNs with it included)."""
    __slots__ = ()
    fn = 'signbit'

    def forward(self, xp, a):
        if a.dtype.kind == 'b':
            return xp.zeros(a.shape, dtype=bool)
        return xp.signbit(a)


class NanToNum(Op):
    """NaN, +inf and -inf replaced (defaults: 0 and the dtype's largest and lowest finite
    values); gradient passes where the input is finite (as PyTorch)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a, nan=0.0, posinf=None, neginf=None):
        if a.dtype.kind != 'f':
            return a.copy()
        info = xp.finfo(a.dtype)
        out = xp.where(xp.isnan(a), a.dtype.type(nan if nan is not None else 0.0), a)
        out = xp.where(out == math.inf, a.dtype.type(info.max if posinf is None else posinf),
                       out)
        return xp.where(out == -math.inf, a.dtype.type(info.min if neginf is None else neginf),
                        out)

    def backward(self, g):
        x, = self.saved_tensors
        # PyTorch's grad * isfinite(x): a NaN or inf gradient stays NaN where x is not finite
        return g * apply_unary(IsFinite, x)


def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` elementwise (broadcasting), without overflow."""
    return LogAddExp.apply(input, _num(other))


def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` elementwise (broadcasting)."""
    return LogAddExp2.apply(input, _num(other))


def hypot(input, other):
    """``sqrt(input**2 + other**2)`` elementwise (broadcasting)."""
    return Hypot.apply(input, _num(other))


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (a tensor or number); a float result."""
    return Copysign.apply(input, _num(other))


def heaviside(input, values):
    """The Heaviside step of ``input`` with ``values`` where ``input == 0`` (same dtype)."""
    return Heaviside.apply(input, values)


def fmax(input, other):
    """Elementwise maximum that ignores NaN (NaN only where both are)."""
    return Fmax.apply(input, _num(other))


def fmin(input, other):
    """Elementwise minimum that ignores NaN."""
    return Fmin.apply(input, _num(other))


def frac(input):
    """``input - trunc(input)`` (float tensors)."""
    return apply_unary(Frac, input)


def sinc(input):
    """The normalized sinc, ``sin(pi x) / (pi x)`` (1 at 0)."""
    return apply_unary(Sinc, input)


def signbit(input):
    """True where the sign bit of ``input`` is set (bool result, no gradient)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':
        raise NotImplementedError('signbit is not implemented for complex tensors.')
    return apply_unary(Signbit, input)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, inf and -inf of ``input`` replaced by finite numbers."""
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def deg2rad(input):
    """Degrees to radians (integers become the default float dtype)."""
    return mul(_floating(input), math.pi / 180.0)


def rad2deg(input):
    """Radians to degrees (integers become the default float dtype)."""
    return mul(_floating(input), 180.0 / math.pi)


def _floating(input):
    if input.dtype.is_floating_point:
        return input
    if input.dtype.is_complex:      # the cast would drop the imaginary part
        raise complex_not_implemented(sys._getframe(1), input._data.dtype)
    from .shape import to_copy        # (shape imports this module)
    return to_copy(input, dtype=get_default_dtype())


def float_power(input, exponent):
    """``input ** exponent`` in float64, whatever the operands' dtypes."""
    from .shape import to_copy
    for x in (input, exponent):
        if isinstance(x, Tensor) and x.dtype.is_complex:
            raise complex_not_implemented(sys._getframe(0), x._data.dtype)
    if isinstance(input, Tensor):
        input = to_copy(input, dtype=float64) if input.dtype is not float64 else input
    else:
        input = float(input)
    if isinstance(exponent, Tensor):
        exponent = to_copy(exponent, dtype=float64) if exponent.dtype is not float64 \
            else exponent
    else:
        exponent = float(_num(exponent))
    return Pow.apply(input, exponent)


def ldexp(input, other):
    """``input * 2**other`` (a float result)."""
    return mul(_floating(input), pow(2.0, _floating(other) if isinstance(other, Tensor)
                                     else other))


def positive(input):
    """``input`` itself (``+input``); bool tensors refused, as PyTorch's."""
    if input._data.dtype.kind == 'b':
        raise RuntimeError('The `+` operator, on a bool tensor is not supported.')
    return input


FUNCTIONS += ['logaddexp', 'logaddexp2', 'hypot', 'copysign', 'heaviside', 'fmax', 'fmin',
              'frac', 'sinc', 'signbit', 'nan_to_num', 'deg2rad', 'rad2deg', 'float_power',
              'ldexp', 'positive']
METHODS += ['logaddexp', 'logaddexp2', 'hypot', 'copysign', 'heaviside', 'fmax', 'fmin',
            'frac', 'sinc', 'signbit', 'nan_to_num', 'deg2rad', 'rad2deg', 'float_power',
            'ldexp', 'positive']


# ----------------------------------------------------------------------------- more (issue 14)

class _IntegerPair(Op):
    """gcd, lcm and the bit shifts: integer operands, no gradient."""
    __slots__ = ()
    differentiable = False
    fn = name = None

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        t = a if getattr(a, 'dtype', None) is not None else b
        if t.dtype.kind not in 'iub' or (t.dtype.kind == 'b' and self.name in ('gcd', 'lcm')):
            raise NotImplementedError(f'"{self.name}_cpu" not implemented for '
                                      f"'{scalar_name(t)}'")
        return binary(getattr(xp, self.fn), a, b, self.name)


Gcd = type('Gcd', (_IntegerPair,), {'__slots__': (), 'fn': 'gcd', 'name': 'gcd'})
Lcm = type('Lcm', (_IntegerPair,), {'__slots__': (), 'fn': 'lcm', 'name': 'lcm'})
LeftShift = type('LeftShift', (_IntegerPair,),
                 {'__slots__': (), 'fn': 'left_shift', 'name': 'lshift'})
RightShift = type('RightShift', (_IntegerPair,),
                  {'__slots__': (), 'fn': 'right_shift', 'name': 'rshift'})


class IsIn(Op):
    """Whether each element of ``elements`` occurs in ``test_elements`` (bool)."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, elements, test, invert=False):
        scalar = not hasattr(elements, 'shape')
        e = xp.asarray(elements) if scalar else elements
        t = xp.asarray(test) if not hasattr(test, 'shape') else test
        return xp.asarray(xp.isin(e, t, invert=invert))


def _is_inf_of_sign(input, sign):
    if input.dtype.is_floating_point:
        return eq(input, sign * math.inf)
    return ne(input, input)         # integers are never infinite: all False


def isposinf(input):
    """True where ``input`` is +inf."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':
        raise RuntimeError('isposinf does not support complex inputs.')
    return _is_inf_of_sign(input, 1)


def isneginf(input):
    """True where ``input`` is -inf."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':
        raise RuntimeError('isneginf does not support complex inputs.')
    return _is_inf_of_sign(input, -1)


def isreal(input):
    """True where the imaginary part is 0 (everywhere for a real tensor)."""
    if input.dtype.is_complex:
        return eq(input.imag, 0)
    return eq(input, input) | isnan(input) if input.dtype.is_floating_point else eq(input, input)


def sgn(input):
    """The sign (``sign`` for real tensors; z / |z|, 0 at 0, for complex ones)."""
    if input.dtype.is_complex:
        return sgn_of(input)
    return sign(input)


def fix(input):
    """Rounding toward zero (``trunc``)."""
    return trunc(input)


def gcd(input, other):
    """Elementwise greatest common divisor of integer tensors."""
    return Gcd.apply(input, _num(other))


def lcm(input, other):
    """Elementwise least common multiple of integer tensors."""
    return Lcm.apply(input, _num(other))


def bitwise_left_shift(input, other):
    """``input << other`` elementwise (integers)."""
    return LeftShift.apply(input, _num(other))


def bitwise_right_shift(input, other):
    """``input >> other`` elementwise (integers; arithmetic shift for signed)."""
    return RightShift.apply(input, _num(other))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a
    number); ``invert`` negates."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError('isin() received an invalid combination of arguments: expected a '
                        'Tensor among elements and test_elements')
    return IsIn.apply(elements, test_elements, invert=invert)


FUNCTIONS += ['isposinf', 'isneginf', 'isreal', 'sgn', 'fix', 'gcd', 'lcm', 'bitwise_left_shift',
              'bitwise_right_shift', 'isin']
METHODS += ['isposinf', 'isneginf', 'isreal', 'sgn', 'fix', 'gcd', 'lcm', 'bitwise_left_shift',
            'bitwise_right_shift', 'isin']


# In-place forms of the functions above (PyTorch's casting rules: ``_write`` refuses a
# float result for an integer tensor).
INPLACE.update({'hypot_': Hypot, 'copysign_': Copysign, 'frac_': Frac, 'sinc_': Sinc,
                'nan_to_num_': NanToNum, 'heaviside_': Heaviside, 'gcd_': Gcd, 'lcm_': Lcm,
                'fix_': Trunc, 'sgn_': Sign})


def deg2rad_(input):
    return Mul.apply_(input, math.pi / 180.0)


def rad2deg_(input):
    return Mul.apply_(input, 180.0 / math.pi)


def ldexp_(input, other):
    check_inplace_shape(input, other)
    return Mul.apply_(input, pow(2.0, _floating(other) if isinstance(other, Tensor) else other))


def float_power_(input, exponent):
    check_inplace_shape(input, exponent)
    if input.dtype is not float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {scalar_name(input)} but "
                           "the operation's result requires dtype Double")
    if isinstance(exponent, Tensor) and exponent.dtype is not float64:
        from .shape import to_copy
        exponent = to_copy(exponent, dtype=float64)
    return Pow.apply_(input, exponent if isinstance(exponent, Tensor) else float(exponent))


METHODS += ['deg2rad_', 'rad2deg_', 'ldexp_', 'float_power_']


# ----------------------------------------------------------------------------- more (issue 14)
# inverse hyperbolic functions, frexp, nextafter, rsub

Asinh = quiet(_unary_op('Asinh', 'arcsinh', dx=lambda g, x: g * apply_unary(Rsqrt, x * x + 1)))
Acosh = quiet(_unary_op('Acosh', 'arccosh', dx=lambda g, x: g * apply_unary(Rsqrt, x * x - 1)))
Atanh = quiet(_unary_op('Atanh', 'arctanh', dx=lambda g, x: g / (1 - x * x)))
asinh = _unary(Asinh)
acosh = _unary(Acosh)
atanh = _unary(Atanh)
arcsinh, arccosh, arctanh = asinh, acosh, atanh


@quiet
class Frexp(Op):
    """``(mantissa, exponent)`` with ``x = mantissa * 2 ** exponent``, |mantissa| in
    [0.5, 1); the exponent is int32 and has no gradient, the mantissa's is g / 2 ** e."""
    __slots__ = ('scale',)
    array_backward = True
    nondiff_outputs = (1,)

    def forward(self, xp, a):
        if a.dtype.kind != 'f':
            raise RuntimeError('torch.frexp() only supports floating-point dtypes')
        m, e = xp.frexp(a)
        self.scale = xp.ldexp(xp.ones_like(a), -e)
        return m, e.astype('int32')

    def backward(self, g, _):
        return None if g is None else g * const_like(self.scale, g)


class NextAfter(Op):
    """The next float after ``a`` towards ``b``; PyTorch's gradient: g to ``a`` where
    a != b (where equal the result is ``b``, and PyTorch gives 0), 0 to ``b``."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        return binary(xp.nextafter, a, b, 'nextafter')

    def backward(self, g):
        a, b = self.saved_tensors
        return (Where.apply(a == b, 0.0, g) if _needs(self, 0) else None,
                g * 0 if _needs(self, 1) else None)


def frexp(input):
    """``(mantissa, exponent)`` of each element: ``input = mantissa * 2 ** exponent``."""
    return Frexp.apply(input)


def nextafter(input, other):
    """The next representable float after ``input`` towards ``other``."""
    return NextAfter.apply(input, other)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return renamed(sub(_num(other), input, alpha=alpha),
                   'RsubBackward0' if isinstance(other, Tensor) else 'RsubBackward1')


INPLACE.update({'asinh_': Asinh, 'acosh_': Acosh, 'atanh_': Atanh, 'arcsinh_': Asinh,
                'arccosh_': Acosh, 'arctanh_': Atanh})
FUNCTIONS += ['asinh', 'acosh', 'atanh', 'arcsinh', 'arccosh', 'arctanh', 'frexp', 'nextafter',
              'rsub']
METHODS += ['asinh', 'acosh', 'atanh', 'arcsinh', 'arccosh', 'arctanh', 'frexp', 'nextafter']

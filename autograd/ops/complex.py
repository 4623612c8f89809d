"""Complex tensors: the ops that take them apart and put them together (``real``, ``imag``,
``conj``, ``angle``, ``view_as_real``, ``view_as_complex``, ``complex``, ``polar``), and the
helpers that make the real ops' backward formulas right on complex values (``conj_of``,
``sgn_of``).

PyTorch's convention for gradients (``torch.autograd``'s "complex autograd" note): the
gradient of a real loss L with respect to a complex tensor z = x + iy is
dL/dx + i dL/dy (twice the conjugate Wirtinger derivative).  For a holomorphic f, the
gradient passed to z is then ``g * conj(f'(z))``; for a real input of an op with a complex
result it is the real part of that (the engine takes it when it casts the gradient to the
input's dtype).  Hence ``Mul``'s backward is ``g * conj(b)``, ``MatMul``'s ``g @ b^H``:
``conj_of`` is the identity on real values, so the real formulas are unchanged.

Here ``real``/``imag`` are differentiable ops returning new tensors (views in PyTorch), and
``conj`` is physical (``is_conj()`` is always False), so ``resolve_conj`` returns its input.
Only ops whose backward is right on complex values record a complex output
(``Op.complex_grad``; the ops are marked in ``ops/complex_support.py``); any other op
refuses, naming itself and the dtype, instead of returning a wrong gradient.
"""
import math

from ..backend import get_default_dtype
from ..extend import zeros_like_shape
from ..op import Op, apply_unary
from ..tensor import Tensor
from ._util import broadcast_error, scalar_name

__all__ = ['is_complex', 'real', 'imag', 'conj', 'conj_physical', 'resolve_conj', 'resolve_neg',
           'is_conj', 'is_neg', 'angle', 'view_as_real', 'view_as_complex', 'complex', 'polar']

_builtin_complex = complex


# ----------------------------------------------------------------------------- formula helpers
# (formula-safe: each takes an array, a tensor or a Python number and answers in its form)

def is_cplx(x):
    """Whether ``x`` (array, tensor or number) holds complex values."""
    try:
        return x.dtype.kind == 'c'
    except AttributeError:
        return x.__class__ is _builtin_complex


def conj_of(x):
    """The complex conjugate of ``x``; ``x`` itself when it is real (no op recorded)."""
    try:
        if x.dtype.kind != 'c':     # (autograd dtypes carry NumPy's kind letter too)
            return x
    except AttributeError:
        return x.conjugate() if x.__class__ is _builtin_complex else x
    return Conj.apply(x)


def sgn_of(z):
    """z / |z| (0 at 0) of complex ``z``: PyTorch's ``sgn``, the gradient of ``|z|``."""
    a = abs(z)
    return z / (a + (a == 0))


def unordered(op, a):
    """PyTorch's error for an op that orders values (comparisons, max, sort, clamp ...)
    given a complex array ``a``, which has no order."""
    return NotImplementedError(f'"{op}" not implemented for \'{scalar_name(a)}\': complex '
                               'numbers have no order')


# ----------------------------------------------------------------------------- ops

class Conj(Op):
    """The complex conjugate; its own adjoint, so the gradient is conj(g)."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        return xp.conj(a) if a.dtype.kind == 'c' else a.copy()

    def backward(self, g):
        return conj_of(g)


class Real(Op):
    """The real part (a new tensor; a view in PyTorch).  Gradient: g + 0i."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        return xp.ascontiguousarray(a.real)

    def backward(self, g):
        return g * (1 + 0j)


class Imag(Op):
    """The imaginary part (a new tensor; a view in PyTorch).  Gradient: i g."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        return xp.ascontiguousarray(a.imag)

    def backward(self, g):
        return g * 1j


class Angle(Op):
    """The argument atan2(imag, real) in (-pi, pi]; for real input 0 or pi (NaN kept).
    Gradient (complex z): i g z / |z|^2, 0 at z = 0; real input: 0."""
    __slots__ = ()
    array_backward = True
    complex_grad = True
    save = (0,)

    def forward(self, xp, a):
        if a.dtype.kind == 'c':
            return xp.angle(a)
        if a.dtype.kind != 'f':
            a = a.astype(get_default_dtype().np)
        return xp.where(a < 0, a.dtype.type(math.pi), xp.where(a != a, a, a.dtype.type(0)))

    def backward(self, g):
        z, = self.saved_tensors
        if not is_cplx(z):      # a constant zero, as PyTorch's (NaN/inf in g stay out)
            return zeros_like_shape(z, z.shape)
        a2 = abs(z) ** 2
        return g * 1j * z / (a2 + (a2 == 0))


class ViewAsReal(Op):
    """(...) complex -> (..., 2) real: the parts side by side.  Gradient: g[..., 0] +
    i g[..., 1]."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        return xp.stack((a.real, a.imag), axis=-1)

    def backward(self, g):
        return g[..., 0] + g[..., 1] * 1j


class ViewAsComplex(Op):
    """(..., 2) real -> (...) complex.  Gradient: view_as_real(g)."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        # the parts assigned, not a[..., 0] + 1j * a[..., 1]: 1j * NaN is NaN + NaN j
        out = xp.empty(a.shape[:-1], dtype=xp.complex128 if a.dtype.itemsize == 8
                       else xp.complex64)
        out.real = a[..., 0]
        out.imag = a[..., 1]
        return out

    def backward(self, g):
        return ViewAsReal.apply(g)


class Complex(Op):
    """real + i imag, broadcasting.  Gradients: real(g), imag(g)."""
    __slots__ = ()
    array_backward = True
    complex_grad = True

    def forward(self, xp, re, im):
        try:
            shape = xp.broadcast_shapes(re.shape, im.shape)
        except ValueError:
            raise broadcast_error('complex', re, im) from None
        out = xp.empty(shape, dtype=xp.result_type(re.dtype, xp.complex64))
        out.real = re
        out.imag = im
        return out

    def backward(self, g):
        return Real.apply(g), Imag.apply(g)


# ----------------------------------------------------------------------------- public functions

def _check_tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f'{name}(): argument \'input\' (position 1) must be Tensor, not '
                        f'{type(x).__name__}')


def is_complex(input):
    """Whether ``input``'s dtype is complex (complex64 or complex128)."""
    _check_tensor('is_complex', input)
    return input.dtype.is_complex


def real(input):
    """The real part of a complex tensor (a new tensor; PyTorch returns a view); a real
    tensor itself."""
    _check_tensor('real', input)
    return apply_unary(Real, input) if input.dtype.is_complex else input


def imag(input):
    """The imaginary part of a complex tensor (a new tensor; PyTorch returns a view)."""
    _check_tensor('imag', input)
    if not input.dtype.is_complex:
        raise RuntimeError('imag is not implemented for tensors with non-complex dtypes.')
    return apply_unary(Imag, input)


def conj(input):
    """The complex conjugate (computed now: PyTorch's lazy conjugate bit is not kept); a
    real tensor itself."""
    _check_tensor('conj', input)
    return apply_unary(Conj, input) if input.dtype.is_complex else input


def conj_physical(input):
    """The complex conjugate, computed (for a real tensor: a copy of it, as PyTorch)."""
    _check_tensor('conj_physical', input)
    return apply_unary(Conj, input)


def resolve_conj(input):
    """``input`` itself: no tensor here carries a lazy conjugate bit."""
    return input


def resolve_neg(input):
    """``input`` itself: no tensor here carries a lazy negative bit."""
    return input


def is_conj(input):
    """False: conjugation here is always physical."""
    return False


def is_neg(input):
    """False: negation here is always physical."""
    return False


def angle(input):
    """The elementwise argument (radians, in (-pi, pi]): of a complex tensor, atan2(imag,
    real), a real tensor of the parts' dtype; of a real one, 0 (>= 0) or pi (< 0)."""
    _check_tensor('angle', input)
    return apply_unary(Angle, input)


def view_as_real(input):
    """(...) complex -> (..., 2) real: real and imaginary parts in the last dim (a copy here;
    a view in PyTorch)."""
    _check_tensor('view_as_real', input)
    if not input.dtype.is_complex:
        raise RuntimeError('view_as_real is only supported for complex tensors')
    return apply_unary(ViewAsReal, input)


def view_as_complex(input):
    """(..., 2) float32/float64 -> (...) complex64/complex128 (a copy here; a view in
    PyTorch)."""
    _check_tensor('view_as_complex', input)
    d = input.dtype
    if d.name not in ('float32', 'float64'):
        raise RuntimeError('view_as_complex is only supported for float and double tensors, '
                           f'but got a tensor of scalar type: {scalar_name(input)}')
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError('Tensor must have a last dimension of size 2')
    return apply_unary(ViewAsComplex, input)


def complex(real, imag):
    """``real + i imag`` (both float16/32/64 tensors of one dtype, broadcasting)."""
    _check_tensor('complex', real)
    if not isinstance(imag, Tensor):
        raise TypeError(f"complex(): argument 'imag' (position 2) must be Tensor, not "
                        f'{type(imag).__name__}')
    dr, di = real.dtype, imag.dtype
    if not (dr.is_floating_point and di.is_floating_point) or 'float16' in (dr.name, di.name):
        raise RuntimeError('Expected both inputs to be Float or Double tensors but got '
                           f'{scalar_name(real)} and {scalar_name(imag)}')
    if dr is not di:
        raise RuntimeError(f'Expected object of scalar type {scalar_name(real)} but got scalar '
                           f'type {scalar_name(imag)} for second argument')
    return Complex.apply(real, imag)


def polar(abs, angle):
    """``abs * (cos(angle) + i sin(angle))``, as ``complex(abs * cos, abs * sin)``."""
    _check_tensor('polar', abs)
    if not isinstance(angle, Tensor):
        raise TypeError(f"polar(): argument 'angle' (position 2) must be Tensor, not "
                        f'{type(angle).__name__}')
    return complex(abs * angle.cos(), abs * angle.sin())


def _real_property(self):
    return real(self)


def _imag_property(self):
    return imag(self)


def _complex_method_is_complex(self):
    return self.dtype.is_complex


# (the predicates, which return Python bools, are bound in autograd/__init__.py instead)
FUNCTIONS = [n for n in __all__ if n not in ('is_complex', 'is_conj', 'is_neg')]
METHODS = ['conj', 'conj_physical', 'resolve_conj', 'resolve_neg', 'is_conj', 'is_neg', 'angle']
OPERATORS = {'real': property(_real_property), 'imag': property(_imag_property),
             'is_complex': _complex_method_is_complex}
INPLACE = {'conj_physical_': Conj}

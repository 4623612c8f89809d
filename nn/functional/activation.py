"""Activation functions (PyTorch's ``torch.nn.functional`` activations).

Pointwise activations with a closed-form derivative are single ops: forward on arrays,
backward with operators and ops, which compute on arrays in an array sweep and record a
graph on tensors (so they differentiate twice).  Their backward reads the input, never an
intermediate array.  ``inplace=True`` runs the same op in place.
"""
import contextlib
import math
import struct
import warnings

import autograd
from autograd import where
from autograd.extend import Op, device_of_array, erf, scalar_name
from autograd.extend import opmath
from autograd.ops.formula import Clamp, Exp, Sigmoid, Tanh, Where


__all__ = ['relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'prelu', 'rrelu', 'elu',
           'elu_', 'celu', 'celu_', 'selu', 'selu_', 'gelu', 'silu', 'mish', 'softplus',
           'sigmoid', 'tanh', 'hardtanh', 'hardtanh_', 'hardsigmoid', 'hardswish', 'logsigmoid',
           'tanhshrink', 'softsign', 'softshrink', 'hardshrink', 'threshold', 'threshold_',
           'glu', 'softmax', 'log_softmax', 'softmin']

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# PyTorch's hardsigmoid backward multiplies by 1.0f / 6.0f (a float) in every dtype
_ONE_SIXTH_F32 = struct.unpack('f', struct.pack('f', 1.0 / 6))[0]


def _apply(cls, input, inplace, **params):
    return cls.apply_(input, **params) if inplace else cls.apply(input, **params)


def _float_only(name, a):
    if a.dtype.kind not in 'fV':         # V: bfloat16
        raise RuntimeError(f'"{name}" not implemented for \'{scalar_name(a.dtype)}\'')


class Pointwise(Op):
    """An activation applied elementwise, whose backward reads its input."""
    __slots__ = ()
    array_backward = True
    save = (0,)


# ----------------------------------------------------------------------------- piecewise linear

class Threshold(Pointwise):
    """``y = x if x > threshold else value``; the gradient passes where ``x > threshold``."""
    __slots__ = ('threshold',)

    def forward(self, xp, x, threshold, value):
        self.threshold = threshold
        return xp.where(x > threshold, x, xp.asarray(value, dtype=x.dtype))

    def backward(self, g):
        x, = self.saved_tensors
        return g * (x > self.threshold)


class Hardtanh(Pointwise):
    """Clip to ``[min_val, max_val]``; unlike ``clamp`` no gradient at the bounds (as
    PyTorch's ``hardtanh_backward``)."""
    __slots__ = ('lo', 'hi')

    def forward(self, xp, x, min_val, max_val):
        _float_only('hardtanh', x)
        self.lo, self.hi = min_val, max_val
        # the bounds as scalars of x's dtype: kernel arguments, not host-to-device copies
        return xp.clip(x, x.dtype.type(min_val), x.dtype.type(max_val))

    def backward(self, g):
        x, = self.saved_tensors
        return g * ((x > self.lo) & (x < self.hi))


class LeakyRelu(Pointwise):
    __slots__ = ('slope',)

    def forward(self, xp, x, negative_slope):
        self.slope = negative_slope
        return xp.where(x > 0, x, x * negative_slope)

    def backward(self, g):
        x, = self.saved_tensors
        return Where.apply(x > 0, g, g * self.slope)


class Hardsigmoid(Pointwise):
    """``relu6(x + 3) / 6``; gradient ``1/6`` strictly inside ``(-3, 3)``."""
    __slots__ = ()

    def forward(self, xp, x):
        _float_only('hardsigmoid', x)
        return xp.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    def backward(self, g):
        x, = self.saved_tensors
        return g * ((x > -3) & (x < 3)) * _ONE_SIXTH_F32


class Hardswish(Pointwise):
    """``x * relu6(x + 3) / 6``; derivative ``x/3 + 1/2`` on ``[-3, 3]``."""
    __slots__ = ()

    def forward(self, xp, x):
        _float_only('hardswish', x)
        return x * xp.clip(x + 3, 0, 6) / 6

    def backward(self, g):
        x, = self.saved_tensors
        return Where.apply(x < -3, g * 0, Where.apply(x <= 3, g * (x / 3 + 0.5), g))


# ----------------------------------------------------------------------------- smooth

class Elu(Pointwise):
    """``scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1))``: ELU, SELU and CELU."""
    __slots__ = ('alpha', 'scale', 'input_scale')

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, alpha=1.0, scale=1.0, input_scale=1.0):
        _float_only('elu', x)
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale
        neg = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)
        return xp.where(x > 0, x * scale, neg)

    def backward(self, g):
        x, = self.saved_tensors
        # exp of the clamped input: the unused branch stays finite, so 0 * it stays 0
        neg = Exp.apply(Clamp.apply(x, max=0) * self.input_scale) * (
            self.alpha * self.scale * self.input_scale)
        return Where.apply(x > 0, g * self.scale, g * neg)


# Phi(x) = (1 + tanh(x P(x^2))) / 2 = 1 - 1 / (1 + exp(2 x P(x^2))) for float32 on the host,
# the second form computed (the 2 folded into P's coefficients, exactly): NumPy's float32
# exp costs half its tanh without AVX-512 (AMD EPYC Zen 5 with AVX2: 1.34 against 2.7 ns
# an element), forward on (8, 32, 256) 301 -> 214 us for Phi.  Subtracting from 1 last
# rounds Phi's tails as PyTorch's 1 + erf does: exactly 0 toward -inf (from x = -5.3 on,
# where PyTorch's is 0 from -5.54, and below 6e-8 between) and exactly 1 from x = 5.75 on,
# so GELU is 0 and x there bit for bit; x runs unclipped: a huge |x| overflows x^2 and P
# to inf, whose exp is inf or 0, so Phi is 1 or 0 (NaN stays NaN).
# P is of degree 6 in x^2, fitted to atanh(erf(x / sqrt 2)) / x on [0, 5.5] by least squares
# weighted by sech^2 (the factor by which an error of the tanh's argument reaches Phi),
# reweighted toward minimax (P(0) = sqrt(2 / pi); the x^2 term near the tanh
# approximation's 0.044715 sqrt(2 / pi)).  Against Phi in double over [-9, 9]: at most
# 1.2e-7 absolute in float32 arithmetic, where 1 + erf with the vectorised float32 erf is
# 2.2e-7 and PyTorch's 6e-8 (GELU itself: 4.9e-7 absolute over [-9, 9], PyTorch's 3.7e-7).
# 20 passes over the array instead of 28 for the erf.
_PHI_P = (1.756214069968021e-09, -1.3226476962781734e-07, 3.9647607469098365e-06,
          -5.530627365989478e-05, -3.259480716168785e-05, 0.03633308444099032,
          0.7978849414861843)          # x^12 ... x^0 in x^2
_PHI_Q = tuple(2 * c for c in _PHI_P)   # 2 P: exp's argument


def _normal_cdf(xp, x):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2, the standard normal CDF, as a new array, and a
    spare new array of x's shape and dtype, or None (float32 on the host: the logistic form
    above, whose x^2 is then spare; else the device's erf)."""
    if x.dtype == 'float32' and x.size >= 64 and _on_host(x):
        u = xp.multiply(x, x)
        p = u * _PHI_Q[0]
        for c in _PHI_Q[1:-1]:                  # Horner's rule, in place
            p += c
            p *= u
        p += _PHI_Q[-1]
        p *= x
        xp.exp(p, out=p)
        p += 1
        xp.reciprocal(p, out=p)
        return xp.subtract(1, p, out=p), u
    cdf = erf(xp.asarray(x * _INV_SQRT_2))     # (NumPy makes a 0-d product a scalar)
    cdf += 1                                   # in erf's own new array
    cdf *= 0.5
    return cdf, None


def _on_host(a):
    """Whether array ``a`` lives in host memory (no accelerator: there the device's erf is
    one kernel, cheaper than the passes of the logistic form)."""
    return not getattr(device_of_array(a).backend, 'ACCELERATOR', False)


def _normal_pdf(x):
    """exp(-x^2 / 2) / sqrt(2 pi) of a tensor or array."""
    return Exp.apply(x * x * -0.5) * _INV_SQRT_2PI


class GeluGrad(Op):
    """Gelu's backward in one op: (g, x) -> g (Phi(x) + x phi(x)) (phi the standard normal
    density), from the values ``cdf`` = Phi(x) that ``Gelu``'s forward computed; one new
    array, six passes in place (the separate derivative and product took a second array
    and pass: (8, 32, 256) float32 88 -> 76 us).  Its own derivatives: d/dg is this op on
    the cotangent (the map is diagonal), d/dx = g phi(x) (2 - x^2)."""
    __slots__ = ('cdf',)
    array_backward = True
    save = (0, 1)

    @opmath                 # bfloat16 in float32, as PyTorch's gelu_backward
    def forward(self, xp, g, x, cdf):
        self.cdf = cdf
        d = xp.multiply(x, x, out=xp.empty_like(x))       # (a new array for a 0-d x too)
        d *= -0.5
        xp.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
        d += cdf
        d *= g
        return d

    def backward(self, gg):
        g, x = self.saved_tensors
        needs = self.needs_input_grad
        dg = GeluGrad.apply(gg, x, cdf=self.cdf) if needs[0] else None
        dx = None
        if needs[1]:
            dx = gg * g * (_normal_pdf(x) * (2 - x * x))
        return dg, dx


class Gelu(Pointwise):
    """``x * Phi(x)`` (Phi the standard normal CDF), or its tanh approximation."""
    __slots__ = ('approximate', 'cdf')

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, approximate='none'):
        _float_only('GeluKernelImpl', x)
        self.approximate = approximate
        self.cdf = None
        errstate = getattr(xp, 'errstate', None)     # -inf * 0 is NaN, silently as PyTorch;
        # a huge x^2 overflows to inf quietly (the logistic form's Phi is then exactly 0 or
        # 1), and its exp overflows or underflows quietly
        with errstate(invalid='ignore', over='ignore', under='ignore') if errstate else \
                contextlib.nullcontext():
            if approximate == 'tanh':
                inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
                return 0.5 * x * (1 + xp.tanh(inner))
            # Phi kept for backward (erf costs ~15 exps); GELU written into the spare array
            # (x^2, just read by Horner's rule: in cache), not a third new one
            self.cdf, spare = _normal_cdf(xp, x)
            return x * self.cdf if spare is None else xp.multiply(x, self.cdf, out=spare)

    def backward(self, g):
        x, = self.saved_tensors
        if self.approximate == 'tanh':
            x2 = x * x
            t = Tanh.apply(_SQRT_2_OVER_PI * (x + 0.044715 * x2 * x))
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x2)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
        return GeluGrad.apply(g, x, cdf=self.cdf)


class Silu(Pointwise):
    """``x * sigmoid(x)``; derivative ``s (1 + x (1 - s))``."""
    __slots__ = ()

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x):
        _float_only('silu', x)
        return x * (xp.tanh(x * 0.5) * 0.5 + 0.5)

    def backward(self, g):
        x, = self.saved_tensors
        s = Sigmoid.apply(x)
        return g * (s * (1 + x * (1 - s)))


def _softplus_array(xp, x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Mish(Pointwise):
    """``x * tanh(softplus(x))``."""
    __slots__ = ()

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x):
        _float_only('mish', x)
        return x * xp.tanh(_softplus_array(xp, x))

    def backward(self, g):
        x, = self.saved_tensors
        t = Tanh.apply(Softplus.apply(x, beta=1.0, threshold=20.0))
        return g * (t + x * Sigmoid.apply(x) * (1 - t * t))


class Softplus(Pointwise):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold`` (as PyTorch)."""
    __slots__ = ('beta', 'threshold')

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, beta=1.0, threshold=20.0):
        _float_only('softplus', x)
        self.beta, self.threshold = beta, threshold
        bx = x * beta
        return xp.where(bx > threshold, x, xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta)

    def backward(self, g):
        x, = self.saved_tensors
        bx = x * self.beta
        return Where.apply(bx > self.threshold, g, g * Sigmoid.apply(bx))


class LogSigmoid(Pointwise):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``; derivative ``sigmoid(-x)``."""
    __slots__ = ()

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x):
        _float_only('log_sigmoid_forward', x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        x, = self.saved_tensors
        return g * Sigmoid.apply(-x)


# ----------------------------------------------------------------------------- functions

def relu(input, inplace=False):
    """``max(x, 0)``."""
    return input.relu_() if inplace else input.relu()


def relu_(input):
    return input.relu_()


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input, threshold, value, inplace=False):
    """``x if x > threshold else value``."""
    return _apply(Threshold, input, inplace, threshold=threshold, value=value)


def threshold_(input, threshold, value):
    return Threshold.apply_(input, threshold=threshold, value=value)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError('min_val cannot be greater than max_val')
    return _apply(Hardtanh, input, inplace, min_val=min_val, max_val=max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _apply(LeakyRelu, input, inplace, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return LeakyRelu.apply_(input, negative_slope=negative_slope)


def prelu(input, weight):
    """``x if x > 0 else weight * x``; ``weight`` has 1 or C (= ``input.shape[1]``) entries."""
    if weight.ndim != 1 and weight.numel() != 1:
        raise RuntimeError(f'prelu: Expected `weight` to be a scalar or 1D tensor, but got: '
                           f'ndim = {weight.ndim}')
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1:
        if input.ndim == 0 or weight.numel() != channels:
            raise RuntimeError(f'Mismatch of parameter numbers and input channel size. Found '
                               f'parameter numbers = {weight.numel()} and channel size = '
                               f'{channels}.')
        if input.ndim >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return where(input > 0, input, weight * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: a random slope in ``[lower, upper]`` per element in training,
    the mean slope in evaluation."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slope = autograd.rand(*input.shape, dtype=input.dtype, device=input.device) * \
        (upper - lower) + lower
    src = input.clone() if inplace else input     # the product below keeps its input
    out = where(src >= 0, src, src * slope)
    return input.copy_(out) if inplace else out       # copy_ records the write


def elu(input, alpha=1.0, inplace=False):
    return _apply(Elu, input, inplace, alpha=alpha)


def elu_(input, alpha=1.0):
    return Elu.apply_(input, alpha=alpha)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al."""
    return _apply(Elu, input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError('ZeroDivisionError')
    return _apply(Elu, input, inplace, alpha=alpha, input_scale=1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, approximate='none'):
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate=approximate)


def silu(input, inplace=False):
    return _apply(Silu, input, inplace)


def mish(input, inplace=False):
    return _apply(Mish, input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=beta, threshold=threshold)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def hardsigmoid(input, inplace=False):
    return _apply(Hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    return _apply(Hardswish, input, inplace)


def logsigmoid(input):
    return LogSigmoid.apply(input)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f'lambda must be greater or equal to 0, but found to be {lambd}.')
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0))


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return where((input > lambd) | (input < -lambd), input, input * 0)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``dim``."""
    if input.ndim == 0:
        raise RuntimeError('glu does not support scalars because halving size must be even')
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f'Halving dimension must be even, but dimension '
                           f'{dim % input.ndim} is size {n}')
    a = input.narrow(dim, 0, n // 2)
    b = input.narrow(dim, n // 2, n // 2)
    return a * b.sigmoid()


# ----------------------------------------------------------------------------- softmax family

def _softmax_args(name, input, dim, dtype):
    """``input`` in ``dtype`` and the dim, PyTorch's implicit choice (with its warning) when
    None."""
    if dim is None:
        warnings.warn(f'Implicit dimension choice for {name} has been deprecated. Change the '
                      'call to include dim=X as an argument.', stacklevel=4)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.to(dtype=dtype)
    return input, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    input, dim = _softmax_args('softmax', input, dim, dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x - logsumexp(x)`` along ``dim``."""
    input, dim = _softmax_args('log_softmax', input, dim, dtype)
    return input.log_softmax(dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    input, dim = _softmax_args('softmin', input, dim, dtype)
    return (-input).softmax(dim)

"""Special functions: the gamma family (lgamma, digamma, polygamma, mvlgamma), the error
function family (erfc, erfcx, erfinv) and xlogy/xlog1py, as ops with first and second
derivatives.

NumPy has none of these, so they are computed here in array code that runs on any array
module (``xp``), in float64 (float16/float32 inputs are computed in float64 and rounded
back): one definition for every device, the same numbers on every device, and no
dependency beyond NumPy.  The methods, and their accuracy in float64:

- lgamma: Lanczos' series (g = 7, 9 terms; Numerical Recipes 3rd ed. section 6.1, and
  Pugh's thesis (2004) for the coefficients) for x >= 0.5, the reflection formula
  Gamma(x) Gamma(1 - x) = pi / sin(pi x) below; about 1e-15 absolute.
- digamma: the reflection psi(1 - x) - psi(x) = pi cot(pi x) for x < 0, the recurrence
  psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series in Bernoulli
  numbers (Abramowitz & Stegun 6.3.18); trigamma alike (A&S 6.4.12), and polygamma(n)
  for n >= 2 as (-1)^(n+1) n! zeta(n + 1, x), the Hurwitz zeta function summed to
  x + k >= 15 and finished with its Euler-Maclaurin tail (as Cephes' zeta).
- erfc: 1 - erf(x) for x < 2; for x >= 2 the continued fraction of the scaled function
  erfcx(x) = exp(x^2) erfc(x) (A&S 7.1.14), whose relative error stays at rounding where
  1 - erf(x) would cancel.
- erfinv: Giles' single-precision approximation ("Approximating the erfinv function",
  GPU Computing Gems, 2011), polished by four Newton steps on erf (on log erfc for
  |x| > 0.5, where 1 - |x| is exact).

PyTorch computes trigamma with a shorter series (relative error ~1e-9 near x = 6), so the
two agree there to about that much.
"""
import math
import sys

from ..backend import erf as erf_of_array
from ..backend import get_default_dtype
from ..creation import arange
from ..op import Op, apply_binary, apply_unary
from ._util import IGNORE_ERRORS, broadcast_error, promote, reset_errstate, set_errstate, to_float
from ._util import complex_not_implemented
from .elementwise import Clamp, Exp, Log, Log1p, Sign, Where
from .reduction import Sum

_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_SQRT1_2 = math.sqrt(0.5)

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
# B_2k for k = 1 .. 12 (the Bernoulli numbers of the asymptotic series)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730)


# ----------------------------------------------------------------------------- array code

def _in64(fn):
    """Run array function ``fn(xp, x, ...)`` in float64 and give the input's float dtype."""
    def run(xp, x, *args):
        x = to_float(x)
        out = fn(xp, x.astype('float64', copy=False), *args)
        if out.dtype == x.dtype:
            return out
        with _quiet(xp):        # float64 values beyond float32's range become inf, silently
            return out.astype(x.dtype, copy=False)
    run.__name__ = fn.__name__
    return run


def _sinpi_abs(xp, x):
    """|sin(pi x)|, exact at the integers (argument reduced to [0, 1/2] first)."""
    r = x - xp.floor(x)
    return xp.sin(math.pi * xp.minimum(r, 1.0 - r))


def _cotpi(xp, x):
    """cot(pi x), argument reduced to (-1/2, 1/2] (cot has period 1)."""
    return 1.0 / xp.tan(math.pi * (x - xp.round(x)))


def _lgamma64(xp, x):
    with _quiet(xp):
        small = x < 0.5
        z = xp.where(small, -x, x - 1.0)          # Lanczos at x, or at 1 - x for reflection
        series = xp.full_like(z, _LANCZOS[0])
        for i, c in enumerate(_LANCZOS[1:], 1):
            series = series + c / (z + i)
        t = z + _LANCZOS_G + 0.5
        big = _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(series)
        out = xp.where(small, _LOG_PI - xp.log(_sinpi_abs(xp, x)) - big, big)
        out = xp.where((x == 1.0) | (x == 2.0), 0.0, out)      # exactly, as PyTorch
        return xp.where(xp.isinf(x), xp.inf, out)


def _digamma64(xp, x):
    with _quiet(xp):
        neg = x < 0
        y = xp.where(neg, 1.0 - x, x)
        acc = xp.zeros_like(y)
        for _ in range(10):
            low = y < 10.0
            acc = acc - xp.where(low, 1.0 / y, 0.0)
            y = xp.where(low, y + 1.0, y)
        z = 1.0 / (y * y)
        tail = xp.zeros_like(y)
        for k in range(7, 0, -1):
            tail = z * (_BERNOULLI[k - 1] / (2 * k) + tail)
        out = acc + xp.log(y) - 0.5 / y - tail
        out = xp.where(neg, out - math.pi * _cotpi(xp, x), out)
        out = xp.where(neg & (x == xp.floor(x)), xp.nan, out)
        out = xp.where(x == 0, xp.where(xp.signbit(x), xp.inf, -xp.inf), out)
        return xp.where(x == xp.inf, xp.inf, out)


_FAR_NEGATIVE = 2.0 ** 20


def _hurwitz_zeta64(xp, s, q):
    """zeta(s, q) = sum_k (q + k)^-s for an integer s >= 2, any real q (inf at q a
    non-positive integer): the first terms summed to q + k >= 15 + s, then the
    Euler-Maclaurin tail (Abramowitz & Stegun 23.1.30)."""
    with _quiet(xp):
        pole = (q <= 0) & (q == xp.floor(q))
        # below -2**20 the recurrence would take a million steps per unit of the start:
        # NaN there (docs/DIFFERENCES.md); poles and non-finite q are settled at the end
        far = (q < -_FAR_NEGATIVE) & ~pole
        q0 = xp.where(xp.isfinite(q) & ~pole & ~far, q, 1.0)
        start = float(q0.min()) if q0.size else 0.0
        level = 15.0 + s
        acc = xp.zeros_like(q0)
        a = q0
        for _ in range(max(0, int(math.ceil(level - start)))):
            low = a < level
            acc = acc + xp.where(low, a ** -s, 0.0)
            a = xp.where(low, a + 1.0, a)
        tail = a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
        factor = a ** -s / a                     # (s)_(2j-1) a^(-s-2j+1) / (2j)!, j = 1 ...
        rising = float(s)
        for j in range(1, 13):
            term = _BERNOULLI[j - 1] * rising / math.factorial(2 * j) * factor
            tail = tail + term
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            factor = factor / (a * a)
        out = acc + tail
        out = xp.where(far, xp.nan, out)
        out = xp.where(pole, xp.inf, out)
        out = xp.where(q == xp.inf, 0.0, out)
        return xp.where(xp.isnan(q) | (q == -xp.inf), xp.nan, out)


def _trigamma64(xp, x):
    with _quiet(xp):
        neg = x < 0.5
        y = xp.where(neg, 1.0 - x, x)
        out = _hurwitz_zeta64(xp, 2, y)
        s = _sinpi_abs(xp, x)
        reflected = math.pi ** 2 / (s * s) - out
        return xp.where(neg, reflected, out)


def _polygamma64(xp, x, n):
    if n == 0:
        return _digamma64(xp, x)
    if n == 1:
        return _trigamma64(xp, x)
    sign = 1.0 if n % 2 else -1.0
    return sign * math.factorial(n) * _hurwitz_zeta64(xp, n + 1, x)


def _erfcx_cf(xp, x):
    """exp(x^2) erfc(x) for x >= 2 by the continued fraction of A&S 7.1.14 (90 terms: the
    truncation error is below rounding from x = 2 on)."""
    k = xp.zeros_like(x)
    for n in range(90, 0, -1):
        k = (n / 2.0) / (x + k)
    return 1.0 / (math.sqrt(math.pi) * (x + k))


def _erfcx64(xp, x):
    with _quiet(xp):
        far = x >= 2.0
        xf = xp.where(far, x, 2.0)
        near = xp.exp(x * x) * (1.0 - erf_of_array(xp.where(far, 0.0, x)))
        out = xp.where(far, _erfcx_cf(xp, xf), near)
        return xp.where(x == xp.inf, 0.0, out)


def _erfc64(xp, x):
    with _quiet(xp):
        far = x >= 2.0
        xf = xp.where(far, x, 2.0)
        tail = xp.exp(-xf * xf) * _erfcx_cf(xp, xf)
        return xp.where(far, tail, 1.0 - erf_of_array(xp.where(far, 0.0, x)))


def _erfinv64(xp, x):
    with _quiet(xp):
        a = xp.abs(x)
        w = -xp.log((1.0 - a) * (1.0 + a))
        w1 = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p1 = c + p1 * w1
        w2 = xp.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p2 = c + p2 * w2
        y = xp.where(w < 5.0, p1, p2) * a
        inner = a <= 0.5
        log_tail = xp.log(xp.where(inner, 0.5, 1.0 - a))    # 1 - a is exact for a > 1/2
        for _ in range(4):
            # Newton on erf(y) = a inside; in the tails on log erfc(y) = log(1 - a), with
            # log erfc(y) = log erfcx(y) - y^2 (nearly linear in y^2, no underflow)
            e = _erfcx64(xp, xp.where(inner, 2.0, y))
            step_tail = (xp.log(e) - y * y - log_tail) * (math.sqrt(math.pi) / 2.0) * e
            step_inner = (erf_of_array(y) - a) / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
            y = y - xp.where(inner, step_inner, -step_tail)
        y = xp.where(a == 1.0, xp.inf, y)
        y = xp.where(a > 1.0, xp.nan, y)
        return xp.copysign(y, x)


def _gammainc64(xp, a, x, upper=False):
    """The regularised incomplete gamma functions P(a, x) (or Q = 1 - P, ``upper``): the
    series of A&S 6.5.29 where x < a + 1, else the continued fraction of A&S 6.5.31 by the
    modified Lentz method (Numerical Recipes 3rd ed. section 6.2), each summed for a fixed
    number of terms on every element, enough for float64 at the arguments the series or the
    fraction is used for (up to a ~ 1e4)."""
    with _quiet(xp):
        a, x = xp.broadcast_arrays(a, x)
        use_series = x < a + 1.0
        log_prefix = a * xp.log(x) - x - _lgamma64(xp, a)
        # series: P = prefix / a * sum_n x^n / ((a + 1) ... (a + n))
        xs = xp.where(use_series, x, 0.0)
        term = 1.0 / a
        total = term
        ap = a
        for _ in range(400):
            ap = ap + 1.0
            term = term * xs / ap
            total = total + term
        p_series = xp.exp(log_prefix) * total
        # continued fraction for Q
        xc = xp.where(use_series, a + 2.0, x)
        tiny = 1e-300
        b = xc + 1.0 - a
        c = xp.full_like(b, 1.0 / tiny)
        d = 1.0 / b
        h = d
        for i in range(1, 400):
            an = -i * (i - a)
            b = b + 2.0
            d = an * d + b
            d = xp.where(xp.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = xp.where(xp.abs(c) < tiny, tiny, c)
            d = 1.0 / d
            h = h * d * c
        q_fraction = xp.exp(log_prefix) * h
        lower = xp.where(use_series, p_series, 1.0 - q_fraction)
        upper_v = xp.where(use_series, 1.0 - p_series, q_fraction)
        out = upper_v if upper else lower
        out = xp.where(x == 0, 1.0 if upper else 0.0, out)
        out = xp.where(x == xp.inf, 0.0 if upper else 1.0, out)
        return xp.where((a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x), xp.nan, out)


def _bessel_i64(xp, x, nu, scaled):
    """The modified Bessel function I_nu(x) for nu = 0 or 1 (times exp(-|x|) if
    ``scaled``): its power series (A&S 9.6.10; positive terms, so no cancellation) for
    |x| <= 20, the asymptotic series (A&S 9.7.1; its smallest term is below rounding from
    |x| = 20 on) above."""
    with _quiet(xp):
        a = xp.abs(x)
        near = a <= 20.0
        s = xp.where(near, a, 0.0)
        q = s * s / 4.0
        term = xp.ones_like(s) if nu == 0 else s / 2.0
        series = term
        for k in range(1, 60):
            term = term * q / (k * (k + nu))
            series = series + term
        if scaled:
            series = series * xp.exp(-s)
        big = xp.where(near, 21.0, a)
        mu = 4.0 * nu * nu
        term = xp.ones_like(big)
        tail = term
        for k in range(1, 30):
            term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * big)
            tail = tail + term
        tail = tail / xp.sqrt(2.0 * math.pi * big)
        if not scaled:
            tail = tail * xp.exp(big)
        out = xp.where(near, series, tail)
        # at +-inf PyTorch's Cephes form exp(x) chbevl(..) / sqrt(x) is inf / inf: NaN
        out = xp.where(a == xp.inf, 0.0 if scaled else xp.nan, out)
        return out if nu == 0 else xp.copysign(out, x)


class _quiet:
    """NumPy's warnings off (overflow, division by zero, invalid) while a special function
    computes: its infinities and NaNs are deliberate, and PyTorch is silent."""
    __slots__ = ('token',)

    def __init__(self, xp):
        self.token = None

    def __enter__(self):
        if set_errstate is not None:
            self.token = set_errstate(IGNORE_ERRORS)

    def __exit__(self, *exc):
        if self.token is not None:
            reset_errstate(self.token)


lgamma_array = _in64(_lgamma64)
digamma_array = _in64(_digamma64)
polygamma_array = _in64(_polygamma64)
erfc_array = _in64(_erfc64)
erfcx_array = _in64(_erfcx64)
erfinv_array = _in64(_erfinv64)


# ----------------------------------------------------------------------------- ops

class Lgamma(Op):
    """log|Gamma(x)|; d/dx = digamma(x)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return lgamma_array(xp, a)

    def backward(self, g):
        a, = self.saved_tensors
        return g * apply_unary(Digamma, a)


class Digamma(Op):
    """psi(x) = d/dx log Gamma(x); d/dx = polygamma(1, x)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return digamma_array(xp, a)

    def backward(self, g):
        a, = self.saved_tensors
        return g * Polygamma.apply(a, n=1)


class Polygamma(Op):
    """The n-th derivative of digamma; d/dx = polygamma(n + 1, x)."""
    __slots__ = ('n',)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, n=1):
        self.n = n
        return polygamma_array(xp, a, n)

    def backward(self, g):
        a, = self.saved_tensors
        return g * Polygamma.apply(a, n=self.n + 1)


class Erfc(Op):
    """1 - erf(x) without cancellation; d/dx = -2/sqrt(pi) exp(-x^2)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return erfc_array(xp, a)

    def backward(self, g):
        a, = self.saved_tensors
        return g * (-_TWO_OVER_SQRT_PI) * apply_unary(Exp, -(a * a))


class Erfcx(Op):
    """exp(x^2) erfc(x); d/dx = 2 x erfcx(x) - 2/sqrt(pi)."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a):
        return erfcx_array(xp, a)

    def backward(self, g):
        a, y = self.saved_tensors
        return g * (2.0 * a * y - _TWO_OVER_SQRT_PI)


class Erfinv(Op):
    """The inverse of erf on (-1, 1); d/dx = sqrt(pi)/2 exp(erfinv(x)^2)."""
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        return erfinv_array(xp, a)

    def backward(self, g):
        y, = self.saved_tensors
        return g * _SQRT_PI_OVER_2 * apply_unary(Exp, y * y)


class BesselI(Op):
    """I0, I1 (and their scaled forms I0e = exp(-|x|) I0, I1e): d/dx I0 = I1,
    d/dx I1 = I0 - I1 / x (1/2 at 0); d/dx I0e = I1e - sign(x) I0e,
    d/dx I1e = I0e - I1e (sign(x) + 1/x)."""
    __slots__ = ('nu', 'scaled')
    array_backward = True
    save = (0,)

    def forward(self, xp, a, nu=0, scaled=False):
        self.nu, self.scaled = nu, scaled
        return _in64(_bessel_i64)(xp, a, nu, scaled)

    def backward(self, g):
        x, = self.saved_tensors
        scaled = self.scaled
        i0 = BesselI.apply(x, nu=0, scaled=scaled)
        i1 = BesselI.apply(x, nu=1, scaled=scaled)
        if self.nu == 0:
            d = i1 - apply_unary(Sign, x) * i0 if scaled else i1
        else:
            # I1(x) / x, with its limit 1/2 at 0 (x = 0 replaced by 1 where it is divided)
            zero = x == 0
            safe = Where.apply(zero, 1.0, x)
            ratio = Where.apply(zero, 0.5, i1 / safe)
            d = i0 - ratio - apply_unary(Sign, x) * i1 if scaled else i0 - ratio
        return g * d


def _float_pair(xp, a, b):
    """Operands of xlogy/xlog1py promoted to one floating dtype (numbers stay numbers)."""
    if a.__class__ is bool:
        a = float(a)
    if getattr(a, 'dtype', None) is not None and a.dtype.kind == 'b':
        a = to_float(a)
    a, b = promote(a, b)
    if getattr(a, 'dtype', None) is not None and a.dtype.kind != 'f':
        a = to_float(a)
    if getattr(b, 'dtype', None) is not None and b.dtype.kind != 'f':
        b = to_float(b)
    return a, b


class XLogY(Op):
    """x log(y), 0 where x == 0 (unless y is NaN); d/dx = xlogy(x != 0, y), d/dy = x / y."""
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    fn = 'log'

    def forward(self, xp, a, b):
        a, b = _float_pair(xp, a, b)
        with _quiet(xp):
            try:
                out = a * getattr(xp, self.fn)(b)
            except ValueError:
                raise broadcast_error('xlogy' if self.fn == 'log' else 'xlog1py', a, b) from None
            return xp.where((xp.asarray(a) == 0) & ~xp.isnan(b), 0.0, out).astype(out.dtype)

    def backward(self, g):
        a, b = self.saved_tensors
        ga = gb = None
        if self._next[0] is not None:
            ga = g * apply_binary(type(self), a != 0, b)
        if self._next[1] is not None:
            gb = g * a / (b if self.fn == 'log' else b + 1.0)
        return ga, gb


class XLog1pY(XLogY):
    """x log1p(y), 0 where x == 0 (unless y is NaN); d/dx = xlog1py(x != 0, y),
    d/dy = x / (1 + y)."""
    __slots__ = ()
    fn = 'log1p'


class GammaInc(Op):
    """The regularised lower incomplete gamma function P(a, x) (``upper``: Q = 1 - P).
    d/dx = +-x^(a-1) e^-x / Gamma(a); as in PyTorch, there is no derivative in ``a``."""
    __slots__ = ('upper',)
    array_backward = True
    save = (0, 1)

    def forward(self, xp, a, x, upper=False):
        self.upper = upper
        a, x = _float_pair(xp, a, x)
        dt = (x if getattr(x, 'dtype', None) is not None else a).dtype
        a64, x64 = (xp.asarray(v, dtype='float64') for v in (a, x))
        return _gammainc64(xp, a64, x64, upper).astype(dt)

    def backward(self, g):
        a, x = self.saved_tensors
        if self._next[0] is not None:
            name = 'gammaincc' if self.upper else 'gammainc'
            raise NotImplementedError(f"the derivative for '{name}' with respect to 'input' is "
                                      'not implemented.')
        density = apply_unary(Exp, (a - 1.0) * apply_unary(Log, x) - x - apply_unary(Lgamma, a))
        return None, (-g if self.upper else g) * density


# ----------------------------------------------------------------------------- functions

def lgamma(input):
    """``log|Gamma(input)|`` elementwise (``+inf`` at the non-positive integers)."""
    return apply_unary(Lgamma, input)


def digamma(input):
    """``d/dx log Gamma(x)`` elementwise (``-inf`` at 0, NaN at the negative integers)."""
    return apply_unary(Digamma, input)


def polygamma(n, input):
    """The ``n``-th derivative of digamma (``n >= 0``) of ``input``, elementwise."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f'{type(n).__name__}')
    if n < 0:
        raise RuntimeError('polygamma(n, x) does not support negative n.')
    if n == 0:
        return digamma(input)
    return Polygamma.apply(input, n=n)


def _polygamma_method(self, n):
    return polygamma(n, self)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(input - i / 2)`` (defined for elements
    greater than ``(p - 1) / 2``; PyTorch 2.13 no longer checks that, nor do we)."""
    if p < 1:
        raise RuntimeError('p has to be greater than or equal to 1')
    if not input.is_floating_point():
        raise RuntimeError('mvlgamma: input must be a floating point tensor, got '
                           f'{input.dtype}')
    shifts = arange(p, dtype=input.dtype, device=input.device) * 0.5
    terms = lgamma(input.unsqueeze(-1) - shifts)
    return Sum.apply(terms, dim=-1) + p * (p - 1) / 4 * _LOG_PI


def erfc(input):
    """``1 - erf(input)``, accurate where erf is near 1."""
    return apply_unary(Erfc, input)


def erfcx(input):
    """The scaled complementary error function ``exp(input^2) erfc(input)``."""
    return apply_unary(Erfcx, input)


def erfinv(input):
    """The inverse error function (``+-inf`` at ``+-1``, NaN outside [-1, 1])."""
    return apply_unary(Erfinv, input)


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (either may be a number)."""
    return apply_binary(XLogY, input, other)


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (either may be a number)."""
    return apply_binary(XLog1pY, input, other)


def gammainc(input, other):
    """The regularised lower incomplete gamma function ``P(input, other)``."""
    return GammaInc.apply(input, other, upper=False)


def gammaincc(input, other):
    """The regularised upper incomplete gamma function ``Q(input, other) = 1 - P``."""
    return GammaInc.apply(input, other, upper=True)


def i0(input):
    """The modified Bessel function of the first kind of order 0."""
    return BesselI.apply(input, nu=0, scaled=False)


def i0e(input):
    """``exp(-|input|) * i0(input)``."""
    return BesselI.apply(input, nu=0, scaled=True)


def i1(input):
    """The modified Bessel function of the first kind of order 1."""
    return BesselI.apply(input, nu=1, scaled=False)


def i1e(input):
    """``exp(-|input|) * i1(input)``."""
    return BesselI.apply(input, nu=1, scaled=True)


class Logit(Op):
    """``log(p / (1 - p))`` (PyTorch's form), with ``p`` clamped to ``[eps, 1 - eps]`` when
    eps is given.  d/dp = 1 / (p (1 - p)) inside ``[eps, 1 - eps]`` (``[0, 1]`` without
    eps); outside it 0 with eps, NaN without, as PyTorch's
    infinitely_differentiable_logit_backward (whose ``where`` second derivatives follow)."""
    __slots__ = ('eps',)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, eps=None):
        self.eps = eps
        with _quiet(xp):
            p = a if eps is None else xp.clip(a, eps, 1.0 - eps)
            return xp.log(p / (1 - p))

    def backward(self, g):
        x, = self.saved_tensors
        lo = 0.0 if self.eps is None else self.eps
        inside = (x >= lo) & (x <= 1.0 - lo)
        return Where.apply(inside, g / (x * (1 - x)), math.nan if self.eps is None else 0.0)


def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when eps is given (the
    gradient is 0 outside that interval, NaN outside [0, 1] without eps, as PyTorch's).
    Integer and bool input is read as the default float dtype."""
    if not input.is_floating_point():
        if input.dtype.is_complex:      # the cast would drop the imaginary part
            raise complex_not_implemented(sys._getframe(0), input._data.dtype)
        input = input.to(get_default_dtype())
    return Logit.apply(input, eps=None if eps is None else float(eps))


FUNCTIONS = ['lgamma', 'digamma', 'polygamma', 'mvlgamma', 'erfc', 'erfinv', 'xlogy', 'logit',
             'i0']
METHODS = ['lgamma', 'digamma', 'mvlgamma', 'erfc', 'erfinv', 'xlogy', 'logit', 'i0']
INPLACE = {'lgamma_': Lgamma, 'digamma_': Digamma, 'erfc_': Erfc, 'erfinv_': Erfinv,
           'xlogy_': XLogY}

OPERATORS = {'polygamma': _polygamma_method}

"""``autograd.special`` (= ``torch.special``): special functions under PyTorch's names.

Most are the library's ops under another name (``gammaln`` is ``lgamma``, ``expit`` is
``sigmoid``); the rest are composed of ops.  All have first and second derivatives where
PyTorch has them (``gammainc``/``gammaincc`` in their second argument only, as PyTorch).
"""
import math

from .creation import zeros_like
from .ops.elementwise import erf, exp2, expm1, log, log1p, round, sigmoid, sin, where
from .ops.reduction import log_softmax, logsumexp, softmax
from .ops.special import (digamma, erfc, erfcx, erfinv, gammainc, gammaincc, i0, i0e, i1, i1e,
                          lgamma, logit, mvlgamma, polygamma, xlog1py, xlogy)

__all__ = ['gammaln', 'digamma', 'psi', 'polygamma', 'multigammaln', 'erf', 'erfc', 'erfcx',
           'erfinv', 'expit', 'logit', 'xlogy', 'xlog1py', 'ndtr', 'ndtri', 'log_ndtr', 'entr',
           'sinc', 'log1p', 'expm1', 'exp2', 'logsumexp', 'softmax', 'log_softmax', 'round',
           'gammainc', 'gammaincc', 'i0', 'i0e', 'i1', 'i1e']

_SQRT1_2 = math.sqrt(0.5)
_SQRT2 = math.sqrt(2.0)

gammaln = lgamma
psi = digamma
expit = sigmoid


def multigammaln(input, p):
    """The log multivariate gamma function of dimension ``p`` (``mvlgamma``)."""
    return mvlgamma(input, p)


def ndtr(input):
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail)."""
    return erfc(input * -_SQRT1_2) * 0.5


def ndtri(input):
    """The standard normal quantile function, ``sqrt(2) erfinv(2 p - 1)``."""
    return erfinv(input * 2.0 - 1.0) * _SQRT2


def log_ndtr(input):
    """``log(ndtr(x))`` without underflow: in the lower tail (x < -1) as
    ``log(erfcx(-x / sqrt 2) / 2) - x^2 / 2``."""
    low = input < -1.0
    t = where(low, input, zeros_like(input) - 1.0) * -_SQRT1_2
    lower = log(erfcx(t) * 0.5) - t * t
    upper = log1p(erfc(where(low, zeros_like(input), input) * _SQRT1_2) * -0.5)
    return where(low, lower, upper)


def entr(input):
    """The entropy term ``-x log(x)``: 0 at 0, ``-inf`` for x < 0."""
    positive = input > 0
    safe = where(positive, input, zeros_like(input) + 1.0)
    value = -safe * log(safe)
    return where(positive, value, where(input == 0, zeros_like(input),
                                        zeros_like(input) - math.inf))


def sinc(input):
    """The normalised sinc ``sin(pi x) / (pi x)``, 1 at 0."""
    zero = input == 0
    x = where(zero, zeros_like(input) + 1.0, input) * math.pi
    return where(zero, zeros_like(x) + 1.0, sin(x) / x)

"""Samplers of the distributions (``torch._standard_gamma``, ``torch._sample_dirichlet``,
``torch.poisson``, ``torch.binomial``), drawn on the input's device from the project's
generator (``creation.rng_of``: ``manual_seed`` seeds it), and the implicit
reparameterisation gradients of the gamma and Dirichlet samplers.

Implicit reparameterisation (Figurnov, Mohamed & Mnih, "Implicit Reparameterization
Gradients", NeurIPS 2018): a sample x = F^-1(u; alpha) moves with alpha as
dx/dalpha = -(dF(x; alpha)/dalpha) / f(x; alpha), with F the CDF and f the density.
``_standard_gamma_grad`` and ``_dirichlet_grad`` approximate that quotient exactly as
PyTorch does (aten/src/ATen/native/Distributions.h: a Taylor series for small x, Rice's
saddle-point expansion for large alpha, and fitted rational corrections elsewhere), so a
given sample gets PyTorch's gradient.  Like PyTorch's, those gradients have no derivative
of their own (no double backward through a gamma sample).
"""
from ..creation import rng_of
from ..op import Op
from ._util import to_float
from .reduction import Sum
from .shape import BroadcastTo
from .special import _digamma64, _quiet


def _draw(rng, method, *params):
    """``rng.<method>(*params)`` in float64 (CuPy's and NumPy's generators both take
    array parameters and broadcast them)."""
    return getattr(rng, method)(*params)


# ----------------------------------------------------------------------------- gamma

def _standard_gamma_grad64(xp, alpha, x):
    """PyTorch's ``standard_gamma_grad_one``, elementwise on float64 arrays."""
    with _quiet(xp):
        # Taylor series for small x
        numer = xp.ones_like(x)
        denom = alpha.copy()
        series1 = numer / denom
        series2 = numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1.0
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** alpha
        gamma_pdf = x ** (alpha - 1.0) * xp.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (xp.log(x) - _digamma64(xp, alpha)) * gamma_cdf - pow_x_alpha * series2
        small = -gamma_cdf_alpha / gamma_pdf
        small = xp.where(xp.isnan(small), 0.0, small)

        # Rice saddle point expansion for large alpha
        numer_1 = 1.0 + 24.0 * alpha * (1.0 + 12.0 * alpha)
        numer_2 = 1440.0 * (alpha * alpha) + 6.0 * x * (53.0 - 120.0 * x) \
            - 65.0 * x * x / alpha + alpha * (107.0 + 3600.0 * x)
        near_mean = numer_1 * numer_2 / (1244160.0 * (alpha * alpha) * (alpha * alpha))
        denom = xp.sqrt(8.0 * alpha)
        term2 = denom / (alpha - x)
        term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
        term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
        term1 = xp.log(x / alpha) * term23 - \
            xp.sqrt(2.0 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1.0 + 1.0 / (12.0 * alpha) * (1.0 + 1.0 / (24.0 * alpha))
        saddle = -stirling * (x * term1) / denom
        # float32 constants 0.9f and 1.1f, as PyTorch compares them
        large = xp.where((0.8999999761581421 * alpha <= x) & (x <= 1.100000023841858 * alpha),
                         near_mean, saddle)

        # bivariate rational approximation elsewhere
        u = xp.log(x / alpha)
        v = xp.log(alpha)
        coef_v = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_COEF_UV)]
        p = coef_v[0] + v * (coef_v[1] + v * (coef_v[2] + v * coef_v[3]))
        q = coef_v[4] + v * (coef_v[5] + v * (coef_v[6] + v * coef_v[7]))
        rational = xp.exp(p / q)
        return xp.where(x < 0.800000011920929, small, xp.where(alpha > 8.0, large, rational))


_GAMMA_COEF_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)


class StandardGammaGrad(Op):
    """d sample / d alpha of standard gamma samples ``x`` at concentration ``alpha``."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, alpha, x):
        alpha, x = xp.broadcast_arrays(to_float(alpha), to_float(x))
        dt = x.dtype
        return _standard_gamma_grad64(xp, alpha.astype('float64'), x.astype('float64')).astype(dt)


class StandardGamma(Op):
    """Samples of Gamma(alpha, 1); gradient by implicit reparameterisation."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, alpha, rng=None):
        alpha = to_float(alpha)
        return _draw(rng, 'standard_gamma', alpha.astype('float64')).astype(alpha.dtype)

    def backward(self, g):
        alpha, x = self.saved_tensors
        return g * StandardGammaGrad.apply(alpha, x)


def _standard_gamma(input, generator=None):
    """Samples of the standard gamma distribution with concentration ``input`` (same shape,
    dtype and device); differentiable in ``input`` (implicit reparameterisation)."""
    return StandardGamma.apply(input, rng=rng_of(input.device, generator))


def _standard_gamma_grad(input, output):
    """The derivative of standard gamma samples ``output`` w.r.t. their concentration
    ``input`` (PyTorch's approximation, elementwise)."""
    return StandardGammaGrad.apply(input, output)


# ----------------------------------------------------------------------------- Dirichlet

def _beta_grad_alpha_small(xp, x, alpha, beta):
    factor = _digamma64(xp, alpha) - _digamma64(xp, alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1.0 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1.0 / denom)
    result = x * (1.0 - x) ** -beta * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_beta_small(xp, x, alpha, beta):
    factor = _digamma64(xp, alpha + beta) - _digamma64(xp, beta)
    numer = xp.ones_like(x)
    betas = xp.ones_like(x)
    dbetas = xp.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1.0 - x) ** (1.0 - beta) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(xp, x, alpha, beta):
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1.0)) / total
    b2 = beta * beta
    poly = 47.0 * x * b2 * b2 + alpha * (
        (43.0 + 20.0 * (16.0 + 27.0 * beta) * x) * b2 * beta + alpha * (
            3.0 * (59.0 + 180.0 * beta - 90.0 * x) * b2 + alpha * (
                (453.0 + 1620.0 * beta * (1.0 - x) - 455.0 * x) * beta + alpha * (
                    8.0 * (1.0 - x) * (135.0 * beta - 11.0)))))
    prefactor_num = (1.0 + 12.0 * alpha) * (1.0 + 12.0 * beta) / (total * total)
    prefactor_den = 12960.0 * alpha * alpha * alpha * beta * beta * (1.0 + 12.0 * total)
    at_mean = prefactor_num / (1.0 - x) * poly / prefactor_den

    prefactor = -x / xp.sqrt(2.0 * alpha * beta / total)
    stirling = (1.0 + 1.0 / (12.0 * alpha) + 1.0 / (288.0 * alpha * alpha)) \
        * (1.0 + 1.0 / (12.0 * beta) + 1.0 / (288.0 * beta * beta)) \
        / (1.0 + 1.0 / (12.0 * total) + 1.0 / (288.0 * total * total))
    term1_num = 2.0 * (alpha * alpha) * (x - 1.0) + alpha * beta * (x - 1.0) - x * b2
    axbx = alpha * (x - 1.0) + beta * x
    term1_den = xp.sqrt(2.0 * alpha / beta) * total ** 1.5 * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8.0 * alpha * beta / total) / (beta * x + alpha * (x - 1.0))
    term4_base = beta * xp.log(beta / (total * (1.0 - x))) + alpha * xp.log(alpha / (total * x))
    term4 = term4_base ** -1.5
    term1234 = term1 + term2 * (term3 + xp.where(x < mean, term4, -term4))
    away = stirling * prefactor * term1234
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), at_mean, away)


_DIRICHLET_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)


def _dirichlet_grad64(xp, x, alpha, total):
    """PyTorch's ``dirichlet_grad_one``: -(dF/dalpha) / f / (1 - x) for x ~ Beta(alpha,
    total - alpha), elementwise on float64 arrays."""
    with _quiet(xp):
        beta = total - alpha
        boundary = total * x * (1.0 - x)
        u = xp.log(x)
        a = xp.log(alpha) - u
        b = xp.log(total) - a
        pow_u = (1.0, u, u * u)
        pow_a = (1.0, a, a * a)
        p = q = 0.0
        for i in range(3):
            for j in range(3):
                ua = pow_u[i] * pow_a[j]
                c, d = _DIRICHLET_C[0][i][j], _DIRICHLET_C[1][i][j]
                p = p + ua * (c[0] + b * (c[1] + b * (c[2] + b * c[3])))
                q = q + ua * (d[0] + b * (d[1] + b * (d[2] + b * d[3])))
        approx = x * (_digamma64(xp, total) - _digamma64(xp, alpha)) / beta
        out = p / q * approx
        out = xp.where((alpha > 6.0) & (beta > 6.0), _beta_grad_alpha_mid(xp, x, alpha, beta), out)
        out = xp.where((x >= 0.5) & (boundary < 0.75),
                       -_beta_grad_beta_small(xp, 1.0 - x, beta, alpha), out)
        return xp.where((x <= 0.5) & (boundary < 2.5),
                        _beta_grad_alpha_small(xp, x, alpha, beta), out)


class DirichletGrad(Op):
    """``torch._dirichlet_grad(x, alpha, total)``: elementwise, not differentiable."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, x, alpha, total):
        x, alpha, total = xp.broadcast_arrays(to_float(x), to_float(alpha), to_float(total))
        dt = x.dtype
        f64 = [a.astype('float64') for a in (x, alpha, total)]
        return _dirichlet_grad64(xp, *f64).astype(dt)


class SampleDirichlet(Op):
    """Samples of Dirichlet(alpha) over the last dim (normalised gamma samples); the
    gradient is PyTorch's ``_Dirichlet_backward``."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, alpha, rng=None):
        alpha = to_float(alpha)
        gammas = _draw(rng, 'standard_gamma', alpha.astype('float64'))
        tiny = xp.finfo(alpha.dtype).tiny
        gammas = xp.maximum(gammas, tiny)
        return (gammas / gammas.sum(-1, keepdims=True)).astype(alpha.dtype)

    def backward(self, g):
        alpha, x = self.saved_tensors
        total = BroadcastTo.apply(Sum.apply(alpha, dim=-1, keepdim=True), shape=tuple(alpha.shape))
        grad = DirichletGrad.apply(x, alpha, total)
        return grad * (g - Sum.apply(x * g, dim=-1, keepdim=True))


def _sample_dirichlet(input, generator=None):
    """Samples of the Dirichlet distribution with concentration ``input`` (over its last
    dim), differentiable in ``input`` as PyTorch's ``Dirichlet.rsample``."""
    return SampleDirichlet.apply(input, rng=rng_of(input.device, generator))


def _dirichlet_grad(x, alpha, total):
    return DirichletGrad.apply(x, alpha, total)


# ----------------------------------------------------------------------------- counts

class Poisson(Op):
    __slots__ = ()
    differentiable = False

    def forward(self, xp, rate, rng=None):
        rate = to_float(rate)
        if bool((rate < 0).any()) or bool(xp.isnan(rate).any()):
            raise RuntimeError('invalid Poisson rate, expected rate to be non-negative')
        return _draw(rng, 'poisson', rate.astype('float64')).astype(rate.dtype)


def poisson(input, generator=None):
    """Counts drawn from Poisson(``input``), in ``input``'s float dtype and device."""
    return Poisson.apply(input, rng=rng_of(input.device, generator))


class Binomial(Op):
    __slots__ = ()
    differentiable = False

    def forward(self, xp, count, prob, rng=None):
        count, prob = xp.broadcast_arrays(to_float(count), to_float(prob))
        n = xp.floor(count.astype('float64')).astype('int64')
        p = prob.astype('float64')
        return _draw(rng, 'binomial', n, p).astype(count.dtype)


def binomial(count, prob, generator=None):
    """Successes of ``count`` trials of probability ``prob`` (broadcast), as floats."""
    return Binomial.apply(count, prob, rng=rng_of(count.device, generator))


FUNCTIONS = ['_standard_gamma', '_standard_gamma_grad', '_sample_dirichlet', '_dirichlet_grad',
             'poisson', 'binomial']

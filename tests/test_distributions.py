"""autograd.distributions against torch.distributions, given the same float64 parameters
(batched and broadcast): log_prob, cdf, icdf, entropy, mean, mode, variance, stddev,
shapes and supports; gradients of log_prob/entropy/KL with respect to the parameters;
rsample's reparameterised gradients (Gamma/Beta/Dirichlet against PyTorch's implicit
gradients and the CDF's finite differences); statistical tests of every sampler (moments
and a Kolmogorov-Smirnov or chi-square test at a fixed seed, on the test device); the
closed-form KL divergences; argument validation (PyTorch's exception types and messages).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import autograd.distributions as D
from oracle import to_numpy, torch

stats = pytest.importorskip('scipy.stats')
TD = torch.distributions
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
RTOL, ATOL = 1e-9, 1e-11


def rng(seed=0):
    return np.random.default_rng(seed)


def positive(*shape, seed=0, low=0.3, high=3.0):
    return rng(seed).uniform(low, high, shape)


def real(*shape, seed=0):
    return rng(seed).normal(size=shape)


def unit(*shape, seed=0):
    return rng(seed).uniform(0.05, 0.95, shape)


def simplex(*shape, seed=0):
    p = rng(seed).uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def lib_tensor(lib, a, requires_grad=False):
    if isinstance(a, np.ndarray):
        return lib.tensor(a, requires_grad=requires_grad and a.dtype.kind == 'f')
    return a


# name -> (class name, parameter arrays (by keyword), values at which to evaluate log_prob)
# Parameters of shape (2, 3) or (3,) broadcast against each other; values broadcast too.
FAMILIES = {
    'Normal': ('Normal', dict(loc=real(2, 3), scale=positive(3, seed=1)), real(4, 2, 3, seed=2)),
    'LogNormal': ('LogNormal', dict(loc=real(2, 3), scale=positive(3, seed=1)),
                  positive(4, 2, 3, seed=2)),
    'Uniform': ('Uniform', dict(low=real(2, 3) - 2, high=positive(2, 3, seed=1)),
                unit(4, 2, 3, seed=2) * 0.5),
    'Exponential': ('Exponential', dict(rate=positive(2, 3)), positive(4, 2, 3, seed=2)),
    'Laplace': ('Laplace', dict(loc=real(2, 3), scale=positive(3, seed=1)), real(4, 2, 3, seed=2)),
    'Cauchy': ('Cauchy', dict(loc=real(2, 3), scale=positive(3, seed=1)), real(4, 2, 3, seed=2)),
    'Gamma': ('Gamma', dict(concentration=positive(2, 3, high=5), rate=positive(3, seed=1)),
              positive(4, 2, 3, seed=2)),
    'Beta': ('Beta', dict(concentration1=positive(2, 3, high=5),
                          concentration0=positive(3, seed=1, high=5)), unit(4, 2, 3, seed=2)),
    'Dirichlet': ('Dirichlet', dict(concentration=positive(2, 4, high=5)), simplex(3, 2, 4, seed=2)),
    'Bernoulli_probs': ('Bernoulli', dict(probs=unit(2, 3)),
                        rng(2).integers(0, 2, (4, 2, 3)).astype(float)),
    'Bernoulli_logits': ('Bernoulli', dict(logits=real(2, 3)),
                         rng(2).integers(0, 2, (4, 2, 3)).astype(float)),
    'Geometric': ('Geometric', dict(probs=unit(2, 3)), rng(2).integers(0, 6, (4, 2, 3)).astype(float)),
    'Poisson': ('Poisson', dict(rate=positive(2, 3, high=6)),
                rng(2).integers(0, 8, (4, 2, 3)).astype(float)),
    'Binomial': ('Binomial', dict(total_count=10, probs=unit(2, 3)),
                 rng(2).integers(0, 11, (4, 2, 3)).astype(float)),
    'Binomial_logits': ('Binomial', dict(total_count=7, logits=real(2, 3)),
                        rng(2).integers(0, 8, (4, 2, 3)).astype(float)),
    'Categorical_probs': ('Categorical', dict(probs=simplex(2, 5)), rng(2).integers(0, 5, (4, 2))),
    'Categorical_logits': ('Categorical', dict(logits=real(2, 5)), rng(2).integers(0, 5, (4, 2))),
    'OneHotCategorical': ('OneHotCategorical', dict(probs=simplex(2, 5)),
                          np.eye(5)[rng(2).integers(0, 5, (4, 2))]),
    'Multinomial': ('Multinomial', dict(total_count=6, probs=simplex(2, 4)),
                    rng(2).multinomial(6, [0.25] * 4, (3, 2)).astype(float)),
    'RelaxedBernoulli': ('RelaxedBernoulli', dict(temperature=0.7, probs=unit(2, 3)),
                         unit(4, 2, 3, seed=2)),
    'RelaxedOneHotCategorical': ('RelaxedOneHotCategorical', dict(temperature=0.7,
                                                                 logits=real(2, 4)),
                                 simplex(3, 2, 4, seed=2)),
}


def spd(*batch, n=3, seed=0):
    """Symmetric positive definite matrices (a batch of them)."""
    a = rng(seed).normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def lower(*batch, n=3, seed=0):
    return np.linalg.cholesky(spd(*batch, n=n, seed=seed))


FAMILIES.update({
    'MVN_covariance': ('MultivariateNormal', dict(loc=real(2, 3), covariance_matrix=spd(2)),
                       real(4, 2, 3, seed=2)),
    'MVN_precision': ('MultivariateNormal', dict(loc=real(3), precision_matrix=spd(2, seed=1)),
                      real(4, 2, 3, seed=2)),
    'MVN_scale_tril': ('MultivariateNormal', dict(loc=real(2, 3), scale_tril=lower(seed=3)),
                       real(4, 1, 3, seed=2)),
})


def corr_cholesky(*batch, n=3, seed=0):
    c = spd(*batch, n=n, seed=seed)
    d = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    return np.linalg.cholesky(c / d[..., :, None] / d[..., None, :])


# the rest of PyTorch's families
FAMILIES.update({
    'Chi2': ('Chi2', dict(df=positive(2, 3, high=6)), positive(4, 2, 3, seed=2)),
    'StudentT': ('StudentT', dict(df=positive(2, 3, low=1, high=6), loc=real(3), scale=positive(3)),
                 real(4, 2, 3, seed=2)),
    'HalfNormal': ('HalfNormal', dict(scale=positive(2, 3)), positive(4, 2, 3, seed=2)),
    'HalfCauchy': ('HalfCauchy', dict(scale=positive(2, 3)), positive(4, 2, 3, seed=2)),
    'Gumbel': ('Gumbel', dict(loc=real(2, 3), scale=positive(3)), real(4, 2, 3, seed=2)),
    'Pareto': ('Pareto', dict(scale=positive(2, 3, high=1), alpha=positive(3, low=2.5, high=5)),
               1.0 + positive(4, 2, 3, seed=2)),
    'Weibull': ('Weibull', dict(scale=positive(2, 3), concentration=positive(3, seed=1)),
                positive(4, 2, 3, seed=2)),
    'Kumaraswamy': ('Kumaraswamy', dict(concentration1=positive(2, 3, low=0.5),
                                        concentration0=positive(3, seed=1, low=0.5)),
                    unit(4, 2, 3, seed=2)),
    'NegativeBinomial': ('NegativeBinomial', dict(total_count=positive(2, 3, high=8),
                                                  probs=unit(3, seed=1)),
                         rng(2).integers(0, 8, (4, 2, 3)).astype(float)),
    'VonMises': ('VonMises', dict(loc=real(2, 3), concentration=positive(3, seed=1, high=5)),
                 rng(2).uniform(-3, 3, (4, 2, 3))),
    'LowRankMVN': ('LowRankMultivariateNormal', dict(loc=real(2, 3), cov_factor=real(3, 2, seed=1),
                                                    cov_diag=positive(3, seed=2)),
                   real(4, 2, 3, seed=3)),
    'ContinuousBernoulli': ('ContinuousBernoulli', dict(probs=unit(2, 3)), unit(4, 2, 3, seed=2)),
    'ContinuousBernoulli_logits': ('ContinuousBernoulli', dict(logits=real(2, 3)),
                                   unit(4, 2, 3, seed=2)),
    'FisherSnedecor': ('FisherSnedecor', dict(df1=positive(2, 3, low=1, high=6),
                                              df2=positive(3, seed=1, low=5, high=9)),
                       positive(4, 2, 3, seed=2)),
    'InverseGamma': ('InverseGamma', dict(concentration=positive(2, 3, low=2.5, high=5),
                                          rate=positive(3, seed=1)), positive(4, 2, 3, seed=2)),
    'LogisticNormal': ('LogisticNormal', dict(loc=real(2, 3), scale=positive(3, seed=1)),
                       simplex(4, 2, 4, seed=2)),
    'Wishart': ('Wishart', dict(df=4.0 + positive(2, high=3), covariance_matrix=spd(2, seed=1)),
                spd(3, 2, seed=4)),
    'LKJCholesky': ('LKJCholesky', dict(dim=3, concentration=positive(2, low=0.5)),
                    corr_cholesky(4, 2, seed=5)),
})


def build(lib, name, requires_grad=False):
    cls_name, params, value = FAMILIES[name]
    mod = TD if lib is torch else D
    kwargs = {k: lib_tensor(lib, v, requires_grad) for k, v in params.items()}

    if isinstance(kwargs.get('temperature'), float):
        kwargs['temperature'] = lib.tensor(kwargs['temperature'], dtype=lib.float64)
    return getattr(mod, cls_name)(**kwargs), kwargs, lib_tensor(lib, value)


def attempt(fn):
    """``fn()``, or the exception type it raised (NotImplementedError where a family has
    no closed form: both libraries must agree on that too)."""
    try:
        return fn()
    except (NotImplementedError, ValueError) as e:
        return type(e)


def assert_same(ours, theirs, what):
    if isinstance(theirs, type):
        assert ours is theirs, f'{what}: torch raised {theirs.__name__}, we gave {ours}'
        return
    assert not isinstance(ours, type), f'{what}: we raised {ours.__name__}'
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f'{what}: shape {a.shape} != torch {b.shape}'
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what, equal_nan=True)


STATISTICS = ('mean', 'mode', 'variance', 'stddev', 'entropy')


@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_values_match_torch(name):
    dists = {lib: build(lib, name) for lib in (torch, autograd)}
    ours, _, value = dists[autograd]
    theirs, _, tvalue = dists[torch]
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert type(ours.support).__name__ == type(theirs.support).__name__
    assert_same(ours.log_prob(value), theirs.log_prob(tvalue), 'log_prob')
    for stat in STATISTICS:
        assert_same(attempt(lambda: getattr(ours, stat) if stat != 'entropy' else ours.entropy()),
                    attempt(lambda: getattr(theirs, stat) if stat != 'entropy'
                            else theirs.entropy()), stat)
    if not ours.event_shape and ours.support.is_discrete is False:
        probe = value if name not in ('RelaxedBernoulli',) else value
        assert_same(attempt(lambda: ours.cdf(probe)), attempt(lambda: theirs.cdf(tvalue)), 'cdf')
        q = unit(2, 3, seed=7)
        assert_same(attempt(lambda: ours.icdf(autograd.tensor(q))),
                    attempt(lambda: theirs.icdf(torch.tensor(q))), 'icdf')
    assert_same(attempt(lambda: ours.perplexity()), attempt(lambda: theirs.perplexity()),
                'perplexity')


@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_log_prob_and_entropy_gradients_match_torch(name):
    grads = {}
    for lib in (torch, autograd):
        dist, params, value = build(lib, name, requires_grad=True)
        leaves = [p for p in params.values() if getattr(p, 'requires_grad', False)]
        total = dist.log_prob(value).sum()
        entropy = attempt(dist.entropy)
        if not isinstance(entropy, type):
            total = total + entropy.sum()
        grads[lib] = (lib.autograd.grad(total, leaves) if lib is torch
                      else autograd.grad(total, leaves))
    for i, (a, b) in enumerate(zip(grads[autograd], grads[torch])):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-8, atol=1e-10,
                                   err_msg=f'gradient of parameter {i}')


@pytest.mark.parametrize('name', ['Normal', 'Gamma', 'Beta', 'Categorical_logits'])
def test_second_order_gradients_of_log_prob_match_torch(name):
    results = {}
    for lib in (torch, autograd):
        dist, params, value = build(lib, name, requires_grad=True)
        leaves = [p for p in params.values() if getattr(p, 'requires_grad', False)]
        grad = lib.autograd.grad if lib is torch else autograd.grad
        g = grad(dist.log_prob(value).sum(), leaves, create_graph=True)
        results[lib] = grad(sum((gi * gi).sum() for gi in g), leaves)
    for a, b in zip(results[autograd], results[torch]):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-8, atol=1e-10)


def test_gradcheck_of_log_probs():
    x = autograd.tensor(real(3, seed=3))
    p = autograd.tensor(positive(3, seed=4), requires_grad=True)
    q = autograd.tensor(positive(3, seed=5), requires_grad=True)
    u = autograd.tensor(unit(3, seed=6))
    m = (q - 1).detach().requires_grad_()
    assert autograd.gradgradcheck(lambda a, b: D.Normal(a, b).log_prob(x), (m, p))
    v = autograd.tensor(positive(3, seed=9))
    assert autograd.gradgradcheck(lambda a, b: D.Gamma(a, b).log_prob(v), (p, q))
    assert autograd.gradgradcheck(lambda a, b: D.Beta(a, b).log_prob(u), (p, q))
    assert autograd.gradcheck(lambda a, b: D.kl_divergence(D.Gamma(a, b), D.Gamma(b, a)),
                              (p, q))


# ----------------------------------------------------------------------------- rsample

def test_location_scale_rsample_is_deterministic_given_the_noise():
    loc = autograd.tensor(real(2, 3), requires_grad=True)
    scale = autograd.tensor(positive(3, seed=1), requires_grad=True)
    autograd.manual_seed(3)
    x = D.Normal(loc, scale).rsample((5,))
    autograd.manual_seed(3)
    eps = autograd.randn(5, 2, 3, dtype=autograd.float64)
    np.testing.assert_allclose(to_numpy(x), to_numpy(loc + eps * scale), rtol=1e-15)
    gl, gs = autograd.grad(x.sum(), (loc, scale))
    np.testing.assert_allclose(to_numpy(gl), 5.0)
    np.testing.assert_allclose(to_numpy(gs), to_numpy(eps.sum(0).sum(0)), rtol=1e-12)
    for cls in (D.LogNormal, D.Laplace, D.Cauchy, D.Uniform):
        args = (loc, scale) if cls is not D.Uniform else (loc, loc + scale)
        y = cls(*args).rsample((4,))
        gs = autograd.grad(y.sum(), args)
        assert all(g is not None and bool(autograd.isfinite(g).all()) for g in gs)


def test_gamma_rsample_gradient_is_pytorchs_implicit_gradient():
    alpha = autograd.tensor(positive(200, low=0.05, high=20, seed=3), requires_grad=True)
    rate = autograd.tensor(positive(200, seed=4), requires_grad=True)
    x = D.Gamma(alpha, rate).rsample()
    ga, gr = autograd.grad(x.sum(), (alpha, rate))
    z = (x * rate).detach()                     # the standard gamma sample behind x
    expected = torch._standard_gamma_grad(torch.tensor(to_numpy(alpha)),
                                          torch.tensor(to_numpy(z))) / torch.tensor(to_numpy(rate))
    np.testing.assert_allclose(to_numpy(ga), expected.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(gr), -to_numpy(x) / to_numpy(rate), rtol=1e-12)


def test_gamma_implicit_gradient_against_finite_differences_of_the_cdf():
    # dx/dalpha = -(dF/dalpha) / f at fixed u = F(x; alpha) (scipy's regularised gamma)
    alpha = positive(40, low=0.2, high=30, seed=5)
    x = stats.gamma.ppf(rng(6).uniform(0.05, 0.95, 40), alpha)
    h = 1e-6 * alpha
    dF = (stats.gamma.cdf(x, alpha + h) - stats.gamma.cdf(x, alpha - h)) / (2 * h)
    expected = -dF / stats.gamma.pdf(x, alpha)
    ours = autograd._standard_gamma_grad(autograd.tensor(alpha), autograd.tensor(x))
    np.testing.assert_allclose(to_numpy(ours), expected, rtol=5e-3)


def test_dirichlet_and_beta_rsample_gradients_are_pytorchs():
    conc = autograd.tensor(positive(50, 3, low=0.1, high=10, seed=7), requires_grad=True)
    autograd.manual_seed(0)
    x = D.Dirichlet(conc).rsample()
    w = autograd.tensor(real(50, 3, seed=8))
    g, = autograd.grad((x * w).sum(), conc)
    tc = torch.tensor(to_numpy(conc))
    tx = torch.tensor(to_numpy(x))
    total = tc.sum(-1, True).expand_as(tc)
    tw = torch.tensor(to_numpy(w))
    expected = torch._dirichlet_grad(tx, tc, total) * (tw - (tx * tw).sum(-1, True))
    np.testing.assert_allclose(to_numpy(g), expected.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.sum(-1)), 1.0, rtol=1e-12)
    a = autograd.tensor(positive(30, low=0.5, high=6, seed=9), requires_grad=True)
    b = autograd.tensor(positive(30, low=0.5, high=6, seed=10), requires_grad=True)
    y = D.Beta(a, b).rsample()
    ga, gb = autograd.grad(y.sum(), (a, b))
    # the Beta sample is the first coordinate of Dirichlet([a, b])
    ta, tb, ty = (torch.tensor(to_numpy(t)) for t in (a, b, y))
    tot = ta + tb
    # d/dconc of Dirichlet's coordinate 0: _dirichlet_grad(x_i, conc_i, total) * (e_0 - x_0)
    da = torch._dirichlet_grad(ty, ta, tot) * (1 - ty)
    db = torch._dirichlet_grad(1 - ty, tb, tot) * -ty
    np.testing.assert_allclose(to_numpy(ga), da.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gb), db.numpy(), rtol=1e-8, atol=1e-12)


def test_beta_implicit_gradient_against_finite_differences_of_the_cdf():
    a, b = positive(20, low=0.5, high=8, seed=11), positive(20, low=0.5, high=8, seed=12)
    x = stats.beta.ppf(rng(13).uniform(0.1, 0.9, 20), a, b)
    h = 1e-6
    dF = (stats.beta.cdf(x, a + h, b) - stats.beta.cdf(x, a - h, b)) / (2 * h)
    # _dirichlet_grad is PyTorch's scaled gradient -(dF/dalpha) / f / (1 - x)
    expected = -dF / stats.beta.pdf(x, a, b) / (1 - x)
    ours = autograd._dirichlet_grad(autograd.tensor(x), autograd.tensor(a), autograd.tensor(a + b))
    np.testing.assert_allclose(to_numpy(ours), expected, rtol=2e-3, atol=1e-5)


# ----------------------------------------------------------------------------- samplers

N = 20000


def ks_ok(samples, cdf):
    return stats.kstest(samples, cdf).pvalue > 1e-3


def chi2_ok(counts, probs):
    """Pearson's chi-square test of ``counts`` of the outcomes 0 .. k-1 against their
    probabilities; outcomes with fewer than 5 expected counts (and the tail beyond k - 1)
    are pooled into one cell."""
    n = counts.sum()
    expected = probs * n
    keep = expected > 5
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(expected[keep], n - expected[keep].sum())
    if expected[-1] < 1e-9 * n:
        assert observed[-1] == 0
        observed, expected = observed[:-1], expected[:-1]
    return stats.chisquare(observed, expected).pvalue > 1e-3


CONTINUOUS = {
    'Normal': (lambda: D.Normal(1.5, 2.0), stats.norm(1.5, 2.0)),
    'LogNormal': (lambda: D.LogNormal(0.3, 0.5), stats.lognorm(0.5, scale=math.exp(0.3))),
    'Uniform': (lambda: D.Uniform(-1.0, 3.0), stats.uniform(-1.0, 4.0)),
    'Exponential': (lambda: D.Exponential(2.5), stats.expon(scale=0.4)),
    'Laplace': (lambda: D.Laplace(0.5, 1.5), stats.laplace(0.5, 1.5)),
    'Cauchy': (lambda: D.Cauchy(-1.0, 0.5), stats.cauchy(-1.0, 0.5)),
    'Gamma_small': (lambda: D.Gamma(0.3, 2.0), stats.gamma(0.3, scale=0.5)),
    'Gamma': (lambda: D.Gamma(4.5, 0.5), stats.gamma(4.5, scale=2.0)),
    'Beta': (lambda: D.Beta(2.0, 0.7), stats.beta(2.0, 0.7)),
    'Dirichlet_marginal': (lambda: D.Dirichlet(autograd.tensor([2.0, 3.0, 1.5])),
                           stats.beta(2.0, 4.5)),
    'MVN_marginal': (lambda: D.MultivariateNormal(
        autograd.tensor([1.0, -2.0], dtype=autograd.float64),
        covariance_matrix=autograd.tensor([[4.0, 1.2], [1.2, 1.0]], dtype=autograd.float64)),
        stats.norm(1.0, 2.0)),
    'LowRankMVN_marginal': (lambda: D.LowRankMultivariateNormal(
        autograd.tensor([1.0, -2.0], dtype=autograd.float64),
        autograd.tensor([[1.0], [0.5]], dtype=autograd.float64),
        autograd.tensor([3.0, 1.0], dtype=autograd.float64)), stats.norm(1.0, 2.0)),
    'Chi2': (lambda: D.Chi2(autograd.tensor(3.5)), stats.chi2(3.5)),
    'StudentT': (lambda: D.StudentT(autograd.tensor(4.0), 0.5, 2.0), stats.t(4.0, 0.5, 2.0)),
    'HalfNormal': (lambda: D.HalfNormal(autograd.tensor(1.5)), stats.halfnorm(scale=1.5)),
    'HalfCauchy': (lambda: D.HalfCauchy(autograd.tensor(0.7)), stats.halfcauchy(scale=0.7)),
    'Gumbel': (lambda: D.Gumbel(1.0, 2.0), stats.gumbel_r(1.0, 2.0)),
    'Pareto': (lambda: D.Pareto(autograd.tensor(1.5), autograd.tensor(3.0)),
               stats.pareto(3.0, scale=1.5)),
    'Weibull': (lambda: D.Weibull(autograd.tensor(2.0), autograd.tensor(1.5)),
                stats.weibull_min(1.5, scale=2.0)),
    'FisherSnedecor': (lambda: D.FisherSnedecor(autograd.tensor(4.0), autograd.tensor(9.0)),
                       stats.f(4.0, 9.0)),
    'InverseGamma': (lambda: D.InverseGamma(autograd.tensor(3.0), autograd.tensor(2.0)),
                     stats.invgamma(3.0, scale=2.0)),
    'VonMises': (lambda: D.VonMises(autograd.tensor(0.5), autograd.tensor(2.0)),
                 stats.vonmises(2.0, loc=0.5)),
    'GeneralizedPareto': (lambda: D.GeneralizedPareto(0.5, 2.0, 0.2),
                          stats.genpareto(0.2, loc=0.5, scale=2.0)),
}


@pytest.mark.parametrize('name', sorted(CONTINUOUS))
def test_continuous_samplers_fit_their_distribution(name):
    make, reference = CONTINUOUS[name]
    autograd.manual_seed(1234)
    dist = make()
    x = dist.sample((N,))
    assert x.device == autograd.get_default_device()
    x = to_numpy(x)
    if x.ndim == 2:
        x = x[:, 0]
    assert ks_ok(x, reference.cdf), name
    if np.isfinite(reference.std()):
        assert abs(x.mean() - reference.mean()) < 5 * reference.std() / math.sqrt(N)


DISCRETE = {
    'Bernoulli': (lambda: D.Bernoulli(probs=autograd.tensor(0.3)), stats.bernoulli(0.3), 2),
    'Geometric': (lambda: D.Geometric(probs=autograd.tensor(0.35)), stats.geom(0.35, loc=-1), 30),
    'Poisson': (lambda: D.Poisson(autograd.tensor(3.5)), stats.poisson(3.5), 20),
    'Poisson_large': (lambda: D.Poisson(autograd.tensor(40.0)), stats.poisson(40.0), 100),
    'Binomial': (lambda: D.Binomial(12, probs=autograd.tensor(0.3)), stats.binom(12, 0.3), 13),
    'NegativeBinomial': (lambda: D.NegativeBinomial(autograd.tensor(3.0), probs=autograd.tensor(0.4)),
                         stats.nbinom(3.0, 0.6), 25),
    'Categorical': (lambda: D.Categorical(probs=autograd.tensor([0.1, 0.0, 0.5, 0.4])),
                    stats.rv_discrete(values=([0, 1, 2, 3], [0.1, 0.0, 0.5, 0.4])), 4),
}


@pytest.mark.parametrize('name', sorted(DISCRETE))
def test_discrete_samplers_fit_their_distribution(name):
    make, reference, k = DISCRETE[name]
    autograd.manual_seed(99)
    x = make().sample((N,))
    x = to_numpy(x).astype(np.int64)
    counts = np.bincount(x, minlength=k)
    assert counts.sum() == N and (x >= 0).all()
    counts = counts[:k]
    assert chi2_ok(counts.astype(float), reference.pmf(np.arange(k))), (name, counts)


def test_kumaraswamy_and_continuous_bernoulli_samplers_fit_their_cdfs():
    autograd.manual_seed(21)
    a, b = 2.0, 3.5
    x = to_numpy(D.Kumaraswamy(autograd.tensor(a), autograd.tensor(b)).sample((N,)))
    assert ks_ok(x, lambda v: 1 - (1 - v ** a) ** b)      # its CDF, in closed form
    lam = 0.3          # ContinuousBernoulli(lam): density C(lam) lam^x (1 - lam)^(1 - x) on [0, 1]
    y = to_numpy(D.ContinuousBernoulli(probs=autograd.tensor(lam)).sample((N,)))
    r = lam / (1 - lam)
    assert ks_ok(y, lambda v: (r ** v - 1) / (r - 1))


def test_lkj_cholesky_correlations_and_logistic_normal_samples():
    autograd.manual_seed(22)
    eta = 2.5
    L = to_numpy(D.LKJCholesky(2, autograd.tensor(eta)).sample((N,)))
    np.testing.assert_allclose((L @ np.swapaxes(L, -1, -2))[:, [0, 1], [0, 1]], 1.0, rtol=1e-6)
    # in dimension 2 the correlation r has density proportional to (1 - r^2)^(eta - 1)
    assert ks_ok((L[:, 1, 0] + 1) / 2, stats.beta(eta, eta).cdf)
    loc, scale = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    x = D.LogisticNormal(autograd.tensor(loc), autograd.tensor(scale)).sample((N,))
    np.testing.assert_allclose(to_numpy(x.sum(-1)), 1.0, rtol=1e-12)
    # the stick-breaking transform (checked against PyTorch's above) undone: normal samples
    y = to_numpy(D.transforms.StickBreakingTransform().inv(x))
    for k in range(2):
        assert ks_ok(y[:, k], stats.norm(loc[k], scale[k]).cdf)


def test_wishart_samples_have_its_mean():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    df = 5.0
    autograd.manual_seed(23)
    w = to_numpy(D.Wishart(autograd.tensor(df, dtype=autograd.float64),
                           covariance_matrix=autograd.tensor(cov)).sample((4000,)))
    np.testing.assert_allclose(w.mean(0), df * cov, rtol=0.06)
    assert (np.linalg.eigvalsh(w) > 0).all()


def test_mixture_same_family_as_torch():
    logits, loc, scale = real(2, 3), real(2, 3, seed=1), positive(2, 3, seed=2)
    x = real(4, 2, seed=3)
    out = {}
    for lib, mod in ((torch, TD), (autograd, D)):
        params = [lib.tensor(a, requires_grad=True) for a in (logits, loc, scale)]
        mix = mod.MixtureSameFamily(mod.Categorical(logits=params[0]),
                                    mod.Normal(params[1], params[2]))
        lp = mix.log_prob(lib.tensor(x))
        grad = lib.autograd.grad if lib is torch else autograd.grad
        out[lib] = [lp, mix.cdf(lib.tensor(x)), mix.mean, mix.variance,
                    *grad(lp.sum(), params)]
        assert tuple(mix.sample((5,)).shape) == (5, 2)
    for i, (a, b) in enumerate(zip(out[autograd], out[torch])):
        assert_same(a, b, f'item {i}')
    autograd.manual_seed(24)
    mix = D.MixtureSameFamily(D.Categorical(probs=autograd.tensor([0.3, 0.7])),
                              D.Normal(autograd.tensor([-2.0, 3.0]), autograd.tensor([1.0, 0.5])))
    s = to_numpy(mix.sample((N,)))
    cdf = lambda v: 0.3 * stats.norm(-2, 1).cdf(v) + 0.7 * stats.norm(3, 0.5).cdf(v)  # noqa: E731
    assert ks_ok(s, cdf)


def test_multivariate_normal_samples_have_its_covariance():
    cov = np.array([[4.0, 1.2, 0.3], [1.2, 1.0, -0.2], [0.3, -0.2, 0.5]])
    loc = np.array([1.0, -2.0, 0.5])
    autograd.manual_seed(11)
    d = D.MultivariateNormal(autograd.tensor(loc), precision_matrix=autograd.tensor(np.linalg.inv(cov)))
    x = to_numpy(d.sample((N,)))
    np.testing.assert_allclose(x.mean(0), loc, atol=5 * 2.0 / math.sqrt(N))
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    # whitened by the Cholesky factor, the samples are independent standard normals
    z = np.linalg.solve(np.linalg.cholesky(cov), (x - loc).T).T
    for j in range(3):
        assert ks_ok(z[:, j], stats.norm.cdf)


def test_multivariate_normal_rsample_gradients():
    loc = autograd.tensor(real(3), requires_grad=True)
    tril = autograd.tensor(lower(seed=4), requires_grad=True)
    autograd.manual_seed(4)
    x = D.MultivariateNormal(loc, scale_tril=tril).rsample((6,))
    autograd.manual_seed(4)
    eps = autograd.randn(6, 3, dtype=autograd.float64)
    np.testing.assert_allclose(to_numpy(x), to_numpy(loc + eps @ tril.T), rtol=1e-12)
    w = autograd.tensor(real(6, 3, seed=5))
    gl, gt = autograd.grad((x * w).sum(), (loc, tril))
    np.testing.assert_allclose(to_numpy(gl), to_numpy(w.sum(0)), rtol=1e-12)
    # the scale_tril is used as given (as PyTorch does): its upper entries get gradients too
    np.testing.assert_allclose(to_numpy(gt), to_numpy(w).T @ to_numpy(eps), rtol=1e-10,
                               atol=1e-12)


def test_multinomial_and_one_hot_samples():
    autograd.manual_seed(5)
    p = np.array([0.2, 0.5, 0.3])
    counts = to_numpy(D.Multinomial(10, probs=autograd.tensor(p)).sample((4000,)))
    assert (counts.sum(-1) == 10).all()
    np.testing.assert_allclose(counts.mean(0), 10 * p, atol=0.1)
    np.testing.assert_allclose(counts.var(0), 10 * p * (1 - p), rtol=0.1)
    onehot = to_numpy(D.OneHotCategorical(probs=autograd.tensor(p)).sample((4000,)))
    assert (onehot.sum(-1) == 1).all()
    assert chi2_ok(onehot.sum(0), p)


def test_relaxed_samples_are_in_their_support():
    autograd.manual_seed(2)
    rb = D.RelaxedBernoulli(autograd.tensor(0.5), logits=autograd.tensor([0.3, -1.0]))
    x = rb.rsample((500,))
    assert bool(((x > 0) & (x < 1)).all())
    rc = D.RelaxedOneHotCategorical(autograd.tensor(0.5), logits=autograd.tensor([0.3, -1.0, 2.0]))
    y = rc.rsample((500,))
    np.testing.assert_allclose(to_numpy(y.sum(-1)), 1.0, rtol=1e-6)
    # at a low temperature the argmax follows the categorical probabilities
    counts = np.bincount(to_numpy(y.argmax(-1)), minlength=3)
    p = to_numpy(rc.probs).astype(np.float64)
    assert chi2_ok(counts.astype(float), p / p.sum())


def test_samplers_draw_from_the_seeded_generator():
    for make in (lambda: D.Gamma(2.0, 1.0), lambda: D.Poisson(autograd.tensor(3.0)),
                 lambda: D.Dirichlet(autograd.tensor([1.0, 2.0])),
                 lambda: D.Categorical(logits=autograd.zeros(4))):
        autograd.manual_seed(7)
        a = to_numpy(make().sample((5,)))
        autograd.manual_seed(7)
        b = to_numpy(make().sample((5,)))
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- KL

KL_PAIRS = [
    ('Normal', 'Normal'), ('Gamma', 'Gamma'), ('Beta', 'Beta'), ('Exponential', 'Exponential'),
    ('Laplace', 'Laplace'), ('Uniform', 'Uniform'), ('Dirichlet', 'Dirichlet'),
    ('Bernoulli_probs', 'Bernoulli_logits'), ('Poisson', 'Poisson'), ('Geometric', 'Geometric'),
    ('Categorical_probs', 'Categorical_logits'), ('Cauchy', 'Cauchy'),
    ('Binomial', 'Binomial'), ('OneHotCategorical', 'OneHotCategorical'),
    ('Exponential', 'Gamma'), ('Exponential', 'Normal'), ('Gamma', 'Normal'),
    ('Beta', 'Normal'), ('Uniform', 'Normal'), ('Uniform', 'Gamma'), ('Uniform', 'Beta'),
    ('Laplace', 'Normal'), ('Normal', 'Laplace'), ('Beta', 'Exponential'),
    ('Uniform', 'Exponential'), ('Normal', 'Gamma'),
    ('MVN_covariance', 'MVN_scale_tril'), ('MVN_precision', 'MVN_covariance'),
]


def other(name):
    """The family's parameters with other values (a second distribution to compare)."""
    cls_name, params, _ = FAMILIES[name]
    changed = {}
    for k, v in params.items():
        if k in ('covariance_matrix', 'precision_matrix'):
            v = 1.5 * v + np.eye(v.shape[-1])           # still positive definite
        elif k == 'scale_tril':
            v = 1.3 * v
        elif isinstance(v, np.ndarray):
            v = v[::-1].copy() if v.ndim == 1 else v[:, ::-1].copy()
        changed[k] = v
    return cls_name, changed


def registered_pairs():
    """Every (p, q) pair of families that PyTorch has a closed-form KL divergence for, as
    names of FAMILIES entries (the first entry of each class)."""
    first = {}
    for name, (cls_name, _, _) in FAMILIES.items():
        first.setdefault(cls_name, name)
    pairs = []
    for p_cls, q_cls in TD.kl._KL_REGISTRY:
        if p_cls.__name__ in first and q_cls.__name__ in first:
            pairs.append((first[p_cls.__name__], first[q_cls.__name__]))
    return sorted(set(pairs) | set(KL_PAIRS))


@pytest.mark.parametrize('p_name,q_name', registered_pairs())
def test_kl_divergence_matches_torch(p_name, q_name):
    results = {}
    for lib in (torch, autograd):
        p, params, _ = build(lib, p_name, requires_grad=True)
        cls_name, qparams = other(q_name)
        mod = TD if lib is torch else D
        q = getattr(mod, cls_name)(**{k: lib_tensor(lib, v) for k, v in qparams.items()})
        kl = attempt(lambda: (TD.kl_divergence if lib is torch else D.kl_divergence)(p, q))
        if isinstance(kl, type):
            results[lib] = (kl, None)
            continue
        leaves = [v for v in params.values() if getattr(v, 'requires_grad', False)]
        finite = kl.sum() if bool((kl.abs() < math.inf).all()) else None
        grad = lib.autograd.grad if lib is torch else autograd.grad
        results[lib] = (kl, grad(finite, leaves) if finite is not None else None)
    (ours, ogr), (theirs, tgr) = results[autograd], results[torch]
    assert_same(ours, theirs, 'kl')
    if tgr is not None:
        for a, b in zip(ogr, tgr):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-8, atol=1e-10)


def test_register_kl_dispatches_to_the_most_specific_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return autograd.zeros(p.batch_shape) - 1.0

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert D.kl_divergence(p, q).item() == -1.0
    assert D.kl_divergence(q, q).item() == 0.0
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Poisson(autograd.tensor(1.0)), D.Normal(0.0, 1.0))


# ----------------------------------------------------------------------------- shapes

@SETTINGS
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       sample=st.lists(st.integers(1, 3), min_size=0, max_size=2))
def test_sample_shapes_and_expand_as_torch(batch, sample):
    loc = real(*batch) if batch else 0.5
    for lib, mod in ((torch, TD), (autograd, D)):
        d = mod.Normal(lib.tensor(loc), lib.tensor(1.0, dtype=lib.float64))
        assert tuple(d.sample(tuple(sample)).shape) == tuple(sample) + tuple(batch)
        e = d.expand((2,) + tuple(batch))
        assert tuple(e.batch_shape) == (2,) + tuple(batch)
        assert tuple(e.rsample(tuple(sample)).shape) == tuple(sample) + (2,) + tuple(batch)
        ind = mod.Independent(e, len(batch))
        assert tuple(ind.event_shape) == tuple(batch)


def test_independent_and_transformed_match_torch():
    loc, scale = real(2, 3), positive(2, 3, seed=1)
    x = positive(4, 2, 3, seed=2)
    out = {}
    for lib, mod in ((torch, TD), (autograd, D)):
        base = mod.Normal(lib.tensor(loc), lib.tensor(scale))
        ind = mod.Independent(base, 1)
        T = mod.transforms
        td = mod.TransformedDistribution(base, [T.AffineTransform(0.5, 2.0), T.ExpTransform()])
        sig = mod.TransformedDistribution(base, [T.SigmoidTransform()])
        tanh = mod.TransformedDistribution(base, [T.TanhTransform()])
        power = mod.TransformedDistribution(mod.Exponential(lib.tensor(scale)),
                                            [T.PowerTransform(lib.tensor(0.5, dtype=lib.float64))])
        absd = mod.TransformedDistribution(base, [T.AbsTransform()])
        xv = lib.tensor(x)
        out[lib] = [ind.log_prob(xv), ind.entropy(), td.log_prob(xv), td.cdf(xv),
                    sig.log_prob(xv / 4), tanh.log_prob(xv / 4 - 0.5), power.log_prob(xv),
                    td.icdf(lib.tensor(unit(2, 3)))]
        _ = absd.support
    for i, (a, b) in enumerate(zip(out[autograd], out[torch])):
        assert_same(a, b, f'item {i}')


def test_transforms_and_biject_to_match_torch():
    x = real(3, 4)
    for name in ('positive', 'real', 'unit_interval', 'simplex', 'greater_than',
                 'interval', 'less_than'):
        args = {'greater_than': (1.5,), 'less_than': (-0.5,), 'interval': (-1.0, 2.0)}.get(name, ())
        ours_c = getattr(D.constraints, name)
        theirs_c = getattr(TD.constraints, name)
        if args:
            ours_c, theirs_c = ours_c(*args), theirs_c(*args)
        for fn_name in ('biject_to', 'transform_to'):
            t_ours = getattr(D, fn_name)(ours_c)
            t_theirs = getattr(TD, fn_name)(theirs_c)
            y_ours, y_theirs = t_ours(autograd.tensor(x)), t_theirs(torch.tensor(x))
            assert_same(y_ours, y_theirs, f'{fn_name}({name})')
            assert bool(ours_c.check(y_ours).all())
            assert_same(t_ours.inv(y_ours), t_theirs.inv(y_theirs), f'{fn_name}({name}).inv')
            assert_same(attempt(lambda: t_ours.log_abs_det_jacobian(autograd.tensor(x), y_ours)),
                        attempt(lambda: t_theirs.log_abs_det_jacobian(torch.tensor(x),
                                                                      y_theirs)),
                        f'{fn_name}({name}) log|det J|')
    T, TT = D.transforms, TD.transforms
    for ours_t, theirs_t in ((T.SoftmaxTransform(), TT.SoftmaxTransform()),
                             (T.StickBreakingTransform(), TT.StickBreakingTransform()),
                             (T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)]),
                              TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(1.0, 3.0)]))):
        assert_same(ours_t(autograd.tensor(x)), theirs_t(torch.tensor(x)), repr(ours_t))


# ----------------------------------------------------------------------------- validation

def raises_as_torch(make_ours, make_theirs):
    with pytest.raises(Exception) as theirs:
        make_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        make_ours()
    # ours may name the cuda device, where the oracle's tensors are on the CPU
    message = str(ours.value).replace('autograd', 'torch').replace("device='cuda:0', ", '')
    message = message.replace(", device='cuda:0'", '')
    assert message == str(theirs.value), \
        (str(ours.value), str(theirs.value))


def test_validation_errors_as_torch():
    bad_scale = -np.ones(3)
    raises_as_torch(lambda: D.Normal(autograd.zeros(3, dtype=autograd.float64),
                                     autograd.tensor(bad_scale), validate_args=True),
                    lambda: TD.Normal(torch.zeros(3, dtype=torch.float64),
                                      torch.tensor(bad_scale), validate_args=True))
    raises_as_torch(lambda: D.Bernoulli(probs=autograd.tensor([1.5]), validate_args=True),
                    lambda: TD.Bernoulli(probs=torch.tensor([1.5]), validate_args=True))
    raises_as_torch(lambda: D.Categorical(probs=autograd.tensor([0.5, 0.5]),
                                          logits=autograd.tensor([0.0, 0.0])),
                    lambda: TD.Categorical(probs=torch.tensor([0.5, 0.5]),
                                           logits=torch.tensor([0.0, 0.0])))
    raises_as_torch(lambda: D.Exponential(autograd.tensor([1.0]), validate_args=True).log_prob(
                        autograd.tensor([-1.0])),
                    lambda: TD.Exponential(torch.tensor([1.0]), validate_args=True).log_prob(
                        torch.tensor([-1.0])))
    raises_as_torch(lambda: D.Normal(0.0, 1.0, validate_args=True).log_prob('x'),
                    lambda: TD.Normal(0.0, 1.0, validate_args=True).log_prob('x'))
    raises_as_torch(lambda: D.Normal(autograd.zeros(3), 1.0, validate_args=True).log_prob(
                        autograd.zeros(2)),
                    lambda: TD.Normal(torch.zeros(3), 1.0, validate_args=True).log_prob(
                        torch.zeros(2)))


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(autograd.tensor([0.0]), autograd.tensor([-1.0]))      # not checked
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match='scale'):
        D.Normal(autograd.tensor([0.0]), autograd.tensor([-1.0]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args('yes')


def test_sample_n_warns_and_distribution_repr():
    d = D.Normal(autograd.tensor([0.0, 1.0]), autograd.tensor([1.0, 2.0]))
    with pytest.warns(FutureWarning):
        assert tuple(d.sample_n(3).shape) == (3, 2)
    assert repr(d).startswith('Normal(loc: torch.Size([2]), scale: torch.Size([2]))'[:6])


# ----------------------------------------------------------------------------- every family

@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_expand_sample_shapes_and_enumerate_support_as_torch(name):
    ours, _, _ = build(autograd, name)
    theirs, _, _ = build(torch, name)
    e = ours.expand((5,) + tuple(ours.batch_shape))
    te = theirs.expand((5,) + tuple(theirs.batch_shape))
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    autograd.manual_seed(0)
    s = e.sample((2,))
    assert tuple(s.shape) == tuple(te.sample((2,)).shape)
    assert s.device == autograd.get_default_device()
    lp = e.log_prob(s)
    assert tuple(lp.shape) == (2,) + tuple(te.batch_shape)
    assert bool(autograd.isfinite(lp).all()), 'log_prob of its own samples'
    assert bool(e.support.check(s).all()), 'samples outside the support'
    if theirs.has_rsample:
        assert tuple(e.rsample((3,)).shape) == (3,) + tuple(te.batch_shape + te.event_shape)
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    if theirs.has_enumerate_support:
        for expand in (True, False):
            assert_same(ours.enumerate_support(expand), theirs.enumerate_support(expand),
                        f'enumerate_support({expand})')


TRANSFORMS = {
    'Abs': (lambda m, lib: m.AbsTransform(), (2, 4)),
    'Affine': (lambda m, lib: m.AffineTransform(lib.tensor([1., 2, 3, 4], dtype=lib.float64), 2.0,
                                                event_dim=1), (2, 4)),
    'Cat': (lambda m, lib: m.CatTransform([m.ExpTransform(), m.AffineTransform(1.0, 2.0)], dim=1,
                                          lengths=[2, 2]), (2, 4)),
    'Compose': (lambda m, lib: m.ComposeTransform([m.AffineTransform(0., 0.5), m.TanhTransform()]),
                (2, 4)),
    'CorrCholesky': (lambda m, lib: m.CorrCholeskyTransform(), (2, 6)),
    'CumulativeDistribution': (lambda m, lib: m.CumulativeDistributionTransform(
        (TD if lib is torch else D).Normal(0., 1.)), (2, 4)),
    'Exp': (lambda m, lib: m.ExpTransform(), (2, 4)),
    'Independent': (lambda m, lib: m.IndependentTransform(m.ExpTransform(), 1), (2, 4)),
    'LowerCholesky': (lambda m, lib: m.LowerCholeskyTransform(), (2, 3, 3)),
    'PositiveDefinite': (lambda m, lib: m.PositiveDefiniteTransform(), (2, 3, 3)),
    'Power': (lambda m, lib: m.PowerTransform(lib.tensor(1.5, dtype=lib.float64)), (2, 4)),
    'Reshape': (lambda m, lib: m.ReshapeTransform((4,), (2, 2)), (2, 4)),
    'Sigmoid': (lambda m, lib: m.SigmoidTransform(), (2, 4)),
    'Softplus': (lambda m, lib: m.SoftplusTransform(), (2, 4)),
    'Tanh': (lambda m, lib: m.TanhTransform(), (2, 4)),
    'Softmax': (lambda m, lib: m.SoftmaxTransform(), (2, 4)),
    'Stack': (lambda m, lib: m.StackTransform([m.ExpTransform(), m.SigmoidTransform()], dim=0),
              (2, 4)),
    'StickBreaking': (lambda m, lib: m.StickBreakingTransform(), (2, 4)),
}


@pytest.mark.parametrize('name', sorted(TRANSFORMS))
def test_every_transform_as_torch(name):
    make, shape = TRANSFORMS[name]
    x = real(*shape, seed=1)
    if name == 'Power':
        x = np.abs(x)
    ours, theirs = make(D.transforms, autograd), make(TD.transforms, torch)
    xo = autograd.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_same(yo, yt, 'forward')
    assert_same(ours.inv(yo), theirs.inv(yt), 'inverse')
    lo = attempt(lambda: ours.log_abs_det_jacobian(xo, yo))
    lt = attempt(lambda: theirs.log_abs_det_jacobian(xt, yt))
    assert_same(lo, lt, 'log_abs_det_jacobian')
    assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
    assert (ours.domain.event_dim, ours.codomain.event_dim) == \
        (theirs.domain.event_dim, theirs.codomain.event_dim)
    # gradients through the transform and its log|det J|
    total_o = yo.sum() + (lo.sum() if not isinstance(lo, type) else 0)
    total_t = yt.sum() + (lt.sum() if not isinstance(lt, type) else 0)
    assert_same(autograd.grad(total_o, xo)[0], torch.autograd.grad(total_t, xt)[0], 'gradient')


def constraint_cases(lib):
    c = (TD if lib is torch else D).constraints
    t = lambda a: lib.tensor(a, dtype=lib.float64)    # noqa: E731
    return [
        (c.boolean, [0.0, 1.0, 0.5]), (c.real, [0.0, math.inf, math.nan]),
        (c.positive, [1.0, 0.0, -1.0]), (c.nonnegative, [0.0, -1e-9, 2.0]),
        (c.unit_interval, [0.0, 1.0, 1.5]), (c.greater_than(1.0), [1.0, 1.5, 0.0]),
        (c.greater_than_eq(1.0), [1.0, 0.5, 2.0]), (c.less_than(1.0), [1.0, 0.5, 2.0]),
        (c.interval(-1.0, 2.0), [-1.0, 0.0, 2.5]), (c.half_open_interval(0.0, 1.0), [0.0, 1.0, 0.5]),
        (c.integer_interval(0, 3), [0.0, 3.0, 1.5]), (c.nonnegative_integer, [0.0, 2.0, -1.0]),
        (c.positive_integer, [0.0, 2.0, 1.5]), (c.simplex, [[0.2, 0.8], [0.5, 0.6]]),
        (c.real_vector, [[0.0, 1.0], [math.nan, 0.0]]), (c.one_hot, [[0.0, 1.0], [1.0, 1.0]]),
        (c.multinomial(3), [[1.0, 2.0], [2.0, 2.0]]),
        (c.independent(c.positive, 1), [[1.0, 2.0], [1.0, -1.0]]),
        (c.lower_triangular, [[[1.0, 0.0], [2.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]]]),
        (c.lower_cholesky, [[[1.0, 0.0], [2.0, 3.0]], [[-1.0, 0.0], [0.0, 1.0]]]),
        (c.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [2.0, 3.0]]]),
        (c.square, [[[1.0, 0.0], [2.0, 3.0]]]),
        (c.symmetric, [[[1.0, 2.0], [2.0, 3.0]], [[1.0, 2.0], [0.0, 3.0]]]),
        (c.positive_definite, [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]]),
        (c.positive_semidefinite, [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    ], t


def test_every_constraint_checks_as_torch():
    ours, to = constraint_cases(autograd)
    theirs, tt = constraint_cases(torch)
    for (co, v), (ct, _) in zip(ours, theirs):
        assert repr(co) == repr(ct)
        assert (co.is_discrete, co.event_dim) == (ct.is_discrete, ct.event_dim), repr(co)
        np.testing.assert_array_equal(to_numpy(co.check(to(v))), to_numpy(ct.check(tt(v))),
                                      err_msg=repr(co))


@pytest.mark.parametrize('which', ['biject_to', 'transform_to'])
def test_biject_to_and_transform_to_every_constraint_as_torch(which):
    cases = ['real', 'positive', 'nonnegative', 'unit_interval', 'simplex', 'real_vector',
             'lower_cholesky', 'positive_definite', 'corr_cholesky', 'greater_than',
             'greater_than_eq', 'less_than', 'interval', 'half_open_interval']
    args = {'greater_than': (1.5,), 'greater_than_eq': (1.5,), 'less_than': (-0.5,),
            'interval': (-1.0, 2.0), 'half_open_interval': (-1.0, 2.0)}
    shapes = {'lower_cholesky': (2, 3, 3), 'positive_definite': (2, 3, 3),
              'corr_cholesky': (2, 3), 'simplex': (2, 4)}
    for name in cases:
        co, ct = getattr(D.constraints, name), getattr(TD.constraints, name)
        if name in args:
            co, ct = co(*args[name]), ct(*args[name])
        try:
            t_theirs = getattr(TD, which)(ct)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(D, which)(co)
            continue
        t_ours = getattr(D, which)(co)
        x = real(*shapes.get(name, (2, 4)), seed=3)
        yo, yt = t_ours(autograd.tensor(x)), t_theirs(torch.tensor(x))
        assert_same(yo, yt, f'{which}({name})')
        assert bool(co.check(yo).all()), name
        assert_same(attempt(lambda: t_ours.log_abs_det_jacobian(autograd.tensor(x), yo)),
                    attempt(lambda: t_theirs.log_abs_det_jacobian(torch.tensor(x), yt)),
                    f'{which}({name}) log|det J|')


def test_logit_relaxed_bernoulli_and_exp_relaxed_categorical_as_torch():
    from autograd.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
    from autograd.distributions.relaxed_categorical import ExpRelaxedCategorical
    from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli as TLogit
    from torch.distributions.relaxed_categorical import ExpRelaxedCategorical as TExp
    logits, x = real(2, 3), real(4, 2, 3, seed=1)
    simplex_logs = np.log(simplex(4, 2, 3, seed=2))
    for ours_cls, theirs_cls, value in ((LogitRelaxedBernoulli, TLogit, x),
                                        (ExpRelaxedCategorical, TExp, simplex_logs)):
        lo = autograd.tensor(logits, requires_grad=True)
        lt = torch.tensor(logits, requires_grad=True)
        temperature = 0.6
        ours = ours_cls(autograd.tensor(temperature, dtype=autograd.float64), logits=lo)
        theirs = theirs_cls(torch.tensor(temperature, dtype=torch.float64), logits=lt)
        po, pt = ours.log_prob(autograd.tensor(value)), theirs.log_prob(torch.tensor(value))
        assert_same(po, pt, ours_cls.__name__)
        assert_same(autograd.grad(po.sum(), lo)[0], torch.autograd.grad(pt.sum(), lt)[0],
                    ours_cls.__name__ + ' gradient')
        assert tuple(ours.rsample((5,)).shape) == tuple(theirs.rsample((5,)).shape)


def test_generalized_pareto_as_torch_in_float32():
    # PyTorch's GeneralizedPareto compares its concentration with a float32 zero, which
    # raises for float64 parameters: compared in float32 here
    loc, scale = real(2, 3).astype(np.float32), positive(3, seed=1).astype(np.float32)
    conc = (unit(3, seed=3) - 0.5).astype(np.float32)
    value = loc + 0.3 * scale
    q = unit(2, 3, seed=4).astype(np.float32)
    out = {}
    for lib, mod in ((torch, TD), (autograd, D)):
        params = [lib.tensor(a, requires_grad=True) for a in (loc, scale, conc)]
        d = mod.GeneralizedPareto(*params)
        lp = d.log_prob(lib.tensor(value))
        grad = lib.autograd.grad if lib is torch else autograd.grad
        out[lib] = [lp, d.cdf(lib.tensor(value)), d.icdf(lib.tensor(q)), d.mean, d.variance,
                    d.entropy(), *grad(lp.sum(), params)]
        assert tuple(d.sample((4,)).shape) == (4, 2, 3)
    for i, (a, b) in enumerate(zip(out[autograd], out[torch])):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=2e-5, atol=1e-6,
                                   err_msg=f'item {i}')


def test_one_hot_straight_through_gradient_as_torch():
    logits, w = real(2, 4), real(3, 2, 4, seed=1)
    grads = {}
    for lib, mod in ((torch, TD), (autograd, D)):
        lg = lib.tensor(logits, requires_grad=True)
        x = mod.OneHotCategoricalStraightThrough(logits=lg).rsample((3,))
        assert bool((x.sum(-1) == 1).all())
        grad = lib.autograd.grad if lib is torch else autograd.grad
        # the gradient is that of the probabilities, whichever sample was drawn
        grads[lib] = grad((x * lib.tensor(w)).sum(), lg)[0]
    assert_same(grads[autograd], grads[torch], 'straight-through gradient')

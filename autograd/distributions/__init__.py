r"""``autograd.distributions`` (= ``torch.distributions``): parameterisable probability
distributions and sampling functions, with PyTorch's names, semantics and argument
validation; ``rsample`` gives reparameterised samples whose gradients flow to the
parameters (implicit reparameterisation for Gamma, Beta and Dirichlet).

Adapted from PyTorch's ``torch/distributions`` (BSD-3-Clause licence, Copyright (c)
Facebook, Inc. and its affiliates; the licence's full text, which redistribution must
keep, is in ``LICENSE-PyTorch`` beside this file), written on this library's public API:
``autograd``, ``autograd.special`` and ``nn.functional``.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .continuous_bernoulli import ContinuousBernoulli
from .constraint_registry import biject_to, transform_to
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import _add_kl_info, kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

_add_kl_info()
del _add_kl_info

__all__ = [
    'Bernoulli', 'Beta', 'Binomial', 'Categorical', 'Cauchy', 'Dirichlet', 'Distribution',
    'Exponential', 'ExponentialFamily', 'Gamma', 'Geometric', 'Independent', 'Laplace',
    'LogNormal', 'Multinomial',
    'MultivariateNormal', 'Normal',
    'OneHotCategorical', 'OneHotCategoricalStraightThrough', 'Poisson', 'RelaxedBernoulli',
    'RelaxedOneHotCategorical', 'TransformedDistribution', 'Uniform', 'biject_to',
    'kl_divergence', 'register_kl', 'transform_to',
    'Chi2', 'ContinuousBernoulli', 'FisherSnedecor', 'GeneralizedPareto', 'Gumbel', 'HalfCauchy',
    'HalfNormal', 'InverseGamma', 'Kumaraswamy', 'LKJCholesky', 'LogisticNormal',
    'LowRankMultivariateNormal', 'MixtureSameFamily', 'NegativeBinomial', 'Pareto', 'StudentT',
    'VonMises', 'Weibull', 'Wishart',
]
__all__.extend(transforms.__all__)

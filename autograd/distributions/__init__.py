r"""``autograd.distributions`` (= ``torch.distributions``): parameterisable probability
distributions and sampling functions, with PyTorch's names, semantics and argument
validation; ``rsample`` gives reparameterised samples whose gradients flow to the
parameters (implicit reparameterisation for Gamma, Beta and Dirichlet).

Adapted from PyTorch's ``torch/distributions`` (BSD-3-Clause licence, Copyright (c)
Facebook, Inc. and its affiliates), written on this library's public API: ``autograd``,
``autograd.special`` and ``nn.functional``.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .constraint_registry import biject_to, transform_to
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .independent import Independent
from .kl import _add_kl_info, kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform

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
]
__all__.extend(transforms.__all__)

"""Probability distributions with ``torch.distributions``' names, shapes and formulas.

    from minigrad.distributions import Normal, kl_divergence
    d = Normal(loc, scale)               # loc, scale: Tensors (may require grad)
    x = d.rsample((100,))                # reparameterised: gradients reach loc and scale
    loss = -d.log_prob(x).mean() + kl_divergence(d, Normal(0.0, 1.0)).sum()

Families: Normal, LogNormal, HalfNormal, Uniform, Exponential, Laplace, Cauchy (all with
rsample, cdf, icdf), Bernoulli, Binomial, Geometric, Categorical, OneHotCategorical (probs or
logits), Poisson, Gamma, Beta, Dirichlet (sample without
reparameterisation), MultivariateNormal (covariance_matrix, precision_matrix or scale_tril),
Independent, MixtureSameFamily, TransformedDistribution (with ``transforms``: Exp, Affine, Sigmoid, Tanh, Compose);
``kl_divergence`` for same-family pairs (``register_kl`` adds more).
"""
from . import constraints  # noqa: F401
from .bernoulli import Bernoulli
from .binomial import Binomial, Geometric
from .cauchy import Cauchy
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Beta, Dirichlet, Gamma
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from . import transforms  # noqa: F401
from .transforms import AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, TanhTransform, Transform
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Bernoulli", "Categorical",
           "OneHotCategorical", "LogNormal", "Poisson", "Gamma", "Beta", "Dirichlet", "MultivariateNormal",
           "Independent", "Cauchy", "HalfNormal", "Binomial", "Geometric", "TransformedDistribution", "transforms",
           "MixtureSameFamily",
           "Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform", "ComposeTransform",
           "kl_divergence", "register_kl", "constraints"]

"""MixtureSameFamily(mixture, components): pick component k ~ mixture (a Categorical over the
last batch dim of ``components``), then sample it.  log_prob(x) = logsumexp_k (log pi_k +
log p_k(x)), differentiable in the weights and in every component's parameters."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .categorical import Categorical
from .distribution import Distribution, as_param

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of torch.distributions.Distribution")
        mix_batch, comp_batch = mixture_distribution.batch_shape, component_distribution.batch_shape
        if len(comp_batch) < 1:
            raise ValueError("component_distribution must have at least one batch dimension (the components)")
        for a, b in zip(reversed(mix_batch), reversed(comp_batch[:-1])):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mix_batch}) is not compatible with "
                                 f"`component_distribution.batch_shape`({comp_batch[:-1]})")
        k = mixture_distribution._num_events
        if k != comp_batch[-1]:
            raise ValueError(f"`mixture_distribution component` ({k}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({comp_batch[-1]})")
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        self._num_component, self._event_ndims = k, len(component_distribution.event_shape)
        super().__init__(comp_batch[:-1], component_distribution.event_shape, validate_args=validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return self._component_distribution.support

    def _weights(self):
        """The mixture probabilities shaped to multiply per-component values [..., k, *event]."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self):
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        w, comp = self._weights(), self._component_distribution
        dim = -1 - self._event_ndims
        mean_cond_var = (w * comp.variance).sum(dim)
        var_cond_mean = (w * (comp.mean - self.mean.unsqueeze(dim)) ** 2).sum(dim)
        return mean_cond_var + var_cond_mean

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def log_prob(self, x):
        x = as_param(x)
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))         # [S, B, k]
        log_mix = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix).logsumexp(-1)

    def cdf(self, x):
        x = as_param(x)
        return (self._component_distribution.cdf(self._pad(x)) * self._mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()):
        """Draw every component, then keep the one the mixture picked (no graph)."""
        shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        batch, mix_batch = self.batch_shape, self._mixture_distribution.batch_shape
        mix = self._mixture_distribution.sample(shape)._data                        # shape + mix_batch
        xp = backend.xp_of(mix)
        mix = xp.broadcast_to(mix.reshape(shape + (1,) * (len(batch) - len(mix_batch)) + mix_batch), shape + batch)
        comp = self._component_distribution.sample(shape)._data                    # shape + batch + (k,) + event
        axis = len(shape) + len(batch)
        index = xp.broadcast_to(mix.reshape(shape + batch + (1,) * (1 + self._event_ndims)),
                                shape + batch + (1,) + tuple(self.event_shape))
        return Tensor._wrap(xp.take_along_axis(comp, index, axis=axis).squeeze(axis))

"""Weight averaging (PyTorch's ``torch.optim.swa_utils``): stochastic weight averaging and EMA.

``AveragedModel(model)`` keeps a copy of ``model`` whose parameters are a running average of the
model's, updated by ``update_parameters(model)`` (every epoch for SWA, every step for an EMA):

    SWA (default):  avg <- avg + (p - avg) / (n + 1)       the mean of the n + 1 models seen
    EMA:            avg <- avg + (1 - decay) (p - avg)      (``get_ema_multi_avg_fn(decay)``)

both as PyTorch's ``lerp`` (from the nearer end).  Batch-norm statistics of averaged weights are
not the average of the statistics, so ``update_bn(loader, model)`` recomputes them with one pass
over the data (a cumulative average: momentum None).  ``SWALR`` anneals each group's learning
rate to a constant ``swa_lr``.
"""
from __future__ import annotations

import copy
import itertools
import math

from ..autograd import no_grad
from ..backend import int64
from ..creation import tensor
from ..nn.layers import _BatchNorm
from ..nn.module import Module
from ..ops.math import lerp
from ..tensor import Tensor
from .lr_scheduler import LRScheduler

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def get_ema_multi_avg_fn(decay=0.999):
    """In place over lists of one dtype: ``avg <- lerp(avg, p, 1 - decay)`` (integers:
    ``avg * decay + p * (1 - decay)``, truncated), as PyTorch's."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    def ema_update(averaged, current, num_averaged):
        for a, p in zip(averaged, current):
            _assign(a, lerp(a, p, 1.0 - decay) if a._data.dtype.kind == "f" else a * decay + p * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """In place over lists of one dtype: ``avg <- lerp(avg, p, 1 / (n + 1))``, the running mean
    (PyTorch's on GPUs; on the CPU PyTorch takes :func:`get_swa_avg_fn`, and so does
    ``AveragedModel`` here)."""
    def swa_update(averaged, current, num_averaged):
        n = int(num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged)
        for a, p in zip(averaged, current):
            _assign(a, lerp(a, p, 1.0 / (n + 1)) if a._data.dtype.kind == "f" else a + (p - a) / (n + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """One tensor: the new average ``decay * ema + (1 - decay) * current``."""
    return lambda ema, current, num_averaged: decay * ema + (1 - decay) * current


def get_swa_avg_fn():
    """One tensor: the new average ``avg + (current - avg) / (n + 1)``."""
    return lambda avg, current, num_averaged: avg + (current - avg) / (num_averaged + 1)


def _assign(target, value):
    target._data[...] = value._data if isinstance(value, Tensor) else value


class AveragedModel(Module):
    """A copy of ``model`` (``self.module``) holding the average of the weights it is shown, with
    PyTorch's state-dict layout (``n_averaged``, ``module.<name>``).  ``avg_fn(avg, p, n)`` returns
    one new average; ``multi_avg_fn(avgs, ps, n)`` updates lists in place; neither: SWA's mean.
    ``use_buffers``: average the buffers too (else they are copied from ``model`` each update)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        if self.use_buffers:
            return [t for t in itertools.chain(model.parameters(), model.buffers())]
        return list(model.parameters())

    def update_parameters(self, model):
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        averaged = [t.detach() for t in self._tensors(self.module)]
        current = [t.detach().to(a.device) for t, a in zip(self._tensors(model), averaged)]
        if len(averaged) != len(current):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(current)} tensors to average, "
                             f"the averaged copy {len(averaged)}")
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, p in zip(averaged, current):
                    _assign(a, p)
            elif self.multi_avg_fn is not None:
                for group_avg, group_cur in _by_dtype(averaged, current):
                    self.multi_avg_fn(group_avg, group_cur, self.n_averaged)
            else:                                     # PyTorch on the CPU: one tensor at a time
                avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                for a, p in zip(averaged, current):
                    _assign(a, avg_fn(a, p, self.n_averaged))
            if not self.use_buffers:                  # keep the copy's buffers those of the model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                    _assign(b_avg, b_model.detach().to(b_avg.device))
        self.n_averaged._data[...] = n + 1


def _by_dtype(averaged, current):
    """The pairs grouped by dtype (and device), as the lists a ``multi_avg_fn`` gets."""
    groups = {}
    for a, p in zip(averaged, current):
        lists = groups.setdefault((a._data.dtype, str(a.device)), ([], []))
        lists[0].append(a)
        lists[1].append(p)
    return list(groups.values())


def update_bn(loader, model, device=None):
    """Recompute every batch norm's running statistics with one pass over ``loader`` (the first
    element of each batch that is a list or tuple is the input), as PyTorch's ``update_bn``."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate from its value to ``swa_lr`` (a number or one per group)
    over ``anneal_epochs`` steps, by a cosine (``"cos"``) or a straight line (``"linear"``), then
    hold it, as PyTorch's."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(optimizer.param_groups)
        if len(swa_lrs) != len(optimizer.param_groups):
            raise ValueError(f"SWALR: swa_lr must have the same length as optimizer.param_groups. swa_lr has "
                             f"{len(swa_lrs)} values, param_groups has {len(optimizer.param_groups)}.")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """From the current rate, the rate the schedule started from (undoing the last step's
        blend), then the blend for this step."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0.0, min(1.0, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0.0, min(1.0, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.pop("anneal_func")                  # a function: rebuilt from the strategy's name
        state["anneal_strategy"] = "cos" if self.anneal_func == self._cosine_anneal else "linear"
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        strategy = state.pop("anneal_strategy", "cos")
        super().load_state_dict(state)
        self.anneal_func = self._cosine_anneal if strategy == "cos" else self._linear_anneal

"""What ``python -m minigrad train`` writes after each epoch besides ``checkpoint.npz``:

- ``--save-format pt``: ``OUT/checkpoint.pt`` (``{"model", "optimizer", "epoch", "history"}`` in PyTorch's
  format: ``torch.load`` reads it, and ``minigrad.load``);
- ``--save-format safetensors``: ``OUT/model.safetensors`` (the model's state dict);
- ``--tensorboard DIR``: loss, accuracy (train and test), learning rate, and each parameter's gradient
  norm at the epoch's last step (``grad_norm/<name>``).

``checkpoint.npz`` is written in every format: it also holds the random generators' states, and it is
what ``--resume`` reads, so a resumed run is the run that was never interrupted.
"""
from __future__ import annotations

import math
import os

SAVE_FORMATS = ("npz", "pt", "safetensors")


class EpochOutputs:
    """Called after each epoch with the trainer; :meth:`close` at the end."""

    def __init__(self, out, save_format="npz", tensorboard=None):
        if save_format not in SAVE_FORMATS:
            raise ValueError(f"--save-format must be one of {', '.join(SAVE_FORMATS)}, got {save_format!r}")
        self.out, self.save_format = out, save_format
        if save_format == "safetensors":
            from .serialization import _safetensors
            _safetensors()                       # a missing extra is reported now, not after the first epoch
        self.writer = None
        if tensorboard:
            from .utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(tensorboard)

    def __call__(self, trainer):
        if self.save_format == "pt":
            from .serialization import save
            save({"model": trainer.unwrapped_model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
                  "epoch": trainer.epoch, "history": trainer.history}, os.path.join(self.out, "checkpoint.pt"))
        elif self.save_format == "safetensors":
            from .serialization import save_safetensors
            save_safetensors(trainer.unwrapped_model.state_dict(), os.path.join(self.out, "model.safetensors"),
                             metadata={"epoch": str(trainer.epoch)})
        if self.writer is not None:
            self._log(trainer)

    def _log(self, trainer):
        w, step, h = self.writer, trainer.epoch, trainer.history
        for split in ("train", "test"):
            for what in ("loss", "accuracy"):
                value = h[f"{split}_{what}"][-1]
                if not math.isnan(value):
                    w.add_scalar(f"{what}/{split}", value, step)
        w.add_scalar("learning_rate", trainer.optimizer.param_groups[0]["lr"], step)
        for name, p in trainer.unwrapped_model.named_parameters():
            if p.grad is not None:
                w.add_scalar(f"grad_norm/{name}", _norm(p.grad), step)
        w.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()


def _norm(t):
    import numpy as np

    from . import backend
    a = np.asarray(backend.to_device(t._data, backend.CPU), dtype=np.float64)
    return float(np.sqrt((a * a).sum()))

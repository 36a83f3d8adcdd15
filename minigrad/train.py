"""Training loops: fit and evaluate with progress, history, seeding and checkpoints.

    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), train_loader, test_loader)
    history = trainer.fit(epochs=5)               # one line per epoch
    trainer.save_checkpoint("run/checkpoint.npz")  # atomic; load_checkpoint resumes exactly

A checkpoint is one ``.npz``: the model's and optimizer's arrays under ``model/...`` and
``optim/...``, and a JSON document (``meta``) with everything else: optimizer hyperparameters,
scheduler state, epoch, history and the random generators' states, so that a resumed run
draws the same batches and dropout masks as an uninterrupted one.
"""
from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
import time
import zipfile

import numpy as np

from . import _files, autograd, backend
from ._files import atomic_write  # noqa: F401  (train.atomic_write, as before)
from .tensor import Tensor


# ----------------------------------------------------------------------------- progress
class _PlainProgress:
    """A one-line bar redrawn in place on a terminal; silent otherwise."""

    def __init__(self, total, desc, stream):
        self.total, self.desc, self.stream, self.n = total, desc, stream, 0
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.postfix = ""

    def update(self, n=1):
        self.n += n
        if self.live and (self.n == self.total or self.n % max(1, self.total // 50) == 0):
            done = int(30 * self.n / max(self.total, 1))
            self.stream.write(f"\r{self.desc} [{'#' * done}{'.' * (30 - done)}] {self.n}/{self.total} {self.postfix}")
            self.stream.flush()

    def set_postfix_str(self, text):
        self.postfix = text

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * (len(self.desc) + 60 + len(self.postfix)) + "\r")
            self.stream.flush()


def progress_bar(total, desc, stream=None, enabled=True):
    """tqdm when installed and writing to a terminal, else a plain in-place bar (or nothing)."""
    stream = stream or sys.stderr
    if not enabled:
        return _PlainProgress(total, desc, io.StringIO())
    if hasattr(stream, "isatty") and stream.isatty():
        try:
            from tqdm import tqdm
            return tqdm(total=total, desc=desc, file=stream, leave=False, dynamic_ncols=True)
        except ImportError:
            pass
    return _PlainProgress(total, desc, stream)


# ----------------------------------------------------------------------------- the trainer
class NonFiniteLossError(RuntimeError):
    """The training loss became nan or inf: continuing would only spread it into every weight."""


class NonFiniteWeightsError(RuntimeError):
    """A checkpoint would hold nan or inf weights: refused, so a good file is never replaced by one."""


class Trainer:
    """Fit a classifier (or any model whose loss takes ``(output, target)``).

    Accuracy is reported when outputs are class scores (N, C) and targets class indices.
    """

    def __init__(self, model, optimizer, loss_fn, train_loader, test_loader=None, scheduler=None,
                 device="cpu", clip_grad_norm=None, log=print, progress=True, generator=None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.test_loader, self.scheduler = train_loader, test_loader, scheduler
        self.device = backend.device(device)
        self.clip_grad_norm = clip_grad_norm
        self.log, self.progress = log, progress
        self.generator = generator if generator is not None else getattr(train_loader, "generator", None)
        self.epoch = 0
        self.meta = {}          # more JSON-able data saved with each checkpoint (the CLI's run settings)
        self.history = {"epoch": [], "train_loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": [],
                        "seconds": []}

    @property
    def unwrapped_model(self):
        """The model checkpoints hold: the module inside a DistributedDataParallel (so that a
        checkpoint of a data-parallel run loads into a plain model), else the model itself."""
        from .nn.parallel import DistributedDataParallel
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    def _to_device(self, batch):
        return [_move(b, self.device) for b in batch]

    def train_epoch(self):
        from .nn.utils import clip_grad_norm_
        self.model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = progress_bar(len(self.train_loader), f"epoch {self.epoch + 1}", enabled=self.progress)
        for batch, (inputs, targets) in enumerate(map(self._to_device, self.train_loader)):
            self.optimizer.zero_grad()
            output = self.model(inputs)
            loss = self.loss_fn(output, targets)
            value = loss.item()
            if not math.isfinite(value):        # stop before the step writes nan into the weights
                bar.close()
                raise NonFiniteLossError(f"epoch {self.epoch + 1}, batch {batch + 1}: the training loss is "
                                         f"{value}; stopped (is the learning rate too high?)")
            loss.backward()
            if self.clip_grad_norm:
                clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            n = len(targets)
            total_loss += value * n
            correct += _correct(output, targets)
            seen += n
            bar.update(1)
            bar.set_postfix_str(f"loss {total_loss / seen:.4f}")
        bar.close()
        if self.scheduler is not None:
            self.scheduler.step()
        total_loss, correct, seen = _over_all_ranks(self.model, total_loss, correct, seen)
        if seen == 0:                           # else an empty data set "trains" to loss 0 and exits 0
            raise ValueError("Trainer: the training loader gave no samples (is the data set empty?)")
        return total_loss / seen, correct / seen

    @autograd.no_grad()
    def evaluate(self, loader=None):
        """Mean loss and accuracy over ``loader`` (the test loader by default), in eval mode."""
        loader = loader or self.test_loader
        self.model.eval()
        total_loss, correct, seen = 0.0, 0, 0
        for inputs, targets in map(self._to_device, loader):
            output = self.model(inputs)
            n = len(targets)
            total_loss += self.loss_fn(output, targets).item() * n
            correct += _correct(output, targets)
            seen += n
        return total_loss / max(seen, 1), correct / max(seen, 1)

    def fit(self, epochs, checkpoint=None):
        """Train until ``epochs`` epochs are done in total (a resumed run continues from its
        epoch); log one line per epoch; save ``checkpoint`` (a path) after each epoch."""
        while self.epoch < epochs:
            start = time.perf_counter()
            train_loss, train_acc = self.train_epoch()
            test_loss, test_acc = self.evaluate() if self.test_loader is not None else (float("nan"), float("nan"))
            self.epoch += 1
            seconds = time.perf_counter() - start
            for key, value in (("epoch", self.epoch), ("train_loss", train_loss), ("train_accuracy", train_acc),
                               ("test_loss", test_loss), ("test_accuracy", test_acc), ("seconds", seconds)):
                self.history[key].append(value)
            self.log(f"epoch {self.epoch:3d}/{epochs}  loss {train_loss:.4f}  acc {train_acc:.4f}  "
                     f"test loss {test_loss:.4f}  test acc {test_acc:.4f}  ({seconds:.1f} s)")
            if checkpoint:
                self.save_checkpoint(checkpoint)
        return self.history

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path):
        meta = {**self.meta, "epoch": self.epoch, "history": self.history,
                "rng": _generator_states(self.generator),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None}
        save_checkpoint(path, self.unwrapped_model, self.optimizer, meta)

    def load_checkpoint(self, path):
        """Restore model, optimizer, scheduler, epoch, history and random states from ``path``;
        a file that does not fit changes nothing and raises one RuntimeError naming it."""
        meta = load_checkpoint(path, self.unwrapped_model, self.optimizer, check_meta=_check_trainer_meta)
        self.epoch = meta["epoch"]
        self.history = meta["history"]
        if self.scheduler is not None and meta.get("scheduler") is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        _set_generator_states(meta.get("rng"), self.generator)
        return meta


def _over_all_ranks(model, *sums):
    """A data-parallel run's epoch sums over every rank's share of the data (else as they are)."""
    from .nn.parallel import DistributedDataParallel
    if not isinstance(model, DistributedDataParallel):
        return sums
    from . import distributed, tensor
    total = tensor([float(v) for v in sums], dtype="float64")
    distributed.all_reduce(total)
    return tuple(total.tolist())


def _move(value, device):
    """Tensors to ``device``, inside tuples and lists too (text batches are ``((tokens, lengths), labels)``)."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(_move(v, device) for v in value)
    return value


def _correct(output, targets):
    """Samples classified right; for per-position outputs (N, C, L...) with targets (N, L...),
    each sample counts the share of its positions that are right."""
    if not isinstance(output, Tensor) or output.ndim < 2 or targets.dtype.kind not in "iu":
        return 0
    if tuple(output.shape[:1]) + tuple(output.shape[2:]) != tuple(targets.shape):
        return 0
    pred = backend.xp_of(output._data).argmax(output._data, axis=1)
    hits = pred == targets._data
    if output.ndim == 2:
        return int(hits.sum())
    return float(hits.sum()) * len(targets) / hits.size


# ----------------------------------------------------------------------------- checkpoint files
def _flatten_state(prefix, value, arrays, meta_path=()):
    """Split a nested state into arrays (stored in the npz) and JSON-able data (returned)."""
    if isinstance(value, Tensor):
        value = value._data
    if backend.is_array(value):
        key = prefix + "/" + "/".join(str(p) for p in meta_path)
        arrays[key] = backend.to_device(value, backend.CPU)
        return {"__array__": key}
    if isinstance(value, dict):
        return {"__dict__": [[_json_key(k), _flatten_state(prefix, v, arrays, meta_path + (k,))] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"__list__": [_flatten_state(prefix, v, arrays, meta_path + (i,)) for i, v in enumerate(value)],
                "tuple": isinstance(value, tuple)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_key(k):
    return {"int": k} if isinstance(k, int) else k


def _unflatten_state(value, arrays):
    if isinstance(value, dict):
        if "__array__" in value:
            return arrays[value["__array__"]]
        if "__dict__" in value:
            return {(k["int"] if isinstance(k, dict) else k): _unflatten_state(v, arrays) for k, v in value["__dict__"]}
        if "__list__" in value:
            items = [_unflatten_state(v, arrays) for v in value["__list__"]]
            return tuple(items) if value.get("tuple") else items
    return value


def remove_stale_temporaries(folder, names=("checkpoint.npz", "metrics.json")):
    """Delete what interrupted :func:`atomic_write` calls for ``names`` left in ``folder``; returns their paths."""
    return _files.remove_stale_temporaries(folder, names)


def save_checkpoint(path, model, optimizer=None, meta=None):
    """Write model (and optimizer) state atomically (see :func:`atomic_write`).  Weights that are
    not finite are refused: a diverged run must never replace a good checkpoint."""
    arrays = {}
    document = {"model": _flatten_state("model", dict(model.state_dict()), arrays),
                "optimizer": _flatten_state("optim", optimizer.state_dict(), arrays) if optimizer is not None else None,
                "meta": meta or {}}
    for key, value in arrays.items():
        if key.startswith("model/") and value.dtype.kind == "f" and not np.isfinite(value).all():
            raise NonFiniteWeightsError(f"save_checkpoint: {key.removeprefix('model/')} holds nan or inf; "
                             f"{path} was not written (an existing file is kept)")
    arrays["meta"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path, model, optimizer=None, check_meta=None):
    """Restore what :func:`save_checkpoint` wrote; returns its ``meta`` dict.

    Any problem (not a regular file, truncated, corrupt, edited, from another model) raises one
    RuntimeError that names the file, and leaves ``model`` and ``optimizer`` as they were;
    ``check_meta(meta)`` may raise ValueError to refuse the metadata before anything changes."""
    document, arrays = read_checkpoint(path)
    try:
        model_state = _unflatten_state(document["model"], arrays)
        optim_state = document.get("optimizer")
        optim_state = _unflatten_state(optim_state, arrays) if optim_state is not None else None
        meta = document.get("meta", {})
        if not isinstance(model_state, dict) or not isinstance(meta, dict):
            raise ValueError("'model' and 'meta' must be dicts")
        if check_meta is not None:
            check_meta(meta)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise RuntimeError(f"load_checkpoint: {path}: damaged metadata ({type(exc).__name__}: {exc}); "
                           f"nothing was loaded") from None
    before = {k: v._data.copy() for k, v in model.state_dict().items()}
    try:
        model.load_state_dict(model_state)
        if optimizer is not None and optim_state is not None:
            optimizer.load_state_dict(optim_state)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        model.load_state_dict(before)
        detail = " ".join(str(exc).split())
        raise RuntimeError(f"load_checkpoint: {path} does not fit this model: {detail}; nothing was loaded") from None
    return meta


def read_checkpoint(path):
    """``(document, arrays)`` of a checkpoint file, every size checked before it is allocated:
    members must be stored uncompressed (as :func:`save_checkpoint` writes them), so no array can
    be larger than the file itself.  Errors are one RuntimeError naming ``path``."""
    path = os.fspath(path)
    problem = _not_a_regular_file(path)
    if problem:
        raise RuntimeError(f"load_checkpoint: cannot read {path}: {problem}")
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for info in archive.infolist():
                arrays[info.filename.removesuffix(".npy")] = _read_member(archive, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise RuntimeError(f"load_checkpoint: {path} is not a readable minigrad checkpoint "
                           f"(truncated or corrupt: {exc}); nothing was loaded") from None
    if "meta" not in arrays:
        raise RuntimeError(f"load_checkpoint: {path} is not a minigrad checkpoint (no 'meta' entry)")
    try:
        document = json.loads(arrays.pop("meta").tobytes().decode())
        if not isinstance(document, dict) or "model" not in document:
            raise ValueError("no 'model' entry")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RuntimeError(f"load_checkpoint: {path}: damaged metadata ({exc}); nothing was loaded") from None
    return document, arrays


def _not_a_regular_file(path):
    try:
        info = os.stat(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None if stat.S_ISREG(info.st_mode) else "not a regular file"


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _read_member(archive, info):
    """One ``.npy`` member, its declared shape checked against the bytes it really holds."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{info.filename} is compressed; checkpoints store arrays uncompressed")
    with archive.open(info) as f:
        read_header = _NPY_HEADERS.get(np.lib.format.read_magic(f))
        if read_header is None:
            raise ValueError(f"{info.filename} is not a .npy array of a known version")
        shape, fortran, dtype = read_header(f, max_header_size=10000)
        if dtype.hasobject:
            raise ValueError(f"{info.filename} holds Python objects, which checkpoints never do")
        declared = math.prod(shape) * dtype.itemsize
        if declared != info.file_size - f.tell():
            raise ValueError(f"{info.filename} declares {declared} bytes of data but holds {info.file_size - f.tell()}")
        data = f.read(declared)
    if len(data) != declared:
        raise ValueError(f"{info.filename} is truncated")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _check_trainer_meta(meta):
    """What Trainer.load_checkpoint reads from ``meta``, checked before anything is restored."""
    if not isinstance(meta.get("epoch"), int) or isinstance(meta["epoch"], bool) or meta["epoch"] < 0:
        raise ValueError(f"'epoch' must be an integer >= 0, got {meta.get('epoch')!r}")
    history = meta.get("history")
    if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
        raise ValueError("'history' must map names to lists")
    rng = meta.get("rng")
    if rng is not None:
        for state in (rng["default_cpu"], *([rng["loader"]] if "loader" in rng else [])):
            backend.Generator().set_state(state)       # a scratch generator: raises on a bad state


def _generator_states(generator):
    states = {"default_cpu": backend.default_generator(backend.CPU).get_state()}
    if generator is not None:
        states["loader"] = generator.get_state()
    return states


def _set_generator_states(states, generator):
    if not states:
        return
    backend.default_generator(backend.CPU).set_state(states["default_cpu"])
    if generator is not None and "loader" in states:
        generator.set_state(states["loader"])

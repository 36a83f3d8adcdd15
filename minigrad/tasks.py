"""The training programs behind ``python -m minigrad train``: for each, a model, data,
loss, optimizer and default hyperparameters.

A task is a small description (:class:`Task`); ``run`` does the rest the same way for all:
seed, build, train with :class:`~minigrad.train.Trainer`, write ``metrics.json``, curves and a
checkpoint into the output folder.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable

from . import backend


class UsageError(Exception):
    """A bad argument or missing data: reported as one line, without a traceback."""


@dataclass
class Task:
    name: str
    description: str
    datasets: dict                   # data name -> loader(root) -> (train_dataset, test_dataset, info)
    build_model: Callable            # info -> Module
    build_optimizer: Callable        # (params, lr) -> Optimizer
    defaults: dict = field(default_factory=dict)
    default_data: str = "digits"
    data_defaults: dict = field(default_factory=dict)   # data name -> defaults that differ for it
    loaders: Callable | None = None   # (train, test, batch_size, generator, info) -> loaders, or None: the default


class BatchTransformLoader:
    """Apply ``transform`` to the inputs of every batch of ``loader`` (augmenting whole NCHW
    batches at once keeps the DataLoader's one-gather-per-batch path)."""

    def __init__(self, loader, transform):
        self.loader, self.transform = loader, transform
        self.generator = getattr(loader, "generator", None)

    def __iter__(self):
        for inputs, targets in self.loader:
            yield self.transform(inputs), targets

    def __len__(self):
        return len(self.loader)


# ----------------------------------------------------------------------------- data
def _digits(root):
    from .data import Digits
    return Digits(train=True), Digits(train=False), {"in_features": 64, "num_classes": 10, "image": (1, 8, 8)}


def _mnist(cls):
    def load(root):
        if not root:
            raise UsageError(f"--data {cls.__name__.lower()} needs --root DIR (a folder with the IDX files)")
        try:
            return cls(root, train=True), cls(root, train=False), {"in_features": 784, "num_classes": 10,
                                                                 "image": (1, 28, 28)}
        except (FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
            raise UsageError(str(exc)) from None
    return load


def _image_datasets():
    from .data import MNIST, FashionMNIST
    return {"digits": _digits, "mnist": _mnist(MNIST), "fashion-mnist": _mnist(FashionMNIST)}


CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _cifar10(root):
    from .data import CIFAR10
    if not root:
        raise UsageError("--data cifar10 needs --root DIR (a folder with cifar-10-batches-py)")
    try:
        return CIFAR10(root, train=True), CIFAR10(root, train=False), {"num_classes": 10, "image": (3, 32, 32),
                                                                      "augment": "cifar"}
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None


def _batch_transforms(info, generator):
    """(train, test) batch transforms: CIFAR's crop + flip + normalisation, else none."""
    if info.get("augment") != "cifar":
        return None, None
    from .data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip
    normalize = Normalize(CIFAR_MEAN, CIFAR_STD)
    return Compose([RandomCrop(32, padding=4, generator=generator), RandomHorizontalFlip(generator=generator),
                    normalize]), normalize


# ----------------------------------------------------------------------------- tasks
def _adam(params, lr):
    from .optim import Adam
    return Adam(params, lr=lr)


def _mlp_task():
    from .models import mlp
    return Task("mlp", "MLP Dense(256, relu) -> Dense(10) (Keras' MNIST program), Adam, cross-entropy", _image_datasets(),
                lambda info: mlp(info["in_features"], 256, info["num_classes"]), _adam,
                {"epochs": 20, "batch_size": 32, "lr": 1e-3})


def _sgd_momentum(params, lr):
    from .optim import SGD
    return SGD(params, lr=lr, momentum=0.9)


def _cnn_task():
    from .models import small_cnn
    return Task("cnn", "small CNN (2 conv + batch norm, max-pool, linear), Adam, cross-entropy", _image_datasets(),
                lambda info: small_cnn(info["num_classes"], info["image"][0]), _adam,
                {"epochs": 15, "batch_size": 32, "lr": 1e-3})


def _resnet_task(name, builder, description):
    def make():
        from . import models
        return Task(name, description, {"cifar10": _cifar10},
                    lambda info: getattr(models, builder)(info["num_classes"]), _sgd_momentum,
                    {"epochs": 10, "batch_size": 32, "lr": 1e-3}, default_data="cifar10")
    return make


def _sequential_digits(root):
    from .data import SequentialDigits
    return SequentialDigits(train=True), SequentialDigits(train=False), {"input_size": 8, "num_classes": 10}


IMDB_VOCAB = 20000


def _imdb(root):
    """IMDB reviews tokenized, with a vocabulary of the 20,000 most frequent training tokens
    (<pad> and <unk> included) that the model keeps and its checkpoint saves."""
    from .data import IMDB
    from .data.text import TokenizedDataset, basic_english, build_vocab
    if not root:
        raise UsageError("--data imdb needs --root DIR (the aclImdb folder, or the folder holding it)")
    try:
        train, test = IMDB(root, split="train"), IMDB(root, split="test")
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    vocab = build_vocab((basic_english(text) for text in train.texts), max_size=IMDB_VOCAB - 2)
    return (TokenizedDataset(train, vocab, basic_english), TokenizedDataset(test, vocab, basic_english),
            {"vocab": vocab, "num_classes": 2})


def _text_loaders(train, test, batch_size, generator, info):
    """Reviews of similar length batched together, padded with <pad>, with their lengths."""
    from .data import DataLoader
    from .data.text import BucketSampler, PadCollate
    if "vocab" not in info:
        return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
                DataLoader(test, batch_size=256))
    collate = PadCollate(info["vocab"].pad_index)
    train_order = BucketSampler(train.lengths, batch_size, generator=generator)
    test_order = BucketSampler(test.lengths, 256, shuffle=False)
    return (DataLoader(train, batch_size=batch_size, sampler=train_order, collate_fn=collate),
            DataLoader(test, batch_size=256, sampler=test_order, collate_fn=collate))


def _lstm_model_for(info):
    from .models import SequenceLSTM, text_lstm
    return text_lstm(info["vocab"]) if "vocab" in info else SequenceLSTM(info["input_size"], 128, info["num_classes"])


def _lstm_task():
    return Task("lstm", "LSTM classifier (PyTorch's IMDB program: Embedding(vocab, 100) -> LSTM(100, 256) -> Linear; "
                "digits: 8 steps of 8 pixels -> LSTM(8, 128) -> Linear), Adam, cross-entropy",
                {"digits": _sequential_digits, "imdb": _imdb}, _lstm_model_for, _adam,
                {"epochs": 40, "batch_size": 64, "lr": 2e-3}, data_defaults={"imdb": {"epochs": 5}},
                loaders=_text_loaders)


TASKS = {"mlp": _mlp_task, "cnn": _cnn_task, "lstm": _lstm_task,
         "resnet18": _resnet_task("resnet18", "resnet18", "torchvision's ResNet-18, SGD (momentum 0.9), cross-entropy"),
         "resnet18_cifar": _resnet_task("resnet18_cifar", "resnet18_cifar",
                                        "ResNet-18 with the CIFAR stem (3x3, no max-pool), SGD (momentum 0.9)")}


def _usable_device(device):
    """The device, checked to be usable (CuPy and a GPU for cuda), or one clear UsageError."""
    try:
        dev = backend.device(device)
        backend.array_module(dev)
    except (RuntimeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return dev


def get_task(name) -> Task:
    if name not in TASKS:
        raise UsageError(f"unknown model {name!r}; choose one of {', '.join(sorted(TASKS))}")
    return TASKS[name]()


# ----------------------------------------------------------------------------- running one
def run(model_name, data=None, root=None, epochs=None, batch_size=None, lr=None, seed=0, device="cpu",
        out="runs", progress=True, resume=False, log=print, save_format="npz", tensorboard=None):
    """Train ``model_name`` and write its outputs; returns the metrics dict.  ``save_format`` and
    ``tensorboard``: what else is written after each epoch (see :mod:`minigrad.run_outputs`)."""
    from . import manual_seed
    from .data import DataLoader
    from .backend import Generator
    from .nn import CrossEntropyLoss
    from .train import Trainer

    task = get_task(model_name)
    data = data or task.default_data
    if data not in task.datasets:
        raise UsageError(f"--data {data!r} is not available for {model_name}; choose one of "
                         f"{', '.join(task.datasets)}")
    defaults = {**task.defaults, **task.data_defaults.get(data, {})}
    epochs = epochs if epochs is not None else defaults["epochs"]
    batch_size = batch_size if batch_size is not None else defaults["batch_size"]
    lr = lr if lr is not None else defaults["lr"]
    for name, value in (("epochs", epochs), ("batch-size", batch_size)):
        if value <= 0:
            raise UsageError(f"--{name} must be positive, got {value}")
    if lr <= 0:
        raise UsageError(f"--lr must be positive, got {lr}")
    dev = _usable_device(device)

    rank, world = _join_ranks()
    if rank != 0:                                  # only rank 0 prints and writes
        log, progress = (lambda *args, **kwargs: None), False
    manual_seed(seed)
    train_set, test_set, info = task.datasets[data](root)
    generator = Generator().manual_seed(seed)
    epochs_sampler = None
    if world > 1 and task.loaders is None:         # a fresh global shuffle per epoch, split among the ranks
        from .data import DistributedSampler
        epochs_sampler = _SamplerPerEpoch(DistributedSampler(train_set, world, rank, shuffle=True, seed=seed))
        train_loader = DataLoader(train_set, batch_size=batch_size, sampler=epochs_sampler)
        test_loader = DataLoader(test_set, batch_size=256)
    elif world > 1:                                # the task's own loaders (length buckets) on a fixed shard
        from .data import DistributedSampler, Subset
        shard = Subset(train_set, list(DistributedSampler(train_set, world, rank, shuffle=True, seed=seed)))
        train_loader, test_loader = task.loaders(shard, test_set, batch_size, generator, info)
    elif task.loaders is not None:
        train_loader, test_loader = task.loaders(train_set, test_set, batch_size, generator, info)
    else:
        train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
        test_loader = DataLoader(test_set, batch_size=256)
    train_transform, test_transform = _batch_transforms(info, generator)
    if train_transform is not None:
        train_loader = BatchTransformLoader(train_loader, train_transform)
        test_loader = BatchTransformLoader(test_loader, test_transform)
    model = task.build_model(info).to(dev)
    if world > 1:
        from .nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model)
    optimizer = task.build_optimizer(model.parameters(), lr)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), train_loader, test_loader, device=dev,
                      progress=progress, log=log, generator=generator)
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(out, "checkpoint.npz")
    if resume and os.path.exists(checkpoint):
        trainer.load_checkpoint(checkpoint)
        log(f"resumed from {checkpoint} at epoch {trainer.epoch}")
    if epochs_sampler is not None:
        epochs_sampler.epoch = trainer.epoch
    n_params = sum(p.numel() for p in model.parameters())
    batch = f"batch {batch_size}" if world == 1 else \
        f"batch {batch_size} per rank on {world} ranks (global batch {batch_size * world})"
    log(f"{task.description}: {model_name} on {data} ({len(train_set)} train / {len(test_set)} test), "
        f"{n_params:,} parameters, {epochs} epochs, {batch}, lr {lr}, seed {seed}, {dev}")
    start = time.perf_counter()
    history = _fit(trainer, epochs, checkpoint, out, save_format, tensorboard, writes=rank == 0)
    elapsed = time.perf_counter() - start
    test_loss, test_acc = trainer.evaluate()
    if rank != 0:
        return None
    metrics = {"model": model_name, "data": data, "epochs": epochs, "batch_size": batch_size, "ranks": world,
               "lr": lr, "seed": seed, "device": str(dev), "parameters": n_params, "train_seconds": elapsed,
               "history": history, "test_loss": test_loss, "test_accuracy": test_acc}
    _write_json(os.path.join(out, "metrics.json"), metrics)
    curves = _plot(history, os.path.join(out, "curves.png"))
    log(f"test accuracy {test_acc:.4f} (test loss {test_loss:.4f}) after {elapsed:.1f} s; "
        f"wrote {os.path.join(out, 'metrics.json')}" + (f", {curves}" if curves else " (pip install matplotlib for curves.png)"))
    return metrics


def _join_ranks():
    """(rank, world size): under ``mpiexec -n N`` (N > 1) join the process group for data-parallel
    training; else (0, 1)."""
    from . import distributed
    if distributed.launched_with_ranks() == 1 and not distributed.is_initialized():
        return 0, 1
    if not distributed.is_initialized():
        try:
            distributed.init_process_group("mpi")
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None
    return distributed.get_rank(), distributed.get_world_size()


class _SamplerPerEpoch:
    """A DistributedSampler that moves to the next epoch each time an epoch starts."""

    def __init__(self, sampler):
        self.sampler, self.epoch = sampler, 0

    def __iter__(self):
        self.sampler.set_epoch(self.epoch)
        self.epoch += 1
        return iter(self.sampler)

    def __len__(self):
        return len(self.sampler)


def _fit(trainer, epochs, checkpoint, out, save_format, tensorboard, writes=True):
    """trainer.fit, with the .pt/.safetensors copy and TensorBoard logs written after each epoch's
    checkpoint (the trainer's own save_checkpoint, called after every epoch, is wrapped for that).
    ``writes=False`` (ranks other than 0 of a data-parallel run): no files at all."""
    from .run_outputs import EpochOutputs
    if not writes:
        return trainer.fit(epochs)
    try:
        outputs = EpochOutputs(out, save_format, tensorboard)
    except (ValueError, ImportError) as exc:
        raise UsageError(str(exc)) from None
    save = trainer.save_checkpoint

    def save_then_export(path):
        save(path)
        outputs(trainer)

    trainer.save_checkpoint = save_then_export
    try:
        return trainer.fit(epochs, checkpoint=checkpoint)
    finally:
        del trainer.save_checkpoint
        outputs.close()


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def _plot(history, path):
    try:
        from .viz import plot_curves
        return plot_curves(history, path)
    except ImportError:
        return None


# ----------------------------------------------------------------------------- one step, for graph and profile
STEP_MODELS = ("mlp", "cnn", "lstm", "resnet18")
_DIGITS_INFO = {"in_features": 64, "num_classes": 10, "image": (1, 8, 8)}
_CIFAR_INFO = {"num_classes": 10, "image": (3, 32, 32)}


@dataclass
class ExampleStep:
    """One training step of a classic model on a random batch shaped like its data."""
    name: str
    model: object
    inputs: object
    targets: object
    loss_fn: Callable
    optimizer: object

    def forward_backward(self):
        """Zero the gradients, compute the loss, backpropagate; returns the loss."""
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.inputs), self.targets)
        loss.backward()
        return loss


def _lstm_model(info):
    try:
        from .models.text_lstm import SequenceLSTM
    except ImportError as exc:
        raise UsageError(f"the lstm model is not available in this build ({exc})") from None
    return SequenceLSTM(info["image"][2], 128, info["num_classes"])        # the digits read row by row


def example_step(model_name, batch_size=32, device="cpu", seed=0, input_grad=False) -> ExampleStep:
    """Build ``model_name`` (mlp, cnn, lstm: the digits programs; resnet18: CIFAR-10's) with a random batch
    of ``batch_size``; ``input_grad=True`` makes the inputs require grad (so graphs show them)."""
    from . import manual_seed, randint, randn
    from .nn import CrossEntropyLoss
    if model_name not in STEP_MODELS:
        raise UsageError(f"unknown model {model_name!r}; choose one of {', '.join(STEP_MODELS)}")
    if batch_size <= 0:
        raise UsageError(f"--batch-size must be positive, got {batch_size}")
    dev = _usable_device(device)
    manual_seed(seed)
    info = _CIFAR_INFO if model_name == "resnet18" else _DIGITS_INFO
    if model_name == "lstm":
        model, optimizer = _lstm_model(info), _adam
    else:
        task = get_task(model_name)
        model, optimizer = task.build_model(info), task.build_optimizer
    model = model.to(dev)
    inputs = randn(batch_size, *info["image"], device=dev, requires_grad=input_grad)
    targets = randint(0, info["num_classes"], (batch_size,), device=dev)
    return ExampleStep(model_name, model, inputs, targets, CrossEntropyLoss(), optimizer(model.parameters(), 1e-3))

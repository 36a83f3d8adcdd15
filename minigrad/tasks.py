"""The training programs behind ``python -m minigrad train``: for each, a model, data,
loss, optimizer and default hyperparameters.

A task is a small description (:class:`Task`); ``run`` does the rest the same way for all:
seed, build, train with :class:`~minigrad.train.Trainer`, write ``metrics.json``, curves and a
checkpoint into the output folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable

from . import backend
from ._files import atomic_write


class UsageError(Exception):
    """A bad argument or missing data: reported as one line, without a traceback."""


class TrainingFailed(Exception):
    """Training stopped (a non-finite loss, a failed write): one line and a non-zero exit."""


@dataclass(frozen=True)
class DataInfo:
    """What a task's model and loaders learn about its data (``datasets`` return it third)."""
    num_classes: int
    in_features: int | None = None      # a sample flattened (the MLP)
    image: tuple | None = None          # (C, H, W) of an image sample
    input_size: int | None = None       # features per time step of a sequence
    vocab: object = None                # a text data set's vocabulary (its model embeds it)
    augment: str | None = None          # "cifar": crop, flip and normalise the training batches
    notes: tuple = ()                   # said once when the data is loaded


@dataclass
class Task:
    name: str
    description: str
    datasets: dict                   # data name -> loader(root) -> (train_dataset, test_dataset, DataInfo)
    build_model: Callable            # DataInfo -> Module
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
#: The bundled digits: 64 features, a 1x8x8 image, or a sequence of 8 rows of 8.
DIGITS = DataInfo(num_classes=10, in_features=64, image=(1, 8, 8), input_size=8)
MNIST_INFO = DataInfo(num_classes=10, in_features=784, image=(1, 28, 28))
CIFAR_INFO = DataInfo(num_classes=10, image=(3, 32, 32), augment="cifar")


def _digits(root):
    from .data import Digits
    return Digits(train=True), Digits(train=False), DIGITS


def _mnist(cls):
    def load(root):
        if not root:
            raise UsageError(f"--data {cls.__name__.lower()} needs --root DIR (a folder with the IDX files)")
        try:
            return cls(root, train=True), cls(root, train=False), MNIST_INFO
        except FileNotFoundError as exc:
            if not getattr(exc, "missing", None):
                raise UsageError(str(exc)) from None
            raw = os.path.join(root, cls.folder, "raw")
            raise UsageError(f"{cls.__name__}: {exc.missing} not found in {root} or {raw}; this command does not "
                             f"download: fetch the four IDX files (raw or .gz; see {cls.mirrors[0]}) and put "
                             f"them in either folder") from None
        except (ValueError, RuntimeError, OSError) as exc:
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
        return CIFAR10(root, train=True), CIFAR10(root, train=False), CIFAR_INFO
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None


def _batch_transforms(info, generator):
    """(train, test) batch transforms: CIFAR's crop + flip + normalisation, else none."""
    if info.augment != "cifar":
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
    return Task(name="mlp", description="MLP Dense(256, relu) -> Dense(10) (Keras' MNIST program), Adam, cross-entropy",
                datasets=_image_datasets(), build_model=lambda info: mlp(info.in_features, 256, info.num_classes),
                build_optimizer=_adam, defaults={"epochs": 20, "batch_size": 32, "lr": 1e-3})


def _sgd_momentum(params, lr):
    from .optim import SGD
    return SGD(params, lr=lr, momentum=0.9)


def _cnn_task():
    from .models import small_cnn
    return Task(name="cnn", description="small CNN (2 conv + batch norm, max-pool, linear), Adam, cross-entropy",
                datasets=_image_datasets(), build_model=lambda info: small_cnn(info.num_classes, info.image[0]),
                build_optimizer=_adam, defaults={"epochs": 15, "batch_size": 32, "lr": 1e-3})


def _resnet_task(name, builder, description):
    def make():
        from . import models
        return Task(name=name, description=description, datasets={"cifar10": _cifar10},
                    build_model=lambda info: getattr(models, builder)(info.num_classes), build_optimizer=_sgd_momentum,
                    defaults={"epochs": 10, "batch_size": 32, "lr": 1e-3}, default_data="cifar10")
    return make


def _sequential_digits(root):
    from .data import SequentialDigits
    return SequentialDigits(train=True), SequentialDigits(train=False), DIGITS


IMDB_VOCAB = 20000


def _imdb(root, vocab=None):
    """IMDB reviews tokenized, with a vocabulary of the 20,000 most frequent training tokens
    (<pad> and <unk> included) that the model keeps and its checkpoint saves; ``vocab`` (a
    resumed run's) replaces it.  Skipped files are reported in one note per split."""
    from .data import IMDB
    from .data.text import TokenizedDataset, basic_english, build_vocab
    if not root:
        raise UsageError("--data imdb needs --root DIR (the aclImdb folder, or the folder holding it)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")           # IMDB's skip warning: said below as one note per split
            train, test = IMDB(root, split="train"), IMDB(root, split="test")
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    notes = [f"IMDB {ds.split}: skipped {len(ds.skipped)} unreadable review file(s), e.g. {ds.skipped[0][0]}: "
             f"{ds.skipped[0][1]}" for ds in (train, test) if ds.skipped]
    if vocab is None:
        vocab = build_vocab((basic_english(text) for text in train.texts), max_size=IMDB_VOCAB - 2)
    return (TokenizedDataset(train, vocab, basic_english), TokenizedDataset(test, vocab, basic_english),
            DataInfo(num_classes=2, vocab=vocab, notes=tuple(notes)))


def _text_loaders(train, test, batch_size, generator, info):
    """Reviews of similar length batched together, padded with <pad>, with their lengths."""
    from .data import DataLoader
    from .data.text import BucketSampler, PadCollate
    if info.vocab is None:
        return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
                DataLoader(test, batch_size=256))
    collate = PadCollate(info.vocab.pad_index)
    train_order = BucketSampler(train.lengths, batch_size, generator=generator)
    test_order = BucketSampler(test.lengths, 256, shuffle=False)
    return (DataLoader(train, batch_size=batch_size, sampler=train_order, collate_fn=collate),
            DataLoader(test, batch_size=256, sampler=test_order, collate_fn=collate))


def _lstm_model_for(info):
    """A text data set's LSTM (embedding its vocabulary), or one reading a sequence of feature rows."""
    from .models import SequenceLSTM, text_lstm
    return text_lstm(info.vocab) if info.vocab is not None else SequenceLSTM(info.input_size, 128, info.num_classes)


def _lstm_task():
    return Task(name="lstm", description="LSTM classifier (PyTorch's IMDB program: Embedding(vocab, 100) -> "
                "LSTM(100, 256) -> Linear; digits: 8 steps of 8 pixels -> LSTM(8, 128) -> Linear), Adam, cross-entropy",
                datasets={"digits": _sequential_digits, "imdb": _imdb}, build_model=_lstm_model_for,
                build_optimizer=_adam, defaults={"epochs": 40, "batch_size": 64, "lr": 2e-3},
                data_defaults={"imdb": {"epochs": 5}}, loaders=_text_loaders)


def _reversal(root):
    from .data.chars import reversal
    train, test = reversal()
    return train, test, {"vocab_size": len(train.alphabet), "max_len": train.inputs.shape[1], "causal": False}


CHAR_SEQ_LEN = 64


def _char_text(root):
    """Next-character prediction on the UTF-8 text file ``root`` (its last tenth is the test set)."""
    from .data.chars import text_chunks
    if not root:
        raise UsageError("--data text needs --root FILE (a UTF-8 text file to model character by character)")
    try:
        with open(root, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--root {root}: cannot read it as UTF-8 text ({exc})") from None
    try:
        train, test = text_chunks(text, CHAR_SEQ_LEN)
    except ValueError as exc:
        raise UsageError(f"--root {root}: {exc}") from None
    return train, test, {"vocab_size": len(train.alphabet), "max_len": CHAR_SEQ_LEN, "causal": True}


def _transformer_task():
    def build(info):
        from .models import CharTransformer
        return CharTransformer(info["vocab_size"], info["max_len"], causal=info["causal"])
    return Task(name="transformer",
                description="character-level Transformer (embeddings + positions -> 2 pre-norm encoder layers, "
                            "d_model 64, 4 heads -> Linear per position; causal on text), Adam, cross-entropy",
                datasets={"reverse": _reversal, "text": _char_text}, build_model=build, build_optimizer=_adam,
                defaults={"epochs": 2, "batch_size": 64, "lr": 3e-3}, default_data="reverse",
                data_defaults={"text": {"epochs": 5}})


TASKS = {"mlp": _mlp_task, "cnn": _cnn_task, "lstm": _lstm_task, "transformer": _transformer_task,
         "resnet18": _resnet_task("resnet18", "resnet18", "torchvision's ResNet-18, SGD (momentum 0.9), cross-entropy"),
         "resnet18_cifar": _resnet_task("resnet18_cifar", "resnet18_cifar",
                                        "ResNet-18 with the CIFAR stem (3x3, no max-pool), SGD (momentum 0.9)")}


def data_help():
    """Each program's data sets, its default first: 'mlp, cnn: digits (default), mnist, ...'."""
    by_choices = {}
    for name in sorted(TASKS):
        task = TASKS[name]()
        choices = [f"{task.default_data} (default)"] + [d for d in task.datasets if d != task.default_data]
        by_choices.setdefault(", ".join(choices), []).append(name)
    return "; ".join(f"{', '.join(names)}: {choices}" for choices, names in by_choices.items())


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
#: Data sets that ship with minigrad: they read no --root.
BUNDLED = ("digits", "reverse")
#: The settings a run records in its checkpoint, and how a resumed run treats a flag given again:
#: flags left out come from the checkpoint; these may change; the others must match it.
RUN_SETTINGS = ("model", "data", "epochs", "batch_size", "lr", "seed")
CHANGEABLE_ON_RESUME = ("epochs", "batch_size", "lr")
OUTPUT_FILES = ("checkpoint.npz", "metrics.json", "curves.png")


def run(model_name, data=None, root=None, epochs=None, batch_size=None, lr=None, seed=None, device="cpu",
        out="runs", progress=True, resume=False, overwrite=False, log=print, save_format="npz", tensorboard=None):
    """Train ``model_name`` and write its outputs into ``out``; returns the metrics dict.

    ``resume``: continue the run whose checkpoint is in ``out`` (settings left as None come from
    it; epochs, batch_size and lr given anew apply; a different model, data or seed is refused).
    A fresh run refuses an ``out`` that already holds a run unless ``overwrite``.  ``save_format``
    and ``tensorboard``: what else is written after each epoch (see :mod:`minigrad.run_outputs`)."""
    from .nn import CrossEntropyLoss
    from .train import Trainer

    task = get_task(model_name)
    rank, world = _join_ranks()
    if rank != 0:                                  # under mpiexec only rank 0 prints and writes
        log, progress = (lambda *args, **kwargs: None), False
    given = {"model": model_name, "data": data, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    checkpoint = os.path.join(out, "checkpoint.npz")
    saved = _existing_run(out, checkpoint, resume, overwrite)
    settings = _settings(task, given, saved["settings"] if saved else None, root)
    dev = _usable_device(device)
    if rank == 0:
        _make_out(out, log)
    if resume and saved is None:
        log(f"--resume: no checkpoint in {out} yet; starting a fresh run")

    from . import manual_seed
    manual_seed(settings["seed"])
    train_set, test_set, info = _load_data(task, settings["data"], root, saved, log)
    train_loader, test_loader, generator, epochs_sampler = _loaders(task, train_set, test_set, settings, info,
                                                                    rank, world)
    model = task.build_model(info).to(dev)
    if world > 1:
        from .nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model)
    optimizer = task.build_optimizer(model.parameters(), settings["lr"])
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), train_loader, test_loader, device=dev,
                      progress=progress, log=log, generator=generator)
    trainer.meta = {"run": settings}
    if saved is not None:
        _resume(trainer, checkpoint, settings, given, log)
    if epochs_sampler is not None:
        epochs_sampler.epoch = trainer.epoch
    n_params = sum(p.numel() for p in model.parameters())
    epochs = settings["epochs"]
    batch = f"batch {settings['batch_size']}" if world == 1 else \
        f"batch {settings['batch_size']} per rank on {world} ranks (global batch {settings['batch_size'] * world})"
    log(f"{task.description}: {model_name} on {settings['data']} ({len(train_set)} train / {len(test_set)} test), "
        f"{n_params:,} parameters, {epochs} epoch{'s' if epochs != 1 else ''}, {batch}, "
        f"lr {settings['lr']}, seed {settings['seed']}, {dev}")
    if rank == 0:
        with _epoch_outputs(trainer, out, save_format, tensorboard):
            _fit(trainer, epochs, checkpoint)
    else:                                          # the other ranks write nothing
        _fit(trainer, epochs, None)
    test_loss, test_acc = trainer.evaluate()
    if rank != 0:
        return None
    elapsed = sum(trainer.history["seconds"])            # every epoch of the run, across resumes
    metrics = {**settings, "ranks": world, "device": str(dev), "parameters": n_params, "train_seconds": elapsed,
               "history": trainer.history, "test_loss": test_loss, "test_accuracy": test_acc}
    try:
        written = [checkpoint, _write_json(os.path.join(out, "metrics.json"), metrics)]
        curves = _plot(trainer.history, os.path.join(out, "curves.png"))
    except OSError as exc:
        raise TrainingFailed(f"cannot write {exc.filename or 'metrics.json'} in {out}: {exc.strerror or exc} "
                             f"(the checkpoint is saved)") from None
    written += [curves] if curves else []
    log(f"test accuracy {test_acc:.4f} (test loss {test_loss:.4f}) after {elapsed:.1f} s of training; "
        f"wrote {', '.join(written)}" + ("" if curves else " (pip install matplotlib for curves.png)"))
    return metrics


def _existing_run(out, checkpoint, resume, overwrite):
    """What ``out`` already holds: the saved run (its settings and vocabulary) when resuming,
    None for a fresh run; a fresh run over an existing one needs ``overwrite``."""
    from .train import read_checkpoint
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder")
    if not os.path.exists(checkpoint):
        return None
    if not resume and overwrite:
        return None
    try:
        document, arrays = read_checkpoint(checkpoint)
    except RuntimeError as exc:
        if not resume:
            raise UsageError(f"--out {out} already holds a checkpoint; pass --overwrite to replace it, or choose "
                             f"another --out") from None
        raise UsageError(str(exc).removeprefix("load_checkpoint: ")) from None
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    settings = _valid_settings(meta.get("run"))
    if not resume:
        what = f"{settings.get('model', 'a model')} on {settings.get('data', 'its data')}, epoch {meta.get('epoch', '?')}"
        raise UsageError(f"--out {out} already holds a run ({what}); pass --resume to continue it, --overwrite to "
                         f"replace it, or choose another --out")
    return {"settings": settings, "vocab": _saved_vocab(checkpoint, arrays.get("model/vocab"))}


def _valid_settings(saved):
    """The checkpoint's run settings that have their proper types (an edited file may hold others,
    and a checkpoint saved by Trainer alone holds none): the rest fall back to flags and defaults."""
    kinds = {"model": str, "data": str, "epochs": int, "batch_size": int, "lr": (int, float), "seed": int}
    if not isinstance(saved, dict):
        return {}
    return {k: v for k, v in saved.items() if k in kinds and isinstance(v, kinds[k]) and not isinstance(v, bool)}


def _make_out(out, log):
    """Create ``out`` and clear the temporaries an interrupted save left there."""
    from .train import remove_stale_temporaries
    try:
        os.makedirs(out, exist_ok=True)
        removed = remove_stale_temporaries(out, OUTPUT_FILES)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {out}: the folder is not writable")
    if removed:
        log(f"removed {len(removed)} temporary file(s) an interrupted save left in {out}")


def _settings(task, given, saved, root):
    """The run's settings: the flags given, else (resuming) the checkpoint's, else the defaults."""
    saved = saved or {}
    for name in RUN_SETTINGS:
        if name in CHANGEABLE_ON_RESUME or given[name] is None or saved.get(name) is None:
            continue
        if given[name] != saved[name]:
            flag = "the model" if name == "model" else f"--{name.replace('_', '-')} {given[name]}"
            raise UsageError(f"{flag} differs from the checkpoint's {name} {saved[name]!r}; a resumed run keeps "
                             f"its {name} (drop the flag, or start a fresh run with --overwrite or another --out)")
    settings = {name: given[name] if given[name] is not None else saved.get(name) for name in RUN_SETTINGS}
    settings["data"] = settings["data"] or task.default_data
    if settings["data"] not in task.datasets:
        raise UsageError(f"--data {settings['data']!r} is not available for {task.name}; choose one of "
                         f"{', '.join(task.datasets)}")
    if root and settings["data"] in BUNDLED:
        raise UsageError(f"--root {root} is not used by --data {settings['data']} (bundled with minigrad); "
                         f"name the data set to read from it with --data ({', '.join(_rooted(task))})")
    defaults = {**task.defaults, **task.data_defaults.get(settings["data"], {}), "seed": 0}
    settings.update({k: defaults[k] for k in ("epochs", "batch_size", "lr", "seed") if settings[k] is None})
    for name in ("epochs", "batch_size"):
        if settings[name] <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive, got {settings[name]}")
    if not 0 < settings["lr"] < float("inf"):
        raise UsageError(f"--lr must be positive and finite, got {settings['lr']}")
    return settings


def _rooted(task):
    return [name for name in task.datasets if name not in BUNDLED]


def _load_data(task, data, root, saved, log):
    """(train, test, info); resuming, a text task tokenizes with the checkpoint's vocabulary."""
    extra = {"vocab": saved["vocab"]} if saved is not None and saved["vocab"] is not None else {}
    train_set, test_set, info = task.datasets[data](root, **extra)
    for note in info.notes:
        log(note)
    for split, dataset in (("training", train_set), ("test", test_set)):
        if len(dataset) == 0:
            raise UsageError(f"--data {data}{f' in {root}' if root else ''}: the {split} set is empty")
    return train_set, test_set, info


def _saved_vocab(checkpoint, raw):
    """The vocabulary a checkpoint's model was trained with (None if it has none): a resumed
    run must tokenize with it, or token ids would mean other words than the embedding learned."""
    if raw is None:
        return None
    from .data.text import Vocab
    try:
        return Vocab.from_bytes(raw.tobytes())
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{checkpoint}: damaged vocabulary ({exc}); nothing was loaded") from None


def _loaders(task, train_set, test_set, settings, info, rank=0, world=1):
    """(train loader, test loader, generator, the per-epoch distributed sampler or None)."""
    from .backend import Generator
    from .data import DataLoader
    generator = Generator().manual_seed(settings["seed"])
    batch_size = settings["batch_size"]
    epochs_sampler = None
    if world > 1 and task.loaders is None:         # a fresh global shuffle per epoch, split among the ranks
        from .data import DistributedSampler
        epochs_sampler = _SamplerPerEpoch(DistributedSampler(train_set, world, rank, shuffle=True,
                                                             seed=settings["seed"]))
        train_loader = DataLoader(train_set, batch_size=batch_size, sampler=epochs_sampler)
        test_loader = DataLoader(test_set, batch_size=256)
    elif world > 1:                                # the task's own loaders (length buckets) on a fixed shard
        from .data import DistributedSampler, Subset
        shard = Subset(train_set, list(DistributedSampler(train_set, world, rank, shuffle=True,
                                                          seed=settings["seed"])))
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
    return train_loader, test_loader, generator, epochs_sampler


def _resume(trainer, checkpoint, settings, given, log):
    """Load the checkpoint; a --lr given anew replaces the optimizer state's learning rate."""
    try:
        trainer.load_checkpoint(checkpoint)
    except RuntimeError as exc:
        raise UsageError(str(exc).removeprefix("load_checkpoint: ")) from None
    log(f"resumed from {checkpoint} at epoch {trainer.epoch}")
    saved_lr = trainer.optimizer.param_groups[0]["lr"]
    if given["lr"] is not None and given["lr"] != saved_lr:
        for group in trainer.optimizer.param_groups:
            group["lr"] = given["lr"]
        log(f"--lr {given['lr']} replaces the checkpoint's learning rate {saved_lr}")
    settings["lr"] = trainer.optimizer.param_groups[0]["lr"]


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


@contextlib.contextmanager
def _epoch_outputs(trainer, out, save_format, tensorboard):
    """The .pt/.safetensors copy and TensorBoard logs, written after each epoch's checkpoint (the
    trainer's own save_checkpoint, called after every epoch, is wrapped for that)."""
    from .run_outputs import EpochOutputs
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
        yield
    finally:
        del trainer.save_checkpoint
        outputs.close()


def _fit(trainer, epochs, checkpoint):
    """Train, saving after each epoch; a diverged loss or a failed write is one clear line."""
    from .train import NonFiniteLossError, NonFiniteWeightsError
    try:
        trainer.fit(epochs, checkpoint=checkpoint)
    except NonFiniteLossError as exc:
        if checkpoint is None or not os.path.exists(checkpoint):
            kept = "no checkpoint was written"
        elif trainer.history["epoch"]:
            kept = f"{checkpoint} keeps epoch {trainer.epoch}"
        else:
            kept = f"{checkpoint} was left as it was"
        raise TrainingFailed(f"{exc}; {kept}") from None
    except NonFiniteWeightsError as exc:
        raise TrainingFailed(str(exc)) from None
    except OSError as exc:
        raise TrainingFailed(f"cannot write {checkpoint}: {exc.strerror or exc}; the last good checkpoint "
                             f"is kept") from None


def _write_json(path, obj):
    atomic_write(path, lambda f: json.dump(obj, f, indent=1), binary=False)
    return path


def _plot(history, path):
    try:
        from .viz import plot_curves
        return plot_curves(history, path)
    except ImportError:
        return None


# ----------------------------------------------------------------------------- one step, for graph and profile
STEP_MODELS = ("mlp", "cnn", "lstm", "resnet18")


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
    info = CIFAR_INFO if model_name == "resnet18" else DIGITS      # the lstm reads the digits row by row
    task = get_task(model_name)
    model = task.build_model(info).to(dev)
    inputs = randn(batch_size, *info.image, device=dev, requires_grad=input_grad)
    targets = randint(0, info.num_classes, (batch_size,), device=dev)
    return ExampleStep(model_name, model, inputs, targets, CrossEntropyLoss(),
                       task.build_optimizer(model.parameters(), 1e-3))

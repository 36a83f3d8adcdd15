"""The text pipeline (tokenizer, Vocab, bucketing, padding), the IMDB reader on a small tree
these tests write, the sequential digits, the LSTM models and ``python -m minigrad train lstm``."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import IMDB, DataLoader, SequentialDigits
from minigrad.data.text import (BucketSampler, PadCollate, TokenizedDataset, Vocab, basic_english, build_vocab,
                                get_tokenizer, numericalize)
from minigrad.models import SequenceLSTM, TextLSTM, text_lstm

from helpers import host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSITIVE = ["great", "wonderful", "loved", "excellent", "brilliant"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "waste"]
FILLER = "the movie was a and it plot actors film this scene".split()


def write_imdb(root, n_train=40, n_test=16, seed=0):
    """An aclImdb tree: reviews of filler words with three sentiment words each (learnable)."""
    rng = np.random.default_rng(seed)
    base = os.path.join(root, "aclImdb")
    for split, n in (("train", n_train), ("test", n_test)):
        for label, words in (("pos", POSITIVE), ("neg", NEGATIVE)):
            folder = os.path.join(base, split, label)
            os.makedirs(folder)
            for k in range(n):
                tokens = list(rng.choice(FILLER, rng.integers(2, 12))) + list(rng.choice(words, 3))
                rng.shuffle(tokens)
                with open(os.path.join(folder, f"{k}_{rng.integers(1, 11)}.txt"), "w", encoding="utf-8") as f:
                    f.write(" ".join(tokens).capitalize() + ".<br /><br />The end!")
    return base


@pytest.fixture
def imdb_root(tmp_path):
    write_imdb(str(tmp_path))
    return str(tmp_path)


# ----------------------------------------------------------------------------- tokenizer and vocabulary
def test_basic_english():
    assert basic_english("I didn't LIKE it.<br /><br />Really, 10/10!") == \
        ["i", "didn't", "like", "it", ".", "really", ",", "10", "/", "10", "!"]
    assert basic_english("Café  crème (très) bon") == ["café", "crème", "(", "très", ")", "bon"]
    assert get_tokenizer("split")("a  b") == ["a", "b"] and get_tokenizer("basic_english") is basic_english
    with pytest.raises(ValueError, match="unknown tokenizer"):
        get_tokenizer("spacy")


def test_build_vocab_counts_orders_and_limits():
    docs = [["b", "a", "c", "a"], ["b", "a", "d"], ["<pad>", "e"]]
    vocab = build_vocab(docs)
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and vocab.itos[2:] == ["a", "b", "c", "d", "e"]   # ties by token
    assert vocab.pad_index == 0 and vocab.unk_index == 1
    assert vocab["a"] == 2 and vocab["zebra"] == 1 and "zebra" not in vocab
    assert build_vocab(docs, min_freq=2).itos == ["<pad>", "<unk>", "a", "b"]
    assert build_vocab(docs, max_size=1).itos == ["<pad>", "<unk>", "a"]
    assert build_vocab(reversed(docs)).itos == vocab.itos                  # input order never matters
    assert vocab.lookup_tokens(vocab.lookup_indices(["b", "x"])) == ["b", "<unk>"]
    np.testing.assert_array_equal(numericalize(["a", "x", "b"], vocab, max_len=2), [2, 1])
    with pytest.raises(TypeError, match="got a string"):
        build_vocab(["a b c"])
    with pytest.raises(ValueError, match="must be unique"):
        Vocab(["<pad>", "<unk>", "a", "a"])


def test_vocab_saves_and_loads(tmp_path):
    vocab = build_vocab([["héllo", "wörld", "héllo"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocab.load(path) == vocab
    assert Vocab.from_bytes(vocab.to_bytes()).itos == vocab.itos
    with pytest.raises(ValueError, match="not a vocabulary state"):
        Vocab.from_state_dict({"tokens": []})


# ----------------------------------------------------------------------------- bucketing and padding
def test_bucket_sampler_batches_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, 1000)
    sampler = BucketSampler(lengths, 32, generator=mg.Generator().manual_seed(0), pool_batches=8)
    order = list(sampler)
    assert sorted(order) == list(range(1000)) and len(sampler) == 1000
    batches = [order[k:k + 32] for k in range(0, 1000, 32)]
    assert all(len(b) == 32 for b in batches[:-1])

    def padding(groups):            # the fraction of padded slots in the (batch, longest) arrays
        return 1 - lengths.sum() / sum(lengths[b].max() * len(b) for b in groups)
    assert padding(batches) < 0.15 < 0.3 < padding(np.array_split(rng.permutation(1000), 32))
    assert all(np.all(np.diff(lengths[b]) <= 0) for b in batches)          # longest first in each batch
    again = list(BucketSampler(lengths, 32, generator=mg.Generator().manual_seed(0), pool_batches=8))
    assert again == order and list(sampler) != order                       # seeded; a new order each epoch
    fixed = BucketSampler(lengths, 32, shuffle=False)
    assert list(fixed) == list(np.argsort(-lengths, kind="stable"))
    assert len(BucketSampler(lengths, 32, drop_last=True, generator=mg.Generator())) == 992


def test_pad_collate_and_loader():
    data = [(np.array([5, 6, 7]), 1), (np.array([8]), 0), (np.array([9, 9]), 1)]
    (tokens, lengths), labels = PadCollate(pad_index=0)(data)
    np.testing.assert_array_equal(host(tokens), [[5, 6, 7], [8, 0, 0], [9, 9, 0]])
    np.testing.assert_array_equal(host(lengths), [3, 1, 2])
    np.testing.assert_array_equal(host(labels), [1, 0, 1])
    (time_major, _), _ = PadCollate(pad_index=0, batch_first=False)(data)
    assert time_major.shape == (3, 3) and tokens.dtype == mg.int64


# ----------------------------------------------------------------------------- IMDB
def test_imdb_reads_the_standard_layout(imdb_root):
    train, test = IMDB(imdb_root, split="train"), IMDB(os.path.join(imdb_root, "aclImdb"), split="test")
    assert len(train) == 80 and len(test) == 32 and not train.skipped
    assert np.bincount(train.targets).tolist() == [40, 40]
    text, label = train[0]
    assert label == 0 and isinstance(text, str) and "<br />" in text
    assert train.classes == ["neg", "pos"] and "40 neg, 40 pos" in repr(train)


def test_imdb_skips_and_reports_bad_files(imdb_root):
    pos = os.path.join(imdb_root, "aclImdb", "train", "pos")
    with open(os.path.join(pos, "bad_1.txt"), "wb") as f:
        f.write(b"caf\xe9 latin-1")                                  # not UTF-8
    open(os.path.join(pos, "empty_1.txt"), "w").close()
    os.makedirs(os.path.join(pos, "folder_1.txt"))                    # cannot be read as a file
    with pytest.warns(UserWarning, match=r"skipped 3 of 83 files \(1 not UTF-8, 1 empty, 1 unreadable\)"):
        train = IMDB(imdb_root)
    assert len(train) == 80 and len(train.skipped) == 3
    with pytest.raises(ValueError, match="bad_1.txt: not UTF-8"):
        IMDB(imdb_root, strict=True)


@pytest.mark.parametrize("remove, message", [
    ("aclImdb/test", "no 'test' folder in"),
    ("aclImdb/test/neg", "has no neg folder"),
])
def test_imdb_missing_folders_are_clear_errors(imdb_root, remove, message):
    import shutil
    shutil.rmtree(os.path.join(imdb_root, remove))
    with pytest.raises(FileNotFoundError, match=message):
        IMDB(imdb_root, split="test")


def test_imdb_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        IMDB(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        IMDB(str(tmp_path), split="valid")


# ----------------------------------------------------------------------------- models
def test_text_lstm_keeps_its_vocabulary_in_the_state_dict(imdb_root, tmp_path):
    from minigrad.optim import Adam
    from minigrad.train import load_checkpoint, save_checkpoint
    train = IMDB(imdb_root)
    vocab = build_vocab(basic_english(t) for t in train.texts)
    model = text_lstm(vocab, embedding_dim=8, hidden_size=6)
    assert "vocab" in model.state_dict() and model.state_dict()["vocab"].dtype == mg.uint8
    path = str(tmp_path / "ckpt.npz")
    save_checkpoint(path, model, Adam(model.parameters()))
    fresh = TextLSTM(len(vocab), 8, 6)
    load_checkpoint(path, fresh)
    assert fresh.vocab == vocab
    for (name, a), b in zip(model.named_parameters(), fresh.parameters()):
        np.testing.assert_array_equal(host(a.detach()), host(b.detach()), err_msg=name)


def test_text_lstm_reads_each_review_at_its_own_length():
    mg.manual_seed(0)
    model = TextLSTM(12, 4, 5, pad_index=0)
    model.eval()
    tokens = mg.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 10]])
    both = model((tokens, mg.tensor([3, 5])))
    alone = model(tokens[:1, :3])
    np.testing.assert_allclose(host(both[:1]), host(alone), rtol=1e-6, atol=1e-7)


def test_sequential_digits_and_sequence_lstm():
    ds = SequentialDigits(train=False)
    x, y = ds[0]
    assert x.shape == (8, 8) and x.dtype == mg.float32 and float(x.max()) <= 1.0 and len(ds) == 355
    batch_x, batch_y = next(iter(DataLoader(ds, batch_size=16)))
    assert batch_x.shape == (16, 8, 8) and batch_y.shape == (16,)
    logits = SequenceLSTM(8, 12, 10)(batch_x)
    assert logits.shape == (16, 10)
    assert SequenceLSTM(8, 12, 10)(batch_x.reshape(16, 1, 8, 8)).shape == (16, 10)


# ----------------------------------------------------------------------------- the programs
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "minigrad", *args], capture_output=True, text=True, cwd=ROOT)


def test_train_lstm_on_sequential_digits_reaches_95_percent(tmp_path):
    from minigrad.tasks import run
    metrics = run("lstm", out=str(tmp_path), progress=False, log=lambda s: None)
    assert metrics["test_accuracy"] >= 0.95, metrics["test_accuracy"]
    assert metrics["epochs"] == 40 and (tmp_path / "checkpoint.npz").exists()


def test_train_lstm_on_imdb_and_resume(imdb_root, tmp_path):
    out = tmp_path / "run"
    result = _cli("train", "lstm", "--data", "imdb", "--root", imdb_root, "--epochs", "2", "--batch-size", "16",
                  "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"] == "imdb" and len(metrics["history"]["epoch"]) == 2
    assert "lstm on imdb (80 train / 32 test)" in result.stdout
    resumed = _cli("train", "lstm", "--data", "imdb", "--root", imdb_root, "--epochs", "3", "--batch-size", "16",
                   "--out", str(out), "--no-progress", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "epoch   3/3" in resumed.stdout
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert history["train_loss"][-1] < history["train_loss"][0]


@pytest.mark.parametrize("args, message", [
    (["--data", "imdb"], "needs --root DIR"),
    (["--data", "imdb", "--root", "/nonexistent"], "is not a folder"),
])
def test_train_lstm_bad_arguments_give_one_line(args, message, tmp_path):
    result = _cli("train", "lstm", *args, "--out", str(tmp_path))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_imdb_example_runs(imdb_root, tmp_path):
    save = str(tmp_path / "model.npz")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "imdb_lstm.py"), "--root", imdb_root,
                             "--epochs", "1", "--save", save], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and os.path.exists(save)
    assert Vocab.load(str(tmp_path / "model.vocab.json"))["<pad>"] == 0


def test_tokenized_dataset_lengths_and_truncation(imdb_root):
    train = IMDB(imdb_root)
    vocab = build_vocab(basic_english(t) for t in train.texts)
    ds = TokenizedDataset(train, vocab, max_len=5)
    ids, label = ds[3]
    assert ids.dtype == np.int64 and len(ids) <= 5 and ds.lengths.max() == 5 and label == int(train.targets[3])


@pytest.mark.parametrize("make", ["fifo", "device", "huge"])
def test_imdb_reader_takes_regular_files_of_bounded_size(imdb_root, make):
    import signal
    path = os.path.join(imdb_root, "aclImdb", "train", "pos", "odd_1.txt")
    if make == "fifo":
        os.mkfifo(path)                       # opening it for reading would wait for a writer forever
    elif make == "device":
        os.symlink("/dev/zero", path)         # reading it would never end
    else:
        with open(path, "wb") as f:
            f.write(b"word " * (1 << 19))      # 2.5 MB: no review is that long
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(RuntimeError("the reader hung")))
    signal.alarm(30)
    try:
        with pytest.warns(UserWarning, match="skipped 1 of 81 files"):
            train = IMDB(imdb_root)
    finally:
        signal.alarm(0)
    assert len(train) == 80 and train.skipped[0][0] == path


def test_train_reports_skipped_reviews_in_one_line_without_warnings(imdb_root, tmp_path):
    import warnings

    from minigrad.tasks import run
    with open(os.path.join(imdb_root, "aclImdb", "train", "pos", "bad_1.txt"), "wb") as f:
        f.write(b"caf\xe9")
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run("lstm", data="imdb", root=imdb_root, epochs=1, batch_size=16, out=str(tmp_path), progress=False,
            log=lines.append)
    notes = [line for line in lines if line.startswith("IMDB")]
    assert notes == [f"IMDB train: skipped 1 unreadable review file(s), e.g. "
                     f"{os.path.join(imdb_root, 'aclImdb', 'train', 'pos', 'bad_1.txt')}: not UTF-8: byte 3"]


def test_resumed_imdb_run_tokenizes_with_the_checkpoints_vocabulary(imdb_root, tmp_path, monkeypatch):
    import shutil

    from minigrad import tasks
    from minigrad.data import text
    out = str(tmp_path / "run")
    tasks.run("lstm", data="imdb", root=imdb_root, epochs=1, batch_size=16, out=out, progress=False,
              log=lambda s: None)
    with np.load(os.path.join(out, "checkpoint.npz")) as arrays:
        saved_vocab = Vocab.from_bytes(arrays["model/vocab"].tobytes())
    # the data folder changes, its vocabulary's size does not: one word renamed everywhere
    changed = str(tmp_path / "changed")
    shutil.copytree(imdb_root, changed)
    for folder, _, files in os.walk(os.path.join(changed, "aclImdb")):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                body = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(body.replace("movie", "picture").replace("Movie", "Picture"))
    assert len(tasks._imdb(changed)[2].vocab) == len(saved_vocab) and tasks._imdb(changed)[2].vocab != saved_vocab
    used = []
    original = text.TokenizedDataset.__init__

    def recording(self, dataset, vocab, *args, **kwargs):
        used.append(vocab)
        original(self, dataset, vocab, *args, **kwargs)

    monkeypatch.setattr(text.TokenizedDataset, "__init__", recording)
    tasks.run("lstm", data="imdb", root=changed, epochs=2, batch_size=16, out=out, progress=False, resume=True,
              log=lambda s: None)
    assert used and all(v == saved_vocab for v in used)

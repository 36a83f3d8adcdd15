"""IMDB movie reviews (Maas et al., 2011), read from the standard ``aclImdb`` folder.

Layout (as the archive unpacks; ``root`` may be the ``aclImdb`` folder or the one holding it):

    aclImdb/train/pos/*.txt  aclImdb/train/neg/*.txt  aclImdb/test/pos/*.txt  aclImdb/test/neg/*.txt

one review per file, UTF-8.  ``IMDB(root, split="train")[i]`` is ``(text, label)`` with label
0 for ``neg`` and 1 for ``pos``.  A missing folder is an error that says what was expected;
files that cannot be read (or are not regular files, or exceed 1 MiB), are not UTF-8 or are empty are skipped, counted and reported in one
warning (``strict=True`` makes the first one an error instead); ``.skipped`` lists them.
These machines cannot download the archive: get it from https://ai.stanford.edu/~amaas/data/sentiment/.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from ._files import read_regular_file
from .dataset import Dataset

__all__ = ["IMDB"]

SPLITS = ("train", "test")
CLASSES = ("neg", "pos")
#: The longest review is about 14 KB; a file far larger (or a link to a device) is not a review.
MAX_REVIEW_BYTES = 1 << 20


class IMDB(Dataset):
    """The IMDB reviews of one split, in memory: ``texts`` (list of str), ``targets`` (int64)."""

    classes = list(CLASSES)

    def __init__(self, root, split="train", strict=False):
        if split not in SPLITS:
            raise ValueError(f"IMDB: split must be 'train' or 'test', got {split!r}")
        self.root, self.split = root, split
        base = _find_base(root, split)
        self.texts, labels, self.skipped = [], [], []
        seen = 0
        for label, name in enumerate(CLASSES):
            folder = os.path.join(base, split, name)
            try:
                files = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
            except OSError as exc:
                raise OSError(f"IMDB: cannot list {folder}: {exc.strerror or exc}") from None
            for fname in files:
                path = os.path.join(folder, fname)
                seen += 1
                text, problem = _read_review(path)
                if problem is not None:
                    if strict:
                        raise ValueError(f"IMDB: {path}: {problem}")
                    self.skipped.append((path, problem))
                    continue
                self.texts.append(text)
                labels.append(label)
        self.targets = np.array(labels, dtype=np.int64)
        if self.skipped:
            kinds = {}
            for _, problem in self.skipped:
                kinds[problem.split(":")[0]] = kinds.get(problem.split(":")[0], 0) + 1
            summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
            warnings.warn(f"IMDB({split}): skipped {len(self.skipped)} of {seen} files ({summary}); first: "
                          f"{self.skipped[0][0]}: {self.skipped[0][1]}", stacklevel=2)
        if not self.texts:
            raise ValueError(f"IMDB: no readable reviews (*.txt) in {os.path.join(base, split)}/pos and /neg")

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, index):
        return self.texts[index], int(self.targets[index])

    def __repr__(self):
        counts = np.bincount(self.targets, minlength=2)
        return (f"IMDB({self.split}, {len(self)} reviews: {counts[0]} neg, {counts[1]} pos"
                + (f"; {len(self.skipped)} files skipped" if self.skipped else "") + ")")


def _find_base(root, split):
    if root is None or not os.path.isdir(root):
        raise FileNotFoundError(f"IMDB: {root!r} is not a folder; give the aclImdb folder (or the one holding it), "
                                f"with {split}/pos and {split}/neg inside")
    candidates = [os.path.join(root, "aclImdb"), root]
    for base in candidates:
        if os.path.isdir(os.path.join(base, split)):
            missing = [c for c in CLASSES if not os.path.isdir(os.path.join(base, split, c))]
            if missing:
                raise FileNotFoundError(f"IMDB: {os.path.join(base, split)} has no {' or '.join(missing)} folder; "
                                        f"expected {split}/pos and {split}/neg with one review per .txt file")
            return base
    raise FileNotFoundError(f"IMDB: no {split!r} folder in {root} or {candidates[0]}; expected the aclImdb layout "
                            f"({split}/pos/*.txt, {split}/neg/*.txt; https://ai.stanford.edu/~amaas/data/sentiment/)")


def _read_review(path):
    """(text, None) or (None, what was wrong)."""
    try:
        raw = read_regular_file(path, MAX_REVIEW_BYTES)
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    except ValueError as exc:
        return None, f"unreadable: {exc}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8: byte {exc.start}"
    if not text.strip():
        return None, "empty: no text"
    return text, None

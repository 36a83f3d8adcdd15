"""Reading a data file defensively: regular files only, and never more than the format allows.

A FIFO would block a reader forever and a link to ``/dev/zero`` would fill memory; both are
refused before a byte is read.
"""
from __future__ import annotations

import os
import stat


def open_regular_file(path):
    """``path`` opened for binary reading; ValueError if it is not a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))     # a FIFO must not block the open
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise ValueError("not a regular file")
    return f


def read_regular_file(path, limit: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes.

    Raises OSError when it cannot be opened, ValueError when it is not a regular file or is
    larger than ``limit`` (the caller names the file and the format)."""
    with open_regular_file(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise ValueError(f"{size} bytes, more than the {limit} this format allows")
        raw = f.read(limit + 1)              # the file may have grown since fstat
    if len(raw) > limit:
        raise ValueError(f"more than the {limit} bytes this format allows")
    return raw

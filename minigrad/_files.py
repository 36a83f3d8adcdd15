"""Writing a file atomically: every file minigrad writes (checkpoints, state dicts, ONNX and
safetensors files, metrics, vocabularies, graph pictures, plots, downloads) goes through
:func:`atomic_write`, so a failure never leaves half a file under the real name."""
from __future__ import annotations

import glob
import os
import tempfile


def atomic_write(path, write, binary=True):
    """Call ``write(f)`` on a temporary file in ``path``'s folder, flush it to disk, then rename it
    over ``path``: a crash or error mid-write leaves the old file intact and no temporary behind
    (one killed outright leaves ``.NAME-*`` files, which :func:`remove_stale_temporaries` clears).
    Returns ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    stem, ext = os.path.splitext(os.path.basename(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}-", suffix=ext, dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())        # mkstemp's 0600 would make the file private
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask():
    mask = os.umask(0)                          # reading it means setting it: put it straight back
    os.umask(mask)
    return mask


def remove_stale_temporaries(folder, names):
    """Delete what interrupted :func:`atomic_write` calls for ``names`` left in ``folder``; returns their paths."""
    removed = []
    for name in names:
        stem, ext = os.path.splitext(name)
        for tmp in glob.glob(os.path.join(glob.escape(folder), f".{stem}-*{ext}")):
            try:
                os.unlink(tmp)
                removed.append(tmp)
            except OSError:
                pass
    return removed

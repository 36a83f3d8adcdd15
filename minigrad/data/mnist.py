"""MNIST and FashionMNIST from their IDX files, as torchvision reads them.

The four files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``, raw or ``.gz``) are looked up in ``root`` and in ``root/MNIST/raw``
(``root/FashionMNIST/raw``).  They are not bundled; ``download=True`` fetches them where the
machine has network access.

IDX format: a 4-byte magic number ``0x0000TTNN`` (TT: the element type, 0x08 = uint8; NN: the
number of dims), NN big-endian uint32 sizes, then the elements, big-endian, row-major.
"""
from __future__ import annotations

import gzip
import os
import struct
import urllib.error
import urllib.request
import zlib

import numpy as np

from .._files import atomic_write
from ._files import open_regular_file
from ._images import ImageClassification

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
_DEFLATE_MAX_RATIO = 1032            # deflate never expands data more than this


# ----------------------------------------------------------------------------- IDX files
def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (gzip-compressed or not), in native byte order.

    The header's declared size is checked against what the file can hold before anything is
    allocated: the data must fill a raw file exactly, and a gzip file cannot expand more than
    deflate's 1032:1."""
    path = os.fspath(path)
    try:
        f = open_regular_file(path)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
        try:
            if compressed:
                return _parse_idx(path, stream, _DEFLATE_MAX_RATIO * size)
            return _parse_idx(path, stream, size, raw_size=size)
        except (OSError, EOFError, zlib.error) as exc:
            if not compressed:
                raise
            raise ValueError(f"{path}: corrupt gzip data: {exc}") from None


def _parse_idx(path, stream, limit, raw_size=None):
    """Header, then exactly the declared data (``limit``: the most bytes the stream can hold;
    ``raw_size``: the file's size when it is not compressed)."""
    magic_bytes = stream.read(4)
    if len(magic_bytes) < 4:
        raise ValueError(f"{path}: not an IDX file: {len(magic_bytes)} bytes, too short for the 4-byte magic number")
    magic = int.from_bytes(magic_bytes, "big")
    code, ndim = magic_bytes[2], magic_bytes[3]
    if magic_bytes[:2] != b"\0\0" or code not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file: magic number 0x{magic:08X}, expected 0x0000TTNN with a "
                         f"known type TT (MNIST: 0x00000801 for labels, 0x00000803 for images)")
    sizes = stream.read(4 * ndim)
    header = 4 + 4 * ndim
    if len(sizes) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dims need {header} bytes, the file has "
                         f"{4 + len(sizes)}")
    shape = struct.unpack(f">{ndim}I", sizes)
    dtype = _IDX_TYPES[code]
    count = int(np.prod(shape, dtype=object))
    expected = count * dtype.itemsize
    if header + expected > limit:            # refused before the allocation it would need
        found = f"{limit - header} bytes follow it" if raw_size else "the gzip file cannot hold that much"
        raise ValueError(f"{path}: truncated: the header says shape {shape} of {dtype.name}, {expected} bytes "
                         f"of data, but {found}")
    raw = stream.read(expected + 1)
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "extra data"
        found = raw_size - header if raw_size else len(raw) if len(raw) < expected else f"more than {expected}"
        raise ValueError(f"{path}: {what}: the header says shape {shape} of {dtype.name}, {expected} bytes of "
                         f"data, but {found} bytes follow it")
    return np.frombuffer(raw, dtype, count).reshape(shape).astype(dtype.newbyteorder("="))


def _read_checked(path: str, ndim: int, what: str) -> np.ndarray:
    """An IDX file that must hold uint8 ``what`` with ``ndim`` dims (MNIST's only layout)."""
    array = read_idx(path)
    if array.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 {what} (type 0x08), got {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{path}: expected {what} with {ndim} dims, got {array.ndim} (shape {array.shape})")
    return array


# ----------------------------------------------------------------------------- data sets
class MNIST(ImageClassification):
    """Handwritten digits, 28x28: 60000 train, 10000 test images.

    ``ds[i]`` is ``(image, label)``: a float32 Tensor (1, 28, 28) in [0, 1] and an int.
    ``.data`` (uint8, N x 28 x 28), ``.targets`` (int64, N) and ``.classes`` as torchvision.
    """

    folder = "MNIST"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        if download:
            self.download()
        image_file, label_file = (self._find(name) for name in self.files[self.train])
        images = _read_checked(image_file, 3, "images")
        labels = _read_checked(label_file, 1, "labels")
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {image_file} has {len(images)} images but "
                             f"{label_file} has {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{label_file}: label {labels.max()} is out of range for {len(self.classes)} classes")
        super().__init__(images, labels.astype(np.int64), transform, target_transform)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.folder, "raw")

    def _candidates(self, name: str) -> list:
        return [os.path.join(folder, name + ext) for folder in (self.root, self.raw_folder) for ext in ("", ".gz")]

    def _find(self, name: str) -> str:
        candidates = self._candidates(name)
        for path in candidates:
            if os.path.isfile(path):
                return path
        error = FileNotFoundError(
            f"{type(self).__name__}: {name} not found; looked for {', '.join(candidates)}. "
            f"{self.folder} is not bundled with minigrad and must be downloaded: put its four IDX files "
            f"(raw or .gz) in {self.raw_folder}, or pass download=True where the machine has network access "
            f"(some have none; minigrad.data.Digits is bundled and needs no download)")
        error.missing = name           # for callers that word their own advice (the CLI)
        raise error

    def download(self) -> None:
        """Fetch the missing files into ``raw_folder`` from the first mirror that answers."""
        for name in self.files[True] + self.files[False]:
            if not any(os.path.isfile(path) for path in self._candidates(name)):
                self._download_one(name + ".gz")

    def _download_one(self, filename: str) -> None:
        os.makedirs(self.raw_folder, exist_ok=True)
        target = os.path.join(self.raw_folder, filename)
        errors = []
        for mirror in self.mirrors:
            try:
                with urllib.request.urlopen(mirror + filename, timeout=30) as response:
                    payload = response.read()
            except (urllib.error.URLError, OSError) as exc:
                errors.append(f"{mirror + filename}: {getattr(exc, 'reason', exc)}")
                continue
            atomic_write(target, lambda f: f.write(payload))     # no half-written file under the real name
            return
        raise RuntimeError(
            f"{type(self).__name__}: could not download {filename} from any mirror ({'; '.join(errors)}). "
            f"The machine may have no network access: fetch the files elsewhere and copy them into {self.raw_folder}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grayscale clothing images in MNIST's format and sizes."""

    folder = "FashionMNIST"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

"""The exception classes minigrad raises where PyTorch's C++ checks raise ``RuntimeError``.

Each is also the Python class a reader expects (ValueError for a bad value, TypeError for a bad
dtype, IndexError for an index out of range), so ``except ValueError`` and a PyTorch test's
``pytest.raises(RuntimeError)`` both hold.
"""


class ArgumentError(ValueError, RuntimeError):
    """An argument an op refuses: a size, a count, a dim pairing, a mode out of range."""


class ShapeError(ArgumentError):
    """Operand shapes that do not fit (broadcasting, reshape, matmul, cat, ...)."""


class DtypeError(TypeError, RuntimeError):
    """An operand dtype an op does not take (mean of integers, matmul of float32 and int64, a
    non-bool mask, float class targets, ...)."""


class IndexRangeError(IndexError, RuntimeError):
    """An index tensor's entry outside its dimension (gather, scatter, index_select, ...)."""


class CheckError(ArgumentError, AssertionError):
    """An argument PyTorch's Python code refuses with an ``assert`` (Embedding's padding_idx,
    MultiheadAttention's head count, ...): an AssertionError there, a ValueError to a reader."""

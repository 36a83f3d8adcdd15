"""Hot loops: arrays in, arrays out; no Tensor, no graph, nothing of minigrad imported.

Each family module (``activation``, ``scatter``, ...) exposes one public function per
kernel.  It validates its arguments in Python (shapes, dtypes, contiguity, index bounds),
then dispatches on the array type: NumPy arrays go to a Numba function compiled on first
call (``cache=True``, so later processes load it from disk), CuPy arrays to a CuPy kernel.
Beside each kernel is a plain NumPy reference (``*_ref``) that the tests compare both
against.  Installed as ``minigrad.kernels``.
"""

"""The differentiable primitives, one module per family, forward and backward side by side.

Each op is a :class:`minigrad.autograd.Function` whose static ``forward`` and ``backward``
work on raw arrays; the lower-case functions beside them are the user-facing entry points
that check arguments, apply PyTorch's type promotion and call ``Function.apply``.
"""

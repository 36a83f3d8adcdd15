"""Small helpers shared by test modules."""
import numpy as np

from minigrad import backend


def host(x):
    """A Tensor's or array's values as a NumPy array."""
    import minigrad
    data = x._data if isinstance(x, minigrad.Tensor) else x
    return backend.to_device(data, backend.CPU) if backend.is_array(data) else np.asarray(data)


def assert_close(actual, expected, atol=1e-6, rtol=1e-6, what=""):
    actual, expected = host(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)

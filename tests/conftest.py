"""Test configuration: hypothesis profiles, the device under test, PyTorch when installed.

Profiles: ``default`` (for CI), ``quick`` (3 examples: the GPU check) and ``thorough``
(``--hypothesis-profile=thorough`` or ``HYPOTHESIS_PROFILE=thorough``).
The device: ``MINIGRAD_TEST_DEVICE=cuda pytest`` runs the op checks on the GPU.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=12, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "quick", max_examples=3, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEVICE = os.environ.get("MINIGRAD_TEST_DEVICE", "cpu")


def cuda_available():
    import minigrad
    return minigrad.cuda.is_available()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or skip: it is a reference for the tests, never a dependency."""
    t = pytest.importorskip("torch")
    t.set_num_threads(1)
    return t

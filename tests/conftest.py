"""Test configuration: hypothesis profiles and seed, the device under test, PyTorch when installed.

Profiles: ``default`` (for CI: fresh examples every run), ``quick`` (3 examples: the GPU check)
and ``thorough`` (``--hypothesis-profile=thorough`` or ``HYPOTHESIS_PROFILE=thorough``);
``HYPOTHESIS_MAX_EXAMPLES=N`` sets any other count on the chosen profile.
Every run draws from one seed, printed in the header and again after a failure; rerun with
``pytest --hypothesis-seed=N`` to draw the same examples.
The device: ``MINIGRAD_TEST_DEVICE=cuda pytest`` runs the op checks on the GPU.
PyTorch: the cross-checks skip without it, unless ``MINIGRAD_REQUIRE_TORCH=1`` (CI), which
makes a missing PyTorch an error; the summary counts the cross-checks that ran.
"""
import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, core, settings

settings.register_profile(
    "default", max_examples=16, deadline=None, derandomize=False, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "quick", max_examples=3, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
if os.environ.get("HYPOTHESIS_MAX_EXAMPLES"):          # a sweep between quick and thorough
    settings.register_profile("sweep", settings.default, max_examples=int(os.environ["HYPOTHESIS_MAX_EXAMPLES"]))
    settings.load_profile("sweep")

DEVICE = os.environ.get("MINIGRAD_TEST_DEVICE", "cpu")
REQUIRE_TORCH = os.environ.get("MINIGRAD_REQUIRE_TORCH", "") not in ("", "0")
_torch_checks = {"passed": 0, "failed": 0}


def pytest_configure(config):
    # hypothesis' own option sets this too; without it, a fresh seed per run, remembered for the report
    if config.getoption("hypothesis_seed", None) is None and not settings.default.derandomize:
        core.global_force_seed = random.SystemRandom().randrange(2 ** 32)


def _seed_line():
    seed = core.global_force_seed
    return None if seed is None else f"hypothesis seed {seed} (rerun with: pytest --hypothesis-seed={seed})"


def pytest_report_header(config):
    return _seed_line()


def pytest_runtest_logreport(report):
    if report.when == "call" and "torch" in getattr(report, "fixturenames", ()):
        if report.passed or report.failed:
            _torch_checks["passed" if report.passed else "failed"] += 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().fixturenames = tuple(getattr(item, "fixturenames", ()))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran = _torch_checks["passed"] + _torch_checks["failed"]
    terminalreporter.write_line(f"PyTorch cross-checks run: {ran} ({_torch_checks['failed']} failed)")
    if exitstatus != 0 and _seed_line():
        terminalreporter.write_line(_seed_line())


def cuda_available():
    import minigrad
    return minigrad.cuda.is_available()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or skip: it is a reference for the tests, never a dependency (CI requires it)."""
    if REQUIRE_TORCH:
        try:
            import torch as t
        except ImportError as e:
            pytest.fail(f"MINIGRAD_REQUIRE_TORCH is set but PyTorch cannot be imported: {e}")
    else:
        t = pytest.importorskip("torch")
    t.set_num_threads(1)
    return t

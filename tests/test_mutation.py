"""The mutation score's machinery (python -m minigrad.testing.mutation): mutants apply by rule,
restore the original, count as killed only when a check fails, and the script runs (smoke)."""
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.testing import mutation


class Scaled(Function):
    """y = x * c - x (a backward with a difference, a product and a unary minus to mutate)."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c
        return x * c - x

    @staticmethod
    def backward(ctx, g):
        return g * ctx.c - g


def _grad(x, c=3.0):
    x = mg.tensor(x, requires_grad=True)
    return mg.autograd.grad(Scaled.apply(x, c), x, grad_outputs=mg.tensor(np.array([1.0, -2.0])))[0].numpy()


@pytest.mark.parametrize("rule, expected", [
    ("scale +1e-3", [2.002, -4.004]), ("abs(g)", [2.0, 4.0]),
    ("sign flip", None), ("dropped term", None)])
def test_mutants_change_the_backward_and_restore_it(rule, expected):
    x = np.array([0.5, 1.5])
    right = _grad(x)
    mutants = mutation.backward_mutants(Scaled, [rule], sites=10, seed=0)
    assert mutants, f"no site for {rule}"
    for m in mutants:
        with m.installed():
            got = _grad(x)
        assert m.changed == (not np.array_equal(got, right))
        if expected is not None:
            np.testing.assert_allclose(got, expected)
        np.testing.assert_array_equal(_grad(x), right)       # the original is back


def test_source_sites_follow_the_code_not_its_lines():
    assert mutation.source_sites(Scaled.backward, "sign flip") == 2      # g * ctx.c - g: the '-' and the '*'
    assert mutation.source_sites(Scaled.backward, "dropped term") == 1
    assert mutation.source_sites(Scaled.backward, "transposed operand") == 0


def test_mutation_score_smoke_run():
    """A few mutants end to end, PyTorch hidden: every mutant that changed a result is killed."""
    done = subprocess.run([sys.executable, "-m", "minigrad.testing.mutation", "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| all " in done.stdout and "PyTorch hidden" in done.stdout

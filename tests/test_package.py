"""Import-time behaviour and the command line."""
import os
import subprocess
import sys


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_compiles_nothing_and_does_not_load_numba():
    out = _run("import sys, minigrad; x = minigrad.ones(3, requires_grad=True); (x * 2).sum().backward(); "
               "print('numba' in sys.modules, 'cupy' in sys.modules)")
    assert out == "False False"


def test_only_kernels_joins_the_package_from_a_checkout():
    """kernels/ is minigrad.kernels; the checkout's other folders (tests/, benchmarks/) are not minigrad.*."""
    out = _run("import importlib, os, minigrad.kernels.conv as k\n"
               "print(os.path.basename(os.path.dirname(k.__file__)))\n"
               "for name in ('minigrad.tests', 'minigrad.benchmarks', 'minigrad.examples'):\n"
               "    try:\n"
               "        importlib.import_module(name); print(name)\n"
               "    except ModuleNotFoundError:\n"
               "        pass")
    assert out == "kernels"


def test_cli_gradcheck_prints_a_table():
    result = subprocess.run([sys.executable, "-m", "minigrad", "gradcheck", "tanh", "matmul", "getitem"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "entry" in result.stdout and "worst |error|" in result.stdout
    assert "tanh" in result.stdout and "getitem_rows" in result.stdout
    assert "8/8 registered ops pass" in result.stdout      # tanh, matmul, rmatmul and five getitem entries


def test_cli_unknown_op_is_one_clear_line():
    result = subprocess.run([sys.executable, "-m", "minigrad", "gradcheck", "nonsense"], capture_output=True, text=True)
    assert result.returncode == 2 and "no registered op matches" in result.stderr and "Traceback" not in result.stderr


def test_cli_gradcheck_refuses_zero_or_negative_samples(capsys):
    from minigrad.__main__ import main
    for samples in ("0", "-2"):
        assert main(["gradcheck", "tanh", "--samples", samples]) == 2
        captured = capsys.readouterr()
        assert f"--samples must be positive, got {samples}" in captured.err and "pass" not in captured.out


def test_setup_cfg_lists_every_package():
    """The package list in setup.cfg is explicit (kernels/ maps to minigrad.kernels): a new
    subpackage missing from it would import from a checkout and be absent from an install."""
    import configparser
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = configparser.ConfigParser()
    config.read(os.path.join(root, "setup.cfg"))
    listed = set(config["options"]["packages"].split())
    found = {os.path.relpath(d, root).replace(os.sep, ".") for d, _, files in os.walk(os.path.join(root, "minigrad"))
             if "__init__.py" in files and "__pycache__" not in d}
    assert found | {"minigrad.kernels"} == listed, (found - listed, listed - found - {"minigrad.kernels"})

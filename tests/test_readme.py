"""The README's Python examples run as written."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
OPTIONAL = {"onnx", "onnxruntime", "safetensors", "tensorboardX"}     # the interop extra: skipped when missing


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{k}" for k in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys):
    namespace = {}
    try:
        exec(compile(code, str(README), "exec"), namespace)
    except ModuleNotFoundError as exc:
        if exc.name not in OPTIONAL:
            raise
        pytest.skip(f"needs {exc.name} (pip install '.[interop]')")
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()                      # the property-based examples are tests: run them

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


def test_readme_tracing_example_warms_up_before_it_traces():
    block = next(b for b in BLOCKS if "mg.trace(" in b)
    assert block.index(".backward()") < block.index("mg.trace(")       # else the profile is mostly compile time


def test_readme_names_the_default_job_by_its_real_shape():
    text = " ".join(README.read_text().split())
    assert "64-256-10 on the bundled 8x8" in text and "trains the 784-256-10 MLP" not in text
    assert "first run also compiles" in text and "OPENBLAS_NUM_THREADS=1" in text and "--overwrite" in text


def test_readme_benchmark_tables_are_generated_from_their_results_files():
    """Every table between ``<!-- benchmark-table: FILE -->`` and ``<!-- end benchmark-table -->`` is
    what ``python -m benchmarks --report FILE --markdown`` prints: no figure is written by hand."""
    import sys
    root = README.parent
    if str(root) not in sys.path:
        sys.path.append(str(root))
    from benchmarks import harness, progress
    tables = re.findall(r"<!-- benchmark-table: (\S+) -->\n(.*?)\n<!-- end benchmark-table -->", README.read_text(),
                        flags=re.S)
    assert tables, "the README's benchmark table has lost its markers"
    for path, table in tables:
        header, _, rows = progress.read(str(root / path))
        assert table == harness.format_markdown(rows, max(header["matmul_peak_gflops"].values())), path

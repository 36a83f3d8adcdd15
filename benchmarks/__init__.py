"""minigrad's benchmarks: ``python -m benchmarks`` (see ``--help``).

Every figure is a median of timed repeats after warm-up, with minigrad and PyTorch (when
installed) measured in the same run on the same inputs; each (workload, framework) pair runs
in a fresh subprocess so that peak memory is measured from a clean start.
"""

"""minigrad.distributed, DistributedDataParallel and DistributedSampler.

The collective tests start ``mpiexec -n 2 python tests/mpi/<script>.py`` (always with a timeout,
so a hang fails the test instead of CI); they are skipped when mpi4py or mpiexec is missing
(``pip install 'minigrad[distributed]'``)."""
import os
import shutil
import subprocess
import sys

import pytest

import minigrad as mg
import minigrad.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _mpiexec():
    """mpiexec beside this Python (the mpich wheel puts it there), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(not dist.is_available() or _mpiexec() is None,
                               reason="needs mpi4py and mpiexec: pip install 'minigrad[distributed]'")


def run_ranks(script, n=2, timeout=60, args=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(n), sys.executable, os.path.join(HERE, "mpi", script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def check(result, n=2):
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@needs_mpi
def test_collectives_against_numpy_on_each_rank():
    out = check(run_ranks("collectives.py")).stdout
    assert "rank 0: collectives ok" in out and "rank 1: collectives ok" in out


def test_nothing_distributed_is_imported_with_minigrad():
    code = "import sys, minigrad, minigrad.nn; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=ROOT)).stdout
    assert out.strip() == "False"


def test_uninitialized_and_unknown_backends_are_clear_errors():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(mg.zeros(2))
    with pytest.raises(ValueError, match="gloo"):
        dist.init_process_group("gloo")


@pytest.mark.skipif(mg.cuda.is_available(), reason="CuPy and a GPU are here: tests/mpi/nccl.py runs instead")
def test_nccl_without_cupy_or_a_gpu_says_what_it_needs():
    with pytest.raises(RuntimeError, match="backend 'nccl' needs CuPy with NCCL and a CUDA GPU"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def _fake_cupy(monkeypatch, nccl=None, devices=1):
    """A stand-in for CuPy in sys.modules: ``nccl`` its cupy.cuda.nccl (None: missing), ``devices`` GPUs."""
    import types

    def count():
        if devices is None:
            raise RuntimeError("cudaErrorNoDevice")
        return devices
    cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count))
    if nccl is not None:
        cuda.nccl = nccl
    cupy = types.ModuleType("cupy")
    cupy.cuda = cuda
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupy.cuda", cuda)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", nccl)


@pytest.mark.parametrize("nccl, devices, message", [
    (None, 1, "needs CuPy with NCCL; this CuPy has no NCCL"),
    ("unavailable", 1, "needs CuPy with NCCL; this CuPy has no NCCL"),
    ("ok", 0, "needs a CUDA GPU, and CuPy sees none"),
    ("ok", None, "needs a CUDA GPU, and CuPy sees none"),          # the CUDA runtime raising: no driver
])
def test_nccl_names_the_missing_piece(monkeypatch, nccl, devices, message):
    import types
    module = None if nccl is None else types.SimpleNamespace(available=nccl == "ok")
    _fake_cupy(monkeypatch, module, devices)
    with pytest.raises(RuntimeError, match=f"init_process_group: backend 'nccl' {message}"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


@pytest.mark.cuda
@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
@needs_mpi
def test_nccl_collectives_on_cuda_tensors_against_numpy():
    """One rank per GPU (NCCL takes no more): a world of 2 with two GPUs, of 1 with one."""
    n = min(2, mg.cuda.device_count())
    out = check(run_ranks("nccl.py", n=n, timeout=120)).stdout
    assert all(f"rank {r}: nccl ok" in out for r in range(n))


@needs_mpi
def test_ddp_matches_one_process_with_the_whole_batch():
    """The MLP (one bucket; a bucket per parameter) and the LSTM classifier, SGD and Adam in float64;
    no_sync, the overlap and the trace, unused parameters, models that differ, buffers (tests/mpi/ddp.py)."""
    out = check(run_ranks("ddp.py")).stdout
    assert "rank 0: ddp ok" in out and "rank 1: ddp ok" in out


@needs_mpi
def test_an_exception_on_one_rank_ends_every_rank_naming_it():
    result = run_ranks("fault.py", timeout=30, args=["raise"])
    assert result.returncode != 0
    assert "rank 1 of 2 failed" in result.stderr and "boom on purpose" in result.stderr
    assert "went past" not in result.stderr


@needs_mpi
def test_a_rank_that_dies_ends_the_job():
    result = run_ranks("fault.py", timeout=30, args=["exit"])
    assert result.returncode != 0 and "went past" not in result.stderr


def test_ddp_needs_a_process_group():
    from minigrad.nn.parallel import DistributedDataParallel
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(mg.nn.Linear(2, 2))


# ----------------------------------------------------------------------------- DistributedSampler
@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (9, 3, False), (2, 4, False), (7, 2, False),
                                                     (10, 3, True), (9, 3, True), (7, 2, True)])
def test_distributed_sampler_follows_pytorch_padding_rule(n, replicas, drop_last):
    from minigrad.data import DistributedSampler
    shards = [list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    per_rank = (n // replicas) if drop_last else -(-n // replicas)
    assert all(len(s) == per_rank for s in shards)
    flat = [i for k in range(per_rank) for s in shards for i in s[k:k + 1]]
    if drop_last:
        assert flat == list(range(per_rank * replicas))
    else:
        padded = list(range(n)) * (-(-per_rank * replicas // n))
        assert flat == padded[:per_rank * replicas]


def test_distributed_sampler_against_pytorch(torch):
    from minigrad.data import DistributedSampler
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (2, 4, False), (8, 4, False)]:
        for r in range(replicas):
            ours = list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
            theirs = list(torch.utils.data.DistributedSampler(range(n), replicas, r, shuffle=False,
                                                              drop_last=drop_last))
            assert ours == theirs


def test_distributed_sampler_shuffles_the_same_on_every_rank_per_epoch():
    from minigrad.data import DistributedSampler
    samplers = [DistributedSampler(range(11), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in samplers]
    assert len(first[0]) == len(first[1]) == 6 and set(first[0] + first[1]) == set(range(11))
    assert first[0] != list(range(0, 11, 2))                 # shuffled
    assert first == [list(s) for s in samplers]             # the same epoch, the same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first
    assert set(second[0] + second[1]) == set(range(11))
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


# ----------------------------------------------------------------------------- SyncBatchNorm
@needs_mpi
def test_sync_batchnorm_cnn_matches_one_process_with_the_whole_batch():
    """Parameters and running statistics after SGD and Adam steps (tests/mpi/sync_batchnorm.py)."""
    out = check(run_ranks("sync_batchnorm.py")).stdout
    assert "rank 0: sync batchnorm ok" in out and "rank 1: sync batchnorm ok" in out


def test_convert_sync_batchnorm_shares_parameters_and_is_batchnorm_in_a_world_of_one(rng):
    net = mg.nn.Sequential(mg.nn.Conv2d(2, 3, 3), mg.nn.BatchNorm2d(3),
                           mg.nn.Sequential(mg.nn.Flatten(), mg.nn.BatchNorm1d(12))).double()
    bn, bn1 = net[1], net[2][1]
    ref = mg.nn.BatchNorm2d(3).double()
    converted = mg.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(converted[1], mg.nn.SyncBatchNorm) and isinstance(converted[2][1], mg.nn.SyncBatchNorm)
    assert converted[1].weight is bn.weight and converted[1].running_mean is bn.running_mean
    assert converted[2][1].running_var is bn1.running_var
    x = mg.tensor(rng.standard_normal((4, 3, 2, 2)))
    out = converted[1](x)                       # no process group: plain batch norm
    expected = ref(x)
    assert mg.allclose(out, expected) and mg.allclose(converted[1].running_mean, ref.running_mean)



def test_sync_batchnorm_takes_pytorchs_signature_with_process_group(torch):
    """SyncBatchNorm(num_features, eps, momentum, affine, track_running_stats, process_group, device, dtype):
    process_group=None was a TypeError; a group minigrad does not have is refused by name."""
    ours = mg.nn.SyncBatchNorm(4, 1e-3, 0.2, True, False, None)
    theirs = torch.nn.SyncBatchNorm(4, 1e-3, 0.2, True, False, None)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.process_group is None
    with pytest.raises(NotImplementedError, match="SyncBatchNorm: process_group="):
        mg.nn.SyncBatchNorm(4, process_group="subgroup")
    with pytest.raises(NotImplementedError, match="SyncBatchNorm: process_group="):
        mg.nn.SyncBatchNorm.convert_sync_batchnorm(mg.nn.BatchNorm1d(4), process_group="subgroup")
    assert mg.nn.SyncBatchNorm.convert_sync_batchnorm(mg.nn.BatchNorm1d(4)).process_group is None


# ----------------------------------------------------------------------------- the training command
@needs_mpi
def test_train_command_under_mpiexec_writes_once_from_rank_0(tmp_path):
    import json
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "minigrad", "train", "mlp", "--epochs", "1", "--no-progress",
           "--out", str(tmp_path)]
    result = check(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90, cwd=ROOT))
    assert result.stdout.count("epoch   1/1") == 1                      # rank 1 prints nothing
    assert "batch 32 per rank on 2 ranks (global batch 64)" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["ranks"] == 2 and metrics["batch_size"] == 32
    from minigrad.models import mlp
    from minigrad.train import load_checkpoint
    load_checkpoint(str(tmp_path / "checkpoint.npz"), mlp(64, 256, 10))     # a plain model: no "module." keys

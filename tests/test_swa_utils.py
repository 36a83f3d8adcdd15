"""Weight averaging (minigrad.optim.swa_utils) against PyTorch on the same weights and data, in
float64: SWA's running mean, an EMA (multi_avg_fn, buffers averaged too), a custom avg_fn,
batch-norm statistics recomputed by update_bn, and SWALR's learning rates."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import swa_utils


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2)).double()


def _train_and_average(lib, model, kind, X, Y):
    su = lib.optim.swa_utils
    if kind == "swa":
        avg = su.AveragedModel(model)
    elif kind == "ema":
        avg = su.AveragedModel(model, multi_avg_fn=su.get_ema_multi_avg_fn(0.9), use_buffers=True)
    else:
        avg = su.AveragedModel(model, avg_fn=su.get_ema_avg_fn(0.8))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    sched = su.SWALR(opt, swa_lr=0.05, anneal_epochs=3, anneal_strategy="cos")
    lrs = []
    for _ in range(6):
        opt.zero_grad()
        ((model(lib.tensor(X)) - lib.tensor(Y)) ** 2).mean().backward()
        opt.step()
        avg.update_parameters(model)
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    su.update_bn([(lib.tensor(X[:8]),), (lib.tensor(X[8:]),)], avg)
    return avg, lrs


@pytest.mark.parametrize("kind", ["swa", "ema", "avg_fn"])
def test_averaged_weights_match_pytorch(kind, torch):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    model, tmodel = _model(mg), _model(torch)
    tmodel.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in model.state_dict().items()})
    avg, lrs = _train_and_average(mg, model, kind, X, Y)
    tavg, tlrs = _train_and_average(torch, tmodel, kind, X, Y)
    mine, theirs = avg.state_dict(), tavg.state_dict()
    assert list(mine) == list(theirs)
    for k in mine:
        np.testing.assert_allclose(mine[k].numpy(), theirs[k].numpy(), rtol=1e-12, atol=1e-13, err_msg=k)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-15)
    np.testing.assert_allclose(avg(mg.tensor(X)).detach().numpy(), tavg(torch.tensor(X)).detach().numpy(),
                               rtol=1e-12, atol=1e-13)


def test_swa_is_the_mean_of_the_weights_seen():
    model = _model(mg)
    avg = swa_utils.AveragedModel(model)
    seen = []
    for step in range(4):
        with mg.no_grad():
            model[0].weight.add_(float(step))
        seen.append(model[0].weight.detach().numpy().copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module[0].weight.detach().numpy(), np.mean(seen, axis=0), rtol=1e-14)
    assert int(avg.n_averaged.item()) == 4 and avg.n_averaged.dtype == mg.int64


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_schedule_matches_pytorch(strategy, anneal_epochs, torch):
    def rates(lib):
        w = [lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)]
        opt = lib.optim.SGD([{"params": [w[0]], "lr": 0.5}, {"params": [w[1]], "lr": 0.2}], lr=0.1)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.01, 0.3], anneal_epochs=anneal_epochs,
                                          anneal_strategy=strategy)
        out = []
        for _ in range(7):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out
    np.testing.assert_allclose(rates(mg), rates(torch), rtol=1e-14)


def test_bad_arguments_raise():
    opt = mg.optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="length"):
        swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="only one of"):
        swa_utils.AveragedModel(_model(mg), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_swalr_state_round_trip():
    opt = mg.optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1)
    sched = swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=5, anneal_strategy="linear")
    sched.step()
    state = sched.state_dict()
    other = swa_utils.SWALR(mg.optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1), swa_lr=0.5)
    other.load_state_dict(state)
    assert other.anneal_func(0.25) == 0.25 and other.last_epoch == sched.last_epoch


@pytest.mark.parametrize("options", [{"anneal_strategy": "exponential", "swa_lr": 1.0},
                                     {"anneal_epochs": -1, "swa_lr": 1.0}, {"anneal_epochs": 1.7, "swa_lr": 1.0},
                                     {"swa_lr": [1.0, 0.1]}])
def test_swalr_refusals_carry_torchs_messages(torch, options):
    def message(lib):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        with pytest.raises(ValueError) as caught:
            lib.optim.swa_utils.SWALR(opt, **options)
        return str(caught.value)
    assert message(mg) == "SWALR: " + message(torch)

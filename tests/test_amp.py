"""Loss scaling (minigrad.amp.GradScaler): PyTorch's schedule (back off on inf/NaN gradients and
skip the step, grow after growth_interval clean steps), the same parameters as PyTorch's CPU
scaler on the same weights, its errors, state and the import paths ported programs use."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _model_and_data():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)


def _train(lib, model, x, y, scaler, steps):
    """A float32 loop whose first scale (2^127) overflows the scaled gradients: steps are skipped
    while the scale backs off, then it trains and grows every ``growth_interval`` steps."""
    opt = lib.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    scales = []
    for step in range(steps):
        opt.zero_grad()
        loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).sum() * 1000
        scaler.scale(loss).backward()
        if step % 3 == 0:                        # unscale_ first, as for gradient clipping
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales


def test_schedule_and_parameters_match_pytorch(torch):
    model, x, y = _model_and_data()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    tmodel.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in model.state_dict().items()})
    kw = dict(init_scale=2.0 ** 127, growth_factor=4.0, backoff_factor=0.25, growth_interval=3)
    scaler, tscaler = mg.amp.GradScaler("cpu", **kw), torch.amp.GradScaler("cpu", **kw)
    scales = _train(mg, model, x, y, scaler, 16)
    tscales = _train(torch, tmodel, x, y, tscaler, 16)
    assert scales == tscales
    assert scales[0] < 2.0 ** 127 and max(np.diff(np.log2(scales))) == 2    # backed off, then grew
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert scaler.state_dict() == tscaler.state_dict()


def test_a_skipped_step_leaves_the_parameters():
    model, x, y = _model_and_data()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    scaler = mg.amp.GradScaler("cpu", init_scale=2.0 ** 127)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    scaler.scale(((model(mg.tensor(x)) - mg.tensor(y)) ** 2).sum() * 1e30).backward()
    assert scaler.step(opt) is None
    scaler.update()
    assert scaler.get_scale() == 2.0 ** 126
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, p.detach().numpy())


def test_misuse_raises_as_pytorch():
    model, x, y = _model_and_data()
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    scaler = mg.amp.GradScaler("cpu")
    scaler.scale(model(mg.tensor(x)).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    with pytest.raises(ValueError, match="Tensor or an iterable"):
        scaler.scale(3.0)
    with pytest.raises(ValueError, match="growth_factor"):
        mg.amp.GradScaler("cpu", growth_factor=1.0)


def test_disabled_or_cuda_without_a_gpu_passes_through():
    model, x, _ = _model_and_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from minigrad.cuda.amp import GradScaler
        scaler = GradScaler()
    if not mg.cuda.is_available():
        assert not scaler.is_enabled() and any("CUDA is not available" in str(w.message) for w in caught)
    off = mg.amp.GradScaler("cpu", enabled=False)
    loss = model(mg.tensor(x)).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    loss.backward()
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    before = model[0].weight.detach().numpy().copy()
    off.step(opt)
    off.update()
    assert not np.array_equal(before, model[0].weight.detach().numpy())


def test_state_round_trip_and_scaled_tuples():
    scaler = mg.amp.GradScaler("cpu", init_scale=8.0, growth_interval=5)
    a, b = mg.ones(2), mg.ones(3)
    sa, (sb,) = scaler.scale([a, (b,)])
    assert sa.numpy().tolist() == [8.0, 8.0] and sb.numpy().tolist() == [8.0] * 3
    other = mg.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict() and other.get_growth_interval() == 5
    assert mg.cuda.amp is mg.amp and mg.autocast is mg.amp.autocast

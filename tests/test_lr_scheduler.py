"""Learning-rate schedules (minigrad.optim.lr_scheduler): the sequences of learning rates (and of
OneCycleLR's momentum) against their formulas and against PyTorch, checkpoints, errors."""
import math
import pickle
import types
import warnings
from bisect import bisect_right

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler

STEPS = 50
LRS = (0.1, 0.02)        # two parameter groups

# (scheduler, options); OneCycleLR allows exactly STEPS steps here
SCHEDULES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001}),       # past T_max it climbs back
    ("CosineAnnealingLR", {"T_max": STEPS}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 5, "steps_per_epoch": STEPS // 5, "pct_start": 0.25,
                    "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS, "three_phase": True, "base_momentum": [0.8, 0.7],
                    "max_momentum": 0.9, "div_factor": 10.0, "final_div_factor": 100.0}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS, "cycle_momentum": False}),
]
SCHEDULE_IDS = [f"{name}-{options}" for name, options in SCHEDULES]


def make_optimizer(torch=None, name="SGD"):
    """An optimizer with two parameter groups: minigrad's, or PyTorch's when given ``torch``."""
    if torch is None:
        params, optimizers = [Parameter(mg.zeros(2)) for _ in LRS], optim
    else:
        params, optimizers = [torch.zeros(2, requires_grad=True) for _ in LRS], torch.optim
    extra = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(optimizers, name)([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)], **extra)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def run(module_lr_scheduler, opt, name, options, steps=STEPS):
    """The learning rates and momenta of both groups: after creation, then after each step."""
    scheduler = getattr(module_lr_scheduler, name)(opt, **options)
    lrs, momenta = [scheduler.get_last_lr()], [[momentum_of(g) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        momenta.append([momentum_of(g) for g in opt.param_groups])
    return np.array(lrs), np.array(momenta)


# ----------------------------------------------------------------------------- against the formulas
def expected_lrs(name, options, epochs):
    """Closed forms of the simple schedules, one row per epoch."""
    base = np.array(LRS)
    if name == "StepLR":
        return [base * options["gamma"] ** (e // options["step_size"]) for e in epochs]
    if name == "MultiStepLR":
        milestones = sorted(options["milestones"])
        return [base * options["gamma"] ** bisect_right(milestones, e) for e in epochs]
    if name == "ExponentialLR":
        return [base * options["gamma"] ** e for e in epochs]
    eta_min = options.get("eta_min", 0.0)
    return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / options["T_max"])) / 2 for e in epochs]


@pytest.mark.parametrize("name, options", SCHEDULES[:5], ids=SCHEDULE_IDS[:5])
def test_simple_schedules_follow_their_formulas(name, options):
    lrs, momenta = run(lr_scheduler, make_optimizer(), name, options)
    np.testing.assert_allclose(lrs, expected_lrs(name, options, range(STEPS + 1)), rtol=1e-12, atol=1e-15)
    assert (momenta == 0.9).all()


def test_one_cycle_passes_through_its_corners():
    opt = make_optimizer()
    lrs, momenta = run(lr_scheduler, opt, "OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS, "pct_start": 0.3})
    peak = int(0.3 * STEPS) - 1
    np.testing.assert_allclose(lrs[0], 0.5 / 25, rtol=1e-12)
    np.testing.assert_allclose(lrs[peak], 0.5, rtol=1e-12)
    np.testing.assert_allclose(lrs[STEPS - 1], 0.5 / 25 / 1e4, rtol=1e-12)
    assert (np.diff(lrs[:peak + 1, 0]) > 0).all() and (np.diff(lrs[peak:STEPS, 0]) < 0).all()
    np.testing.assert_allclose(momenta[[0, peak, STEPS - 1]], [[0.95] * 2, [0.85] * 2, [0.95] * 2], rtol=1e-12)
    assert opt.param_groups[0]["initial_lr"] == 0.5 / 25 and opt.param_groups[0]["max_lr"] == 0.5


def test_one_cycle_cycles_adams_beta1():
    opt = make_optimizer(name="Adam")
    _, momenta = run(lr_scheduler, opt, "OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS})
    assert momenta[0, 0] == 0.95 and momenta[14, 0] == pytest.approx(0.85)
    assert opt.param_groups[0]["betas"][1] == 0.999


# ----------------------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name, options", SCHEDULES, ids=SCHEDULE_IDS)
def test_schedules_match_torch(torch, name, options, optimizer):
    lrs, momenta = run(lr_scheduler, make_optimizer(name=optimizer), name, options)
    torch_lrs, torch_momenta = run(torch.optim.lr_scheduler, make_optimizer(torch, optimizer), name, options)
    np.testing.assert_allclose(lrs, torch_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(momenta, torch_momenta, rtol=1e-12)


# ----------------------------------------------------------------------------- the scheduler API
def test_creation_records_initial_lr_and_resuming_needs_it():
    opt = make_optimizer()
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS) == scheduler.base_lrs
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=4)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.ExponentialLR([], gamma=0.9)


@pytest.mark.parametrize("name, options", [SCHEDULES[1], SCHEDULES[3], SCHEDULES[7]],
                         ids=[SCHEDULE_IDS[1], SCHEDULE_IDS[3], SCHEDULE_IDS[7]])
def test_state_dicts_resume_the_schedule(name, options):
    expected, expected_momenta = run(lr_scheduler, make_optimizer(), name, options)

    opt = make_optimizer()
    scheduler = getattr(lr_scheduler, name)(opt, **options)
    for _ in range(20):
        opt.step()
        scheduler.step()
    saved = pickle.loads(pickle.dumps((opt.state_dict(), scheduler.state_dict())))

    # as PyTorch advises: build the scheduler, then load the optimizer's state and the scheduler's
    resumed_opt = make_optimizer()
    resumed = getattr(lr_scheduler, name)(resumed_opt, **options)
    resumed_opt.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    assert resumed.get_last_lr() == list(expected[20])
    for epoch in range(21, STEPS + 1):
        resumed_opt.step()
        resumed.step()
        assert resumed.get_last_lr() == list(expected[epoch])
        assert [momentum_of(g) for g in resumed_opt.param_groups] == list(expected_momenta[epoch])


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = make_optimizer()
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5)
    for _ in range(5):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 6 times. The specified number of total steps is 5"):
        scheduler.step()


@pytest.mark.parametrize("options, message", [
    ({"max_lr": 0.1}, r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    ({"max_lr": 0.1, "total_steps": 0}, "Expected positive integer total_steps, but got 0"),
    ({"max_lr": 0.1, "epochs": 2, "steps_per_epoch": -1}, "Expected positive integer steps_per_epoch, but got -1"),
    ({"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5}, "Expected float between 0 and 1 pct_start, but got 1.5"),
    ({"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "step"},
     "anneal_strategy must be one of 'cos' or 'linear', instead got step"),
    ({"max_lr": [0.1, 0.2, 0.3], "total_steps": 10},
     "max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, param_groups has 2."),
])
def test_one_cycle_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(make_optimizer(), **options)


def test_one_cycle_needs_a_momentum_to_cycle():
    opt = optim.Adagrad([Parameter(mg.zeros(2))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


# ----------------------------------------------------------------------------- the composable schedules
def _plateau_metric(epoch):
    """Improves for a while, then wobbles on a plateau."""
    return 1.0 / (1 + min(epoch, 12)) + 0.01 * ((7 * epoch) % 3)


class _Halving:
    """A callable object: its attributes travel in the state dict, unlike a function."""

    def __init__(self):
        self.every = 10

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


# id -> build(lr_scheduler module, optimizer); all run for STEPS steps
BUILDERS = {
    "LambdaLR": lambda L, opt: L.LambdaLR(opt, lambda e: 0.9 ** e),
    "LambdaLR-per-group": lambda L, opt: L.LambdaLR(opt, [lambda e: 1 / (1 + e), _Halving()]),
    "MultiplicativeLR": lambda L, opt: L.MultiplicativeLR(opt, lambda e: 0.95),
    "MultiplicativeLR-per-group": lambda L, opt: L.MultiplicativeLR(
        opt, [lambda e: 0.9, lambda e: 1.0 if e % 2 else 0.8]),
    "ConstantLR": lambda L, opt: L.ConstantLR(opt),
    "ConstantLR-long": lambda L, opt: L.ConstantLR(opt, factor=0.5, total_iters=10),
    "LinearLR": lambda L, opt: L.LinearLR(opt),
    "LinearLR-decay": lambda L, opt: L.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=30),
    "LinearLR-partial": lambda L, opt: L.LinearLR(opt, start_factor=0.1, end_factor=0.8, total_iters=20),
    "PolynomialLR": lambda L, opt: L.PolynomialLR(opt),
    "PolynomialLR-square": lambda L, opt: L.PolynomialLR(opt, total_iters=30, power=2.0),
    "CosineAnnealingWarmRestarts": lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=10),
    "CosineAnnealingWarmRestarts-mult": lambda L, opt: L.CosineAnnealingWarmRestarts(
        opt, T_0=3, T_mult=2, eta_min=1e-3),
    "CyclicLR": lambda L, opt: L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "CyclicLR-triangular2": lambda L, opt: L.CyclicLR(opt, base_lr=[0.01, 0.002], max_lr=0.1, step_size_up=4,
                                                      step_size_down=6, mode="triangular2", base_momentum=0.7),
    "CyclicLR-exp_range": lambda L, opt: L.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=3,
                                                    mode="exp_range", gamma=0.97, max_momentum=[0.95, 0.9]),
    "CyclicLR-scale_fn": lambda L, opt: L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=7,
                                                   scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode="iterations",
                                                   cycle_momentum=False),
    "ReduceLROnPlateau": lambda L, opt: L.ReduceLROnPlateau(opt, patience=2, factor=0.5),
    "ReduceLROnPlateau-options": lambda L, opt: L.ReduceLROnPlateau(
        opt, mode="max", factor=0.3, patience=1, threshold=0.02, threshold_mode="abs", cooldown=2,
        min_lr=[0.005, 1e-4]),
    "SequentialLR": lambda L, opt: L.SequentialLR(
        opt, [L.ConstantLR(opt, factor=0.1, total_iters=2), L.ExponentialLR(opt, gamma=0.9)], milestones=[2]),
    "SequentialLR-three": lambda L, opt: L.SequentialLR(
        opt, [L.LinearLR(opt, start_factor=0.2, total_iters=5), L.StepLR(opt, step_size=4, gamma=0.5),
              L.CosineAnnealingWarmRestarts(opt, T_0=6)], milestones=[5, 20]),
    "SequentialLR-multiplicative": lambda L, opt: L.SequentialLR(
        opt, [L.MultiStepLR(opt, milestones=[3, 6]), L.MultiplicativeLR(opt, lambda e: 0.9),
              L.PolynomialLR(opt, total_iters=20)], milestones=[10, 25]),
    "ChainedScheduler": lambda L, opt: L.ChainedScheduler(
        [L.ConstantLR(opt, factor=0.1, total_iters=4), L.ExponentialLR(opt, gamma=0.9)]),
    "ChainedScheduler-cosine": lambda L, opt: L.ChainedScheduler(
        [L.ConstantLR(opt, factor=0.1, total_iters=4), L.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3)]),
    "SequentialLR-cosine": lambda L, opt: L.SequentialLR(
        opt, [L.LinearLR(opt, start_factor=0.1, total_iters=5), L.CosineAnnealingLR(opt, T_max=15)], milestones=[5]),
    "ChainedScheduler-three": lambda L, opt: L.ChainedScheduler(
        [L.LinearLR(opt, start_factor=0.5, total_iters=8), L.MultiplicativeLR(opt, lambda e: 0.98),
         L.PolynomialLR(opt, total_iters=40, power=0.5)], optimizer=opt),
}


def run_built(L, opt, build, steps=STEPS, first=None):
    """Like run(): the learning rates and momenta after creation and after each step.  ``first``
    resumes a scheduler already built (and loaded) at that epoch."""
    scheduler = build(L, opt) if first is None else first[0]
    start = 0 if first is None else first[1]
    lrs, momenta = [scheduler.get_last_lr()], [[momentum_of(g) for g in opt.param_groups]]
    for epoch in range(start, steps):
        opt.step()
        if isinstance(scheduler, L.ReduceLROnPlateau):
            scheduler.step(_plateau_metric(epoch))
        else:
            scheduler.step()
        lrs.append(list(scheduler.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        momenta.append([momentum_of(g) for g in opt.param_groups])
    return scheduler, np.array(lrs), np.array(momenta)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name", BUILDERS)
def test_composable_schedules_match_torch(torch, name, optimizer):
    _, lrs, momenta = run_built(lr_scheduler, make_optimizer(name=optimizer), BUILDERS[name])
    _, torch_lrs, torch_momenta = run_built(torch.optim.lr_scheduler, make_optimizer(torch, optimizer), BUILDERS[name])
    np.testing.assert_allclose(lrs, torch_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(momenta, torch_momenta, rtol=1e-12)


def closed_form(name, epoch):
    """The learning rates of some of BUILDERS' schedules at ``epoch``, from their definitions."""
    base = np.array(LRS)
    if name == "LambdaLR":
        return base * 0.9 ** epoch
    if name == "MultiplicativeLR":
        return base * 0.95 ** epoch
    if name == "ConstantLR-long":
        return base * (0.5 if epoch < 10 else 1.0)
    if name == "LinearLR-partial":
        return base * (0.1 + 0.7 * min(epoch, 20) / 20)
    if name == "PolynomialLR-square":
        return base * (1 - min(epoch, 30) / 30) ** 2
    if name == "CosineAnnealingWarmRestarts-mult":      # periods 3, 6, 12, 24 start at 0, 3, 9, 21
        start = max(s for s in (0, 3, 9, 21, 45) if s <= epoch)
        return 1e-3 + (base - 1e-3) * (1 + math.cos(math.pi * (epoch - start) / (start + 3))) / 2
    if name == "CyclicLR":                               # triangle of period 10 between 0.01 and 0.1
        return np.full(2, 0.01 + 0.09 * (1 - abs((epoch % 10) - 5) / 5))
    if name == "ChainedScheduler":
        return base * 0.9 ** epoch * (0.1 if epoch < 4 else 1.0)
    raise KeyError(name)


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR", "ConstantLR-long", "LinearLR-partial",
                                  "PolynomialLR-square", "CosineAnnealingWarmRestarts-mult", "CyclicLR",
                                  "ChainedScheduler"])
def test_composable_schedules_follow_their_formulas(name):
    _, lrs, _ = run_built(lr_scheduler, make_optimizer(), BUILDERS[name])
    np.testing.assert_allclose(lrs, [closed_form(name, e) for e in range(STEPS + 1)], rtol=1e-12, atol=1e-15)


def test_cyclic_lr_moves_momentum_against_the_rate():
    _, lrs, momenta = run_built(lr_scheduler, make_optimizer(), BUILDERS["CyclicLR"], steps=10)
    np.testing.assert_allclose(momenta[:, 0], 0.9 - 0.1 * (lrs[:, 0] - 0.01) / 0.09, rtol=1e-12)
    assert momenta[0, 0] == 0.9 and momenta[5, 0] == pytest.approx(0.8)


def test_sequential_lr_restarts_each_schedule_at_its_milestone():
    _, lrs, _ = run_built(lr_scheduler, make_optimizer(), BUILDERS["SequentialLR-three"], steps=30)
    np.testing.assert_allclose(lrs[:5, 0], 0.1 * (0.2 + 0.8 * np.arange(5) / 5), rtol=1e-12)
    np.testing.assert_allclose(lrs[5:20, 0], 0.1 * 0.5 ** (np.arange(15) // 4), rtol=1e-12)
    np.testing.assert_allclose(lrs[20:27, 0], 0.05 * (1 + np.cos(np.pi * (np.arange(7) % 6) / 6)), rtol=1e-12)


def test_reduce_lr_on_plateau_waits_patience_then_cools_down():
    opt = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.04)
    seen = []
    for metric in [1.0, 0.9, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]:
        scheduler.step(mg.tensor(metric, dtype=mg.float64))      # a one-element tensor is accepted
        seen.append(scheduler.get_last_lr()[0])
    # 3 bad epochs (> patience 2) -> halve; 1 cooldown epoch; 3 more bad -> halve, floored at min_lr;
    # 1 cooldown epoch, 3 more bad: already at min_lr
    assert seen == [0.1] * 4 + [0.05] * 4 + [0.04] * 5
    assert scheduler.get_last_lr()[1] == 0.02           # below min_lr already: neither reduced nor raised
    assert scheduler.best == 0.9 and scheduler.last_epoch == 13


@pytest.mark.parametrize("name", BUILDERS)
def test_composable_state_dicts_resume_the_schedule(name):
    _, expected, expected_momenta = run_built(lr_scheduler, make_optimizer(), BUILDERS[name])
    opt = make_optimizer()
    scheduler, _, _ = run_built(lr_scheduler, opt, BUILDERS[name], steps=20)
    saved = pickle.loads(pickle.dumps((opt.state_dict(), scheduler.state_dict())))

    resumed_opt = make_optimizer()
    resumed = BUILDERS[name](lr_scheduler, resumed_opt)
    resumed_opt.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    _, lrs, momenta = run_built(lr_scheduler, resumed_opt, None, first=(resumed, 20))
    np.testing.assert_array_equal(lrs, expected[20:])
    np.testing.assert_array_equal(momenta, expected_momenta[20:])


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    opt = make_optimizer()
    halving = _Halving()
    scheduler = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, halving])
    halving.every = 3
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [None, {"every": 3}]
    other = _Halving()
    lr_scheduler.LambdaLR(make_optimizer(), [lambda e: 1.0, other]).load_state_dict(saved)
    assert other.every == 3


def _bad_sequential(L, opt):
    return L.SequentialLR(opt, [L.ConstantLR(opt), L.ExponentialLR(opt, gamma=0.9)], milestones=[2, 4])


# (build, exception, PyTorch's message)
BAD_SCHEDULES = [
    (lambda L, opt: L.LambdaLR(opt, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda L, opt: L.MultiplicativeLR(opt, 0.9), TypeError, "lr_lambda should be a function, but got float"),
    (lambda L, opt: L.ConstantLR(opt, factor=1.5), ValueError, "Constant multiplicative factor expected to be between"),
    (lambda L, opt: L.LinearLR(opt, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater"),
    (lambda L, opt: L.LinearLR(opt, end_factor=2), ValueError, "Ending multiplicative factor expected to be between"),
    (lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError, "Expected positive integer T_0, but got 0"),
    (lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=1.5), ValueError,
     "Expected integer T_mult >= 1, but got 1.5"),
    (lambda L, opt: L.CyclicLR(opt, 0.01, 0.1, mode="sawtooth"), ValueError, "mode is invalid and scale_fn is None"),
    (lambda L, opt: L.ReduceLROnPlateau(opt, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda L, opt: L.ReduceLROnPlateau(opt, mode="lowest"), ValueError, "mode lowest is unknown!"),
    (lambda L, opt: L.ReduceLROnPlateau(opt, threshold_mode="pct"), ValueError, "threshold mode pct is unknown!"),
    (lambda L, opt: L.ReduceLROnPlateau(opt, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (_bad_sequential, ValueError, "expects number of schedulers provided to be one more than the number of milestone"),
    (lambda L, opt: L.SequentialLR(opt, [], milestones=[]), ValueError,
     "SequentialLR expects at least one scheduler, but got no scheduler."),
    (lambda L, opt: L.SequentialLR(opt, [L.ReduceLROnPlateau(opt)], milestones=[]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda L, opt: L.ChainedScheduler([L.ConstantLR(opt), L.ConstantLR(type(opt)(opt.param_groups))]), ValueError,
     "ChainedScheduler expects all schedulers to belong to the same optimizer"),
]


@pytest.mark.parametrize("build, error, message", BAD_SCHEDULES)
def test_bad_composable_schedules_are_refused(build, error, message):
    with pytest.raises(error, match=message):
        build(lr_scheduler, make_optimizer())


@pytest.mark.parametrize("build, error, message", BAD_SCHEDULES)
def test_bad_schedule_messages_are_torchs(torch, build, error, message):
    with pytest.raises(error, match=message):
        build(torch.optim.lr_scheduler, make_optimizer(torch))


def test_cosine_warm_restarts_steps_by_fractional_epochs():
    opt = make_optimizer()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for epoch, expected_cur, expected_period in [(0.5, 0.5, 2), (2.5, 0.5, 4), (6.25, 0.25, 8), (1.0, 1.0, 2)]:
        scheduler.step(epoch)
        assert (scheduler.T_cur, scheduler.T_i) == (expected_cur, expected_period)
        expected = 0.05 * (1 + math.cos(math.pi * expected_cur / expected_period))
        assert scheduler.get_last_lr()[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


# ----------------------------------------------------------------------------- PyTorch's warnings and state-dict keys
def order_warnings(lib, name, options, optimizer_first, step_before_scheduler=False):
    """The UserWarnings of a short run: PyTorch warns once when the first scheduler.step() comes
    before any optimizer.step() made after the scheduler's creation."""
    opt = make_optimizer(lib)
    if step_before_scheduler:
        opt.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        for _ in range(3):
            if optimizer_first:
                opt.step()
            scheduler.step()
    return [str(w.message)[:60] for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("name, options",
                         SCHEDULES[:6] + [("LinearLR", {}), ("LambdaLR", {"lr_lambda": lambda e: 1.0})])
@pytest.mark.parametrize("optimizer_first, step_before_scheduler", [(True, False), (False, False), (False, True)])
def test_scheduler_step_before_optimizer_step_warns_as_torch(torch, name, options, optimizer_first,
                                                             step_before_scheduler):
    ours = order_warnings(mg, name, options, optimizer_first, step_before_scheduler)
    assert ours == order_warnings(torch, name, options, optimizer_first, step_before_scheduler)
    assert len(ours) == (0 if optimizer_first else 1)


def test_composites_warn_per_schedule_as_torch(torch):
    def log(lib):
        opt = make_optimizer(lib)
        s = lib.optim.lr_scheduler
        chained = s.ChainedScheduler([s.ExponentialLR(opt, 0.9), s.StepLR(opt, 2)])
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`") as caught:
            chained.step()
        return len(caught)
    assert log(mg) == log(torch) == 2


@pytest.mark.parametrize("name, options", SCHEDULES[:6])
def test_get_lr_outside_step_warns_as_torch(torch, name, options):
    for lib in (mg, torch):
        scheduler = getattr(lib.optim.lr_scheduler, name)(make_optimizer(lib), **options)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            scheduler.get_lr()


@pytest.mark.parametrize("name, options", SCHEDULES + [("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1})])
def test_state_dict_keys_are_torchs(torch, name, options):
    ours = getattr(lr_scheduler, name)(make_optimizer(), **options).state_dict()
    theirs = getattr(torch.optim.lr_scheduler, name)(make_optimizer(torch), **options).state_dict()
    assert sorted(ours) == sorted(theirs)
    if name == "OneCycleLR":
        assert ours["_schedule_phases"] == theirs["_schedule_phases"]
        assert ours["_anneal_func_type"] == theirs["_anneal_func_type"]


def test_one_cycle_resumes_from_a_torch_state_dict(torch):
    options = {"max_lr": 0.5, "total_steps": STEPS, "anneal_strategy": "linear"}
    theirs_opt = make_optimizer(torch)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, **options)
    for _ in range(7):
        theirs_opt.step()
        theirs.step()
    ours_opt = make_optimizer()
    ours_opt.load_state_dict({"state": {}, "param_groups": theirs_opt.state_dict()["param_groups"]})
    ours = lr_scheduler.OneCycleLR(ours_opt, max_lr=0.5, total_steps=STEPS)      # cos, overridden by the dict
    ours.load_state_dict(theirs.state_dict())
    for _ in range(5):
        ours_opt.step()
        ours.step()
        theirs_opt.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("name, options", [("StepLR", {"step_size": 1, "gamma": 0.5}),
                                           ("ExponentialLR", {"gamma": 0.9}),
                                           ("CosineAnnealingWarmRestarts", {"T_0": 2}),
                                           ("ReduceLROnPlateau", {"factor": 0.5, "patience": 0})])
def test_a_tensor_learning_rate_is_updated_in_place_as_torch(torch, name, options):
    """PyTorch fills a Tensor lr in place (it stays the optimizer's Tensor) and hands out copies."""
    def run_tensor_lr(lib):
        lr = lib.tensor([0.1])
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=lr)
        scheduler = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        last = []
        for _ in range(3):
            opt.step()
            scheduler.step(1.0) if name == "ReduceLROnPlateau" else scheduler.step()
            last.append(scheduler.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] is lr and all(isinstance(v, lib.Tensor) and v is not lr for v in last)
        return [float(v) for v in last]
    np.testing.assert_allclose(run_tensor_lr(mg), run_tensor_lr(torch), rtol=1e-6)


def test_step_with_an_epoch_warns_torchs_constant(torch):
    assert lr_scheduler.EPOCH_DEPRECATION_WARNING == torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING
    for lib in (mg, torch):
        opt = make_optimizer(lib)
        plateau, step = lib.optim.lr_scheduler.ReduceLROnPlateau(opt), lib.optim.lr_scheduler.StepLR(opt, 2)
        opt.step()
        for call in (lambda: plateau.step(1.0, 3), lambda: step.step(3)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call()
            assert [str(w.message) for w in caught] == [lib.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING]


@pytest.mark.parametrize("when", ["after the scheduler", "before the scheduler"])
def test_an_optimizer_step_replaced_after_the_scheduler_warns_as_torch(torch, when):
    """PyTorch warns when ``optimizer.step`` is replaced (an instance attribute, as in its tests)
    after the scheduler was made, even if the order of the calls is right."""
    def messages(lib):
        opt = make_optimizer(lib)
        if when == "after the scheduler":
            scheduler = lib.optim.lr_scheduler.StepLR(opt, 3)
        original = opt.step
        opt.step = types.MethodType(lambda self, *args, **kwargs: original(*args, **kwargs), opt)
        if when == "before the scheduler":
            scheduler = lib.optim.lr_scheduler.StepLR(opt, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                opt.step()
                scheduler.step()
        return [str(w.message)[:50] for w in caught]
    ours = messages(mg)
    assert ours == messages(torch)
    assert ours == (["Seems like `optimizer.step()` has been overridden "] if when == "after the scheduler" else [])


def test_a_custom_schedules_closed_form_serves_step_with_an_epoch(torch):
    """PyTorch's step(epoch) uses a schedule's ``_get_closed_form_lr`` where it has one (custom
    schedules define it under that name)."""
    def jump(lib):
        class Half(lib.optim.lr_scheduler.LRScheduler):
            def get_lr(self):
                return [g["lr"] * (0.5 if self.last_epoch > 0 else 1.0) for g in self.optimizer.param_groups]

            def _get_closed_form_lr(self):
                return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
        opt = make_optimizer(lib)
        scheduler = Half(opt)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(4)
        return scheduler.get_last_lr()
    assert jump(mg) == pytest.approx(jump(torch), rel=1e-12) == [lr / 16 for lr in LRS]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
                                  "LambdaLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
                                  "CosineAnnealingWarmRestarts", "CyclicLR", "ReduceLROnPlateau", "SequentialLR",
                                  "ChainedScheduler"])
def test_scheduler_signatures_are_torchs(torch, name):
    import inspect

    def parameters(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    assert parameters(getattr(lr_scheduler, name)) == parameters(getattr(torch.optim.lr_scheduler, name))



@pytest.mark.parametrize("build, error, regex", [
    (lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3), KeyError,
     r"param \'initial_lr\' is not specified in param_groups\[0\] when resuming scheduler with last_epoch >= 0"),
    (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, [1.0, 2.0, 3.0], total_steps=10), ValueError,
     r"max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, param_groups has 2."),
    (lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, [0.1, 0.2, 0.3], 1.0), ValueError,
     r"base_lr must have the same length as optimizer.param_groups. base_lr has 3 values, param_groups has 2."),
])
def test_scheduler_refusals_carry_torchs_messages(torch, build, error, regex):
    for lib in (torch, mg):
        with pytest.raises(error, match=regex):
            build(lib, make_optimizer(lib))

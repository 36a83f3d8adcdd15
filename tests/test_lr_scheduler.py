"""Learning-rate schedules (minigrad.optim.lr_scheduler): the sequences of learning rates (and of
OneCycleLR's momentum) against their formulas and against PyTorch, checkpoints, errors."""
import math
import pickle
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
    ({"max_lr": [0.1, 0.2, 0.3], "total_steps": 10}, "expected 2 values for max_lr, got 3"),
])
def test_one_cycle_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(make_optimizer(), **options)


def test_one_cycle_needs_a_momentum_to_cycle():
    opt = optim.Adagrad([Parameter(mg.zeros(2))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)

"""PyTorch-compatibility of the nn / optim / data API as a PyTorch user's tests exercise it:
names and order, containers, hooks, state dicts, printing, and the errors PyTorch raises."""
import re
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


# ----------------------------------------------------------------------------- registration
@pytest.mark.parametrize("register", [
    lambda m, n: m.register_parameter(n, nn.Parameter(mg.zeros(2))),
    lambda m, n: m.register_buffer(n, mg.zeros(2)),
    lambda m, n: m.add_module(n, nn.ReLU()),
])
def test_registered_names_follow_pytorch_rules(register):
    m = nn.Module()
    for bad in ("a.b", ""):
        with pytest.raises(KeyError):
            register(m, bad)
    m.x = 3                                          # a plain attribute is not silently shadowed
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        register(m, "x")
    register(m, "ok")
    register(m, "ok")                                # re-registering the same kind replaces it


def test_assigning_a_non_module_to_a_child_slot_raises():
    m = nn.Module()
    m.child = nn.ReLU()
    with pytest.raises(TypeError, match="child module 'child'"):
        m.child = mg.zeros(1)
    m.child = None
    assert list(m.named_children()) == []


def test_shared_module_appears_under_each_name_in_state_dict(torch):
    ours_l, theirs_l = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours, theirs = nn.Sequential(ours_l, ours_l), torch.nn.Sequential(theirs_l, theirs_l)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [n for n, _ in ours.named_parameters()] == ["0.weight", "0.bias"]
    for remove in (True, False):
        assert ([n for n, _ in ours.named_parameters(remove_duplicate=remove)]
                == [n for n, _ in theirs.named_parameters(remove_duplicate=remove)])
        assert ([n for n, _ in ours.named_modules(remove_duplicate=remove)]
                == [n for n, _ in theirs.named_modules(remove_duplicate=remove)])
    ours.load_state_dict(ours.state_dict())


# ----------------------------------------------------------------------------- load_state_dict
def test_load_state_dict_result_and_messages_match_pytorch(torch):
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"
    assert repr(ours.load_state_dict(ours.state_dict())) == repr(theirs.load_state_dict(theirs.state_dict()))
    sd = {"weight": np.zeros((2, 2), np.float32), "extra": np.zeros(1, np.float32)}
    result = ours.load_state_dict(sd, strict=False)
    assert type(result).__name__ == "_IncompatibleKeys"
    assert (result.missing_keys, result.unexpected_keys) == (["bias"], ["extra"])
    assert str(result) == str(theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()}, strict=False))
    for text in ('Missing key\\(s\\) in state_dict: "bias"', 'Unexpected key\\(s\\) in state_dict: "extra"'):
        with pytest.raises(RuntimeError, match=text):
            ours.load_state_dict(sd)
        with pytest.raises(RuntimeError, match=text):
            theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    with pytest.raises(RuntimeError, match="size mismatch for weight: copying a param with shape"):
        ours.load_state_dict({"weight": np.zeros((3, 2), np.float32)}, strict=False)


def test_load_state_dict_assign_replaces_the_parameters():
    m = nn.Linear(2, 2)
    old = m.weight
    m.bias.requires_grad_(False)
    m.load_state_dict({"weight": mg.ones(2, 2, dtype=mg.float64), "bias": mg.ones(2)}, assign=True)
    assert m.weight is not old and isinstance(m.weight, nn.Parameter) and m.weight.dtype == mg.float64
    assert m.weight.requires_grad and not m.bias.requires_grad
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((2, 2)))
    m.load_state_dict({"weight": mg.zeros(2, 2), "bias": mg.zeros(2)})      # copy: same objects
    assert m.weight.dtype == mg.float64


# ----------------------------------------------------------------------------- hooks
def test_forward_hooks_prepend_with_kwargs_always_call():
    m = nn.Linear(2, 3)
    log = []
    m.register_forward_hook(lambda mod, args, out: log.append("plain"))
    m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append(sorted(kwargs)), with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"input": kwargs["input"] * 0}), with_kwargs=True)
    out = m(input=mg.ones(1, 2))
    assert log == ["first", "plain", ["input"]]
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(m.bias.detach().numpy(), (1, 3)))

    failing, seen = nn.Linear(2, 3), []
    failing.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    failing.register_forward_hook(lambda mod, args, out: seen.append("not called"))
    with pytest.raises(Exception):
        failing(mg.ones(1, 5))
    assert seen == [None]


def test_hook_handle_removes_with_kwargs_hook():
    m, log = nn.Identity(), []
    handle = m.register_forward_pre_hook(lambda mod, args, kwargs: log.append(1), with_kwargs=True)
    m(mg.ones(1))
    handle.remove()
    m(mg.ones(1))
    assert log == [1] and not m._hooks_with_kwargs


# ----------------------------------------------------------------------------- printing
def test_repr_extra_lines_and_repeated_children(torch):
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = lib.nn.ModuleList([lib.nn.Linear(1, 2) for _ in range(3)] + [lib.nn.ReLU()])

            def extra_repr(self):
                return "hello=1"
        return M()
    assert repr(build(mg)) == repr(build(torch))
    assert repr(nn.LayerNorm(4, bias=False)) == repr(torch.nn.LayerNorm(4, bias=False))
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"


# ----------------------------------------------------------------------------- containers
def _names(seq):
    return [type(m).__name__ for m in seq]


def test_sequential_list_methods(torch):
    for lib in (mg, torch):
        s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        assert s.insert(-1, lib.nn.Sigmoid()) is s
        s.extend([lib.nn.GELU()])
        assert type(s.pop(0)).__name__ == "ReLU"
        assert _names(s) == ["Sigmoid", "Tanh", "GELU"] and list(s._modules) == ["0", "1", "2"]
        assert _names(s + lib.nn.Sequential(lib.nn.ReLU())) == ["Sigmoid", "Tanh", "GELU", "ReLU"]
        assert _names(lib.nn.Sequential(lib.nn.ReLU()) * 2) == ["ReLU", "ReLU"]
        s += lib.nn.Sequential(lib.nn.ReLU())
        assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
        with pytest.raises(ValueError):
            s + [lib.nn.ReLU()]
    assert nn.Sequential(nn.Linear(2, 3))(input=mg.ones(1, 2)).shape == (1, 3)


def test_modulelist_and_moduledict_methods():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.GELU()])
    assert type(ml.pop(1)).__name__ == "Tanh" and list(ml._modules) == ["0", "1"]
    ml += [nn.Sigmoid()]
    both = ml + nn.ModuleList([nn.ReLU()])
    assert isinstance(both, nn.ModuleList) and _names(both) == ["ReLU", "GELU", "Sigmoid", "ReLU"]
    with pytest.raises(TypeError):
        ml.extend(nn.ReLU())

    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    md.update({"c": nn.GELU()})
    md.update([("d", nn.Sigmoid())])
    assert type(md.pop("a")).__name__ == "Tanh"
    del md["b"]
    assert list(md.keys()) == ["c", "d"] and "c" in md
    md.clear()
    assert len(md) == 0


# ----------------------------------------------------------------------------- init
def test_init_private_fan_helpers_and_orthogonal_rank_check(torch):
    t = mg.empty(4, 3, 2, 2)
    assert nn.init._calculate_fan_in_and_fan_out(t) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(4, 3, 2, 2)) == (12, 16)
    assert nn.init._calculate_correct_fan(t, "fan_out") == 16
    with pytest.raises(ValueError):
        nn.init._calculate_fan_in_and_fan_out(mg.empty(5))
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(mg.empty(5))


# ----------------------------------------------------------------------------- clipping
def _linear_with_grads(lib):
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1., -2, 3], [4, 5, -6]]))
        m.bias.copy_(lib.tensor([0.5, -0.5]))
    (m(lib.tensor([[1., 2, 3]])) ** 2).sum().backward()
    return m


def test_get_total_norm_clip_grads_with_norm_and_deprecated_alias(torch):
    ours, theirs = _linear_with_grads(mg), _linear_with_grads(torch)
    for norm_type in (2.0, 1, "inf"):
        a = nn.utils.get_total_norm([p.grad for p in ours.parameters()], norm_type)
        b = torch.nn.utils.get_total_norm([p.grad for p in theirs.parameters()], norm_type)
        np.testing.assert_allclose(float(a), float(b), rtol=1e-6)
    total = nn.utils.get_total_norm([p.grad for p in ours.parameters()])
    nn.utils.clip_grads_with_norm_(ours.parameters(), 1.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs.parameters(), 1.0,
                                         torch.nn.utils.get_total_norm([p.grad for p in theirs.parameters()]))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    with pytest.warns(FutureWarning):
        r = nn.utils.clip_grad_norm(ours.parameters(), 0.5, foreach=None)
    np.testing.assert_allclose(float(r), 1.0, rtol=1e-5)


# ----------------------------------------------------------------------------- optim
def test_optimizer_accepts_named_parameters(torch):
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    o = mg.optim.SGD(ours.named_parameters(), lr=0.1)
    t = torch.optim.SGD(theirs.named_parameters(), lr=0.1)
    assert o.param_groups[0]["param_names"] == t.param_groups[0]["param_names"] == ["weight", "bias"]
    assert o.param_groups[0]["params"][0] is ours.weight
    assert o.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    g = mg.optim.Adam([{"params": list(ours.named_parameters()), "lr": 0.2}])
    assert g.param_groups[0]["param_names"] == ["weight", "bias"] and g.param_groups[0]["lr"] == 0.2


def test_old_scheduler_base_and_step_with_epoch(torch):
    def run(lib):
        class Halving(lib.optim.lr_scheduler._LRScheduler):
            def get_lr(self):
                return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        sched, lrs = Halving(opt), []
        for _ in range(3):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        step = lib.optim.lr_scheduler.StepLR(lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1), 2)
        with pytest.warns(UserWarning, match="epoch parameter"):
            step.step(5)
        return lrs + [step.get_last_lr()[0], step.last_epoch]
    np.testing.assert_allclose(run(mg), run(torch), rtol=1e-12)
    np.testing.assert_allclose(run(mg), [0.05, 0.025, 0.0125, 0.001, 5], rtol=1e-12)


def test_optimizer_flags_and_step_hooks(torch):
    m = nn.Linear(1, 1)
    mg.optim.SGD(m.parameters(), lr=0.1, foreach=True, fused=None)
    mg.optim.Adam(m.parameters(), foreach=False, fused=None, capturable=False)
    mg.optim.AdamW(m.parameters(), foreach=None)
    mg.optim.RMSprop(m.parameters(), foreach=None)
    mg.optim.Adagrad(m.parameters(), foreach=None)
    with pytest.raises(ValueError, match="differentiable"):
        mg.optim.SGD(m.parameters(), lr=0.1, differentiable=True)

    def run(lib, optimizer, **kw):
        model = lib.nn.Linear(1, 1)
        opt, log = optimizer(lib)(model.parameters(), **kw), []
        handle = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args), sorted(kwargs))))
        opt.register_step_post_hook(lambda o, args, kwargs: log.append("post"))

        def closure():
            opt.zero_grad()
            loss = model(lib.ones(1, 1)).sum()
            loss.backward()
            return loss
        opt.step(closure)
        handle.remove()
        opt.step(closure=closure)
        return log
    for optimizer, kw in ((lambda lib: lib.optim.SGD, {"lr": 0.1}), (lambda lib: lib.optim.LBFGS, {"max_iter": 2})):
        assert run(mg, optimizer, **kw) == run(torch, optimizer, **kw) == [("pre", 2, []), "post", "post"]


# ----------------------------------------------------------------------------- more Module API
def test_extra_state_is_saved_and_restored(torch):
    def build(lib):
        class WithCounter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)
                self.count = 3

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]
        return lib.nn.Sequential(WithCounter())
    ours, theirs = build(mg), build(torch)
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict()) == ["0._extra_state", "0.inner.weight", "0.inner.bias"]
    fresh = build(mg)
    fresh[0].count = 0
    fresh.load_state_dict(sd)
    assert fresh[0].count == 3
    del sd["0._extra_state"]
    assert fresh.load_state_dict(sd, strict=False).missing_keys == ["0._extra_state"]


def test_parameter_containers_make_parameters_and_sort_plain_dicts(torch):
    for lib in (mg, torch):
        plist = lib.nn.ParameterList([lib.zeros(2)])
        assert isinstance(plist[0], lib.nn.Parameter) and plist[0].requires_grad
        pdict = lib.nn.ParameterDict({"b": lib.zeros(1), "a": lib.zeros(1)})
        pdict.update(OrderedDict([("d", lib.zeros(1)), ("c", lib.zeros(1))]))
        assert list(pdict.keys()) == ["a", "b", "d", "c"]
        assert pdict.setdefault("e", lib.nn.Parameter(lib.ones(1))) is pdict["e"]
    assert nn.Linear(1, 1)._get_name() == "Linear"


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims", [1, 2])
def test_conv_padding_modes_match_pytorch(torch, mode, dims):
    rng = np.random.default_rng(0)
    cls = "Conv1d" if dims == 1 else "Conv2d"
    ours = getattr(nn, cls)(2, 3, 3, padding=1, padding_mode=mode, dtype=mg.float64)
    theirs = getattr(torch.nn, cls)(2, 3, 3, padding=1, padding_mode=mode, dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 2) + (5,) * dims)
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(theirs)
    assert nn.Conv2d(1, 1, 1).padding_mode == "zeros"
    with pytest.raises(ValueError, match="padding_mode"):
        getattr(nn, cls)(1, 1, 1, padding_mode="mirror")


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Linear(2, 3), (1, 2)), (lambda: nn.Conv2d(1, 1, 1), (1, 1, 2, 2)), (lambda: nn.ReLU(), (2,)),
    (lambda: nn.BatchNorm1d(2), (3, 2)), (lambda: nn.LayerNorm(2), (3, 2)), (lambda: nn.Dropout(0.0), (3, 2)),
    (lambda: nn.Flatten(), (3, 2, 2)), (lambda: nn.Softmax(dim=1), (3, 2)), (lambda: nn.Identity(), (3,)),
    (lambda: nn.MaxPool2d(2), (1, 1, 2, 2)), (lambda: nn.ZeroPad2d(1), (1, 1, 2, 2)),
    (lambda: nn.Sequential(nn.Linear(2, 2)), (1, 2)),
])
def test_layers_take_their_input_by_pytorchs_keyword(make, shape):
    layer = make()
    np.testing.assert_allclose(layer(input=mg.ones(*shape)).detach().numpy(), layer(mg.ones(*shape)).detach().numpy())


def test_torch_nn_modules_paths():
    from minigrad.nn.modules.batchnorm import _BatchNorm
    from minigrad.nn.modules.loss import _Loss
    import minigrad.nn.modules.conv as conv
    assert isinstance(nn.BatchNorm2d(2), _BatchNorm) and isinstance(nn.MSELoss(), _Loss)
    assert conv.Conv2d is nn.Conv2d and isinstance(nn.Conv1d(1, 1, 1), nn.modules.conv._ConvNd)
    assert nn.modules.linear.Linear is nn.Linear and nn.modules.module.Module is nn.Module


def test_custom_losses_subclass_the_private_bases_as_in_torch(torch):
    """Custom losses written for PyTorch: _WeightedLoss(weight, size_average, reduce, reduction) and
    _Loss(size_average, reduce, reduction), positional legacy flags included."""
    def run(lib):
        loss_mod = lib.nn.modules.loss

        class FocalLoss(loss_mod._WeightedLoss):
            def __init__(self, weight=None, gamma=2.0, reduction="mean"):
                super(FocalLoss, self).__init__(weight, reduction=reduction)
                self.gamma = gamma

            def forward(self, input, target):
                logp = lib.nn.functional.log_softmax(input, dim=1)
                ce = lib.nn.functional.nll_loss(logp, target, weight=self.weight, reduction="none")
                p = logp.gather(1, target.unsqueeze(1)).squeeze(1).exp()
                loss = (1 - p) ** self.gamma * ce
                return loss.mean() if self.reduction == "mean" else loss.sum()

        class Legacy(loss_mod._Loss):
            def __init__(self, size_average=None, reduce=None, reduction="mean"):
                super(Legacy, self).__init__(size_average, reduce, reduction)

            def forward(self, input, target):
                return ((input - target) ** 2).sum()

        x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
        focal = FocalLoss(weight=lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64))
        loss = focal(x, lib.tensor([0, 2, 1, 1]))
        loss.backward()
        return (loss.item(), x.grad.tolist(), list(focal.state_dict()), Legacy(False).reduction,
                Legacy(reduce=False).reduction, Legacy().reduction)
    ours, theirs = run(mg), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[2:] == theirs[2:] == (["weight"], "sum", "none", "mean")


@pytest.mark.parametrize("name, args, kwargs", [
    ("CrossEntropyLoss", (None, None, 1), {}), ("CrossEntropyLoss", (), {"size_average": False}),
    ("CrossEntropyLoss", (None, None, -100, False), {}), ("NLLLoss", (None, None, 2), {}),
    ("NLLLoss", (), {"reduce": False}), ("BCEWithLogitsLoss", (None, None, None, "sum"), {}),
    ("BCEWithLogitsLoss", (), {"size_average": False, "pos_weight": "pw"})], ids=str)
def test_weighted_losses_take_pytorchs_positional_order_and_legacy_flags(torch, name, args, kwargs):
    """CrossEntropyLoss/NLLLoss are (weight, size_average, ignore_index, reduce, reduction, ...) and
    BCEWithLogitsLoss (weight, size_average, reduce, reduction, pos_weight): minigrad lacked the legacy
    flags, so their positional ignore_index/reduction landed in the wrong place."""
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    target = np.array([0, 2, 1, 1]) if name != "BCEWithLogitsLoss" else (x > 0).astype(np.float64)
    outs = []
    for lib in (mg, torch):
        kw = {k: (lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64) if v == "pw" else v) for k, v in kwargs.items()}
        loss = getattr(lib.nn, name)(*args, **kw)
        outs.append((loss.reduction, np.asarray(loss(lib.tensor(x), lib.tensor(target)).tolist())))
    assert outs[0][0] == outs[1][0]
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)

def test_load_state_dict_pre_hook_can_rename_keys(torch):
    def load(lib):
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        seen = []

        def rename(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            seen.append(prefix)
            for old in [k for k in state_dict if k.startswith(prefix + "w")]:
                state_dict[prefix + "weight"] = state_dict.pop(old)
        m[0].register_load_state_dict_pre_hook(rename)
        sd = {"0.w_old": lib.ones(1, 1), "0.bias": lib.zeros(1)}
        result = m.load_state_dict(sd)
        return seen, list(sd), float(m[0].weight.detach().sum()), repr(result)
    assert load(mg) == load(torch) == (["0."], ["0.w_old", "0.bias"], 1.0, "<All keys matched successfully>")


def test_load_state_dict_error_text_matches_pytorch_line_for_line(torch):
    def message(lib, weight_shape):
        try:
            lib.nn.Linear(2, 2).load_state_dict({"weight": lib.zeros(*weight_shape), "x": lib.zeros(1),
                                                 "y": lib.zeros(1)})
        except RuntimeError as e:
            return str(e).replace("torch.Size([3, 2])", "(3, 2)").replace("torch.Size([2, 2])", "(2, 2)")
    for shape in ((2, 2), (3, 2)):
        assert message(mg, shape) == message(torch, shape)
    assert message(mg, (2, 2)) == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: '
                                   '"bias". \n\tUnexpected key(s) in state_dict: "x", "y". ')


def test_full_backward_hook_grad_input_has_one_entry_per_positional_argument(torch):
    def run(lib):
        class Scale(lib.nn.Module):
            def forward(self, a, k, b):
                return a * b * k
        m, log = Scale(), []
        m.register_full_backward_hook(lambda mod, gi, go: log.append([None if g is None else g.tolist() for g in gi]))
        m.register_full_backward_hook(lambda mod, gi, go: (None, None, gi[2] * 10))
        b = lib.ones(2, requires_grad=True)
        m(lib.ones(2) * 2, 3.0, b).sum().backward()
        return log, b.grad.tolist()
    assert run(mg) == run(torch) == ([[[0.0, 0.0], None, [6.0, 6.0]]], [60.0, 60.0])


# ----------------------------------------------------------------------------- data
def test_dataloader_iterator_has_a_length(torch):
    def lengths(lib):
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.zeros(10)), batch_size=3)
        it = iter(loader)
        first = next(it)
        return len(it), len(loader), first[0].shape[0], sum(1 for _ in it)
    assert lengths(mg) == lengths(torch) == (4, 4, 3, 3)


def test_data_parallel_wraps_the_module_as_pytorchs(torch):
    """nn.DataParallel(model): the same outputs and gradients, ``module.``-prefixed state dict keys
    (a checkpoint saved through it loads into PyTorch's), PyTorch's repr."""
    ours, theirs = nn.DataParallel(nn.Linear(3, 2).double()), torch.nn.DataParallel(torch.nn.Linear(3, 2).double())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.arange(6.0).reshape(2, 3)
    out, t_out = ours(mg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy())
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(ours.module.weight.grad.numpy(), theirs.module.weight.grad.numpy())
    assert repr(ours) == repr(theirs)
    with pytest.raises(TypeError, match="DataParallel: expected a Module"):
        nn.DataParallel(lambda v: v)


# ----------------------------------------------------------------------------- state_dict's per-module layers
def test_state_dict_overrides_hooks_and_metadata_match_pytorch(torch):
    def run(lib):
        class Saving(lib.nn.Linear):
            def _save_to_state_dict(self, dest, prefix, keep_vars):
                super()._save_to_state_dict(dest, prefix, keep_vars)
                dest[prefix + "z"] = lib.ones(1)

            def _load_from_state_dict(self, sd, prefix, *args):
                sd[prefix + "bias"] = lib.full((1,), 7.0)
                sd.pop(prefix + "z", None)
                super()._load_from_state_dict(sd, prefix, *args)
        m = lib.nn.Sequential(Saving(1, 1))
        seen = []
        m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__(prefix + "post", lib.ones(1)))
        m[0]._register_load_state_dict_pre_hook(lambda sd, prefix, meta, *rest: seen.append((prefix, dict(meta))))
        sd = m.state_dict(prefix="p.")
        keys, meta = list(sd), {k: dict(v) for k, v in sd._metadata.items()}
        sd = m.state_dict()
        del sd["post"]
        result = m.load_state_dict(sd)
        return keys, meta, seen, float(m[0].bias.detach().sum()), repr(result)
    assert run(mg) == run(torch)
    assert run(mg)[0] == ["p.0.weight", "p.0.bias", "p.0.z", "p.post"]


def test_load_state_dict_edge_cases_match_pytorch(torch):
    def run(lib):
        out = []
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        sd = m.state_dict()
        sd["0.weight.foo"] = lib.ones(1)                   # a dotted key under a parameter is unexpected
        out.append(m.load_state_dict(sd, strict=False).unexpected_keys)
        s = lib.nn.Module()
        s.register_buffer("a", lib.tensor(1.0))
        s.load_state_dict({"a": lib.tensor([2.0])})       # a 1-element vector loads into a scalar
        out.append(float(s.a))
        for bad in ([1, 2], {"0.weight": [[1.0]], "0.bias": [0.0]}):
            try:
                m.load_state_dict(bad)
            except (TypeError, RuntimeError) as e:
                out.append((type(e).__name__, str(e).split(",")[0]))
        m[0].register_load_state_dict_post_hook(lambda mod, keys: 5)
        try:
            m.load_state_dict(m.state_dict())
        except AssertionError:
            out.append("post hook may not return")
        return out
    assert run(mg) == run(torch)


def test_old_batchnorm_checkpoint_without_num_batches_tracked_loads(torch):
    def run(lib):
        m = lib.nn.BatchNorm1d(2)
        m.num_batches_tracked.fill_(5)
        plain = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}   # no _metadata
        first = repr(m.load_state_dict(plain))
        versioned = m.state_dict()
        del versioned["num_batches_tracked"]
        return first, int(m.num_batches_tracked), m.load_state_dict(versioned, strict=False).missing_keys
    assert run(mg) == run(torch) == ("<All keys matched successfully>", 5, ["num_batches_tracked"])


# ----------------------------------------------------------------------------- __setattr__ and Parameter copies
def test_setattr_precedence_between_parameters_modules_and_buffers(torch):
    def run(lib):
        def attempt(first, second):
            m = lib.nn.Module()
            setattr(m, "x", first)
            try:
                m.x = second
            except TypeError as e:
                return str(e).split(" as ")[1]
            return [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], list(m._modules)
        param, relu, buf = (lambda: lib.nn.Parameter(lib.ones(1))), lib.nn.ReLU, (lambda: lib.nn.Buffer(lib.ones(1)))
        return [attempt(a(), b()) for a, b in [(param, relu), (param, buf), (param, lambda: lib.ones(1)),
                                               (relu, param), (relu, buf), (relu, lambda: 3),
                                               (buf, relu), (buf, param), (buf, lambda: 3)]]
    assert run(mg) == run(torch)
    assert run(mg)[0] == "parameter 'x' (torch.nn.Parameter or None expected)"


def test_deepcopy_of_a_parameter_drops_its_grad(torch):
    import copy

    def run(lib):
        m = lib.nn.Linear(2, 2)
        m(lib.ones(1, 2)).sum().backward()
        p = copy.deepcopy(m.weight)
        return copy.deepcopy(m).weight.grad is None, p.grad is None, type(p).__name__, p.requires_grad
    assert run(mg) == run(torch) == (True, True, "Parameter", True)


# ----------------------------------------------------------------------------- containers
def test_sequential_repetition_and_dir_match_pytorch(torch):
    def run(lib):
        s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        alias = s
        s *= 2
        out = [s is alias, list(s._modules), s[0] is s[2], "0" in dir(s), "0" in dir(lib.nn.ModuleList(list(s)))]
        for bad in ("x", 0):
            try:
                s * bad
            except (TypeError, ValueError) as e:
                out.append("TypeError" if isinstance(e, TypeError) else "ValueError")
        return out
    assert run(mg) == run(torch) == [True, ["0", "1", "2", "3"], True, False, False, "TypeError", "ValueError"]


def test_parameter_list_and_dict_match_pytorch(torch):
    def run(lib):
        pl = lib.nn.ParameterList([lib.ones(1), None, 3])
        pl += [lib.zeros(2, 3)]
        pd = lib.nn.ParameterDict({"b": lib.ones(1), "a": "text"})
        pd |= {"c": lib.zeros(2)}
        out = [[type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()], repr(pl), repr(pd),
               list(pd), [n for n, _ in pd.named_parameters()], list(reversed(pd)), pd.popitem()[0],
               list(pd.fromkeys(["x", "y"], lib.ones(1))), list(pd.copy()), type(pl[1:]).__name__]
        for call in (lambda: pl(1), lambda: pd(1), lambda: pd.update(3), lambda: pd.update([("a",)]),
                     lambda: pd.__setitem__(1, lib.ones(1)), lambda: pl.extend(lib.ones(2))):
            try:
                call()
            except (RuntimeError, TypeError, ValueError) as e:
                out.append((type(e).__name__, str(e)))
        try:
            pd["missing"]
        except AttributeError:                        # PyTorch's error (minigrad's is a KeyError too)
            out.append("missing")
        return out
    ours, theirs = run(mg), run(torch)
    for i in (2, 3):                                  # dtype and type names print as minigrad's
        ours[i] = ours[i].replace("[float32", "[torch.float32").replace("minigrad.FloatTensor", "torch.FloatTensor")
    assert ours == theirs
    assert theirs[2] == ("ParameterList(\n    (0): Parameter containing: [torch.float32 of size 1]\n"
                         "    (1): Object of type: NoneType\n    (2): Object of type: int\n"
                         "    (3): Parameter containing: [torch.float32 of size 2x3]\n)")


# ----------------------------------------------------------------------------- module-wide hooks
def test_module_wide_hooks_run_before_each_modules_own(torch):
    def run(lib):
        hooks = lib.nn.modules.module
        seen = []
        net = lib.nn.Sequential(lib.nn.Linear(2, 2))
        net[0].register_forward_hook(lambda m, a, out: seen.append("own"))
        net[0].register_full_backward_hook(lambda m, gi, go: seen.append("own backward"))
        handles = [hooks.register_module_forward_pre_hook(lambda m, a: seen.append("pre " + type(m).__name__)),
                   hooks.register_module_forward_hook(lambda m, a, k, out: seen.append(sorted(k)), with_kwargs=True),
                   hooks.register_module_full_backward_hook(lambda m, gi, go: seen.append("backward")),
                   hooks.register_module_parameter_registration_hook(lambda m, name, p: seen.append(name)),
                   hooks.register_module_buffer_registration_hook(lambda m, name, b: seen.append(name)),
                   hooks.register_module_module_registration_hook(lambda m, name, c: seen.append("child " + name))]
        try:
            net(lib.ones(1, 2, requires_grad=True)).sum().backward()
            lib.nn.Sequential(lib.nn.BatchNorm1d(1))
        finally:
            for h in handles:
                h.remove()
        net(lib.ones(1, 2))
        lin = lib.nn.Linear(1, 1)
        lin.register_backward_hook(lambda *a: None)
        try:
            lin.register_full_backward_hook(lambda *a: None)
        except RuntimeError as e:
            seen.append(str(e))
        return seen
    assert run(mg) == run(torch)
    assert run(mg)[:5] == ["pre Sequential", "pre Linear", [], "own", []]


# ----------------------------------------------------------------------------- nn.init
def test_init_deprecated_names_and_gain_argument_checks(torch):
    import warnings

    def run(lib):
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
                         "orthogonal"):
                out.append(tuple(getattr(lib.nn.init, name)(lib.empty(3, 4)).shape))
            out.append(float(lib.nn.init.constant(lib.empty(2), 0.5).sum()))
            out.append(int((lib.nn.init.sparse(lib.empty(4, 2), 0.5) == 0).sum()))
        out.append([str(w.message) for w in caught])
        for slope in (True, "x"):
            try:
                lib.nn.init.calculate_gain("leaky_relu", slope)
            except ValueError as e:
                out.append(str(e))
        return out
    assert run(mg) == run(torch)


# ----------------------------------------------------------------------------- layer constructors
def test_layer_constructor_checks_raise_pytorchs_exceptions(torch):
    def run(lib):
        out = []
        for make in (lambda: lib.nn.Conv2d(4, 6, 3, groups=0), lambda: lib.nn.Conv2d(4, 6, 3, groups=4),
                     lambda: lib.nn.Conv1d(4, 4, 3, padding="same", stride=2),
                     lambda: lib.nn.Conv2d(4, 4, 3, padding="x"),
                     lambda: lib.nn.Conv3d(4, 4, 3, padding="same", stride=(1, 2, 1)),
                     lambda: lib.nn.ConvTranspose2d(4, 6, 3, groups=4)):
            try:
                make()
            except ValueError as e:
                out.append(str(e).split(" (")[0].split(",")[0])      # (PyTorch prints a set there)
        for make in (lambda: lib.nn.Embedding(10, 3, padding_idx=10), lambda: lib.nn.Embedding(10, 3, padding_idx=-11),
                     lambda: lib.nn.EmbeddingBag(10, 3, padding_idx=10), lambda: lib.nn.MultiheadAttention(6, 4),
                     lambda: lib.nn.TransformerEncoderLayer(8, 3)):
            try:
                make()
            except AssertionError as e:
                out.append(str(e).split(" (")[0].lower())
        return out
    assert run(mg) == run(torch)
    assert len(run(mg)) == 11


def test_printing_of_losses_and_attention_matches_pytorch(torch):
    def run(lib):
        return [repr(lib.nn.NLLLoss(reduction="none")), repr(lib.nn.MSELoss(reduction="sum")),
                repr(lib.nn.CrossEntropyLoss(label_smoothing=0.1)), repr(lib.nn.MultiheadAttention(4, 2)),
                type(lib.nn.modules.linear.NonDynamicallyQuantizableLinear(2, 2)).__name__]
    assert run(mg) == run(torch)


# ----------------------------------------------------------------------------- Module methods libraries call
def test_train_calls_each_childs_own_train_and_repr_uses_get_name(torch):
    def run(lib):
        seen = []

        class Frozen(lib.nn.Linear):
            def train(self, mode=True):
                seen.append(mode)
                return super().train(False)             # stays in eval mode, as a frozen layer does

            def _get_name(self):
                return "FrozenLinear"
        m = lib.nn.Sequential(Frozen(1, 1), lib.nn.Dropout())
        m.eval()
        m.train()
        return seen, m[0].training, m[1].training, repr(m)
    assert run(mg) == run(torch)
    assert run(mg)[:3] == ([False, True], False, True)


def test_private_apply_to_empty_call_impl_and_type_names(torch):
    def run(lib):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        m.register_buffer("mask", lib.ones(2), persistent=False)
        weight, mean = m[0].weight, m[1].running_mean
        out = [m._apply(lambda t: t.double()) is m, m[0].weight is weight, m[1].running_mean is mean,
               str(m[0].weight.dtype).split(".")[-1], sorted(m._non_persistent_buffers_set)]
        m.type("torch.FloatTensor")
        out.append(str(m[1].running_var.dtype).split(".")[-1])
        m.to_empty(device="cpu")
        out += [tuple(m[0].weight.shape), type(m[0].weight).__name__, m[0].weight is weight]
        out.append(tuple(m._call_impl(lib.ones(3, 2)).shape))
        return out
    assert run(mg) == run(torch)


def test_parameters_take_attributes_that_survive_pickling_but_not_deepcopy(torch):
    import copy
    import pickle

    def run(lib):
        p = lib.nn.Parameter(lib.ones(1))
        p.no_decay = True
        return p.no_decay, pickle.loads(pickle.dumps(p)).no_decay, hasattr(copy.deepcopy(p), "no_decay")
    assert run(mg) == run(torch) == (True, True, False)


def test_load_state_dict_writes_in_place_and_ddp_prefix_is_consumed(torch):
    def run(lib):
        shared = lib.nn.Linear(2, 2)
        net = lib.nn.Module()
        net.linear1, net.linear2 = shared, shared
        sd = net.state_dict()                       # its tensors share the parameters' memory
        sd["linear1.weight"] = lib.ones(2, 2)
        net.load_state_dict(sd)                     # linear2.weight, loaded later, already holds the ones
        ddp = OrderedDict((f"module.{k}", v) for k, v in net.state_dict().items())
        ddp._metadata = OrderedDict([("module", {"version": 1}), ("module.linear1", {"version": 1})])
        lib.nn.modules.utils.consume_prefix_in_state_dict_if_present(ddp, "module.")
        return (float(shared.weight.sum()), list(ddp), list(ddp._metadata), str(net.load_state_dict(ddp)),
                lib.nn.modules.utils._pair(3), lib.nn.modules.utils._reverse_repeat_tuple((1, 2), 2))
    assert run(mg) == run(torch)
    assert run(mg)[0] == 4.0


def test_hook_flag_stores_by_pytorchs_names_and_backward_hooks_on_dict_outputs(torch):
    import warnings

    def run(lib):
        m = lib.nn.Linear(2, 2)
        h = m.register_forward_hook(lambda *a: None, with_kwargs=True, always_call=True)
        g = m.register_forward_pre_hook(lambda *a: None, with_kwargs=True)
        out = [h.id in m._forward_hooks_with_kwargs, g.id in m._forward_pre_hooks_with_kwargs,
               h.id in m._forward_hooks_always_called]
        h.remove()
        g.remove()
        out += [h.id in m._forward_hooks_with_kwargs, g.id in m._forward_pre_hooks_with_kwargs]

        class DictOut(lib.nn.Module):
            def forward(self, d):
                return {"x": d["x"] * 2}
        calls = []
        d = DictOut()
        d.register_full_backward_hook(lambda *a: calls.append(1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            d({"x": lib.ones(2, requires_grad=True)})["x"].sum().backward()
        return out, calls, ["should be a Tensor or a tuple of Tensors" in str(w.message) for w in caught]
    assert run(mg) == run(torch) == ([True, True, True, False, False], [], [True])


def test_module_wide_hook_stores_reset_by_assignment_and_invalid_backward_results(torch):
    def run(lib):
        hooks, counts = lib.nn.modules.module, []
        sig, x = lib.nn.Sigmoid(), lib.ones(3, requires_grad=True)
        hooks.register_module_forward_hook(lambda m, i, o: counts.append("forward"))
        hooks.register_module_full_backward_hook(lambda m, gi, go: counts.append("backward"))
        sig(x).sum().backward()
        hooks._global_forward_hooks = OrderedDict()        # how PyTorch's tests clean up
        hooks._global_backward_hooks = OrderedDict()
        sig(x).sum().backward()
        for bad in (lambda m, gi, go: gi[:-1], lambda m, gi, go: gi + (lib.ones(2),)):
            with hooks.register_module_full_backward_hook(bad):
                try:
                    sig(x).sum().backward()
                except RuntimeError as e:
                    counts.append(re.search(r"got \d+, but expected \d+", str(e)).group())
        handle = sig.register_forward_pre_hook(lambda m, i: handle.remove())
        counts.append((len(handle.hooks_dict_ref()), handle.id in handle.hooks_dict_ref()))
        sig(x)
        counts.append(len(handle.hooks_dict_ref()))
        return counts
    assert run(mg) == run(torch)
    assert run(mg)[-2:] == [(1, True), 0]


def test_sequential_extend_and_moduledict_from_pairs_match_pytorch(torch):
    def run(lib):
        s = lib.nn.Sequential(lib.nn.ReLU())
        s.extend(lib.nn.Sequential(lib.nn.Tanh(), lib.nn.ELU()))
        d = lib.nn.ModuleDict([("b", lib.nn.ReLU()), ("a", lib.nn.Tanh())])
        out = [[type(m).__name__ for m in s], list(d)]
        for bad in (3, [3], [("a",)]):
            try:
                lib.nn.ModuleDict().update(bad)
            except (TypeError, ValueError) as e:
                out.append((type(e).__name__, str(e)))
        return out
    assert run(mg) == run(torch)


def test_assigning_through_a_parametrization_needs_every_right_inverse(torch):
    def run(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(-1, -2)
        m = lib.nn.Linear(2, 2)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
        try:
            m.weight = lib.ones(2, 2)
        except RuntimeError as e:
            return str(e)
    assert run(mg) == run(torch) == "parametrization Symmetric does not implement right_inverse."


def test_old_style_backward_hook_register_buffer_override_and_to_copy(torch):
    def run(lib):
        out = []

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.l1 = lib.nn.Linear(3, 2)
                self.register_backward_hook(lambda m, gi, go: out.append(("hook", len(go))))

            def forward(self, x):
                return {"output": self.l1(x).sum()}            # a dict: old-style hooks still fire
        net = Net()                                           # (PyTorch's hook holds the module weakly)
        net(lib.ones(2, 3))["output"].backward()

        class Overriding(lib.nn.Module):                      # register_buffer without `persistent`
            def __init__(self, persistent):
                super().__init__()
                self.bar = lib.nn.Buffer(lib.ones(2), persistent=persistent)

            def register_buffer(self, name, value):
                out.append(("override", name))
                super().register_buffer(name, value, True)
        out.append(list(Overriding(True).state_dict()))
        for call in (lambda: Overriding(False), lambda: lib.nn.Linear(1, 1).to("cpu", copy=True),
                     lambda: lib.nn.Module().register_buffer(1, lib.ones(1))):
            try:
                call()
            except (RuntimeError, TypeError) as e:
                out.append(str(e))
        return out
    assert run(mg) == run(torch)
    assert run(mg)[:3] == [("hook", 1), ("override", "bar"), ["bar"]]


def test_containers_take_integer_tensor_indices(torch):
    def run(lib):
        s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.ELU())
        s[lib.tensor(1, dtype=lib.int16)] = lib.nn.GELU()
        ml = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh()])
        ml[lib.tensor(1, dtype=lib.int32)] = lib.nn.GELU()
        pl = lib.nn.ParameterList([lib.ones(1)])
        pl[lib.tensor(0)] = lib.zeros(1)
        return (list(s._modules), type(s[lib.tensor(1)]).__name__, list(ml._modules), type(ml[1]).__name__,
                list(pl._parameters), float(pl[0].sum()))
    assert run(mg) == run(torch)


def test_rnn_refuses_an_unknown_nonlinearity_with_pytorchs_message(torch):
    def run(lib):
        try:
            lib.nn.RNN(1, 10, nonlinearity="garbage")
        except ValueError as e:
            return str(e)
    assert run(mg) == run(torch)


def test_spectral_norm_state_dict_metadata_and_pre_version_1_checkpoints(torch):
    from copy import deepcopy

    def run(lib):
        lib.manual_seed(0)
        inp = lib.randn(2, 3)
        snm = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        for _ in range(3):
            snm(inp)
        ref = deepcopy(snm.state_dict())
        old = deepcopy(ref)                  # as saved before version 1: the weight itself, no v, no metadata
        del old._metadata[""]["spectral_norm"], old["weight_v"]
        old["weight"] = snm.weight.detach().clone()
        with lib.no_grad():
            snm.eval()
            expected = snm(inp)
        snm = lib.nn.utils.spectral_norm(lib.nn.utils.remove_spectral_norm(snm))
        result = repr(snm.load_state_dict(old))
        with lib.no_grad():
            snm.eval()
            close = bool(lib.allclose(snm(inp), expected, atol=1e-5))
        return dict(ref._metadata[""]), result, close, sorted(snm.state_dict())
    assert run(mg) == run(torch)
    assert run(mg)[2]


def test_extra_state_is_saved_by_get_and_loaded_by_set_separately(torch):
    def run(lib):
        class OnlyGet(lib.nn.Module):
            def get_extra_state(self):
                return {"foo": 5}

        class OnlySet(lib.nn.Module):
            def set_extra_state(self, state):
                pass
        out = []
        for m in (OnlyGet(), OnlySet()):
            out.append(list(m.state_dict()))
            try:
                m.load_state_dict(m.state_dict())
            except RuntimeError as e:
                out.append(str(e))
        return out
    assert run(mg) == run(torch)


def test_call_super_init_runs_a_mixin_placed_after_module(torch):
    def run(lib):
        class Mixin:
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                self.mixin_init = True

        class Before(Mixin, lib.nn.Module):
            pass

        class After(lib.nn.Module, Mixin):
            pass
        out = [hasattr(Before(), "mixin_init"), hasattr(After(), "mixin_init")]
        After.call_super_init = True
        out.append(hasattr(After(), "mixin_init"))
        for call in (lambda: lib.nn.Module(3), lambda: lib.nn.Module(x=1)):
            try:
                call()
            except TypeError as e:
                out.append(str(e))
        return out
    assert run(mg) == run(torch) == [True, False, True,
                                     "Module.__init__() takes 1 positional argument but 2 were given",
                                     "Module.__init__() got an unexpected keyword argument 'x'"]


def test_init_error_messages_start_as_pytorchs_and_zero_element_tensors_are_left_alone(torch):
    import warnings

    def run(lib):
        init, out = lib.nn.init, []
        for call in (lambda: init.xavier_normal_(lib.empty(3)), lambda: init.calculate_gain("foo"),
                     lambda: init.kaiming_uniform_(lib.empty(2, 2), mode="bad"), lambda: init.eye_(lib.empty(2, 2, 2)),
                     lambda: init.dirac_(lib.empty(2, 2)), lambda: init.dirac_(lib.empty(3, 2, 2), groups=2),
                     lambda: init.orthogonal_(lib.empty(3)), lambda: init.sparse_(lib.empty(2, 2, 2), 0.1)):
            try:
                call()
            except ValueError as e:
                out.append(str(e).split(" (")[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("kaiming_uniform_", "kaiming_normal_", "orthogonal_"):
                out.append(tuple(getattr(init, name)(lib.empty(3, 0)).shape))
        out.append([str(w.message) for w in caught])
        return out
    assert run(mg) == run(torch)


def test_module_error_messages_begin_as_pytorchs_and_plain_attributes_may_precede_init(torch):
    def run(lib):
        class Early(lib.nn.Module):
            def __init__(self, child):
                self.note = "set before super().__init__()"      # a plain value: allowed, as in PyTorch
                if child:
                    self.child = lib.nn.Linear(1, 1)
                super().__init__()
        out = [Early(False).note]
        net = lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(1, 1)))
        net[0].foo = 3
        for call in (lambda: Early(True), lambda: net.get_submodule("0.5"), lambda: net.get_submodule("0.0.weight"),
                     lambda: net.get_submodule("0.foo"), lambda: lib.nn.Module()(1), lambda: net.train("x"),
                     lambda: net.add_module("x", 1), lambda: net.register_parameter("x", lib.ones(1)),
                     lambda: net.register_buffer("x", 1), lambda: net.to(lib.int64),
                     lambda: lib.nn.Sequential().insert(2, lib.nn.ReLU()), lambda: lib.nn.Sequential().insert(0, 1)):
            try:
                call()
            except Exception as e:                      # the builtin class, the message without minigrad's extras
                kind = next(c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins")
                text = str(e).split(" (")[0].split("=torch.")[0].split("=int64")[0].split("<class")[0]
                out.append((kind, text.replace("torch.FloatTensor", "T").replace("minigrad.tensor.Tensor", "T")))
        return out
    assert run(mg) == run(torch)


def test_layer_attributes_libraries_read(torch):
    def run(lib):
        out = []
        for m in (lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.Conv1d(2, 4, 4, padding="same", dilation=3),
                  lib.nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1),
                  lib.nn.Conv3d(2, 4, 3, padding=(1, 2, 0)),
                  lib.nn.ConvTranspose1d(2, 4, 3)):
            out.append((m.transposed, m.output_padding, m._reversed_padding_repeated_twice, repr(m)))
        out.append(lib.nn.LSTM(2, 3, num_layers=2, bidirectional=True)._all_weights)
        return out
    assert run(mg) == run(torch)

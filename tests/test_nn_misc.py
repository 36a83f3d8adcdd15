"""The last everyday nn / nn.functional surface of issue 12 against PyTorch: the margin, embedding,
Gaussian and CTC losses (every reduction, first-order gradients where PyTorch's kernels have no
second derivative for the registry's cross-check), the activation and dropout modules, Bilinear,
LazyLinear, EmbeddingBag; and the error messages for bad targets and shapes."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def _pair(a, grad):
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return mg.tensor(a), torch.as_tensor(a)
    return mg.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _check(ours, theirs, inputs, grads=(0,), rtol=1e-10):
    """Same inputs: same output, same gradients of the inputs listed in ``grads``."""
    pairs = [_pair(a, k in grads) for k, a in enumerate(inputs)]
    out = ours(*[p[0] for p in pairs])
    t_out = theirs(*[p[1] for p in pairs])
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=rtol, atol=1e-12)
    cot = np.random.default_rng(2).standard_normal(t_out.shape)
    out.backward(mg.tensor(cot))
    t_out.backward(torch.as_tensor(cot))
    for k in grads:
        np.testing.assert_allclose(pairs[k][0].grad.numpy(), pairs[k][1].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"gradient of input {k}")
    return out


def _x(*shape, seed=1, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _signs(*shape, seed=3):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


# ----------------------------------------------------------------------------- loss modules
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_embedding_and_margin_loss_modules(reduction):
    a, b = _x(4, 5), _x(4, 5, seed=2)
    _check(nn.CosineEmbeddingLoss(0.2, reduction=reduction), torch.nn.CosineEmbeddingLoss(0.2, reduction=reduction),
           [a, b, _signs(4)], (0, 1))
    _check(nn.HingeEmbeddingLoss(0.7, reduction=reduction), torch.nn.HingeEmbeddingLoss(0.7, reduction=reduction),
           [a, _signs(4, 5)])
    _check(nn.SoftMarginLoss(reduction=reduction), torch.nn.SoftMarginLoss(reduction=reduction), [a, _signs(4, 5)])
    y = (_x(4, 5, seed=4) > 0).astype(np.float64)
    w = _x(5, seed=5, lo=0.5, hi=2.0)
    _check(nn.MultiLabelSoftMarginLoss(mg.tensor(w), reduction=reduction),
           torch.nn.MultiLabelSoftMarginLoss(torch.tensor(w), reduction=reduction), [a, y], (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_matches_torch(reduction, p):
    x, y, w = _x(4, 5), np.array([0, 3, 4, 1]), _x(5, seed=5, lo=0.5, hi=2.0)
    _check(nn.MultiMarginLoss(p, 0.9, mg.tensor(w), reduction=reduction),
           torch.nn.MultiMarginLoss(p, 0.9, torch.tensor(w), reduction=reduction), [x, y])
    _check(lambda x, y: F.multi_margin_loss(x, y, p), lambda x, y: TF.multi_margin_loss(x, y, p), [x[0], np.array(2)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(reduction):
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 1, 1], [2, 2, -1, 0, 0]])   # repeats count twice
    _check(nn.MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(reduction=reduction),
           [_x(4, 5), t])
    _check(nn.MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(reduction=reduction),
           [_x(5), t[0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_loss_matches_torch(reduction, var_shape):
    var = _x(*var_shape, seed=6, lo=0.1, hi=2.0)
    _check(nn.GaussianNLLLoss(full=True, reduction=reduction), torch.nn.GaussianNLLLoss(full=True, reduction=reduction),
           [_x(4, 3), _x(4, 3, seed=2), var], (0, 1, 2))


def test_gaussian_nll_loss_clamps_the_variance_without_stopping_its_gradient():
    var = _x(4, 3, seed=6, lo=0.1, hi=2.0)
    var[0, 0], var[1, 2] = 0.0, 1e-8
    _check(lambda x, y, v: F.gaussian_nll_loss(x, y, v, eps=1e-3),
           lambda x, y, v: TF.gaussian_nll_loss(x, y, v, eps=1e-3),
           [_x(4, 3), _x(4, 3, seed=2), var], (0, 1, 2))
    _check(lambda x, y: F.gaussian_nll_loss(x, y, 0.5), lambda x, y: TF.gaussian_nll_loss(x, y, 0.5),
           [_x(4, 3), _x(4, 3, seed=2)], (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss_matches_torch(reduction, swap):
    ours = nn.TripletMarginWithDistanceLoss(margin=2.0, swap=swap, reduction=reduction)
    theirs = torch.nn.TripletMarginWithDistanceLoss(margin=2.0, swap=swap, reduction=reduction)
    _check(ours, theirs, [_x(4, 5), _x(4, 5, seed=2), _x(4, 5, seed=3)], (0, 1, 2))
    l1 = lambda u, v: (u - v).abs().sum(-1)          # noqa: E731  (a callable distance, any module's ops)
    _check(nn.TripletMarginWithDistanceLoss(distance_function=l1, reduction=reduction),
           torch.nn.TripletMarginWithDistanceLoss(distance_function=l1, reduction=reduction),
           [_x(4, 5), _x(4, 5, seed=2), _x(4, 5, seed=3)], (0, 1, 2))


# ----------------------------------------------------------------------------- CTC
_T, _N, _C = 7, 3, 5
_TARGETS = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [2, 0, 0, 0]])
_IL, _TL = np.array([7, 5, 6]), np.array([3, 4, 1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_matches_torch_through_log_softmax(reduction):
    x = _x(_T, _N, _C)
    _check(lambda x, t: nn.CTCLoss(reduction=reduction)(x.log_softmax(2), t, mg.tensor(_IL), mg.tensor(_TL)),
           lambda x, t: torch.nn.CTCLoss(reduction=reduction)(x.log_softmax(2), t, torch.tensor(_IL),
                                                               torch.tensor(_TL)),
           [x, _TARGETS])


def test_ctc_loss_concatenated_targets_blank_and_unbatched():
    lp = torch.tensor(_x(_T, _N, _C)).log_softmax(2).numpy()
    flat = np.concatenate([_TARGETS[n, :_TL[n]] for n in range(_N)])       # blank 4 below: relabel the 4s
    flat = np.where(flat == 4, 2, flat)                                      # every target still alignable
    _check(lambda x, t: F.ctc_loss(x.log_softmax(2), t, tuple(_IL), tuple(_TL), blank=4, reduction="none"),
           lambda x, t: TF.ctc_loss(x.log_softmax(2), t, tuple(_IL), tuple(_TL), blank=4, reduction="none"),
           [lp, flat])
    _check(lambda x, t: F.ctc_loss(x.log_softmax(1), t, mg.tensor(6), mg.tensor(3)),
           lambda x, t: TF.ctc_loss(x.log_softmax(1), t, torch.tensor(6), torch.tensor(3)),
           [lp[:, 0], _TARGETS[0, :3]])


def test_ctc_loss_gradient_is_the_true_one_by_log_probs():
    """PyTorch's kernel returns exp(lp) g - (ours) within each sequence's frames: the gradient by the logits of a
    log_softmax in front, not by log_probs.  Ours passes gradcheck on any log_probs."""
    lp = torch.tensor(_x(_T, _N, _C)).log_softmax(2).numpy()
    ours = mg.tensor(lp, requires_grad=True)
    theirs = torch.tensor(lp, requires_grad=True)
    F.ctc_loss(ours, mg.tensor(_TARGETS), _IL, _TL, reduction="sum").backward()
    TF.ctc_loss(theirs, torch.tensor(_TARGETS), torch.tensor(_IL), torch.tensor(_TL), reduction="sum").backward()
    inside = (np.arange(_T)[:, None] < _IL[None, :])[:, :, None]
    np.testing.assert_allclose(ours.grad.numpy() + np.exp(lp) * inside, theirs.grad.numpy(), atol=1e-12)
    raw = mg.tensor(_x(_T, _N, _C, seed=4), requires_grad=True)           # not normalised
    assert mg.gradcheck(lambda v: F.ctc_loss(v, mg.tensor(_TARGETS), _IL, _TL), (raw,))


def test_ctc_loss_zero_infinity():
    lp = torch.tensor(_x(_T, _N, _C)).log_softmax(2)
    il = np.array([2, 5, 6])                              # 2 frames cannot hold "1 2 2" (needs 4)
    ours = mg.tensor(lp.numpy(), requires_grad=True)
    loss = F.ctc_loss(ours, mg.tensor(_TARGETS), il, _TL, reduction="none", zero_infinity=True)
    t_loss = TF.ctc_loss(lp, torch.tensor(_TARGETS), torch.tensor(il), torch.tensor(_TL), reduction="none",
                         zero_infinity=True)
    np.testing.assert_allclose(loss.detach().numpy(), t_loss.numpy(), rtol=1e-10)
    assert loss.detach().numpy()[0] == 0
    loss.sum().backward()
    assert np.all(ours.grad.numpy()[:, 0] == 0) and np.isfinite(ours.grad.numpy()).all()
    assert np.isinf(F.ctc_loss(lp.numpy(), _TARGETS, il, _TL, reduction="none").numpy()[0])


def test_ctc_loss_second_derivative_by_finite_differences():
    lp = mg.tensor(_x(4, 2, 3), requires_grad=True)
    targets, il, tl = mg.tensor(np.array([[1, 1], [2, 0]])), np.array([4, 3]), np.array([2, 1])
    assert mg.gradgradcheck(lambda v: F.ctc_loss(v.log_softmax(2), targets, il, tl), (lp,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ctc_kernels_match_their_numpy_references(dtype):
    from minigrad.kernels import ctc as K
    from minigrad.ops.ctc import _emissions, _extended
    rng = np.random.default_rng(8)
    T, N, C, S = 9, 5, 4, 4
    targets = rng.integers(1, C, (N, S))
    targets[0] = [2, 2, 3, 3]                             # repeats: no skip between equal labels
    il, tl = np.array([9, 1, 4, 8, 9]), np.array([4, 0, 2, 3, 1])
    lp = np.log(rng.dirichlet(np.ones(C), (T, N))).astype(dtype)
    ext, valid, skip = _extended(targets, tl, 0, np)
    em = _emissions(lp, ext, valid, np)
    for got, want in [(K.ctc_alpha(em, skip, il), K.ctc_alpha_ref(em, skip, il)),
                      (K.ctc_beta(em, skip, il, tl), K.ctc_beta_ref(em, skip, il, tl))]:
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        np.testing.assert_allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-5 if dtype == np.float32
                                   else 1e-12)
    with pytest.raises(ValueError, match=r"ctc_alpha: input_lengths must be \(5,\) int64 in \[1, 9\]"):
        K.ctc_alpha(em, skip, il + 1)
    with pytest.raises(ValueError, match=r"ctc_beta: target_lengths must be"):
        K.ctc_beta(em, skip, il, tl + 9)


# ----------------------------------------------------------------------------- activations, layers
@pytest.mark.parametrize("name,args", [("Hardshrink", ()), ("Hardshrink", (0.3,)), ("Softshrink", ()),
                                       ("Softshrink", (1.0,))])
def test_shrink_modules(name, args):
    x = _x(3, 4) + 0.01                     # no value on a kink
    _check(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), [x])
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


@pytest.mark.parametrize("dtype", ["int64", "int32", "float64"])
def test_threshold_keeps_the_input_dtype_as_torch(dtype):
    """nn.Threshold's docstring example runs on integers: PyTorch keeps them integers (minigrad made floats)."""
    x = np.arange(-3, 3).astype(dtype)
    for args in ((0.1, 20), (1, -2.0)):
        ours, theirs = nn.Threshold(*args)(mg.tensor(x)), torch.nn.Threshold(*args)(torch.tensor(x))
        assert str(ours.dtype) == dtype and str(theirs.dtype) == f"torch.{dtype}"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        y = mg.tensor(x)
        F.threshold_(y, *args)
        assert str(y.dtype) == dtype and (y.numpy() == ours.numpy()).all()
    with pytest.raises(TypeError, match="threshold: not implemented for bool"):
        F.threshold(mg.tensor([True, False]), 0.1, 20)


def test_rrelu_eval_uses_the_mean_slope_and_training_draws_slopes():
    m = nn.RReLU(0.1, 0.3)
    m.eval()
    _check(m, torch.nn.RReLU(0.1, 0.3).eval(), [_x(3, 4)])
    m.train()
    x = mg.tensor(_x(50, 40), requires_grad=True)
    y = m(x)
    y.sum().backward()
    slopes = (y.detach().numpy() / x.detach().numpy())[x.detach().numpy() < 0]
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.03
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy() / x.detach().numpy())   # d y / d x = slope
    mg.manual_seed(0)
    a = F.rrelu(mg.tensor(_x(5)), training=True).numpy()
    mg.manual_seed(0)
    np.testing.assert_array_equal(a, F.rrelu(mg.tensor(_x(5)), training=True).numpy())


def test_softmax2d():
    for shape in [(2, 3, 4, 5), (3, 4, 5)]:
        _check(nn.Softmax2d(), torch.nn.Softmax2d(), [_x(*shape)])
    with pytest.raises(ValueError, match="Softmax2d.*shape \\(2, 3\\)"):
        nn.Softmax2d()(mg.zeros(2, 3))


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    x = mg.tensor(_x(4, 6), requires_grad=True)
    mg.manual_seed(3)
    soft = F.gumbel_softmax(x, tau=0.5)
    mg.manual_seed(3)
    hard = F.gumbel_softmax(x, tau=0.5, hard=True)
    h = hard.detach().numpy()
    np.testing.assert_array_equal(h.sum(1), 1)
    np.testing.assert_array_equal(h.argmax(1), soft.detach().numpy().argmax(1))
    assert set(np.unique(h)) <= {0.0, 1.0}
    w = mg.tensor(_x(4, 6, seed=9))
    g_soft = mg.autograd.grad((soft * w).sum(), x)[0]
    g_hard = mg.autograd.grad((hard * w).sum(), x)[0]
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="gumbel_softmax: tau"):
        F.gumbel_softmax(x, tau=0.0)


def test_bilinear_module_matches_torch():
    ours, theirs = nn.Bilinear(3, 4, 2).double(), torch.nn.Bilinear(3, 4, 2).double()
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert tuple(ours.weight.shape) == (2, 3, 4)
    bound = 1 / np.sqrt(3)
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    x1, x2 = _x(5, 3), _x(5, 4, seed=2)
    a, b = mg.tensor(x1, requires_grad=True), mg.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out, t_out = ours(a, b), theirs(ta, tb)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    t_out.sum().backward()
    for g, tg in [(a.grad, ta.grad), (b.grad, tb.grad), (ours.weight.grad, theirs.weight.grad),
                  (ours.bias.grad, theirs.bias.grad)]:
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-9)
    assert repr(ours) == repr(theirs)
    assert nn.Bilinear(3, 4, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="bilinear: .*\\(5, 4\\), \\(5, 3\\)"):
        ours(b, a)


def test_lazy_linear_infers_in_features_at_the_first_call():
    m = nn.LazyLinear(3)
    params = list(m.parameters())
    opt = mg.optim.SGD(params, lr=0.1)
    y = m(mg.randn(2, 5))
    assert type(m) is nn.Linear and m.in_features == 5 and tuple(m.weight.shape) == (3, 5)
    assert tuple(y.shape) == (2, 3) and params[0] is m.weight and params[1] is m.bias
    y.sum().backward()
    before = m.weight.detach().numpy().copy()
    opt.step()
    assert not np.allclose(before, m.weight.detach().numpy())
    assert set(m.state_dict()) == {"weight", "bias"}
    assert nn.LazyLinear(2, bias=False)(mg.randn(4, 3)).shape == (4, 2)


@pytest.mark.parametrize("name,args", [("RReLU", ()), ("Softmax2d", ()), ("AlphaDropout", (0.2,)),
                                       ("FeatureAlphaDropout", ()), ("Dropout3d", ()), ("CTCLoss", ()),
                                       ("MultiMarginLoss", ()), ("GaussianNLLLoss", ()), ("LazyLinear", (3,))])
def test_module_reprs_match_torch(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_identity_takes_any_arguments():
    m = nn.Identity(3, unused="x")
    x = mg.randn(2)
    assert m(x) is x


# ----------------------------------------------------------------------------- dropout
def test_alpha_dropout_keeps_mean_and_variance_and_is_identity_in_eval():
    x = mg.randn(400, 300)
    m = nn.AlphaDropout(0.3)
    y = m(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert len(np.unique(y[np.abs(y - y.min()) < 1e-6])) >= 1          # dropped values share one value
    low = 0.3 * 1.7580993408473766 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7) - \
        1.7580993408473766 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    assert np.isclose(np.mean(np.isclose(y, low)), 0.3, atol=0.01)
    m.eval()
    assert m(x) is x
    assert F.alpha_dropout(x, 0.3) is x                              # training=False by default, as PyTorch
    assert np.all(F.alpha_dropout(x, 1.0, training=True).numpy() == 0)


def test_feature_alpha_dropout_and_dropout3d_drop_whole_channels():
    x = mg.ones(8, 6, 2, 3)
    y = nn.FeatureAlphaDropout(0.5)(x).numpy().reshape(8, 6, -1)
    assert np.all(y.std(axis=2) == 0) and len(np.unique(y)) == 2
    x = mg.ones(4, 5, 2, 2, 2, requires_grad=True)
    y = nn.Dropout3d(0.5)(x)
    v = y.detach().numpy().reshape(4, 5, -1)
    assert np.all(v.std(axis=2) == 0) and set(np.unique(v)) <= {0.0, 2.0}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert F.dropout3d(mg.ones(3, 2, 2, 2)).shape == (3, 2, 2, 2)
    with pytest.raises(ValueError, match="dropout3d: expected a 4-D or 5-D input, got shape \\(2, 3\\)"):
        F.dropout3d(mg.ones(2, 3))
    with pytest.raises(ValueError, match="feature_alpha_dropout: .*shape \\(3,\\)"):
        F.feature_alpha_dropout(mg.ones(3), training=True)


# ----------------------------------------------------------------------------- EmbeddingBag
_INPUT, _OFFSETS = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4, 4, 6])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_matches_torch(mode, padding_idx, include_last_offset):
    w = _x(10, 3)
    ours = nn.EmbeddingBag.from_pretrained(mg.tensor(w), freeze=False, mode=mode, padding_idx=padding_idx,
                                           include_last_offset=include_last_offset)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=False, mode=mode, padding_idx=padding_idx,
                                                   include_last_offset=include_last_offset)
    out = ours(mg.tensor(_INPUT), mg.tensor(_OFFSETS))
    t_out = theirs(torch.tensor(_INPUT), torch.tensor(_OFFSETS))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    cot = _x(*t_out.shape, seed=7)
    out.backward(mg.tensor(cot))
    t_out.backward(torch.tensor(cot))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)   # dense (V, E)
    assert repr(ours) == repr(theirs)


def test_embedding_bag_2d_input_and_per_sample_weights():
    w, psw = _x(10, 3), _x(8, seed=3)
    _check(lambda w, p: F.embedding_bag(mg.tensor(_INPUT), w, mg.tensor(_OFFSETS), mode="sum", per_sample_weights=p),
           lambda w, p: TF.embedding_bag(torch.tensor(_INPUT), w, torch.tensor(_OFFSETS), mode="sum",
                                         per_sample_weights=p), [w, psw], (0, 1))
    _check(lambda w: F.embedding_bag(mg.tensor(_INPUT.reshape(2, 4)), w, mode="max"),
           lambda w: TF.embedding_bag(torch.tensor(_INPUT.reshape(2, 4)), w, mode="max"), [w])


def test_embedding_bag_max_norm_renormalises_the_rows_used_in_place():
    w = _x(10, 3) * 2
    ours, theirs = mg.tensor(w), torch.tensor(w)
    out = F.embedding_bag(mg.tensor(_INPUT), ours, mg.tensor(_OFFSETS), max_norm=1.5, mode="sum")
    t_out = TF.embedding_bag(torch.tensor(_INPUT), theirs, torch.tensor(_OFFSETS), max_norm=1.5, mode="sum")
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-7)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)           # only the rows used changed
    assert np.allclose(ours.numpy()[[0, 6, 7, 8]], w[[0, 6, 7, 8]])


def test_embedding_bag_module_defaults():
    m = nn.EmbeddingBag(6, 3, mode="sum", padding_idx=2)
    assert [n for n, _ in m.named_parameters()] == ["weight"] and tuple(m.weight.shape) == (6, 3)
    np.testing.assert_array_equal(m.weight.detach().numpy()[2], 0)
    frozen = nn.EmbeddingBag.from_pretrained(mg.ones(4, 2))
    assert not frozen.weight.requires_grad and frozen.mode == "mean"


def test_empty_index_gradient_scatters_nothing():
    """x[empty index] backward (found through embedding_bag with empty bags and per-sample weights)."""
    x = mg.tensor(_x(3, 2), requires_grad=True)
    x[np.zeros(0, dtype=np.int64)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 2)))


# ----------------------------------------------------------------------------- errors name the op and the shapes
ERRORS = [
    (lambda: F.multi_margin_loss(mg.zeros(4, 5), mg.tensor([0, 1, 2])), ValueError,
     r"multi_margin_loss: target of shape \(3,\) does not match input of shape \(4, 5\)"),
    (lambda: F.multi_margin_loss(mg.zeros(2, 5), mg.tensor([0, 5])), IndexError,
     "multi_margin_loss: target 5 is out of bounds for 5 classes"),
    (lambda: F.multi_margin_loss(mg.zeros(2, 5), mg.tensor([0.0, 1.0])), TypeError,
     "multi_margin_loss: target must hold integer class indices"),
    (lambda: F.multi_margin_loss(mg.zeros(2, 5), mg.tensor([0, 1]), p=3), ValueError, "p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(mg.zeros(2, 5), mg.tensor([0, 1]), weight=mg.ones(4)), ValueError,
     r"multi_margin_loss: weight must have shape \(5,\)"),
    (lambda: F.multilabel_margin_loss(mg.zeros(2, 3), mg.tensor([[0, -1, 0]])), ValueError,
     r"multilabel_margin_loss: target of shape \(1, 3\) must match the input's shape \(2, 3\)"),
    (lambda: F.multilabel_margin_loss(mg.zeros(1, 3), mg.tensor([[0, 3, -1]])), IndexError,
     r"multilabel_margin_loss: target holds a class outside \[0, 3\)"),
    (lambda: F.cosine_embedding_loss(mg.zeros(4, 5), mg.zeros(4, 5), mg.ones(5)), ValueError,
     r"cosine_embedding_loss: .*inputs of shape \(4, 5\) and target of shape \(5,\)"),
    (lambda: F.cosine_embedding_loss(mg.zeros(4, 5), mg.zeros(3, 5), mg.ones(4)), ValueError,
     r"cosine_embedding_loss: input1 of shape \(4, 5\), input2 of shape \(3, 5\) differ"),
    (lambda: F.hinge_embedding_loss(mg.zeros(4), mg.ones(3)), ValueError,
     r"hinge_embedding_loss: input of shape \(4,\) and target of shape \(3,\) differ"),
    (lambda: F.soft_margin_loss(mg.zeros(4), mg.ones(4), reduction="avg"), ValueError,
     "soft_margin_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: F.gaussian_nll_loss(mg.zeros(4, 3), mg.zeros(4, 3), mg.ones(2, 2)), ValueError,
     r"gaussian_nll_loss: var of shape \(2, 2\) is of incorrect size for input of shape \(4, 3\)"),
    (lambda: F.gaussian_nll_loss(mg.zeros(2), mg.zeros(2), -mg.ones(2)), ValueError,
     "gaussian_nll_loss: var has negative entry"),
    (lambda: F.triplet_margin_with_distance_loss(mg.zeros(2, 3), mg.zeros(3), mg.zeros(2, 3)), ValueError,
     r"triplet_margin_with_distance_loss: .*same number of dimensions, got shapes \(2, 3\), \(3,\), \(2, 3\)"),
    (lambda: F.triplet_margin_with_distance_loss(mg.zeros(2, 3), mg.zeros(2, 3), mg.zeros(2, 3), margin=0), ValueError,
     "margin must be greater than 0"),
    (lambda: F.ctc_loss(mg.zeros(5, 2, 3), mg.tensor([[1, 2], [1, 1]]), [5, 5], [3, 2]), ValueError,
     r"ctc_loss: targets of shape \(2, 2\) are shorter than the longest target length 3"),
    (lambda: F.ctc_loss(mg.zeros(5, 2, 3), mg.tensor([[1, 0], [1, 1]]), [5, 5], [2, 2]), ValueError,
     r"ctc_loss: targets must be classes in \[0, 3\) other than the blank 0"),
    (lambda: F.ctc_loss(mg.zeros(5, 2, 3), mg.tensor([[1, 2], [1, 1]]), [6, 5], [2, 2]), ValueError,
     r"ctc_loss: input_lengths must be in \[1, 5\]"),
    (lambda: F.ctc_loss(mg.zeros(5, 2, 3), mg.tensor([1, 2, 1]), [5, 5], [2, 2]), ValueError,
     r"ctc_loss: 1-D targets of shape \(3,\) must hold the concatenated targets, sum\(target_lengths\) = 4"),
    (lambda: F.ctc_loss(mg.zeros(5, 3), mg.tensor([1]), [5, 5], [1]), ValueError,
     "ctc_loss: input_lengths must hold 1 integers"),
    (lambda: F.embedding_bag(mg.tensor([[0, 1]]), mg.zeros(3, 2), mg.tensor([0])), ValueError,
     "embedding_bag: offsets must be None for a 2-D input"),
    (lambda: F.embedding_bag(mg.tensor([0, 1]), mg.zeros(3, 2)), ValueError,
     r"embedding_bag: offsets are required for a 1-D input of shape \(2,\)"),
    (lambda: F.embedding_bag(mg.tensor([0, 3]), mg.zeros(3, 2), mg.tensor([0])), IndexError,
     r"embedding_bag: index out of range \[0, 3\) for a weight of shape \(3, 2\)"),
    (lambda: F.embedding_bag(mg.tensor([0, 1]), mg.zeros(3, 2), mg.tensor([1])), ValueError,
     "embedding_bag: offsets must start at 0"),
    (lambda: F.embedding_bag(mg.tensor([0, 1]), mg.zeros(3, 2), mg.tensor([0]), per_sample_weights=mg.ones(2)),
     ValueError, "embedding_bag: per_sample_weights are only supported for mode='sum'"),
    (lambda: F.embedding_bag(mg.tensor([0, 1]), mg.zeros(3, 2), mg.tensor([0]), mode="sum",
                             per_sample_weights=mg.ones(3)), ValueError,
     r"embedding_bag: per_sample_weights of shape \(3,\) must match the input's shape \(2,\)"),
    (lambda: F.softshrink(mg.zeros(2), -1.0), ValueError, "softshrink: lambd must be non-negative"),
    (lambda: F.rrelu(mg.zeros(2), 0.5, 0.1), ValueError, r"rrelu: lower \(0.5\) must not exceed upper \(0.1\)"),
    (lambda: F.bilinear(mg.zeros(2, 3), mg.zeros(2, 4), mg.zeros(5, 3, 4), mg.zeros(4)), ValueError,
     r"bilinear: bias must have shape \(5,\), got \(4,\)"),
]


@pytest.mark.parametrize("call,error,message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_bad_input_names_the_op_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name, args, shape", [
    ("LazyConv1d", (4, 3), (2, 3, 9)), ("LazyConv2d", (6, 3), (2, 3, 8, 8)), ("LazyConv2d", (6, 3), (3, 8, 8)),
    ("LazyConv3d", (2, 3), (1, 2, 5, 5, 5)), ("LazyConvTranspose1d", (4, 3), (2, 3, 9)),
    ("LazyConvTranspose2d", (4, 3), (2, 6, 5, 5)), ("LazyConvTranspose3d", (2, 2), (1, 2, 4, 4, 4)),
    ("LazyBatchNorm1d", (), (4, 5)), ("LazyBatchNorm1d", (), (4, 5, 3)), ("LazyBatchNorm2d", (), (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)), ("LazyInstanceNorm1d", (), (2, 3, 5)),
    ("LazyInstanceNorm2d", (), (2, 3, 4, 4)), ("LazyInstanceNorm3d", (), (2, 3, 2, 2, 2))])
def test_lazy_modules_become_their_full_class_as_pytorch(name, args, shape):
    """Before the first call: PyTorch's repr (size 0) and an instance of the full class; after
    it: the full class itself, PyTorch's parameter shapes and state-dict keys, the same Parameter
    objects (an optimizer built before still holds them), and the full module's output."""
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    full = getattr(nn, name[len("Lazy"):])
    assert isinstance(ours, full)
    params = list(ours.parameters())
    x = mg.randn(*shape)
    y = ours(x)
    theirs(torch.randn(*shape))
    assert type(ours) is full and repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(a is b for a, b in zip(params, ours.parameters()))
    np.testing.assert_array_equal(y.detach().numpy(), ours(x).detach().numpy())
    y.sum().backward()
    assert all(p.grad is not None for p in ours.parameters())

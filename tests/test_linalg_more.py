"""The linalg additions beyond what the registry checks: PyTorch's return types and shapes, the
non-differentiable helpers (matrix_rank, the *_ex info tensors), rectangular LU, the cases whose
backward PyTorch refuses, and the error messages."""
import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(a, grad=True):
    return mg.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _close(x, y, **kw):
    np.testing.assert_allclose(x._data if isinstance(x, mg.Tensor) else x, y.detach().numpy(), **kw)


def test_svd_returns_named_results_and_torch_svd_returns_v():
    a = RNG.standard_normal((4, 3))
    r = mg.linalg.svd(mg.tensor(a), full_matrices=False)
    assert (r.U.shape, r.S.shape, r.Vh.shape) == ((4, 3), (3,), (3, 3))
    np.testing.assert_allclose((r.U._data * r.S._data) @ r.Vh._data, a, atol=1e-12)
    u, s, v = mg.svd(mg.tensor(a))
    np.testing.assert_allclose(v._data, r.Vh._data.T)
    u, s, v = mg.tensor(a).svd(some=False)
    assert (u.shape, v.shape) == ((4, 4), (3, 3))
    u, s, v = mg.svd(mg.tensor(a), compute_uv=False)
    assert (u.shape, v.shape) == ((4, 4), (3, 3)) and not u._data.any() and not v._data.any()
    np.testing.assert_allclose(s._data, np.linalg.svd(a, compute_uv=False))


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (2, 3, 3)])
def test_full_matrices_gradient_uses_the_first_k_vectors_as_pytorch(shape):
    a = RNG.standard_normal(shape)
    ours, theirs = _pair(a)
    k = min(shape[-2:])
    w_u, w_v = RNG.standard_normal(shape[:-1] + (k,)), RNG.standard_normal(shape[:-2] + (k, shape[-1]))

    def loss(lib, svd, t):
        u, s, vh = svd(t, full_matrices=True)
        return ((u[..., :k] * u[..., :k]) * lib.tensor(w_u)).sum() + ((vh[..., :k, :] ** 2) * lib.tensor(w_v)).sum() \
            + s.sum()
    g, = mg.autograd.grad([loss(mg, mg.linalg.svd, ours)], [ours])
    tg, = torch.autograd.grad(loss(torch, torch.linalg.svd, theirs), theirs)
    _close(g, tg, atol=1e-10)


def test_qr_modes_and_the_backwards_pytorch_refuses():
    a = RNG.standard_normal((4, 3))
    q, r = mg.linalg.qr(mg.tensor(a), mode="complete")
    assert (q.shape, r.shape) == ((4, 4), (4, 3))
    np.testing.assert_allclose(q._data @ r._data, a, atol=1e-12)
    x = mg.tensor(a, requires_grad=True)
    q, r = mg.linalg.qr(x, mode="r")
    assert q.shape == (0,) and r.shape == (3, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()
    q, r = mg.linalg.qr(x, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        q.sum().backward()
    q, r = mg.tensor(a).qr()
    assert q.shape == (4, 3)
    with pytest.raises(ValueError, match="linalg.qr: mode"):
        mg.linalg.qr(x, mode="full")


def test_pinv_of_a_rank_deficient_matrix_and_pinverse():
    a = RNG.standard_normal((4, 2)) @ RNG.standard_normal((2, 3))       # rank 2
    _close(mg.linalg.pinv(mg.tensor(a)), torch.linalg.pinv(torch.tensor(a)), atol=1e-12)
    _close(mg.tensor(a).pinverse(), torch.tensor(a).pinverse(), atol=1e-12)
    s = a[:3] + a[:3].T
    _close(mg.linalg.pinv(mg.tensor(s), hermitian=True), torch.linalg.pinv(torch.tensor(s), hermitian=True),
           atol=1e-12)
    with pytest.raises(ValueError, match="linalg.pinv: hermitian=True needs square"):
        mg.linalg.pinv(mg.tensor(a), hermitian=True)


@pytest.mark.parametrize("driver", [None, "gels", "gelsd", "gelss"])
def test_lstsq_outputs_as_pytorch(driver):
    a, b = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 2))
    ours = mg.linalg.lstsq(mg.tensor(a), mg.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape) and str(o.dtype) == str(t.dtype).replace("torch.", "")
        _close(o, t, atol=1e-10)
    low_rank = RNG.standard_normal((5, 2)) @ RNG.standard_normal((2, 3))
    assert int(mg.linalg.lstsq(mg.tensor(low_rank), mg.tensor(b[0])).rank.item()) == 2
    with pytest.raises(ValueError, match=r"linalg.lstsq: A of shape \(2, 5, 3\) and B of shape \(4, 2\)"):
        mg.linalg.lstsq(mg.tensor(a), mg.zeros(4, 2, dtype=mg.float64))


def test_matrix_exp_of_large_and_zero_matrices():
    a = 6 * RNG.standard_normal((2, 4, 4))            # several squarings
    _close(mg.matrix_exp(mg.tensor(a)), torch.matrix_exp(torch.tensor(a)), rtol=1e-11)
    np.testing.assert_allclose(mg.linalg.matrix_exp(mg.zeros(3, 3, dtype=mg.float64))._data, np.eye(3))
    with pytest.raises(ValueError, match=r"linalg.matrix_exp: expected a square matrix .* \(2, 3\)"):
        mg.linalg.matrix_exp(mg.zeros(2, 3))


def test_solve_triangular_broadcasts_batches_and_names_mismatches():
    a = np.triu(RNG.standard_normal((3, 3))) + 4 * np.eye(3)
    b = RNG.standard_normal((2, 3, 2))
    x = mg.linalg.solve_triangular(mg.tensor(a), mg.tensor(b), upper=True)
    _close(x, torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True), atol=1e-13)
    with pytest.raises(ValueError, match=r"linalg.solve_triangular: A of shape \(3, 3\) and B of shape \(2, 2\)"):
        mg.linalg.solve_triangular(mg.tensor(a), mg.zeros(2, 2, dtype=mg.float64), upper=True)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_lu_and_lu_factor_of_rectangular_and_batched_matrices_match_pytorch(shape):
    a = RNG.standard_normal(shape)
    for o, t in zip(mg.linalg.lu(mg.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        _close(o, t, atol=1e-12)
    (lu_, piv), (t_lu, t_piv) = mg.linalg.lu_factor(mg.tensor(a)), torch.linalg.lu_factor(torch.tensor(a))
    _close(lu_, t_lu, atol=1e-12)
    assert piv.dtype == mg.int32 and (piv._data == t_piv.numpy()).all()


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (2, 3, 2)])
def test_lu_gradients_of_rectangular_matrices(shape):
    a = RNG.standard_normal(shape)
    ours, theirs = _pair(a)
    (_, low, up), (_, t_low, t_up) = mg.linalg.lu(ours), torch.linalg.lu(theirs)
    w_l, w_u = RNG.standard_normal(low.shape), RNG.standard_normal(up.shape)
    g, = mg.autograd.grad([(low * mg.tensor(w_l)).sum() + (up * mg.tensor(w_u)).sum()], [ours])
    tg, = torch.autograd.grad((t_low * torch.tensor(w_l)).sum() + (t_up * torch.tensor(w_u)).sum(), theirs)
    _close(g, tg, rtol=1e-9, atol=1e-11)
    assert mg.gradcheck(lambda x: tuple(mg.linalg.lu(x))[1:], [ours])
    assert mg.gradgradcheck(lambda x: mg.linalg.lu_factor(x).LU, [ours])


def test_lu_solve_with_batched_pivots():
    a, b = RNG.standard_normal((3, 4, 4)), RNG.standard_normal((3, 4, 2))
    lu_, piv = mg.linalg.lu_factor(mg.tensor(a))
    np.testing.assert_allclose(mg.linalg.lu_solve(lu_, piv, mg.tensor(b))._data, np.linalg.solve(a, b), atol=1e-12)


def test_matrix_rank_as_pytorch():
    low = RNG.standard_normal((2, 5, 2)) @ RNG.standard_normal((2, 2, 4))
    for kw in ({}, {"hermitian": True}, {"atol": 1.0}, {"rtol": 0.5}):
        x = low[..., :4, :] @ np.swapaxes(low[..., :4, :], -1, -2) if kw.get("hermitian") else low
        r = mg.linalg.matrix_rank(mg.tensor(x), **kw)
        assert r.dtype == mg.int64 and (r._data == torch.linalg.matrix_rank(torch.tensor(x), **kw).numpy()).all(), kw


@pytest.mark.parametrize("p", [1, -1, float("inf"), -float("inf")])
def test_cond_in_the_max_norms(p):
    a = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    ours, theirs = _pair(a)
    c = mg.linalg.cond(ours, p)
    _close(c, torch.linalg.cond(theirs.detach(), p), rtol=1e-12)
    g, = mg.autograd.grad([c.sum()], [ours])
    t_c = torch.linalg.matrix_norm(theirs, p) * torch.linalg.matrix_norm(torch.linalg.inv(theirs), p)
    _close(g, torch.autograd.grad(t_c.sum(), theirs)[0], rtol=1e-10)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
@pytest.mark.parametrize("dim, keepdim", [((-2, -1), False), ((2, 0), True), ((1, 0), False)])
def test_matrix_norm_from_singular_values_as_pytorch(ord, dim, keepdim):
    """linalg.matrix_norm / linalg.norm with ord 2, -2 and 'nuc' (torch.linalg.norm's docstring: LA.norm(B, 2))."""
    a = RNG.standard_normal((2, 3, 4))
    ours, theirs = _pair(a)
    n, tn = mg.linalg.matrix_norm(ours, ord, dim, keepdim), torch.linalg.matrix_norm(theirs, ord, dim, keepdim)
    assert n.shape == tuple(tn.shape)
    _close(n, tn, rtol=1e-12)
    g, = mg.autograd.grad([n.sum()], [ours])
    _close(g, torch.autograd.grad(tn.sum(), theirs)[0], rtol=1e-10, atol=1e-12)
    b = a[0]
    _close(mg.linalg.norm(mg.tensor(b), ord), torch.linalg.norm(torch.tensor(b), ord), rtol=1e-12)


def test_tensor_norm_nuc_as_pytorch():
    """torch.norm / Tensor.norm with p='nuc' (the nuclear norm over two dims) raised in minigrad."""
    a = RNG.standard_normal((2, 3, 4))
    ours, theirs = _pair(a)
    for args in (((0, 2),), ((0, 2), True)):
        n, tn = ours.norm("nuc", *args), theirs.norm("nuc", *args)
        assert n.shape == tuple(tn.shape)
        _close(n, tn, rtol=1e-12)
    n, tn = mg.norm(ours[0], "nuc"), torch.norm(theirs[0], "nuc")
    _close(n, tn, rtol=1e-12)
    g, = mg.autograd.grad([n], [ours])
    _close(g, torch.autograd.grad(tn, theirs)[0], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="norm: p='nuc' needs two dims"):
        ours.norm("nuc")


def test_vander_and_diagonal_as_pytorch():
    x = RNG.standard_normal((2, 3))
    ours, theirs = _pair(x)
    v, tv = mg.linalg.vander(ours, N=4), torch.linalg.vander(theirs, N=4)
    _close(v, tv, rtol=1e-14)
    w = RNG.standard_normal(v.shape)
    _close(mg.autograd.grad([(v * mg.tensor(w)).sum()], [ours])[0],
           torch.autograd.grad((tv * torch.tensor(w)).sum(), theirs)[0], rtol=1e-12)
    assert mg.linalg.vander(ours).shape == (2, 3, 3)
    m = RNG.standard_normal((2, 3, 4))
    _close(mg.linalg.diagonal(mg.tensor(m), offset=1), torch.linalg.diagonal(torch.tensor(m), offset=1))


def test_ex_variants_give_info_as_pytorch():
    good = RNG.standard_normal((3, 3)) + 4 * np.eye(3)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    batch = np.stack([good, singular])
    inv, info = mg.linalg.inv_ex(mg.tensor(batch))
    t_inv, t_info = torch.linalg.inv_ex(torch.tensor(batch))
    assert (info._data == t_info.numpy()).all() and info.dtype == mg.int32
    np.testing.assert_allclose(inv._data[0], t_inv.numpy()[0], atol=1e-12)
    assert np.isnan(inv._data[1]).all()
    with pytest.raises(RuntimeError, match="linalg.inv_ex: .* singular"):
        mg.linalg.inv_ex(mg.tensor(batch), check_errors=True)
    b = RNG.standard_normal((3,))
    x, info = mg.linalg.solve_ex(mg.tensor(batch), mg.tensor(b))
    assert (info._data == torch.linalg.solve_ex(torch.tensor(batch), torch.tensor(b)).info.numpy()).all()
    np.testing.assert_allclose(x._data[0], np.linalg.solve(good, b))
    spd = good @ good.T
    not_pd = np.diag([1.0, 2.0, -1.0])
    low, info = mg.linalg.cholesky_ex(mg.tensor(np.stack([spd, not_pd])))
    assert (info._data == torch.linalg.cholesky_ex(torch.tensor(np.stack([spd, not_pd]))).info.numpy()).all()
    np.testing.assert_allclose(low._data[0], np.linalg.cholesky(spd))
    x = mg.tensor(good, requires_grad=True)
    inv, info = mg.linalg.inv_ex(x)
    g, = mg.autograd.grad([inv.sum()], [x])
    t = torch.tensor(good, requires_grad=True)
    _close(g, torch.autograd.grad(torch.linalg.inv_ex(t).inverse.sum(), t)[0], rtol=1e-12)


def test_tensorinv_and_tensorsolve_name_bad_shapes():
    with pytest.raises(ValueError, match=r"linalg.tensorinv: prod\(shape\[:ind\]\) = 6"):
        mg.linalg.tensorinv(mg.zeros(2, 3, 4, dtype=mg.float64), ind=2)
    with pytest.raises(ValueError, match=r"linalg.tensorsolve: A of shape \(2, 3, 6\) and B of shape \(3, 2\)"):
        mg.linalg.tensorsolve(mg.zeros(2, 3, 6, dtype=mg.float64), mg.zeros(3, 2, dtype=mg.float64))


def test_non_float_and_vector_inputs_are_refused_by_name():
    with pytest.raises(TypeError, match="linalg.svd: expected a floating-point tensor"):
        mg.linalg.svd(mg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match=r"linalg.qr: expected a matrix .* \(3,\)"):
        mg.linalg.qr(mg.zeros(3))

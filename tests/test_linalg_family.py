"""autograd.linalg (= torch.linalg) and the top-level matrix functions, against PyTorch:
forward values, gradients and second derivatives on float64 batched inputs
(``oracle.check_op``), ``gradcheck``/``gradgradcheck``, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import check_op, check_raises, rand, torch

SETTINGS = dict(max_examples=8, deadline=None, derandomize=True)


def well_conditioned(*shape, seed=0):
    """Random (*, n, n) matrices, diagonally shifted so that they are far from singular."""
    n = shape[-1]
    return rand(*shape, seed=seed) + 3 * np.eye(n)


def spd(lib, a):
    """A symmetric positive-definite matrix made of ``a`` (differentiable in ``a``)."""
    n = a.shape[-1]
    return a @ a.mT + lib.eye(n, dtype=a.dtype)


def tensors(*arrays, requires_grad=True):
    return [autograd.tensor(a, requires_grad=requires_grad) for a in arrays]


BATCHES = [(), (2,), (2, 3)]


# ----------------------------------------------------------------------------- inverse, det

@pytest.mark.parametrize('batch', BATCHES)
@pytest.mark.parametrize('n', [1, 3])
def test_inv(batch, n):
    a = well_conditioned(*batch, n, n, seed=n)
    check_op(lambda lib, a: lib.linalg.inv(a), a)
    check_op(lambda lib, a: lib.inverse(a), a)
    check_op(lambda lib, a: a.inverse(), a)


def test_inv_float32():
    check_op(lambda lib, a: lib.linalg.inv(a), well_conditioned(2, 3, 3).astype('float32'),
             rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('batch', BATCHES)
def test_det_slogdet_logdet(batch):
    a = well_conditioned(*batch, 3, 3, seed=4)
    check_op(lambda lib, a: lib.linalg.det(a), a)
    check_op(lambda lib, a: lib.det(a), a)
    check_op(lambda lib, a: a.det(), a)
    check_op(lambda lib, a: tuple(lib.linalg.slogdet(a)), a)
    check_op(lambda lib, a: tuple(lib.slogdet(a)), a)
    check_op(lambda lib, a: lib.logdet(a @ a.mT), a)
    check_op(lambda lib, a: a.logdet(), a)


def test_det_of_negative_and_singular_matrices():
    # one matrix with det < 0 (logdet NaN); one of rank n-1 (the gradient of det is its
    # cofactor matrix, rank one); one of rank n-2 (gradient zero)
    a = np.array([[[0.0, 1, 0], [1, 0, 0], [0, 0, 2]],
                  [[1.0, 2, 3], [2, 4, 6], [1, 0, 1]],
                  [[1.0, 2, 3], [2, 4, 6], [3, 6, 9]]])
    check_op(lambda lib, a: lib.linalg.det(a), a, grad=False)
    # PyTorch's first-order gradient at an exactly singular matrix depends on its LAPACK
    # (docs/DIFFERENCES.md); ours is the cofactor matrix, its graph of the backward's
    cofactor = np.array([[[0.0, -2, 0], [-2, 0, 0], [0, 0, -1]],
                         [[4, 4, -4], [-2, -2, 2], [0, 0, 0]], np.zeros((3, 3))])
    x = autograd.tensor(a, requires_grad=True)
    autograd.linalg.det(x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), cofactor, atol=1e-12)
    t = torch.tensor(a, requires_grad=True)
    theirs, = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(theirs.detach().numpy(), cofactor, atol=1e-12)
    check_op(lambda lib, a: lib.logdet(a), a[:1], grad=False)
    res = check_op(lambda lib, a: tuple(lib.linalg.slogdet(a)), a[:1])
    assert res[autograd]['out'][0].tolist() == [-1.0]


def test_named_tuples():
    a = autograd.tensor(well_conditioned(2, 2))
    r = autograd.linalg.slogdet(a)
    assert type(r).__name__ == 'linalg_slogdet' and r.sign is r[0] and r.logabsdet is r[1]
    assert type(autograd.slogdet(a)).__name__ == 'slogdet'
    r = autograd.linalg.inv_ex(a)
    assert type(r).__name__ == 'linalg_inv_ex' and r._fields == ('inverse', 'info')
    r = autograd.linalg.cholesky_ex(a @ a.mT)
    assert type(r).__name__ == 'linalg_cholesky_ex' and r._fields == ('L', 'info')


def test_inv_ex_and_cholesky_ex_report_infos():
    a = np.stack([np.eye(3), [[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]])
    ours = autograd.linalg.inv_ex(autograd.tensor(a))
    theirs = torch.linalg.inv_ex(torch.tensor(a))
    assert ours.info.dtype == autograd.int32
    assert ours.info.tolist() == theirs.info.tolist()
    np.testing.assert_allclose(ours.inverse[0].tolist(), theirs.inverse[0].numpy())
    b = np.stack([np.eye(3), [[1.0, 2, 0], [2, 1, 0], [0, 0, 1]], [[1.0, 0, 0], [0, 1, 0],
                                                                 [0, 0, -1]]])
    ours = autograd.linalg.cholesky_ex(autograd.tensor(b))
    theirs = torch.linalg.cholesky_ex(torch.tensor(b))
    assert ours.info.tolist() == theirs.info.tolist() == [0, 2, 3]
    np.testing.assert_allclose(ours.L[0].tolist(), theirs.L[0].numpy())
    with pytest.raises(autograd.linalg.LinAlgError, match='cholesky_ex.*order 2'):
        autograd.linalg.cholesky_ex(autograd.tensor(b), check_errors=True)
    with pytest.raises(autograd.linalg.LinAlgError, match=r'linalg.inv_ex: \(Batch element 1\): The diagonal element 3'):
        autograd.linalg.inv_ex(autograd.tensor(a), check_errors=True)


def test_inv_ex_and_cholesky_ex_differentiate_when_regular():
    a = well_conditioned(2, 3, 3)
    check_op(lambda lib, a: lib.linalg.inv_ex(a).inverse, a)
    check_op(lambda lib, a: lib.linalg.cholesky_ex(spd(lib, a)).L, a)


# ----------------------------------------------------------------------------- Cholesky

@pytest.mark.parametrize('batch', BATCHES)
@pytest.mark.parametrize('upper', [False, True])
def test_cholesky(batch, upper):
    a = rand(*batch, 3, 3, seed=5)
    check_op(lambda lib, a: lib.linalg.cholesky(spd(lib, a), upper=upper), a)
    check_op(lambda lib, a: lib.cholesky(spd(lib, a), upper), a)
    check_op(lambda lib, a: spd(lib, a).cholesky(upper=upper), a)


@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_reads_one_triangle(upper):
    # an asymmetric input: only its lower (upper) triangle counts (PyTorch's gradient is
    # symmetric)
    a = spd(np, rand(3, 3, seed=6)) + np.triu(np.ones((3, 3)), 1)
    check_op(lambda lib, a: lib.linalg.cholesky(a, upper=upper), a)
    check_op(lambda lib, a: lib.linalg.cholesky_ex(a, upper=upper).L, a)
    check_op(lambda lib, a: lib.cholesky(a, upper), a)


# ----------------------------------------------------------------------------- solves

@pytest.mark.parametrize('shapes', [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)),
                                    ((2, 1, 3, 3), (4, 3, 2)), ((3, 3), (5, 3, 2))])
@pytest.mark.parametrize('left', [True, False])
def test_solve(shapes, left):
    sa, sb = shapes
    a = well_conditioned(*sa, seed=7)
    b = rand(*sb, seed=8)
    if not left:
        b = np.swapaxes(b, -1, -2).copy()
    check_op(lambda lib, a, b: lib.linalg.solve(a, b, left=left), a, b)


@pytest.mark.parametrize('shapes', [((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,))])
def test_solve_vector_right_hand_side(shapes):
    a, b = well_conditioned(*shapes[0], seed=9), rand(*shapes[1], seed=10)
    check_op(lambda lib, a, b: lib.linalg.solve(a, b), a, b)


@pytest.mark.parametrize('upper', [True, False])
@pytest.mark.parametrize('left', [True, False])
@pytest.mark.parametrize('unitriangular', [True, False])
def test_solve_triangular(upper, left, unitriangular):
    a = well_conditioned(2, 3, 3, seed=11)      # the other triangle is ignored (and nonzero)
    b = rand(2, 3, 4, seed=12) if left else rand(2, 4, 3, seed=12)
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(
        a, b, upper=upper, left=left, unitriangular=unitriangular), a, b)


def test_solve_triangular_broadcasts_batches():
    a, b = well_conditioned(3, 3, seed=13), rand(2, 2, 3, 1, seed=14)
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False), a, b)


@settings(**SETTINGS)
@given(st.integers(1, 4), st.integers(1, 3), st.lists(st.integers(1, 3), max_size=2))
def test_solves_random_shapes(n, k, batch):
    a = well_conditioned(*batch, n, n, seed=n + k)
    b = rand(*batch, n, k, seed=k)
    check_op(lambda lib, a, b: lib.linalg.solve(a, b), a, b)
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), a, b)


def test_gradcheck_and_gradgradcheck():
    a, b = tensors(well_conditioned(2, 3, 3, seed=15), rand(2, 3, 2, seed=16))
    L = autograd.linalg
    for f, args in [(L.inv, (a,)), (L.det, (a,)), (lambda x: L.slogdet(x).logabsdet, (a,)),
                    (lambda x: L.cholesky(x @ x.mT), (a,)), (L.solve, (a, b)),
                    (lambda x, y: L.solve_triangular(x, y, upper=False), (a, b))]:
        assert autograd.gradcheck(f, args)
        assert autograd.gradgradcheck(f, args)


# ----------------------------------------------------------------------------- errors

def test_linalg_error_is_a_runtime_error():
    assert issubclass(autograd.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize('fn, arrays, match', [
    (lambda lib, a: lib.linalg.inv(a), (SINGULAR,),
     r'linalg.inv: The diagonal element 2 is zero'),
    (lambda lib, a: lib.linalg.inv(a), (np.stack([np.eye(2), SINGULAR]),),
     r'linalg.inv: \(Batch element 1\): The diagonal element 2 is zero'),
    (lambda lib, a: lib.linalg.cholesky(a), (NOT_PD,), 'leading minor of order 2'),
    (lambda lib, a: lib.linalg.cholesky(a), (np.stack([np.eye(2), NOT_PD]),),
     r'\(Batch element 1\).*not positive-definite'),
    (lambda lib, a, b: lib.linalg.solve(a, b), (SINGULAR, np.ones((2, 1))),
     'input matrix is singular'),
])
def test_linalg_errors(fn, arrays, match):
    check_raises(fn, *arrays, match=match, exc=autograd.linalg.LinAlgError)


@pytest.mark.parametrize('name', ['inv', 'det', 'slogdet', 'cholesky'])
def test_bad_input(name):
    fn = lambda lib, a: getattr(lib.linalg, name)(a)     # noqa: E731
    check_raises(fn, np.zeros((2, 3)), match='must be batches of square matrices, but they '
                 'are 2 by 3 matrices')
    check_raises(fn, np.zeros(3), match='must have at least 2 dimensions')
    check_raises(fn, np.ones((2, 2), dtype='int64'), match='Expected a floating point')


def test_solve_shape_errors():
    check_raises(lambda lib, a, b: lib.linalg.solve(a, b), np.eye(2), np.zeros((3, 1)),
                 match=r'Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)')
    check_raises(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), np.eye(2),
                 np.zeros(2), match='B must have at least 2 dimensions')
    check_raises(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), np.eye(2),
                 np.zeros((3, 1)), match='Incompatible shapes')


# ----------------------------------------------------------------------------- decompositions

def distinct_spectrum(*shape, seed=0):
    """Random matrices whose singular values are well separated (gradients of singular
    vectors divide by their differences)."""
    m, n = shape[-2:]
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, m)))
    q2, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, n)))
    k = min(m, n)
    s = np.zeros(shape[:-2] + (m, n))
    idx = np.arange(k)
    s[..., idx, idx] = np.linspace(3.0, 1.0, k) if k > 1 else 2.0
    return q1 @ s @ q2


def symmetric(n, *batch, seed=0):
    """Random symmetric matrices with well-separated eigenvalues."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return (q * np.linspace(-2.0, 3.0, n)[..., None, :]) @ np.swapaxes(q, -1, -2)


def sign_fixed(lib, u, vh=None):
    """Singular/eigen vectors with PyTorch-independent signs: each column of u scaled so
    that its largest-magnitude entry is positive (and the matching row of vh)."""
    idx = u.abs().argmax(dim=-2, keepdim=True)
    s = lib.gather(u, -2, idx).sign()
    return (u * s,) if vh is None else (u * s, vh * s.mT)


SVD_SHAPES = [(3, 3), (4, 2), (2, 4), (2, 4, 3), (2, 2, 3, 4)]


@pytest.mark.parametrize('shape', SVD_SHAPES)
def test_svd(shape):
    a = distinct_spectrum(*shape, seed=21)
    check_op(lambda lib, a: lib.linalg.svdvals(a), a)
    check_op(lambda lib, a: sign_fixed(lib, *lib.linalg.svd(a, full_matrices=False)[::2]), a)
    check_op(lambda lib, a: lib.linalg.svd(a, full_matrices=False).S, a)


@pytest.mark.parametrize('shape', [(3, 3), (4, 2), (2, 4)])
def test_svd_full_matrices(shape):
    # the extra singular vectors are not unique; what differentiates is the first k
    a = distinct_spectrum(*shape, seed=22)
    k = min(shape)

    def f(lib, a):
        U, S, Vh = lib.linalg.svd(a)
        assert U.shape[-1] == shape[0] and Vh.shape[-2] == shape[1]
        return sign_fixed(lib, U[..., :k], Vh[..., :k, :]) + (S,)
    check_op(f, a)


def test_torch_svd_old_api():
    a = distinct_spectrum(4, 3, seed=23)
    check_op(lambda lib, a: sign_fixed(lib, lib.svd(a).U, lib.svd(a).V.mT), a)
    check_op(lambda lib, a: lib.svd(a, compute_uv=False), a, grad=False)
    check_op(lambda lib, a: a.svd().S, a)
    r = autograd.svd(autograd.tensor(a), some=False)
    assert type(r).__name__ == 'svd' and r._fields == ('U', 'S', 'V')
    assert r.U.shape == (4, 4) and r.V.shape == (3, 3)


@pytest.mark.parametrize('batch', BATCHES)
@pytest.mark.parametrize('uplo', ['L', 'U'])
def test_eigh(batch, uplo):
    a = symmetric(3, *batch, seed=24)
    a = a + (np.triu(np.ones((3, 3)), 1) if uplo == 'L' else np.tril(np.ones((3, 3)), -1))
    check_op(lambda lib, a: lib.linalg.eigvalsh(a, UPLO=uplo), a)
    check_op(lambda lib, a: lib.linalg.eigh(a, UPLO=uplo).eigenvalues, a)
    check_op(lambda lib, a: sign_fixed(lib, lib.linalg.eigh(a, UPLO=uplo).eigenvectors), a)


def test_eigh_gauge_invariant_loss():
    a = symmetric(4, 2, seed=25)

    def f(lib, a):
        L, V = lib.linalg.eigh(a)
        return (V * L.exp().unsqueeze(-2)) @ V.mT        # the matrix exponential of a
    check_op(f, a)


def test_degenerate_spectra_give_non_finite_gradients_as_pytorch():
    # repeated eigenvalues / singular values: the eigenvector gradient divides by zero
    for lib in (torch, autograd):
        a = lib.tensor(np.diag([1.0, 1.0, 2.0]), requires_grad=True)
        L, V = lib.linalg.eigh(a)
        g, = (torch.autograd.grad if lib is torch else autograd.grad)(V[0, 0] * 1.0, a)
        assert not np.isfinite(to_np(g)).all()
        U, S, Vh = lib.linalg.svd(a)
        g, = (torch.autograd.grad if lib is torch else autograd.grad)(U.sum(), a)
        assert not np.isfinite(to_np(g)).all()


def to_np(t):
    return t.detach().cpu().numpy()


# linalg.eig and linalg.eigvals (complex results): tests/test_linalg_eig.py


QR_SHAPES = [(3, 3), (4, 2), (2, 3, 2), (2, 4)]


@pytest.mark.parametrize('shape', QR_SHAPES)
@pytest.mark.parametrize('mode', ['reduced', 'complete'])
def test_qr(shape, mode):
    a = distinct_spectrum(*shape, seed=26)
    m, n = shape[-2:]
    differentiable = mode == 'reduced' or m <= n
    check_op(lambda lib, a: tuple(lib.linalg.qr(a, mode=mode)), a, grad=differentiable)


def test_qr_mode_r_and_old_api():
    a = distinct_spectrum(4, 3, seed=27)
    check_op(lambda lib, a: lib.linalg.qr(a, mode='r').R, a, grad=False)
    assert autograd.linalg.qr(autograd.tensor(a), mode='r').Q.shape == (0,)
    check_op(lambda lib, a: tuple(lib.qr(a)), a)
    check_op(lambda lib, a: tuple(a.qr(some=False)), a[:3], grad=True)


def test_qr_backward_errors():
    check = 'not differentiable when mode=\'complete\' and nrows > ncols'
    for lib in (torch, autograd):
        a = lib.tensor(distinct_spectrum(4, 3, seed=28), requires_grad=True)
        with pytest.raises(RuntimeError, match=check):
            lib.linalg.qr(a, mode='complete').Q.sum().backward()
        with pytest.raises(RuntimeError, match='depends on Q, which is not computed when '
                           "mode='r'"):
            lib.linalg.qr(a, mode='r').R.sum().backward()


# ----------------------------------------------------------------------------- matrix functions

@pytest.mark.parametrize('batch', BATCHES)
@pytest.mark.parametrize('scale', [0.3, 3.0])
def test_matrix_exp(batch, scale):
    a = rand(*batch, 3, 3, seed=29) * scale
    check_op(lambda lib, a: lib.linalg.matrix_exp(a), a, rtol=1e-8, atol=1e-10)
    check_op(lambda lib, a: lib.matrix_exp(a), a, rtol=1e-8, atol=1e-10)
    check_op(lambda lib, a: a.matrix_exp(), a, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('n', [-3, -1, 0, 1, 2, 5])
def test_matrix_power(n):
    a = well_conditioned(2, 3, 3, seed=30) / 3
    check_op(lambda lib, a: lib.linalg.matrix_power(a, n), a)
    check_op(lambda lib, a: lib.matrix_power(a, n), a)
    check_op(lambda lib, a: a.matrix_power(n), a)


@pytest.mark.parametrize('shape', [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
@pytest.mark.parametrize('hermitian', [False, True])
def test_pinv(shape, hermitian):
    if hermitian:
        if shape[-1] != shape[-2]:
            return
        a = symmetric(shape[-1], *shape[:-2], seed=31)
        # PyTorch's gradient treats the input as it is (not symmetrized): compare on
        # symmetric perturbations
        fn = lambda lib, a: lib.linalg.pinv(a + a.mT, hermitian=True)  # noqa: E731
    else:
        a = distinct_spectrum(*shape, seed=31)
        fn = lambda lib, a: lib.linalg.pinv(a)  # noqa: E731
    check_op(fn, a)
    check_op(lambda lib, a: lib.pinverse(a), distinct_spectrum(*shape, seed=32))


def test_pinv_of_rank_deficient_and_tolerances():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    check_op(lambda lib, a: lib.linalg.pinv(a), a)
    b = distinct_spectrum(3, 3, seed=33)
    check_op(lambda lib, a: lib.linalg.pinv(a, atol=1.5), b, grad=False)
    check_op(lambda lib, a: lib.linalg.pinv(a, rtol=0.5), b, grad=False)


def test_matrix_rank():
    a = np.stack([distinct_spectrum(3, 3, seed=34), np.array([[1.0, 2, 3], [2, 4, 6],
                                                              [1, 0, 1]])])
    check_op(lambda lib, a: lib.linalg.matrix_rank(a), a, grad=False)
    check_op(lambda lib, a: lib.linalg.matrix_rank(a, atol=1.5), a, grad=False)
    check_op(lambda lib, a: lib.linalg.matrix_rank(a @ a.mT, hermitian=True), a, grad=False)


@pytest.mark.parametrize('shapes', [((4, 3), (4, 2)), ((2, 4, 3), (2, 4, 1)), ((4, 3), (4,)),
                                    ((3, 3), (3, 2))])
@pytest.mark.parametrize('driver', [None, 'gelsd', 'gels'])
def test_lstsq(shapes, driver):
    a, b = distinct_spectrum(*shapes[0], seed=35), rand(*shapes[1], seed=36)
    res = check_op(lambda lib, a, b: lib.linalg.lstsq(a, b, driver=driver).solution, a, b)
    ours = autograd.linalg.lstsq(autograd.tensor(a), autograd.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    assert type(ours).__name__ == 'linalg_lstsq'
    assert ours._fields == ('solution', 'residuals', 'rank', 'singular_values')
    for name in ('residuals', 'rank', 'singular_values'):
        mine, ref = getattr(ours, name), getattr(theirs, name)
        assert tuple(mine.shape) == tuple(ref.shape), name
        assert mine.dtype.is_floating_point == ref.dtype.is_floating_point, name
        np.testing.assert_allclose(to_np(mine), ref.numpy(), rtol=1e-9, atol=1e-12)
    assert res


# ----------------------------------------------------------------------------- norms

NORM_ORDS = ['fro', 'nuc', 2, -2, float('inf'), float('-inf'), 1, -1]


@pytest.mark.parametrize('ord', NORM_ORDS)
@pytest.mark.parametrize('dim, keepdim', [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm(ord, dim, keepdim):
    a = distinct_spectrum(3, 4, 3, seed=37)
    check_op(lambda lib, a: lib.linalg.matrix_norm(a, ord=ord, dim=dim, keepdim=keepdim), a)


@pytest.mark.parametrize('ord', [2, 1, 0, 3, 0.5, float('inf'), float('-inf')])
@pytest.mark.parametrize('dim', [None, -1, (0, 2)])
def test_vector_norm(ord, dim):
    x = rand(2, 3, 4, seed=38, away_from=0.0)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord=ord, dim=dim), x,
             double=ord not in (0,))
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord=ord, dim=dim, keepdim=True), x)


@pytest.mark.parametrize('args', [dict(), dict(ord=2), dict(ord='fro'), dict(ord='nuc'),
                                  dict(dim=1), dict(dim=(0, 1), ord=1), dict(ord=3, dim=0),
                                  dict(ord=float('inf'))])
def test_norm(args):
    a = distinct_spectrum(3, 4, seed=39)
    check_op(lambda lib, a: lib.linalg.norm(a, **args), a)


def test_cond():
    a = distinct_spectrum(2, 3, 3, seed=40)
    check_op(lambda lib, a: lib.linalg.cond(a), a)
    # PyTorch's own backward fails here (inv_ex's output is changed in place): the
    # values against PyTorch, the derivatives against finite differences
    check_op(lambda lib, a: lib.linalg.cond(a, 'fro'), a, grad=False)
    f = lambda a: autograd.linalg.cond(a, 'fro')  # noqa: E731
    assert autograd.gradcheck(f, tensors(a)) and autograd.gradgradcheck(f, tensors(a))


def test_norm_errors():
    check_raises(lambda lib, a: lib.linalg.matrix_norm(a), np.ones(3),
                 match='must have at least 2 dimensions')
    check_raises(lambda lib, a: lib.linalg.matrix_norm(a, ord=3), np.ones((2, 2)),
                 match='Order 3 not supported')
    check_raises(lambda lib, a: lib.linalg.vector_norm(a), np.ones(3, dtype='int64'),
                 match='Expected a floating point or complex tensor as input. Got Long')
    check_raises(lambda lib, a: lib.linalg.norm(a, ord=2), np.ones((2, 2, 2)),
                 match='If dim is not specified but ord is, the input must be 1D or 2D')


# ----------------------------------------------------------------------------- composites

@pytest.mark.parametrize('shapes, dim', [(((3,), (3,)), -1), (((2, 3), (2, 3)), -1),
                                         (((4, 3), (1, 3)), -1), (((3, 2), (3, 2)), 0)])
def test_cross(shapes, dim):
    a, b = rand(*shapes[0], seed=41), rand(*shapes[1], seed=42)
    check_op(lambda lib, a, b: lib.linalg.cross(a, b, dim=dim), a, b)
    check_op(lambda lib, a, b: lib.cross(a, b, dim=dim), a, b)
    check_op(lambda lib, a, b: a.cross(b, dim=dim), a, b)


def test_torch_cross_default_dim_is_the_first_of_size_3():
    a, b = rand(3, 3, seed=43), rand(3, 3, seed=44)
    check_op(lambda lib, a, b: lib.cross(a, b), a, b)
    check_op(lambda lib, a, b: lib.linalg.cross(a, b), a, b)
    check_raises(lambda lib, a, b: lib.linalg.cross(a, b), np.ones(2), np.ones(2),
                 match='inputs dimension -1 must have length 3. Got 2 and 2')


@pytest.mark.parametrize('shapes', [((3,), (3, 4), (4,)), ((2, 3), (3, 4), (4, 2)),
                                    ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 3), (3, 1),
                                                                     (1, 5))])
def test_multi_dot(shapes):
    arrays = [rand(*s, seed=45 + i) for i, s in enumerate(shapes)]
    check_op(lambda lib, *xs: lib.linalg.multi_dot(list(xs)), *arrays)


def test_multi_dot_errors():
    check_raises(lambda lib, a: lib.linalg.multi_dot([a]), np.ones((2, 2)),
                 match='expected at least 2 tensors but got 1')
    check_raises(lambda lib, a, b: lib.linalg.multi_dot([a, b]), np.ones((2, 2, 2)),
                 np.ones((2, 2)), match='the first tensor must be 1D or 2D but got 3D')


@pytest.mark.parametrize('shape, k', [((4, 3), 3), ((4, 3), 2), ((2, 3, 3), 3), ((5, 2), 1)])
def test_householder_product(shape, k):
    a = rand(*shape, seed=49)
    tau = rand(*shape[:-2], k, seed=50)
    check_op(lambda lib, a, t: lib.linalg.householder_product(a, t), a, tau)


def test_householder_product_rebuilds_q_of_geqrf():
    a = distinct_spectrum(4, 3, seed=51)
    geqrf, tau = torch.geqrf(torch.tensor(a))
    q = autograd.linalg.householder_product(autograd.tensor(geqrf.numpy()),
                                            autograd.tensor(tau.numpy()))
    np.testing.assert_allclose(to_np(q), np.linalg.qr(a)[0], atol=1e-12)


@pytest.mark.parametrize('shape, N', [((3,), None), ((2, 4), None), ((3,), 5), ((3,), 2)])
def test_linalg_vander(shape, N):
    x = rand(*shape, seed=52)
    check_op(lambda lib, x: lib.linalg.vander(x, N=N), x)


def test_vander_errors():
    check_raises(lambda lib, x: lib.linalg.vander(x, N=1), np.ones(3),
                 match='N must be greater than 1.')
    check_raises(lambda lib, x: lib.vander(x, N=-1), np.ones(3), match='N must be non-negative.')
    check_raises(lambda lib, x: lib.vander(x), np.ones((3, 2)),
                 match='x must be a one-dimensional tensor.')


@pytest.mark.parametrize('N, increasing', [(None, False), (4, True), (2, False), (0, False)])
def test_torch_vander(N, increasing):
    x = rand(3, seed=53)
    # PyTorch's own backward of torch.vander fails (it writes in place into what it
    # saved): the values against PyTorch, the derivatives against finite differences
    check_op(lambda lib, x: lib.vander(x, N=N, increasing=increasing), x, grad=False)
    f = lambda x: autograd.vander(x, N=N, increasing=increasing)  # noqa: E731
    assert autograd.gradcheck(f, tensors(x)) and autograd.gradgradcheck(f, tensors(x))
    check_op(lambda lib, x: lib.vander(x, N, increasing), np.array([1, 2, 3]), grad=False)


def test_trace_and_kron():
    a, b = rand(3, 4, seed=54), rand(2, 1, 3, seed=55)
    check_op(lambda lib, a: lib.trace(a), a)
    check_op(lambda lib, a: a.trace(), a)
    check_op(lambda lib, a: lib.trace(a), np.arange(9).reshape(3, 3), grad=False)
    check_op(lambda lib, a, b: lib.kron(a, b), a, b)
    check_op(lambda lib, a, b: a.kron(b), b, a)


@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_solve_and_inverse(upper):
    a, b = rand(2, 3, 3, seed=56), rand(2, 3, 2, seed=57)

    def factor(lib, a):
        return lib.linalg.cholesky(spd(lib, a), upper=upper)
    check_op(lambda lib, a, b: lib.cholesky_solve(b, factor(lib, a), upper), a, b)
    check_op(lambda lib, a: lib.cholesky_inverse(factor(lib, a[0]), upper), a)
    check_op(lambda lib, a, b: b.cholesky_solve(factor(lib, a), upper=upper), a, b)


def test_gradgradcheck_decompositions():
    L = autograd.linalg
    a, = tensors(distinct_spectrum(4, 3, seed=58))
    s, = tensors(symmetric(3, seed=59))
    m, = tensors(rand(3, 3, seed=60) / 2)
    for f, x in [(L.svdvals, a), (lambda x: L.qr(x).R, a), (L.pinv, a),
                 (lambda x: L.eigvalsh(x + x.mT), s), (L.matrix_exp, m),
                 (lambda x: L.matrix_norm(x, 'nuc'), a)]:
        assert autograd.gradcheck(f, (x,))
        assert autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize('fn, arrays, match', [
    (lambda lib, a, b: lib.linalg.solve(a, b), (np.eye(2, dtype='float32'), np.ones((2, 1))),
     'linalg.solve: Expected A and B to have the same dtype, but found A of type Float and B '
     'of type Double instead'),
    (lambda lib, a, b: lib.linalg.lstsq(a, b), (np.eye(2, dtype='float32'), np.ones((2, 1))),
     "Expected input and other to have the same dtype, but got input's dtype Float"),
    (lambda lib, a, b: lib.cholesky_solve(a, b), (np.ones((3, 2), dtype='float32'), np.eye(3)),
     'Expected b and A to have the same dtype, but found b of type Float and A of type Double'),
    (lambda lib, a: lib.linalg.eigh(a, UPLO='X'), (np.eye(2),),
     "Expected UPLO argument to be 'L' or 'U', but got X"),
    (lambda lib, a: lib.linalg.eigvalsh(a), (np.ones((3, 2)),),
     'linalg.eigh: A must be batches of square matrices, but they are 3 by 2 matrices'),
    (lambda lib, a: lib.linalg.qr(a, mode='x'), (np.eye(2),),
     "qr received unrecognized mode 'x'"),
    (lambda lib, a: lib.linalg.svd(a), (np.ones(3),), 'must have at least 2 dimensions'),
    (lambda lib, a: lib.linalg.svd(a), (np.ones((3, 3), dtype='int64'),),
     'linalg.svd: Expected a floating point or complex tensor as input. Got Long'),
    (lambda lib, a: lib.linalg.pinv(a), (np.ones((3, 3), dtype='int64'),),
     r'linalg.pinv\(Long\{\[3, 3\]\}\): expected a tensor with 2 or more dimensions'),
    (lambda lib, a: lib.linalg.matrix_exp(a), (np.ones((3, 3), dtype='int64'),),
     'linalg.matrix_exp: Expected a floating point'),
    (lambda lib, a: lib.linalg.matrix_power(a, 2), (np.ones((4, 3)),),
     'linalg.matrix_power: A must be batches of square matrices, but they are 4 by 3'),
    (lambda lib, a, t: lib.linalg.householder_product(a, t), (np.ones((4, 3)), np.ones(4)),
     'input.shape\\[-1\\] must be greater than or equal to tau.shape\\[-1\\]'),
])
def test_more_bad_input(fn, arrays, match):
    check_raises(fn, *arrays, match=match)


def test_solve_triangular_computes_in_the_dtype_of_a():
    a, b = well_conditioned(3, 3).astype('float32'), rand(3, 2)
    ours = autograd.linalg.solve_triangular(autograd.tensor(a), autograd.tensor(b), upper=True)
    theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    assert ours.dtype == autograd.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(to_np(ours), theirs.numpy(), rtol=1e-5)


@pytest.fixture
def twin():
    """A second device (NumPy under the type name 'twin', as tests/test_device_registry.py
    makes it), so that both legs can mix devices."""
    import types
    from autograd import devices
    from autograd.devices import cpu
    twin = types.ModuleType('twin')
    vars(twin).update({name: getattr(cpu, name) for name in devices.INTERFACE})
    twin.TYPE = 'twin'
    twin.DEVICE = devices.Device(twin, None, np)
    twin.device = lambda index=None: twin.DEVICE
    twin.device_of = lambda a: None
    devices.register(twin)
    yield twin.DEVICE
    devices.unregister('twin')


@pytest.mark.parametrize('fn', [
    lambda a, b: autograd.linalg.solve(a, b),
    lambda a, b: autograd.linalg.solve_triangular(a, b, upper=True),
    lambda a, b: autograd.linalg.lstsq(a, b)])
def test_device_mismatch_is_refused(twin, fn):
    a = autograd.tensor(np.eye(2), device='cpu')
    b = autograd.tensor(np.ones((2, 1)), device='twin')
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device, '
                       'but found at least two devices, cpu and twin'):
        fn(a, b)


@pytest.mark.parametrize('a', [
    np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]),            # rank 2: singular
    np.eye(3), 2 * np.eye(3),                                  # repeated singular values
    np.stack([np.eye(2), np.array([[1.0, 2], [2, 4]])]),      # a batch with a singular one
])
def test_det_second_derivatives_at_singular_and_degenerate_matrices(a):
    check_op(lambda lib, a: lib.linalg.det(a), a)


def test_slogdet_gradient_at_a_singular_matrix_is_infinite_as_pytorch():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    for lib in (torch, autograd):
        x = lib.tensor(a, requires_grad=True)
        sign, logabsdet = lib.linalg.slogdet(x)
        assert sign.item() == 0 and logabsdet.item() == -np.inf
        g, = (torch.autograd.grad if lib is torch else autograd.grad)(logabsdet, x)
        assert np.isinf(to_np(g)).all()


@settings(**SETTINGS)
@given(st.integers(1, 4), st.integers(1, 4), st.lists(st.integers(1, 3), max_size=2),
       st.integers(0, 2**16))
def test_decompositions_random_shapes(m, n, batch, seed):
    a = distinct_spectrum(*batch, m, n, seed=seed)
    check_op(lambda lib, a: lib.linalg.svdvals(a), a)
    check_op(lambda lib, a: lib.linalg.pinv(a), a)
    check_op(lambda lib, a: lib.linalg.matrix_norm(a, 'nuc'), a)
    if m >= n:
        check_op(lambda lib, a: tuple(lib.linalg.qr(a)), a)
    s = symmetric(n, *batch, seed=seed)
    check_op(lambda lib, s: lib.linalg.eigvalsh(s), s)
    check_op(lambda lib, s: lib.linalg.det(s), s)
    check_op(lambda lib, s: lib.linalg.matrix_exp(s / 2), s, rtol=1e-8, atol=1e-10)


def test_forwards_use_only_what_cupy_linalg_offers():
    # the stand-in's cupy.linalg is all of NumPy's; real CuPy has fewer functions (all of
    # these batched over leading dims, per cupy/linalg in CuPy's source)
    import inspect
    import re
    from autograd.ops import decomposition, linalg_composites
    used = set()
    for module in (decomposition, linalg_composites):
        used |= set(re.findall(r'xp\.linalg\.(\w+)', inspect.getsource(module)))
    assert used and used <= decomposition.CUPY_LINALG, used - decomposition.CUPY_LINALG


def test_solve_ex():
    a, b = well_conditioned(2, 3, 3, seed=61), rand(2, 3, 2, seed=62)
    check_op(lambda lib, a, b: lib.linalg.solve_ex(a, b).result, a, b)
    singular = np.stack([np.eye(2), SINGULAR])
    for rhs in (np.ones((2, 2, 1)), np.ones(2)):
        ours = autograd.linalg.solve_ex(autograd.tensor(singular), autograd.tensor(rhs))
        theirs = torch.linalg.solve_ex(torch.tensor(singular), torch.tensor(rhs))
        assert type(ours).__name__ == 'linalg_solve_ex'
        assert ours.info.tolist() == theirs.info.tolist() == [0, 2]
        assert tuple(ours.result.shape) == tuple(theirs.result.shape)
    check_raises(lambda lib, a, b: lib.linalg.solve_ex(a, b, check_errors=True), SINGULAR,
                 np.ones((2, 1)), match='torch.linalg.solve_ex: The solver failed because the '
                 'input matrix is singular.', exc=autograd.linalg.LinAlgError)


def test_vecdot_diagonal_tensorinv_tensorsolve():
    x, y = rand(2, 3, seed=63), rand(3, seed=64)
    check_op(lambda lib, x, y: lib.linalg.vecdot(x, y), x, y)
    check_op(lambda lib, x, y: lib.linalg.vecdot(x, x, dim=0), x, y)
    a = rand(2, 3, 4, seed=65)
    check_op(lambda lib, a: lib.linalg.diagonal(a), a)
    check_op(lambda lib, a: lib.linalg.diagonal(a, offset=1, dim1=0, dim2=2), a)
    t = (well_conditioned(6, 6, seed=66)).reshape(2, 3, 6)
    check_op(lambda lib, t: lib.linalg.tensorinv(t, ind=2), t)
    b = rand(2, 3, seed=67)
    check_op(lambda lib, t, b: lib.linalg.tensorsolve(t, b), t, b)
    check_op(lambda lib, t, b: lib.linalg.tensorsolve(t.permute(2, 0, 1), b, dims=(0,)),
             t, b)
    check_raises(lambda lib, t: lib.linalg.tensorinv(t, ind=1), t,
                 match=r'prod\(self.shape\[ind:\]\) == prod\(self.shape\[:ind\]\), but got 18 != 2')


def test_solve_triangular_with_a_zero_pivot_gives_inf_and_nan_as_pytorch():
    a, b = np.array([[0.0, 0.0], [0.0, 0.0]]), np.ones((2, 1))
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), a, b,
             grad=False)
    a = np.array([[2.0, 1.0], [0.0, 0.0]])
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True, left=False),
             a, b.T.copy(), grad=False)


def test_gradcheck_and_gradgradcheck_more():
    L = autograd.linalg
    a, b = tensors(distinct_spectrum(4, 3, seed=68), rand(4, 2, seed=69))
    sq, v3, w3 = tensors(well_conditioned(3, 3, seed=70) / 3, rand(2, 3, seed=71),
                         rand(2, 3, seed=73))
    tau, = tensors(rand(3, seed=72))
    singular, = tensors(np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]))
    cases = [
        (lambda x, y: L.lstsq(x, y).solution, (a, b)),
        (lambda x, t: L.householder_product(x, t), (a, tau)),
        (lambda x: L.matrix_power(x, -2), (sq,)),
        (lambda x: L.vander(x, N=4), (v3,)),
        (lambda x, y: L.cross(x, y), (v3, w3)),
        (lambda x, y: L.multi_dot([x, y, x.mT]), (sq, sq)),
        (lambda x, y: autograd.cholesky_solve(y[:3], L.cholesky(x @ x.mT)), (sq, b)),
        (lambda x: L.matrix_norm(x, 2), (a,)),
        (lambda x: L.det(x), (singular,)),          # the cofactor of a singular matrix
    ]
    for f, args in cases:
        assert autograd.gradcheck(f, args)
        assert autograd.gradgradcheck(f, args)

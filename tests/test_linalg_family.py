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
    check_op(lambda lib, a: lib.linalg.det(a), a, double=False)
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


def test_cholesky_reads_the_lower_triangle():
    # an asymmetric input: only its lower triangle counts (PyTorch's gradient is symmetric)
    a = spd(np, rand(3, 3, seed=6)) + np.triu(np.ones((3, 3)), 1)
    check_op(lambda lib, a: lib.linalg.cholesky(a), a)


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

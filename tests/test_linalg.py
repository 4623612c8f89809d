"""Matrix products against PyTorch: forward, gradient and second derivative, and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from oracle import check_op, check_raises, rand

MATMUL_SHAPES = [
    ((3,), (3,)),                    # dot
    ((2, 3), (3,)),                  # matrix @ vector
    ((3,), (3, 4)),                  # vector @ matrix
    ((2, 3), (3, 4)),                # matrix @ matrix
    ((5, 2, 3), (3, 4)),             # batch @ matrix (the linear-layer case)
    ((2, 3), (5, 3, 4)),             # matrix @ batch
    ((5, 2, 3), (5, 3, 4)),          # batch @ batch
    ((2, 1, 2, 3), (4, 3, 2)),       # broadcast batch dims
    ((3,), (2, 5, 3, 4)),            # vector @ batch
    ((2, 5, 2, 3), (3,)),            # batch @ vector
    ((1, 2, 3), (6, 1, 3, 2)),       # size-1 batch broadcasts both ways
]


@pytest.mark.parametrize('shapes', MATMUL_SHAPES)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_matmul_rank_cases(shapes, dtype):
    a = rand(*shapes[0], dtype=dtype, seed=1)
    b = rand(*shapes[1], dtype=dtype, seed=2)
    check_op(lambda lib, a, b: lib.matmul(a, b), a, b)
    check_op(lambda lib, a, b: a @ b, a, b)


# a 0-size contracted, row, column or batch dim: the gradients are zeros of each shape
EMPTY_MATMUL_SHAPES = [
    ((0,), (0,)), ((3, 0), (0,)), ((0,), (0, 2)), ((3, 0), (0, 2)), ((4, 3, 0), (0, 2)),
    ((2, 3, 0), (0,)), ((2, 3, 4), (4, 0)), ((0, 3, 4), (4, 0)), ((0, 2, 3), (3, 4)),
    ((2, 3, 0), (2, 0, 4)), ((0, 3, 2), (1, 2, 4)), ((5, 0), (2, 0, 3)), ((0,), (2, 0, 3)),
]


@pytest.mark.parametrize('shapes', EMPTY_MATMUL_SHAPES)
def test_matmul_with_empty_dims(shapes):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    check_op(lambda lib, a, b: a @ b, a, b)
    check_op(lambda lib, a, b: a @ b, a.astype('float32'), b.astype('float32'), double=False)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_matmul_random_broadcast_shapes(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.lists(st.integers(2, 3), max_size=3))

    def operand(core):
        """``core`` behind a random suffix of the batch, each axis possibly size 1."""
        lead = batch[len(batch) - data.draw(st.integers(0, len(batch))):]
        return tuple(data.draw(st.sampled_from([b, 1])) for b in lead) + core

    a_vec, b_vec = data.draw(st.booleans()), data.draw(st.booleans())
    sa = (k,) if a_vec else operand((n, k))
    sb = (k,) if b_vec else operand((k, m))
    check_op(lambda lib, a, b: a @ b, rand(*sa, seed=1), rand(*sb, seed=2))


def test_matmul_with_one_operand_constant():
    a = rand(4, 2, 3, seed=1)
    b = rand(3, 5, seed=2)
    check_op(lambda lib, a: a @ lib.tensor(b), a)
    check_op(lambda lib, b: lib.tensor(a) @ b, b)


def test_matmul_integers():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(3)
    check_op(lambda lib, a, b: a @ b, a, b)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_mm_bmm_mv_dot(dtype):
    check_op(lambda lib, a, b: lib.mm(a, b), rand(2, 3, dtype=dtype), rand(3, 4, dtype=dtype))
    check_op(lambda lib, a, b: a.mm(b), rand(2, 3, dtype=dtype), rand(3, 4, dtype=dtype))
    check_op(lambda lib, a, b: lib.bmm(a, b), rand(5, 2, 3, dtype=dtype),
             rand(5, 3, 4, dtype=dtype))
    check_op(lambda lib, a, b: lib.mv(a, b), rand(2, 3, dtype=dtype), rand(3, dtype=dtype))
    check_op(lambda lib, a, b: lib.dot(a, b), rand(3, dtype=dtype), rand(3, dtype=dtype))
    check_op(lambda lib, a, b: a.dot(b), rand(3, dtype=dtype), rand(3, dtype=dtype))


def test_outer_inner():
    check_op(lambda lib, a, b: lib.outer(a, b), rand(3), rand(4))
    check_op(lambda lib, a, b: a.outer(b), rand(3, dtype='float32'), rand(4))
    check_op(lambda lib, a, b: lib.inner(a, b), rand(2, 3), rand(4, 3))
    check_op(lambda lib, a, b: lib.inner(a, b), rand(3), rand(3))


def test_addmm_baddbmm():
    check_op(lambda lib, c, a, b: lib.addmm(c, a, b), rand(4), rand(2, 3), rand(3, 4))
    check_op(lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), rand(2, 4),
             rand(2, 3), rand(3, 4))
    check_op(lambda lib, c, a, b: lib.baddbmm(c, a, b, alpha=-1.5), rand(1, 2, 4),
             rand(5, 2, 3), rand(5, 3, 4))


def test_matmul_chain_double_backward():
    """A second-order gradient that needs the product of two matmul backwards."""
    check_op(lambda lib, a, b, c: (a @ b).tanh() @ c, rand(2, 3), rand(3, 4), rand(4, 2))


EINSUM = [
    ('ij,jk->ik', [(2, 3), (3, 4)]),
    ('ij,jk', [(2, 3), (3, 4)]),                     # implicit output
    ('bij,bjk->bik', [(5, 2, 3), (5, 3, 4)]),
    ('i,i->', [(3,), (3,)]),
    ('i,j->ij', [(3,), (4,)]),
    ('ii->i', [(3, 3)]),                             # diagonal
    ('ii', [(3, 3)]),                                # trace
    ('iij->j', [(3, 3, 2)]),
    ('ij->', [(2, 3)]),
    ('ij->ji', [(2, 3)]),
    ('ij,ij->ij', [(2, 3), (2, 3)]),
    ('ijk,ik->j', [(2, 3, 4), (2, 4)]),              # letter k summed in both
    ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 5)]),      # three operands
    ('...ij,...jk->...ik', [(5, 2, 3), (3, 4)]),     # ellipsis broadcasting
    ('b...,b->...', [(2, 3, 4), (2,)]),
    ('...i,i', [(2, 3, 4), (4,)]),
    ('ij,jk->ik', [(2, 1), (3, 4)]),                 # a size-1 letter broadcasts
    ('bhqd,bhkd->bhqk', [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores
    ('i,ij,j->', [(3,), (3, 4), (4,)]),
]


@pytest.mark.parametrize('eq,shapes', EINSUM)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_einsum(eq, shapes, dtype):
    arrays = [rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda lib, *xs: lib.einsum(eq, *xs), *arrays)


@pytest.mark.parametrize('eq,shapes', [
    ('ij,jk->ik', [(3, 0), (0, 2)]), ('ij->', [(0, 3)]), ('ij->i', [(3, 0)]),
    ('i,i->', [(0,), (0,)]), ('ii->', [(0, 0)]), ('ii->i', [(0, 0)]),
    ('bij,bjk->bik', [(2, 3, 0), (2, 0, 4)]), ('ij,jk,kl->il', [(2, 0), (0, 3), (3, 4)]),
    ('ij,jk->ik', [(2, 1), (0, 4)]), ('ij,jk->ik', [(2, 0), (1, 4)]),   # 1 broadcasts to 0
])
def test_einsum_over_empty_dims(eq, shapes):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda lib, *xs: lib.einsum(eq, *xs), *arrays)


def test_einsum_operands_as_list():
    check_op(lambda lib, a, b: lib.einsum('ij,jk->ik', [a, b]), rand(2, 3), rand(3, 4))


@pytest.mark.parametrize('dims,sb', [(2, (2, 4, 3)), (1, (4, 3)), (0, (2,)),
                                     (([1, 0], [0, 1]), (2, 3, 5)), (([2], [0]), (4, 5)),
                                     (([-1], [0]), (4,)), (([0, 2], [1, 0]), (4, 3))])
def test_tensordot(dims, sb):
    check_op(lambda lib, a, b: lib.tensordot(a, b, dims=dims), rand(3, 2, 4), rand(*sb))


# ----------------------------------------------------------------------------- errors

MISMATCH = [
    ((2, 3), (4, 5), r'mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)'),
    ((3,), (4,), 'inconsistent tensor size'),
    ((2, 3), (4,), r'size mismatch, got input \(2\), mat \(2x3\), vec \(4\)'),
    ((3,), (4, 5), r'\(1x3 and 4x5\)'),
    ((2, 2, 3), (4, 5), r'\(4x3 and 4x5\)'),
    ((2, 2, 3), (2, 4, 5), r'\[2, 3\] but got: \[2, 4\]'),
    ((2, 2, 3), (3, 3, 4), 'must match the size of tensor b'),
    ((), (3,), 'at least 1D'),
]


@pytest.mark.parametrize('sa,sb,match', MISMATCH)
def test_matmul_shape_errors(sa, sb, match):
    check_raises(lambda lib, a, b: a @ b, rand(*sa), rand(*sb), match=match)


def test_dtype_mismatch_errors():
    a32, a64 = rand(2, 3, dtype='float32'), rand(3, 4)
    check_raises(lambda lib, a, b: lib.mm(a, b), a32, a64,
                 match='expected m1 and m2 to have the same dtype, but got: float != double')
    check_raises(lambda lib, a, b: a @ b, a32, a64, match='same dtype')
    check_raises(lambda lib, a, b: lib.dot(a, b), rand(3, dtype='float32'), rand(3),
                 match='dot : expected both vectors to have same dtype')
    check_raises(lambda lib, a, b: lib.bmm(a, b), rand(2, 2, 3, dtype='float32'),
                 rand(2, 3, 4), match='expected scalar type Float but found Double')


def test_rank_errors():
    check_raises(lambda lib, a, b: lib.bmm(a, b), rand(2, 3), rand(3, 4),
                 match='batch1 must be a 3D tensor')
    check_raises(lambda lib, a, b: lib.bmm(a, b), rand(2, 2, 3), rand(2, 4, 4),
                 match=r'\[2, 3\] but got: \[2, 4\]')
    check_raises(lambda lib, a, b: lib.mm(a, b), rand(2, 2, 3), rand(3, 4),
                 match='self must be a matrix')
    check_raises(lambda lib, a, b: lib.mm(a, b), rand(2, 3), rand(3),
                 match='mat2 must be a matrix')
    check_raises(lambda lib, a, b: lib.dot(a, b), rand(2, 3), rand(3), match='1D tensors expected')
    check_raises(lambda lib, a, b: lib.outer(a, b), rand(2, 3), rand(3), match='Expected 1-D')


def test_einsum_errors():
    check_raises(lambda lib, a, b: lib.einsum('ij,jk', a, b), rand(2, 3), rand(4, 5),
                 match='subscript j has size 4 for operand 1')
    check_raises(lambda lib, a, b: lib.einsum('ij,jk', a, b), rand(2, 0), rand(3, 5),
                 match='subscript j has size 3 for operand 1 .* previously seen size 0')
    check_raises(lambda lib, a: lib.einsum('ij,jk->ik', a), rand(2, 3), match='fewer operands')
    check_raises(lambda lib, a: lib.einsum('ii->i', a), rand(2, 3), match='repeated')
    check_raises(lambda lib, a: lib.einsum('ijk->i', a), rand(2, 3), match='number of subscripts')


def test_tensordot_error():
    check_raises(lambda lib, a, b: lib.tensordot(a, b, dims=1), rand(2, 3), rand(4, 5),
                 match='contracted dimensions need to match')


# ----------------------------------------------------------------------------- array sweep
# A backward that records no graph (no create_graph) hands each backward bare arrays.

@pytest.mark.parametrize('shapes', MATMUL_SHAPES)
def test_matmul_gradient_on_arrays(shapes):
    a = rand(*shapes[0], dtype='float32', seed=1)
    b = rand(*shapes[1], dtype='float32', seed=2)
    check_op(lambda lib, a, b: a @ b, a, b, double=False)


@pytest.mark.parametrize('eq,shapes', EINSUM)
def test_einsum_gradient_on_arrays(eq, shapes):
    arrays = [rand(*s, dtype='float32', seed=i) for i, s in enumerate(shapes)]
    check_op(lambda lib, *xs: lib.einsum(eq, *xs), *arrays, double=False)

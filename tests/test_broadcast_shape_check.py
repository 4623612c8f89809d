"""The ops' internal broadcast check (``autograd.ops._util.broadcast_shape``), reworked
for speed (issue 19): equal shapes return at once, others go through one lean loop.
Against PyTorch, through the ops that call it: batched matmul over broadcast batch dims
(values, gradients, second order; float32/float64), masked_fill under same-shape,
broadcast and widening masks, and the errors for shapes that do not broadcast (PyTorch's
type, its message inside ours)."""
import numpy as np
import pytest

import autograd
from autograd.ops._util import broadcast_shape
from oracle import check_op, rand, torch


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('sa, sb', [
    ((2, 3, 4), (2, 4, 5)),            # equal batch shapes: the early return
    ((2, 1, 3, 4), (5, 4, 2)),         # broadcast both ways, different ranks
    ((1, 3, 4), (2, 4, 1)),            # batch 1 against 2, a unit output dim
    ((3, 4), (2, 1, 4, 5)),            # a matrix against a 4-d stack
    ((4, 1, 3, 5), (1, 5, 5, 2)),
])
def test_batched_matmul_broadcasts_as_pytorch(sa, sb, dtype):
    a, b = rand(*sa, seed=1, dtype=dtype), rand(*sb, seed=2, dtype=dtype)
    check_op(lambda lib, x, y: x @ y, a, b)


def test_matmul_of_a_transposed_view_broadcasts_as_pytorch():
    # attention's q @ k^T on views of one projection, with a broadcast batch dim
    q, k = rand(2, 3, 5, 4, seed=3), rand(1, 3, 4, 5, seed=4)
    check_op(lambda lib, x, y: x @ y.transpose(-2, -1).transpose(-2, -1), q, k)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('xshape, mshape', [
    ((2, 3, 4, 4), (2, 3, 4, 4)),       # same shape: the early return
    ((2, 3, 4, 4), (1, 1, 4, 4)),       # a causal mask over batch and heads
    ((3, 5), (5,)),                     # fewer dims
    ((3, 1), (2, 3, 4)),                # a mask that widens the result (PyTorch allows it)
])
def test_masked_fill_broadcasts_as_pytorch(xshape, mshape, dtype):
    x = rand(*xshape, seed=5, dtype=dtype)
    mask = np.random.default_rng(6).random(mshape) < 0.4
    check_op(lambda lib, t: t.masked_fill(lib.tensor(mask, device=t.device), -1.5), x)


def _error(lib, fn):
    try:
        fn(lib)
    except Exception as e:          # noqa: BLE001  (the type is what is compared)
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3, 4) @ L.ones(3, 4, 5),
    lambda L: L.ones(2, 1, 3, 4) @ L.ones(3, 2, 4, 5),
    lambda L: L.ones(2, 4).masked_fill(L.ones(3, dtype=L.bool), 0.0),
    lambda L: L.ones(2, 4).masked_fill_(L.ones(3, dtype=L.bool), 0.0),
    lambda L: L.lerp(L.ones(2, 3, dtype=L.long), L.ones(4, dtype=L.long),
                     L.ones(2, 3, dtype=L.long)),
    lambda L: L.take_along_dim(L.ones(2, 3), L.zeros(3, 3, dtype=L.long), dim=1),
], ids=['matmul', 'matmul-4d', 'masked_fill', 'masked_fill_', 'lerp', 'take_along_dim'])
def test_shapes_that_do_not_broadcast_raise_pytorchs_error(fn):
    ours, theirs = _error(autograd, fn), _error(torch, fn)
    assert theirs[0] is RuntimeError
    assert ours[0] is RuntimeError
    assert theirs[1] in ours[1]             # PyTorch's words, then the op and the shapes


def test_broadcast_shape_itself():
    assert broadcast_shape('op', (2, 3), (2, 3)) == (2, 3)
    assert broadcast_shape('op', [2, 1, 3], (4, 1)) == (2, 4, 3)
    assert broadcast_shape('op', (), (5,)) == (5,)
    assert broadcast_shape('op', (0, 1), (1, 7)) == (0, 7)
    assert isinstance(broadcast_shape('op', (2, 3), (2, 3)), autograd.Size)
    with pytest.raises(RuntimeError, match=r'op: The size of tensor a \(0\) must match the '
                       r'size of tensor b \(2\) at non-singleton dimension 0'):
        broadcast_shape('op', (0,), (2,))

"""Shape ops against PyTorch: forward values, gradients and second derivatives, the errors
PyTorch raises for bad dims and sizes, and views sharing their base's version counter."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import check_op, check_raises, rand, torch

DTYPES = ['float64', 'float32']

# name -> (fn(lib, x), input shapes it is checked on)
UNARY = {
    'permute': (lambda lib, x: x.permute(2, 0, 1), [(2, 3, 4), (1, 3, 1)]),
    'permute_fn_negative': (lambda lib, x: lib.permute(x, (-1, -3, -2)), [(2, 3, 4)]),
    'transpose': (lambda lib, x: x.transpose(0, -1), [(2, 3), (2, 3, 4), (5,)]),
    'transpose_0d': (lambda lib, x: lib.transpose(x, 0, -1), [()]),
    'swapaxes': (lambda lib, x: lib.swapaxes(x, 1, 2), [(2, 3, 4)]),
    'swapdims': (lambda lib, x: x.swapdims(-1, 0), [(2, 3, 4)]),
    't': (lambda lib, x: x.t(), [(2, 3), (4,), ()]),
    't_fn': (lambda lib, x: lib.t(x), [(3, 2)]),
    'mT': (lambda lib, x: x.mT, [(2, 3), (2, 3, 4)]),
    'T': (lambda lib, x: x.T, [(2, 3)]),
    'movedim': (lambda lib, x: x.movedim(0, -1), [(2, 3, 4), (5,)]),
    'movedim_many': (lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [(2, 3, 4, 5)]),
    'movedim_0d': (lambda lib, x: x.movedim(0, -1), [()]),
    'movedim_0d_seq': (lambda lib, x: lib.movedim(x, (-1,), (0,)), [()]),
    'moveaxis': (lambda lib, x: lib.moveaxis(x, -1, 1), [(2, 3, 4)]),
    'squeeze_all': (lambda lib, x: x.squeeze(), [(1, 3, 1, 2), (1,), (), (2, 3)]),
    'squeeze_dim': (lambda lib, x: x.squeeze(-2), [(2, 1, 3), (2, 3)]),
    'squeeze_dims': (lambda lib, x: lib.squeeze(x, (0, 2)), [(1, 3, 1, 1), (2, 3, 1)]),
    'squeeze_0d': (lambda lib, x: x.squeeze(0), [()]),
    'unsqueeze': (lambda lib, x: x.unsqueeze(1), [(2, 3), (4,)]),
    'unsqueeze_last': (lambda lib, x: lib.unsqueeze(x, -1), [(2, 3), ()]),
    'flatten': (lambda lib, x: x.flatten(), [(2, 3, 4), (5,), ()]),
    'flatten_range': (lambda lib, x: lib.flatten(x, 1, -2), [(2, 3, 4, 5), (2, 3, 4)]),
    'flatten_noncontiguous': (lambda lib, x: x.transpose(0, 1).flatten(1), [(2, 3, 4)]),
    'unflatten': (lambda lib, x: x.unflatten(1, (2, -1)), [(3, 6), (3, 4, 5)]),
    'unflatten_neg': (lambda lib, x: lib.unflatten(x, -1, (1, 2, 2)), [(3, 4)]),
    'ravel': (lambda lib, x: lib.ravel(x.transpose(0, 1)), [(2, 3)]),
    'repeat': (lambda lib, x: x.repeat(2, 3), [(2, 3), (4,), ()]),
    'repeat_lead': (lambda lib, x: x.repeat(2, 1, 3, 1), [(2, 3, 2)]),
    'repeat_zero': (lambda lib, x: x.repeat(0, 2), [(2, 3)]),
    'tile': (lambda lib, x: lib.tile(x, (2,)), [(2, 3), ()]),
    'tile_lead': (lambda lib, x: x.tile((3, 1, 2)), [(2, 3)]),
    'flip': (lambda lib, x: x.flip(0, -1), [(2, 3, 4), (5, 2)]),
    'flip_fn': (lambda lib, x: lib.flip(x, (1,)), [(2, 3)]),
    'fliplr': (lambda lib, x: lib.fliplr(x), [(2, 3)]),
    'flipud': (lambda lib, x: x.flipud(), [(2, 3), (4,)]),
    'roll': (lambda lib, x: x.roll(1, 0), [(3, 4), (5,)]),
    'roll_many': (lambda lib, x: lib.roll(x, (2, -1), (-1, 0)), [(3, 4), (2, 3, 4)]),
    'roll_flat': (lambda lib, x: lib.roll(x, 5), [(3, 4), ()]),
    'tril': (lambda lib, x: x.tril(), [(3, 3), (3, 5), (2, 4, 3)]),
    'tril_k': (lambda lib, x: lib.tril(x, -1), [(4, 3)]),
    'triu': (lambda lib, x: x.triu(1), [(3, 3), (2, 3, 5)]),
    'diagonal': (lambda lib, x: x.diagonal(), [(3, 3), (3, 5), (2, 3, 4)]),
    'diagonal_offset': (lambda lib, x: lib.diagonal(x, 1, -1, 0), [(3, 4), (2, 4, 3)]),
    'diagonal_neg': (lambda lib, x: x.diagonal(-2, 1, 2), [(2, 4, 3)]),
    'diag_embed': (lambda lib, x: x.diag_embed(), [(3,), (2, 3)]),
    'diag_embed_offset': (lambda lib, x: lib.diag_embed(x, -1, 0, 2), [(2, 3)]),
    'diag_vector': (lambda lib, x: lib.diag(x, 1), [(3,)]),
    'diag_matrix': (lambda lib, x: x.diag(-1), [(3, 4)]),
    'narrow': (lambda lib, x: x.narrow(1, 1, 2), [(2, 4), (3, 4, 2)]),
    'narrow_neg': (lambda lib, x: lib.narrow(x, -1, -3, 2), [(2, 4)]),
    'split': (lambda lib, x: x.split(2), [(5, 3), (4,)]),
    'split_sizes': (lambda lib, x: lib.split(x, [1, 0, 3], dim=-1), [(2, 4)]),
    'chunk': (lambda lib, x: x.chunk(3, 1), [(2, 7), (2, 6)]),
    'chunk_fn': (lambda lib, x: lib.chunk(x, 4), [(6,)]),
    'unbind': (lambda lib, x: x.unbind(), [(3, 2), (4,)]),
    'unbind_dim': (lambda lib, x: lib.unbind(x, -1), [(2, 3, 2)]),
    'clone': (lambda lib, x: x.clone(), [(2, 3), ()]),
    'clone_fn': (lambda lib, x: lib.clone(x.t()), [(2, 3)]),
    'contiguous': (lambda lib, x: x.t().contiguous(), [(2, 3)]),
    'iter': (lambda lib, x: list(x), [(3, 2), (2,)]),
    'view_as': (lambda lib, x: x.view_as(x.reshape(-1)), [(2, 3)]),
    'reshape_as': (lambda lib, x: x.t().reshape_as(x), [(2, 3)]),
}


@pytest.mark.parametrize('name', sorted(UNARY))
@pytest.mark.parametrize('dtype', DTYPES)
def test_op(name, dtype):
    fn, shapes = UNARY[name]
    for shape in shapes:
        check_op(fn, rand(*shape, dtype=dtype))


def test_unused_split_outputs_get_zero_gradient():
    x = rand(6, 2)
    check_op(lambda lib, x: x.split(2)[1], x)
    check_op(lambda lib, x: x.unbind(1)[0] * 3, x)
    check_op(lambda lib, x: x.chunk(3)[-1].exp(), x)


def test_views_composed_then_reduced():
    x = rand(2, 3, 4)
    check_op(lambda lib, x: (x.permute(1, 2, 0).narrow(0, 1, 2).diagonal(0, 0, 1) ** 2).sum(), x)
    check_op(lambda lib, x: x.unsqueeze(0).expand(3, 2, 3, 4).flip(1).squeeze() * x, x)


# ----------------------------------------------------------------------------- joining

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1])
def test_cat(dtype, dim):
    a, b, c = rand(2, 3, dtype=dtype, seed=1), rand(2, 3, dtype=dtype, seed=2), \
        rand(2, 3, dtype=dtype, seed=3)
    check_op(lambda lib, a, b, c: lib.cat([a, b, c], dim), a, b, c)
    check_op(lambda lib, a, b, c: lib.concat((a, b * c), dim=dim), a, b, c)


def test_cat_unequal_sizes_and_aliases():
    a, b = rand(2, 3, seed=1), rand(2, 5, seed=2)
    check_op(lambda lib, a, b: lib.cat([a, b], 1), a, b)
    check_op(lambda lib, a, b: lib.concatenate([a, b, a], axis=-1), a, b)
    check_op(lambda lib, a, b: lib.cat([a.t(), b.t()]), a, b)


def test_cat_promotes_dtypes():
    a, b = rand(2, 3, seed=1, dtype='float32'), rand(4, 3, seed=2)
    ints = np.arange(6).reshape(2, 3)
    check_op(lambda lib, a, b: lib.cat([a, b]), a, b)
    check_op(lambda lib, a, i: lib.cat([i, a, i]), a, ints)
    check_op(lambda lib, a, b: lib.stack([a, b[:2]], 1), a, b)


def test_cat_skips_legacy_empty_vectors():
    a, e = rand(2, 3), rand(0)
    check_op(lambda lib, a, e: lib.cat([e, a, e], 1), a, e)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1, 2])
def test_stack(dtype, dim):
    a, b = rand(2, 3, dtype=dtype, seed=1), rand(2, 3, dtype=dtype, seed=2)
    check_op(lambda lib, a, b: lib.stack([a, b, a], dim), a, b)


def test_stack_0d_and_hstack_vstack():
    a, b = rand(seed=1), rand(seed=2)
    check_op(lambda lib, a, b: lib.stack((a, b)), a, b)
    check_op(lambda lib, a, b: lib.hstack((a, b)), a, b)
    u, v = rand(3, seed=1), rand(3, seed=2)
    check_op(lambda lib, u, v: lib.hstack([u, v]), u, v)
    check_op(lambda lib, u, v: lib.vstack([u, v]), u, v)
    m, n = rand(2, 3, seed=1), rand(2, 4, seed=2)
    check_op(lambda lib, m, n: lib.hstack([m, n]), m, n)
    check_op(lambda lib, m, u: lib.vstack([m, u, m]), m, u)


# ----------------------------------------------------------------------------- copy_

def test_copy_gradient_flows_to_src_and_not_to_old_value():
    x, s = rand(2, 3, seed=1), rand(3, seed=2)
    check_op(lambda lib, x, s: (x * 2).copy_(s * 3), x, s)
    check_op(lambda lib, x, s: (x * 1).copy_(s.float()), x, s)


def test_copy_casts_and_into_plain_tensor():
    s = rand(2, 3, seed=2)
    check_op(lambda lib, s: lib.zeros(2, 3, dtype=lib.float32).copy_(s), s)
    check_op(lambda lib, s: lib.zeros(2, 3, dtype=lib.int64).copy_(s), s, grad=False)
    check_op(lambda lib, s: lib.zeros(2, 2, 3).copy_(s), s)
    check_op(lambda lib, s: lib.zeros(2, 3).copy_(s[:1]), s)


def test_copy_across_devices_moves_src_first():
    src = autograd.tensor([1.0, 2.0], requires_grad=True)
    dst = autograd.zeros(2, dtype=autograd.float64)
    dst.copy_(src)
    (dst * autograd.tensor([3.0, 4.0], dtype=autograd.float64)).sum().backward()
    assert dst.tolist() == [1.0, 2.0]
    assert src.grad.tolist() == [3.0, 4.0] and src.grad.dtype == autograd.float32


def test_copy_errors():
    check_raises(lambda lib, x, s: x.copy_(s), rand(3), rand(4), match='size of tensor')
    check_raises(lambda lib, x, s: x.copy_(s), rand(3), rand(1, 3), match='broadcast shape')
    leaf = autograd.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf'):
        leaf.copy_(autograd.ones(3))



@pytest.mark.parametrize('sections', [3, 7, 8, 1, (3, 1), (-2,), (2, 10), (-10, 3), [0], []])
def test_tensor_split_matches_torch(sections):
    x = rand(7, 2)
    check_op(lambda lib, x: lib.tensor_split(x, sections), x)
    check_op(lambda lib, x: x.tensor_split(sections, dim=1), x)


def test_tensor_split_takes_index_tensors():
    x = rand(7)
    check_op(lambda lib, x: lib.tensor_split(x, lib.tensor([2, 4])), x)
    check_op(lambda lib, x: lib.tensor_split(x, lib.tensor(3)), x)


def test_hsplit_vsplit_dsplit():
    m, v, c = rand(4, 6), rand(6), rand(2, 3, 4)
    check_op(lambda lib, m: lib.hsplit(m, 3), m)
    check_op(lambda lib, m: m.hsplit([1, 4]), m)
    check_op(lambda lib, v: lib.hsplit(v, 2), v)
    check_op(lambda lib, m: lib.vsplit(m, [1]), m)
    check_op(lambda lib, m: m.vsplit(2), m)
    check_op(lambda lib, c: lib.dsplit(c, 2), c)
    check_op(lambda lib, c: c.dsplit([1, 3]), c)


@pytest.mark.parametrize('shape', [(), (3,), (2, 3), (2, 3, 4)])
def test_atleast_nd_and_dstack(shape):
    x = rand(*shape)
    for name in ('atleast_1d', 'atleast_2d', 'atleast_3d'):
        check_op(lambda lib, x: getattr(lib, name)(x), x)
        check_op(lambda lib, x: getattr(lib, name)(x, x * 2), x)
        check_op(lambda lib, x: getattr(lib, name)([x]), x)
    if len(shape) <= 3:
        check_op(lambda lib, a, b: lib.dstack([a, b]), x, rand(*shape, seed=3))


# ----------------------------------------------------------------------------- errors

ERRORS = [
    (lambda lib, a, b: lib.cat([a, b], 1), [(2, 3), (3, 3)], 'Sizes of tensors must match'),
    (lambda lib, a, b: lib.cat([a, b]), [(2, 3), (3,)], 'same number of dimensions'),
    (lambda lib, a, b: lib.cat([a, b]), [(), ()], 'zero-dimensional'),
    (lambda lib, a, b: lib.cat([a, b], 2), [(2, 3), (2, 3)], 'Dimension out of range'),
    (lambda lib, a, b: lib.stack([a, b]), [(2, 3), (3, 2)], 'equal size'),
    (lambda lib, a, b: lib.stack([a, b], 3), [(2, 3), (2, 3)], 'Dimension out of range'),
    (lambda lib, a: lib.cat([]), [(2,)], 'non-empty'),
    (lambda lib, a: lib.stack([]), [(2,)], 'non-empty'),
    (lambda lib, a: a.transpose(0, 2), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.permute(0, 1), [(2, 3, 4)], 'does not match'),
    (lambda lib, a: a.permute(0, 0), [(2, 3)], 'duplicate dims'),
    (lambda lib, a: a.permute(0, 2), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.t(), [(2, 3, 4)], 'expects a tensor with <= 2 dimensions'),
    (lambda lib, a: a.mT, [(3,)], 'only supported on matrices'),
    (lambda lib, a: a.squeeze(3), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.squeeze((0, 0)), [(1, 3)], 'multiple times'),
    (lambda lib, a: a.unsqueeze(-4), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.flatten(2, 0), [(2, 3, 4)], 'start_dim cannot come after end_dim'),
    (lambda lib, a: a.flatten(0, 3), [(2, 3, 4)], 'Dimension out of range'),
    (lambda lib, a: a.unflatten(1, (2, 2)), [(2, 3)], "don't multiply up"),
    (lambda lib, a: a.unflatten(1, ()), [(2, 3)], 'non-empty'),
    (lambda lib, a: a.movedim((0, 1), (0,)), [(2, 3)], 'same number of dims'),
    (lambda lib, a: a.movedim((0, 0), (0, 1)), [(2, 3)], 'repeated dim'),
    (lambda lib, a: a.movedim(2, 0), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.movedim(0, 1), [()], 'Dimension out of range'),
    (lambda lib, a: a.movedim((0, -1), (0, 0)), [()], 'repeated dim'),
    (lambda lib, a: a.view(-1, -1), [(2, 3)], 'only one dimension can be inferred'),
    (lambda lib, a: a.t().view(-1), [(2, 3)], 'view size is not compatible'),
    (lambda lib, a: a.reshape(4, 2), [(2, 3)], 'is invalid for input of size 6'),
    (lambda lib, a: a.reshape(-1, 4), [(2, 3)], 'is invalid for input of size 6'),
    (lambda lib, a: a.view(7), [(2, 3)], 'is invalid for input of size 6'),
    (lambda lib, a: a.repeat(2), [(2, 3)], 'can not be smaller'),
    (lambda lib, a: a.flip(0, 0), [(2, 3)], 'multiple times'),
    (lambda lib, a: a.flip(2), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.roll((1, 2), 0), [(2, 3)], 'must align'),
    (lambda lib, a: a.tril(), [(3,)], 'at least 2 dimensions'),
    (lambda lib, a: a.triu(), [()], 'at least 2 dimensions'),
    (lambda lib, a: a.diagonal(0, 1, -1), [(2, 3)], 'cannot be identical'),
    (lambda lib, a: a.diagonal(0, 0, 2), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.diag(), [(2, 3, 4)], 'Supports 1D or 2D'),
    (lambda lib, a: a.narrow(0, 3, 1), [(2, 3)], 'start out of range'),
    (lambda lib, a: a.narrow(1, 1, 3), [(2, 3)], 'exceeds dimension size'),
    (lambda lib, a: a.narrow(0, 0, 1), [()], '0-dim'),
    (lambda lib, a: a.split([1, 2]), [(2, 3)], 'sum exactly to 2'),
    (lambda lib, a: a.split(-1), [(2, 3)], 'non-negative'),
    (lambda lib, a: a.split(0), [(2, 3)], 'can only be 0'),
    (lambda lib, a: a.split(1), [()], 'at least a 1-dimensional'),
    (lambda lib, a: lib.tensor_split(a, 0), [(3,)], 'number of sections must be larger than 0'),
    (lambda lib, a: lib.tensor_split(a, 2), [()], 'at least a 1-dimensional'),
    (lambda lib, a: lib.hsplit(a, 3), [(2, 4)], 'not divisible by the split_size 3'),
    (lambda lib, a: lib.hsplit(a, 2), [()], 'at least 1 dimension'),
    (lambda lib, a: lib.vsplit(a, 2), [(4,)], 'at least 2 dimension'),
    (lambda lib, a: lib.dsplit(a, 2), [(2, 2)], 'at least 3 dimension'),
    (lambda lib, a: lib.dstack([]), [(2,)], 'non-empty'),
    (lambda lib, a: a.chunk(0), [(2, 3)], 'greater than 0'),
    (lambda lib, a: a.unbind(2), [(2, 3)], 'Dimension out of range'),
    (lambda lib, a: a.unbind(), [()], 'no dimensions'),
    (lambda lib, a: iter(a), [()], 'iteration over a 0-d tensor'),
    (lambda lib, a: a.expand(3, 2), [(2, 3)], 'must match the existing size'),
]


@pytest.mark.parametrize('k', range(len(ERRORS)))
def test_errors(k):
    fn, shapes, match = ERRORS[k]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        check_raises(fn, *[rand(*s, seed=i) for i, s in enumerate(shapes)], match=match)


def test_cat_error_names_op_and_shapes():
    a, b = autograd.zeros(2, 3), autograd.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r'cat.*dimension 1.*\[2, 3\].*\[3, 3\]'):
        autograd.cat([a, b], 1)


BROADCAST_SHAPES = [
    ((2, 1), (1, 3)), ((3, 1), (1, 0)), ((2, 1, 3), (4, 1), ()), (5, (2, 1)), ([1], [4, 1, 1]),
    (),
]
BROADCAST_SHAPES_ERRORS = [
    ((2, 3), (4,)), ((2, 3), (3,), (5, 1)), (5, (2, 3)), ((0,), (2,)), ((2, -1), (4, 5, 3)),
]


@pytest.mark.parametrize('shapes', BROADCAST_SHAPES)
def test_broadcast_shapes_as_pytorch(shapes):
    assert list(autograd.broadcast_shapes(*shapes)) == list(torch.broadcast_shapes(*shapes))


@pytest.mark.parametrize('shapes', BROADCAST_SHAPES_ERRORS)
def test_broadcast_shapes_errors_as_pytorch(shapes):
    with pytest.raises(Exception) as theirs:
        torch.broadcast_shapes(*shapes)
    with pytest.raises(type(theirs.value)) as ours:
        autograd.broadcast_shapes(*shapes)
    assert str(ours.value) == str(theirs.value)


def test_T_warns_as_pytorch_outside_matrices():
    with pytest.warns(UserWarning, match='deprecated'):
        autograd.zeros(2, 3, 4).T
    with pytest.warns(UserWarning, match='deprecated'):
        autograd.zeros(()).T


# ----------------------------------------------------------------------------- views

VIEWS = {
    'transpose': lambda x: x.transpose(0, 1),
    'permute': lambda x: x.permute(1, 0),
    't': lambda x: x.t(),
    'mT': lambda x: x.mT,
    'movedim': lambda x: x.movedim(0, 1),
    'squeeze': lambda x: x.unsqueeze(0).squeeze(0),
    'unsqueeze': lambda x: x.unsqueeze(1),
    'narrow': lambda x: x.narrow(1, 1, 2),
    'split': lambda x: x.split(1)[1],
    'chunk': lambda x: x.chunk(2, 1)[0],
    'unbind': lambda x: x.unbind(1)[2],
    'diagonal': lambda x: x.diagonal(),
    'flatten': lambda x: x.flatten(),
    'unflatten': lambda x: x.unflatten(1, (1, 3)),
    'view': lambda x: x.view(3, 2),
    'iter': lambda x: next(iter(x)),
}


@pytest.mark.parametrize('name', sorted(VIEWS))
def test_view_shares_storage_and_version_counter(name):
    base = autograd.zeros(2, 3)
    v = VIEWS[name](base)
    before = base._version
    v.add_(1)
    assert base._version == before + 1 and v._version == base._version
    assert base.sum().item() == v.numel()         # the write landed in the base's storage
    base.mul_(2)
    assert v._version == base._version


@pytest.mark.parametrize('name', ['clone', 'flip', 'roll', 'repeat', 'tril', 'cat', 'contiguous'])
def test_copying_ops_do_not_share_the_version_counter(name):
    base = autograd.zeros(2, 3)
    out = {'clone': lambda x: x.clone(), 'flip': lambda x: x.flip(0),
           'roll': lambda x: x.roll(1), 'repeat': lambda x: x.repeat(1, 1),
           'tril': lambda x: x.tril(), 'cat': lambda x: autograd.cat([x]),
           'contiguous': lambda x: x.t().contiguous()}[name](base)
    out.add_(1)
    assert base._version == 0 and base.sum().item() == 0


def test_contiguous_returns_self_when_contiguous():
    x = autograd.zeros(2, 3)
    assert x.contiguous() is x
    assert not x.t().is_contiguous() and x.t().contiguous().is_contiguous()


def test_in_place_on_view_makes_saved_base_stale():
    for lib in (torch, autograd):
        x = lib.ones(2, 3, requires_grad=True)
        y = x * 1
        z = y.exp()                              # saves its output z
        z.t().mul_(2)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            z.sum().backward()


@pytest.mark.parametrize('call', [lambda x: x.t_(), lambda x: x.transpose_(0, 1),
                                  lambda x: x.unsqueeze_(1), lambda x: x.squeeze_(),
                                  lambda x: x.swapaxes_(1, 0)])
def test_in_place_view_ops_change_the_tensor_itself(call):
    def fn(lib, x):
        y = x * 1
        r = call(y)
        assert r is y and y._version == 1
        return y * y
    check_op(fn, rand(2, 3))
    with pytest.raises(RuntimeError, match='leaf Variable'):
        call(autograd.zeros(2, 3, requires_grad=True))


def test_in_place_view_op_on_a_view_keeps_it_a_view():
    base = autograd.zeros(2, 3)
    row = base.narrow(0, 0, 1).squeeze(0)
    row.unsqueeze_(0)
    assert row.shape == (1, 3) and row._base is base
    row.add_(1)
    assert base.sum().item() == 3 and base._version == row._version


def test_in_place_view_op_on_a_leaf_without_grad_mode_keeps_the_leaf():
    w = autograd.zeros(2, 3, requires_grad=True)
    with autograd.no_grad():
        w.t_()
    assert w.shape == (3, 2) and w.is_leaf and w.requires_grad


INPLACE_THROUGH_VIEW = {
    'transpose': lambda y: y.transpose(0, 1).add_(1),
    'permute': lambda y: y.permute(1, 0).exp_(),
    'narrow': lambda y: y.narrow(1, 1, 2).neg_(),
    'diagonal': lambda y: y.diagonal().exp_(),
    'movedim': lambda y: y.movedim(0, 1).sub_(y.t().detach() * 2),
    'unsqueeze_squeeze': lambda y: y.unsqueeze(0).squeeze(0).t().exp_(),
    'copy_into_view': lambda y: y.t().narrow(0, 0, 2).copy_(y[:, :1].t() + 5),
}


@pytest.mark.parametrize('name', sorted(INPLACE_THROUGH_VIEW))
def test_in_place_through_view_reaches_the_base_gradient(name):
    def fn(lib, x):
        y = x * 1
        INPLACE_THROUGH_VIEW[name](y)
        return y * x
    # movedim's subtrahend is detached: no gradient along it, as in PyTorch
    check_op(fn, rand(3, 3), derivative=name != 'movedim')


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_random_views_and_joins_match_pytorch(shape, data):
    """Permute, split along a random dim, stack the pieces back on a new dim, flatten."""
    n = len(shape)
    perm = data.draw(st.permutations(range(n)))
    dim = data.draw(st.integers(-n, n - 1))
    size = data.draw(st.integers(1, 3))
    new = data.draw(st.integers(-n - 1, n))
    x = rand(*shape, seed=len(shape))

    def fn(lib, x):
        pieces = x.permute(*perm).split(size, dim)
        return lib.cat([p.flip(dim) for p in pieces], dim).unsqueeze(new).flatten(0, -2)
    check_op(fn, x)


# ----------------------------------------------------------------------------- array sweep

@pytest.mark.parametrize('name', sorted(UNARY))
def test_op_gradient_on_arrays(name):
    # a backward that records no graph (no create_graph) hands each backward bare arrays
    fn, shapes = UNARY[name]
    for shape in shapes:
        check_op(fn, rand(*shape, dtype='float32'), double=False)


def test_joins_copies_and_unused_outputs_gradient_on_arrays():
    x, y = rand(2, 3, dtype='float32'), rand(2, 3, seed=1, dtype='float32')
    check_op(lambda lib, x, y: lib.cat([x, y, lib.zeros(0)], 1), x, y, double=False)
    check_op(lambda lib, x, y: lib.stack([x, y], -1), x, y, double=False)
    check_op(lambda lib, x: x.split(1, 1)[2] * 2, x, double=False)
    check_op(lambda lib, x: x.unbind(0)[1].exp(), x, double=False)
    check_op(lambda lib, x, y: (x * 1).copy_(y[0]), x, y, double=False)
    check_op(lambda lib, x: x.double().exp().float(), x, double=False)
    check_op(lambda lib, x: x.expand(4, 2, 3).sum(0), x, double=False)

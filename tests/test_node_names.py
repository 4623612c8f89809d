"""Graph node names as PyTorch's: ``grad_fn.name()`` and the ``grad_fn=<...>`` of ``repr(t)``
for the common ops and losses, compared with PyTorch's on the same calls (on the device the
tests run on: AUTOGRAD_DEVICE); naming a node leaves its values and gradients unchanged."""
import os
import re

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F_ours
from autograd.extend import named, renamed
from oracle import rand, to_numpy, torch, torch_module

F_torch = torch_module('torch.nn.functional')

# inputs: name -> (shape, requires grad)
INPUTS = {
    'x': ((4, 3), True), 'v': ((3,), True), 'y3': ((2, 4, 3), True), 'img': ((2, 1, 6, 6), True),
    'vol': ((1, 1, 4, 4, 4), True), 's1': ((2, 1, 6), True), 'w': ((3, 3), True),
    'b': ((3,), True), 'k2': ((2, 1, 3, 3), False), 'k1': ((2, 1, 3), False),
    'kt': ((1, 2, 3, 3), False), 'z': ((4, 3), False),
}


def _inputs(lib):
    out = {}
    for i, (name, (shape, rg)) in enumerate(INPUTS.items()):
        out[name] = lib.tensor(rand(*shape, seed=i), requires_grad=rg)
    out['p'] = lib.tensor(rand(4, 3, low=0.05, high=0.95, seed=20))      # probabilities
    out['t'] = lib.tensor([0, 2, 1, 0])
    out['one'] = lib.ones(4, 3, dtype=lib.float64)
    return out


# case -> f(lib, F, inputs); the output requires grad
CASES = {
    # losses
    'cross_entropy': lambda L, F, a: F.cross_entropy(a['x'], a['t']),
    'cross_entropy_none': lambda L, F, a: F.cross_entropy(a['x'], a['t'], reduction='none'),
    'cross_entropy_weight': lambda L, F, a: F.cross_entropy(a['x'], a['t'], weight=a['b'].detach().abs()),
    'cross_entropy_3d': lambda L, F, a: F.cross_entropy(a['y3'].transpose(1, 2), a['t'][None].expand(2, 4)),
    'cross_entropy_smoothing': lambda L, F, a: F.cross_entropy(a['x'], a['t'], label_smoothing=0.1),
    'cross_entropy_3d_none': lambda L, F, a: F.cross_entropy(a['y3'].transpose(1, 2), a['t'][None].expand(2, 4), reduction='none'),
    'cross_entropy_4d': lambda L, F, a: F.cross_entropy(a['img'].expand(2, 3, 6, 6), (a['img'][:, 0] > 0).long()),
    'nll': lambda L, F, a: F.nll_loss(F.log_softmax(a['x'], 1), a['t']),
    'nll_3d': lambda L, F, a: F.nll_loss(a['y3'].transpose(1, 2), a['t'][None].expand(2, 4)),
    'mse': lambda L, F, a: F.mse_loss(a['x'], a['z']),
    'mse_sum': lambda L, F, a: F.mse_loss(a['x'], a['z'], reduction='sum'),
    'mse_none': lambda L, F, a: F.mse_loss(a['x'], a['z'], reduction='none'),
    'mse_both': lambda L, F, a: F.mse_loss(a['x'], a['x'] * 2),
    'l1': lambda L, F, a: F.l1_loss(a['x'], a['z']),
    'bce': lambda L, F, a: F.binary_cross_entropy(L.sigmoid(a['x']), a['p']),
    'bce_sum': lambda L, F, a: F.binary_cross_entropy(L.sigmoid(a['x']), a['p'], reduction='sum'),
    'bce_none': lambda L, F, a: F.binary_cross_entropy(L.sigmoid(a['x']), a['p'], reduction='none'),
    'bce_logits': lambda L, F, a: F.binary_cross_entropy_with_logits(a['x'], a['p']),
    'bce_logits_none': lambda L, F, a: F.binary_cross_entropy_with_logits(a['x'], a['p'], reduction='none'),
    'bce_logits_pos_weight': lambda L, F, a: F.binary_cross_entropy_with_logits(a['x'], a['p'], pos_weight=a['one'][0]),
    'smooth_l1': lambda L, F, a: F.smooth_l1_loss(a['x'], a['z']),
    'smooth_l1_none': lambda L, F, a: F.smooth_l1_loss(a['x'], a['z'], reduction='none'),
    'smooth_l1_beta0': lambda L, F, a: F.smooth_l1_loss(a['x'], a['z'], beta=0.0),
    'huber': lambda L, F, a: F.huber_loss(a['x'], a['z']),
    'huber_none': lambda L, F, a: F.huber_loss(a['x'], a['z'], reduction='none'),
    'kl_div': lambda L, F, a: F.kl_div(F.log_softmax(a['x'], 1), a['p'], reduction='batchmean'),
    # layers
    'linear_2d': lambda L, F, a: F.linear(a['x'], a['w'], a['b']),
    'linear_3d': lambda L, F, a: F.linear(a['y3'], a['w'], a['b']),
    'linear_1d': lambda L, F, a: F.linear(a['v'], a['w'], a['b']),
    'linear_no_bias': lambda L, F, a: F.linear(a['x'], a['w']),
    'linear_no_bias_3d': lambda L, F, a: F.linear(a['y3'], a['w']),
    'linear_no_bias_1d': lambda L, F, a: F.linear(a['v'], a['w']),
    'conv1d': lambda L, F, a: F.conv1d(a['s1'], a['k1']),
    'conv2d': lambda L, F, a: F.conv2d(a['img'], a['k2'], padding=1),
    'conv_transpose2d': lambda L, F, a: F.conv_transpose2d(a['img'], a['kt']),
    'max_pool1d': lambda L, F, a: F.max_pool1d(a['s1'], 2),
    'max_pool2d': lambda L, F, a: F.max_pool2d(a['img'], 2),
    'max_pool2d_indices': lambda L, F, a: F.max_pool2d(a['img'], 2, return_indices=True)[0],
    'max_pool3d': lambda L, F, a: F.max_pool3d(a['vol'], 2),
    'avg_pool1d': lambda L, F, a: F.avg_pool1d(a['s1'], 2),
    'avg_pool2d': lambda L, F, a: F.avg_pool2d(a['img'], 2),
    'avg_pool3d': lambda L, F, a: F.avg_pool3d(a['vol'], 2),
    'adaptive_avg_1': lambda L, F, a: F.adaptive_avg_pool2d(a['img'], 1),
    'adaptive_avg_2': lambda L, F, a: F.adaptive_avg_pool2d(a['img'], 2),
    'adaptive_avg_1d': lambda L, F, a: F.adaptive_avg_pool1d(a['s1'], 3),
    'adaptive_avg_3d': lambda L, F, a: F.adaptive_avg_pool3d(a['vol'], 2),
    'adaptive_max_2': lambda L, F, a: F.adaptive_max_pool2d(a['img'], 2),
    'adaptive_max_1d': lambda L, F, a: F.adaptive_max_pool1d(a['s1'], 2),
    'layer_norm': lambda L, F, a: F.layer_norm(a['x'], (3,)),
    'layer_norm_affine': lambda L, F, a: F.layer_norm(a['x'], (3,), a['w'][0], a['b']),
    'batch_norm_train': lambda L, F, a: F.batch_norm(a['x'], None, None, training=True),
    'batch_norm_eval': lambda L, F, a: F.batch_norm(a['x'], a['z'][0], a['one'][0]),
    'group_norm': lambda L, F, a: F.group_norm(a['img'], 1),
    'instance_norm': lambda L, F, a: F.instance_norm(a['img']),
    'pad': lambda L, F, a: F.pad(a['x'], (1, 1)),
    'pad_reflect_1d': lambda L, F, a: F.pad(a['s1'], (2, 1), mode='reflect'),
    'pad_reflect_2d': lambda L, F, a: F.pad(a['img'], (1, 1, 2, 0), mode='reflect'),
    'pad_replicate_1d': lambda L, F, a: F.pad(a['x'], (1, 2), mode='replicate'),
    'pad_replicate_3d': lambda L, F, a: F.pad(a['vol'], (1, 1, 1, 1, 1, 1), mode='replicate'),
    'interpolate_nearest': lambda L, F, a: F.interpolate(a['img'], scale_factor=2),
    'interpolate_nearest_1d': lambda L, F, a: F.interpolate(a['s1'], scale_factor=2),
    'interpolate_bilinear': lambda L, F, a: F.interpolate(a['img'], scale_factor=2, mode='bilinear'),
    'interpolate_linear': lambda L, F, a: F.interpolate(a['s1'], size=9, mode='linear'),
    'interpolate_bicubic': lambda L, F, a: F.interpolate(a['img'], size=8, mode='bicubic'),
    'interpolate_trilinear': lambda L, F, a: F.interpolate(a['vol'], scale_factor=2, mode='trilinear'),
    'interpolate_area': lambda L, F, a: F.interpolate(a['img'], size=3, mode='area'),
    'sdpa': lambda L, F, a: F.scaled_dot_product_attention(a['y3'], a['y3'], a['y3']),
    # reductions
    'sum': lambda L, F, a: a['x'].sum(), 'sum_dim': lambda L, F, a: a['x'].sum(1),
    'sum_dims': lambda L, F, a: L.sum(a['x'], (0, 1)), 'sum_keepdim': lambda L, F, a: a['x'].sum(-1, keepdim=True),
    'mean': lambda L, F, a: a['x'].mean(), 'mean_dim': lambda L, F, a: a['x'].mean(1),
    'max': lambda L, F, a: a['x'].max(), 'min': lambda L, F, a: L.min(a['x']),
    'max_dim': lambda L, F, a: a['x'].max(1)[0], 'min_dim': lambda L, F, a: a['x'].min(dim=1).values,
    'amax': lambda L, F, a: a['x'].amax(1), 'amin': lambda L, F, a: a['x'].amin(),
    'norm': lambda L, F, a: a['x'].norm(), 'vector_norm': lambda L, F, a: L.linalg.vector_norm(a['x'], 1, dim=1),
    'logsumexp': lambda L, F, a: a['x'].logsumexp(1),
    'topk': lambda L, F, a: a['x'].topk(2)[0], 'topk_all': lambda L, F, a: L.topk(a['x'], 3).values,
    # shapes and indexing
    'view': lambda L, F, a: a['x'].view(12), 'reshape': lambda L, F, a: a['x'].reshape(2, 6),
    'flatten': lambda L, F, a: a['img'].flatten(1), 'view_as': lambda L, F, a: a['x'].view_as(a['z']),
    'transpose': lambda L, F, a: a['x'].transpose(0, 1), 'swapaxes': lambda L, F, a: a['y3'].swapaxes(1, 2),
    'mT': lambda L, F, a: a['y3'].mT, 't': lambda L, F, a: a['x'].t(), 'torch_t': lambda L, F, a: L.t(a['x']),
    'T': lambda L, F, a: a['x'].T, 'permute': lambda L, F, a: a['img'].permute(0, 2, 3, 1),
    'squeeze': lambda L, F, a: a['x'][None].squeeze(), 'squeeze_dim': lambda L, F, a: a['x'][None].squeeze(0),
    'squeeze_dims': lambda L, F, a: a['x'][None, None].squeeze((0, 1)),
    'unsqueeze': lambda L, F, a: a['x'].unsqueeze(0),
    'expand': lambda L, F, a: a['x'][:1].expand(4, 3), 'broadcast_to': lambda L, F, a: L.broadcast_to(a['v'], (4, 3)),
    'expand_as': lambda L, F, a: a['v'].expand_as(a['x']),
    'select': lambda L, F, a: a['x'][0], 'select_col': lambda L, F, a: a['x'][:, 1], 'select_last': lambda L, F, a: a['x'][-1],
    'slice_then_select': lambda L, F, a: a['x'][1:, 0], 'select_then_slice': lambda L, F, a: a['x'][0, 1:],
    'select_ellipsis': lambda L, F, a: a['y3'][..., 0], 'select_both': lambda L, F, a: a['x'][0, 1],
    'index_none': lambda L, F, a: a['x'][None], 'slice': lambda L, F, a: a['x'][1:], 'slice_all': lambda L, F, a: a['x'][:],
    'slice_step': lambda L, F, a: a['img'][:, :, ::2], 'select_dim': lambda L, F, a: a['y3'].select(1, 2),
    'index_tensor': lambda L, F, a: a['x'][a['t']], 'index_select': lambda L, F, a: a['x'].index_select(0, a['t']),
    'cat': lambda L, F, a: L.cat([a['x'], a['x']]), 'stack': lambda L, F, a: L.stack([a['x'], a['x']]),
    # products
    'mm_operator': lambda L, F, a: a['x'] @ a['w'], 'mm': lambda L, F, a: L.mm(a['x'], a['w']),
    'matmul_2d': lambda L, F, a: L.matmul(a['x'], a['w']), 'mv': lambda L, F, a: L.mv(a['x'], a['v']),
    'dot': lambda L, F, a: a['v'] @ a['v'], 'bmm': lambda L, F, a: L.bmm(a['y3'], a['y3'].transpose(1, 2)),
    'matmul_3d': lambda L, F, a: a['y3'] @ a['y3'].transpose(1, 2), 'matmul_3d_2d': lambda L, F, a: a['y3'] @ a['w'],
    # arithmetic
    'add': lambda L, F, a: a['x'] + a['x'], 'sub_number': lambda L, F, a: a['x'] - 1,
    'rsub': lambda L, F, a: 1 - a['x'], 'torch_rsub': lambda L, F, a: L.rsub(a['x'], 1),
    'torch_rsub_tensor': lambda L, F, a: L.rsub(a['x'], a['z']),
    'rdiv': lambda L, F, a: 1 / a['x'], 'rdiv_float': lambda L, F, a: 2.5 / a['x'], 'div': lambda L, F, a: a['x'] / 2,
    'div_floor': lambda L, F, a: a['x'].div(2, rounding_mode='floor'),
    'div_trunc': lambda L, F, a: a['x'].div(a['one'], rounding_mode='trunc'),
    'pow_number': lambda L, F, a: a['x'] ** 2, 'pow_tensor': lambda L, F, a: a['x'].abs() ** a['x'],
    'pow_number_base': lambda L, F, a: 2 ** a['x'], 'torch_pow': lambda L, F, a: L.pow(a['x'].abs(), a['z']),
    'square': lambda L, F, a: a['x'].square(),
    'clamp': lambda L, F, a: a['x'].clamp(0, 1), 'clamp_min_kw': lambda L, F, a: a['x'].clamp(min=0),
    'clip': lambda L, F, a: a['x'].clip(-1, 1), 'clamp_tensor': lambda L, F, a: a['x'].clamp(min=a['z']),
    'clamp_min': lambda L, F, a: a['x'].clamp_min(0), 'clamp_max': lambda L, F, a: a['x'].clamp_max(0.5),
    'clamp_min_tensor': lambda L, F, a: L.clamp_min(a['x'], a['z']),
    'clamp_max_tensor': lambda L, F, a: a['x'].clamp_max(a['z']),
    # activations (names already PyTorch's)
    'relu': lambda L, F, a: F.relu(a['x']), 'gelu': lambda L, F, a: F.gelu(a['x']),
    'softmax': lambda L, F, a: F.softmax(a['x'], 1), 'log_softmax': lambda L, F, a: F.log_softmax(a['x'], 1),
    'cosine_similarity': lambda L, F, a: F.cosine_similarity(a['x'], a['z']),
}
RANDOM = {'dropout': lambda L, F, a: F.dropout(a['x'], 0.5, True),
          'dropout2d': lambda L, F, a: F.dropout2d(a['img'], 0.5, True)}


def _run(case, lib, F):
    a = _inputs(lib)
    return a, {**CASES, **RANDOM}[case](lib, F, a)


def _grad_fn_part(t):
    return re.search(r'grad_fn=<(\w+)>', repr(t)).group(1)


@pytest.mark.parametrize('case', list(CASES) + list(RANDOM))
def test_node_name_is_pytorchs(case):
    _, theirs = _run(case, torch, F_torch)
    a, ours = _run(case, autograd, F_ours)
    assert ours.grad_fn.name() == theirs.grad_fn.name(), case
    assert _grad_fn_part(ours) == _grad_fn_part(theirs) == theirs.grad_fn.name()
    assert ours.device.type == (os.environ.get('AUTOGRAD_DEVICE') or 'cpu').split(':')[0]


@pytest.mark.parametrize('case', list(CASES))
def test_named_node_computes_what_it_did(case):
    """The values and the gradients (of a weighted sum of the output) are PyTorch's: a node
    given PyTorch's name still computes, and differentiates, what it did."""
    at, theirs = _run(case, torch, F_torch)
    a, ours = _run(case, autograd, F_ours)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-9, atol=1e-11)
    weights = rand(*theirs.shape, seed=7)
    leaves = [k for k, (_, rg) in INPUTS.items() if rg]
    g_theirs = torch.autograd.grad((theirs * torch.tensor(weights)).sum(),
                                   [at[k] for k in leaves], allow_unused=True)
    g_ours = autograd.grad((ours * autograd.tensor(weights)).sum(), [a[k] for k in leaves],
                           allow_unused=True)
    for k, gt, go in zip(leaves, g_theirs, g_ours):
        assert (gt is None) == (go is None), (case, k)
        if gt is not None:
            np.testing.assert_allclose(to_numpy(go), to_numpy(gt), rtol=1e-8, atol=1e-10,
                                       err_msg=f'{case}: d/d{k}')


def test_renamed_changes_the_name_alone():
    x = autograd.tensor(rand(4, 3, seed=1), requires_grad=True)
    y = (x * x).mean()
    node = y.grad_fn
    assert renamed(y, 'MseLossBackward0') is y and y.grad_fn is node
    assert node.name() == 'MseLossBackward0' and type(node).__name__ == 'Mean'
    assert repr(y).endswith('grad_fn=<MseLossBackward0>)')
    assert isinstance(node, autograd.ops.reduction.Mean)
    g, = autograd.grad(y, x, create_graph=True)     # backward (and its graph) unchanged
    np.testing.assert_allclose(to_numpy(g), 2 * to_numpy(x) / 12)
    gg, = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(to_numpy(gg), np.full((4, 3), 2 / 12))
    renamed(y, 'OtherBackward0')                     # renamed again: from the op class
    assert node.name() == 'OtherBackward0' and type(node).__mro__[1].__name__ == 'Mean'
    assert type(node).__mro__[2] is autograd.op.Op
    leaf = autograd.tensor([1.0], requires_grad=True)
    assert renamed(leaf, 'XBackward0') is leaf and leaf.grad_fn is None    # no node: nothing


def test_named_is_one_subclass_per_name():
    from autograd.ops.shape import Permute
    T1 = named(Permute, 'TransposeBackward0')
    assert named(Permute, 'TransposeBackward0') is T1 and issubclass(T1, Permute)
    assert named(T1, 'TBackward0') is named(Permute, 'TBackward0')      # from the op class
    assert T1.__name__ == 'Permute' and T1.torch_name == 'TransposeBackward0'
    assert Permute.torch_name is None
    x = autograd.tensor(rand(2, 3, seed=2), requires_grad=True)
    assert T1.apply(x, dims=(1, 0)).grad_fn.name() == 'TransposeBackward0'
    assert x.permute(1, 0).grad_fn.name() == 'PermuteBackward0'


def test_graph_picture_shows_pytorchs_names():
    from autograd import viz
    x = autograd.tensor(rand(4, 3, seed=3), requires_grad=True)
    loss = F_ours.cross_entropy(F_ours.linear(x, x[:3] * 1.0), autograd.tensor([0, 1, 2, 0]))
    dot = viz.to_dot(loss, view='backward')
    assert 'NllLossBackward0' in dot and 'AddmmBackward0' not in dot and 'MmBackward0' in dot
    assert 'ClassLoss' not in dot and 'LinearBackward0' not in dot

"""nn.utils.prune against PyTorch's torch.nn.utils.prune: the same layer, same weights,
pruned by both.  Deterministic methods must give identical masks (equal magnitudes
resolved as PyTorch's topk resolves them), state-dict keys and values, outputs and
gradients; random methods the right counts and structure."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from nn.utils import prune
from oracle import to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')
torch_prune = torch_module('torch.nn.utils.prune')
LIBS = ((torch, torch_nn, torch_prune), (autograd, nn, prune))


def _ties(*shape, seed=0, levels=3):
    """float64 values from a few levels, so that many magnitudes are equal."""
    rng = np.random.default_rng(seed)
    return rng.integers(-levels, levels + 1, shape).astype(np.float64)


def _pair(build, seed=0, values=None):
    """PyTorch's layer and ours (float64) with the same parameters (``values``: the
    weight's, else PyTorch's initialisation)."""
    torch.manual_seed(seed)
    theirs = build(torch_nn).double()
    if values is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(values))
    ours = build(nn).double()
    ours.load_state_dict({k: autograd.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})
    return theirs, ours


def _assert_same_state(theirs, ours):
    t, o = theirs.state_dict(), ours.state_dict()
    assert list(o) == list(t)
    for k in t:
        np.testing.assert_array_equal(to_numpy(o[k]), to_numpy(t[k]), err_msg=k)


def _assert_same_passes(theirs, ours, x):
    """Forward, then backward of a weighted sum: outputs and every parameter's gradient."""
    w = np.random.default_rng(7).normal(size=tuple(theirs(torch.tensor(x)).shape))
    outs = []
    for lib, layer in ((torch, theirs), (autograd, ours)):
        layer.zero_grad()
        y = layer(lib.tensor(x))
        (y * lib.tensor(w)).sum().backward()
        outs.append((to_numpy(y), {k: to_numpy(p.grad) for k, p in layer.named_parameters()}))
    (yt, gt), (yo, go) = outs
    np.testing.assert_allclose(yo, yt, rtol=1e-12, atol=1e-12)
    assert list(go) == list(gt)
    for k in gt:
        np.testing.assert_allclose(go[k], gt[k], rtol=1e-12, atol=1e-12, err_msg=k)


def _linear(lnn):
    return lnn.Linear(8, 6)


@pytest.mark.parametrize('amount', [0, 5, 48, 0.0, 0.3, 0.5, 1.0])
def test_l1_unstructured_matches_pytorch(amount):
    theirs, ours = _pair(_linear, values=_ties(6, 8))
    torch_prune.l1_unstructured(theirs, 'weight', amount)
    assert prune.l1_unstructured(ours, 'weight', amount) is ours
    _assert_same_state(theirs, ours)
    assert list(dict(ours.named_parameters())) == ['bias', 'weight_orig']
    assert list(dict(ours.named_buffers())) == ['weight_mask']
    assert not isinstance(ours.weight, nn.Parameter)
    _assert_same_passes(theirs, ours, _ties(4, 8, seed=1))
    assert int((to_numpy(ours.weight_mask) == 0).sum()) == (
        amount if isinstance(amount, int) else round(amount * 48))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(1, 300), levels=st.integers(0, 4), frac=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**16))
def test_l1_mask_breaks_ties_as_pytorch_topk(n, levels, frac, seed):
    # many equal magnitudes: which of them are pruned is topk's choice (nth_element, or a
    # heap select when 64 k <= n), replayed by prune._topk_positions
    t = _ties(n, seed=seed, levels=levels)
    amount = frac if seed % 2 else int(frac * n / 64 if seed % 3 else frac * n)
    masks = [to_numpy(p.L1Unstructured(amount).compute_mask(lib.tensor(t), lib.ones(n)))
             for lib, _, p in LIBS]
    np.testing.assert_array_equal(masks[1], masks[0])


@pytest.mark.parametrize('n', [1, 2, float('inf'), float('-inf'), 0])
@pytest.mark.parametrize('dim', [0, 1, -1])
def test_ln_structured_matches_pytorch(n, dim):
    build = (lambda lnn: lnn.Conv2d(4, 5, 3))
    theirs, ours = _pair(build, values=_ties(5, 4, 3, 3, seed=3, levels=1))
    torch_prune.ln_structured(theirs, 'weight', amount=0.4, n=n, dim=dim)
    prune.ln_structured(ours, 'weight', amount=0.4, n=n, dim=dim)
    _assert_same_state(theirs, ours)
    mask = to_numpy(ours.weight_mask)
    kept = mask.sum(axis=tuple(d for d in range(4) if d != dim % 4))
    assert set(kept.tolist()) <= {0.0, mask.size / mask.shape[dim]}      # whole channels
    _assert_same_passes(theirs, ours, _ties(2, 4, 5, 5, seed=4))


@pytest.mark.parametrize('n', [2, 'fro', 3])
def test_ln_structured_of_a_matrix(n):
    theirs, ours = _pair(_linear, values=_ties(6, 8, seed=17, levels=2))
    torch_prune.ln_structured(theirs, 'weight', amount=0.5, n=n, dim=1)
    prune.ln_structured(ours, 'weight', amount=0.5, n=n, dim=1)
    _assert_same_state(theirs, ours)


def test_importance_scores_rank_instead_of_the_weight():
    scores = _ties(6, 8, seed=5)
    theirs, ours = _pair(_linear)
    torch_prune.l1_unstructured(theirs, 'weight', 10, importance_scores=torch.tensor(scores))
    prune.l1_unstructured(ours, 'weight', 10, importance_scores=autograd.tensor(scores))
    _assert_same_state(theirs, ours)
    theirs, ours = _pair(_linear)
    torch_prune.ln_structured(theirs, 'weight', 2, 1, 0, importance_scores=torch.tensor(scores))
    prune.ln_structured(ours, 'weight', 2, 1, 0, importance_scores=autograd.tensor(scores))
    _assert_same_state(theirs, ours)


def test_iterative_pruning_composes_masks_as_pytorch():
    build = (lambda lnn: lnn.Conv2d(3, 6, 2))
    theirs, ours = _pair(build, values=_ties(6, 3, 2, 2, seed=6))
    mask = (np.random.default_rng(0).uniform(size=(6, 3, 2, 2)) > 0.2).astype(np.float64)
    steps = [('l1_unstructured', dict(amount=0.2)),
             ('ln_structured', dict(amount=2, n=2, dim=0)),
             ('l1_unstructured', dict(amount=7)),
             ('custom_from_mask', dict(mask=mask)),
             ('ln_structured', dict(amount=1, n=1, dim=1)),
             ('identity', {})]
    for name, kwargs in steps:
        for lib, _, p in LIBS:
            args = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in kwargs.items()}
            getattr(p, name)(theirs if lib is torch else ours, 'weight', **args)
        _assert_same_state(theirs, ours)
    hooks = [h for h in ours._forward_pre_hooks.values()]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert [type(m).__name__ for m in hooks[0]] == [
        'L1Unstructured', 'LnStructured', 'L1Unstructured', 'CustomFromMask', 'LnStructured',
        'Identity']
    _assert_same_passes(theirs, ours, _ties(2, 3, 4, 4, seed=7))


def test_global_unstructured_matches_pytorch():
    build = (lambda lnn: lnn.Sequential(lnn.Linear(5, 4), lnn.Linear(4, 3)))
    torch.manual_seed(1)
    theirs = build(torch_nn).double()
    with torch.no_grad():
        theirs[0].weight.copy_(torch.tensor(_ties(4, 5, seed=8)))
        theirs[1].weight.copy_(torch.tensor(_ties(3, 4, seed=9)))
    ours = build(nn).double()
    ours.load_state_dict({k: autograd.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})
    torch_prune.l1_unstructured(theirs[1], 'weight', 3)        # an earlier mask is respected
    prune.l1_unstructured(ours[1], 'weight', 3)
    for lib, layer, p in ((torch, theirs, torch_prune), (autograd, ours, prune)):
        pairs = [(layer[0], 'weight'), (layer[1], 'weight'), (layer[0], 'bias')]
        scores = {(layer[0], 'bias'): lib.tensor(_ties(4, seed=18))}    # ranks the bias
        p.global_unstructured(pairs, p.L1Unstructured, importance_scores=scores, amount=0.5)
    _assert_same_state(theirs, ours)
    _assert_same_passes(theirs, ours, _ties(3, 5, seed=10))


def test_random_unstructured_prunes_the_right_count():
    autograd.manual_seed(0)
    lin = nn.Linear(10, 7)
    prune.random_unstructured(lin, 'weight', amount=0.3)
    mask = to_numpy(lin.weight_mask)
    assert set(np.unique(mask).tolist()) == {0.0, 1.0} and (mask == 0).sum() == 21
    prune.random_unstructured(lin, 'weight', amount=10)       # of the 49 still unpruned
    mask2 = to_numpy(lin.weight_mask)
    assert (mask2 == 0).sum() == 31 and np.all(mask2[mask == 0] == 0)
    np.testing.assert_array_equal(to_numpy(lin.weight), to_numpy(lin.weight_orig) * mask2)


def test_random_structured_prunes_whole_channels():
    autograd.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3)
    prune.random_structured(conv, 'weight', amount=0.25, dim=0)
    mask = to_numpy(conv.weight_mask)
    per_channel = mask.reshape(8, -1)
    assert set(per_channel.min(1).tolist()) == {0.0, 1.0}
    assert np.all(per_channel.min(1) == per_channel.max(1)) and (per_channel.max(1) == 0).sum() == 2
    prune.random_structured(conv, 'weight', amount=1, dim=1)
    per_in = to_numpy(conv.weight_mask).transpose(1, 0, 2, 3).reshape(3, -1)
    assert (per_in.max(1) == 0).sum() == 1


def test_forward_hook_recomputes_weight_from_orig():
    theirs, ours = _pair(_linear, values=_ties(6, 8, seed=11))
    for lib, layer, p in ((torch, theirs, torch_prune), (autograd, ours, prune)):
        p.l1_unstructured(layer, 'weight', 0.5)
        with lib.no_grad():
            layer.weight_orig.mul_(2.0)
    _assert_same_passes(theirs, ours, _ties(3, 8, seed=12))
    np.testing.assert_array_equal(to_numpy(ours.weight),
                                  2 * _ties(6, 8, seed=11) * to_numpy(ours.weight_mask))
    # the gradient reaches weight_orig only where the mask keeps it
    assert np.all(to_numpy(ours.weight_orig.grad)[to_numpy(ours.weight_mask) == 0] == 0)


def test_pruned_output_derivatives_by_finite_differences():
    # prune(w) = mask(w) * w, the mask piecewise constant (no ties among normal draws)
    method = prune.L1Unstructured(5)
    w = autograd.tensor(np.random.default_rng(13).normal(size=(3, 4)), requires_grad=True)
    x = autograd.tensor(np.random.default_rng(14).normal(size=(2, 4)), requires_grad=True)

    def f(w, x):
        return nn.functional.linear(x, method.prune(w)) ** 2

    assert autograd.gradcheck(f, (w, x))
    assert autograd.gradgradcheck(f, (w, x))


def test_remove_makes_pruning_permanent():
    theirs, ours = _pair(_linear, values=_ties(6, 8, seed=14))
    for layer, p in ((theirs, torch_prune), (ours, prune)):
        p.l1_unstructured(layer, 'weight', 0.5)
        p.l1_unstructured(layer, 'bias', 2)
        assert p.is_pruned(layer)
        p.remove(layer, 'weight')
        p.remove(layer, 'bias')
        assert not p.is_pruned(layer)
    _assert_same_state(theirs, ours)
    assert isinstance(ours.weight, nn.Parameter) and not ours._forward_pre_hooks
    assert not prune.is_pruned(nn.Sequential(nn.Linear(2, 2)))
    seq = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    prune.identity(seq[1], 'bias')
    assert prune.is_pruned(seq)


def test_pruned_state_dict_loads_into_pruned_model():
    theirs, ours = _pair(_linear, values=_ties(6, 8, seed=15))
    torch_prune.l1_unstructured(theirs, 'weight', 0.5)
    fresh = nn.Linear(8, 6).double()
    prune.identity(fresh, 'weight')
    fresh.load_state_dict({k: autograd.tensor(v.numpy().copy())
                           for k, v in theirs.state_dict().items()})
    fresh(autograd.zeros(1, 8, dtype=autograd.float64))         # the hook recomputes weight
    np.testing.assert_array_equal(to_numpy(fresh.weight), to_numpy(theirs.weight))


def test_prune_method_on_a_bare_tensor():
    t = _ties(4, 5, seed=16)
    outs = [to_numpy(p.L1Unstructured(0.4).prune(lib.tensor(t))) for lib, _, p in LIBS]
    np.testing.assert_array_equal(outs[1], outs[0])


@pytest.mark.parametrize('call, match', [
    (lambda p, m: p.l1_unstructured(m, 'weight', amount='a'), 'Invalid type for amount'),
    (lambda p, m: p.l1_unstructured(m, 'weight', amount=-1), 'non-negative integer'),
    (lambda p, m: p.l1_unstructured(m, 'weight', amount=1.5), 'float in the range'),
    (lambda p, m: p.l1_unstructured(m, 'weight', amount=49), 'should be smaller than'),
    (lambda p, m: p.ln_structured(m, 'bias', amount=1, n=2, dim=0), 'multidimensional'),
    (lambda p, m: p.random_structured(m, 'weight', amount=1, dim=2), 'Invalid index 2'),
    (lambda p, m: p.remove(m, 'weight'), 'has to be pruned before'),
    (lambda p, m: p.global_unstructured([(m, 'weight')], p.LnStructured, amount=1, n=1, dim=0),
     'Only "unstructured"'),
    (lambda p, m: p.global_unstructured([(m, 'weight')], p.L1Unstructured, importance_scores=[],
                                        amount=1), 'importance_scores must be of type dict'),
    (lambda p, m: p.l1_unstructured(m, 'weight', 1, importance_scores=m.bias), 'same shape'),
])
def test_bad_input_raises_as_pytorch(call, match):
    theirs, ours = _pair(_linear)
    with pytest.raises(Exception) as expected:
        call(torch_prune, theirs)
    with pytest.raises(type(expected.value), match=match):
        call(prune, ours)
    # a failed first pruning leaves the module as it was
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_masks_live_on_the_module_device():
    lin = nn.Linear(5, 4)
    prune.l1_unstructured(lin, 'weight', 0.5)
    prune.ln_structured(lin, 'weight', 1, 2, 0)
    assert lin.weight_mask.device == lin.weight_orig.device == lin.weight.device
    assert lin.weight_mask.dtype == lin.weight_orig.dtype
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        lin(autograd.ones(2, 5))

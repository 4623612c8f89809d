"""optim.swa_utils against PyTorch's torch.optim.swa_utils: both averaged models fed the
same sequence of model states must hold the same averages (and the closed forms: the
mean, the exponential recurrence); SWALR's learning rates step by step; update_bn's
statistics on the same data."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import optim
from optim import swa_utils
from oracle import to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')
torch_optim = torch_module('torch.optim')
torch_swa = torch_module('torch.optim.swa_utils')
TOL = dict(rtol=1e-13, atol=1e-15)


def _build(lnn):
    return lnn.Sequential(lnn.Linear(3, 4), lnn.BatchNorm1d(4), lnn.ReLU(), lnn.Linear(4, 2))


def _snapshots(model, count, seed=0):
    """``count`` random states of ``model``'s keys (floats normal, integers counts)."""
    rng = np.random.default_rng(seed)
    states = []
    for _ in range(count):
        state = {}
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                state[k] = rng.normal(size=tuple(v.shape))
            else:
                state[k] = np.array(rng.integers(0, 100), dtype=np.int64)
        states.append(state)
    return states


def _load(lib, model, state):
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})


def _average_both(make_kwargs, count=5, use_buffers=False):
    """Feed both libraries' AveragedModel the same states, comparing the averages after
    every update; return both averaged models and the states."""
    torch.manual_seed(0)
    theirs_live = _build(torch_nn).double()
    ours_live = _build(nn).double()
    states = _snapshots(theirs_live, count)
    models = []
    for lib, swa, live in ((torch, torch_swa, theirs_live), (autograd, swa_utils, ours_live)):
        _load(lib, live, states[0])
        models.append((lib, live, swa.AveragedModel(live, use_buffers=use_buffers,
                                                    **make_kwargs(swa))))
    for state in states:
        for lib, live, averaged in models:
            _load(lib, live, state)
            averaged.update_parameters(live)
        _assert_same(models[0][2], models[1][2])
    return models[0][2], models[1][2], states


def _assert_same(theirs, ours):
    t, o = theirs.state_dict(), ours.state_dict()
    assert list(o) == list(t)
    for k in t:
        np.testing.assert_allclose(to_numpy(o[k]), to_numpy(t[k]), err_msg=k, **TOL)
        assert to_numpy(o[k]).dtype == to_numpy(t[k]).dtype, k


CASES = {
    'swa': lambda swa: {},
    'ema_avg_fn': lambda swa: dict(avg_fn=swa.get_ema_avg_fn(0.9)),
    'swa_avg_fn': lambda swa: dict(avg_fn=swa.get_swa_avg_fn()),
    'ema_multi': lambda swa: dict(multi_avg_fn=swa.get_ema_multi_avg_fn(0.8)),
    'swa_multi': lambda swa: dict(multi_avg_fn=swa.get_swa_multi_avg_fn()),
}


@pytest.mark.parametrize('case', list(CASES))
def test_averages_match_pytorch(case):
    theirs, ours, states = _average_both(CASES[case])
    _assert_same(theirs, ours)
    assert ours.n_averaged.item() == 5 and ours.n_averaged.dtype == autograd.int64
    assert list(ours.state_dict())[:2] == ['n_averaged', 'module.0.weight']
    # buffers are not averaged: they are the last model's
    np.testing.assert_array_equal(to_numpy(ours.module[1].running_mean),
                                  states[-1]['1.running_mean'])


@pytest.mark.parametrize('case', ['swa', 'ema_avg_fn', 'ema_multi'])
def test_averaged_buffers_match_pytorch(case):
    theirs, ours, _ = _average_both(CASES[case], use_buffers=True)
    _assert_same(theirs, ours)


def test_swa_is_the_mean_and_ema_the_recurrence():
    _, swa, states = _average_both(CASES['swa'])
    _, ema, _ = _average_both(CASES['ema_avg_fn'])
    key = '0.weight'
    np.testing.assert_allclose(to_numpy(swa.module.state_dict()[key]),
                               np.mean([s[key] for s in states], axis=0), rtol=1e-12)
    expected = states[0][key]
    for s in states[1:]:
        expected = 0.9 * expected + 0.1 * s[key]
    np.testing.assert_allclose(to_numpy(ema.module.state_dict()[key]), expected, rtol=1e-12)


def test_averaged_model_forward_and_independence():
    model = _build(nn).double()
    averaged = swa_utils.AveragedModel(model, device=autograd.tensor(0.0).device)
    assert averaged.module is not model and averaged.module[0].weight is not model[0].weight
    model.eval()
    averaged.eval()
    x = autograd.tensor(np.random.default_rng(1).normal(size=(2, 3)))
    np.testing.assert_array_equal(to_numpy(averaged(x)), to_numpy(model(x)))
    with autograd.no_grad():
        model[0].weight.add_(1.0)
    assert not np.array_equal(to_numpy(averaged(x)), to_numpy(model(x)))


def test_averaged_model_argument_errors():
    for lib, swa in ((torch_nn, torch_swa), (nn, swa_utils)):
        with pytest.raises(AssertionError, match='Only one of avg_fn and multi_avg_fn'):
            swa.AveragedModel(lib.Linear(2, 2), avg_fn=swa.get_swa_avg_fn(),
                              multi_avg_fn=swa.get_swa_multi_avg_fn())
        for fn in (swa.get_ema_avg_fn, swa.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match='Invalid decay value 1.5'):
                fn(1.5)


# ---------------------------------------------------------------- SWALR
def _lr_sequences(swa_lr, anneal_epochs, strategy, steps=8, lrs=(1.0, 0.3)):
    seqs = []
    for lib, lnn, lopt, swa in ((torch, torch_nn, torch_optim, torch_swa),
                                (autograd, nn, optim, swa_utils)):
        groups = [{'params': [lnn.Parameter(lib.zeros(2))], 'lr': lr} for lr in lrs]
        opt = lopt.SGD(groups, lr=lrs[0])
        sched = swa.SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                          anneal_strategy=strategy)
        seq = [sched.get_last_lr()]
        for _ in range(steps):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    return seqs


@settings(max_examples=25, deadline=None, derandomize=True)
@given(swa_lr=st.one_of(st.floats(0.0, 2.0), st.tuples(st.floats(0.0, 2.0), st.floats(0.0, 2.0))),
       anneal_epochs=st.integers(0, 6), strategy=st.sampled_from(['cos', 'linear']))
def test_swalr_learning_rates_match_pytorch(swa_lr, anneal_epochs, strategy):
    theirs, ours = _lr_sequences(list(swa_lr) if isinstance(swa_lr, tuple) else swa_lr,
                                 anneal_epochs, strategy)
    assert ours == theirs


def test_swalr_reaches_swa_lr_by_the_cosine():
    _, ours = _lr_sequences(0.1, 4, 'cos', lrs=(1.0,))
    # hand-derived: lr_t = swa + (lr0 - swa) (1 + cos(pi t / T)) / 2 for t <= T
    expected = [[0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 4) / 4)) / 2] for t in range(9)]
    np.testing.assert_allclose(np.array(ours), np.array(expected), rtol=1e-12)


def test_swalr_state_dict_round_trip():
    opt = optim.SGD([nn.Parameter(autograd.zeros(1))], lr=1.0)
    sched = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3, anneal_strategy='linear')
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert 'anneal_func' not in state and state['_anneal_strategy'] == 'linear'
    opt2 = optim.SGD([nn.Parameter(autograd.zeros(1))], lr=1.0)
    other = swa_utils.SWALR(opt2, swa_lr=0.5, anneal_strategy='cos')
    other.load_state_dict(state)
    assert other.anneal_func(0.25) == 0.25 and other.anneal_epochs == 3


@pytest.mark.parametrize('kwargs', [dict(anneal_strategy='exp'), dict(anneal_epochs=-1),
                                    dict(anneal_epochs=1.5), dict(swa_lr=[0.1, 0.2, 0.3])])
def test_swalr_argument_errors_as_pytorch(kwargs):
    for lib, lnn, lopt, swa in ((torch, torch_nn, torch_optim, torch_swa),
                                (autograd, nn, optim, swa_utils)):
        opt = lopt.SGD([lnn.Parameter(lib.zeros(1))], lr=1.0)
        args = dict(swa_lr=0.1)
        args.update(kwargs)
        with pytest.raises(ValueError):
            swa.SWALR(opt, **args)


# ---------------------------------------------------------------- update_bn
def _bn_net(lnn):
    return lnn.Sequential(lnn.Conv2d(2, 3, 3), lnn.BatchNorm2d(3, momentum=0.3), lnn.ReLU(),
                          lnn.Flatten(), lnn.Linear(12, 4), lnn.BatchNorm1d(4))


@pytest.mark.parametrize('with_targets', [False, True])
def test_update_bn_matches_pytorch(with_targets):
    rng = np.random.default_rng(2)
    batches = [rng.normal(size=(n, 2, 4, 4)) for n in (5, 3, 4)]
    torch.manual_seed(0)
    theirs = _bn_net(torch_nn).double()
    ours = _bn_net(nn).double()
    ours.load_state_dict({k: autograd.tensor(v.numpy().copy())
                          for k, v in theirs.state_dict().items()})
    for lib, swa, model in ((torch, torch_swa, theirs), (autograd, swa_utils, ours)):
        model.eval()
        loader = [(lib.tensor(b), lib.zeros(len(b))) if with_targets else lib.tensor(b)
                  for b in batches]
        device = None if lib is torch else autograd.tensor(0.0).device
        swa.update_bn(loader, model, device=device)
        assert not model.training                            # the mode is restored
    t, o = theirs.state_dict(), ours.state_dict()
    assert list(o) == list(t)
    for k in t:
        np.testing.assert_allclose(to_numpy(o[k]), to_numpy(t[k]), rtol=1e-12, atol=1e-14,
                                   err_msg=k)
    assert ours[1].momentum == 0.3 and ours[5].momentum == 0.1
    assert ours[1].num_batches_tracked.item() == 3


def test_update_bn_without_batchnorm_does_nothing():
    model = nn.Linear(2, 2)
    model.eval()
    swa_utils.update_bn([autograd.ones(1, 2)], model)
    assert not model.training

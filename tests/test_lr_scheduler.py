"""Learning-rate schedulers against PyTorch: the same lr (and momentum) sequences, exactly."""
import math
import warnings

import numpy as np
import pytest

import autograd
import optim

from oracle import each_library, torch, torch_module

toptim = torch_module('torch.optim')


def make_optimizer(lib, mod, kind='SGD', lrs=(0.1, 0.03)):
    """Two param groups with different learning rates."""
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{'params': [p], 'lr': lr} for p, lr in zip(params, lrs)]
    extra = dict(momentum=0.9) if kind == 'SGD' else {}
    return getattr(mod, kind)(groups, **extra)


def record(opt, sched, steps, metrics=None):
    """lr, momentum and beta1 of every group after construction and after each step."""
    def snapshot():
        return [(g['lr'], g.get('momentum'), g.get('betas', (None,))[0])
                for g in opt.param_groups] + [tuple(sched.get_last_lr())]
    out = [snapshot()]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append(snapshot())
    return out


def run(build, steps=30, kind='SGD', metrics=None):
    """``build(mod, opt)`` makes the scheduler; returns (ours, PyTorch's) sequences."""
    result = []
    for lib, mod in ((autograd, optim), (torch, torch.optim)):
        opt = make_optimizer(lib, mod, kind)
        result.append(record(opt, build(mod, opt), steps, metrics))
    return result


SCHEDULERS = {
    'LambdaLR': lambda m, o: m.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e),
    'LambdaLR-per-group': lambda m, o: m.lr_scheduler.LambdaLR(
        o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** (e // 3)]),
    'MultiplicativeLR': lambda m, o: m.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9),
    'StepLR': lambda m, o: m.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    'MultiStepLR': lambda m, o: m.lr_scheduler.MultiStepLR(o, milestones=[5, 12, 12, 20],
                                                           gamma=0.3),
    'ConstantLR': lambda m, o: m.lr_scheduler.ConstantLR(o, factor=0.25, total_iters=6),
    'LinearLR': lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.9,
                                                     total_iters=10),
    'LinearLR-down': lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                                          total_iters=25),
    'ExponentialLR': lambda m, o: m.lr_scheduler.ExponentialLR(o, gamma=0.93),
    'CosineAnnealingLR': lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=10,
                                                                       eta_min=0.001),
    'PolynomialLR': lambda m, o: m.lr_scheduler.PolynomialLR(o, total_iters=20, power=2.0),
    'CosineAnnealingWarmRestarts': lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=1e-4),
    'CyclicLR-triangular': lambda m, o: m.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4),
    'CyclicLR-triangular2': lambda m, o: m.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode='triangular2'),
    'CyclicLR-exp_range': lambda m, o: m.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode='exp_range', gamma=0.95,
        base_momentum=0.7, max_momentum=0.95),
    'CyclicLR-scale_fn': lambda m, o: m.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn=lambda x: 0.5 ** x,
        scale_mode='iterations', cycle_momentum=False),
    'OneCycleLR-cos': lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.2],
                                                             total_steps=31),
    'OneCycleLR-linear': lambda m, o: m.lr_scheduler.OneCycleLR(
        o, max_lr=0.5, epochs=3, steps_per_epoch=11, anneal_strategy='linear', pct_start=0.25),
    'OneCycleLR-three-phase': lambda m, o: m.lr_scheduler.OneCycleLR(
        o, max_lr=0.5, total_steps=30, three_phase=True, div_factor=10.0,
        final_div_factor=100.0),
    'SequentialLR': lambda m, o: m.lr_scheduler.SequentialLR(
        o, [m.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
            m.lr_scheduler.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    'SequentialLR-three': lambda m, o: m.lr_scheduler.SequentialLR(
        o, [m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
            m.lr_scheduler.CosineAnnealingLR(o, T_max=8),
            m.lr_scheduler.StepLR(o, step_size=4)], milestones=[4, 14]),
    'ChainedScheduler': lambda m, o: m.lr_scheduler.ChainedScheduler(
        [m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
         m.lr_scheduler.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize('name', sorted(SCHEDULERS))
def test_sequence_matches_pytorch(name):
    ours, theirs = run(SCHEDULERS[name])
    assert ours == theirs


@pytest.mark.parametrize('name', ['OneCycleLR-cos', 'OneCycleLR-three-phase',
                                  'CyclicLR-triangular'])
def test_beta1_cycles_with_adam(name):
    ours, theirs = run(SCHEDULERS[name], kind='Adam')
    assert ours == theirs


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.5, 0.5, 0.5, 0.49995, 0.5, 0.6, 0.7,
           0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]


@pytest.mark.parametrize('kwargs', [
    dict(), dict(patience=2), dict(patience=1, factor=0.5, cooldown=2),
    dict(mode='max', patience=1, factor=0.5), dict(threshold_mode='abs', threshold=0.01,
                                                   patience=0),
    dict(mode='max', threshold_mode='abs', patience=2), dict(patience=0, min_lr=[0.01, 0.005]),
    dict(patience=0, factor=0.5, min_lr=0.02, eps=1e-3),
], ids=str)
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    ours, theirs = run(lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
                       metrics=METRICS)
    assert ours == theirs


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = make_optimizer(autograd, optim)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(autograd.tensor(1.0))
    sched.step(autograd.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.03 * 0.1]


@pytest.mark.parametrize('name', ['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR',
                                  'LinearLR', 'ConstantLR', 'PolynomialLR', 'LambdaLR',
                                  'CosineAnnealingWarmRestarts'])
def test_step_with_explicit_epoch_uses_the_closed_form_like_pytorch(name):
    epochs = [3, 7, 7, 2, 15, 9.5 if name == 'CosineAnnealingWarmRestarts' else 9, 0, 21]
    result = []
    for lib, mod in ((autograd, optim), (torch, torch.optim)):
        opt = make_optimizer(lib, mod)
        sched = SCHEDULERS[name](mod, opt)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for e in epochs:
                opt.step()
                sched.step(e)
                seq.append(tuple(sched.get_last_lr()))
        result.append(seq)
    assert result[0] == result[1]


@pytest.mark.parametrize('name', ['StepLR', 'CosineAnnealingLR', 'OneCycleLR-cos',
                                  'CyclicLR-exp_range', 'SequentialLR', 'ChainedScheduler',
                                  'CosineAnnealingWarmRestarts', 'LambdaLR'])
def test_state_dict_round_trip_continues_the_sequence(name):
    build = SCHEDULERS[name]
    opt = make_optimizer(autograd, optim)
    uninterrupted = record(opt, build(optim, opt), 20)

    opt = make_optimizer(autograd, optim)
    sched = build(optim, opt)
    first = record(opt, sched, 10)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()

    opt2 = make_optimizer(autograd, optim)
    sched2 = build(optim, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = record(opt2, sched2, 10)
    assert first + rest[1:] == uninterrupted


def test_state_dict_has_pytorchs_keys():
    for name in ['StepLR', 'OneCycleLR-cos', 'SequentialLR', 'LambdaLR']:
        opt, topt = make_optimizer(autograd, optim), make_optimizer(torch, torch.optim)
        ours = SCHEDULERS[name](optim, opt).state_dict()
        theirs = SCHEDULERS[name](torch.optim, topt).state_dict()
        assert sorted(ours) == sorted(theirs), name


def test_scheduler_sets_initial_lr_in_groups():
    opt = make_optimizer(autograd, optim)
    optim.lr_scheduler.StepLR(opt, step_size=2)
    assert [g['initial_lr'] for g in opt.param_groups] == [0.1, 0.03]


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_optimizer(autograd, optim)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match='before `optimizer.step\\(\\)`'):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = make_optimizer(autograd, optim)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match='get_last_lr'):
        sched.get_lr()


def test_tensor_lr_is_updated_in_place():
    p = autograd.zeros(2, requires_grad=True)
    lr = autograd.tensor(np.array(0.1))
    opt = optim.SGD([p], lr=lr)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]['lr'] is lr and math.isclose(lr.item(), 0.05)


def both_raise(exc, fn):
    for lib, mod in each_library((torch, toptim), (autograd, optim)):
        with pytest.raises(exc):
            fn(mod, make_optimizer(lib, mod))


@pytest.mark.parametrize('fn', [
    lambda m, o: m.lr_scheduler.ConstantLR(o, factor=1.5),
    lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=0),
    lambda m, o: m.lr_scheduler.LinearLR(o, end_factor=1.5),
    lambda m, o: m.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
    lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
    lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, mode='median'),
    lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, threshold_mode='ratio'),
    lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1),
    lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10,
                                           anneal_strategy='exp'),
    lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda m, o: m.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode='sawtooth'),
    lambda m, o: m.lr_scheduler.SequentialLR(o, [m.lr_scheduler.StepLR(o, 2)], milestones=[3]),
    lambda m, o: m.lr_scheduler.SequentialLR(o, [], milestones=[]),
    lambda m, o: m.lr_scheduler.SequentialLR(o, [m.lr_scheduler.ReduceLROnPlateau(o)],
                                             milestones=[]),
])
def test_invalid_arguments_raise_value_error(fn):
    both_raise(ValueError, fn)


def test_one_cycle_stepping_past_total_steps_raises():
    def fn(mod, opt):
        sched = mod.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(4):
            opt.step()
            sched.step()
    both_raise(ValueError, fn)


def test_resuming_without_initial_lr_raises_key_error():
    both_raise(KeyError, lambda m, o: m.lr_scheduler.StepLR(o, step_size=2, last_epoch=3))


def test_not_an_optimizer_raises_type_error():
    for mod in each_library(toptim, optim):
        with pytest.raises(TypeError, match='is not an Optimizer'):
            mod.lr_scheduler.StepLR(object(), step_size=2)


def test_no_warning_for_an_optimizer_subclass_with_its_own_step():
    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def step(self, closure=None):
            return None
    opt = Plain([autograd.zeros(2, requires_grad=True)])
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        sched.step()

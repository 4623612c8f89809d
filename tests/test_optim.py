"""Optimizers against PyTorch: the same parameters, loss and options give the same
parameters after every step (float64, 1e-9 relative), plus state dicts, groups and errors."""
import numpy as np
import pytest

import autograd
import optim

from oracle import each_library, torch, torch_module

toptim = torch_module('torch.optim')

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (6, 3))
INIT = [RNG.uniform(-1, 1, (3, 4)), RNG.uniform(-0.5, 0.5, (4,)), RNG.uniform(-1, 1, (5,))]
TARGET = np.linspace(-1, 1, 5)


def loss_fn(lib, params):
    """A tiny tanh layer plus a coupled quadratic: curved, non-separable, bounded below."""
    w, b, v = params
    x = lib.tensor(X, dtype=w.dtype)
    h = lib.tanh(x @ w + b)
    quad = ((v - lib.tensor(TARGET, dtype=w.dtype)) ** 2 *
            lib.tensor(np.array([1.0, 2.0, 3.0, 0.5, 4.0]), dtype=w.dtype)).sum()
    return (h ** 2).sum() * 0.5 + quad + 0.1 * h.sum() * v.sum()


def make_params(lib, init=INIT):
    return [lib.tensor(a.copy(), requires_grad=True) for a in init]


def host(t):
    return t.detach().cpu().numpy().copy()


def train(lib, mod, name, kwargs, steps=8, params=None, groups=None, opt=None):
    """Run ``steps`` steps; returns (per-step parameter snapshots, params, optimizer)."""
    params = make_params(lib) if params is None else params
    if opt is None:
        spec = params if groups is None else [dict(g, params=[params[i] for i in g['params']])
                                              for g in groups]
        opt = getattr(mod, name)(spec, **kwargs)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(lib, params).backward()
        opt.step()
        history.append([host(p) for p in params])
    return history, params, opt


def assert_same(ours, theirs, rtol=1e-9, atol=1e-12):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol,
                                       err_msg=f'step {step + 1}, parameter {i}')


CASES = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.05, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ('SGD', dict(lr=0.05, momentum=0.9, nesterov=True)),
    ('SGD', dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ('SGD', dict(lr=0.01, momentum=0.5, maximize=True)),
    ('Adagrad', dict()),
    ('Adagrad', dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-6)),
    ('Adagrad', dict(lr=0.1, maximize=True)),
    ('RMSprop', dict()),
    ('RMSprop', dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ('RMSprop', dict(lr=0.01, momentum=0.8)),
    ('RMSprop', dict(lr=0.01, centered=True)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.8, maximize=True)),
    ('Adadelta', dict()),
    ('Adadelta', dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ('Adadelta', dict(maximize=True)),
    ('Adam', dict(lr=0.05)),
    ('Adam', dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ('Adam', dict(lr=0.05, amsgrad=True)),
    ('Adam', dict(lr=0.05, maximize=True)),
    ('Adam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ('AdamW', dict(lr=0.05)),
    ('AdamW', dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ('Adamax', dict()),
    ('Adamax', dict(lr=0.05, betas=(0.7, 0.95), weight_decay=0.1, maximize=True)),
    ('NAdam', dict(lr=0.05)),
    ('NAdam', dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ('NAdam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ('NAdam', dict(lr=0.05, maximize=True)),
    ('Rprop', dict()),
    ('Rprop', dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ('Rprop', dict(lr=0.05, maximize=True)),
]
IDS = [f'{n}-{"-".join(f"{k}={v}" for k, v in kw.items())}' for n, kw in CASES]


@pytest.mark.parametrize('name,kwargs', CASES, ids=IDS)
def test_matches_pytorch_step_for_step(name, kwargs):
    ours, _, _ = train(autograd, optim, name, kwargs)
    theirs, _, _ = train(torch, torch.optim, name, kwargs)
    assert_same(ours, theirs)


@pytest.mark.parametrize('name,kwargs', CASES, ids=IDS)
def test_zero_dimensional_parameters_match_pytorch(name, kwargs):
    """Learned scalars (0-d parameters): NumPy makes scalars of 0-d arrays' arithmetic, which
    the in-place update paths must not trip over."""
    def run(lib, mod):
        params = make_params(lib, [np.array(0.7), np.array(-0.3)])
        opt = getattr(mod, name)(params, **kwargs)
        history = []
        for _ in range(5):
            opt.zero_grad()
            a, b = params
            (lib.tanh(a * 2.0 - b) ** 2 + (a * b - 0.25) ** 2).backward()
            opt.step()
            history.append([host(p) for p in params])
        return history
    ours, theirs = run(autograd, optim), run(torch, torch.optim)
    assert ours[-1][0].shape == () and not np.allclose(ours[-1][0], 0.7)
    assert_same(ours, theirs)


def resume(lib, mod, name, kwargs):
    """Four steps, a state dict loaded into a fresh optimizer on copied parameters, then
    four more steps there; returns the snapshots of the last four."""
    _, params, opt = train(lib, mod, name, kwargs, steps=4)
    fresh = make_params(lib, [host(p) for p in params])
    resumed = getattr(mod, name)(fresh, **kwargs)
    resumed.load_state_dict(opt.state_dict())
    return train(lib, mod, name, kwargs, steps=4, params=fresh, opt=resumed)[0]


@pytest.mark.parametrize('name,kwargs', CASES[::3], ids=IDS[::3])
def test_float32_parameters_stay_float32_and_track_pytorch(name, kwargs):
    init = [a.astype(np.float32) for a in INIT]
    ours, _, opt = train(autograd, optim, name, kwargs, params=make_params(autograd, init))
    theirs, _, _ = train(torch, torch.optim, name, kwargs, params=make_params(torch, init))
    assert all(p.dtype == np.float32 for p in ours[-1])
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name,kwargs', CASES, ids=IDS)
def test_state_dict_round_trip_continues_as_uninterrupted(name, kwargs):
    ours = resume(autograd, optim, name, kwargs)
    assert_same(ours, resume(torch, torch.optim, name, kwargs))
    if name != 'NAdam':       # loading casts NAdam's float32 mu_product to float64, as PyTorch
        uninterrupted, _, _ = train(autograd, optim, name, kwargs, steps=8)
        assert_same(ours, uninterrupted[4:], rtol=0, atol=0)


@pytest.mark.parametrize('name,kwargs', CASES[::3], ids=IDS[::3])
def test_state_dict_layout_matches_pytorch(name, kwargs):
    _, _, ours = train(autograd, optim, name, kwargs, steps=2)
    _, _, theirs = train(torch, torch.optim, name, kwargs, steps=2)
    a, b = ours.state_dict(), theirs.state_dict()
    assert a['param_groups'] == b['param_groups']
    assert sorted(a['state']) == sorted(b['state'])
    for k in b['state']:
        assert sorted(a['state'][k]) == sorted(b['state'][k])
        for key, value in b['state'][k].items():
            mine = a['state'][k][key]
            if isinstance(value, torch.Tensor):
                assert isinstance(mine, autograd.Tensor)
                assert str(mine.dtype).split('.')[-1] == str(value.dtype).split('.')[-1]
                np.testing.assert_allclose(host(mine), host(value), rtol=1e-9, atol=1e-12)


def test_pytorch_state_dict_loads_and_continues_identically():
    kwargs = dict(lr=0.05, amsgrad=True)
    _, tparams, topt = train(torch, torch.optim, 'Adam', kwargs, steps=3)
    sd = topt.state_dict()
    converted = {'param_groups': sd['param_groups'],
                 'state': {k: {n: autograd.tensor(host(v)) for n, v in s.items()}
                           for k, s in sd['state'].items()}}
    params = make_params(autograd, [host(p) for p in tparams])
    opt = optim.Adam(params, **kwargs)
    opt.load_state_dict(converted)
    ours, _, _ = train(autograd, optim, 'Adam', kwargs, steps=3, params=params, opt=opt)
    theirs, _, _ = train(torch, torch.optim, 'Adam', kwargs, steps=3, params=tparams, opt=topt)
    assert_same(ours, theirs)


def test_load_state_dict_casts_state_to_parameter_dtype():
    params = make_params(autograd)
    opt = optim.Adam(params, lr=0.1)
    train(autograd, optim, 'Adam', {}, steps=1, params=params, opt=opt)
    sd = opt.state_dict()
    f32 = [autograd.tensor(host(p), dtype=autograd.float32, requires_grad=True) for p in params]
    other = optim.Adam(f32, lr=0.1)
    other.load_state_dict(sd)
    assert other.state[f32[0]]['exp_avg'].dtype == autograd.float32
    assert other.state[f32[0]]['step'].dtype == sd['state'][0]['step'].dtype
    assert other.state[f32[0]]['exp_avg'] is not sd['state'][0]['exp_avg']


@pytest.mark.parametrize('name,kwargs', [('SGD', dict(lr=0.1, momentum=0.9)),
                                         ('Adam', dict(betas=(0.8, 0.9))),
                                         ('RMSprop', dict(centered=True))])
def test_param_groups_with_different_hyperparameters(name, kwargs):
    groups = [{'params': [0], 'lr': 0.2}, {'params': [1, 2]}]
    ours, _, _ = train(autograd, optim, name, dict(kwargs, lr=0.01), groups=groups)
    theirs, _, _ = train(torch, torch.optim, name, dict(kwargs, lr=0.01), groups=groups)
    assert_same(ours, theirs)


def test_add_param_group_fills_defaults_and_steps_the_new_group():
    params = make_params(autograd)
    opt = optim.SGD(params[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({'params': params[2], 'lr': 0.01})
    assert opt.param_groups[1]['momentum'] == 0.9 and opt.param_groups[1]['lr'] == 0.01
    tparams = make_params(torch)
    topt = torch.optim.SGD(tparams[:2], lr=0.1, momentum=0.9)
    topt.add_param_group({'params': tparams[2], 'lr': 0.01})
    ours, _, _ = train(autograd, optim, None, None, params=params, opt=opt)
    theirs, _, _ = train(torch, torch.optim, None, None, params=tparams, opt=topt)
    assert_same(ours, theirs)


def test_parameters_without_grad_are_skipped():
    params = make_params(autograd)
    opt = optim.Adam(params, lr=0.1)
    before = host(params[2])
    loss_fn(autograd, params).backward()
    params[2].grad = None
    opt.step()
    np.testing.assert_array_equal(host(params[2]), before)
    assert params[2] not in opt.state and params[0] in opt.state


@pytest.mark.parametrize('set_to_none', [True, False])
def test_zero_grad(set_to_none):
    params = make_params(autograd)
    opt = optim.SGD(params, lr=0.1)
    loss_fn(autograd, params).backward()
    opt.zero_grad(set_to_none=set_to_none)
    for p in params:
        if set_to_none:
            assert p.grad is None
        else:
            np.testing.assert_array_equal(host(p.grad), np.zeros(p.shape))
    loss_fn(autograd, params).backward()        # gradients start again from zero
    tparams = make_params(torch)
    loss_fn(torch, tparams).backward()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(host(p.grad), host(t.grad), rtol=1e-12)


def test_step_updates_in_place_and_bumps_the_version():
    params = make_params(autograd)
    opt = optim.SGD(params, lr=0.1)
    loss_fn(autograd, params).backward()
    ref, version = params[0], params[0]._version
    opt.step()
    assert params[0] is ref and params[0]._version > version
    assert params[0].requires_grad and params[0].is_leaf


def test_step_returns_closure_loss_evaluated_with_grad_enabled():
    params = make_params(autograd)
    opt = optim.SGD(params, lr=0.1)

    def closure():
        assert autograd.is_grad_enabled()
        opt.zero_grad()
        loss = loss_fn(autograd, params)
        loss.backward()
        return loss
    with autograd.no_grad():
        loss = opt.step(closure)
    tparams = make_params(torch)
    np.testing.assert_allclose(loss.item(), loss_fn(torch, tparams).item(), rtol=1e-12)


LBFGS_CASES = [dict(), dict(line_search_fn='strong_wolfe'),
               dict(lr=0.5, max_iter=4, history_size=3),
               dict(max_iter=6, history_size=2, line_search_fn='strong_wolfe'),
               dict(tolerance_grad=1e-3, tolerance_change=1e-4)]


def run_lbfgs(lib, mod, kwargs, steps=3, params=None, opt=None):
    params = make_params(lib) if params is None else params
    opt = mod.LBFGS(params, **kwargs) if opt is None else opt
    history, losses = [], []

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, params)
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(opt.step(closure).detach().item())
        history.append([host(p) for p in params])
    return history, losses, params, opt


@pytest.mark.parametrize('kwargs', LBFGS_CASES, ids=str)
def test_lbfgs_matches_pytorch(kwargs):
    ours, our_losses, _, opt = run_lbfgs(autograd, optim, kwargs)
    theirs, their_losses, _, topt = run_lbfgs(torch, torch.optim, kwargs)
    assert_same(ours, theirs, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9)
    ours_state = opt.state[opt.param_groups[0]['params'][0]]
    theirs_state = topt.state[topt.param_groups[0]['params'][0]]
    assert ours_state['func_evals'] == theirs_state['func_evals']
    assert ours_state['n_iter'] == theirs_state['n_iter']


def test_lbfgs_state_dict_round_trip():
    kwargs = dict(max_iter=4, history_size=3, line_search_fn='strong_wolfe')
    uninterrupted, _, _, _ = run_lbfgs(autograd, optim, kwargs, steps=4)
    _, _, params, opt = run_lbfgs(autograd, optim, kwargs, steps=2)
    fresh = make_params(autograd, [host(p) for p in params])
    resumed = optim.LBFGS(fresh, **kwargs)
    resumed.load_state_dict(opt.state_dict())
    rest, _, _, _ = run_lbfgs(autograd, optim, kwargs, steps=2, params=fresh, opt=resumed)
    assert_same(rest, uninterrupted[2:], rtol=0, atol=0)


def test_lbfgs_rejects_groups_and_unknown_line_search():
    params = make_params(autograd)
    with pytest.raises(ValueError):
        optim.LBFGS([{'params': params[:1]}, {'params': params[1:]}])
    opt = optim.LBFGS(params, line_search_fn='armijo')

    def closure():
        opt.zero_grad()
        loss = loss_fn(autograd, params)
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match='strong_wolfe'):
        opt.step(closure)


# ----------------------------------------------------------------------------- errors

def both_raise(exc, fn, match=None):
    """``fn(lib, mod)`` raises ``exc`` with PyTorch and, its message matching ``match``,
    with us."""
    for lib, mod in each_library((torch, toptim), (autograd, optim)):
        with pytest.raises(exc, match=None if lib is torch else match):
            fn(lib, mod)


@pytest.mark.parametrize('name,kwargs', [
    ('SGD', dict(lr=-1)), ('SGD', dict(momentum=-0.1)), ('SGD', dict(weight_decay=-1)),
    ('SGD', dict(nesterov=True)), ('SGD', dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ('Adam', dict(betas=(1.0, 0.9))), ('Adam', dict(betas=(0.9, -0.1))), ('Adam', dict(eps=-1)),
    ('Adam', dict(betas=(0, 0.9))), ('AdamW', dict(weight_decay=-1)),
    ('Adagrad', dict(lr_decay=-1)), ('Adagrad', dict(initial_accumulator_value=-1)),
    ('RMSprop', dict(alpha=-1)), ('RMSprop', dict(momentum=-1)),
    ('Adadelta', dict(rho=1.5)), ('Adamax', dict(betas=(0.9, 1.0))),
    ('NAdam', dict(momentum_decay=-1)), ('Rprop', dict(etas=(1.1, 1.2))),
    ('Rprop', dict(etas=(0.5, 0.9))), ('LBFGS', dict(lr=-1)),
])
def test_invalid_hyperparameters_raise_value_error(name, kwargs):
    both_raise(ValueError, lambda lib, mod: getattr(mod, name)(make_params(lib), **kwargs))


def test_empty_parameter_list_raises():
    both_raise(ValueError, lambda lib, mod: mod.SGD([], lr=0.1), match='empty parameter list')


def test_a_tensor_instead_of_an_iterable_raises_type_error():
    both_raise(TypeError, lambda lib, mod: mod.SGD(make_params(lib)[0], lr=0.1))


def test_non_leaf_parameter_raises():
    both_raise(ValueError, lambda lib, mod: mod.SGD([make_params(lib)[0] * 2], lr=0.1),
               match='non-leaf')


def test_parameter_in_two_groups_raises():
    def fn(lib, mod):
        p = make_params(lib)
        mod.SGD([{'params': p[:2]}, {'params': p[1:]}], lr=0.1)
    both_raise(ValueError, fn, match='more than one parameter group')


def test_add_param_group_with_a_present_parameter_raises():
    def fn(lib, mod):
        p = make_params(lib)
        opt = mod.Adam(p[:2])
        opt.add_param_group({'params': [p[0]]})
    both_raise(ValueError, fn, match='more than one parameter group')


def test_duplicate_parameter_within_a_group_warns():
    p = make_params(autograd)
    with pytest.warns(UserWarning, match='duplicate parameters'):
        optim.SGD([p[0], p[0]], lr=0.1)


def test_group_given_a_set_of_parameters_raises_type_error():
    both_raise(TypeError, lambda lib, mod: mod.SGD([{'params': set(make_params(lib))}], lr=0.1),
               match='ordered collections')


@pytest.mark.parametrize('bad', ['groups', 'sizes'])
def test_load_state_dict_mismatch_raises_and_leaves_optimizer_unchanged(bad):
    def build(lib, mod):
        params = make_params(lib)
        opt = mod.Adam([{'params': params[:2]}, {'params': params[2:]}], lr=0.1)
        train(lib, mod, None, None, steps=2, params=params, opt=opt)
        other_params = make_params(lib)
        if bad == 'groups':
            other = mod.Adam(other_params, lr=0.5)
        else:
            other = mod.Adam([{'params': other_params[:1]}, {'params': other_params[1:]}],
                             lr=0.5)
        return opt, other

    for lib, mod in each_library((torch, toptim), (autograd, optim)):
        opt, other = build(lib, mod)
        before = opt.state_dict()
        before_groups = [dict(g) for g in before['param_groups']]
        with pytest.raises(ValueError, match='parameter group'):
            opt.load_state_dict(other.state_dict())
        after = opt.state_dict()
        assert after['param_groups'] == before_groups
        assert sorted(after['state']) == sorted(before['state'])


def test_step_with_a_wrong_shape_gradient_changes_nothing():
    params = make_params(autograd)
    opt = optim.Adam(params, lr=0.1)
    loss_fn(autograd, params).backward()
    # (assigning .grad checks the size, as PyTorch's does; .data of the gradient does not)
    params[2].grad.data = autograd.zeros(7, dtype=autograd.float64)
    before = [host(p) for p in params]
    with pytest.raises(RuntimeError, match=r'\[5\].*\[7\]'):
        opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(host(p), b)
    assert len(opt.state) == 0


def test_repr_lists_group_hyperparameters():
    opt = optim.SGD(make_params(autograd), lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith('SGD (') and 'Parameter Group 0' in text and 'momentum: 0.9' in text


def test_state_dict_survives_save_and_load(tmp_path):
    kwargs = dict(lr=0.05, amsgrad=True)
    _, params, opt = train(autograd, optim, 'Adam', kwargs, steps=3)
    autograd.save(opt.state_dict(), str(tmp_path / 'opt.pt'))
    fresh = make_params(autograd, [host(p) for p in params])
    resumed = optim.Adam(fresh, **kwargs)
    resumed.load_state_dict(autograd.load(str(tmp_path / 'opt.pt')))
    rest, _, _ = train(autograd, optim, 'Adam', kwargs, steps=3, params=fresh, opt=resumed)
    uninterrupted, _, _ = train(autograd, optim, 'Adam', kwargs, steps=6)
    assert_same(rest, uninterrupted[3:], rtol=0, atol=0)


def test_works_with_module_parameters():
    nn = pytest.importorskip('nn')
    ours = [nn.Parameter(autograd.tensor(a.copy())) for a in INIT]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in INIT]
    a, _, _ = train(autograd, optim, 'AdamW', dict(lr=0.05), params=ours)
    b, _, _ = train(torch, torch.optim, 'AdamW', dict(lr=0.05), params=theirs)
    assert_same(a, b)
    assert all(isinstance(p, nn.Parameter) for p in ours)

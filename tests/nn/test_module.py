"""Module, Parameter and containers against PyTorch: registration, traversal, state_dict,
load_state_dict, hooks, modes, devices/dtypes and printing."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import autograd
import nn
from oracle import torch, to_numpy


def build(lib_nn):
    """The same nested model in either library (names exercise every container)."""
    class Block(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib_nn.Linear(3, 4)
            self.register_buffer('running', (torch if lib_nn is torch.nn else autograd).zeros(4))
            self.register_buffer('scratch', (torch if lib_nn is torch.nn else autograd).ones(2),
                                 persistent=False)
            self.act = lib_nn.Tanh()

        def forward(self, x):
            return self.act(self.fc(x)) + self.running

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib_nn.Embedding(10, 3)
            self.blocks = lib_nn.ModuleList([Block(), Block()])
            self.heads = lib_nn.ModuleDict({'b': lib_nn.Linear(4, 2), 'a': lib_nn.Linear(4, 1)})
            self.seq = lib_nn.Sequential(lib_nn.Linear(4, 4, bias=False), lib_nn.ReLU())
            self.scale = lib_nn.Parameter((torch if lib_nn is torch.nn else autograd).ones(1))
            self.plist = lib_nn.ParameterList([lib_nn.Parameter(
                (torch if lib_nn is torch.nn else autograd).zeros(2, 2))])

        def forward(self, idx):
            h = self.embed(idx)
            for b in self.blocks:
                h = b(h[..., :3])
            h = self.seq(h)
            return self.heads['a'](h) * self.scale, self.heads['b'](h)
    return Net()


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: autograd.tensor(to_numpy(v)) for k, v in
                          theirs.state_dict().items()})


# ----------------------------------------------------------------------------- Parameter

def test_parameter_shares_data_and_is_a_leaf():
    t = autograd.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, autograd.Tensor) and p.is_leaf and p.requires_grad
    t[0, 0] = 5.0
    assert p[0, 0].item() == 5.0
    assert type(p * 2) is autograd.Tensor


def test_parameter_repr_matches_pytorch():
    data = np.array([1.0, 2.0])
    theirs = repr(torch.nn.Parameter(torch.tensor(data, dtype=torch.float32)))
    # both on the CPU: PyTorch's repr names any other device
    ours = repr(nn.Parameter(autograd.tensor(data, dtype=autograd.float32, device='cpu')))
    assert ours == theirs
    assert repr(nn.Parameter(autograd.ones(2, device='cpu'), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError):
        nn.Parameter(autograd.tensor([1, 2]))
    assert not nn.Parameter(autograd.tensor([1, 2]), requires_grad=False).requires_grad


def test_parameter_deepcopy_keeps_class():
    p = nn.Parameter(autograd.ones(2))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q._data is not p._data


# ----------------------------------------------------------------------------- registration

def test_named_parameters_buffers_modules_match_pytorch():
    theirs, ours = build(torch.nn), build(nn)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    assert [k for k, _ in ours.named_children()] == [k for k, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]


def test_state_dict_keys_match_pytorch_and_skip_non_persistent_buffers():
    theirs, ours = build(torch.nn), build(nn)
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())
    assert 'blocks.0.scratch' not in ours.state_dict()
    assert 'blocks.0.scratch' in dict(ours.named_buffers())


def test_parameter_count_matches_pytorch():
    theirs, ours = build(torch.nn), build(nn)
    assert sum(p.numel() for p in ours.parameters()) == \
        sum(p.numel() for p in theirs.parameters())


def test_state_dict_values_are_detached_and_share_storage():
    m = nn.Linear(2, 3)
    sd = m.state_dict()
    assert not sd['weight'].requires_grad and sd['weight'].grad_fn is None
    sd['weight'][0, 0] = 7.0
    assert m.weight[0, 0].item() == 7.0
    assert m.state_dict(keep_vars=True)['weight'] is m.weight


def test_state_dict_prefix_and_destination():
    m = nn.Linear(2, 3)
    dest = OrderedDict()
    out = m.state_dict(destination=dest, prefix='enc.')
    assert out is dest and list(dest) == ['enc.weight', 'enc.bias']


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ['0.weight', '0.bias', '1.weight', '1.bias']


def test_reassignment_moves_between_registries():
    m = nn.Module()
    m.x = nn.Parameter(autograd.ones(1))
    m.register_buffer('b', autograd.ones(1))
    m.x = None                         # a registered parameter may be set to None
    assert 'x' in m._parameters and m.x is None
    m.b = autograd.zeros(2)            # assigning a tensor to a buffer name keeps it a buffer
    assert 'b' in m._buffers and m.b.shape == (2,)
    m.sub = nn.Linear(1, 1)
    del m.sub
    assert 'sub' not in m._modules
    with pytest.raises(AttributeError):
        m.sub


def test_assigning_a_plain_tensor_to_a_parameter_raises():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        m.weight = autograd.ones(2, 2)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).weight = torch.ones(2, 2)


@pytest.mark.parametrize('name,exc', [('a.b', KeyError), ('', KeyError), ('forward', KeyError)])
def test_register_errors_match_pytorch(name, exc):
    for lib, lnn in ((torch, torch.nn), (autograd, nn)):
        m = lnn.Linear(1, 1)
        with pytest.raises(exc):
            m.register_buffer(name, lib.zeros(1))
        with pytest.raises(exc):
            m.register_parameter(name, lnn.Parameter(lib.zeros(1)))


def test_register_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(autograd.ones(1))
    with pytest.raises(AttributeError, match='before Module.__init__'):
        Bad()


def test_non_leaf_parameter_rejected():
    m = nn.Module()
    x = autograd.ones(2, requires_grad=True)
    p = nn.Parameter(autograd.ones(2))
    p.grad_fn = (x * 2).grad_fn         # as if computed
    with pytest.raises(ValueError, match='non-leaf'):
        m.register_parameter('p', p)


def test_buffer_class_registers_as_buffer():
    m = nn.Module()
    m.stats = nn.Buffer(autograd.zeros(3), persistent=False)
    assert 'stats' in m._buffers and 'stats' not in m.state_dict()


def test_get_submodule_parameter_buffer():
    theirs, ours = build(torch.nn), build(nn)
    assert type(ours.get_submodule('blocks.1.fc')).__name__ == 'Linear'
    assert ours.get_parameter('blocks.1.fc.weight') is ours.blocks[1].fc.weight
    assert ours.get_buffer('blocks.0.running') is ours.blocks[0].running
    for m in (theirs, ours):
        with pytest.raises(AttributeError):
            m.get_submodule('blocks.7')
        with pytest.raises(AttributeError):
            m.get_parameter('blocks.0.running')


def test_dir_lists_registered_names():
    m = build(nn)
    names = dir(m)
    assert {'embed', 'blocks', 'scale', 'forward'} <= set(names)


def test_extra_state_round_trips():
    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = 3

        def get_extra_state(self):
            return {'count': self.count}

        def set_extra_state(self, state):
            self.count = state['count']
    a, b = WithState(), WithState()
    a.count = 9
    sd = a.state_dict()
    assert list(sd) == ['_extra_state']
    b.load_state_dict(sd)
    assert b.count == 9


# ----------------------------------------------------------------------------- load_state_dict

def test_load_state_dict_from_pytorch_gives_same_outputs():
    theirs, ours = build(torch.nn).double(), build(nn).double()
    load_from_torch(ours, theirs)
    idx = np.array([[1, 2, 3], [4, 5, 9]])
    t_out = theirs(torch.tensor(idx))
    o_out = ours(autograd.tensor(idx))
    for a, b in zip(o_out, t_out):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12)


def test_load_state_dict_copies_into_existing_storage():
    m = nn.Linear(2, 3)
    w = m.weight
    data = w._data
    result = m.load_state_dict({'weight': autograd.ones(3, 2, dtype=autograd.float64),
                                'bias': autograd.zeros(3)})
    assert m.weight is w and m.weight._data is data and m.weight.dtype == autograd.float32
    assert np.all(to_numpy(m.weight) == 1)
    assert repr(result) == '<All keys matched successfully>'
    assert result.missing_keys == [] and result.unexpected_keys == []


def _snapshot(m):
    return {k: to_numpy(v).copy() for k, v in m.state_dict().items()}


def test_load_state_dict_errors_list_every_problem_and_change_nothing():
    theirs, ours = build(torch.nn), build(nn)
    good = {k: autograd.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()}
    bad = dict(good)
    del bad['scale']
    bad['extra.weight'] = autograd.zeros(1)
    bad['blocks.0.fc.weight'] = autograd.zeros(5, 5)
    bad['heads.a.bias'] = autograd.zeros(7)
    before = _snapshot(ours)
    with pytest.raises(RuntimeError) as err:
        ours.load_state_dict(bad)
    msg = str(err.value)
    t_bad = {k: torch.tensor(to_numpy(v)) for k, v in bad.items()}
    with pytest.raises(RuntimeError) as t_err:
        theirs.load_state_dict(t_bad)
    assert msg == str(t_err.value).replace('torch.Size', 'autograd.Size')
    for k, v in _snapshot(ours).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_load_state_dict_non_strict_reports_keys():
    theirs, ours = build(torch.nn), build(nn)
    sd = {k: autograd.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()}
    del sd['embed.weight']
    sd['bogus'] = autograd.zeros(1)
    t_res = theirs.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in sd.items()},
                                   strict=False)
    o_res = ours.load_state_dict(sd, strict=False)
    assert o_res.missing_keys == t_res.missing_keys == ['embed.weight']
    assert o_res.unexpected_keys == t_res.unexpected_keys == ['bogus']


def test_load_state_dict_shape_mismatch_raises_even_when_not_strict():
    m = nn.Linear(2, 3)
    w = to_numpy(m.weight).copy()
    with pytest.raises(RuntimeError, match='size mismatch for weight'):
        m.load_state_dict({'weight': autograd.zeros(2, 2)}, strict=False)
    np.testing.assert_array_equal(to_numpy(m.weight), w)


def test_load_state_dict_assign_takes_the_tensor():
    m = nn.Linear(2, 3)
    new = autograd.ones(3, 2, dtype=autograd.float64)
    m.load_state_dict({'weight': new, 'bias': autograd.zeros(3)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight.dtype == autograd.float64 and m.weight._data is new._data


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(TypeError):
        nn.Linear(1, 1).load_state_dict([1, 2])


# ----------------------------------------------------------------------------- modes, grads

def test_train_eval_recurse():
    m = build(nn)
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train('yes')


def test_zero_grad_and_requires_grad():
    m = nn.Linear(2, 2)
    m(autograd.ones(1, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert np.all(to_numpy(m.weight.grad) == 0)
    m.zero_grad()
    assert m.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_then_self():
    seen = []
    build(nn).apply(lambda mod: seen.append(type(mod).__name__))
    theirs = []
    build(torch.nn).apply(lambda mod: theirs.append(type(mod).__name__))
    assert seen == theirs


# ----------------------------------------------------------------------------- devices, dtypes

def test_to_dtype_keeps_parameter_identity_and_casts_floats_only():
    m = nn.Embedding(4, 2)
    m.register_buffer('count', autograd.tensor([1, 2]))
    w = m.weight
    m.weight.grad = autograd.ones(4, 2)
    assert m.to(autograd.float64) is m
    assert m.weight is w and w.dtype == autograd.float64 and w.grad.dtype == autograd.float64
    assert m.count.dtype == autograd.int64
    m.float()
    assert w.dtype == autograd.float32
    m.half()
    assert w.dtype == autograd.float16
    with pytest.raises(TypeError, match='floating point'):
        m.to(autograd.int32)


def test_to_device_cpu_and_tensor_argument():
    m = nn.Linear(2, 2)
    assert m.to('cpu') is m and m.cpu() is m
    m.to(autograd.zeros(1, dtype=autograd.float64))
    assert m.weight.dtype == autograd.float64


# ----------------------------------------------------------------------------- hooks

def test_forward_pre_hook_and_forward_hook_replace_values():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(autograd.ones(3, 2))
    np.testing.assert_allclose(to_numpy(out.detach()), to_numpy(m.bias.detach() + 1)[None]
                               .repeat(3, 0), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    out = m(autograd.ones(3, 2))
    assert calls == [(3, 2)]


def test_hooks_with_kwargs_and_prepend():
    order = []
    m = nn.Identity()
    m.register_forward_hook(lambda mod, a, out: order.append('second'))
    m.register_forward_hook(lambda mod, a, out: order.append('first'), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs),
                                with_kwargs=True)
    out = m(autograd.zeros(1))
    assert order == ['first', 'second'] and out.item() == 1


def test_always_call_forward_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError('boom')
    seen = []
    m = Boom()
    m.register_forward_hook(lambda mod, a, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError):
        m(autograd.zeros(1))
    assert seen == [None]


def _backward_hook_run(lib_nn, lib, x_np, w_np):
    class Scale(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib_nn.Parameter(lib.tensor(w_np))

        def forward(self, a, b):
            return a * self.w + b * b, a.sum() * 2
    m = Scale()
    seen = {}

    def pre(mod, grad_output):
        seen['pre'] = [to_numpy(g) for g in grad_output]
        return (grad_output[0] * 2, grad_output[1])

    def hook(mod, grad_input, grad_output):
        seen['in'] = [None if g is None else to_numpy(g) for g in grad_input]
        seen['out'] = [to_numpy(g) for g in grad_output]
        return (grad_input[0] * 3, grad_input[1])
    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(hook)
    a = lib.tensor(x_np, requires_grad=True)
    b = lib.tensor(x_np + 1, requires_grad=True)
    y, s = m(a, b)
    (y.sum() + s * 5).backward()
    seen['a'] = to_numpy(a.grad)
    seen['b'] = to_numpy(b.grad)
    seen['w'] = to_numpy(m.w.grad)
    return seen


def test_full_backward_hooks_match_pytorch():
    x = np.array([1.0, -2.0, 3.0])
    w = np.array([0.5, 1.5, -1.0])
    theirs = _backward_hook_run(torch.nn, torch, x, w)
    ours = _backward_hook_run(nn, autograd, x, w)
    for key in theirs:
        for a, b in zip(ours[key] if isinstance(ours[key], list) else [ours[key]],
                        theirs[key] if isinstance(theirs[key], list) else [theirs[key]]):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=key)


def test_full_backward_hook_without_input_grads_gets_none():
    m = nn.Linear(2, 1)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m(autograd.ones(3, 2)).sum().backward()
    assert seen == [((None,), (3, 1))]
    assert m.weight.grad is not None


# ----------------------------------------------------------------------------- printing

def test_repr_matches_pytorch():
    def model(lnn):
        return lnn.Sequential(
            lnn.Linear(4, 8), lnn.ReLU(inplace=True), lnn.Dropout(0.25),
            lnn.ModuleList([lnn.Linear(8, 8) for _ in range(3)] + [lnn.GELU()]),
            lnn.ModuleDict({'out': lnn.Linear(8, 2, bias=False), 'act': lnn.LogSoftmax(dim=1)}),
            lnn.Sequential(), lnn.Embedding(5, 3, padding_idx=0), lnn.Flatten(),
            lnn.Unflatten(1, (2, 4)), lnn.LeakyReLU(0.2), lnn.Softplus(beta=2.0),
            lnn.Hardtanh(-2.0, 2.0), lnn.PReLU(3), lnn.Bilinear(2, 3, 4), lnn.Identity())
    assert repr(model(nn)) == repr(model(torch.nn))


def test_extra_repr_in_custom_module():
    class Custom(nn.Module):
        def extra_repr(self):
            return 'alpha=1\nbeta=2'
    outer = nn.Sequential(Custom())
    assert repr(outer) == 'Sequential(\n  (0): Custom(\n    alpha=1\n    beta=2\n  )\n)'


# ----------------------------------------------------------------------------- containers

def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ['1', '2']
    assert list(seq) == layers
    seq.append(nn.Tanh())
    assert len(seq) == 4 and list(seq._modules) == ['0', '1', '2', '3']
    del seq[1]
    assert list(seq._modules) == ['0', '1', '2'] and seq[1] is layers[2]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    with pytest.raises(IndexError):
        seq[10]
    named = nn.Sequential(OrderedDict([('fc', nn.Linear(1, 1)), ('act', nn.ReLU())]))
    assert list(named.state_dict()) == ['fc.weight', 'fc.bias']


def test_sequential_forward_chains():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = autograd.randn(4, 2)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_allclose(to_numpy(seq(x).detach()), to_numpy(expected.detach()))


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.append(nn.Sigmoid())
    ml.extend([nn.ELU()])
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ['ReLU', 'Identity', 'Tanh', 'Sigmoid', 'ELU']
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert type(ml[0]).__name__ == 'Identity' and list(ml._modules) == ['0', '1', '2', '3']
    md = nn.ModuleDict({'x': nn.ReLU()})
    md['y'] = nn.Tanh()
    md.update([('z', nn.ELU())])
    assert list(md.keys()) == ['x', 'y', 'z'] and 'y' in md and len(md) == 3
    assert type(md.pop('x')).__name__ == 'ReLU' and list(md) == ['y', 'z']


def test_parameter_list_and_dict_match_pytorch_keys():
    for lib, lnn in ((torch, torch.nn), (autograd, nn)):
        pl = lnn.ParameterList([lib.zeros(2), lnn.Parameter(lib.ones(3))])
        pl.append(lib.zeros(1))
        assert [k for k, _ in pl.named_parameters()] == ['0', '1', '2']
        assert all(isinstance(p, lnn.Parameter) for p in pl) and len(pl) == 3
        pd = lnn.ParameterDict({'b': lib.zeros(2), 'a': lib.zeros(1)})
        pd['c'] = lnn.Parameter(lib.zeros(3))
        assert list(pd.keys()) == ['a', 'b', 'c']
        assert [k for k, _ in pd.named_parameters()] == ['a', 'b', 'c']
        assert isinstance(pd['a'], lnn.Parameter)
        with pytest.raises(RuntimeError):
            pl(1)


def test_deepcopy_of_a_module_is_independent():
    m = build(nn)
    c = copy.deepcopy(m)
    assert list(c.state_dict()) == list(m.state_dict())
    with autograd.no_grad():
        c.scale.fill_(3.0)
    assert m.scale.item() == 1.0 and isinstance(c.scale, nn.Parameter)

"""Lazy modules against PyTorch: the input size is inferred at the first call, the
parameters are initialised as the regular class initialises them (same seed, same values),
the module becomes the regular class, placeholders are materialised in place (an optimizer
built before the first call keeps working), and ``state_dict``/``load_state_dict`` of
uninitialised modules behave as PyTorch's.  Values are compared after copying PyTorch's
state into ours (the two libraries' random generators differ)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import optim
from layer_check import check_layer
from oracle import rand, to_numpy, torch

SMALL = settings(max_examples=8, deadline=None, derandomize=True)

# (lazy class, its arguments, the regular class, its arguments given the input, input shape)
CASES = [
    ('LazyLinear', (3,), 'Linear', (5, 3), (4, 5)),
    ('LazyLinear', (3,), 'Linear', (5, 3), (2, 4, 5)),
    ('LazyConv1d', (4, 3), 'Conv1d', (2, 4, 3), (2, 2, 7)),
    ('LazyConv2d', (4, 3), 'Conv2d', (2, 4, 3), (2, 2, 5, 5)),
    ('LazyConv3d', (4, 2), 'Conv3d', (2, 4, 2), (2, 2, 3, 4, 3)),
    ('LazyConvTranspose1d', (4, 3), 'ConvTranspose1d', (2, 4, 3), (2, 2, 5)),
    ('LazyConvTranspose2d', (4, 3), 'ConvTranspose2d', (2, 4, 3), (2, 2, 4, 3)),
    ('LazyConvTranspose3d', (4, 2), 'ConvTranspose3d', (2, 4, 2), (2, 2, 3, 2, 3)),
    ('LazyBatchNorm1d', (), 'BatchNorm1d', (3,), (4, 3)),
    ('LazyBatchNorm2d', (), 'BatchNorm2d', (3,), (2, 3, 4, 4)),
    ('LazyBatchNorm3d', (), 'BatchNorm3d', (3,), (2, 3, 2, 3, 2)),
    ('LazyInstanceNorm1d', (), 'InstanceNorm1d', (3, 1e-5, 0.1, True, True), (2, 3, 5)),
    ('LazyInstanceNorm2d', (), 'InstanceNorm2d', (3, 1e-5, 0.1, True, True), (2, 3, 4, 4)),
    ('LazyInstanceNorm3d', (), 'InstanceNorm3d', (3, 1e-5, 0.1, True, True), (2, 3, 2, 3, 2)),
]
IDS = [f'{c[0]}-{len(c[4])}d' for c in CASES]


def _input(shape):
    return rand(*shape, seed=len(shape))


@pytest.mark.parametrize('lazy, args, regular, reg_args, shape', CASES, ids=IDS)
def test_lazy_module_infers_its_input_size_and_becomes_the_regular_class(lazy, args, regular,
                                                                         reg_args, shape):
    ours = getattr(nn, lazy)(*args)
    theirs = getattr(torch.nn, lazy)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    ours(autograd.tensor(_input(shape), dtype=autograd.float32))
    theirs(torch.tensor(_input(shape), dtype=torch.float32))
    assert type(ours) is getattr(nn, regular) and type(theirs) is getattr(torch.nn, regular)
    assert repr(ours) == repr(theirs)
    assert not ours.has_uninitialized_params() if hasattr(ours, 'has_uninitialized_params') \
        else True
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    for name, p in ours.named_parameters():
        assert type(p) is nn.Parameter and p.requires_grad, name


@pytest.mark.parametrize('lazy, args, regular, reg_args, shape', CASES, ids=IDS)
def test_lazy_module_initialises_as_the_regular_class(lazy, args, regular, reg_args, shape):
    """With the same seed, the lazy module's first call draws exactly the regular class's
    initial values (PyTorch's lazy modules do the same with PyTorch's generator)."""
    for lib, lib_nn in ((autograd, nn), (torch, torch.nn)):
        lib.manual_seed(7)
        regular_module = getattr(lib_nn, regular)(*reg_args)
        lib.manual_seed(7)
        lazy_module = getattr(lib_nn, lazy)(*args).eval()     # no running-statistics update
        lazy_module(lib.tensor(_input(shape), dtype=lib.float32))
        expected, got = regular_module.state_dict(), lazy_module.state_dict()
        assert list(got) == list(expected)
        for k in expected:
            np.testing.assert_array_equal(to_numpy(got[k]), to_numpy(expected[k]), err_msg=k)


@pytest.mark.parametrize('lazy, args, regular, reg_args, shape', CASES, ids=IDS)
def test_lazy_module_loaded_with_torch_weights_matches_torch(lazy, args, regular, reg_args,
                                                             shape):
    """PyTorch's regular layer, its state loaded into our uninitialised lazy layer (the load
    materialises the placeholders): outputs, input and parameter gradients, and running
    statistics agree."""
    def build(lib_nn):
        if lib_nn is nn:
            module = nn.__dict__[lazy](*args)
            if 'InstanceNorm' in lazy:      # see the next test: materialise by a first call
                module(autograd.zeros(*shape))
            return module
        return getattr(lib_nn, regular)(*reg_args)
    check_layer(build, _input(shape))


def test_lazy_instance_norm_materialised_by_loading_refuses_input_as_torch():
    """A load leaves num_features 0 (PyTorch's lazy norms read it only at a first call on
    placeholders), which InstanceNorm's forward then rejects, in both libraries."""
    for lib, lib_nn in ((torch, torch.nn), (autograd, nn)):
        lazy = lib_nn.LazyInstanceNorm1d()
        lazy.load_state_dict(lib_nn.InstanceNorm1d(3, affine=True,
                                                   track_running_stats=True).state_dict())
        with pytest.raises(ValueError, match=r'match num_features \(0\), but got: 3'):
            lazy(lib.tensor(rand(2, 3, 5), dtype=lib.float32))


def test_lazy_module_after_a_float64_conversion_materialises_float64():
    for lib, lib_nn in ((autograd, nn), (torch, torch.nn)):
        m = lib_nn.LazyConv2d(3, 2).double()
        assert m.weight.dtype == lib.float64
        m(lib.tensor(rand(1, 2, 4, 4)))
        assert m.weight.dtype == lib.float64 and tuple(m.weight.shape) == (3, 2, 2, 2)


def test_optimizer_built_before_the_first_call_steps_the_materialised_parameters():
    """Placeholders are materialised in place, so the optimizer holds the real parameters:
    the same training steps as PyTorch's, from the same initial values."""
    x, target = rand(6, 5), rand(6, 3, seed=1)
    results = []
    initial = None
    for lib, lib_nn, lib_optim in ((torch, torch.nn, torch.optim), (autograd, nn, optim)):
        model = lib_nn.Sequential(lib_nn.LazyLinear(4), lib_nn.Tanh(), lib_nn.LazyLinear(3))
        opt = lib_optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xs = lib.tensor(x)
        model.double()
        model(xs)                       # materialise
        if lib is torch:
            initial = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict({k: autograd.tensor(to_numpy(v)) for k, v in initial.items()})
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(xs) - lib.tensor(target)) ** 2).mean()
            loss.backward()
            opt.step()
        results.append([to_numpy(p) for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_state_dict_of_an_uninitialised_module_holds_the_placeholders():
    for lib_nn in (torch.nn, nn):
        m = lib_nn.LazyBatchNorm2d()
        state = m.state_dict()
        assert list(state) == ['weight', 'bias', 'running_mean', 'running_var',
                               'num_batches_tracked']
        assert [type(v).__name__ for v in state.values()][:4] == [
            'UninitializedParameter', 'UninitializedParameter', 'UninitializedBuffer',
            'UninitializedBuffer']
        assert state['weight'] is m.weight
        assert repr(state['weight']) == '<UninitializedParameter>'


def test_load_state_dict_between_uninitialised_modules_and_into_initialised_ones():
    for lib_nn in (torch.nn, nn):
        a, b = lib_nn.LazyLinear(3), lib_nn.LazyLinear(3)
        keys = b.load_state_dict(a.state_dict())
        assert list(keys.missing_keys) == [] and list(keys.unexpected_keys) == []
        assert b.has_uninitialized_params()
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
            lib_nn.Linear(4, 3).load_state_dict(lib_nn.LazyLinear(3).state_dict())


def test_loading_materialises_and_the_first_call_reads_the_size_back():
    """After a load the placeholders have the checkpoint's shapes; the first call then
    makes the module regular (a Linear reads in_features back, convolutions keep 0, as in
    PyTorch)."""
    reprs = []
    for lib, lib_nn in ((torch, torch.nn), (autograd, nn)):
        src = lib_nn.Sequential(lib_nn.Linear(5, 3), lib_nn.Conv1d(3, 2, 1))
        dst = lib_nn.Sequential(lib_nn.LazyLinear(3), lib_nn.LazyConv1d(2, 1))
        dst.load_state_dict(src.state_dict())
        assert not dst[0].has_uninitialized_params() and not dst[1].has_uninitialized_params()
        assert tuple(dst[0].weight.shape) == (3, 5)
        dst[1](dst[0](lib.tensor(rand(2, 5), dtype=lib.float32)).unsqueeze(-1))
        reprs.append(repr(dst))
        for (k, v), w in zip(dst.state_dict().items(), src.state_dict().values()):
            np.testing.assert_array_equal(to_numpy(v), to_numpy(w), err_msg=k)
    assert reprs[0] == reprs[1]


def test_uninitialised_parameter_and_buffer_as_torch():
    for lib, lib_nn in ((torch, torch.nn), (autograd, nn)):
        p = lib_nn.UninitializedParameter()
        b = lib_nn.UninitializedBuffer()
        assert isinstance(p, lib_nn.Parameter) and p.requires_grad and not b.requires_grad
        assert p.dtype == lib.float32
        with pytest.raises(RuntimeError, match="Can't access the shape"):
            p.shape
        assert lib_nn.parameter.is_lazy(p) and lib_nn.parameter.is_lazy(b)
        p.materialize((2, 3), dtype=lib.float64)
        b.materialize((4,))
        assert type(p) is lib_nn.Parameter and tuple(p.shape) == (2, 3) and p.dtype == lib.float64
        assert tuple(b.shape) == (4,) and not lib_nn.parameter.is_lazy(b)
        assert isinstance(b, lib.Tensor)


def test_uninitialised_buffer_assigned_to_a_module_is_a_buffer():
    for lib_nn in (torch.nn, nn):
        m = lib_nn.Module()
        m.stats = lib_nn.UninitializedBuffer(persistent=False)
        assert 'stats' in dict(m.named_buffers()) and 'stats' not in m.state_dict()


def test_lazy_module_errors_match_torch():
    for lib, lib_nn in ((torch, torch.nn), (autograd, nn)):
        with pytest.raises(RuntimeError, match=r'Expected 3D \(unbatched\) or 4D \(batched\) '
                                               r'input to LazyConv2d'):
            lib_nn.LazyConv2d(4, 3)(lib.tensor(rand(2, 3)))
        with pytest.raises(ValueError, match='in_channels must be divisible by groups'):
            lib_nn.LazyConv2d(4, 3, groups=2)(lib.tensor(rand(1, 3, 5, 5)))
        with pytest.raises(NotImplementedError, match='initialize_parameters is not implemented'):
            class Half(lib_nn.modules.lazy.LazyModuleMixin, lib_nn.Module):
                def forward(self, x):
                    return x
            Half()(lib.tensor(rand(2)))


@SMALL
@given(st.data())
def test_lazy_convolutions_random_configurations(data):
    d = data.draw(st.integers(1, 3))
    transposed = data.draw(st.booleans())
    groups = data.draw(st.sampled_from([1, 2]))
    cin, cout = 2 * data.draw(st.integers(1, 2)), 2 * data.draw(st.integers(1, 2))
    kernel = data.draw(st.integers(1, 2))
    stride = data.draw(st.integers(1, 2))
    bias = data.draw(st.booleans())
    kind = 'ConvTranspose' if transposed else 'Conv'

    def build(lib_nn):
        if lib_nn is nn:
            return getattr(nn, f'Lazy{kind}{d}d')(cout, kernel, stride=stride, groups=groups,
                                                   bias=bias)
        return getattr(lib_nn, f'{kind}{d}d')(cin, cout, kernel, stride=stride, groups=groups,
                                             bias=bias)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        check_layer(build, rand(1, cin, *(3,) * d, seed=d))

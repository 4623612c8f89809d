"""What real PyTorch programs touch beside the math, compared with PyTorch: formatting a
0-d tensor (``f'{loss:.4f}'``), ``axis=``/``keepdims=`` as aliases of ``dim=``/``keepdim=``,
the ``is_<device kind>`` attributes, ``autograd.accelerator``, ``autograd.backends`` and
``nn.DataParallel``."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from oracle import torch

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


# ----------------------------------------------------------------------------- __format__

@pytest.mark.parametrize('spec', ['', '.4f', '.2e', '10.3f', '+.1f', '.3g', '%'])
@pytest.mark.parametrize('value', [1.2345678, -0.5, 3.0, 1e-8])
def test_format_0d_float_as_pytorch(spec, value):
    for dtype in ('float32', 'float64'):
        ours = autograd.tensor(value, dtype=getattr(autograd, dtype))
        theirs = torch.tensor(value, dtype=getattr(torch, dtype))
        assert format(ours, spec) == format(theirs, spec)
        assert f'{ours:{spec}}' == f'{theirs:{spec}}'


@pytest.mark.parametrize('spec', ['', '5d', 'x', '>4'])
def test_format_0d_int_and_bool_as_pytorch(spec):
    assert format(autograd.tensor(42), spec) == format(torch.tensor(42), spec)
    if spec in ('', '>4'):
        assert format(autograd.tensor(True), spec) == format(torch.tensor(True), spec)


def test_format_of_a_loss_that_requires_grad():
    w = autograd.tensor([1.5, 2.0], requires_grad=True)
    tw = torch.tensor([1.5, 2.0], requires_grad=True)
    assert f'loss {(w * w).sum():.4f}' == f'loss {(tw * tw).sum():.4f}'


def test_format_of_nd_tensor_as_pytorch():
    ours, theirs = autograd.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert format(ours, '') == str(ours)
    for x in (ours, theirs):
        with pytest.raises(TypeError, match='unsupported format string passed to Tensor'):
            format(x, '.4f')
    # a 1-element 1-d tensor is not 0-d: PyTorch refuses a spec for it too
    with pytest.raises(TypeError):
        format(autograd.tensor([1.0]), '.2f')
    with pytest.raises(TypeError):
        format(torch.tensor([1.0]), '.2f')


def test_format_of_a_0d_parameter_as_pytorch():
    # PyTorch formats the value only for exact Tensors; a Parameter takes object's path
    ours, theirs = nn.Parameter(autograd.tensor(2.5)), torch.nn.Parameter(torch.tensor(2.5))
    for x in (ours, theirs):
        with pytest.raises(TypeError):
            format(x, '.2f')


# ----------------------------------------------------------------------------- axis=, keepdims=

REDUCTIONS = ['sum', 'mean', 'prod', 'amax', 'amin', 'argmax', 'argmin', 'std', 'var',
              'logsumexp', 'any', 'all']


@SETTINGS
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3), data=st.data(),
       name=st.sampled_from(REDUCTIONS), keep=st.booleans(), method=st.booleans())
def test_axis_and_keepdims_are_dim_and_keepdim(shape, data, name, keep, method):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    if name in ('any', 'all'):
        x = x > 0
    results = []
    for lib in (autograd, torch):
        t = lib.tensor(x)
        kw = dict(axis=axis, keepdims=keep)
        out = getattr(t, name)(**kw) if method else getattr(lib, name)(t, **kw)
        same = getattr(t, name)(dim=axis, keepdim=keep)
        results.append((out, same))
    (ours, ours_dim), (theirs, _) = results
    assert ours.shape == tuple(theirs.shape) and ours.dtype.name == str(theirs.dtype)[6:]
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.cpu().numpy(), ours_dim.cpu().numpy())


def test_axis_for_max_min_with_indices():
    x = np.random.default_rng(0).standard_normal((3, 4))
    for name in ('max', 'min'):
        ours = getattr(autograd.tensor(x), name)(axis=1, keepdims=True)
        theirs = getattr(torch.tensor(x), name)(axis=1, keepdims=True)
        np.testing.assert_array_equal(ours.values.cpu().numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.cpu().numpy(), theirs.indices.numpy())


def test_axis_for_joining_and_softmax():
    x = np.random.default_rng(1).standard_normal((2, 3))
    for name in ('cat', 'concat', 'concatenate', 'stack'):
        ours = getattr(autograd, name)([autograd.tensor(x)] * 2, axis=1)
        theirs = getattr(torch, name)([torch.tensor(x)] * 2, axis=1)
        np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    ours = autograd.softmax(autograd.tensor(x), axis=0)
    theirs = torch.softmax(torch.tensor(x), axis=0)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-14)
    ours = autograd.tensor(x).cumsum(axis=1)
    np.testing.assert_allclose(ours.cpu().numpy(), torch.tensor(x).cumsum(axis=1).numpy())
    ours = autograd.tensor(x).unsqueeze(axis=0).squeeze(axis=0)
    assert ours.shape == (2, 3)


def test_axis_gradients_match_dim():
    x = np.random.default_rng(2).standard_normal((3, 4))
    grads = []
    for lib in (autograd, torch):
        t = lib.tensor(x, requires_grad=True)
        (t.std(axis=0, keepdims=True) * t).sum().backward()
        grads.append(t.grad)
    np.testing.assert_allclose(grads[0].cpu().numpy(), grads[1].numpy(), rtol=1e-12)


def test_axis_and_dim_together_is_a_type_error():
    x = autograd.ones(2, 3)
    with pytest.raises(TypeError, match=r"sum\(\) got an unexpected keyword argument 'axis'"):
        x.sum(dim=0, axis=0)
    with pytest.raises(TypeError):
        torch.ones(2, 3).sum(dim=0, axis=0)


def test_aliasing_keeps_one_object_and_the_signature():
    import inspect
    assert autograd.sum is autograd.Tensor.sum
    assert 'dim' in inspect.signature(autograd.sum).parameters
    # functions without dim are left as they are (no wrapper on the hot path)
    assert not getattr(autograd.exp, 'accepts_numpy_names', False)
    assert not getattr(autograd.Tensor.__add__, 'accepts_numpy_names', False)


# ----------------------------------------------------------------------------- is_<kind>

ATTRIBUTES = ['is_cpu', 'is_xpu', 'is_mps', 'is_meta', 'is_sparse', 'is_sparse_csr',
              'is_quantized', 'is_mkldnn', 'is_vulkan', 'is_ipu', 'is_xla', 'is_maia',
              'is_mtia', 'is_nested']


@pytest.mark.parametrize('name', ATTRIBUTES)
def test_device_kind_attributes_as_pytorch_on_a_cpu_tensor(name):
    ours = autograd.ones(2, device='cpu')
    assert getattr(ours, name) is getattr(torch.ones(2), name)


def test_is_cpu_follows_the_device():
    x = autograd.ones(2)
    assert x.is_cpu == (x.device.type == 'cpu') and x.is_cuda == (x.device.type == 'cuda')


# ----------------------------------------------------------------------------- accelerator

def test_accelerator_matches_the_cuda_backend():
    acc = autograd.accelerator
    assert acc.is_available() == autograd.cuda.is_available()
    assert acc.device_count() == autograd.cuda.device_count()
    if not acc.is_available():
        assert acc.current_accelerator() is None
        return
    assert acc.current_accelerator().type == 'cuda'
    assert acc.current_device_index() == autograd.cuda.current_device()
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.set_device_index('cuda:0')
    acc.synchronize()
    assert acc.memory_allocated() >= 0 and acc.memory_reserved() >= acc.memory_allocated()
    with pytest.raises(ValueError, match="cpu doesn't match the current accelerator cuda"):
        acc.set_device_index('cpu')


def test_accelerator_without_one_as_pytorch_without_one():
    # the oracle is a CPU build; ours has an accelerator in the cuda leg (checked above)
    assert not torch.accelerator.is_available()
    libs = (torch,) if autograd.accelerator.is_available() else (autograd, torch)
    for lib in libs:
        acc = lib.accelerator
        assert acc.current_accelerator() is None and acc.device_count() == 0
        for call in (acc.current_device_index, acc.synchronize, lambda: acc.set_device_index(0),
                     acc.empty_cache, acc.memory_allocated):
            with pytest.raises(RuntimeError, match='Cannot access accelerator device when none'):
                call()
        with acc.device_index(None):      # a no-op with no accelerator
            pass
        with pytest.raises(RuntimeError, match='none is available'):
            with acc.device_index(0):
                pass


def test_accelerator_device_idiom_runs():
    # the idiom of the PyTorch examples
    acc = autograd.accelerator
    device = acc.current_accelerator() if acc.is_available() else autograd.device('cpu')
    x = autograd.ones(3, device=device)
    assert x.device == device


# ----------------------------------------------------------------------------- backends

def test_backend_flags_defaults_as_pytorch():
    ours, theirs = autograd.backends, torch.backends
    for name in ('enabled', 'benchmark', 'deterministic', 'allow_tf32', 'benchmark_limit'):
        assert getattr(ours.cudnn, name) == getattr(theirs.cudnn, name), name
    for name in ('allow_tf32', 'allow_fp16_reduced_precision_reduction',
                 'allow_bf16_reduced_precision_reduction'):
        assert getattr(ours.cuda.matmul, name) == getattr(theirs.cuda.matmul, name), name
    for name in ('flash_sdp_enabled', 'mem_efficient_sdp_enabled', 'math_sdp_enabled'):
        assert getattr(ours.cuda, name)() == getattr(theirs.cuda, name)(), name
    # libraries this project does not use say so
    assert not ours.cudnn.is_available() and ours.cudnn.version() is None
    assert not ours.mps.is_available() and not ours.mps.is_built()
    assert not ours.mkldnn.is_available() and not ours.opt_einsum.is_available()
    assert ours.cpu.get_cpu_capability() in ('AVX512', 'AVX2', 'VSX', 'DEFAULT')


def test_backend_flags_are_remembered_and_change_nothing():
    import autograd.backends.cudnn as cudnn
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)
    conv = nn.Conv2d(3, 4, 3)
    before = conv(autograd.tensor(x)).detach().cpu().numpy()
    old = cudnn.benchmark, cudnn.deterministic, autograd.backends.cuda.matmul.allow_tf32
    try:
        cudnn.benchmark = True
        cudnn.deterministic = True
        autograd.backends.cuda.matmul.allow_tf32 = True
        assert autograd.backends.cudnn.benchmark is True
        assert autograd.backends.cuda.matmul.allow_tf32 is True
        after = conv(autograd.tensor(x)).detach().cpu().numpy()
    finally:
        cudnn.benchmark, cudnn.deterministic, autograd.backends.cuda.matmul.allow_tf32 = old
    np.testing.assert_array_equal(before, after)


def test_float32_matmul_precision_as_pytorch():
    """torch.set_float32_matmul_precision('high') (build-nanogpt's train_gpt2.py): read back,
    'high' / 'medium' set backends.cuda.matmul.allow_tf32 as PyTorch, a bad string warns
    and changes nothing, a non-string raises; products are unchanged."""
    x = np.random.default_rng(4).standard_normal((5, 7)).astype(np.float32)
    before = (autograd.tensor(x) @ autograd.tensor(x.T)).cpu().numpy()
    libs = (autograd, torch)
    try:
        for lib in libs:
            assert lib.get_float32_matmul_precision() == 'highest'
        for precision in ('high', 'medium', 'highest', 'high'):
            for lib in libs:
                lib.set_float32_matmul_precision(precision)
            assert autograd.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
            assert autograd.backends.cuda.matmul.allow_tf32 is \
                torch.backends.cuda.matmul.allow_tf32
        for lib in libs:
            with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or "
                                                 "'medium'; the current"):
                lib.set_float32_matmul_precision('low')
            assert lib.get_float32_matmul_precision() == 'high'
            with pytest.raises(RuntimeError, match='set_float32_matmul_precision expects a '
                                                   'str, but got int'):
                lib.set_float32_matmul_precision(1)
        np.testing.assert_array_equal((autograd.tensor(x) @ autograd.tensor(x.T)).cpu().numpy(),
                                      before)
    finally:
        for lib in libs:
            lib.set_float32_matmul_precision('highest')
    assert not autograd.backends.cuda.matmul.allow_tf32


def test_cudnn_flags_context_restores():
    cudnn = autograd.backends.cudnn
    with cudnn.flags(enabled=False, benchmark=True):
        assert cudnn.enabled is False and cudnn.benchmark is True
    assert cudnn.enabled is True and cudnn.benchmark is False
    with autograd.backends.cuda.sdp_kernel(enable_flash=False):
        assert not autograd.backends.cuda.flash_sdp_enabled()
    assert autograd.backends.cuda.flash_sdp_enabled()


def test_cuda_is_built_means_cupy_is_installed():
    try:
        import cupy  # noqa: F401
        installed = True
    except ImportError:
        installed = False
    assert autograd.backends.cuda.is_built() == installed


# ----------------------------------------------------------------------------- DataParallel

def test_data_parallel_as_pytorch():
    autograd.manual_seed(0)
    inner = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model = nn.DataParallel(inner)
    t_inner = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    t_model = torch.nn.DataParallel(t_inner)
    assert model.module is inner and isinstance(model, nn.Module)
    assert list(model.state_dict()) == list(t_model.state_dict())
    assert repr(model).replace('autograd', 'torch') == repr(t_model)
    t_model.load_state_dict({k: torch.tensor(v.detach().cpu().numpy())
                             for k, v in model.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    ours = model(autograd.tensor(x))
    theirs = t_model(torch.tensor(x))
    # (float32: the products' rounding depends on the BLAS kernel on each side)
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(inner[0].weight.grad.cpu().numpy(),
                               t_inner[0].weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    if autograd.accelerator.is_available():
        assert model.device_ids == [0] and ours.device.type == 'cuda'
    else:
        assert model.device_ids == t_model.device_ids == []
    assert nn.parallel.DataParallel is nn.DataParallel


# ----------------------------------------------------------------- torch.nn, torch.optim

def test_nn_and_optim_are_attributes_of_the_package_as_in_pytorch():
    # pytorch/examples regression/main.py writes torch.nn.Linear after `import torch`
    import optim
    assert autograd.nn is nn and autograd.optim is optim
    assert torch.nn.Linear.__name__ == autograd.nn.Linear.__name__
    assert torch.optim.SGD.__name__ == autograd.optim.SGD.__name__
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        autograd.not_a_name
    assert not hasattr(autograd, 'not_a_name')


# ------------------------------------------------- legacy tensor types (torch.FloatTensor)

LEGACY = ['FloatTensor', 'DoubleTensor', 'HalfTensor', 'LongTensor', 'IntTensor',
          'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor']


@pytest.mark.parametrize('name', LEGACY)
def test_legacy_tensor_types_as_pytorch(name):
    # MorvanZhou/PyTorch-Tutorial 302_classification: x.type(torch.FloatTensor)
    ours, theirs = getattr(autograd, name), getattr(torch, name)
    data = [[1.5, 2.0], [0.0, 3.0]]           # no negatives: ByteTensor
    a, b = autograd.tensor(data).type(ours), torch.tensor(data).type(theirs)
    assert a.device.type == 'cpu'                  # a legacy type is a CPU type
    assert str(a.dtype).split('.')[1] == str(b.dtype).split('.')[1]
    np.testing.assert_array_equal(np.asarray(a.tolist()), np.asarray(b.tolist()))
    assert a.type() == b.type() == f'torch.{name}'
    assert isinstance(a, ours) and isinstance(b, theirs)
    assert not isinstance(autograd.tensor(data, dtype=autograd.float64 if name != 'DoubleTensor'
                                          else autograd.float32, device='cpu'), ours)
    assert ours(data).tolist() == theirs(data).tolist()
    assert tuple(ours(2, 3).shape) == tuple(theirs(2, 3).shape) == (2, 3)
    assert tuple(ours().shape) == tuple(theirs().shape) == (0,)
    assert str(ours(2).dtype).split('.')[1] == str(theirs(2).dtype).split('.')[1]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'bool'])
def test_type_without_argument_and_by_name_as_pytorch(dtype):
    a = autograd.zeros(2, dtype=getattr(autograd, dtype))
    b = torch.zeros(2, dtype=getattr(torch, dtype))
    where = '' if a.device.type == 'cpu' else 'cuda.'      # PyTorch's torch.cuda.FloatTensor
    assert a.type() == b.type().replace('torch.', 'torch.' + where)
    assert a.type('torch.DoubleTensor').dtype == autograd.float64
    assert b.type('torch.DoubleTensor').dtype == torch.float64
    assert a.type(autograd.int32).dtype == autograd.int32

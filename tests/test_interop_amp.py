"""``autograd.amp`` against ``torch.amp``: GradScaler's scale, skipping, growth/backoff and
state step by step; autocast's op lists (the CPU's compared with PyTorch's CPU autocast op
by op); the deprecated ``cuda.amp`` spellings."""
import threading
import warnings

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
import optim
from oracle import torch

HAS_GPU = autograd.cuda.is_available()      # the cuda leg (PyTorch's oracle is a CPU build)


def host(t):
    return t.detach().cpu().numpy()


def models():
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((6, 3)), rng.standard_normal(6)
    w2, b2 = rng.standard_normal((2, 6)), rng.standard_normal(2)
    ours = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    for m, lib in ((ours, autograd), (theirs, torch)):
        with lib.no_grad():
            for p, v in zip(m.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(v.astype(np.float32)))
    return ours, theirs


# ----------------------------------------------------------------------------- GradScaler

def run_scaler(lib, model, device, poison_steps, steps=7, clip=False, **kw):
    amp = lib.amp
    scaler = amp.GradScaler(device, init_scale=2.0**10, growth_interval=2, **kw)
    opt = (optim if lib is autograd else torch.optim).SGD(model.parameters(), lr=0.1,
                                                          momentum=0.9)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    y = lib.tensor(np.linspace(1, -1, 8, dtype=np.float32).reshape(4, 2))
    history = []
    for step in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        if step in poison_steps:
            loss = loss * float('inf')
        scaler.scale(loss).backward()
        if clip:
            scaler.unscale_(opt)
            (nn if lib is autograd else torch.nn).utils.clip_grad_norm_(model.parameters(), 0.5)
        ret = scaler.step(opt)
        scaler.update()
        history.append((scaler.get_scale(), scaler._get_growth_tracker(), ret,
                        [(host(p) if lib is autograd else p.detach().numpy()).copy()
                         for p in model.parameters()]))
    return scaler, history


@pytest.mark.parametrize('clip', [False, True])
def test_grad_scaler_step_by_step_as_pytorch(clip):
    ours_model, their_model = models()
    dev = 'cuda' if HAS_GPU else 'cpu'
    ours, ours_hist = run_scaler(autograd, ours_model, dev, poison_steps={1, 4}, clip=clip)
    theirs, their_hist = run_scaler(torch, their_model, 'cpu', poison_steps={1, 4}, clip=clip)
    for step, (a, b) in enumerate(zip(ours_hist, their_hist)):
        assert a[:3] == b[:3], step                 # scale, growth tracker, step's return
        for pa, pb in zip(a[3], b[3]):
            np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-6, err_msg=f'step {step}')
    assert ours.state_dict() == theirs.state_dict()
    scales = [h[0] for h in ours_hist]
    assert scales == [1024.0, 512.0, 512.0, 1024.0, 512.0, 512.0, 1024.0]


def test_grad_scaler_state_dict_round_trip_as_pytorch():
    for lib in (autograd, torch):
        a = lib.amp.GradScaler('cpu', init_scale=8.0, growth_factor=3.0, backoff_factor=0.25,
                               growth_interval=5)
        b = lib.amp.GradScaler('cpu')
        b.load_state_dict(a.state_dict())
        assert b.state_dict() == {'scale': 8.0, 'growth_factor': 3.0, 'backoff_factor': 0.25,
                                  'growth_interval': 5, '_growth_tracker': 0}
        assert float(b.scale(lib.tensor(2.0))) == 16.0
        disabled = lib.amp.GradScaler('cpu', enabled=False)
        assert disabled.state_dict() == {} and disabled.get_scale() == 1.0
        t = lib.tensor(3.0)
        assert disabled.scale(t) is t
        with pytest.raises(RuntimeError, match='The source state dict is empty'):
            b.load_state_dict({})


def test_grad_scaler_scales_nested_outputs_as_pytorch():
    for lib in (autograd, torch):
        s = lib.amp.GradScaler('cpu', init_scale=4.0)
        a, (b, c) = s.scale([lib.tensor(1.0), (lib.tensor(2.0), lib.tensor(3.0))])
        assert [float(a), float(b), float(c)] == [4.0, 8.0, 12.0]
        with pytest.raises(ValueError, match='outputs must be a Tensor or an iterable'):
            s.scale(5)


def _scaler_and_optimizer(lib, dtype=None):
    p = lib.tensor([1.0, 2.0], requires_grad=True) if dtype is None else \
        lib.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    opt = (optim if lib is autograd else torch.optim).SGD([p], lr=0.1)
    s = lib.amp.GradScaler('cpu')
    s.scale((p * p).sum().float()).backward()
    return s, opt


@pytest.mark.parametrize('misuse, exc, match', [
    (lambda s, o: (s.unscale_(o), s.unscale_(o)), RuntimeError,
     r'unscale_\(\) has already been called on this optimizer since the last update\(\)'),
    (lambda s, o: (s.step(o), s.unscale_(o)), RuntimeError,
     r'unscale_\(\) is being called after step\(\)'),
    (lambda s, o: (s.step(o), s.step(o)), RuntimeError,
     r'step\(\) has already been called since the last update\(\)'),
    (lambda s, o: s.step(o, closure=lambda: 0), RuntimeError, 'Closure use is not currently'),
    (lambda s, o: s.update(), AssertionError, 'No inf checks were recorded prior to update'),
])
def test_grad_scaler_misuse_as_pytorch(misuse, exc, match):
    for lib in (autograd, torch):
        s, opt = _scaler_and_optimizer(lib)
        with pytest.raises(exc, match=match):
            misuse(s, opt)


def test_grad_scaler_refuses_fp16_gradients_as_pytorch():
    for lib in (autograd, torch):
        s, opt = _scaler_and_optimizer(lib, lib.float16)
        with pytest.raises(ValueError, match='Attempting to unscale FP16 gradients.'):
            s.step(opt)
    for lib in (autograd, torch):
        s = lib.amp.GradScaler('cpu')
        with pytest.raises(AssertionError, match='Attempted step but _scale is None'):
            s.step((optim if lib is autograd else torch.optim).SGD(
                [lib.zeros(1, requires_grad=True)], lr=1.0))


def test_cuda_scaler_without_a_gpu_disables_itself_as_pytorch():
    libs = (torch,) if HAS_GPU else (autograd, torch)
    for lib in libs:
        with pytest.warns(UserWarning, match='CUDA is not available.  Disabling.'):
            s = lib.amp.GradScaler()
        assert not s.is_enabled()
    if HAS_GPU:
        assert autograd.amp.GradScaler().is_enabled()


def test_deprecated_cuda_amp_spellings_as_pytorch():
    for lib in (autograd, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.cuda.amp.GradScaler(enabled=False)
            with lib.cuda.amp.autocast(enabled=False):
                pass
        messages = [str(w.message) for w in caught if w.category is FutureWarning]
        assert any('`torch.cuda.amp.GradScaler(args...)` is deprecated' in m for m in messages)
        assert any('`torch.cuda.amp.autocast(args...)` is deprecated' in m for m in messages)
    assert isinstance(autograd.cuda.amp.GradScaler(enabled=False), autograd.amp.GradScaler)


# ----------------------------------------------------------------------------- autocast

def _inputs(lib, kind):
    rng = np.random.default_rng(5)
    f = lambda *shape: lib.tensor(rng.standard_normal(shape).astype(np.float32))  # noqa: E731
    pos = lib.tensor(rng.uniform(0.1, 0.9, (4, 4)).astype(np.float32))
    return dict(x=f(4, 4), y=f(4, 4), img=f(1, 2, 5, 5), k=f(3, 2, 3, 3), v=f(4), pos=pos,
                t=lib.tensor([0, 1, 2, 3]), lib=lib, F=F if lib is autograd else torch.nn.functional)


CALLS = {   # name: a call on float32 inputs, written once for both libraries
    'matmul': 'lib.matmul(x, y)', '@': 'x @ y', 'mm': 'lib.mm(x, y)', 'bmm': 'lib.bmm(x[None], y[None])',
    'einsum': "lib.einsum('ij,jk->ik', x, y)", 'tensordot': 'lib.tensordot(x, y, 1)',
    'linear': 'F.linear(x, y)', 'conv2d': 'F.conv2d(img, k)', 'conv1d': 'F.conv1d(img[:, :, 0], k[..., 0])',
    'conv_transpose2d': 'F.conv_transpose2d(img, k.transpose(0, 1))',
    'sdpa': 'F.scaled_dot_product_attention(x[None], y[None], y[None])',
    'exp': 'lib.exp(x.half())', 'softmax': 'lib.softmax(x.half(), 0)', 'sum': 'x.half().sum()',
    'layer_norm': 'F.layer_norm(x.half(), (4,))', 'prod': 'lib.prod(x.half())',
    'mse_loss': 'F.mse_loss(x.half(), y.half())', 'l1_loss': 'F.l1_loss(x.half(), y.half())',
    'cross_entropy': 'F.cross_entropy(x.half(), t)', 'nll_loss': 'F.nll_loss(x.half(), t)',
    'smooth_l1_loss': 'F.smooth_l1_loss(x.half(), y.half())', 'kl_div':
    "F.kl_div(x.half(), pos.half(), reduction='batchmean')",
    'bce_logits': 'F.binary_cross_entropy_with_logits(x.half(), pos.half())',
    'bce': 'F.binary_cross_entropy(pos.half(), pos.half())',
    'relu': 'F.relu(x)', 'relu16': 'F.relu(x.half())', 'cat': 'lib.cat([x.half(), y])',
    'stack': 'lib.stack([x.half(), y.half()])', 'double': 'lib.matmul(x.double(), y.double())',
    'max_pool2d': 'F.max_pool2d(img, 2)', 'add': 'x.half() + y',
}


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
@pytest.mark.parametrize('name', sorted(CALLS))
def test_cpu_autocast_dtypes_as_pytorch(name, dtype):
    results = []
    for lib in (autograd, torch):
        env = _inputs(lib, 'cpu')
        if lib is autograd:
            env = {k: (v.cpu() if isinstance(v, autograd.Tensor) else v) for k, v in env.items()}
        try:
            with lib.autocast('cpu', dtype=getattr(lib, dtype)):
                out = eval(CALLS[name], {}, env)
        except AttributeError as e:             # a function this project lacks
            pytest.fail(f'{name}: {e}')
        except RuntimeError as e:               # float16 meets bfloat16 autocast (cat)
            results.append(str(e))
            continue
        results.append(str(out.dtype).split('.')[-1])
    assert results[0] == results[1]


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_autocast_forward_and_backward_as_pytorch(dtype):
    ours_model, their_model = models()
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    t = np.array([0, 1, 1, 0, 1])
    out = []
    for lib, model in ((autograd, ours_model.cpu()), (torch, their_model)):
        with lib.autocast('cpu', dtype=getattr(lib, dtype)):
            logits = model(lib.tensor(x, device='cpu'))
            loss = (F if lib is autograd else torch.nn.functional).cross_entropy(
                logits, lib.tensor(t, device='cpu'))
        loss.backward()
        out.append((str(logits.dtype).split('.')[-1], str(loss.dtype).split('.')[-1],
                    float(loss), [host(p.grad) if lib is autograd else p.grad.numpy()
                                  for p in model.parameters()]))
    (dl, dloss, loss_a, grads_a), (dl2, dloss2, loss_b, grads_b) = out
    assert (dl, dloss) == (dl2, dloss2) == (dtype, 'float32')
    np.testing.assert_allclose(loss_a, loss_b, rtol=2e-3)
    for ga, gb in zip(grads_a, grads_b):
        assert ga.dtype == np.float32                   # gradients in the parameters' dtype
        np.testing.assert_allclose(ga, gb, rtol=2e-2, atol=2e-3)


def test_autocast_state_and_nesting_as_pytorch():
    for lib in (autograd, torch):
        assert not lib.is_autocast_enabled('cpu')
        with lib.autocast('cpu', dtype=lib.float16):
            assert lib.is_autocast_enabled('cpu')
            assert lib.get_autocast_dtype('cpu') == lib.float16
            with lib.autocast('cpu', enabled=False):
                assert not lib.is_autocast_enabled('cpu')
                assert str((lib.ones(2, 2, device='cpu') @ lib.ones(2, 2, device='cpu')).dtype
                           ).endswith('float32')
            assert lib.is_autocast_enabled('cpu')
        assert not lib.is_autocast_enabled('cpu')
        assert lib.amp.is_autocast_available('cpu') and lib.amp.is_autocast_available('cuda')
        with pytest.raises(RuntimeError):
            lib.autocast('xyz')


def test_autocast_as_a_decorator_and_unsupported_dtype_as_pytorch():
    for lib in (autograd, torch):
        @lib.autocast('cpu', dtype=lib.float16)
        def f(a):
            return a @ a
        assert str(f(lib.ones(2, 2, device='cpu')).dtype).endswith('float16')
        with pytest.warns(UserWarning, match='In CPU autocast, but the target dtype is not '
                                             'supported. Disabling autocast.'):
            with lib.autocast('cpu', dtype=lib.float32):
                assert not lib.is_autocast_enabled('cpu')


def test_cuda_autocast(request):
    x = autograd.ones(2, 2)
    if not HAS_GPU:
        for lib in (autograd, torch):
            with pytest.warns(UserWarning, match='CUDA is not available'):
                with lib.autocast('cuda'):
                    assert not lib.is_autocast_enabled('cuda')
        return
    with autograd.autocast('cuda'):
        assert (x @ x).dtype == autograd.float16
        assert autograd.softmax(x.half(), 0).dtype == autograd.float32   # cuda's fp32 list
        assert (x.cpu() @ x.cpu()).dtype == autograd.float32   # CPU tensors: CPU autocast


def test_cpu_autocast_default_dtype_is_bfloat16_as_pytorch():
    for lib in (autograd, torch):
        assert lib.get_autocast_dtype('cpu') == lib.bfloat16
        with lib.autocast('cpu'):
            assert lib.is_autocast_enabled('cpu')
            assert lib.get_autocast_dtype('cpu') == lib.bfloat16


def test_autocast_is_per_thread_and_leaves_nothing_behind():
    seen = []
    before = autograd.Tensor.__matmul__

    def other():
        seen.append((autograd.ones(2, 2, device='cpu') @ autograd.ones(2, 2, device='cpu')).dtype)
    with autograd.autocast('cpu', dtype=autograd.float16):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert autograd.Tensor.__matmul__ is not before
    assert seen == [autograd.float32]
    assert autograd.Tensor.__matmul__ is before and autograd.matmul.__module__ != __name__
    assert not hasattr(F.linear, 'autocast_original')

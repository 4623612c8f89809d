"""The GPU-only leg: real CuPy kernels on a real device, compared with the CPU.

Skipped where ``autograd.cuda.is_available()`` is false and under the CuPy stand-in (which
runs NumPy underneath): these exercise what only a GPU has, e.g. CuPy's strided views,
its scatter-add, its random generator, its memory pool, and the speed of a kernel.
"""
import time

import numpy as np
import pytest

import autograd
import autograd.cuda
import nn
import optim
from autograd.dlpack import from_dlpack


def host(t):
    return t.detach().cpu().numpy()


def both(fn, *arrays):
    """``fn(*tensors)`` on the CPU and on the GPU, with gradients of the float inputs."""
    results = []
    for dev in ('cpu', 'cuda'):
        xs = [autograd.tensor(a, device=dev, requires_grad=a.dtype.kind == 'f') for a in arrays]
        out = fn(*xs)
        out.sum().backward()
        results.append((host(out), [host(x.grad) for x in xs if x.requires_grad]))
    return results


def assert_same(results, rtol=1e-5, atol=1e-6):
    (out_c, grads_c), (out_g, grads_g) = results
    np.testing.assert_allclose(out_g, out_c, rtol=rtol, atol=atol)
    for gg, gc in zip(grads_g, grads_c):
        np.testing.assert_allclose(gg, gc, rtol=rtol, atol=atol)


RNG = np.random.default_rng(0)


def test_device_name_is_a_string(gpu):
    assert isinstance(autograd.cuda.get_device_name(), str)


def test_convolution_matches_the_cpu(gpu):
    x = RNG.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    assert_same(both(lambda x, w: nn.functional.conv2d(x, w, stride=2, padding=1), x, w),
                rtol=1e-4, atol=1e-4)


def test_pooling_matches_the_cpu(gpu):
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    assert_same(both(lambda x: nn.functional.max_pool2d(x, 2), x))


def test_index_gradient_scatter_adds_repeats_on_the_gpu(gpu):
    w = RNG.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([0, 4, 0, 0, 2, 4])
    assert_same(both(lambda w, i: w[i] * 2, w, idx))
    assert_same(both(lambda w, i: nn.functional.embedding(i, w), w, idx))


def test_scatter_multiply_on_the_gpu(gpu):
    x = RNG.standard_normal((3, 4)).astype(np.float64)
    idx = autograd.tensor([[0, 1, 0, 2]], device='cpu')
    cpu = autograd.tensor(x, device='cpu').scatter(0, idx, 2.0, reduce='multiply')
    gpu_out = autograd.tensor(x, device='cuda').scatter(0, idx.cuda(), 2.0, reduce='multiply')
    np.testing.assert_allclose(host(gpu_out), host(cpu))


def test_random_sampling_in_each_float_dtype(gpu):
    for dtype in (autograd.float16, autograd.float32, autograd.float64):
        u = autograd.rand(10000, device='cuda', dtype=dtype)
        z = autograd.randn(10000, device='cuda', dtype=dtype)
        assert u.dtype == dtype and z.dtype == dtype
        assert 0.0 <= u.min().item() and u.max().item() < 1.0
        assert abs(z.float().mean().item()) < 0.05 and abs(z.float().std().item() - 1) < 0.05
    assert sorted(autograd.randperm(100, device='cuda').tolist()) == list(range(100))


def test_training_on_the_gpu_follows_the_cpu(gpu):
    x = RNG.standard_normal((32, 4)).astype(np.float32)
    y = RNG.standard_normal((32, 1)).astype(np.float32)
    losses = {}
    for dev in ('cpu', 'cuda'):
        autograd.manual_seed(0)
        net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).to(dev)
        opt = optim.Adam(net.parameters(), lr=0.01)
        xt, yt = autograd.tensor(x, device=dev), autograd.tensor(y, device=dev)
        for _ in range(20):
            opt.zero_grad()
            loss = nn.functional.mse_loss(net(xt), yt)
            loss.backward()                  # gradients accumulate into existing buffers
            opt.step()
        losses[dev] = loss.item()
    assert losses['cuda'] == pytest.approx(losses['cpu'], rel=1e-4)


def test_gradients_accumulate_over_two_backwards(gpu):
    w = autograd.ones(3, device='cuda', requires_grad=True)
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


def test_cupy_arrays_refuse_implicit_host_conversion(gpu):
    t = autograd.ones(2, device='cuda')
    with pytest.raises(TypeError):
        t.numpy()
    with pytest.raises(TypeError):
        np.asarray(t)


def test_memory_pool_holds_and_releases_blocks(gpu):
    autograd.cuda.empty_cache()
    before = autograd.cuda.memory_allocated()
    x = autograd.empty(1 << 20, device='cuda')                 # 4 MiB
    assert autograd.cuda.memory_allocated() >= before + 4 * (1 << 20)
    del x
    autograd.cuda.empty_cache()
    assert autograd.cuda.memory_allocated() == before


def test_dlpack_round_trip_through_cupy(gpu):
    import cupy
    t = autograd.zeros(3, device='cuda')
    cupy.from_dlpack(t)[1] = 2.0
    assert t.tolist() == [0.0, 2.0, 0.0]
    assert from_dlpack(cupy.ones(2)).device == gpu


def test_large_matmul_is_faster_on_the_gpu(gpu):
    n = 4096
    a = autograd.randn(n, n, device='cpu')
    b = autograd.randn(n, n, device='cpu')
    ag, bg = a.cuda(), b.cuda()
    (ag @ bg).sum().item()                     # warm-up: cuBLAS handle, kernels
    t0 = time.perf_counter()
    (ag @ bg).sum().item()                     # .item() waits for the kernel
    gpu_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    (a @ b).sum().item()
    cpu_s = time.perf_counter() - t0
    print(f'{n}x{n} float32 matmul: cpu {cpu_s * 1e3:.1f} ms, gpu {gpu_s * 1e3:.1f} ms')
    assert gpu_s < cpu_s

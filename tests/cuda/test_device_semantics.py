"""The ``cuda`` device: naming, creation, transfers, no silent transfers, modules and
optimizers on a device, checkpoints across devices.

Runs where ``autograd.cuda.is_available()``: on a GPU, and in CI on the CuPy stand-in
(``CUNUMPY_FAKE_CUPY=1``), whose arrays, like CuPy's, refuse implicit conversion to NumPy.
Expected values are PyTorch's on the CPU or derived by hand.
"""
import numpy as np
import pytest

import autograd
import autograd.cuda
import nn
import optim
from autograd.utils.data import DataLoader, TensorDataset
from device_helpers import NO_CUPY, run_child
from oracle import torch


def host(t):
    return t.detach().cpu().numpy()


# ----------------------------------------------------------------------------- devices

def test_device_names(cuda):
    assert str(autograd.device('cuda:0')) == 'cuda:0'
    assert autograd.device('cuda', 0) == autograd.device('cuda:0') == 'cuda:0'
    assert autograd.device('cuda').type == 'cuda'
    assert autograd.device('cuda') != autograd.device('cpu')
    assert repr(autograd.device('cuda:0')) == "device(type='cuda', index=0)"


def test_device_index_past_the_last_gpu_raises(cuda):
    n = autograd.cuda.device_count()
    with pytest.raises(RuntimeError, match='invalid device ordinal'):
        autograd.zeros(1, device=f'cuda:{n}')


def test_cuda_module_reports_the_devices(cuda):
    assert autograd.cuda.is_available()
    assert autograd.cuda.device_count() >= 1
    assert autograd.cuda.current_device() == cuda.index
    autograd.cuda.synchronize()
    autograd.cuda.set_device(cuda.index)
    with autograd.cuda.device(cuda.index):
        assert autograd.zeros(1, device='cuda').device == cuda


def test_memory_pool_helpers_report_bytes(cuda):
    x = autograd.zeros(1024, device='cuda')
    assert autograd.cuda.memory_allocated() >= 0
    assert autograd.cuda.memory_reserved() >= autograd.cuda.memory_allocated()
    del x
    autograd.cuda.empty_cache()
    free, total = autograd.cuda.mem_get_info()
    assert 0 <= free <= total


# ----------------------------------------------------------------------------- creation

@pytest.mark.parametrize('make', [
    lambda d: autograd.tensor([[1.0, 2.0]], device=d),
    lambda d: autograd.tensor(np.ones((2, 3)), device=d),
    lambda d: autograd.as_tensor([1, 2], device=d),
    lambda d: autograd.zeros(2, 3, device=d),
    lambda d: autograd.ones(2, device=d, dtype=autograd.float64),
    lambda d: autograd.full((2,), 7, device=d),
    lambda d: autograd.empty(3, device=d),
    lambda d: autograd.arange(5, device=d),
    lambda d: autograd.linspace(0, 1, 5, device=d),
    lambda d: autograd.eye(3, device=d),
    lambda d: autograd.rand(2, device=d),
    lambda d: autograd.randn(2, device=d, dtype=autograd.float16),
    lambda d: autograd.randint(0, 5, (4,), device=d),
    lambda d: autograd.randperm(6, device=d),
], ids=['tensor', 'tensor-numpy', 'as_tensor', 'zeros', 'ones', 'full', 'empty', 'arange',
        'linspace', 'eye', 'rand', 'randn-half', 'randint', 'randperm'])
def test_creation_on_the_cuda_device(cuda, make):
    t = make('cuda')
    assert t.device == cuda and t.is_cuda and t.get_device() == cuda.index


def test_like_creation_keeps_the_device(cuda):
    x = autograd.ones(2, 3, device='cuda')
    for t in (autograd.zeros_like(x), autograd.ones_like(x), autograd.rand_like(x),
              autograd.full_like(x, 2.0), x.new_zeros(4), x.new_tensor([1.0])):
        assert t.device == cuda


def test_randperm_on_cuda_is_a_permutation(cuda):
    p = autograd.randperm(50, device='cuda')
    assert p.dtype == autograd.int64
    assert sorted(p.tolist()) == list(range(50))


def test_seeded_cuda_draws_repeat(cuda):
    autograd.cuda.manual_seed(7)
    a = autograd.randn(5, device='cuda')
    autograd.cuda.manual_seed(7)
    b = autograd.randn(5, device='cuda')
    autograd.manual_seed(7)             # seeds every device's generator
    c = autograd.randn(5, device='cuda')
    assert a.tolist() == b.tolist() == c.tolist()


def test_generator_on_the_cuda_device(cuda):
    g1 = autograd.Generator('cuda').manual_seed(3)
    g2 = autograd.Generator('cuda').manual_seed(3)
    assert autograd.rand(4, device='cuda', generator=g1).tolist() == \
        autograd.rand(4, device='cuda', generator=g2).tolist()
    with pytest.raises(RuntimeError, match='Expected a cuda device type for generator'):
        autograd.rand(2, device='cuda', generator=autograd.Generator('cpu'))


# ----------------------------------------------------------------------------- transfers

def test_round_trip_between_devices(cuda):
    x = autograd.tensor([[1.5, -2.0], [3.0, 4.25]], dtype=autograd.float64, device='cpu')
    y = x.to('cuda')
    assert y.device == cuda and y.dtype == autograd.float64
    for back in (y.cpu(), y.to('cpu'), y.to(autograd.device('cpu'))):
        assert back.device == autograd.device('cpu')
        np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert x.cuda().device == cuda and x.cuda(cuda.index).device == cuda


def test_to_the_same_device_returns_the_tensor_itself(cuda):
    y = autograd.ones(2, device='cuda')
    assert y.to('cuda') is y and y.cuda() is y
    assert y.to('cuda', copy=True) is not y


def test_to_device_and_dtype_at_once(cuda):
    y = autograd.tensor([1, 2, 3], device='cpu').to('cuda', autograd.float32)
    assert y.device == cuda and y.dtype == autograd.float32
    z = autograd.ones(2, device='cpu').to(device='cuda', dtype=autograd.float64)
    assert z.device == cuda and z.dtype == autograd.float64


def test_gradient_flows_back_across_a_transfer(cuda):
    # d/dx sum(3 * (x on cuda)^2) = 6x, arriving on x's own device
    x = autograd.tensor([1.0, -2.0, 0.5], requires_grad=True, device='cpu')
    (3 * x.cuda() ** 2).sum().backward()
    assert x.grad.device == autograd.device('cpu')
    np.testing.assert_allclose(x.grad.numpy(), [6.0, -12.0, 3.0])


def test_gradient_of_a_cuda_leaf_stays_on_cuda(cuda):
    w = autograd.tensor([[1.0, 2.0], [3.0, 4.0]], device='cuda', requires_grad=True)
    x = autograd.tensor([[1.0], [-1.0]], device='cuda')
    (w @ x).sum().backward()                # d/dw sum(w x) = 1 x^T
    assert w.grad.device == cuda
    np.testing.assert_array_equal(host(w.grad), [[1.0, -1.0], [1.0, -1.0]])


def test_repeated_index_gradient_sums_on_cuda(cuda):
    # the scatter-add of an index gradient, on the device's array module
    w = autograd.ones(3, 2, device='cuda', requires_grad=True)
    w[autograd.tensor([0, 2, 0, 0], device='cuda')].sum().backward()
    np.testing.assert_array_equal(host(w.grad), [[3, 3], [0, 0], [1, 1]])


# ----------------------------------------------------------------------------- no silent transfers

def test_numpy_of_a_cuda_tensor_raises_as_pytorch(cuda):
    y = autograd.ones(2, device='cuda')
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy"):
        y.numpy()
    with pytest.raises(TypeError):
        np.asarray(y)


def test_item_tolist_and_printing_read_cuda_tensors(cuda):
    y = autograd.tensor([1.0, 2.0], device='cuda')
    assert y.sum().item() == 3.0 and y.tolist() == [1.0, 2.0]
    assert float(y[1]) == 2.0 and bool(y[0] > 0)
    assert repr(y) == "tensor([1., 2.], device='cuda:0')"


@pytest.mark.parametrize('op', [
    lambda a, b: a + b,
    lambda a, b: b * a,
    lambda a, b: a @ b,
    lambda a, b: autograd.cat([a, b]),
    lambda a, b: autograd.stack([b, a]),
    lambda a, b: autograd.where(b > 0, a, b),
    lambda a, b: a.add_(b),
    lambda a, b: autograd.maximum(a, b),
], ids=['add', 'mul', 'matmul', 'cat', 'stack', 'where', 'add_', 'maximum'])
def test_mixing_devices_raises_naming_both(cuda, op):
    a, b = autograd.ones(2, 2, device='cpu'), autograd.ones(2, 2, device='cuda')
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device') as e:
        op(a, b)
    assert 'cpu' in str(e.value) and 'cuda:0' in str(e.value)


def test_module_on_cuda_called_with_a_cpu_input_raises(cuda):
    layer = nn.Linear(3, 2).to('cuda')
    with pytest.raises(RuntimeError, match='cpu and cuda:0|cuda:0 and cpu'):
        layer(autograd.ones(1, 3, device='cpu'))


def test_conv_on_cuda_called_with_a_cpu_input_raises(cuda):
    conv = nn.Conv2d(1, 1, 3).cuda()
    with pytest.raises(RuntimeError, match='cpu and cuda:0|cuda:0 and cpu'):
        conv(autograd.ones(1, 1, 5, 5, device='cpu'))


def test_optimizer_step_with_a_gradient_on_another_device_raises(cuda):
    p = nn.Parameter(autograd.ones(2, device='cuda'))
    with pytest.raises(RuntimeError, match='same device'):   # assigning one checks, as PyTorch
        p.grad = autograd.ones(2, device='cpu')
    p.grad = autograd.ones(2, device='cuda')
    p.grad.data = autograd.ones(2, device='cpu')             # (.data does not check)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(RuntimeError, match='cuda:0') as e:
        opt.step()
    assert 'cpu' in str(e.value)
    assert p.tolist() == [1.0, 1.0]          # nothing half-updated


# ----------------------------------------------------------------------------- modules and optimizers

def small_net():
    """A CPU network (whatever the default device), the same for every call."""
    autograd.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    return net.to('cpu')


def test_module_to_moves_parameters_and_buffers(cuda):
    net = small_net()
    weight = net[0].weight
    assert net.to('cuda') is net
    assert net[0].weight is weight                       # parameters keep their identity
    assert {str(t.device) for t in net.state_dict().values()} == {'cuda:0'}
    net.cpu()
    assert {str(t.device) for t in net.state_dict().values()} == {'cpu'}
    net.cuda()
    assert net[1].running_mean.device == cuda


def test_module_gives_the_same_results_on_both_devices(cuda):
    cpu_net, gpu_net = small_net(), small_net().to('cuda')      # same seed, same weights
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out_cpu = cpu_net(autograd.tensor(x, device='cpu'))
    out_gpu = gpu_net(autograd.tensor(x, device='cuda'))
    out_cpu.sum().backward()
    out_gpu.sum().backward()
    np.testing.assert_allclose(host(out_gpu), host(out_cpu), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(gpu_net[0].weight.grad), host(cpu_net[0].weight.grad),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name, kwargs', [('SGD', dict(lr=0.1, momentum=0.9)),
                                          ('Adam', dict(lr=0.01)), ('RMSprop', dict(lr=0.01)),
                                          ('Adagrad', dict(lr=0.1))])
def test_optimizer_state_lives_on_the_parameter_device(cuda, name, kwargs):
    p = nn.Parameter(autograd.tensor([1.0, -2.0], device='cuda'))
    opt = getattr(optim, name)([p], **kwargs)
    (p ** 2).sum().backward()
    opt.step()
    buffers = [v for v in opt.state[p].values() if isinstance(v, autograd.Tensor) and v.ndim]
    assert buffers and all(v.device == cuda for v in buffers)


def test_optimizer_steps_match_pytorch_on_cuda(cuda):
    start = [1.0, -2.0, 0.5]
    theirs = torch.nn.Parameter(torch.tensor(start))
    ours = nn.Parameter(autograd.tensor(start, device='cuda'))
    t_opt, o_opt = torch.optim.Adam([theirs], lr=0.1), optim.Adam([ours], lr=0.1)
    for _ in range(3):
        for lib, p, opt in ((torch, theirs, t_opt), (autograd, ours, o_opt)):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-6)


def test_optimizer_state_loaded_from_cpu_moves_to_the_parameters(cuda):
    cpu_p = nn.Parameter(autograd.tensor([1.0, 2.0], device='cpu'))
    cpu_opt = optim.Adam([cpu_p], lr=0.1)
    (cpu_p ** 2).sum().backward()
    cpu_opt.step()
    p = nn.Parameter(autograd.tensor([1.0, 2.0], device='cuda'))
    opt = optim.Adam([p], lr=0.1)
    opt.load_state_dict(cpu_opt.state_dict())
    assert opt.state[p]['exp_avg'].device == cuda
    np.testing.assert_array_equal(host(opt.state[p]['exp_avg']),
                                  host(cpu_opt.state[cpu_p]['exp_avg']))


def test_dataloader_batches_move_with_to(cuda):
    ds = TensorDataset(autograd.arange(6.0, device='cpu').reshape(3, 2),
                       autograd.tensor([0, 1, 2], device='cpu'))
    for x, y in DataLoader(ds, batch_size=2):
        x, y = x.to(cuda), y.to(cuda)
        assert x.device == cuda and y.device == cuda


# ----------------------------------------------------------------------------- checkpoints

def trained_on_cuda():
    net = small_net().to('cuda')
    opt = optim.SGD(net.parameters(), lr=0.1)
    net(autograd.randn(4, 3, device='cuda')).sum().backward()
    opt.step()
    return net


def test_checkpoint_saved_on_cuda_loads_into_a_cpu_model(cuda, tmp_path):
    net = trained_on_cuda()
    autograd.save(net.state_dict(), tmp_path / 'ckpt.pt')
    state = autograd.load(tmp_path / 'ckpt.pt', map_location='cpu')
    assert {str(t.device) for t in state.values()} == {'cpu'}
    cpu_net = small_net()
    cpu_net.load_state_dict(state)
    x = autograd.randn(2, 3, device='cpu')
    net.eval(), cpu_net.eval()
    np.testing.assert_allclose(host(cpu_net(x)), host(net(x.cuda())), rtol=1e-6)


def test_checkpoint_saved_on_cuda_keeps_its_device_by_default(cuda, tmp_path):
    autograd.save(trained_on_cuda().state_dict(), tmp_path / 'ckpt.pt')
    state = autograd.load(tmp_path / 'ckpt.pt')
    assert {str(t.device) for t in state.values()} == {'cuda:0'}


def test_checkpoint_saved_on_cpu_loads_onto_cuda(cuda, tmp_path):
    net = small_net()
    autograd.save(net.state_dict(), tmp_path / 'ckpt.pt')
    for where in ('cuda', cuda, {'cpu': 'cuda:0'}):
        state = autograd.load(tmp_path / 'ckpt.pt', map_location=where)
        assert {str(t.device) for t in state.values()} == {'cuda:0'}
    gpu_net = small_net().to('cuda')
    gpu_net.load_state_dict(state)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(host(gpu_net.state_dict()[k]), host(v))


def test_cuda_checkpoint_on_a_machine_without_cupy_needs_map_location(cuda, tmp_path):
    path = tmp_path / 'ckpt.pt'
    autograd.save(trained_on_cuda().state_dict(), path)
    r = run_child(NO_CUPY + f'''import autograd
try:
    autograd.load({str(path)!r})
except RuntimeError as e:
    print('refused:', "map_location='cpu'" in str(e))
state = autograd.load({str(path)!r}, map_location='cpu')
print(sorted({{str(t.device) for t in state.values()}}))
''')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split('\n')[:2] == ['refused: True', "['cpu']"]

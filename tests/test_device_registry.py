"""The device registry: a backend is one module, and a new one registers in a few lines.

The test backend ``twin`` computes with NumPy in host memory, like the CPU, but is a device
of its own: tensors on it go through ops and backward, and mixing them with CPU tensors
raises PyTorch's device-mismatch error.  Tensors are made with explicit devices: the
suite also runs with a cuda default device.
"""
import types

import numpy as np
import pytest

import autograd
import nn
from autograd import devices
from autograd.devices import cpu


@pytest.fixture
def twin():
    """A third backend: NumPy's allocation, moves and math under the type name 'twin'."""
    twin = types.ModuleType('twin')
    vars(twin).update({name: getattr(cpu, name) for name in devices.INTERFACE})
    twin.TYPE = 'twin'
    twin.DEVICE = devices.Device(twin, None, np)
    twin.device = lambda index=None: twin.DEVICE
    twin.device_of = lambda a: None          # a NumPy array alone means the CPU
    devices.register(twin)
    yield twin.DEVICE
    devices.unregister('twin')


def test_a_registered_backend_is_a_device_by_name(twin):
    assert autograd.device('twin') is twin and twin == 'twin' and twin != 'cpu'
    assert str(twin) == 'twin' and repr(twin) == "device(type='twin')"
    assert 'twin' in devices.registered()


def test_tensors_on_it_go_through_ops_and_backward(twin):
    x = autograd.tensor([1.0, 2.0, 3.0], device='twin', requires_grad=True)
    w = autograd.randn(3, device=twin)
    y = (x * x + w).sum()
    assert y.device == twin and x.device == 'twin' and not x.is_cuda
    y.backward()
    assert x.grad.device is twin and x.grad.tolist() == [2.0, 4.0, 6.0]
    assert repr(x.detach()) == "tensor([1., 2., 3.], device='twin')"
    assert x.get_device() == -1


def test_moving_to_it_and_layers_on_it(twin):
    x = autograd.ones(2, 3, device='cpu', requires_grad=True)
    y = x.to('twin')
    assert y.device is twin and y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.device == 'cpu' and x.grad.tolist() == [[2.0] * 3] * 2
    layer = nn.Linear(3, 2).to(twin)
    out = layer(autograd.ones(4, 3, device=twin))
    out.sum().backward()
    assert out.device is twin and layer.weight.grad.device is twin


def test_mixing_it_with_the_cpu_raises_as_pytorch(twin):
    a = autograd.ones(2, device='twin')
    b = autograd.ones(2, device='cpu')
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device, '
                       'but found at least two devices, twin and cpu'):
        a + b
    with pytest.raises(TypeError, match="can't convert twin device type tensor to numpy"):
        a.numpy()


def test_unknown_device_types_name_the_registered_ones(twin):
    with pytest.raises(RuntimeError, match='Expected one of cpu, cuda, twin device type at '
                       'start of device string: tpu'):
        autograd.device('tpu')


def test_unregistering_forgets_the_type():
    devices.register(types.SimpleNamespace(TYPE='gone', **{
        name: getattr(cpu, name) for name in devices.INTERFACE}))
    devices.unregister('gone')
    with pytest.raises(RuntimeError, match='Expected one of cpu, cuda device type'):
        autograd.device('gone')


def test_a_backend_missing_part_of_the_interface_is_refused():
    with pytest.raises(TypeError, match='a backend needs .*asarray'):
        devices.register(types.SimpleNamespace(TYPE='half', device=cpu.device))
    with pytest.raises(RuntimeError, match="'cpu' is already registered"):
        devices.register(types.SimpleNamespace(TYPE='cpu', **{
            name: getattr(cpu, name) for name in devices.INTERFACE}))


def test_cuda_method_refuses_another_device_type_as_pytorch():
    with pytest.raises(RuntimeError, match='Invalid device, must be cuda device'):
        autograd.ones(1, device='cpu').cuda('cpu')

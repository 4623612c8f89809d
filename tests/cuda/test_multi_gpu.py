"""Several GPUs, and the CuPy paths a real GPU takes, exercised on the CuPy stand-in.

Each check runs in a fresh Python with the stand-in (``CUPY_STAND_IN_DEVICES=2`` makes two
GPUs; ``CUPY_STAND_IN_VERSION`` picks the CuPy whose scatter paths it mirrors), so these
run on the plain leg and the cuda leg alike.
"""
import pytest

import autograd
import autograd.cuda
from device_helpers import run_child

PRELUDE = '''
import autograd, autograd.cuda, cupy, cupy_stand_in as S, numpy as np
from autograd.extend import array_of
'''


def run(code, **env):
    res = run_child(PRELUDE + code, stand_in=True, **env)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_memory_functions_read_each_gpu_arena():
    out = run('''
x = autograd.zeros(1000, device='cuda:0')                 # 4000 bytes on GPU 0
with autograd.cuda.device(1):
    y = autograd.zeros(500, device='cuda:1', dtype=autograd.float64)   # 4000 on GPU 1
    z = autograd.zeros(250, device='cuda:1')              # 1000 more on GPU 1
print(autograd.cuda.memory_allocated(0), autograd.cuda.memory_allocated('cuda:1'))
with autograd.cuda.device(1):
    print(autograd.cuda.memory_allocated())
del z
print(autograd.cuda.memory_allocated(1), autograd.cuda.memory_reserved(1))
autograd.cuda.empty_cache()
print(autograd.cuda.memory_reserved(1), sorted(S.POOL.freed))
''', CUPY_STAND_IN_DEVICES='2')
    assert out.split('\n')[:4] == ['4000 5000', '5000', '4000 5000', '4000 [0, 1]']


def test_empty_cache_frees_device_keyed_scratch_buffers():
    out = run('''
import nn
from nn.functional import _buffers
lstm = nn.LSTM(4, 8)
for dev in ('cuda:0', 'cuda:1'):
    lstm = lstm.to(dev)
    with autograd.cuda.device(dev):
        out, _ = lstm(autograd.randn(5, 2, 4, device=dev))
    out.sum().backward()
devs = sorted({key[1] for key in _buffers._kept})
kept = [a for arrays in _buffers._kept.values() for a in arrays]
# each GPU's buffers are on that GPU: none is handed to an op on the other
print(devs, all(a.device.id == key[1] for key in _buffers._kept for a in _buffers._kept[key]))
before = autograd.cuda.memory_reserved(1)
del out, lstm, kept
autograd.cuda.empty_cache()
print(len(_buffers._kept), _buffers._bytes)
''', CUPY_STAND_IN_DEVICES='2')
    assert out.split('\n')[:2] == ['[0, 1] True', '0 0']


def test_gpu_to_gpu_copies_go_device_to_device():
    out = run('''
x = autograd.randn(3, 4, device='cuda:0', requires_grad=True)
with S.count_syncs() as c:
    y = x.to('cuda:1')
    (y * 2).sum().backward()                             # the gradient goes back 1 -> 0
print(y.device, array_of(y).device.id, x.grad.device, array_of(x.grad).device.id)
print(c.count(), len(c.to_device))
print(bool((y.cpu() == x.detach().cpu()).all()), bool((x.grad.cpu() == 2).all()))
''', CUPY_STAND_IN_DEVICES='2')
    assert out.split('\n')[:3] == ['cuda:1 1 cuda:0 0', '0 0', 'True True']


def test_a_device_index_past_the_last_gpu_raises():
    out = run('''
try:
    autograd.zeros(1, device='cuda:2')
except RuntimeError as e:
    print(e)
''', CUPY_STAND_IN_DEVICES='2')
    assert 'invalid device ordinal 2 (2 device(s) available)' in out


def test_cuda_generator_state_round_trips():
    out = run('''
g = autograd.Generator('cuda').manual_seed(3)
state = g.get_state()
a = autograd.rand(5, device='cuda', generator=g)
b = autograd.rand(5, device='cuda', generator=g)
g.set_state(state)
print(state.dtype, state.device, bool((autograd.rand(5, device='cuda', generator=g) == a).all()),
      bool((a == b).all()))
try:
    g.set_state(state[:4])
except RuntimeError as e:
    print(e)
''')
    assert out.split('\n')[:2] == [
        'autograd.uint8 cpu True False',
        'Expected a state of 37 bytes for the cuda generator, got 4']


def test_is_available_asks_again_and_lets_bugs_through():
    code = '''
import sys, types
calls = []
def count():
    calls.append(1)
    if len(calls) == 1:
        raise RuntimeError('cudaErrorInsufficientDriver')    # no driver yet: 0, not kept
    return 1
cupy = types.ModuleType('cupy')
cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count))
sys.modules['cupy'] = cupy
import autograd.cuda
print(autograd.cuda.is_available(), autograd.cuda.is_available(), autograd.cuda.device_count())
def bug():
    raise TypeError('a bug in the caller, not a missing GPU')
from autograd.devices import cuda as gpu
gpu._count = None
cupy.cuda.runtime.getDeviceCount = bug
try:
    autograd.cuda.is_available()
except TypeError as e:
    print('raised', e)
'''
    res = run_child(code)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split('\n')[:2] == [
        'False True 1', 'raised a bug in the caller, not a missing GPU']


# ----------------------------------------------------------------------------- CuPy's scatter paths

SCATTER = '''
autograd.device('cuda')
from autograd import backend
out, key, values = cupy.zeros(4), cupy.asarray([0, 2, 0, 0]), cupy.asarray([1.0, 2.0, 3.0, 4.0])
x = autograd.randn(4, 3, device='cuda', requires_grad=True)
index = autograd.tensor([0, 0, 3], device='cuda')
backend.scatter_add(cupy, cupy.zeros(2), key[:1], values[:1])   # the first call probes add.at
with S.count_syncs() as c:
    backend.scatter_add(cupy, out, key, values)
    x[index].sum().backward()                            # a repeated index: its gradients add
adder = backend._scatter_adders[cupy]
print(hasattr(cupy.add, 'at'), getattr(adder, '__name__', ''), out.tolist())
print(x.grad.sum(dim=1).tolist(), c.count(), len(c.to_device))
'''


@pytest.mark.parametrize('version,path', [('13.3.0', '_at'), ('12.3.0', 'scatter_add')])
def test_scatter_add_takes_the_path_of_that_cupy(version, path):
    """CuPy 13+ has ``add.at``; before, ``cupyx.scatter_add``: the stand-in mirrors both, so
    CI runs what a GPU with either runs (never the syncing ``bincount`` fallback)."""
    out = run(SCATTER, CUPY_STAND_IN_VERSION=version)
    assert out.split('\n')[:2] == [
        f"{version.startswith('13')} {path} [8.0, 0.0, 2.0, 0.0]", '[6.0, 0.0, 0.0, 3.0] 0 0']

"""bfloat16 (``autograd.bfloat16``, ml_dtypes' NumPy dtype) against PyTorch's CPU bfloat16.

What "as PyTorch" means here, measured against PyTorch 2.13 on the CPU:

- conversions, printing, promotion, finfo: identical;
- forward values: bit-identical for elementwise ops, reductions (sums and means accumulate
  in float32, as PyTorch's kernels do), matrix products (float32 accumulation, one
  rounding) and the fused functions (softmax, GELU, layer norm, cross-entropy: computed in
  float32 and rounded once, ``autograd.extend.opmath``); within one bfloat16 ulp where an
  op meets a Python float (``x * 0.3``: NumPy rounds 0.3 to bfloat16 first, PyTorch keeps
  it in float32);
- gradients: in bfloat16, within two bfloat16 ulps of the gradient's largest magnitude
  (backward formulas are compositions of ops, each rounding to bfloat16, where PyTorch's
  backward kernels round once).
- log_softmax and cross-entropy: within one ulp (PyTorch rounds the shift
  max + log(sum exp) to bfloat16 before subtracting it; here it stays float32).

bfloat16 is a CPU dtype: CuPy has none, so on the cuda device it is PyTorch's TypeError.
The bfloat16 computations below run on the CPU (the default device is the CPU's during each
test, also on the cuda leg); on the cuda leg the cuda checks run.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import nn.functional as F
import optim
from oracle import torch

ml_dtypes = pytest.importorskip('ml_dtypes')
TF = torch.nn.functional
CPU = 'cpu'
EPS = 2.0 ** -7                     # one bfloat16 ulp at 1 (finfo(bfloat16).eps)


@pytest.fixture(autouse=True)
def _on_the_cpu():
    before = autograd.get_default_device()
    autograd.set_default_device('cpu')
    yield
    autograd.set_default_device(before)


def ours(a, requires_grad=False):
    return autograd.tensor(a, dtype=autograd.bfloat16, device=CPU, requires_grad=requires_grad)


def theirs(a, requires_grad=False):
    return torch.tensor(a, dtype=torch.bfloat16, requires_grad=requires_grad)


def host(t):
    """A tensor of either library as float64 NumPy (bfloat16 values are exact there)."""
    if isinstance(t, autograd.Tensor):
        return t.detach().cpu().float().numpy().astype(np.float64)
    return t.detach().float().numpy().astype(np.float64)


def ulps(a, b):
    """The largest distance between ``a`` and ``b`` in bfloat16 ulps (bfloat16 values)."""
    ia = np.asarray(a, np.float32).view(np.int32).astype(np.int64) >> 16
    ib = np.asarray(b, np.float32).view(np.int32).astype(np.int64) >> 16
    # as sign-magnitude integers: +0 and -0 are one value
    ia = np.where(ia < 0, -(ia & 0x7FFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFF), ib)
    return int(np.abs(ia - ib).max()) if ia.size else 0


# ----------------------------------------------------------------------------- the dtype

def test_the_dtype_as_pytorch():
    b = autograd.bfloat16
    assert repr(b) == 'autograd.bfloat16' and b.is_floating_point and b.is_signed
    assert b.itemsize == torch.bfloat16.itemsize == 2
    assert autograd.tensor([1.0], dtype=b).element_size() == 2
    assert autograd.tensor([1.0]).bfloat16().type() == torch.ones(1).bfloat16().type()
    x = ours([1.0])
    assert x.is_floating_point() and autograd.is_floating_point(x)
    assert x.numpy().dtype == np.dtype(ml_dtypes.bfloat16)


@pytest.mark.parametrize('name', ['bfloat16', 'float16', 'float32', 'float64', None])
def test_finfo_as_pytorch(name):
    a = autograd.finfo(getattr(autograd, name)) if name else autograd.finfo()
    t = torch.finfo(getattr(torch, name)) if name else torch.finfo()
    for attr in ('bits', 'eps', 'max', 'min', 'tiny', 'smallest_normal', 'resolution', 'dtype'):
        assert getattr(a, attr) == getattr(t, attr), attr
    assert repr(a) == repr(t)


@pytest.mark.parametrize('name', ['uint8', 'int8', 'int16', 'int32', 'int64'])
def test_iinfo_as_pytorch(name):
    a, t = autograd.iinfo(getattr(autograd, name)), torch.iinfo(getattr(torch, name))
    assert (a.bits, a.min, a.max, a.dtype) == (t.bits, t.min, t.max, t.dtype)
    assert repr(a) == repr(t)


def test_finfo_iinfo_refuse_the_other_kind_as_pytorch():
    for lib in (autograd, torch):
        with pytest.raises(TypeError, match='finfo'):
            lib.finfo(lib.int64)
        with pytest.raises(TypeError, match='iinfo'):
            lib.iinfo(lib.bfloat16)


DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16',
          'float32', 'float64']


@pytest.mark.parametrize('other', DTYPES)
def test_promotion_as_pytorch(other):
    """bfloat16 + float16 -> float32; with integers and bool -> bfloat16; wider floats win."""
    got = autograd.promote_types(autograd.bfloat16, getattr(autograd, other))
    want = torch.promote_types(torch.bfloat16, getattr(torch, other))
    assert got.name == str(want).split('.')[1]
    assert autograd.promote_types(getattr(autograd, other), autograd.bfloat16) is got
    # tensors with dimensions of both dtypes, through an operator
    a = autograd.ones(2, dtype=getattr(autograd, other), device=CPU)
    assert (ours([1.0, 2.0]) + a).dtype is got


def test_promotion_with_numbers_and_zero_dim_tensors_as_pytorch():
    for make in (lambda lib, v, d: lib.tensor(v, dtype=getattr(lib, d)),):
        cases = [(2, None), (2.5, None), (True, None), ('float32', 0), ('float64', 0),
                 ('int64', 0)]
        for value, dim in cases:
            res = []
            for lib in (autograd, torch):
                x = make(lib, [1.5, -2.25], 'bfloat16')
                other = value if dim is None else make(lib, 3.0 if 'float' in value else 3,
                                                       value)
                res.append(str((x * other).dtype).split('.')[1])
            assert res[0] == res[1] == 'bfloat16', (value, res)
    # a 0-d bfloat16 next to a float32 tensor with dimensions: float32, as PyTorch
    assert (autograd.ones(2, device=CPU) * ours(2.0)).dtype is autograd.float32


# ----------------------------------------------------------------------------- conversions

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.floats(-3e38, 3e38, allow_nan=False, width=64), min_size=1, max_size=8))
def test_conversions_round_as_pytorch(values):
    """From Python floats, float64 and float32 tensors: round to nearest even, as PyTorch."""
    want = host(theirs(values))
    np.testing.assert_array_equal(host(ours(values)), want)
    np.testing.assert_array_equal(
        host(autograd.tensor(values, dtype=autograd.float64, device=CPU).bfloat16()),
        host(torch.tensor(values, dtype=torch.float64).bfloat16()))
    f32 = np.asarray(values, np.float32)
    np.testing.assert_array_equal(
        host(autograd.tensor(f32, device=CPU).to(autograd.bfloat16)),
        host(torch.tensor(f32).to(torch.bfloat16)))


def test_conversions_back_and_between_dtypes_as_pytorch():
    v = [0.1, -2.7, 3e38, 1e-40, float('inf'), float('nan'), 7.0]
    for target in ('float16', 'float32', 'float64', 'int32', 'bool'):
        # (out-of-range values to integers are undefined in C++: not compared)
        keep = [0.1, -2.7, 1e-40, 7.0, -300.5] if target == 'int32' else v[:-2] + [7.0]
        a = ours(keep).to(getattr(autograd, target))
        t = theirs(keep).to(getattr(torch, target))
        assert str(a.dtype).split('.')[1] == str(t.dtype).split('.')[1]
        np.testing.assert_array_equal(a.numpy().astype(np.float64), t.numpy().astype(np.float64))
    np.testing.assert_array_equal(np.isnan(host(ours(v))), np.isnan(host(theirs(v))))
    assert ours(v).tolist()[:2] == theirs(v).tolist()[:2]
    assert ours(2.5).item() == theirs(2.5).item() == 2.5
    # the factories take the dtype as PyTorch's do
    for fn in ('zeros', 'ones'):
        assert getattr(autograd, fn)(2, dtype=autograd.bfloat16, device=CPU).dtype is \
            autograd.bfloat16
    np.testing.assert_array_equal(
        host(autograd.full((3,), 1.1, dtype=autograd.bfloat16, device=CPU)),
        host(torch.full((3,), 1.1, dtype=torch.bfloat16)))
    np.testing.assert_array_equal(
        host(autograd.arange(0, 300, 7, dtype=autograd.bfloat16, device=CPU)),
        host(torch.arange(0, 300, 7, dtype=torch.bfloat16)))
    assert autograd.randn(3, dtype=autograd.bfloat16, device=CPU).dtype is autograd.bfloat16


# (values whose line with the suffix fits, and no inf/nan: for every dtype the formatter
# does not wrap a long suffix onto a second line as PyTorch does, and pads ' 1.' after inf)
@pytest.mark.parametrize('values', [[1.5, 2.3, -3.1], [[0.1, 1e5], [-2.0, 0.0]], 0.3, [],
                                    [1e30, 1e-30], [3e38, 2.5e-39]])
def test_printing_as_pytorch(values):
    a, t = ours(values, requires_grad=True), theirs(values, requires_grad=True)
    assert repr(a) == repr(t).replace('torch.', 'autograd.')
    assert repr(a.detach()) == repr(t.detach()).replace('torch.', 'autograd.')


# ----------------------------------------------------------------------------- arithmetic

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 6))
B = rng.standard_normal((4, 6))
POS = np.abs(A) + 0.5
M = rng.standard_normal((6, 3))


def _f(lib):
    return F if lib is autograd else TF


# name: (fn(lib, *tensors), inputs); every forward value bit-identical to PyTorch's
EXACT = {
    'add': (lambda L, x, y: x + y, (A, B)), 'sub': (lambda L, x, y: x - y, (A, B)),
    'mul': (lambda L, x, y: x * y, (A, B)), 'div': (lambda L, x, y: x / y, (A, B)),
    'mul_int': (lambda L, x: x * 3, (A,)), 'neg': (lambda L, x: -x, (A,)),
    'square': (lambda L, x: x ** 2, (A,)), 'pow': (lambda L, x: x ** x, (POS,)),
    'exp': (lambda L, x: x.exp(), (A,)), 'log': (lambda L, x: x.log(), (POS,)),
    'sqrt': (lambda L, x: x.sqrt(), (POS,)), 'rsqrt': (lambda L, x: x.rsqrt(), (POS,)),
    'tanh': (lambda L, x: x.tanh(), (A,)), 'sigmoid': (lambda L, x: x.sigmoid(), (A,)),
    'sin': (lambda L, x: x.sin(), (A,)), 'abs': (lambda L, x: x.abs(), (A,)),
    'relu': (lambda L, x: x.relu(), (A,)), 'erf': (lambda L, x: x.erf(), (A,)),
    'clamp': (lambda L, x: x.clamp(-0.5, 0.5), (A,)),
    'maximum': (lambda L, x, y: L.maximum(x, y), (A, B)),
    'where': (lambda L, x, y: L.where(x > 0, x, y), (A, B)),
    'sum': (lambda L, x: x.sum(), (A,)), 'sum_dim': (lambda L, x: x.sum(1), (A,)),
    'mean': (lambda L, x: x.mean(0), (A,)), 'var': (lambda L, x: x.var(1), (A,)),
    'std': (lambda L, x: x.std(), (A,)), 'max': (lambda L, x: x.max(1)[0], (A,)),
    'prod': (lambda L, x: x.prod(1), (A,)), 'cumsum': (lambda L, x: x.cumsum(1), (A,)),
    'logsumexp': (lambda L, x: x.logsumexp(1), (A,)), 'norm': (lambda L, x: x.norm(), (A,)),
    'matmul': (lambda L, x, y: x @ y, (A, M)),
    'bmm': (lambda L, x, y: L.bmm(x.reshape(2, 2, 6), y.reshape(2, 6, 2)), (A, B)),
    'einsum': (lambda L, x, y: L.einsum('ij,jk->ik', x, y), (A, M)),
    'linear': (lambda L, x, y: _f(L).linear(x, y.t()), (A, M)),
    'softmax': (lambda L, x: x.softmax(1), (A,)),
    'gelu': (lambda L, x: _f(L).gelu(x), (A,)), 'silu': (lambda L, x: _f(L).silu(x), (A,)),
    'softplus': (lambda L, x: _f(L).softplus(x), (A,)),
    'layer_norm': (lambda L, x: _f(L).layer_norm(x, (6,)), (A,)),
    'mse_loss': (lambda L, x, y: _f(L).mse_loss(x, y), (A, B)),
    'cat': (lambda L, x, y: L.cat([x, y]), (A, B)),
    'index': (lambda L, x: x[[0, 2, 2]], (A,)),
    'conv1d': (lambda L, x, y: _f(L).conv1d(x.reshape(1, 4, 6), y.reshape(2, 4, 3)), (A, B)),
}
# a Python float operand: NumPy rounds it to bfloat16 first, PyTorch does not (<= 1 ulp)
ONE_ULP = {
    'mul_float': (lambda L, x: x * 0.3, (A,)),
    'leaky_relu': (lambda L, x: _f(L).leaky_relu(x, 0.1), (A,)),
    # PyTorch rounds the shift max + log(sum exp) to bfloat16 before subtracting it
    'log_softmax': (lambda L, x: x.log_softmax(1), (A,)),
    'cross_entropy': (lambda L, x: _f(L).cross_entropy(x, L.tensor([0, 1, 2, 5])), (A,)),
}


def _run(lib, make, fn, inputs):
    xs = [make(a, requires_grad=True) for a in inputs]
    out = fn(lib, *xs)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(make(w))
    return out, xs


@pytest.mark.parametrize('name', sorted(EXACT) + sorted(ONE_ULP))
def test_ops_compute_as_pytorch_cpu(name):
    fn, inputs = EXACT.get(name) or ONE_ULP[name]
    a, xs = _run(autograd, ours, fn, inputs)
    t, ts = _run(torch, theirs, fn, inputs)
    assert a.dtype is autograd.bfloat16 and t.dtype == torch.bfloat16
    assert ulps(host(a), host(t)) <= (0 if name in EXACT else 1)
    for x, y in zip(xs, ts):
        assert x.grad.dtype is autograd.bfloat16                # gradients in bfloat16
        g, h = host(x.grad), host(y.grad)
        np.testing.assert_allclose(g, h, rtol=0, atol=2 * EPS * np.abs(h).max())


@pytest.mark.parametrize('shape', [(33, 70, 20), (1, 257, 3), (5, 1000, 1)])
def test_matmul_accumulates_in_float32_as_pytorch(shape):
    """Long inner products: one rounding of a float32 sum (bfloat16 steps would drift by
    many ulps; the order of PyTorch's float32 sum may move a result by one ulp)."""
    m, k, n = shape
    r = np.random.default_rng(k)
    x, y = r.standard_normal((m, k)), r.standard_normal((k, n))
    got, want = host(ours(x) @ ours(y)), host(theirs(x) @ theirs(y))
    assert ulps(got, want) <= 1
    assert ulps(host(ours(x).sum(1)), host(theirs(x).sum(1))) <= 1


def test_training_a_bfloat16_model_as_pytorch():
    """A Linear-Tanh-Linear model cast with .bfloat16(), SGD on bfloat16 parameters: the
    losses follow PyTorch's to bfloat16 precision, step by step."""
    r = np.random.default_rng(3)
    x, target = r.standard_normal((16, 5)), r.standard_normal((16, 2))
    w1, b1, w2, b2 = (r.standard_normal(s) * 0.5 for s in [(8, 5), (8,), (2, 8), (2,)])
    losses = {}
    for lib, nnm, opt in ((autograd, nn, optim), (torch, torch.nn, torch.optim)):
        model = nnm.Sequential(nnm.Linear(5, 8), nnm.Tanh(), nnm.Linear(8, 2))
        with lib.no_grad():
            for p, v in zip(model.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(v))
        model = model.bfloat16()
        assert all(p.dtype == lib.bfloat16 for p in model.parameters())
        sgd = opt.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xs, ts = (lib.tensor(v, dtype=lib.bfloat16) for v in (x, target))
        losses[lib] = []
        for _ in range(5):
            sgd.zero_grad()
            loss = ((model(xs) - ts) ** 2).mean()
            loss.backward()
            sgd.step()
            losses[lib].append(loss.item())
        assert all(p.grad.dtype == lib.bfloat16 for p in model.parameters())
    np.testing.assert_allclose(losses[autograd], losses[torch], rtol=4 * EPS)


# ----------------------------------------------------------------------------- saving

def test_save_load_state_dict_keeps_bfloat16(tmp_path):
    model = nn.Linear(3, 2).bfloat16()
    autograd.save(model.state_dict(), tmp_path / 'm.pt')
    state = autograd.load(tmp_path / 'm.pt')
    assert state['weight'].dtype is autograd.bfloat16
    np.testing.assert_array_equal(host(state['weight']), host(model.weight))
    fresh = nn.Linear(3, 2).bfloat16()
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(host(fresh.bias), host(model.bias))


def test_safetensors_bf16_both_ways_with_pytorch(tmp_path):
    pytest.importorskip('safetensors')
    import safetensors.torch
    from autograd import safetensors as ours_st
    w = autograd.randn(3, 4, device=CPU).bfloat16()
    ours_st.save_file({'w': w}, tmp_path / 'ours.safetensors')
    loaded = safetensors.torch.load_file(tmp_path / 'ours.safetensors')
    assert loaded['w'].dtype == torch.bfloat16
    np.testing.assert_array_equal(host(loaded['w']), host(w))
    with open(tmp_path / 'ours.safetensors', 'rb') as fh:        # the header says BF16
        assert b'"dtype":"BF16"' in fh.read(200)
    t = torch.randn(2, 5).bfloat16()
    safetensors.torch.save_file({'t': t}, tmp_path / 'theirs.safetensors')
    back = ours_st.load_file(tmp_path / 'theirs.safetensors')
    assert back['t'].dtype is autograd.bfloat16
    np.testing.assert_array_equal(host(back['t']), host(t))


# ----------------------------------------------------------------------------- autocast

def test_cpu_autocast_runs_matmuls_in_bfloat16_by_default_as_pytorch():
    r = np.random.default_rng(4)
    x, w = r.standard_normal((4, 5)).astype(np.float32), r.standard_normal((3, 5))
    res = []
    for lib in (autograd, torch):
        lin = lib.tensor(w.astype(np.float32), device='cpu', requires_grad=True)
        with lib.autocast('cpu'):
            y = _f(lib).linear(lib.tensor(x, device='cpu'), lin)
            loss = _f(lib).mse_loss(y, lib.zeros(4, 3, device='cpu'))
        loss.backward()
        res.append((str(y.dtype), str(loss.dtype), host(y), lin.grad))
    (dy, dl, y1, g1), (dy2, dl2, y2, g2) = res
    assert (dy.split('.')[1], dl.split('.')[1]) == (dy2.split('.')[1], dl2.split('.')[1]) == \
        ('bfloat16', 'float32')
    assert ulps(y1, y2) == 0
    assert g1.dtype is autograd.float32          # the parameter's own dtype
    np.testing.assert_allclose(host(g1), g2.numpy(), rtol=0, atol=EPS * np.abs(g2.numpy()).max())


# ----------------------------------------------------------------------------- devices

def test_bfloat16_on_the_cuda_device_is_a_type_error():
    if not autograd.cuda.is_available():
        pytest.skip('the cuda leg (CUNUMPY_FAKE_CUPY=1 AUTOGRAD_DEVICE=cuda) checks this')
    x = autograd.ones(2, device='cuda')
    makers = [lambda: autograd.zeros(2, dtype=autograd.bfloat16, device='cuda'),
              lambda: autograd.tensor([1.0], dtype=autograd.bfloat16, device='cuda'),
              lambda: autograd.randn(2, dtype=autograd.bfloat16, device='cuda'),
              lambda: x.bfloat16(), lambda: x.to(autograd.bfloat16),
              lambda: ours([1.0]).cuda(), lambda: ours([1.0]).to('cuda'),
              lambda: nn.Linear(2, 2).cuda().bfloat16()]
    for make in makers:
        with pytest.raises(TypeError, match='bfloat16.*cuda'):
            make()
    with pytest.raises(TypeError, match='bfloat16.*cuda'):
        autograd.autocast('cuda', dtype=autograd.bfloat16)


def test_cuda_says_it_has_no_bfloat16():
    """torch.cuda.is_bf16_supported(): scripts ask it to pick their dtype (nanoGPT's train.py);
    here the answer is False on every machine, as bfloat16 is CPU-only."""
    assert autograd.cuda.is_bf16_supported() is False
    assert autograd.cuda.is_bf16_supported(including_emulation=False) is False


def test_without_ml_dtypes_bfloat16_says_what_to_install():
    """The library imports and works without ml_dtypes; naming bfloat16 is allowed (scripts
    do), using it raises ModuleNotFoundError naming the package; CPU autocast needs
    dtype=float16 then, and says so."""
    code = '''
import sys
sys.modules['ml_dtypes'] = None          # import ml_dtypes fails
import autograd, nn
b = autograd.bfloat16
assert repr(b) == 'autograd.bfloat16' and b.is_floating_point
for use in (lambda: autograd.zeros(2, dtype=b), lambda: autograd.ones(2).to(b),
            lambda: autograd.ones(2).bfloat16(), lambda: b.itemsize, lambda: autograd.finfo(b)):
    try:
        use()
    except ModuleNotFoundError as e:
        assert 'ml_dtypes' in str(e), e
    else:
        raise AssertionError('no error')
try:
    autograd.autocast('cpu')
except RuntimeError as e:
    assert 'ml_dtypes' in str(e)
else:
    raise AssertionError('no error')
with autograd.autocast('cpu', dtype=autograd.float16):
    assert (autograd.ones(2, 2) @ autograd.ones(2, 2)).dtype is autograd.float16
print(nn.Linear(2, 1)(autograd.ones(1, 2)).dtype)
'''
    env = dict(os.environ)
    env.pop('AUTOGRAD_DEVICE', None)
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=env, cwd=os.path.dirname(os.path.dirname(__file__)), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == 'autograd.float32'

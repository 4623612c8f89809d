"""The bad-input catalogue: public functions called with wrong types, shapes, dtypes,
devices and out-of-range values.  Each call runs through PyTorch and through autograd;
PyTorch must refuse it (the case is checked to be bad input) and ours must raise the same
exception type.  The families cover every public function group (math, reductions,
shapes, indexing, creation, random fills, linear algebra, autograd); the generated part
calls every unary math function with a list, a string and None.
"""
import math

import numpy as np
import pytest

import autograd
from oracle import HAVE_TORCH, await_checks, torch

pytestmark = pytest.mark.skipif(not HAVE_TORCH, reason='needs PyTorch, the oracle')


def t(lib, data, dtype=None, **kw):
    """A tensor of ``lib`` (autograd's on the run's default device)."""
    return lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype), **kw)


def m(lib, *shape, dtype='float32', **kw):
    """An arange-filled tensor of ``shape``."""
    n = int(np.prod(shape))
    return lib.arange(n, dtype=getattr(lib, dtype)).reshape(shape).requires_grad_(
        kw.get('requires_grad', False))


def _setitem(x, key, value):
    x[key] = value


def _backward_twice(lib):
    x = t(lib, [1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _inplace_on_leaf(lib):
    x = t(lib, [1.0, 2.0], requires_grad=True)
    x.add_(1)


def _modified_saved(lib):
    x = t(lib, [1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y * y
    y.add_(1)
    z.sum().backward()


def _grad_no_grad(lib):
    x = t(lib, [1.0, 2.0])
    G = torch.autograd.grad if lib is torch else autograd.grad
    G(x.sum(), x)


def _grad_unused(lib):
    x = t(lib, [1.0, 2.0], requires_grad=True)
    y = t(lib, [1.0, 2.0], requires_grad=True)
    G = torch.autograd.grad if lib is torch else autograd.grad
    G((x * 2).sum(), [x, y])


def _nn(lib):
    import nn
    return torch.nn if lib is torch else nn


def _set_grad(lib, shape):
    x = t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    x.grad = lib.ones(*shape)


CASES = {
    # ---- elementwise: shapes, dtypes, argument types
    'add shapes': lambda lib: m(lib, 2, 3) + m(lib, 4),
    'mul shapes': lambda lib: lib.mul(m(lib, 2, 3), m(lib, 2, 2)),
    'where non-bool condition': lambda lib: lib.where(m(lib, 3), m(lib, 3), m(lib, 3)),
    'where shapes': lambda lib: lib.where(m(lib, 3) > 0, m(lib, 3), m(lib, 2)),
    'sub bool': lambda lib: t(lib, [True]) - t(lib, [False]),
    'neg bool': lambda lib: -t(lib, [True]),
    'bitwise_and float': lambda lib: lib.bitwise_and(m(lib, 2), m(lib, 2)),
    'bitwise_or float scalar': lambda lib: t(lib, [1, 2]) | 1.5,
    'bitwise_not float': lambda lib: lib.bitwise_not(m(lib, 2)),
    'invert float': lambda lib: ~m(lib, 2),
    'abs bool': lambda lib: lib.abs(t(lib, [True])),
    'relu bool': lambda lib: lib.relu(t(lib, [True])),
    'round bool': lambda lib: lib.round(t(lib, [True])),
    'floor_divide bool': lambda lib: t(lib, [True]) // t(lib, [True]),
    'pow bool': lambda lib: t(lib, [True]) ** t(lib, [True]),
    'integer div by zero': lambda lib: t(lib, [1, 2]) // t(lib, [0, 1]),
    'integer remainder by zero': lambda lib: lib.remainder(t(lib, [1, 2]), 0),
    'integer pow negative scalar': lambda lib: t(lib, [1, 2]) ** -1,
    'maximum number': lambda lib: lib.maximum(m(lib, 2), 1.0),
    'minimum list': lambda lib: lib.minimum(m(lib, 2), [1.0, 2.0]),
    'atan2 int': lambda lib: lib.atan2(m(lib, 2), 1),
    'logical_and number': lambda lib: lib.logical_and(m(lib, 2), 1),
    'add alpha float on int': lambda lib: lib.add(t(lib, [1]), t(lib, [1]), alpha=0.5),
    'add alpha bool on float': lambda lib: lib.add(m(lib, 2), m(lib, 2), alpha=True),
    'div rounding mode': lambda lib: lib.div(m(lib, 2), 2, rounding_mode='round'),
    'clamp no bounds': lambda lib: lib.clamp(m(lib, 2)),
    'clamp_min None': lambda lib: lib.clamp_min(m(lib, 2), None),
    'clamp_max None method': lambda lib: m(lib, 2).clamp_max(None),
    'clamp_min_ None': lambda lib: m(lib, 2).clamp_min_(None),
    'clamp bool': lambda lib: lib.clamp(t(lib, [True]), max=False),
    'clamp int8 overflow': lambda lib: lib.clamp(t(lib, [1], 'int8'), max=300),
    'clamp float32 overflow': lambda lib: lib.clamp(m(lib, 2), max=1e300),
    'lerp dtypes': lambda lib: lib.lerp(m(lib, 2), m(lib, 2, dtype='float64'), 0.5),
    'lerp weight dtype': lambda lib: lib.lerp(m(lib, 2), m(lib, 2), m(lib, 2, dtype='float64')),
    'lerp integers': lambda lib: lib.lerp(t(lib, [1]), t(lib, [2]), 0.5),
    'lerp shapes': lambda lib: lib.lerp(m(lib, 2), m(lib, 3), 0.5),
    'isclose shapes': lambda lib: lib.isclose(m(lib, 2), m(lib, 3)),
    'allclose shapes': lambda lib: lib.allclose(m(lib, 2), m(lib, 3)),
    'float of 3 elements': lambda lib: float(m(lib, 3)),
    'int of 3 elements': lambda lib: int(m(lib, 3)),
    'bool of 3 elements': lambda lib: bool(m(lib, 3)),
    'item of 3 elements': lambda lib: m(lib, 3).item(),
    # ---- reductions
    'sum dim out of range': lambda lib: m(lib, 2, 3).sum(2),
    'sum dim str': lambda lib: m(lib, 2, 3).sum('a'),
    'mean of integers': lambda lib: t(lib, [1, 2]).mean(),
    'var of integers': lambda lib: t(lib, [1, 2]).var(),
    'amax empty': lambda lib: m(lib, 2, 0).amax(),
    'amax empty dim': lambda lib: m(lib, 2, 0).amax(1),
    'max empty': lambda lib: m(lib, 0).max(),
    'argmax bool': lambda lib: t(lib, [True, False]).argmax(),
    'argmax empty': lambda lib: m(lib, 0).argmax(),
    'median bool': lambda lib: t(lib, [True, False]).median(),
    'softmax dim 0-d': lambda lib: lib.softmax(t(lib, 1.0), 2),
    'softmax integers': lambda lib: lib.softmax(t(lib, [1, 2]), 0),
    'log_softmax dim out of range': lambda lib: lib.log_softmax(m(lib, 2), 1),
    'cumsum dim': lambda lib: lib.cumsum(m(lib, 2), 3),
    'topk k too large': lambda lib: lib.topk(m(lib, 3), 4),
    'logsumexp dim': lambda lib: lib.logsumexp(m(lib, 3), 1),
    # ---- shapes
    'reshape numel': lambda lib: m(lib, 2, 3).reshape(4, 2),
    'reshape two -1': lambda lib: m(lib, 2, 3).reshape(-1, -1),
    'view incompatible': lambda lib: m(lib, 2, 3).t().view(6),
    'permute no dims': lambda lib: m(lib, 2, 3).permute(),
    'permute repeated': lambda lib: m(lib, 2, 3).permute(0, 0),
    'permute length': lambda lib: m(lib, 2, 3).permute(0),
    'transpose out of range': lambda lib: m(lib, 2, 3).transpose(0, 2),
    'squeeze out of range': lambda lib: m(lib, 2, 3).squeeze(3),
    'unsqueeze out of range': lambda lib: m(lib, 2, 3).unsqueeze(4),
    'movedim 0-d': lambda lib: lib.movedim(t(lib, 1.0), 0, 1),
    'flatten start after end': lambda lib: m(lib, 2, 3).flatten(1, 0),
    'expand smaller': lambda lib: m(lib, 2, 3).expand(3, 3),
    'broadcast_to': lambda lib: lib.broadcast_to(m(lib, 2, 3), (3, 2)),
    'broadcast_shapes tensor': lambda lib: lib.broadcast_shapes(m(lib, 2)),
    'broadcast_shapes mismatch': lambda lib: lib.broadcast_shapes((2,), (3,)),
    'cat shapes': lambda lib: lib.cat([m(lib, 2, 3), m(lib, 2, 2)]),
    'cat empty list': lambda lib: lib.cat([]),
    'cat a tensor': lambda lib: lib.cat(m(lib, 2, 3)),
    'cat 0-d': lambda lib: lib.cat([t(lib, 1.0), t(lib, 2.0)]),
    'cat ndim': lambda lib: lib.cat([m(lib, 2, 3), m(lib, 3)]),
    'stack shapes': lambda lib: lib.stack([m(lib, 2), m(lib, 3)]),
    'stack a tensor': lambda lib: lib.stack(m(lib, 2, 3)),
    'stack empty': lambda lib: lib.stack([]),
    'hstack a tensor': lambda lib: lib.hstack(m(lib, 2, 3)),
    'vstack a tensor': lambda lib: lib.vstack(m(lib, 2, 3)),
    'split zero': lambda lib: lib.split(m(lib, 4), 0),
    'chunk zero': lambda lib: lib.chunk(m(lib, 4), 0),
    'narrow out of range': lambda lib: lib.narrow(m(lib, 4), 0, 3, 2),
    'repeat fewer dims': lambda lib: m(lib, 2, 3).repeat(2),
    'tril 1-d': lambda lib: lib.tril(m(lib, 3)),
    'diagonal same dims': lambda lib: lib.diagonal(m(lib, 2, 3), 0, 0, 0),
    'flip repeated': lambda lib: lib.flip(m(lib, 2, 3), (0, 0)),
    'roll shifts and dims': lambda lib: lib.roll(m(lib, 2, 3), (1, 2), (0,)),
    'unflatten sizes': lambda lib: m(lib, 6).unflatten(0, (4, 2)),
    # ---- indexing
    'index out of range': lambda lib: m(lib, 3)[3],
    'index str': lambda lib: m(lib, 3)['a'],
    'index float': lambda lib: m(lib, 3)[1.5],
    'index too many': lambda lib: m(lib, 3)[0, 0],
    'index 0-d': lambda lib: t(lib, 1.0)[0],
    'index tensor out of range': lambda lib: m(lib, 3)[t(lib, [5])],
    'index float tensor': lambda lib: m(lib, 3)[t(lib, [0.0])],
    'mask shape': lambda lib: m(lib, 3)[t(lib, [True, False])],
    'setitem shape': lambda lib: _setitem(m(lib, 3), slice(None), m(lib, 2)),
    'setitem dtype': lambda lib: _setitem(m(lib, 3), t(lib, [0, 1]), t(lib, [1, 2])),
    'setitem nan into int': lambda lib: _setitem(t(lib, [1, 2]), 0, math.nan),
    'setitem overflow': lambda lib: _setitem(m(lib, 2), 0, 1e300),
    'gather index dtype': lambda lib: lib.gather(m(lib, 3), 0, t(lib, [0.0])),
    'gather out of range': lambda lib: lib.gather(m(lib, 3), 0, t(lib, [3])),
    'gather ndim': lambda lib: lib.gather(m(lib, 2, 3), 0, t(lib, [0])),
    'scatter dtype': lambda lib: m(lib, 3).scatter(0, t(lib, [0]), m(lib, 1, dtype='float64')),
    'scatter_add dtype': lambda lib: m(lib, 3).scatter_add(0, t(lib, [0]),
                                                           m(lib, 1, dtype='float64')),
    'scatter reduce': lambda lib: m(lib, 3).scatter(0, t(lib, [0]), m(lib, 1), reduce='max'),
    'index_select float index': lambda lib: lib.index_select(m(lib, 3), 0, t(lib, [0.0])),
    'index_select out of range': lambda lib: lib.index_select(m(lib, 3), 0, t(lib, [4])),
    'index_add dtype': lambda lib: m(lib, 3).index_add(0, t(lib, [0]),
                                                       m(lib, 1, dtype='float64')),
    'index_put dtype': lambda lib: lib.index_put(m(lib, 3), (t(lib, [0]),),
                                                 m(lib, 1, dtype='float64')),
    'masked_fill mask dtype': lambda lib: m(lib, 3).masked_fill(m(lib, 3), 1.0),
    'masked_fill shapes': lambda lib: m(lib, 3).masked_fill(t(lib, [True, False]), 1.0),
    'masked_fill value dims': lambda lib: m(lib, 3).masked_fill(t(lib, [True] * 3), m(lib, 3)),
    'masked_fill nan into int': lambda lib: t(lib, [1, 2]).masked_fill(t(lib, [True, False]),
                                                                       math.nan),
    # ---- creation and random fills
    'zeros negative': lambda lib: lib.zeros(-1),
    'ones str size': lambda lib: lib.ones('a'),
    'full str value': lambda lib: lib.full((2,), 'a'),
    'full nan into int': lambda lib: lib.full((2,), math.nan, dtype=lib.int64),
    'tensor object': lambda lib: lib.tensor(object()),
    'tensor ragged': lambda lib: lib.tensor([[1.0], [1.0, 2.0]]),
    'tensor None': lambda lib: lib.tensor(None),
    'tensor None with dtype': lambda lib: lib.tensor(None, dtype=lib.float32),
    'tensor dtype str': lambda lib: lib.tensor([1.0], dtype='float32'),
    'tensor -1.0 into uint8': lambda lib: lib.tensor([-1.0], dtype=lib.uint8),
    'tensor nan into int': lambda lib: lib.tensor([math.nan], dtype=lib.int64),
    'tensor 2**63': lambda lib: lib.tensor(2 ** 63),
    'arange zero step': lambda lib: lib.arange(0, 10, 0),
    'arange wrong sign': lambda lib: lib.arange(10, 0, 1),
    'linspace negative steps': lambda lib: lib.linspace(0, 1, -1),
    'eye negative': lambda lib: lib.eye(-1),
    'randint empty range': lambda lib: lib.randint(5, 2, (3,)),
    'uniform_ reversed': lambda lib: m(lib, 3).uniform_(1, 0),
    'uniform_ integers': lambda lib: t(lib, [1, 2]).uniform_(),
    'normal_ negative std': lambda lib: m(lib, 3).normal_(0, -1),
    'normal_ integers': lambda lib: t(lib, [1, 2]).normal_(),
    'bernoulli_ p > 1': lambda lib: m(lib, 3).bernoulli_(1.5),
    'exponential_ integers': lambda lib: t(lib, [1, 2]).exponential_(),
    'fill_ nan into int': lambda lib: t(lib, [1, 2]).fill_(math.nan),
    'fill_ overflow': lambda lib: m(lib, 2).fill_(1e300),
    # ---- linear algebra
    'matmul shapes': lambda lib: m(lib, 2, 3) @ m(lib, 2, 3),
    'matmul dtypes': lambda lib: m(lib, 2, 3) @ m(lib, 3, 2, dtype='float64'),
    'matmul 0-d': lambda lib: t(lib, 1.0) @ m(lib, 2),
    'matmul bool': lambda lib: t(lib, [True]) @ t(lib, [True]),
    'mm 1-d': lambda lib: lib.mm(m(lib, 3), m(lib, 3)),
    'bmm 2-d': lambda lib: lib.bmm(m(lib, 2, 3), m(lib, 3, 2)),
    'dot 2-d': lambda lib: lib.dot(m(lib, 2, 3), m(lib, 2, 3)),
    'dot sizes': lambda lib: lib.dot(m(lib, 2), m(lib, 3)),
    'einsum no operands': lambda lib: lib.einsum(m(lib, 2)),
    'einsum operand count': lambda lib: lib.einsum('ij,jk->ik', m(lib, 2, 3)),
    'einsum sizes': lambda lib: lib.einsum('ij,jk->ik', m(lib, 2, 3), m(lib, 2, 3)),
    'tensordot sizes': lambda lib: lib.tensordot(m(lib, 2, 3), m(lib, 2, 3), dims=([1], [0])),
    # ---- autograd
    'backward non-scalar': lambda lib: m(lib, 3, requires_grad=True).exp().backward(),
    'backward twice': _backward_twice,
    'in place on a leaf': _inplace_on_leaf,
    'saved value modified': _modified_saved,
    'grad of no-grad tensor': _grad_no_grad,
    'grad of unused input': _grad_unused,
    'grad assigned wrong shape': lambda lib: _set_grad(lib, (2, 3)),
    'requires_grad on int': lambda lib: t(lib, [1, 2]).requires_grad_(),
    'numpy of requires_grad': lambda lib: m(lib, 3, requires_grad=True).numpy(),
    # ---- nn
    'pad_sequence of lists': lambda lib: _nn(lib).utils.rnn.pad_sequence([[1, 2], [3]]),
    'pad_sequence mixed': lambda lib: _nn(lib).utils.rnn.pad_sequence([t(lib, [1, 2]), [3]]),
}

# every unary math function, given what is not a tensor
UNARY = ['exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'square',
         'reciprocal', 'abs', 'sign', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'asin', 'acos',
         'atan', 'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'trunc', 'neg',
         'logical_not', 'bitwise_not', 'isnan', 'isinf', 'isfinite']
for _name in UNARY:
    for _what, _arg in (('list', [1.0, 2.0]), ('str', 'a'), ('None', None)):
        CASES[f'{_name} of {_what}'] = (lambda n, a: lambda lib: getattr(lib, n)(a))(_name, _arg)


@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_input_raises_pytorchs_exception(case):
    fn = CASES[case]
    with pytest.raises(Exception) as theirs:
        fn(torch)
    expected = type(theirs.value)
    with pytest.raises(Exception) as ours:
        try:
            fn(autograd)
        finally:
            await_checks()      # on a GPU, index bounds fail at the next synchronisation
    assert isinstance(ours.value, expected), \
        f'{case}: ours raised {type(ours.value).__name__}: {ours.value}; PyTorch ' \
        f'{expected.__name__}: {theirs.value}'


@pytest.mark.skipif(not autograd.cuda.is_available(), reason='needs the cuda device')
@pytest.mark.parametrize('call', [
    lambda a, b: a + b, lambda a, b: autograd.maximum(a, b), lambda a, b: a @ b,
    lambda a, b: autograd.cat([a, b]), lambda a, b: autograd.where(a > 0, a, b),
    lambda a, b: a.masked_fill(b > 0, 1.0), lambda a, b: autograd.lerp(a, b, 0.5),
])
def test_mixed_devices_raise_runtime_error(call):
    """Two devices in one op: PyTorch's RuntimeError ('Expected all tensors to be on the
    same device'), whichever the order."""
    a = autograd.ones(2, 2, device='cpu')
    b = autograd.ones(2, 2, device='cuda')
    with pytest.raises(RuntimeError, match='device'):
        call(a, b)
    with pytest.raises(RuntimeError, match='device'):
        call(b, a)

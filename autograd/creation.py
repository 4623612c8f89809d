"""Tensor creation and random sampling.

Python floats become the default dtype (float32), ints int64, bools bool; arrays keep
their dtype.  Random numbers come from one generator per device, seeded by
``manual_seed``.
"""
import math
import numbers
import secrets

import numpy

from . import backend, devices
from .backend import CPU, as_dtype, get_default_dtype, to_numpy
from .tensor import Tensor, _make, _python_data, to_array

__all__ = ['tensor', 'as_tensor', 'from_numpy', 'zeros', 'ones', 'full', 'empty', 'zeros_like',
           'ones_like', 'full_like', 'empty_like', 'rand', 'randn', 'randint', 'rand_like',
           'randn_like', 'randint_like', 'randperm', 'arange', 'linspace', 'eye',
           'manual_seed', 'seed', 'initial_seed', 'Generator', 'bernoulli', 'multinomial',
           'normal', 'get_rng_state', 'set_rng_state',
           'FloatTensor', 'DoubleTensor', 'HalfTensor', 'LongTensor', 'IntTensor',
           'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor']


def _device(device):
    return backend.get_default_device() if device is None else backend.device(device)


def _finish(arr, dev, requires_grad):
    backend.check_bfloat16(arr.dtype, dev)      # (CuPy has none)
    t = _make(arr, dev)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    dev = _device(device) if not (device is None and isinstance(data, Tensor)) else data._device
    return _finish(to_array(data, _dtype('tensor', dtype), dev), dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` when dtype and device allow."""
    dtype = _dtype('as_tensor', dtype)
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    dev = _device(device)
    return _finish(to_array(data, dtype, dev, copy=False), dev, False)


def from_numpy(arr):
    """A CPU tensor sharing memory with the NumPy array ``arr``."""
    if not isinstance(arr, numpy.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(arr).__name__})')
    return _finish(to_array(arr, None, CPU, copy=False), CPU, False)


_RAND_SIGNATURE = ('(tuple of ints size, *, torch.Generator generator, Tensor out = None, '
                   'torch.dtype dtype = None, torch.layout layout = None, torch.device device '
                   '= None, bool pin_memory = False, bool requires_grad = False)')


def _size(size, fn=None):
    """A size given as ``*size`` or one sequence; ``fn`` names the function of a ``*size``
    argument, which PyTorch requires (``zeros()`` refuses; ``zeros(())`` is 0-d)."""
    if fn is not None and not size:
        if fn in ('rand', 'randn'):
            raise TypeError(f'{fn}() received an invalid combination of arguments - got (), '
                            f'but expected one of:\n * {_RAND_SIGNATURE}')
        raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if not isinstance(s, numbers.Integral) and not (
                isinstance(s, Tensor) and s._data.dtype.kind in 'iu'):
            raise TypeError(f'size must be a sequence of ints, got {type(s).__name__}')
        s = int(s)
        if s < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {s}: '
                               f'{[int(v) for v in size]}')
        out.append(s)
    return tuple(out)


def _dtype(fn, d):
    """A ``dtype`` argument of ``fn``: a dtype or one of the Python types float, int, bool
    (PyTorch refuses names and NumPy dtypes)."""
    if d is None or isinstance(d, backend.dtype):     # (bfloat16 without ml_dtypes too)
        return d
    if d is float or d is int or d is bool:
        return as_dtype(d)
    raise TypeError(f"{fn}(): argument 'dtype' must be autograd.dtype, not {type(d).__name__}")


def _float_dtype(fn, dtype):
    return get_default_dtype() if dtype is None else _dtype(fn, dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    dev = _device(device)
    return _finish(dev.xp.zeros(_size(size, 'zeros'), dtype=_float_dtype('zeros', dtype).np), dev, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    dev = _device(device)
    return _finish(dev.xp.ones(_size(size, 'ones'), dtype=_float_dtype('ones', dtype).np), dev, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    dev = _device(device)
    return _finish(dev.xp.empty(_size(size, 'empty'), dtype=_float_dtype('empty', dtype).np), dev, requires_grad)


def _fill_dtype(value):
    if isinstance(value, bool):
        return backend.bool
    if isinstance(value, numbers.Integral):
        return backend.int64
    return get_default_dtype()


def _fill_value(fn, value):
    if isinstance(value, Tensor):
        return value.item()
    if not isinstance(value, (numbers.Number, numpy.bool_)):
        raise TypeError(f"{fn}(): argument 'fill_value' (position 2) must be Number, not "
                        f'{type(value).__name__}')
    return value


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    fill_value = _fill_value('full', fill_value)
    dev = _device(device)
    dt = _fill_dtype(fill_value) if dtype is None else _dtype('full', dtype)
    if dt.np.kind in 'iu':
        fill_value = _python_data(fill_value, dt).item()     # NaN, overflow: RuntimeError
    return _finish(dev.xp.full(_size((size,) if isinstance(size, int) else size), fill_value,
                               dtype=dt.np), dev, requires_grad)


def _like(fn, x, dtype, device):
    return (x.dtype if dtype is None else _dtype(fn, dtype),
            x._device if device is None else backend.device(device))


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    dt, dev = _like('zeros_like', x, dtype, device)
    return _finish(dev.xp.zeros(x._data.shape, dtype=dt.np), dev, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    dt, dev = _like('ones_like', x, dtype, device)
    return _finish(dev.xp.ones(x._data.shape, dtype=dt.np), dev, requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    dt, dev = _like('empty_like', x, dtype, device)
    return _finish(dev.xp.empty(x._data.shape, dtype=dt.np), dev, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    fill_value = _fill_value('full_like', fill_value)
    dt, dev = _like('full_like', x, dtype, device)
    if dt.np.kind in 'iu':
        fill_value = _python_data(fill_value, dt).item()
    return _finish(dev.xp.full(x._data.shape, fill_value, dtype=dt.np), dev, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless any is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError('arange: step must be nonzero')
    if not (math.isfinite(vals[0]) and math.isfinite(vals[1])):
        raise RuntimeError(f'arange: unsupported range: {vals[0]} -> {vals[1]}')
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(f'arange: upper bound and lower bound inconsistent with step sign '
                           f'(start={vals[0]}, end={vals[1]}, step={vals[2]})')
    if dtype is None:
        dtype = get_default_dtype() if any(isinstance(v, float) for v in vals) else backend.int64
    dt = _dtype('arange', dtype)
    dev = _device(device)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (numpy.arange(n, dtype=numpy.float64) * vals[2] + vals[0]) if dt.is_floating_point \
        else numpy.arange(vals[0], vals[1], vals[2], dtype=numpy.int64)
    return _finish(dev.asarray(arr.astype(dt.np)), dev, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if not isinstance(steps, numbers.Integral):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f'linspace: number of steps must be non-negative, got {steps}')
    dt = _float_dtype('linspace', dtype)
    dev = _device(device)
    arr = numpy.linspace(float(start), float(end), int(steps), dtype=numpy.float64)
    return _finish(dev.asarray(arr.astype(dt.np)), dev, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    m = n if m is None else m
    for name, v in (('n', n), ('m', m)):
        if not isinstance(v, numbers.Integral):
            raise TypeError(f"eye(): argument '{name}' must be int, not {type(v).__name__}")
        if v < 0:
            raise RuntimeError(f'eye: {name} must be greater or equal to 0, got {v}')
    dev = _device(device)
    return _finish(dev.xp.eye(n, m, dtype=_float_dtype('eye', dtype).np), dev,
                   requires_grad)


# ----------------------------------------------------------------------------- random

class Generator:
    """A seeded random number generator (the ``generator=`` argument of samplers)."""

    def __init__(self, device=None):
        self.device = CPU if device is None else backend.device(device)
        self.manual_seed(67280421310721)

    def manual_seed(self, seed):
        self._seed = _seed(seed)
        self._rng = self.device.backend.rng(self.device, self._seed)
        return self

    def seed(self):
        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's state: on the CPU NumPy's bit-generator state; on a device whose
        backend has ``rng_state`` (cuda) its bytes as a uint8 CPU tensor, as PyTorch's."""
        read = getattr(self.device.backend, 'rng_state', None)
        if read is not None:
            return _finish(read(self._rng), CPU, False)
        return self._rng.bit_generator.state

    def set_state(self, state):
        write = getattr(self.device.backend, 'set_rng_state', None)
        if write is not None:
            if not isinstance(state, Tensor) or state.dtype != backend.uint8:
                raise TypeError(f'expected a torch.ByteTensor, but got {type(state).__name__}')
            write(self._rng, state.detach().cpu().numpy())
            return self
        self._rng.bit_generator.state = state
        return self


_default_generators = {}
_seeded = [None]            # the last manual_seed: devices first used after it start from it


def default_generator(dev=CPU):
    g = _default_generators.get(dev)
    if g is None:
        g = _default_generators[dev] = Generator(dev)
        if _seeded[0] is not None:
            g.manual_seed(_seeded[0])
    return g


def _seed(seed):
    """A seed as PyTorch takes it: an integer in [-2**63, 2**64), a negative one wrapping
    around to its two's complement (-1 is 2**64 - 1)."""
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f'manual_seed: seed {seed} out of range [-2**63, 2**64)')
    return seed % 2 ** 64


def manual_seed(seed):
    """Seed the generators of every device (and of every array library in use); returns
    the CPU generator."""
    seed = _seeded[0] = _seed(seed)
    g = default_generator(CPU).manual_seed(seed)
    for dev, gen in list(_default_generators.items()):
        if dev is not CPU:
            gen.manual_seed(seed)
    devices.seed_all(seed)
    return g


def seed():
    return default_generator(CPU).seed()


def initial_seed():
    return default_generator(CPU).initial_seed()


def get_rng_state():
    return default_generator(CPU).get_state()


def set_rng_state(state):
    default_generator(CPU).set_state(state)


def rng_of(dev, generator):
    if generator is not None:
        if generator.device != dev:
            raise RuntimeError(f'Expected a {dev.type} device type for generator but found '
                               f'{generator.device.type}')
        return generator._rng
    return default_generator(dev)._rng


def sample(dev, generator, kind, shape, dt, **kw):
    """Sample on ``dev`` in ``dt`` (float16 via float32, as the array libraries lack it)."""
    return backend.random_sample(rng_of(dev, generator), kind, shape, dt.np)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    dev = _device(device)
    dt = _float_dtype('rand', dtype)
    return _finish(sample(dev, generator, 'uniform', _size(size, 'rand'), dt), dev, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dev = _device(device)
    dt = _float_dtype('randn', dtype)
    return _finish(sample(dev, generator, 'normal', _size(size, 'randn'), dt), dev, requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    dt, dev = _like('rand_like', x, dtype, device)
    return _finish(sample(dev, None, 'uniform', x._data.shape, dt), dev, requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    dt, dev = _like('randn_like', x, dtype, device)
    return _finish(sample(dev, None, 'normal', x._data.shape, dt), dev, requires_grad)


def integers(rng, low, high, shape):
    """Integers uniform on [low, high) (int64), as ``randint``/``random_`` draw them."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f'>= to={high}')
    return rng.integers(low, high, shape)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError('randint() missing required argument: size')
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    dev = _device(device)
    dt = backend.int64 if dtype is None else _dtype('randint', dtype)
    arr = integers(rng_of(dev, generator), low, high,
                   _size((size,) if isinstance(size, int) else size))
    return _finish(arr.astype(dt.np), dev, requires_grad)


def randint_like(x, low=0, high=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    dt, dev = _like('randint_like', x, dtype, device)
    return _finish(integers(rng_of(dev, None), low, high, x._data.shape).astype(dt.np), dev, False)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    dev = _device(device)
    dt = backend.int64 if dtype is None else _dtype('randperm', dtype)
    perm = backend.permutation(rng_of(dev, generator), dev.xp, int(n))
    return _finish(perm.astype(dt.np), dev, requires_grad)


def check_probabilities(fn, p):
    """``p``, a probability or a tensor of them, lies in [0, 1] (NaN does not)."""
    if isinstance(p, Tensor):
        if not bool(((p._data >= 0) & (p._data <= 1)).all()):
            raise RuntimeError(f'{fn}: expected all probabilities p in [0, 1] (p_in >= 0 && '
                               f'p_in <= 1)')
    elif not 0 <= p <= 1:
        raise RuntimeError(f'{fn}_ expects p to be in [0, 1], but got p={p}')


def check_std(std):
    """A standard deviation, a number or a tensor of them, is >= 0 (NaN is not)."""
    if isinstance(std, Tensor):
        if not bool((std._data >= 0).all()):
            raise RuntimeError('normal expects all elements of std >= 0.0')
    elif not std >= 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {std}')


def bernoulli(p, *, generator=None):
    """Samples of 0/1 with probabilities ``p`` (same shape and dtype as ``p``)."""
    check_probabilities('bernoulli', p)
    dev = p._device
    u = sample(dev, generator, 'uniform', p._data.shape, p.dtype if p.is_floating_point()
                else get_default_dtype())
    return _make((u < p._data).astype(p._data.dtype), dev)


def multinomial(probs, num_samples, replacement=False, *, generator=None):
    """Indices sampled from the rows of ``probs`` (unnormalised weights), int64."""
    p = numpy.asarray(to_numpy(probs._data), dtype=numpy.float64)
    rows = p.reshape(-1, p.shape[-1])
    rng = rng_of(CPU, generator if generator is not None and generator.device is CPU else None)
    out = numpy.empty((rows.shape[0], num_samples), dtype=numpy.int64)
    for i, row in enumerate(rows):
        if (row < 0).any() or not numpy.isfinite(row).all() or row.sum() <= 0:
            raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0, '
                               'negative or non-finite entries)')
        if not replacement and num_samples > (row > 0).sum():
            raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without '
                               'replacement')
        out[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / row.sum())
    out = out.reshape(p.shape[:-1] + (num_samples,))
    return _make(probs._device.asarray(out), probs._device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    """Normal samples with the given mean and standard deviation (numbers or tensors: with
    two numbers, ``size`` is needed; with a tensor ``mean``, ``std`` defaults to 1)."""
    if size is None and not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        raise TypeError(f"normal(): argument 'mean' (position 1) must be Tensor, not "
                        f'{type(mean).__name__}')
    check_std(std)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        z = randn(tuple(ref.shape) if size is None else size, generator=generator, dtype=ref.dtype,
                  device=ref._device)
        return (z * std + mean).detach()
    z = randn(size, generator=generator, dtype=dtype, device=device)
    return (z * std + mean).detach()


def _triangle_indices(name, row, col, offset, dtype, device):
    if row < 0:
        raise RuntimeError(f'row must be non-negative, got{row}')
    if col < 0:
        raise RuntimeError(f'col must be non-negative, got{col}')
    dt = _dtype(name, backend.int64 if dtype is None else dtype)
    if dt.is_floating_point or dt is backend.bool:
        raise NotImplementedError(f'"{name}" not implemented for \'{backend.scalar_name(dt)}\'')
    dev = _device(device)
    rows, cols = getattr(numpy, name)(row, offset, col)
    return _finish(dev.asarray(numpy.stack([rows, cols]).astype(dt.np).reshape(2, -1)), dev,
                   False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle (below diagonal ``offset``) of a
    ``row`` x ``col`` matrix, row by row."""
    return _triangle_indices('tril_indices', row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle (from diagonal ``offset``) of a
    ``row`` x ``col`` matrix, row by row."""
    return _triangle_indices('triu_indices', row, col, offset, dtype, device)


__all__ += ['tril_indices', 'triu_indices']


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values ``base ** linspace(start, end, steps)``."""
    exps = linspace(start, end, steps, dtype=backend.float64)
    dt = get_default_dtype() if dtype is None else _dtype('logspace', dtype)
    dev = _device(device)
    arr = numpy.power(float(base), to_numpy(exps._data))
    return _finish(dev.asarray(arr.astype(dt.np)), dev, requires_grad)


__all__ += ['logspace']


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (the default float dtype unless ``dtype``)."""
    dt = get_default_dtype() if dtype is None else _dtype('scalar_tensor', dtype)
    dev = _device(device)
    return _finish(dev.asarray(numpy.asarray(s, dtype=dt.np)), dev, requires_grad)


__all__ += ['scalar_tensor']


class _LegacyTensorType(type):
    """PyTorch's legacy CPU tensor types (``torch.FloatTensor`` ...), as old tutorials use
    them: ``x.type(torch.FloatTensor)``, ``isinstance(x, torch.LongTensor)``,
    ``torch.FloatTensor([1, 2])`` (from data) and ``torch.FloatTensor(2, 3)`` (uninitialised
    of that size).  They are CPU types: ``x.type(torch.FloatTensor)`` copies to the CPU."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == 'cpu'

    def __call__(cls, *args, device='cpu'):
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            return tensor(args[0], dtype=cls.dtype, device=device)
        return empty(*args, dtype=cls.dtype, device=device) if args else \
            empty(0, dtype=cls.dtype, device=device)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {'dtype': dtype, '__module__': 'autograd'})


FloatTensor = _legacy_type('FloatTensor', backend.float32)
DoubleTensor = _legacy_type('DoubleTensor', backend.float64)
HalfTensor = _legacy_type('HalfTensor', backend.float16)
LongTensor = _legacy_type('LongTensor', backend.int64)
IntTensor = _legacy_type('IntTensor', backend.int32)
ShortTensor = _legacy_type('ShortTensor', backend.int16)
CharTensor = _legacy_type('CharTensor', backend.int8)
ByteTensor = _legacy_type('ByteTensor', backend.uint8)
BoolTensor = _legacy_type('BoolTensor', backend.bool)

"""Parameter initialisers (PyTorch's ``torch.nn.init``).

Each fills its tensor in place without recording a graph and returns it.  The scales
follow Glorot & Bengio (2010) for ``xavier_*`` (variance 2 / (fan_in + fan_out)) and
He et al. (2015) for ``kaiming_*`` (variance gain^2 / fan).
"""
import math
import warnings

import autograd
from autograd import no_grad
from autograd.extend import array_of, wrap, xp_of

__all__ = ['calculate_gain', 'uniform_', 'normal_', 'trunc_normal_', 'constant_', 'ones_',
           'zeros_', 'eye_', 'dirac_', 'xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_',
           'kaiming_normal_', 'orthogonal_', 'sparse_', 'uniform', 'normal', 'constant',
           'xavier_uniform', 'xavier_normal', 'kaiming_uniform', 'kaiming_normal', 'orthogonal',
           'sparse']


def calculate_gain(nonlinearity, param=None):
    """The factor by which ``nonlinearity`` shrinks the standard deviation of its input
    (1 for linear layers, sqrt(2) for ReLU, ...)."""
    linear_fns = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d',
                  'conv_transpose2d', 'conv_transpose3d']
    if nonlinearity in linear_fns or nonlinearity == 'sigmoid':
        return 1
    if nonlinearity == 'tanh':
        return 5.0 / 3
    if nonlinearity == 'relu':
        return math.sqrt(2.0)
    if nonlinearity == 'leaky_relu':
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f'negative_slope {param} not a valid number')
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == 'selu':
        return 3.0 / 4       # the value PyTorch uses (self-normalising nets)
    raise ValueError(f'Unsupported nonlinearity {nonlinearity}')


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)``: in/out times kernel size."""
    if tensor.ndim < 2:
        raise ValueError('Fan in and fan out can not be computed for tensor with fewer than 2 '
                         'dimensions')
    receptive_field = 1
    for s in tensor.shape[2:]:
        receptive_field *= s
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid = ['fan_in', 'fan_out']
    if mode not in valid:
        raise ValueError(f'Mode {mode} not supported, please use one of {valid}')
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == 'fan_in' else fan_out


def _write(tensor, array):
    """Overwrite ``tensor``'s values with ``array`` (same device), untracked."""
    with no_grad():
        tensor.copy_(wrap(array, tensor.device))
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) conditioned on [a, b] (redrawing samples outside)."""
    xp = xp_of(tensor)
    out = xp.empty(tensor.shape, dtype=array_of(tensor).dtype)
    todo = xp.ones(tensor.shape, dtype=bool)
    for _ in range(1000):
        if not bool(todo.any()):
            break
        z = array_of(autograd.randn(*tensor.shape, generator=generator, dtype=tensor.dtype,
                                    device=tensor.device)) * std + mean
        ok = todo & (z >= a) & (z <= b)
        out = xp.where(ok, z, out)
        todo &= ~ok
    out = xp.clip(out, a, b)      # only reached by draws from a vanishing-probability interval
    return _write(tensor, out)


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    return _write(tensor, xp_of(tensor).eye(*tensor.shape, dtype=array_of(tensor).dtype))


def dirac_(tensor, groups=1):
    """The Dirac delta kernel of a 3-, 4- or 5-D conv weight: convolution keeps the first
    ``min(out, in)`` channels of each group unchanged."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError('Only tensors with 3, 4, or 5 dimensions are supported')
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError('dim 0 must be divisible by groups')
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    arr = xp_of(tensor).zeros(sizes, dtype=array_of(tensor).dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            arr[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, arr)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan) (``mode`` picks fan_in or fan_out)."""
    if 0 in tensor.shape:
        warnings.warn('Initializing zero-element tensors is a no-op')
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn('Initializing zero-element tensors is a no-op')
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (the Q of a Gaussian matrix's QR, signs fixed by R's
    diagonal so that Q is Haar-distributed), times ``gain``; higher dims are flattened."""
    if tensor.ndim < 2:
        raise ValueError('Only tensors with 2 or more dimensions are supported')
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = xp_of(tensor)
    flat = array_of(autograd.randn(rows, cols, generator=generator, dtype=autograd.float64 if
                                   tensor.dtype == autograd.float64 else autograd.float32,
                                   device=tensor.device))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.shape).astype(array_of(tensor).dtype))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std^2) with ``ceil(sparsity * rows)`` zeros in each column (2-D only)."""
    if tensor.ndim != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    normal_(tensor, 0, std, generator)
    arr = array_of(tensor).copy()
    for c in range(cols):
        zero_rows = array_of(autograd.randperm(rows, generator=generator,
                                               device=tensor.device))[:num_zeros]
        arr[zero_rows, c] = 0
    return _write(tensor, arr)


def _deprecated(new):
    def fn(*args, **kwargs):
        warnings.warn(f'nn.init.{new.__name__[:-1]} is now deprecated in favor of '
                      f'nn.init.{new.__name__}.', FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    fn.__name__ = new.__name__[:-1]
    fn.__doc__ = f'Deprecated alias of ``{new.__name__}``.'
    return fn


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)

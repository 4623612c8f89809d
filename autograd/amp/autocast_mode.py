"""``amp.autocast`` (PyTorch's ``torch.autocast``): run chosen ops in lower precision.

Inside ``with autocast(device_type):`` an op on that device type's tensors casts its
floating inputs (float32, float16; never float64) as PyTorch's autocast op lists say:

- lower precision (bfloat16 on the CPU, float16 on cuda; ``dtype=``): matrix products, convolutions, ``linear``,
  ``prelu``, ``einsum``, ``scaled_dot_product_attention``;
- float32: the ops that lose accuracy in half precision (the losses, ``exp``/``log`` and
  friends, ``softmax``, ``sum``, norms ... on cuda; the losses, ``prod`` and ``cdist`` on
  the CPU, whose list is shorter);
- promote: several inputs of different floating types meet at the widest.

Everything else runs in whatever dtype its inputs have.  The casts are ordinary ``.to``
calls, so gradients flow back in each parameter's own dtype.

How: while some autocast region is open, the listed functions of the ``autograd`` and
``nn.functional`` namespaces and the listed Tensor methods are replaced by wrappers that
read this thread's autocast state (other threads see no change); the originals come back
when the last region closes, so code outside autocast pays nothing.  Code that holds a
function object taken before the region opened (``from autograd import matmul``) calls the
original, unwrapped: ``nn``'s layers call ``F.linear`` & co. through the namespace.

The CPU's default autocast dtype is bfloat16, as in PyTorch (``autograd.bfloat16``, from
the optional package ``ml_dtypes``; without it ``autocast('cpu')`` needs
``dtype=autograd.float16`` and says so).  CuPy has no bfloat16, so ``autocast('cuda',
dtype=autograd.bfloat16)`` is a TypeError.  Without a usable GPU, ``autocast('cuda')`` warns
and disables itself, as PyTorch's does.
"""
import functools
import threading
import warnings

import autograd
from autograd.extend import as_dtype

__all__ = ['autocast', 'is_autocast_available', 'get_autocast_dtype', 'set_autocast_dtype',
           'is_autocast_enabled', 'set_autocast_enabled', 'custom_fwd', 'custom_bwd',
           'LOWER', 'FP32', 'PROMOTE']

_MATMULS = ('matmul', 'mm', 'bmm', 'addmm', 'baddbmm', 'addbmm', 'linear', 'einsum',
            'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
            'conv_transpose3d', 'prelu', 'scaled_dot_product_attention', '__matmul__',
            '__rmatmul__')
_LOSSES = ('mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'nll_loss', 'cross_entropy',
           'kl_div', 'binary_cross_entropy_with_logits', 'margin_ranking_loss',
           'soft_margin_loss', 'triplet_margin_loss', 'multi_margin_loss',
           'multilabel_margin_loss', 'hinge_embedding_loss', 'cosine_embedding_loss',
           'poisson_nll_loss', 'ctc_loss')

# PyTorch's lists (aten/src/ATen/autocast_mode.cpp), restricted to names this project has;
# the CPU's were checked against PyTorch's CPU autocast op by op (tests/test_interop_amp.py).
LOWER = {'cuda': _MATMULS + ('addmv', 'addr', 'mv', 'chain_matmul'),
         'cpu': _MATMULS + ('tensordot',)}
FP32 = {'cuda': _LOSSES + ('acos', 'asin', 'cosh', 'erfinv', 'exp', 'expm1', 'log', 'log10',
                           'log2', 'log1p', 'reciprocal', 'rsqrt', 'sinh', 'tan', 'pow',
                           'softplus', 'layer_norm', 'group_norm', 'cosine_similarity',
                           'dist', 'pdist', 'cdist', 'renorm', 'logsumexp', 'prod', 'cumprod',
                           'cumsum', 'sum', 'softmax', 'log_softmax', 'norm'),
       'cpu': _LOSSES + ('binary_cross_entropy', 'prod', 'cdist', 'trace', 'grid_sample',
                         'avg_pool3d', 'max_pool3d', 'adaptive_avg_pool3d')}
PROMOTE = {'cuda': ('addcdiv', 'addcmul', 'atan2', 'bilinear', 'cross', 'dot', 'grid_sample',
                    'scatter_add', 'tensordot', 'cat', 'stack', 'index_copy'),
           'cpu': ('cat', 'stack', 'index_copy')}

_DEVICE_TYPES = ('cpu', 'cuda')
_NO_BFLOAT16 = ("autocast('cpu') computes in bfloat16 by default, a dtype this project does "
                "not have without the ml_dtypes package (pip install ml_dtypes); pass "
                "dtype=autograd.float16 (CPU autocast supports it, as in PyTorch) or "
                "enabled=False")


def _bfloat16():
    """``autograd.bfloat16``, or None when ml_dtypes (which provides it) is missing."""
    try:
        autograd.bfloat16.itemsize
    except ModuleNotFoundError:
        return None
    return autograd.bfloat16


class _State(threading.local):
    def __init__(self):
        self.enabled = {t: False for t in _DEVICE_TYPES}
        self.dtype = {'cpu': _bfloat16(), 'cuda': autograd.float16}   # None: no ml_dtypes


_state = _State()


def is_autocast_available(device_type):
    """Whether autocast exists for ``device_type`` ('cpu', 'cuda')."""
    return device_type in _DEVICE_TYPES


def _check_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f'User specified an unsupported autocast device_type '
                           f"'{device_type}'")


def is_autocast_enabled(device_type='cuda'):
    _check_type(device_type)
    return _state.enabled[device_type]


def set_autocast_enabled(device_type, enabled):
    _check_type(device_type)
    _state.enabled[device_type] = bool(enabled)


def get_autocast_dtype(device_type):
    """The dtype autocast casts to on ``device_type`` (float16 on cuda, bfloat16 on the
    CPU; without ml_dtypes there is no bfloat16: RuntimeError)."""
    _check_type(device_type)
    dtype = _state.dtype[device_type]
    if dtype is None:
        raise RuntimeError(_NO_BFLOAT16)
    return dtype


def set_autocast_dtype(device_type, dtype):
    _check_type(device_type)
    _state.dtype[device_type] = as_dtype(dtype)


# ----------------------------------------------------------------------------- the wrappers

_installed = []                 # (namespace, name, original) while a region is open
_open = [0]                     # autocast regions open, in all threads
_lock = threading.Lock()


def _device_type(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, autograd.Tensor):
            return a.device.type
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, autograd.Tensor):
                    return b.device.type
    return None


def _eligible(t, kind):
    return isinstance(t, autograd.Tensor) and t.is_floating_point() and \
        t.dtype != autograd.float64 and t.device.type == kind


def _cast(obj, dtype, kind):
    if _eligible(obj, kind):
        return obj if obj.dtype == dtype else obj.to(dtype)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cast(o, dtype, kind) for o in obj)
    return obj


def _widest(args, kwargs, kind):
    widest = None
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if _eligible(t, kind):
                if t.dtype not in (autograd.float32, _state.dtype[kind]):
                    # float16 in a bfloat16 region or the reverse: PyTorch refuses too
                    raise RuntimeError('Unexpected floating ScalarType in '
                                       'at::autocast::prioritize')
                widest = t.dtype if widest is None else autograd.promote_types(widest, t.dtype)
    return widest


def _wrap(fn, policy):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        kind = _device_type(args, kwargs)
        if kind is None or not _state.enabled.get(kind, False):
            return fn(*args, **kwargs)
        if policy == 'lower':
            dtype = get_autocast_dtype(kind)
        elif policy == 'fp32':
            dtype = autograd.float32
        else:
            dtype = _widest(args, kwargs, kind)
        if dtype is not None:
            args = _cast(args, dtype, kind)
            kwargs = {k: _cast(v, dtype, kind) for k, v in kwargs.items()}
        # as PyTorch's autocast key is excluded below an autocast op: no nested casts
        _state.enabled[kind] = False
        try:
            return fn(*args, **kwargs)
        finally:
            _state.enabled[kind] = True
    call.autocast_policy = policy
    return call


def _namespaces():
    import nn.functional          # here, not at import: nn imports autograd first
    return vars(autograd), autograd.Tensor, vars(nn.functional)


def _install():
    """Put the wrappers in place (when the first region opens)."""
    names = {n for lists in (LOWER, FP32, PROMOTE) for names in lists.values() for n in names}
    for namespace in _namespaces():
        table = namespace if isinstance(namespace, dict) else namespace.__dict__
        for name in sorted(names):
            fn = table.get(name)
            if fn is None or not callable(fn):
                continue
            _installed.append((namespace, name, fn))
            wrapped = _by_device(fn, name)
            if isinstance(namespace, dict):
                namespace[name] = wrapped
            else:
                setattr(namespace, name, wrapped)


def _by_device(fn, name):
    """``fn`` under the policy its ``name`` has for the device type of the call's tensors."""
    policies = {kind: next((p for p, lists in (('fp32', FP32), ('lower', LOWER),
                                               ('promote', PROMOTE)) if name in lists[kind]),
                           None) for kind in _DEVICE_TYPES}
    wrappers = {p: _wrap(fn, p) for p in set(policies.values()) if p is not None}

    @functools.wraps(fn)
    def call(*args, **kwargs):
        kind = _device_type(args, kwargs)
        if kind is None or not _state.enabled.get(kind, False) or policies.get(kind) is None:
            return fn(*args, **kwargs)
        return wrappers[policies[kind]](*args, **kwargs)
    call.autocast_original = fn
    return call


def _uninstall():
    while _installed:
        namespace, name, fn = _installed.pop()
        if isinstance(namespace, dict):
            namespace[name] = fn
        else:
            setattr(namespace, name, fn)


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context
    manager (and decorator) in which ops on ``device_type`` tensors run in the precision
    PyTorch's autocast lists give them.  ``cache_enabled`` is accepted (casts are not
    cached here)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_type(device_type)
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else _state.dtype[device_type]
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        if device_type == 'cuda' and self._enabled and not autograd.cuda.is_available():
            warnings.warn('CUDA is not available or torch_xla is imported. Disabling '
                          'autocast.', stacklevel=2)
            self._enabled = False
        if not self._enabled:
            return
        if self.fast_dtype is None:
            raise RuntimeError(_NO_BFLOAT16)
        if device_type == 'cuda' and self.fast_dtype is autograd.bfloat16:
            raise TypeError("autocast('cuda', dtype=autograd.bfloat16): bfloat16 is not "
                            'supported on device cuda (CuPy has no bfloat16 dtype); use '
                            'dtype=autograd.float16')
        if self.fast_dtype not in (autograd.float16, _bfloat16()):
            supported = 'torch.bfloat16, torch.float16' if device_type == 'cpu' else \
                'torch.float16, torch.bfloat16'
            warnings.warn(f'In {device_type.upper()} autocast, but the target dtype is not '
                          f'supported. Disabling autocast.\n{device_type.upper()} Autocast '
                          f'only supports dtypes of {supported} currently.', stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self.prev = _state.enabled[self.device]
        self.prev_dtype = _state.dtype[self.device]
        _state.enabled[self.device] = self._enabled
        if self._enabled:
            _state.dtype[self.device] = self.fast_dtype
        with _lock:
            if _open[0] == 0:
                _install()
            _open[0] += 1
        return self

    def __exit__(self, *exc):
        _state.enabled[self.device] = self.prev
        _state.dtype[self.device] = self.prev_dtype
        with _lock:
            _open[0] -= 1
            if _open[0] == 0:
                _uninstall()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self.__class__(self.device, self.fast_dtype, self._enabled,
                                self._cache_enabled):
                return func(*args, **kwargs)
        return decorated


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's forward (``torch.amp.custom_fwd``): with
    ``cast_inputs``, the forward runs with autocast off and its floating inputs cast."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._fwd_used_autocast = _state.enabled[device_type]
        args[0]._dtype = _state.dtype[device_type]
        if cast_inputs is None or not _state.enabled[device_type]:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, cast_inputs, device_type),
                       **{k: _cast(v, cast_inputs, device_type) for k, v in kwargs.items()})
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's backward: runs with the forward's autocast state."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=getattr(ctx, '_fwd_used_autocast', False),
                      dtype=getattr(ctx, '_dtype', None)):
            return bwd(*args, **kwargs)
    return decorate_bwd

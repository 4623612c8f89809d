"""The extension API: what a new op, layer or optimizer may use of the engine.

``nn``, ``optim`` and user code that extends the library use this module and the public
API, never the engine's private fields; ``docs/EXTENDING.md`` has worked examples.

- Arrays and tensors: ``array_of(t)`` is the NumPy/CuPy array behind a tensor (no copy);
  ``wrap(a, device)`` a tensor around an array (no copy); ``alias(t)`` a tensor sharing
  ``t``'s storage and version counter (how ``nn.Parameter`` wraps its data).
- In-place changes: ``increment_version(t)`` after writing into ``array_of(t)`` yourself
  (as ``torch.autograd.graph.increment_version``), so that backward notices a value it
  saved was overwritten; ``Op.apply_`` for an in-place op that records a graph.
- Defining an op: subclass :class:`Op` (forward on arrays, backward as a formula, what it
  saves) and call ``MyOp.apply(*tensors, **params)``.  A backward formula gets tensors
  when a graph of the backward is recorded (``create_graph=True``) and, when its class
  sets ``array_backward = True``, the device's bare arrays otherwise; ``xp_of``,
  ``const_like``, ``zeros_like_shape`` and ``Op.apply`` work on both forms.
- ``autograd.ops.formula``: the namespace of backward formulas (ops and helpers that take
  tensors or arrays alike).
- Array-library helpers for forwards: ``array_module``, ``device_of_array``,
  ``from_numpy_dtype``, ``as_strided``, ``scatter_add``, ``erf`` (NumPy and CuPy differ
  there; these bridge them); ``as_dtype`` reads a dtype argument as the library's own
  functions do (an autograd dtype, a NumPy dtype, a Python type or a name);
  ``scalar_name(dtype)`` is PyTorch's name of a dtype in its messages (``'Long'``).
- ``needs_grad(*xs)``: whether an op applied to ``xs`` now would record a node.
- ``refs(a)``: the reference count of an array as its caller sees it (for reusing a
  buffer no one else holds).
- ``check_data(xp, failed, exc, message)``: a check of array data (index bounds, target
  ranges) that raises at once on NumPy and at the next synchronising read on a GPU.
- ``register_cache(release)``: ``release()`` drops arrays a library keeps for reuse;
  ``autograd.cuda.empty_cache()`` calls it.
- ``allow_by_default(classes)``: tensor classes a layer defines that ``autograd.load``
  rebuilds without the user allowing them (``nn.Parameter``, as PyTorch's loader does).
- ``opmath``: a decorator for a forward that computes bfloat16 inputs in float32 and
  rounds its outputs once, as PyTorch's CPU kernels do.
- ``axpy(alpha, x, y)``: ``y += alpha * x`` in place, fused (rounded once) where BLAS
  serves it, as PyTorch's ``add_(x, alpha=)`` (optimizers' updates).
- ``linear_rows(x, w, b)``: ``x @ w.T + b`` for matrices (the product, then the bias
  added in place).
- ``row_max(a, axis)``, ``row_sum(a, axis)``: an array's max and sum along an axis (keepdims),
  fast along a short last axis (a Fortran-ordered copy; a product with ones).
- ``quiet_float_errors(xp)``: a context that silences NumPy's floating-point warnings
  (log(0), exp(-inf), 0/0 meant), as PyTorch computes them silently.
- ``ones_vector(xp, n, dtype, value=1)``: a vector of ones (or of ``value``) to multiply by,
  never to write into (shared on the host).
"""
from .backend import (array_module, as_dtype, as_strided, device_of_array, erf,
                      from_numpy_dtype, scalar_name, scatter_add)
from .backend import check_data
from .backend import axpy, linear_rows
from .backend import ones_vector, quiet_float_errors, row_max, row_sum
from .backend import opmath
from .devices import register_cache
from .grad_mode import state as _grad_state
from .op import Op
from .node import named, renamed
from .refcount import refs
from .serialization import allow_by_default
from .tensor import Tensor, _make

__all__ = ['Op', 'array_of', 'wrap', 'alias', 'increment_version', 'xp_of', 'const_like',
           'zeros_like_shape', 'needs_grad', 'refs', 'array_module', 'device_of_array',
           'from_numpy_dtype', 'as_dtype', 'scalar_name', 'as_strided', 'scatter_add', 'erf',
           'allow_by_default', 'check_data', 'register_cache', 'opmath', 'axpy', 'linear_rows',
           'row_max', 'row_sum', 'ones_vector', 'quiet_float_errors', 'named',
           'renamed']


def array_of(x):
    """The array behind tensor ``x`` (shared, not copied); an array or number as it is."""
    return x._data if isinstance(x, Tensor) else x


def wrap(data, device, requires_grad=False):
    """A leaf tensor around array ``data`` of ``device`` (no copy; ``device`` must be the
    array's own: ``device_of_array`` in ``autograd.backend`` finds it)."""
    t = _make(data, device)
    if requires_grad:
        t.requires_grad = True
    return t


def alias(t, cls=None, requires_grad=False):
    """A new leaf (of class ``cls``, default ``Tensor``) sharing ``t``'s storage and version
    counter: an in-place change through either is seen by both."""
    out = _make(t._data, t._device, cls=cls, vc=t._vc)
    if requires_grad:
        out.requires_grad = True
    return out


def increment_version(*tensors):
    """Record that the storage of each tensor was changed in place (through its array)."""
    for t in tensors:
        t._vc[0] += 1


def xp_of(x):
    """The array module (NumPy or CuPy) of tensor or array ``x``."""
    return x._device.xp if isinstance(x, Tensor) else array_module(x)


def const_like(a, ref):
    """The constant array ``a`` in ``ref``'s form: a tensor on its device (no gradient)
    when ``ref`` is a tensor, else ``a`` itself."""
    return _make(a, ref._device) if isinstance(ref, Tensor) else a


def zeros_like_shape(ref, shape):
    """Zeros of ``shape`` with ``ref``'s dtype, in ``ref``'s form (tensor or array)."""
    data = array_of(ref)
    return const_like(xp_of(ref).zeros(shape, dtype=data.dtype), ref)


def needs_grad(*xs):
    """Whether an op applied to ``xs`` now would record a node (grad mode is on and some
    tensor among them requires grad)."""
    return _grad_state.enabled and any(isinstance(x, Tensor) and x._requires_grad for x in xs)

"""The Tensor: an array, its device, and its place in the graph.

A tensor that requires grad and was produced by an op points at that op's graph node
(``grad_fn``); leaves have none.  This module holds the tensor's fields and the methods
that read them.  The methods that walk the graph are defined with it (``register_hook``,
``retain_grad`` in ``node.py``, ``backward`` in ``engine.py``), and the math methods and
operators by the ops layer (``methods.py``); each binds them onto this class when imported.
"""
import numbers
import operator

import numpy

from . import backend
from ._format import format_tensor
from ._inline import define
from .backend import CPU, as_dtype, from_numpy_dtype, get_default_dtype
from .devices import cuda as _cuda

__all__ = ['Tensor', 'Size', 'ViewOf']

_new = object.__new__


# The one Tensor constructor, as a template of statements: it binds ``{t}`` to a new
# tensor around array ``{data}`` of ``{device}`` (no copy), setting every field.  ``{vc}``
# is its version counter (a new ``[0]``, or a view's base's); ``{view}`` (a ``ViewOf``)
# makes it a view.
# Compiled into ``_make`` below and inlined into the recording path (see ``_inline.py``).
MAKE = """\
{t} = _new({cls})
{t}._data = {data}
{t}._device = {device}
{t}._requires_grad = {requires_grad}
{t}._grad = None
{t}.grad_fn = {grad_fn}
{t}._output_nr = {output_nr}
{t}._vc = {vc}
{t}._grad_acc = None
{t}._view = {view}
"""

_make = define(
    '_make', 'data, device, requires_grad=False, grad_fn=None, output_nr=0, vc=None, '
    'view=None, cls=None',
    MAKE.format(t='t', cls='Tensor if cls is None else cls', data='data', device='device',
                requires_grad='requires_grad', grad_fn='grad_fn', output_nr='output_nr',
                vc='[0] if vc is None else vc', view='view') + 'return t\n',
    globals(), doc='A tensor (of ``cls``, default Tensor) around array ``data`` of ``device``.')


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Attributes follow PyTorch: ``shape, dtype, device, requires_grad, grad, grad_fn``.
    """
    # _vc: the version counter, a one-item list shared by all views of one storage;
    # _grad_acc: a leaf's cached (AccumulateGrad, 0) edge; _view: how a view was taken.
    __slots__ = ('_data', '_device', '_requires_grad', '_grad', 'grad_fn', '_output_nr', '_vc',
                 '_grad_acc', '_view', '__weakref__')
    __array_ufunc__ = None          # make NumPy defer to our reflected operators
    __array_priority__ = 1000

    def __new__(cls, data=None, *, dtype=None, device=None, requires_grad=False):
        dev = backend.get_default_device() if device is None else backend.device(device)
        return _make(to_array([] if data is None else data, dtype, dev), dev, cls=cls)

    def __init__(self, data=None, *, dtype=None, device=None, requires_grad=False):
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.backend is _cuda

    @property
    def is_cpu(self):
        return self._device.type == 'cpu'

    # Device kinds and layouts this project has no backend for: always False, as PyTorch
    # reports them for an ordinary dense CPU/CUDA tensor (programs read them to pick a path).
    is_xpu = is_mps = is_meta = is_sparse = is_sparse_csr = is_quantized = is_mkldnn = \
        is_vulkan = is_ipu = is_xla = is_maia = is_mtia = is_nested = property(
            lambda self: False)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_floating_point_dtype(self):
        return self._data.dtype.kind in 'fV'      # V: bfloat16 (backend.py)

    def is_floating_point(self):
        return self._data.dtype.kind in 'fV'      # V: bfloat16 (backend.py)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError('len() of a 0-d tensor')
        return self._data.shape[0]

    @property
    def _base(self):
        """The tensor whose storage this view looks into (None when not a view)."""
        view = self._view
        if view is None:
            return None
        while view.parent._view is not None:
            view = view.parent._view
        return view.parent

    @property
    def _version(self):
        return self._vc[0]

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if self.grad_fn is not None:
            if not flag:
                raise RuntimeError(
                    'you can only change requires_grad flags of leaf variables. If you want to '
                    'use a computed variable in a subgraph that doesn\'t require differentiation '
                    'use var_no_grad = var.detach().')
            return
        if flag and self._data.dtype.kind not in 'fcV':
            raise RuntimeError('only Tensors of floating point and complex dtype can require '
                               f'gradients (got {self.dtype})')
        self._requires_grad = flag

    @property
    def grad(self):
        """The gradient summed into this tensor by backward (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        # As PyTorch: a gradient must match the tensor's size, dtype and device (the engine
        # writes ``_grad`` itself, with gradients it has already checked).
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError('assigned grad expected to be a Tensor or None but got grad of '
                                f'type {type(value).__name__}')
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the "
                    'gradient and the tensor are the same size')
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.name}' to a "
                    f"tensor with grad_dtype '{self.dtype.name}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype).")
            if value._device != self._device:
                raise RuntimeError(
                    f"attempting to assign a gradient located on device '{value._device}' to "
                    f"a tensor located on device '{self._device}'. Please ensure that the "
                    'gradient and the tensor are on the same device')
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def output_nr(self):
        return self._output_nr if self.grad_fn is not None else 0

    @property
    def data(self):
        """A detached tensor sharing storage but not the version counter (as PyTorch)."""
        return _make(self._data, self._device)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f'data must be a Tensor, got {type(value).__name__}')
        self._data = value._data
        self._device = value._device
        old = self._grad_acc
        self._grad_acc = None        # its accumulator checked gradients against the old metadata
        if old is not None and old[0]._pre_hooks and self._requires_grad:
            acc = old[0].__class__(self)                 # a new one; the hooks stay
            acc._pre_hooks = old[0]._pre_hooks
            self._grad_acc = (acc, 0)

    def detach(self):
        """A new leaf sharing storage and version counter; never requires grad."""
        return _make(self._data, self._device, vc=self._vc)

    def detach_(self):
        if self._view is not None:
            raise RuntimeError('Can\'t detach views in-place. Use detach() instead.')
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f'a Tensor with {self._data.size} elements cannot be converted '
                               'to Scalar')
        backend.raise_deferred()
        return self._data.item()

    def tolist(self):
        backend.raise_deferred()
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The NumPy array behind a CPU tensor (shared memory)."""
        if not force:
            if self._requires_grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            if self._device is not CPU:
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. "
                                'Use Tensor.cpu() to copy the tensor to host memory first.')
            return self._data
        backend.raise_deferred()
        return self._device.backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self):
        if self._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return float(self.item())

    def __int__(self):
        if self._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError('only integer tensors of a single element can be converted to an index')
        backend.raise_deferred()
        return int(self._data.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f'Boolean value of Tensor with more than one value is ambiguous')
        backend.raise_deferred()
        return bool(self._data.item())

    __hash__ = object.__hash__

    def __repr__(self):
        return format_tensor(self)

    def __format__(self, format_spec):
        # As PyTorch: a 0-d tensor formats its value (f'{loss:.4f}'); others only with '' (str)
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __reduce_ex__(self, proto):
        raise TypeError('Tensors are not picklable here; use autograd.save, which never pickles')

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError('Only Tensors created explicitly by the user (graph leaves) support '
                               'the deepcopy protocol at the moment.')
        t = _make(self._data.copy(), self._device, self._requires_grad, cls=type(self))
        t._grad = None if self._grad is None else self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ devices and dtypes
    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None):
        dev = _cuda.device() if device is None else backend.device(device)
        if dev.backend is not _cuda:
            raise RuntimeError('Invalid device, must be cuda device')
        return self.to(dev)

    def type(self, dtype=None, non_blocking=False):
        """Without ``dtype``, PyTorch's legacy type name ('torch.FloatTensor',
        'torch.cuda.LongTensor' ...); else this tensor converted to ``dtype``, which may also
        be a legacy type (``autograd.FloatTensor``) or its name."""
        names = _LEGACY_NAMES
        if dtype is None:
            where = 'torch.' if self._device.type == 'cpu' else f'torch.{self._device.type}.'
            return where + names.get(self.dtype.name, self.dtype.name)
        if isinstance(dtype, str) and dtype.startswith('torch.'):
            legacy = {v: k for k, v in names.items()}.get(dtype.split('.')[-1])
            if legacy is None:
                raise ValueError(f'invalid type: {dtype!r}')
            return self.to(backend.as_dtype(legacy))
        if isinstance(dtype, type):            # a legacy type: a CPU type, as in PyTorch
            return self.to('cpu', backend.as_dtype(dtype.dtype))
        return self.to(backend.as_dtype(dtype))

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def bfloat16(self):
        return self.to(backend.bfloat16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool)

    def byte(self):
        return self.to(backend.uint8)

    def type_as(self, other):
        return self.to(other.dtype)

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def data_ptr(self):
        return self._device.backend.data_ptr(self._data)

    def get_device(self):
        return -1 if self._device.index is None else self._device.index

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export this tensor's memory to a DLPack consumer (``numpy.from_dlpack`` ...)."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        exporter = getattr(self._data, '__dlpack__', None)
        if exporter is None:
            raise BufferError(f'the array library behind {self._device} tensors '
                              f'({type(self._data).__module__}) cannot export DLPack')
        # only the arguments the consumer set: array libraries that predate them still export
        kwargs = dict(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)
        return exporter(**{k: v for k, v in kwargs.items() if v is not None})

    def __dlpack_device__(self):
        """``(DLDeviceType, index)`` of this tensor's memory."""
        where = getattr(self._data, '__dlpack_device__', None)
        if where is not None:
            return where()
        return self._device.backend.dlpack_device(self._device)


class ViewOf:
    """How a view was taken: ``op`` (an op class) with ``params`` applied to ``parent``
    (output ``nr`` of a multi-output view op, else None).  ``version`` is the version of
    the shared storage when the view's history was last derived (``views.py``)."""
    __slots__ = ('parent', 'op', 'params', 'nr', 'version')

    def __init__(self, parent, op, params, nr=None):
        self.parent = parent
        self.op = op
        self.params = params
        self.nr = nr
        self.version = parent._vc[0]


class Size(tuple):
    """The shape of a tensor: a tuple that prints as ``autograd.Size([...])``."""
    __slots__ = ()

    def __repr__(self):
        return f'autograd.Size({list(self)})'

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _dim_index(dim):
    """A dim given as another integer type (NumPy's, a 0-d integer tensor); TypeError for
    anything else (a string, a float), as PyTorch's argument parser."""
    try:
        return operator.index(dim)
    except TypeError:
        raise TypeError(f'received an invalid combination of arguments: dim must be an int, '
                        f'not {type(dim).__name__}') from None


def wrap_dim(dim, ndim):
    """``dim`` in ``[-ndim, ndim)`` as a non-negative axis (a 0-d tensor takes 0 and -1);
    IndexError, in PyTorch's words, when out of range."""
    n = ndim if ndim else 1
    dim = dim if dim.__class__ is int else _dim_index(dim)
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], '
                         f'but got {dim})')
    return dim + n if dim < 0 else dim


# ----------------------------------------------------------------------------- user data

def _python_data(data, dtype=None):
    """Nested lists/tuples of numbers (and 0-d tensors) as a NumPy array, PyTorch's dtypes:
    Python floats take the default dtype, NumPy scalars keep theirs; a requested ``dtype``
    applies directly (no rounding through float32 first)."""
    np_floats = []

    def plain(x):
        if isinstance(x, Tensor):
            x = x.detach().cpu().numpy()
            if x.dtype.kind == 'f':
                np_floats.append(x.dtype)
            return x.tolist() if x.ndim else x.item()
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        if isinstance(x, (numpy.inexact, numpy.ndarray)) and x.dtype.kind in 'fc':
            np_floats.append(x.dtype)
        return x
    data = plain(data)
    if dtype is not None:
        _check_values(data, dtype.np)
        try:
            with numpy.errstate(over='ignore'):     # float overflow gives inf, silently
                return numpy.asarray(data, dtype=dtype.np)
        except (ValueError, OverflowError):
            numpy.asarray(data)             # ragged lists: NumPy's ValueError, as PyTorch's
            if dtype.np.kind == 'u':        # negative integers wrap around, as in PyTorch
                try:
                    return numpy.asarray(data, dtype=dtype.np.str.replace('u', 'i'))\
                        .astype(dtype.np)
                except (ValueError, OverflowError):
                    pass
            raise RuntimeError(f'value cannot be converted to type {dtype.np.name} without '
                               'overflow') from None
    arr = numpy.asarray(data)
    if arr.dtype == numpy.uint64 and not np_floats:   # a Python int beyond int64
        raise ValueError('Overflow when unpacking long long')
    if arr.dtype.kind == 'f':
        want = get_default_dtype().np
        if np_floats:
            want = numpy.result_type(*np_floats)
        if arr.dtype != want:
            arr = arr.astype(want)
    elif arr.dtype.kind == 'c':       # Python complex numbers: the default dtype's complex
        want = get_default_dtype().to_complex().np
        if any(d.kind == 'c' for d in np_floats):
            want = numpy.result_type(*np_floats)
        if arr.dtype != want:
            arr = arr.astype(want)
    elif arr.dtype.kind == 'O':
        bad = next((v for v in arr.flat if not isinstance(v, numbers.Number)), data)
        raise RuntimeError(f'Could not infer dtype of {type(bad).__name__}')
    elif arr.dtype.kind in 'USVmM':
        raise TypeError(f"can't convert data of type {type(data).__name__} "
                        f'(array dtype {arr.dtype}) to a tensor')
    return arr


def _check_values(data, np_dtype):
    """PyTorch's checks of Python values converted to a requested dtype: None is no number
    (TypeError), and a float (NaN, inf, or out of range) must fit an integer type
    (RuntimeError; integers wrap around into unsigned types, floats do not)."""
    arr = numpy.asarray(data) if not isinstance(data, numpy.ndarray) else data
    if arr.dtype.kind == 'O' and any(v is None for v in arr.flat):
        raise TypeError('must be real number, not NoneType')
    if arr.dtype == numpy.uint64 and np_dtype.kind == 'i':
        raise ValueError('Overflow when unpacking long long')
    if arr.dtype.kind == 'f' and np_dtype.kind in 'iu' and arr.size:
        info = numpy.iinfo(np_dtype)
        with numpy.errstate(invalid='ignore'):
            ok = numpy.isfinite(arr) & (arr >= info.min) & (arr <= info.max)
        if not ok.all():
            raise RuntimeError(f'value cannot be converted to type {np_dtype.name} without '
                               'overflow')


def to_array(data, dtype, dev, copy=True):
    """Convert user data to an array of ``dev`` with ``dtype`` (copying when ``copy``)."""
    dtype = as_dtype(dtype)
    backend.check_bfloat16(dtype if dtype is not None else getattr(data, 'dtype', None), dev)
    if isinstance(data, Tensor):
        arr = data._data
        if data._device is not dev:
            arr = backend.transfer(arr, dev)
            copy = False
    elif isinstance(data, numpy.ndarray):
        arr = data
        if arr.dtype.kind not in 'biufc' and arr.dtype != backend.BFLOAT16_NP:
            raise TypeError(f"can't convert np.ndarray of type {arr.dtype}. The only supported "
                            'types are: float64, float32, float16, complex64, complex128, '
                            'int64, int32, int16, int8, uint8, and bool.')
    elif dev.backend.device_of(data) is not None:   # an array of the device's kind (a GPU array)
        arr = dev.asarray(data)
    else:
        arr = _python_data(data, dtype)
    if not isinstance(arr, dev.array_type):
        arr = dev.asarray(arr)
        copy = False
    if dtype is not None and arr.dtype != dtype.np:
        return arr.astype(dtype.np)
    backend.from_numpy_dtype(arr.dtype)        # rejects unsupported dtypes
    return arr.copy() if copy else arr


# dtype name -> PyTorch's legacy tensor type name (Tensor.type())
_LEGACY_NAMES = {'float32': 'FloatTensor', 'float64': 'DoubleTensor', 'float16': 'HalfTensor',
                 'int64': 'LongTensor', 'int32': 'IntTensor', 'int16': 'ShortTensor',
                 'int8': 'CharTensor', 'uint8': 'ByteTensor', 'bool': 'BoolTensor',
                 'bfloat16': 'BFloat16Tensor'}

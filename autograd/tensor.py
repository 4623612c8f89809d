"""The Tensor: an array, its device, and its place in the graph.

A tensor that requires grad and was produced by an op points at that op's graph node
(``grad_fn``); leaves have none.  Math methods and operators are bound onto this class
by the ops layer (``autograd/methods.py``), so that this module stays the engine's core.
"""
import numpy

from . import backend
from .backend import CPU, from_numpy_dtype, get_default_dtype
from .grad_mode import state as _grad_state

__all__ = ['Tensor']


def _make(data, device, requires_grad=False):
    """Wrap an array of ``device`` without copying (the fast internal constructor)."""
    t = _new(Tensor)
    t._data = data
    t._device = device
    t._requires_grad = requires_grad
    t.grad = None
    t.grad_fn = None
    t._vc = [0]
    t._view_src = None
    return t


_new = object.__new__


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Attributes follow PyTorch: ``shape, dtype, device, requires_grad, grad, grad_fn``.
    """
    __slots__ = ('_data', '_device', '_requires_grad', 'grad', 'grad_fn', '_output_nr', '_vc',
                 '_retains_grad', '_grad_acc', '_view_src', '_view_ver', '__weakref__')
    __array_ufunc__ = None          # make NumPy defer to our reflected operators
    __array_priority__ = 1000

    def __init__(self, data=None, *, dtype=None, device=None, requires_grad=False):
        from .creation import _to_array
        dev = backend.get_default_device() if device is None else backend.device(device)
        self._data = _to_array([] if data is None else data, dtype, dev)
        self._device = dev
        self.grad = None
        self.grad_fn = None
        self._vc = [0]
        self._view_src = None
        self._requires_grad = False
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
        return self._device.type == 'cuda'

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_floating_point_dtype(self):
        return self._data.dtype.kind == 'f'

    def is_floating_point(self):
        return self._data.dtype.kind == 'f'

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

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
        from .node import root_base
        return root_base(self)

    @property
    def _version(self):
        return self._vc[0]

    def _bump(self):
        """Record an in-place change (shared by all views of the same storage)."""
        self._vc[0] += 1

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
        if flag and self._data.dtype.kind != 'f':
            raise RuntimeError('only Tensors of floating point dtype can require gradients '
                               f'(got {self.dtype})')
        self._requires_grad = flag

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
        old = getattr(self, '_grad_acc', None)
        self._grad_acc = None        # its accumulator checked gradients against the old metadata
        if old is not None and old[0]._pre_hooks and self._requires_grad:
            from .node import edge_of
            edge_of(self)[0]._pre_hooks = old[0]._pre_hooks     # the hooks stay

    def detach(self):
        """A new leaf sharing storage and version counter; never requires grad."""
        t = _make(self._data, self._device)
        t._vc = self._vc
        return t

    def detach_(self):
        if getattr(self, '_view_src', None) is not None:
            raise RuntimeError('Can\'t detach views in-place. Use detach() instead.')
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or getattr(self, '_retains_grad', False):
            return
        from .node import RetainGradHook
        self.grad_fn._add_pre_hook(self._output_nr, RetainGradHook(self))
        self._retains_grad = True

    @property
    def retains_grad(self):
        return self.grad_fn is not None and getattr(self, '_retains_grad', False)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return
        value replaces the gradient.  Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._output_nr, hook)
        from .node import edge_of
        return edge_of(self)[0]._add_pre_hook(0, hook)     # a leaf's: on its accumulator

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``autograd.backward``)."""
        _engine.backward((self,), None if gradient is None else (gradient,), retain_graph,
                         create_graph, inputs=inputs)

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f'a Tensor with {self._data.size} elements cannot be converted '
                               'to Scalar')
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The NumPy array behind a CPU tensor (shared memory)."""
        if not force:
            if self._requires_grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            if self._device.type != 'cpu':
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. "
                                'Use Tensor.cpu() to copy the tensor to host memory first.')
            return self._data
        return backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError('only integer tensors of a single element can be converted to an index')
        return int(self._data.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f'Boolean value of Tensor with more than one value is ambiguous')
        return bool(self._data.item())

    __hash__ = object.__hash__

    def __repr__(self):
        from ._format import format_tensor
        return format_tensor(self)

    def __reduce_ex__(self, proto):
        raise TypeError('Tensors are not picklable here; use autograd.save, which never pickles')

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError('Only Tensors created explicitly by the user (graph leaves) support '
                               'the deepcopy protocol at the moment.')
        cls = type(self)
        t = _new(cls)
        t._data = self._data.copy()
        t._device = self._device
        t._requires_grad = self._requires_grad
        t.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        t.grad_fn = None
        t._vc = [0]
        t._view_src = None
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a._device, a.dtype
            elif isinstance(a, (str, backend.Device)) and not (
                    isinstance(a, str) and a in backend._BY_NAME):
                device = a
            else:
                dtype = a
        dev = self._device if device is None else backend.device(device)
        dt = None if dtype is None else backend.as_dtype(dtype)
        if dev is self._device and (dt is None or dt.np == self._data.dtype) and not copy:
            return self
        from .ops.shape import to_copy
        return to_copy(self, dev, dt)

    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None):
        return self.to(backend.device('cuda' if device is None else
                                      device if not isinstance(device, int) else f'cuda:{device}'))

    def type(self, dtype=None):
        if dtype is None:
            return f'autograd.{self.dtype.name}'
        return self.to(backend.as_dtype(dtype))

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

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
        if self._device.type == 'cpu':
            return self._data.__array_interface__['data'][0]
        return self._data.data.ptr

    def get_device(self):
        return -1 if self._device.type == 'cpu' else self._device.index

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export this tensor's memory to a DLPack consumer (``numpy.from_dlpack`` ...)."""
        from .dlpack import export
        return export(self, stream=stream, max_version=max_version, dl_device=dl_device,
                      copy=copy)

    def __dlpack_device__(self):
        from .dlpack import device_of
        return device_of(self)


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


from . import engine as _engine  # noqa: E402  (the engine imports Tensor from this module)


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative ``dim`` for a tensor of ``ndim`` dims (IndexError if out)."""
    n = ndim if ndim else 1
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], '
                         f'but got {dim})')
    return dim + n if dim < 0 else dim

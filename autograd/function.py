"""User-defined ops: ``class F(autograd.Function)`` with static ``forward``/``backward``.

``forward(ctx, *args)`` runs on tensors with grad recording off; ``backward(ctx, *grads)``
runs with recording on exactly when ``create_graph=True``, so a backward written with
tensor ops differentiates again.
"""
import functools
import warnings

from . import backend
from .grad_mode import no_grad, state as _grad_state
from .node import FREED_MSG, Node, link, modified_msg
from .tensor import Tensor, _make
from .views import refresh_view

__all__ = ['Function', 'FunctionCtx', 'once_differentiable', 'Variable']


class FunctionCtx:
    """The ``ctx`` of a custom Function before it becomes a graph node."""

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError('save_for_backward can only save variables, but argument '
                                f'{tensors.index(t)} is of type {type(t).__name__}')
        self.to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = set(map(id, tensors))

    def mark_dirty(self, *tensors):
        self._dirty = set(map(id, tensors))

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class BackwardFunction(Node, FunctionCtx):
    """The graph node of one application of a custom Function; also its ``ctx``."""
    _fn_cls = None
    needs_input_grad = None          # set per call from the arguments (not Node's property)

    def name(self):
        return self._fn_cls.__name__ + 'Backward'

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_MSG)
        out = []
        for entry, v in zip(saved, self._versions):
            if entry is None:
                out.append(None)
                continue
            if entry.__class__ is tuple:            # one of our own outputs, kept as data
                data, dev, vc, nr = entry
                if vc[0] != v:
                    raise RuntimeError(modified_msg(self, _make(data, dev), v, vc[0], nr))
                if self._next is not None and nr not in self._nondiff_nrs:
                    out.append(_make(data, dev, True, self, nr, vc))
                else:
                    out.append(_make(data, dev, vc=vc))
                continue
            if entry._vc[0] != v:
                raise RuntimeError(modified_msg(self, entry, v))
            out.append(entry)
        return tuple(out)

    def backward(self, *grads):
        if getattr(self, 'materialize_grads', True):
            grads = tuple(g if g is not None else _zeros_like_meta(m, self._dev)
                          for g, m in zip(grads, self._meta))
        result = self._fn_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self._next)
        if len(result) > n and all(r is None for r in result[n:]):
            result = result[:n]
        if len(result) != n:
            raise RuntimeError(f'function {self.name()} returned an incorrect number of '
                               f'gradients (expected {n}, got {len(result)})')
        return result

    def _release(self):
        self._saved = None
        self._out = None


def _zeros_like_meta(meta, dev):
    shape, dtype, dev = meta
    return _make(dev.xp.zeros(shape, dtype=dtype), dev)


class Function:
    """Base class of custom differentiable ops (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError('Function objects are not instantiated: call F.apply(...) instead')

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError('You must implement the forward function for custom '
                                  'autograd.Function.')

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError('You must implement the backward function for custom '
                                  'autograd.Function.')

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = object.__new__(BackwardFunction)
        ctx._fn_cls = cls
        ctx._next = None
        ctx._saved = ()
        ctx._versions = ()
        ctx._out = None
        ctx._pre_hooks = None
        tensors = [a for a in args if isinstance(a, Tensor)]
        for t in tensors:
            if t._view is not None and t._vc[0] != t._view.version:
                refresh_view(t)
        dev = tensors[0]._device if tensors else None
        for t in tensors:
            if t._device is not dev:
                raise RuntimeError(f'Expected all tensors to be on the same device, but found at '
                                   f'least two devices, {dev} and {t._device}!')
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = _grad_state.enabled and any(ctx.needs_input_grad)
        with no_grad():
            if _has_setup_context(cls):
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        input_ids = {id(a) for a in tensors}
        dirty = getattr(ctx, '_dirty', set())
        new_outs = []
        for o in outs:
            if isinstance(o, Tensor) and id(o) in input_ids and id(o) not in dirty:
                new_outs.append(_make(o._data, o._device, vc=o._vc))  # an input: a new tensor
            else:
                new_outs.append(o)
        non_diff = getattr(ctx, '_non_diff', set())
        ctx._nondiff_nrs = {i for i, o in enumerate(outs) if id(o) in non_diff}
        if record:
            link(ctx, args)
            ctx._dev = dev
            ctx._meta = tuple((o._data.shape, o._data.dtype, o._device) if isinstance(o, Tensor)
                              else ((), None, dev) for o in new_outs)
            for i, o in enumerate(new_outs):
                if isinstance(o, Tensor) and i not in ctx._nondiff_nrs and \
                        o._data.dtype.kind in 'fcV':
                    if id(o) in dirty:
                        o._vc[0] += 1
                    o.grad_fn = ctx
                    o._output_nr = i
                    o._requires_grad = True
        _pack_saved(ctx, new_outs, outs)
        return new_outs[0] if single else tuple(new_outs)


def _pack_saved(ctx, new_outs, outs):
    """Store saved tensors; our own outputs are kept as bare data to avoid a cycle."""
    to_save = getattr(ctx, 'to_save', ())
    if hasattr(ctx, 'to_save'):
        del ctx.to_save
    out_ids = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor)}
    out_ids.update({id(o): i for i, o in enumerate(new_outs) if isinstance(o, Tensor)})
    saved, versions = [], []
    for t in to_save:
        if t is None:
            saved.append(None)
            versions.append(None)
        elif id(t) in out_ids:
            o = new_outs[out_ids[id(t)]]
            saved.append((o._data, o._device, o._vc, out_ids[id(t)]))
            versions.append(o._vc[0])
        else:
            saved.append(t)
            versions.append(t._vc[0])
    ctx._saved = tuple(saved)
    ctx._versions = tuple(versions)


def _has_setup_context(cls):
    return getattr(cls, 'setup_context', None) is not None


Function.setup_context = None


def once_differentiable(fn):
    """Decorate a custom backward that cannot itself be differentiated: it runs without
    recording, and a double backward through it raises."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            out = fn(ctx, *grads)
        if _grad_state.enabled and any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            outs = out if isinstance(out, tuple) else (out,)
            return tuple(_DelayedError.apply(o) if isinstance(o, Tensor) else o for o in outs) \
                if isinstance(out, tuple) else _DelayedError.apply(out)
        return out
    return wrapper


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError('trying to differentiate twice a function that was marked with '
                           '@once_differentiable')


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``torch.autograd.Variable``, a tensor since PyTorch 0.4, kept for old programs:
    ``Variable(t, requires_grad=False)`` is ``t.detach()`` (the same memory, a new leaf)
    with ``requires_grad`` as asked, and every tensor is an instance of ``Variable``."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn('volatile was removed and now has no effect. Use `with '
                          'torch.no_grad():` instead.', UserWarning, stacklevel=2)
        if data is None:
            data = _make(backend.CPU.xp.empty(0, backend.get_default_dtype().np), backend.CPU)
        elif not isinstance(data, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(data).__name__}')
        out = data.detach()
        return out.requires_grad_(True) if requires_grad else out

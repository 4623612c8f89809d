"""The op base class: forward on arrays, backward as a formula, applied to tensors.

``Op.apply`` (and its lean forms ``apply_unary``/``apply_binary`` for the operators and
math methods) only unpacks the arguments: it finds the device, runs ``forward`` on the
arrays, and hands the result to ``node.record``, which makes the output tensors and
records the node.  ``Op.apply_`` is the in-place form.  Applied to bare arrays (no tensor
among the inputs), an op runs its forward alone and returns arrays: that is what makes
one backward formula serve both sweeps (see :class:`Op`).
"""
import numpy

from .backend import IGNORE_ERRORS, array_module, from_numpy_dtype, reset_errstate, set_errstate
from .grad_mode import state as _grad_state
from ._inline import define, indent
from .node import Node, record, record_source, retain_hook
# names the compiled recording statements use (node.record_source), bound here too
from .node import (TRACES, _creation_trace, _edge, _process, _record_many,  # noqa: F401
                   _version, next_seq)
from .node import complex_error  # noqa: F401
from .tensor import Tensor, ViewOf, _make
from .views import check_inplace, rebase_view, refresh_view

__all__ = ['Op', 'apply_unary', 'apply_binary', 'binary_operator', 'unary_function']

_new = object.__new__
_ndarray = numpy.ndarray


class Op(Node):
    """A primitive differentiable op.

    Subclasses define ``forward(self, xp, *arrays, **params)`` on raw arrays (``xp`` is
    the device's array module; instance attributes set here carry non-tensor data such as
    shapes and axes to backward) and ``backward(self, *grad_outputs)``, returning one
    gradient (or None) per input.  Class attributes declare what backward needs (``save``,
    ``save_output``, ``save_for``: see ``Node``), whether it is ``differentiable``, and:

    - ``view``: the output is a view of input 0 and shares its version counter (``'maybe'``:
      only when the array library returned a view);
    - ``transfers``: the output lives on ``params['device']`` (device copies);
    - ``array_backward``: backward is written so that it runs on bare arrays too.

    The backward formula rule: with ``create_graph=True`` backward gets tensors and runs
    with recording on, so it is differentiated again; otherwise an ``array_backward`` op
    gets the device's bare arrays (its gradients, and ``saved_tensors``) and returns
    arrays.  A formula serves both when it uses only arithmetic operators, ``.shape``,
    ``.ndim``, ``.dtype``, ``.reshape``, ``.T`` and ``Op.apply`` of ops (which take tensors
    or arrays alike); ``autograd.extend`` has the helpers for constants of either form.
    """
    __slots__ = ()
    view = False
    transfers = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._special = bool(cls.view or cls.transfers)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (and Python numbers); record a node if grad is needed."""
        if not params and not cls._special:
            n = len(inputs)
            if n == 2:
                return apply_binary(cls, inputs[0], inputs[1])
            if n == 1:
                return apply_unary(cls, inputs[0])
        dev = None
        needs = False
        arrays = []
        for x in inputs:
            if isinstance(x, Tensor):
                if dev is None:
                    dev = x._device
                elif x._device is not dev:
                    raise device_error(cls.__name__.lower(), dev, x._device)
                if x._view is not None and x._vc[0] != x._view.version:
                    refresh_view(x)
                arrays.append(x._data)
                needs = needs or x._requires_grad
            else:
                arrays.append(x)
        node = _new(cls)
        if dev is None:             # bare arrays: the forward alone
            return node.forward(array_module(*inputs), *arrays, **params)
        out = node.forward(dev.xp, *arrays, **params)
        view = None
        if cls._special:
            if cls.transfers:
                dev = params['device'] or dev
            elif cls.view is True or dev.xp.may_share_memory(
                    out[0] if out.__class__ is tuple else out, arrays[0]):
                view = ViewOf(inputs[0], cls, params)
        return record(node, out, dev, inputs, needs, view)

    @classmethod
    def apply_(cls, target, *others, **params):
        """The in-place form: compute the op on ``target`` and write the result into it.

        The recorded node sees the old value as its input: a snapshot sharing storage and
        version counter, or a copy when backward reads it (``0 in save``).
        """
        if not _grad_state.enabled or not (target._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in others)):
            return _write(cls, target, _untracked(cls, target, others, params))
        base = check_inplace(target, others)
        old = _make(target._data, target._device, target._requires_grad, target.grad_fn,
                    target._output_nr, target._vc)
        out = cls.apply(old, *others, **params)
        node = out.grad_fn
        if node is not None and 0 in cls.save:
            # Backward reads the old value, which the write below destroys: keep a copy with
            # its own version counter (PyTorch's ``original_self``).
            old._data = old._data.copy()
            old._vc = [old._vc[0]]
        _write(cls, target, out._data)
        if node is not None:
            if base is not None:
                rebase_view(target, node)
            else:
                _move_history(target, node)
        return target


def _move_history(target, node):
    """``target`` (not a view) now holds output 0 of ``node``, written in place."""
    hook = retain_hook(target) if target.grad_fn is not None else None
    if hook is not None:            # retain_grad() follows the tensor to its new node
        hooks = target.grad_fn._pre_hooks[target._output_nr]
        del hooks[next(k for k, h in hooks.items() if h is hook)]
        node._add_pre_hook(0, hook)
    target.grad_fn = node
    target._output_nr = 0
    target._requires_grad = True
    if node._out is not None:
        node._out = (target._data, target._device, target._vc, target._vc[0], 0)


def _untracked(cls, target, others, params):
    """The op's result for ``apply_`` when no graph is recorded (an array)."""
    dev = target._device
    xs = []
    for o in others:
        if isinstance(o, Tensor):
            if o._device is not dev:
                raise device_error(cls.__name__.lower() + '_', dev, o._device)
            xs.append(o._data)
        else:
            xs.append(o)
    return _new(cls).forward(dev.xp, target._data, *xs, **params)


def _write(cls, target, result):
    """Write array ``result`` into ``target``'s storage (PyTorch's casting and shape
    rules for an in-place op) and bump its version."""
    data = target._data
    if result.dtype != data.dtype and _kind_rank(result.dtype) > _kind_rank(data.dtype):
        raise RuntimeError(f'result type {from_numpy_dtype(result.dtype).name} can\'t be cast '
                           f'to the desired output type {target.dtype.name}')
    if result.shape != data.shape:
        raise RuntimeError(f"output with shape {list(data.shape)} doesn't match the broadcast "
                           f'shape {list(result.shape)}')
    if result.dtype == data.dtype:
        target._device.xp.copyto(data, result)
    else:                       # a narrowing cast overflows to inf silently, as PyTorch's
        token = set_errstate(IGNORE_ERRORS)
        try:
            target._device.xp.copyto(data, result, casting='unsafe')
        finally:
            reset_errstate(token)
    target._vc[0] += 1
    return target


def _kind_rank(np_dtype):
    return {'b': 0, 'u': 1, 'i': 1, 'f': 2, 'V': 2}.get(np_dtype.kind, 3)


def device_error(op, a, b):
    return RuntimeError(f'Expected all tensors to be on the same device, but found at least two '
                        f'devices, {a} and {b}! (when checking arguments for {op})')


# The entry points of math methods and operators: each unpacks its arguments, runs the
# forward, and continues with the recording path (``node.record_source``) compiled in.

# (a one-input op's forward and recording on a tensor ``x`` once ``node`` exists, shared by
# ``apply_unary`` and ``unary_function``)
_UNARY = """\
if x._view is not None and x._vc[0] != x._view.version:
    refresh_view(x)
dev = x._device
out = node.forward(dev.xp, x._data)
inputs = (x,)
needs = x._requires_grad
""" + record_source(arity=1, views=False)

apply_unary = define('apply_unary', 'cls, x', """\
if cls._special:
    return cls.apply(x)
node = _new(cls)
if x.__class__ is not Tensor and not isinstance(x, Tensor):
    # a bare array (a formula in an array sweep): the forward alone
    return node.forward(numpy if x.__class__ is _ndarray else array_module(x), x)
""" + _UNARY, globals(), doc='``cls.apply(x)`` for a one-input op without parameters.')

# (the unpacking of two operands, shared by ``apply_binary`` and the operators)
_BINARY = """\
if a.__class__ is Tensor or isinstance(a, Tensor):
    dev = a._device
    needs = a._requires_grad
    if a._view is not None and a._vc[0] != a._view.version:
        refresh_view(a)
    if b.__class__ is Tensor or isinstance(b, Tensor):
        if b._device is not dev:
            raise device_error(cls.__name__.lower(), dev, b._device)
        if b._view is not None and b._vc[0] != b._view.version:
            refresh_view(b)
        needs = needs or b._requires_grad
        xb = b._data
    else:
        xb = b
    node = _new(cls)
    out = node.forward(dev.xp, a._data, xb)
elif b.__class__ is Tensor or isinstance(b, Tensor):
    dev = b._device
    needs = b._requires_grad
    if b._view is not None and b._vc[0] != b._view.version:
        refresh_view(b)
    node = _new(cls)
    out = node.forward(dev.xp, a, b._data)
else:                           # bare arrays (a formula in an array sweep): the forward alone
    return _new(cls).forward(numpy if a.__class__ is _ndarray else array_module(a, b), a, b)
inputs = (a, b)
""" + record_source(arity=2, views=False)

apply_binary = define('apply_binary', 'cls, a, b', _BINARY, globals(),
                      doc='``cls.apply(a, b)`` for a two-input op without parameters.')

# Tensor's operator for a binary op: ``apply_binary`` compiled into the dunder itself, with
# ``cls`` bound in a closure, so that ``a * b`` runs one Python frame, not two (the second
# cost 9% of a small elementwise op's time).  An operand of a foreign type is converted by
# ``convert`` (which may answer NotImplemented) unless its class is in ``fast``.
_operator_factory = define('_operator_factory', 'cls, convert, fast, reflected', """\
def operator(self, other):
    if other.__class__ not in fast:
        other = convert(other)
        if other is NotImplemented:
            return NotImplemented
    if reflected:
        a, b = other, self
    else:
        a, b = self, other
""" + indent(_BINARY, 1) + """\
return operator
""", globals())


# A one-input math function (``autograd.exp``, ``Tensor.exp``): ``apply_unary``'s statements
# compiled into it with ``cls`` bound, one Python frame instead of two; an input that is not
# a Tensor goes to ``refuse`` (PyTorch's TypeError).
_unary_factory = define('_unary_factory', 'cls, refuse', """\
def function(x):
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        refuse(x)
    if cls._special:
        return cls.apply(x)
    node = _new(cls)
""" + indent(_UNARY, 1) + """\
return function
""", globals())


def unary_function(cls, refuse, name=None):
    """``cls.apply(x)`` for a tensor ``x`` as one function (``refuse(x)`` raises for others)."""
    fn = _unary_factory(cls, refuse)
    fn.__name__ = fn.__qualname__ = name or cls.__name__.lower()
    fn.__doc__ = f'Elementwise {fn.__name__} (``{cls.__name__}`` op).'
    return fn


def binary_operator(cls, convert, fast, reflected=False):
    """The dunder ``self op other`` (``other op self`` when ``reflected``) of op ``cls``."""
    fn = _operator_factory(cls, convert, fast, reflected)
    fn.__name__ = fn.__qualname__ = f'{cls.__name__}.operator'
    fn.__doc__ = f'``{cls.__name__}`` of two operands, or NotImplemented for a foreign type.'
    return fn

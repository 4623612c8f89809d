"""Graph nodes: what each op records for backward.

An op applied to tensors that require grad (with grad mode on) records one :class:`Op`
node holding: the edges to its inputs' nodes (``next_functions``), the tensors its
backward needs (declared by the op, nothing else), the shape and dtype of each output
(to check incoming gradients), and a sequence number (creation order, which is a
topological order of the graph).  Outputs point at their node; the node never points
back at its outputs, so dropping the last reference to a graph frees it at once.
A value an op saves of its own output is kept as a bare array and re-wrapped on use.
"""
import itertools
import traceback

from .backend import array_module, from_numpy_dtype
from .grad_mode import process as _process, state as _grad_state
from .tensor import Tensor, _make

__all__ = ['Node', 'Op', 'AccumulateGrad', 'RemovableHandle']

_next_seq = itertools.count().__next__
_new = object.__new__

FREED_MSG = (
    'Trying to backward through the graph a second time (or directly access saved tensors '
    'after they have already been freed). Saved intermediate values of the graph are freed '
    'when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to '
    'backward through the graph a second time or if you need to access saved tensors after '
    'calling backward.')


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""
    _ids = itertools.count()

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self.id = next(self._ids)
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A node of the backward graph.  ``next_functions`` are ``(node, output_nr)`` edges."""
    __slots__ = ('_next', '_seq', '_saved', '_versions', '_out', '_meta', '_pre_hooks',
                 '_trace', '__weakref__')
    # The node's backward computes on bare arrays as well as on tensors.  A sweep that
    # records no graph (``create_graph=False``) then hands it the device's arrays: the
    # incoming gradients, and its saved values through ``saved_tensors``, and takes arrays
    # back.  Operators and ``Op.apply`` work on both, so one formula serves both sweeps.
    array_backward = False

    def name(self):
        return type(self).__name__ + 'Backward0'

    def __repr__(self):
        return f'<{self.name()} object at {id(self):#x}>'

    @property
    def next_functions(self):
        return tuple(e if e is not None else (None, 0) for e in self._next)

    def _add_pre_hook(self, output_nr, hook):
        hooks = self._pre_hooks
        if hooks is None:
            hooks = self._pre_hooks = {}
        return RemovableHandle(hooks.setdefault(output_nr, {}), hook)

    # -- saved tensors -------------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The tensors backward needs, checked against in-place changes since forward."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_MSG)
        arrays = self.array_backward and _grad_state.arrays
        if arrays:                  # an array sweep: the arrays (numbers stay numbers)
            values = []
            for t, v in zip(saved, self._versions):
                if v is not None:   # a tensor
                    if t._vc[0] != v:
                        raise RuntimeError(_modified_msg(self, t, v))
                    t = t._data
                values.append(t)
            saved = tuple(values)
        else:
            for t, v in zip(saved, self._versions):
                if v is not None and t._vc[0] != v:
                    raise RuntimeError(_modified_msg(self, t, v))
        out = self._out
        if out is None:
            return saved
        data, dev, vc, v, nr = out
        if vc[0] != v:
            raise RuntimeError(_modified_msg(self, _make(data, dev), v, vc[0], nr))
        if arrays:
            return saved + (data,)
        t = _make(data, dev)
        t._vc = vc
        t.grad_fn = self
        t._output_nr = nr
        t._requires_grad = True
        return saved + (t,)

    def _release(self):
        """Drop saved values after backward (unless retain_graph)."""
        self._saved = None
        self._out = None


def _modified_msg(node, t, expected, found=None, nr=None):
    found = t._vc[0] if found is None else found
    what = f'output {nr} of {node.name()}' if nr is not None else (
        f'output {t._output_nr} of {t.grad_fn.name()}' if t.grad_fn is not None else 'a leaf')
    return ('one of the variables needed for gradient computation has been modified by an '
            f'inplace operation: [{t._data.dtype} {list(t._data.shape)}], which is {what}, '
            f'is at version {found}; expected version {expected} instead. Hint: the backward '
            f'of {node.name()} needed it. Clone the tensor before changing it in place, or '
            'change it out of place.')


def _device_error(op, a, b):
    return RuntimeError(f'Expected all tensors to be on the same device, but found at least two '
                        f'devices, {a} and {b}! (when checking arguments for {op})')


def edge_of(t):
    """The backward edge of tensor ``t``: its node and output number, or its leaf's
    gradient accumulator; None when it does not require grad."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t._requires_grad:
        edge = getattr(t, '_grad_acc', None)       # the leaf's cached (accumulator, 0)
        if edge is None:
            edge = t._grad_acc = (AccumulateGrad(t), 0)
        return edge
    return None


def _edge(x):
    """``edge_of`` for any op argument (None for numbers)."""
    if x.__class__ is Tensor or isinstance(x, Tensor):
        if x._view_src is not None and x._vc[0] != x._view_ver:
            _refresh_view(x)     # its base changed in place since: re-derive its history
        fn = x.grad_fn
        if fn is not None:
            return (fn, x._output_nr)
        if x._requires_grad:
            try:
                return x._grad_acc or edge_of(x)     # a leaf's cached (accumulator, 0)
            except AttributeError:
                return edge_of(x)
    return None


def _refresh_view(x):
    from .ops.indexing import refresh_view
    refresh_view(x)


def _version(x):
    if x.__class__ is Tensor or isinstance(x, Tensor):
        return x._vc[0]
    return None     # a number


class Op(Node):
    """A primitive differentiable op.

    Subclasses define ``forward(self, xp, *arrays, **params)`` on raw arrays (``xp`` is the
    device's array module) and ``backward(self, *grad_outputs)`` with tensor ops, returning
    one gradient (or None) per input.  Class attributes declare what backward needs:
    ``save`` (indices of inputs), ``save_output`` (the output), ``differentiable``.
    Instance attributes set in ``forward`` carry non-tensor data (shapes, axes).

    Applied to bare arrays (no tensor among the inputs), an op runs its forward alone and
    returns arrays: the form its uses inside an ``array_backward`` formula take.
    """
    __slots__ = ()
    save = ()                # indices of inputs that backward reads via saved_tensors
    save_output = False      # backward reads the output too (appended to saved_tensors)
    save_for = None          # two-input ops: for each saved input, the input whose gradient
    #                          alone reads it (None: always needed); a value no needed
    #                          gradient reads is not kept (saved as None), as PyTorch
    differentiable = True
    view = False             # the output is a view of input 0 (shares its version counter);
    #                          'maybe': only when the array library returned a view
    transfers = False        # the output lives on params['device'] (device copies)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._special = bool(cls.view or cls.transfers)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (and Python numbers); record a node if grad is needed."""
        # The per-op cost of the whole engine is spent here: plain one- and two-input calls
        # take the straight-line paths; parameters, views and copies the general loop.
        n = len(inputs)
        if not params and not cls._special:
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
                    raise _device_error(cls.__name__.lower(), dev, x._device)
                arrays.append(x._data)
                if x._requires_grad:
                    needs = True
            else:
                arrays.append(x)
        node = _new(cls)
        if dev is None:             # bare arrays: the forward alone
            return node.forward(array_module(*inputs), *arrays, **params)
        out = node.forward(dev.xp, *arrays, **params)
        if out.__class__ is tuple:
            return node._wrap_many(out, inputs, dev, needs, params)
        if cls._special and cls.transfers:
            dev = params['device'] or dev
        if out.__class__ is not dev.array_type:
            out = dev.xp.asarray(out)
        t = _new(Tensor)
        t._data = out
        t._device = dev
        t.grad = None
        t._vc = [0]
        t._view_src = None
        if cls._special and cls.view and (
                cls.view is True or dev.xp.may_share_memory(out, inputs[0]._data)):
            t._vc = inputs[0]._vc
            t._view_src = (inputs[0], cls, params, None)
            t._view_ver = t._vc[0]
        if needs and _grad_state.enabled and cls.differentiable and out.dtype.kind == 'f':
            node._record(inputs)
            node._meta = ((out.shape, out.dtype, dev),)
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = 0
            if cls.save_output:
                node._out = (out, dev, t._vc, t._vc[0], 0)
        else:
            t._requires_grad = False
            t.grad_fn = None
        return t

    def _record(self, inputs):
        if len(inputs) == 2:
            a, b = inputs
            self._next = (_edge(a), _edge(b))
        elif len(inputs) == 1:
            self._next = (_edge(inputs[0]),)
        else:
            self._next = tuple([_edge(x) for x in inputs])
        self._seq = _next_seq()      # after _edge, which may create leaf accumulators
        save = self.save
        if save:
            if len(save) == len(inputs):
                saved = inputs
            else:
                saved = tuple([inputs[i] for i in save])
            self._saved = saved
            if len(saved) == 1:
                self._versions = (_version(saved[0]),)
            else:
                self._versions = tuple([_version(t) for t in saved])
        else:
            self._saved = self._versions = ()
        self._out = None
        self._pre_hooks = None
        if _process.anomaly:
            self._trace = ''.join(traceback.format_stack()[:-3])

    def _wrap_many(self, outs, inputs, dev, needs, params):
        cls = self.__class__
        xp = dev.xp
        outs = [o if o.__class__ is dev.array_type else xp.asarray(o) for o in outs]
        ts = [_make(o, dev) for o in outs]
        if cls.view:
            base = inputs[0]
            for i, t in enumerate(ts):
                t._vc = base._vc
                t._view_src = (base, cls, params, i)
                t._view_ver = t._vc[0]
        nondiff = getattr(cls, 'nondiff_outputs', ())
        if needs and _grad_state.enabled and cls.differentiable:
            self._record(inputs)
            self._meta = tuple([(o.shape, o.dtype, dev) for o in outs])
            for i, (t, o) in enumerate(zip(ts, outs)):
                if i not in nondiff and o.dtype.kind == 'f':
                    t._requires_grad = True
                    t.grad_fn = self
                    t._output_nr = i
        return tuple(ts)

    @classmethod
    def apply_(cls, target, *others, **params):
        """The in-place form: compute the op on ``target`` and write the result into it.

        The recorded node sees the old value as its input: a snapshot sharing storage and
        version counter, or a copy when backward reads it (``0 in save``).
        """
        enabled = _grad_state.enabled
        if not enabled or not (target._requires_grad or any(
                o.__class__ is Tensor and o._requires_grad or
                isinstance(o, Tensor) and o._requires_grad for o in others)):
            return cls._apply_untracked(target, others, params)
        if target._requires_grad and target.grad_fn is None:
            raise RuntimeError('a leaf Variable that requires grad is being used in an in-place '
                               'operation.')
        base = root_base(target)
        if enabled and base is not None:
            src = target._view_src
            if src[3] is not None and (target._requires_grad or any(
                    isinstance(o, Tensor) and o._requires_grad for o in others)):
                raise RuntimeError(
                    f'Output {src[3]} of {src[1].__name__} is a view and is being '
                    'modified inplace. This view is the output of a function that returns '
                    'multiple views. Such functions do not allow the output views to be '
                    'modified inplace. You should replace the inplace operation by an '
                    'out-of-place one.')
            if base._requires_grad and base.grad_fn is None:
                raise RuntimeError('a view of a leaf Variable that requires grad is being used '
                                   'in an in-place operation.')
        old = _new(Tensor)
        old._data = target._data
        old._device = target._device
        old._requires_grad = target._requires_grad
        old.grad = None
        old.grad_fn = target.grad_fn
        if target.grad_fn is not None:
            old._output_nr = target._output_nr
        old._vc = target._vc
        old._view_src = None
        out = cls.apply(old, *others, **params)
        if out.grad_fn is not None and 0 in cls.save:
            # Backward reads the old value, which the write below destroys: keep a copy with
            # its own version counter (PyTorch's ``original_self``).
            old._data = old._data.copy()
            old._vc = [old._vc[0]]
        data = target._data
        if out._data.dtype != data.dtype and _kind_rank(out._data.dtype) > _kind_rank(data.dtype):
            raise RuntimeError(f'result type {out.dtype.name} can\'t be cast to the desired output '
                               f'type {target.dtype.name}')
        if out._data.shape != data.shape:
            raise RuntimeError(f"output with shape {list(data.shape)} doesn't match the broadcast "
                               f'shape {list(out._data.shape)}')
        target._device.xp.copyto(data, out._data, casting='unsafe')
        target._vc[0] += 1
        node = out.grad_fn
        if node is not None:
            if base is not None:
                from .ops.indexing import rebase_view
                rebase_view(target, node)
            else:
                target.grad_fn = node
                target._output_nr = 0
                target._requires_grad = True
                if node._out is not None:
                    node._out = (data, target._device, target._vc, target._vc[0], 0)
        return target


    @classmethod
    def _apply_untracked(cls, target, others, params):
        """``apply_`` when no graph is recorded: compute, then write into the target."""
        dev = target._device
        xs = []
        for o in others:
            if isinstance(o, Tensor):
                if o._device is not dev:
                    raise _device_error(cls.__name__.lower() + '_', dev, o._device)
                xs.append(o._data)
            else:
                xs.append(o)
        data = target._data
        out = _new(cls).forward(dev.xp, data, *xs, **params)
        if out.dtype != data.dtype and _kind_rank(out.dtype) > _kind_rank(data.dtype):
            raise RuntimeError(f'result type {from_numpy_dtype(out.dtype).name} can\'t be cast '
                               f'to the desired output type {target.dtype.name}')
        if out.shape != data.shape:
            raise RuntimeError(f"output with shape {list(data.shape)} doesn't match the broadcast "
                               f'shape {list(out.shape)}')
        dev.xp.copyto(data, out, casting='unsafe')
        target._vc[0] += 1
        return target


def apply_unary(cls, x):
    """``cls.apply(x)`` for a one-input op without parameters: the lean path that math
    methods take (same result; fewer Python-level steps)."""
    if cls._special:
        return cls.apply(x)
    node = _new(cls)
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        return node.forward(array_module(x), x)        # a bare array: the forward alone
    dev = x._device
    out = node.forward(dev.xp, x._data)
    if out.__class__ is tuple:
        return node._wrap_many(out, (x,), dev, x._requires_grad, {})
    if out.__class__ is not dev.array_type:
        out = dev.xp.asarray(out)
    t = _new(Tensor)
    t._data = out
    t._device = dev
    t.grad = None
    t._vc = [0]
    t._view_src = None
    if x._requires_grad and _grad_state.enabled and cls.differentiable and \
            out.dtype.kind == 'f':
        fn = x.grad_fn
        node._next = ((fn, x._output_nr),) if fn is not None and x._view_src is None \
            else (_edge(x),)
        node._seq = _next_seq()
        if cls.save:
            node._saved = (x,)
            node._versions = (x._vc[0],)
        else:
            node._saved = node._versions = ()
        node._pre_hooks = None
        if _process.anomaly:
            node._trace = ''.join(traceback.format_stack()[:-2])
        node._meta = ((out.shape, out.dtype, dev),)
        t._requires_grad = True
        t.grad_fn = node
        t._output_nr = 0
        node._out = (out, dev, t._vc, 0, 0) if cls.save_output else None
    else:
        t._requires_grad = False
        t.grad_fn = None
    return t


def apply_binary(cls, a, b):
    """``cls.apply(a, b)`` for a two-input op without parameters (arithmetic operators):
    the same result through fewer Python-level steps, records inlined."""
    if a.__class__ is Tensor or isinstance(a, Tensor):
        dev = a._device
        needs = a._requires_grad
        xa = a._data
        if b.__class__ is Tensor or isinstance(b, Tensor):
            if b._device is not dev:
                raise _device_error(cls.__name__.lower(), dev, b._device)
            xb = b._data
            needs = needs or b._requires_grad
        else:
            xb = b
    elif b.__class__ is Tensor or isinstance(b, Tensor):
        dev = b._device
        needs = b._requires_grad
        xa, xb = a, b._data
    else:                           # bare arrays: the forward alone
        return _new(cls).forward(array_module(a, b), a, b)
    node = _new(cls)
    out = node.forward(dev.xp, xa, xb)
    if out.__class__ is tuple:
        return node._wrap_many(out, (a, b), dev, needs, {})
    if out.__class__ is not dev.array_type:
        out = dev.xp.asarray(out)
    t = _new(Tensor)
    t._data = out
    t._device = dev
    t.grad = None
    t._vc = [0]
    t._view_src = None
    if needs and _grad_state.enabled and cls.differentiable and out.dtype.kind == 'f':
        # edges: (grad_fn, output_nr) for an op's output that is not a view, _edge for the rest
        if a.__class__ is Tensor and a._view_src is None and a.grad_fn is not None:
            ea = (a.grad_fn, a._output_nr)
        else:
            ea = _edge(a)
        if b.__class__ is Tensor and b._view_src is None and b.grad_fn is not None:
            node._next = (ea, (b.grad_fn, b._output_nr))
        else:
            node._next = (ea, _edge(b))
        node._seq = _next_seq()
        save = cls.save
        if save:
            if len(save) == 2:
                x, y = a, b
                only_for = cls.save_for
                if only_for is not None:
                    if only_for[0] is not None and node._next[only_for[0]] is None:
                        x = None
                    if only_for[1] is not None and node._next[only_for[1]] is None:
                        y = None
                node._saved = (x, y)
                node._versions = (x._vc[0] if x.__class__ is Tensor else _version(x),
                                  y._vc[0] if y.__class__ is Tensor else _version(y))
            else:
                x = b if save[0] else a
                node._saved = (x,)
                node._versions = (_version(x),)
        else:
            node._saved = node._versions = ()
        node._pre_hooks = None
        if _process.anomaly:
            node._trace = ''.join(traceback.format_stack()[:-2])
        node._meta = ((out.shape, out.dtype, dev),)
        t._requires_grad = True
        t.grad_fn = node
        t._output_nr = 0
        node._out = (out, dev, t._vc, 0, 0) if cls.save_output else None
    else:
        t._requires_grad = False
        t.grad_fn = None
    return t


def root_base(t):
    """The tensor whose storage view ``t`` looks into (None if ``t`` is not a view)."""
    src = getattr(t, '_view_src', None)
    if src is None:
        return None
    while True:
        parent = src[0]
        src = getattr(parent, '_view_src', None)
        if src is None:
            return parent


def _kind_rank(np_dtype):
    return {'b': 0, 'u': 1, 'i': 1, 'f': 2}.get(np_dtype.kind, 3)


class AccumulateGrad(Node):
    """The sink of a leaf: sums the gradients that reach the leaf into ``leaf.grad``."""
    __slots__ = ('_leaf',)

    def __init__(self, leaf):
        import weakref
        self._leaf = weakref.ref(leaf)
        self._seq = _next_seq()
        self._next = ()
        self._saved = self._versions = ()
        self._out = None
        self._pre_hooks = None
        self._meta = ((leaf._data.shape, leaf._data.dtype, leaf._device),)

    def name(self):
        return 'AccumulateGrad'

    @property
    def variable(self):
        return self._leaf()

    def _release(self):
        pass


class RetainGradHook:
    """The hook ``retain_grad()`` puts on a non-leaf's node: stores the summed gradient."""
    __slots__ = ('_ref',)

    def __init__(self, tensor):
        import weakref
        self._ref = weakref.ref(tensor)

    def __call__(self, grad):
        t = self._ref()
        if t is not None:
            if t.grad is None:
                t.grad = grad.clone() if _grad_state.enabled else grad.detach().clone()
            elif _grad_state.enabled:
                t.grad = t.grad + grad
            else:
                t.grad = (t.grad + grad).detach()
        return None

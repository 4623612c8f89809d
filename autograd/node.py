"""Graph nodes: what each op records for backward, and the edges between them.

An op applied to tensors that require grad (with grad mode on) records one node holding:
the edges to its inputs' nodes (``next_functions``), the tensors its backward needs
(declared by the op, nothing else), the shape, dtype and device of each output (to check
incoming gradients), and a sequence number (creation order, which is a topological order
of the graph).  Outputs point at their node; the node never points back at its outputs,
so dropping the last reference to a graph frees it at once.  A value an op saves of its
own output is kept as a bare array and re-wrapped on use.

A leaf that requires grad is reached through its :class:`AccumulateGrad` node, which sums
the gradients that arrive into ``leaf.grad``.  Tensor hooks are pre-hooks of the node
that produced the tensor (of a leaf: of its accumulator).
"""
import itertools
import os
import traceback
import weakref

from .backend import from_numpy_dtype, scalar_name
from .grad_mode import process as _process, state as _grad_state  # (both read by record)
from ._inline import define, indent
from .tensor import MAKE, Tensor, ViewOf, _make

__all__ = ['Node', 'AccumulateGrad', 'RemovableHandle', 'edge_of', 'record', 'link', 'named',
           'renamed']

next_seq = itertools.count().__next__
TRACES = weakref.WeakKeyDictionary()   # node -> where it was created (anomaly mode only)
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
    """A node of the backward graph.  ``next_functions`` are ``(node, output_nr)`` edges.

    Fields (set for every node by ``op.record`` or the node's own constructor):
    ``_next`` the input edges (None where an input needs no gradient), ``_seq`` the
    creation number, ``_saved``/``_versions`` the saved values and their versions at save
    time, ``_out`` a saved output as ``(array, device, version counter, version, nr)``,
    ``_meta`` one ``(shape, dtype, device)`` per output, ``_pre_hooks`` the tensor hooks
    per output number.  In anomaly mode, ``TRACES`` maps it to where it was created.
    """
    __slots__ = ('_next', '_seq', '_saved', '_versions', '_out', '_meta', '_pre_hooks',
                 '__weakref__')
    # The node's backward computes on bare arrays as well as on tensors.  A sweep that
    # records no graph (``create_graph=False``) then hands it the device's arrays: the
    # incoming gradients, and its saved values through ``saved_tensors``, and takes arrays
    # back.  See ``op.Op``: one formula serves both sweeps.
    array_backward = False
    # What backward needs, declared by the node's class and read by ``record``:
    save = ()                # indices of inputs that backward reads via saved_tensors
    save_output = False      # backward reads the output too (appended to saved_tensors)
    save_for = None          # nodes saving two values: for each, the input whose gradient
    #                          alone reads it (None: always needed); a value no needed
    #                          gradient reads is not kept (saved as None), as PyTorch
    differentiable = True    # False: outputs never require grad (comparisons, argmax ...)
    complex_grad = False     # True: backward is right for complex values (ops/complex_support.py)
    nondiff_outputs = ()     # output numbers that never require grad (indices ...)
    torch_name = None        # PyTorch's name of this node (``name()``), when not the
    #                          class's name + 'Backward0' (see ``named``)

    def name(self):
        return self.torch_name or type(self).__name__ + 'Backward0'

    def __repr__(self):
        return f'<{self.name()} object at {id(self):#x}>'

    @property
    def next_functions(self):
        return tuple(e if e is not None else (None, 0) for e in self._next)

    @property
    def device(self):
        """The device of the node's (first) output: where its backward computes."""
        return self._meta[0][2]

    @property
    def output_shape(self):
        """The shape of the node's (first) output."""
        return self._meta[0][0]

    @property
    def needs_input_grad(self):
        """For each input, whether backward must compute its gradient (PyTorch's name)."""
        e = self._next
        n = len(e)              # (the common arities unrolled: no generator's frame)
        if n == 2:
            return e[0] is not None, e[1] is not None
        if n == 1:
            return e[0] is not None,
        if n == 3:
            return e[0] is not None, e[1] is not None, e[2] is not None
        return tuple(x is not None for x in e)

    def _add_pre_hook(self, output_nr, hook):
        hooks = self._pre_hooks
        if hooks is None:
            hooks = self._pre_hooks = {}
        return RemovableHandle(hooks.setdefault(output_nr, {}), hook)

    # -- saved tensors -------------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The tensors backward needs, checked against in-place changes since forward (in
        an array sweep, with ``array_backward``: their arrays; numbers stay numbers)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_MSG)
        arrays = self.array_backward and _grad_state.arrays
        n = len(saved)
        if n == 2:                  # (most ops: unrolled, no loop or list)
            (t0, t1), (v0, v1) = saved, self._versions
            if v0 is not None:      # a tensor (else a number, or a value not kept)
                if t0._vc[0] != v0:
                    raise RuntimeError(modified_msg(self, t0, v0))
                if arrays:
                    t0 = t0._data
            if v1 is not None:
                if t1._vc[0] != v1:
                    raise RuntimeError(modified_msg(self, t1, v1))
                if arrays:
                    t1 = t1._data
            saved = (t0, t1)
        elif n == 1:
            t0, = saved
            v0, = self._versions
            if v0 is not None:
                if t0._vc[0] != v0:
                    raise RuntimeError(modified_msg(self, t0, v0))
                if arrays:
                    saved = (t0._data,)
        elif n:
            values = []
            for t, v in zip(saved, self._versions):
                if v is not None:
                    if t._vc[0] != v:
                        raise RuntimeError(modified_msg(self, t, v))
                    if arrays:
                        t = t._data
                values.append(t)
            saved = tuple(values)
        out = self._out
        if out is None:
            return saved
        data, dev, vc, v, nr = out
        if vc[0] != v:
            raise RuntimeError(modified_msg(self, _make(data, dev), v, vc[0], nr))
        if arrays:
            return saved + (data,)
        return saved + (_make(data, dev, True, self, nr, vc),)

    def _release(self):
        """Drop saved values after backward (unless retain_graph)."""
        self._saved = None
        self._out = None


def modified_msg(node, t, expected, found=None, nr=None):
    """PyTorch's error for a saved value changed in place before backward read it."""
    found = t._vc[0] if found is None else found
    what = f'output {nr} of {node.name()}' if nr is not None else (
        f'output {t._output_nr} of {t.grad_fn.name()}' if t.grad_fn is not None else 'a leaf')
    return ('one of the variables needed for gradient computation has been modified by an '
            f'inplace operation: [{t._data.dtype} {list(t._data.shape)}], which is {what}, '
            f'is at version {found}; expected version {expected} instead. Hint: the backward '
            f'of {node.name()} needed it. Clone the tensor before changing it in place, or '
            'change it out of place.')


class AccumulateGrad(Node):
    """The sink of a leaf: sums the gradients that reach the leaf into ``leaf.grad``."""
    __slots__ = ('_leaf', '_post_hooks')

    def __init__(self, leaf):
        self._leaf = weakref.ref(leaf)
        self._post_hooks = None     # register_post_accumulate_grad_hook's, by handle id
        self._seq = next_seq()
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


_NAMED = {}


def named(cls, torch_name):
    """``cls`` under PyTorch's node name ``torch_name``: a subclass with no body (same
    ``__name__``, so the ONNX exporter and graph tools treat it as ``cls``), made once per
    name.  For one op class serving several PyTorch functions (``Permute`` for
    ``transpose``/``t``): the function applies ``named(Permute, 'TransposeBackward0')``,
    which costs nothing per call."""
    cls = cls.__dict__.get('_named_from', cls)
    key = (cls, torch_name)
    sub = _NAMED.get(key)
    if sub is None:
        sub = _NAMED[key] = type(cls.__name__, (cls,), {
            '__slots__': (), 'torch_name': torch_name, '_named_from': cls, '__module__': cls.__module__,
            '__qualname__': cls.__qualname__, '__doc__': cls.__doc__})
    return sub


def renamed(t, torch_name):
    """Give the node that just recorded tensor ``t`` PyTorch's name ``torch_name``; return
    ``t``.  For a function built of several ops whose last node PyTorch names after the
    whole function (``mse_loss``'s final mean is ``MseLossBackward0``): the node, and so its
    backward, is unchanged; only ``name()`` differs.  Call it only on a node the function
    itself just recorded (not on an input passed through)."""
    node = t.grad_fn
    if node is not None and node.torch_name != torch_name:
        node.__class__ = named(type(node), torch_name)
    return t


def edge_of(t):
    """The backward edge of tensor ``t``: its node and output number, or its leaf's
    gradient accumulator; None when it does not require grad."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t._requires_grad:
        edge = t._grad_acc
        if edge is None:
            edge = t._grad_acc = (AccumulateGrad(t), 0)
        return edge
    return None


# ----------------------------------------------------------------------------- recording
# Written once, as templates of statements (see ``_inline.py``): compiled into ``link`` and
# ``record`` here and inlined into the entry points ``apply_unary``/``apply_binary``.

# ``link_source(arity)``: the statements that record ``node``'s edges to ``inputs`` and
# what its backward needs of them.  The entry points compile them with their number of
# inputs known (``arity``), which unrolls the loop over inputs (and ``_edge`` for a Tensor:
# a leaf's cached accumulator edge is read inline); one or two saved values (nearly every
# op) take unrolled forms too.
_EDGES = {
    1: """\
i0 = inputs[0]
edges = (((i0.grad_fn, i0._output_nr) if i0.grad_fn is not None
          else (i0._grad_acc or _edge(i0)) if i0._requires_grad else None)
         if i0.__class__ is Tensor or isinstance(i0, Tensor) else None,)
""",
    2: """\
i0, i1 = inputs
edges = (((i0.grad_fn, i0._output_nr) if i0.grad_fn is not None
          else (i0._grad_acc or _edge(i0)) if i0._requires_grad else None)
         if i0.__class__ is Tensor or isinstance(i0, Tensor) else None,
         ((i1.grad_fn, i1._output_nr) if i1.grad_fn is not None
          else (i1._grad_acc or _edge(i1)) if i1._requires_grad else None)
         if i1.__class__ is Tensor or isinstance(i1, Tensor) else None)
""",
    None: """\
edges = tuple([((x.grad_fn, x._output_nr) if x.grad_fn is not None
                else (x._grad_acc or _edge(x)) if x._requires_grad else None)
               if x.__class__ is Tensor or isinstance(x, Tensor) else None for x in inputs])
""",
}
_SAVES = """\
node._next = edges
node._seq = next_seq()          # after _edge, which may create leaf accumulators
save = node.save
if not save:
    node._saved = node._versions = ()
elif len(save) == 1:
    s0 = inputs[save[0]]
    node._saved = (s0,)
    node._versions = (s0._vc[0] if s0.__class__ is Tensor or isinstance(s0, Tensor) else None,)
else:
    n_saved = len(save)
    saved = inputs if n_saved == len(inputs) else (inputs[save[0]], inputs[save[1]]) \
        if n_saved == 2 else tuple([inputs[k] for k in save])
    if n_saved == 2:
        s0, s1 = saved
        only_for = node.save_for    # a value no needed gradient reads is not kept (PyTorch)
        if only_for is not None:
            if only_for[0] is not None and edges[only_for[0]] is None:
                s0 = None
            if only_for[1] is not None and edges[only_for[1]] is None:
                s1 = None
            saved = (s0, s1)
        node._versions = (
            s0._vc[0] if s0.__class__ is Tensor or isinstance(s0, Tensor) else None,
            s1._vc[0] if s1.__class__ is Tensor or isinstance(s1, Tensor) else None)
    else:
        node._versions = tuple([x._vc[0] if x.__class__ is Tensor or isinstance(x, Tensor)
                                else None for x in saved])
    node._saved = saved
node._pre_hooks = None
if _process.anomaly:
    TRACES[node] = _creation_trace()
"""


def link_source(arity=None):
    return _EDGES[arity] + _SAVES


# ``record_source(arity, views)``: the statements that make the output tensor(s) of
# ``node`` from the forward's result ``out`` (an array, or a tuple of arrays) on ``dev``,
# and record the node when grad mode is on, ``needs`` (some input requires grad) and the
# node's class is differentiable: its floating outputs then require grad.  ``view`` (a
# ``ViewOf``) makes the output a view sharing its base's version counter; entry points
# that make no views compile them with ``views=False``.  They return the tensor, or a
# tuple of tensors.
def record_source(arity=None, views=True):
    make = dict(t='t', cls='Tensor', data='out', device='dev',
                vc='[0] if vc is None else vc' if views else '[0]',
                view='view' if views else 'None')
    return ("""\
vc = None if view is None else view.parent._vc
""" if views else '') + """\
if out.__class__ is not tuple:
    if out.__class__ is not dev.array_type:
        out = dev.xp.asarray(out)       # (NumPy makes scalars of 0-d results)
    if needs and _grad_state.enabled and node.differentiable and (
            dtype := out.dtype).kind in 'fcV':
        if dtype.kind == 'c' and not node.complex_grad:
            raise complex_error(node, dtype)
        node._meta = ((out.shape, dtype, dev),)
""" + indent(link_source(arity), 2) + indent(MAKE.format(
        requires_grad='True', grad_fn='node', output_nr='0', **make), 2) + """\
        node._out = (out, dev, t._vc, t._vc[0], 0) if node.save_output else None
        return t
""" + indent(MAKE.format(requires_grad='False', grad_fn='None', output_nr='0', **make), 1) + """\
    return t
return _record_many(node, out, dev, inputs, needs, """ + ('view' if views else 'None') + """)
"""


link = define('link', 'node, inputs', link_source(), globals(), doc=(
    "Record ``node``'s edges to ``inputs`` and what its backward needs of them (custom "
    "Functions call it, then set their outputs' ``grad_fn`` themselves)."))
record = define('record', 'node, out, dev, inputs, needs, view=None', record_source(),
                globals(), doc=(
    "The one place where an op's output tensors are made and its node is recorded."))


def _record_many(node, outs, dev, inputs, needs, view):
    """``record`` for a forward that returned several arrays."""
    vc = None if view is None else view.parent._vc
    outs = [o if o.__class__ is dev.array_type else dev.xp.asarray(o) for o in outs]
    views = [None if view is None else ViewOf(view.parent, view.op, view.params, i)
             for i in range(len(outs))]
    if not (needs and _grad_state.enabled and node.differentiable):
        return tuple([_make(o, dev, False, None, 0, vc, v) for o, v in zip(outs, views)])
    if not node.complex_grad and any(o.dtype.kind == 'c' for o in outs):
        raise complex_error(node, next(o.dtype for o in outs if o.dtype.kind == 'c'))
    node._meta = tuple([(o.shape, o.dtype, dev) for o in outs])
    link(node, inputs)
    node._out = None
    skip = node.nondiff_outputs
    return tuple([_make(o, dev, True, node, i, vc, v) if o.dtype.kind in 'fcV' and i not in skip
                  else _make(o, dev, False, None, 0, vc, v)
                  for i, (o, v) in enumerate(zip(outs, views))])


def complex_error(node, np_dtype):
    """The error of an op asked to record a complex output without a complex backward."""
    name = type(node).__name__
    return RuntimeError(f'{name}: the derivative for complex tensors is not implemented '
                        f'(got dtype {scalar_name(from_numpy_dtype(np_dtype))}); the ops '
                        'that support complex gradients are listed in docs/DIFFERENCES.md')


def _edge(x):
    """``edge_of`` for any op argument (None for numbers and arrays)."""
    if x.__class__ is Tensor or isinstance(x, Tensor):
        fn = x.grad_fn
        if fn is not None:
            return (fn, x._output_nr)
        if x._requires_grad:
            return x._grad_acc or edge_of(x)
    return None


def _version(x):
    """The version of a tensor argument at save time (None for a number or None)."""
    return x._vc[0] if isinstance(x, Tensor) else None


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _creation_trace():
    """The stack where a node is being created, without the engine's own frames."""
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith((_PACKAGE, '<autograd ')):
        frames.pop()
    return ''.join(traceback.format_list(frames))


class RetainGradHook:
    """The hook ``retain_grad()`` puts on a non-leaf's node: stores the summed gradient."""
    __slots__ = ('_ref',)

    def __init__(self, tensor):
        self._ref = weakref.ref(tensor)

    def __call__(self, grad):
        t = self._ref()
        if t is not None:
            if t._grad is None:
                t._grad = grad.clone() if _grad_state.enabled else grad.detach().clone()
            elif _grad_state.enabled:
                t._grad = t._grad + grad
            else:
                t._grad = (t._grad + grad).detach()
        return None


# ------------------------------------------------------------------------- Tensor's graph methods

def retain_hook(t):
    """The RetainGradHook ``retain_grad()`` put on ``t``'s node, if any."""
    fn = t.grad_fn
    hooks = fn._pre_hooks if fn is not None else None
    for hook in (hooks or {}).get(t._output_nr, {}).values():
        if hook.__class__ is RetainGradHook and hook._ref() is t:
            return hook
    return None


def retain_grad(self):
    """Keep ``.grad`` for this non-leaf tensor after backward."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or retain_hook(self) is not None:
        return
    self.grad_fn._add_pre_hook(self._output_nr, RetainGradHook(self))


def retains_grad(self):
    return self.grad_fn is not None and retain_hook(self) is not None


def register_hook(self, hook):
    """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return
    value replaces the gradient.  Returns a handle whose ``remove()`` unregisters it."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node, nr = edge_of(self)            # a leaf's hooks live on its accumulator
    return node._add_pre_hook(nr, hook)


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` after backward has summed a gradient into this leaf's
    ``.grad`` (not for ``autograd.grad``, which accumulates nothing).  Returns a handle
    whose ``remove()`` unregisters it."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError('post accumulate grad hooks cannot be registered on non-leaf tensors')
    acc = edge_of(self)[0]
    if acc._post_hooks is None:
        acc._post_hooks = {}
    return RemovableHandle(acc._post_hooks, hook)


Tensor.retain_grad = retain_grad
Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
Tensor.retains_grad = property(retains_grad)
Tensor.register_hook = register_hook

"""Backpropagation as dynamic programming over the graph.

For an output o and every tensor i it depends on, the gradient S(i) = dL/di is the sum
over the uses j of i of S(j) * dj/di.  Visiting the nodes in reverse topological order
guarantees that all uses of a tensor have contributed before its own node runs, so each
node runs once.  Node creation order (``_seq``) is a topological order: the sweep takes
nodes newest first from a heap that each enters when its first gradient arrives, so it
touches only what gradients reach, in O(E + N log N), and graph depth is not limited by
Python's stack.  Without ``create_graph`` the gradients are bare arrays (see ``_execute``).
"""
import functools
import operator
import threading
from heapq import heappop, heappush

import numpy

from .backend import (array_module, broadcastable_to, device_of_array, from_numpy_dtype,
                      is_writeable, sum_to)
from .backend import IGNORE_ERRORS, reset_errstate, set_errstate
from .grad_mode import process as _process, state as _grad_state
from .node import TRACES, AccumulateGrad, RetainGradHook, edge_of
from .refcount import BIAS, getrefcount
from .tensor import Tensor, _make, to_array

__all__ = ['backward', 'grad', 'set_detect_anomaly', 'is_anomaly_enabled', 'detect_anomaly',
           'topological_order']


_seq = operator.attrgetter('_seq')


def topological_order(roots):
    """All nodes reachable from ``roots`` in the order backward visits them (outputs first)."""
    seen = set(roots)
    stack = list(roots)
    nodes = []
    while stack:
        n = stack.pop()
        nodes.append(n)
        for e in n._next:
            if e is not None and e[0] not in seen:
                seen.add(e[0])
                stack.append(e[0])
    nodes.sort(key=_seq, reverse=True)
    return nodes


def _make_root_grads(tensors, grads, arrays):
    """The gradients the sweep starts from: tensors, or their arrays with ``arrays``."""
    out = []
    for i, t in enumerate(tensors):
        g = grads[i] if grads is not None else None
        if g is None:
            data = t._data
            if data.size != 1:
                raise RuntimeError('grad can be implicitly created only for scalar outputs')
            if data.dtype.kind == 'c':
                raise RuntimeError('grad can be implicitly created only for real scalar '
                                   f'outputs but got {t.dtype}')
            g = t._device.xp.empty(data.shape, data.dtype)
            g.fill(1)                               # (cheaper than xp.ones for one element)
            out.append(g if arrays else _make(g, t._device))
            continue
        elif not isinstance(g, Tensor):
            g = _make(to_array(g, t._data.dtype, t._device), t._device)
        else:
            if g._data.shape != t._data.shape:
                raise RuntimeError(
                    f'Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and '
                    f'output[{i}] has a shape of {t.shape}.')
            if g._device is not t._device:
                raise RuntimeError(f'Expected grad_output[{i}] to be on device {t._device}, '
                                   f'but it is on {g._device}')
        out.append(g._data if arrays else g)
    return out


def root_edges(tensors):
    """The backward edges of ``tensors`` (the roots of a sweep; also drawn by autograd.viz),
    with backward's errors for what cannot be a root."""
    edges = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected a Tensor, got {type(t).__name__}')
        e = edge_of(t)
        if e is None:
            raise RuntimeError(f'element {i} of tensors does not require grad and does not have '
                               'a grad_fn')
        edges.append(e)
    return edges


def _as_tuple(x):
    if x is None or x.__class__ is tuple:
        return x
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Sum d(tensors)/d(leaf) . grad_tensors into ``.grad`` of every leaf that requires grad
    (or only of ``inputs``, when given)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    edges = root_edges(tensors)
    grads = _make_root_grads(tensors, grad_tensors, not create_graph)
    targets = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        targets = {}
        for t in inputs:
            e = edge_of(t)
            if e is None:
                raise RuntimeError('One of the differentiated Tensors does not require grad')
            targets.setdefault(e[0], []).append((e[1], t))
    _execute(edges, grads, retain_graph, create_graph, targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) . grad_outputs without touching any ``.grad``."""
    if is_grads_batched:
        raise NotImplementedError('is_grads_batched=True is not supported')
    outputs = _as_tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    edges = root_edges(outputs)
    grads = _make_root_grads(outputs, grad_outputs, not create_graph)
    targets = {}
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected a Tensor in inputs, got {type(t).__name__}')
        e = edge_of(t)
        if e is None:
            raise RuntimeError('One of the differentiated Tensors does not require grad')
        targets.setdefault(e[0], []).append((e[1], k))
    results = _execute(edges, grads, retain_graph, create_graph, targets, accumulate=False,
                       n_results=len(inputs))
    for k, r in enumerate(results):
        if r is None:
            if materialize_grads:
                t = inputs[k]
                results[k] = _make(t._device.xp.zeros_like(t._data), t._device)
            elif not allow_unused:
                raise RuntimeError('One of the differentiated Tensors appears to not have been '
                                   'used in the graph. Set allow_unused=True if this is the '
                                   'desired behavior.')
    return tuple(results)


def _execute(root_edges, root_grads, retain_graph, create_graph, targets, accumulate,
             n_results=0):
    """The reverse sweep.  ``targets`` (node -> [(output_nr, key)]) restricts the work to
    what those tensors need; their gradients are captured (``accumulate=False``) or summed
    into their ``.grad`` (``accumulate=True``).

    Nodes wait on a heap keyed by creation order (newest first), entered when their first
    gradient arrives: the reverse topological order of the nodes gradients reach, without
    a separate walk of the graph.  Without ``create_graph`` no graph of the sweep is
    wanted, and gradients travel between nodes as the device's bare arrays.
    """
    arrays = not create_graph
    needed = passes_on = None
    if targets is not None:
        needed, passes_on = _prune(topological_order([e[0] for e in root_edges]), targets)
    buffers = {}            # node -> its summed gradient (a list for several outputs)
    heap = []
    for (node, nr), g in zip(root_edges, root_grads):
        if needed is None or node in needed:
            _accumulate(buffers, heap, node, nr, g, arrays)
    results = [None] * n_results
    old = None
    atype = None            # the array type gradients take (the roots' device's)
    if arrays and root_edges:
        node, nr = root_edges[0]
        atype = node._meta[nr][2].array_type
    anomaly = _process.anomaly
    prev = _grad_state.enabled, _grad_state.arrays
    _grad_state.enabled, _grad_state.arrays = create_graph, arrays
    # formulas on bare arrays (inf * 0, 1 / 0 ...) must not warn: PyTorch's backward is silent
    token = set_errstate(IGNORE_ERRORS)
    try:
        while heap:
            node = heappop(heap)[1]
            g = buffers.pop(node)
            if node._pre_hooks:
                g = _run_pre_hooks(node, g, arrays)
            if targets is not None and node in targets:
                _capture(node, g, targets, results, accumulate, arrays)
                if node not in passes_on:
                    continue
            elif node.__class__ is AccumulateGrad:
                _accumulate_leaf(node, g, arrays)
                if node._post_hooks:
                    _run_post_hooks(node)
                continue
            trusted = node.array_backward   # our own ops (their gradient counts are tested)
            if arrays and not trusted:
                g = _wrap(node, g)          # a formula that takes tensors only
            grads = node.backward(*g) if g.__class__ is list else node.backward(g)
            if grads.__class__ is not tuple:
                grads = (grads,)
            if anomaly or not trusted:
                _check_grads(node, grads)
            if not retain_graph:
                node._saved = None          # release what backward needed
                node._out = None
            edges = node._next
            if len(grads) < len(edges):     # (a formula may leave trailing Nones out)
                grads = grads + (None,) * (len(edges) - len(grads))
            k = -1
            for e in edges:                 # (indexing costs less than a zip per node)
                k += 1
                gi = grads[k]
                if e is None or gi is None:
                    continue
                nxt, nr = e
                if needed is not None and nxt not in needed:
                    continue
                meta = nxt._meta
                m = meta[nr]
                if gi.__class__ is not atype or gi.shape != m[0] or gi.dtype is not m[1]:
                    gi = _validate(node, k, gi, m, arrays)
                # S(i) = sum over uses j of S(j) dj/di: add this use's contribution
                if len(meta) != 1:
                    _accumulate(buffers, heap, nxt, nr, gi, arrays)
                elif (old := buffers.get(nxt)) is None:
                    buffers[nxt] = gi
                    heappush(heap, (-nxt._seq, nxt))
                # (_accumulate's in-place sum, inline: a tensor used twice or more)
                elif arrays and getrefcount(old) - BIAS == 2 and old.base is None:
                    try:
                        old += gi
                    except ValueError:      # read-only
                        buffers[nxt] = _plus(old, gi)
                else:
                    buffers[nxt] = _plus(old, gi)
            g = grads = gi = old = None  # the buffers own the gradients (in-place sums)
    finally:
        reset_errstate(token)
        _grad_state.enabled, _grad_state.arrays = prev
    return results


def _check_grads(node, grads):
    """Check the gradients a formula returned: one per input (nodes that are not our own
    ops), no NaN (anomaly mode)."""
    if not node.array_backward and len(grads) != len(node._next):
        raise RuntimeError(f'function {node.name()} returned an incorrect number of '
                           f'gradients (expected {len(node._next)}, got {len(grads)})')
    if _process.anomaly:
        _check_nan(node, grads)


def _accumulate(buffers, heap, node, nr, g, arrays):
    """Add ``g`` to the gradient of output ``nr`` of ``node``; a node that had none joins
    the heap."""
    old = buffers.get(node)
    n_out = len(node._meta)
    if old is None:
        if n_out != 1:
            lst = [None] * n_out
            lst[nr] = g
            g = lst
        buffers[node] = g
        heappush(heap, (-node._seq, node))
    elif n_out != 1:
        old[nr] = g if old[nr] is None else _plus(old[nr], g)
    # in place when nothing but the buffers dict and this local hold the array: not a view,
    # a tensor's data, a saved value (both have the node's dtype: validated)
    elif arrays and getrefcount(old) - BIAS == 2 and old.base is None:
        try:
            old += g
        except ValueError:          # read-only
            buffers[node] = _plus(old, g)
    else:
        buffers[node] = _plus(old, g)


def _plus(a, b):
    """``a + b``; for arrays, kept an array (NumPy makes a scalar of a 0-d sum)."""
    s = a + b
    return s if s.ndim or isinstance(s, Tensor) else array_module(s).asarray(s)


def _wrap(node, g):
    """The gradients for a node whose backward takes tensors."""
    meta = node._meta
    if g.__class__ is list:
        return [None if gi is None else _make(_own(gi), m[2]) for gi, m in zip(g, meta)]
    return _make(_own(g), meta[0][2])


def _own(g):
    """``g``, or a copy of it where it is (a view of) the read-only 1 a loss's sweep starts
    from (``_ONES``): code outside the engine (hooks, Functions) may write to a gradient."""
    return g.copy() if g.size == 1 and not is_writeable(g) else g


def _prune(order, targets):
    """The nodes from which some target is reachable (visited in increasing _seq), and
    those among them whose inputs lead to a target."""
    needed = set()
    passes_on = set()
    for node in reversed(order):
        for e in node._next:
            if e is not None and e[0] in needed:
                passes_on.add(node)
                needed.add(node)
                break
        else:
            if node in targets:
                needed.add(node)
    return needed, passes_on


def _run_pre_hooks(node, g, arrays):
    """Run the tensor hooks registered on ``node``'s outputs (they see tensors)."""
    multi = g.__class__ is list
    if multi:
        g = list(g)
    for nr, fns in node._pre_hooks.items():
        gi = g[nr] if multi else g
        if gi is None:
            continue
        if arrays:
            gi = _make(_own(gi), node._meta[nr][2])
        retain = []
        for fn in list(fns.values()):
            if isinstance(fn, RetainGradHook):
                retain.append(fn)
                continue
            r = fn(gi)
            if r is not None:
                gi = r
        for fn in retain:
            fn(gi)
        if arrays:
            gi = _validate(node, nr, gi, node._meta[nr], arrays)
        if multi:
            g[nr] = gi
        else:
            g = gi
    return g


def _validate(node, i, g, meta, arrays=False):
    """Check a gradient against the tensor it is for; undo a leftover broadcast, cast dtype.
    With ``arrays``, the result is the device's array (a tensor is unwrapped)."""
    shape, dtype, dev = meta
    if isinstance(g, Tensor):
        if g._device is not dev:
            raise RuntimeError(f'Function {node.name()} returned an invalid gradient at index '
                               f'{i} - expected device {dev} but got {g._device}')
        if arrays:
            g = g._data
    elif not arrays or not hasattr(g, 'dtype'):
        raise TypeError(f'function {node.name()} returned a gradient of type '
                        f'{type(g).__name__} at index {i}, expected a Tensor')
    elif g.__class__ is not dev.array_type:
        if array_module(g) is not dev.xp:
            raise RuntimeError(f'Function {node.name()} returned an invalid gradient at index '
                               f'{i} - expected device {dev} but got {device_of_array(g)}')
        g = dev.xp.asarray(g)           # a NumPy scalar from arithmetic on 0-d arrays
    data = g if arrays else g._data
    if data.shape != shape:         # a leftover broadcast: undone here, the one place
        if not broadcastable_to(shape, data.shape):
            raise RuntimeError(f'Function {node.name()} returned an invalid gradient at index {i} '
                               f'- got {list(data.shape)} but expected shape compatible with '
                               f'{list(shape)}')
        g = sum_to(g, shape) if arrays else g.sum_to_size(shape)
        data = g if arrays else g._data
    if data.dtype != dtype:
        if data.dtype.kind == 'c' and dtype.kind != 'c':
            g = g.real      # a real input of a complex result: the real part (handle_r_to_c)
        if arrays:
            return g.astype(dtype)
        g = g.to(dtype=from_numpy_dtype(dtype))
    return g


def _accumulate_leaf(acc, g, arrays):
    """Sum ``g`` into the ``.grad`` of ``acc``'s leaf (its hooks ran as the node's pre-hooks).
    Under a lock: sweeps in two threads may reach one leaf at once (reading ``.grad`` and
    then setting it would lose one of their gradients, as would two in-place sums)."""
    leaf = acc._leaf()
    if leaf is None:
        return
    _lock()
    try:
        old = leaf._grad
        if not arrays:                  # create_graph: the sum is part of the graph
            leaf._grad = g.clone() if old is None else old + g
        elif old is None:
            # Referenced by the sweep's local and this function's: nothing else can see it,
            # so the leaf may own it without a copy.
            private = getrefcount(g) - BIAS <= 2 and g.base is None and is_writeable(g)
            leaf._grad = _make(g if private else g.copy(), leaf._device)
        else:
            data = old._data
            if data.shape == g.shape:
                try:
                    data += g           # in place, as PyTorch: leaf.grad keeps its identity
                    old._vc[0] += 1
                    return
                except ValueError:      # read-only
                    pass
            leaf._grad = _make(_plus(data, g), leaf._device)
    finally:
        _unlock()


def _run_post_hooks(acc):
    leaf = acc._leaf()
    if leaf is not None:
        for hook in tuple(acc._post_hooks.values()):
            hook(leaf)


_GRAD_LOCK = threading.Lock()
_lock, _unlock = _GRAD_LOCK.acquire, _GRAD_LOCK.release


def _capture(node, g, targets, results, accumulate, arrays):
    for nr, key in targets[node]:
        gi = g[nr] if g.__class__ is list else g
        if gi is None:
            continue
        if arrays:
            gi = _make(gi, node._meta[nr][2])
        if accumulate:
            t = key
            with _GRAD_LOCK:
                if t._grad is None:
                    t._grad = gi.clone() if not arrays else _make(gi._data.copy(), gi._device)
                else:
                    t._grad = t._grad + gi if not arrays else \
                        _make(_plus(t._grad._data, gi._data), gi._device)
        else:
            results[key] = gi


def _check_nan(node, grads):
    for i, gi in enumerate(grads):
        if gi is None:
            continue
        data = gi._data if isinstance(gi, Tensor) else gi
        if array_module(data).isnan(data).any():
            where = TRACES.get(node)
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if where:
                msg += ('\nThe forward call that created this node (anomaly mode traceback):\n'
                        + where)
            raise RuntimeError(msg)


# ----------------------------------------------------------------------------- anomaly mode

def set_detect_anomaly(mode):
    """Record where each node is created, and raise when backward produces a NaN."""
    _process.anomaly = bool(mode)


def is_anomaly_enabled():
    return _process.anomaly


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _process.anomaly
        _process.anomaly = self.check_nan

    def __exit__(self, *exc):
        _process.anomaly = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``autograd.backward``)."""
    if gradient is None and inputs is None and not create_graph:    # loss.backward()
        fn = self.grad_fn
        data = self._data
        if fn is not None and data.size == 1 and data.dtype.kind != 'c':
            # a real scalar made by an op (a loss): its edge and its gradient, 1, directly;
            # a 0-d host loss without hooks gets a shared read-only 1 (the sweep's sums copy
            # an array that others hold, and no hook can write to it)
            g = _ONES.get(data.dtype) if not data.ndim and fn._pre_hooks is None and \
                data.__class__ is numpy.ndarray else None
            if g is None:
                g = self._device.xp.empty(data.shape, data.dtype)
                g.fill(1)
            _execute(((fn, self._output_nr),), (g,), retain_graph, False, None,
                     accumulate=True)
            return
        roots = (self,)
        _execute(root_edges(roots), _make_root_grads(roots, None, True), retain_graph, False,
                 None, accumulate=True)
        return
    backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
             inputs=inputs)


def _read_only_one(dtype):
    one = numpy.ones((), dtype)
    one.flags.writeable = False
    return one


_ONES = {numpy.dtype(d): _read_only_one(d) for d in ('float16', 'float32', 'float64')}

Tensor.backward = _tensor_backward

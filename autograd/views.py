"""Views and in-place changes: the history the engine keeps of shared storage.

Every tensor has a version counter (``_vc``, a one-item list) that all views of one
storage share; an in-place op bumps it, and a node that saved a value checks it in
backward.  A view (``_view``, a ``ViewOf``) remembers how it was taken from its parent.
When a view is changed in place, its root base's history goes through a
:class:`CopySlices` node (``rebase_view``); a view taken before its base changed in
place re-derives its history from the base's current one on next use (``refresh_view``),
as PyTorch regenerates a view's ``grad_fn``.  Op classes appear here only as data (the
``op`` of a ``ViewOf``); this module imports nothing from the ops layer.
"""
from .grad_mode import state as _grad_state
from .node import Node, record
from .tensor import Tensor, ViewOf, _make

__all__ = ['refresh_view', 'rebase_view', 'check_inplace', 'inplace_view',
           'ViewOf', 'CopySlices']


class CopySlices(Node):
    """The node of a base after one of its views was changed in place (PyTorch's
    CopySlices).  Input 0: the old base; input 1: the new value of the view.  The view's
    region of the gradient goes to the new value, the rest to the old base."""
    __slots__ = ('mask', 'chain')

    def name(self):
        return 'CopySlices'

    def backward(self, g):
        nb, nr = self._next
        mask = _make(self.mask, g._device)
        gb = g.masked_fill(mask, 0) if nb is not None else None
        gr = _replay(g, self.chain) if nr is not None else None
        return gb, gr


def _view_chain(t):
    """The views from the root base down to ``t``: [(ViewOf, view tensor)], base first."""
    chain = []
    while t._view is not None:
        chain.append((t._view, t))
        t = t._view.parent
    chain.reverse()
    return chain


def _replay(t, steps):
    """Take the views ``steps`` (``(op, params, nr)``, base first) again, of tensor ``t``."""
    for op, params, nr in steps:
        t = op.apply(t, **params)
        if nr is not None:
            t = t[nr]
    return t


def _regraft(base, chain):
    """Give every tensor along ``chain`` the history "view of ``base`` as it is now"."""
    t = base
    for v, view_t in chain:
        out = v.op.apply(t, **v.params)
        if v.nr is not None:
            out = out[v.nr]
        view_t.grad_fn = out.grad_fn
        view_t._output_nr = out._output_nr
        view_t._requires_grad = out._requires_grad
        v.version = view_t._vc[0]
        t = view_t


def refresh_view(t):
    """Re-derive view ``t``'s history from its base's current one.

    For a view taken before its base (or a sibling view) was changed in place: its
    ``grad_fn`` still points at the old base, and PyTorch regenerates it on access.
    """
    base = t._base
    if not base._requires_grad:
        t._view.version = t._vc[0]
        return
    prev = _grad_state.enabled
    _grad_state.enabled = True
    try:
        _regraft(base, _view_chain(t))
    finally:
        _grad_state.enabled = prev


def _snapshot(t, grad_fn, output_nr):
    """A tensor standing for ``t``'s value with the given history (an input edge)."""
    if grad_fn is not None:
        return _make(t._data, t._device, True, grad_fn, output_nr, t._vc)
    return _make(t._data, t._device, t._requires_grad, vc=t._vc)


def rebase_view(target, node):
    """After an in-place op on view ``target`` (recorded as ``node``, whose output 0 is
    the view's new value), route the root base's history through a CopySlices node and
    make the view (and the views between it and the base) views of that new base."""
    base = target._base
    chain = _view_chain(target)
    xp = base._device.xp
    mask = xp.zeros(base._data.shape, dtype=bool)
    region = mask
    for v, _ in chain:              # the view's region of the base, marked True
        region = v.op.__new__(v.op).forward(xp, region, **v.params)
        if v.nr is not None:
            region = region[v.nr]
    region[...] = True
    old_base = _snapshot(base, base.grad_fn, base._output_nr)
    new_view = _snapshot(target, node, 0)
    copy = CopySlices.__new__(CopySlices)
    copy.mask = mask
    copy.chain = tuple((v.op, v.params, v.nr) for v, _ in chain)    # (no tensors: no cycle)
    new_base = record(copy, base._data, base._device, (old_base, new_view), True)
    base.grad_fn = new_base.grad_fn
    base._output_nr = 0
    base._requires_grad = True
    _regraft(base, chain)
    if node._out is not None:       # the node's saved output now lives in the view
        node._out = (target._data, target._device, target._vc, target._vc[0], 0)


def check_inplace(target, others):
    """PyTorch's refusals of an in-place op on ``target`` that records a graph."""
    others_need = any(isinstance(o, Tensor) and o._requires_grad for o in others)
    if target._requires_grad and target.grad_fn is None:
        raise RuntimeError('a leaf Variable that requires grad is being used in an in-place '
                           'operation.')
    base = target._base
    if base is None:
        return None
    v = target._view
    if v.nr is not None and (target._requires_grad or others_need):
        raise RuntimeError(
            f'Output {v.nr} of {v.op.__name__} is a view and is being modified inplace. This '
            'view is the output of a function that returns multiple views. Such functions do '
            'not allow the output views to be modified inplace. You should replace the '
            'inplace operation by an out-of-place one.')
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError('a view of a leaf Variable that requires grad is being used '
                           'in an in-place operation.')
    return base


def inplace_view(fn):
    """The in-place form of a view function ``fn`` (``x.t_()``): ``x`` itself takes the
    view's shape and graph node; its storage and version counter stay, and the version is
    bumped."""
    def op(self, *args, **kwargs):
        if _grad_state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError('a leaf Variable that requires grad is being used in an in-place '
                               'operation.')
        old = _make(self._data, self._device, self._requires_grad, self.grad_fn,
                    self._output_nr, self._vc, self._view)
        out = fn(old, *args, **kwargs)
        self._data = out._data
        if out.grad_fn is not None:        # (with grad off, a leaf stays the same leaf)
            self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
        if self._view is not None:          # a view stays a view, now through ``old``
            self._view = out._view
        self._vc[0] += 1
        return self
    op.__name__ = fn.__name__ + '_'
    op.__doc__ = f'In-place ``{fn.__name__}``: changes the shape of this tensor itself.'
    return op

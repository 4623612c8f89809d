"""Backprop replayed as the dynamic program it is, recording what flows where.

The engine's sweep (``engine._execute``) visits the nodes in reverse topological order
and, at each node, first sums the gradients that reached each of its outputs from all
their uses, S(i) = sum_j S(j) dj/di, then passes one gradient along each input edge.
``Sweep`` runs the same schedule over the same nodes, calling each node's ``backward``
under ``no_grad`` with the saved values left in place (as ``retain_graph=True``), and
keeps for every edge the shape and norm of the gradient it carried.  Nothing is written
into any ``.grad``, and tensor hooks are not run.
"""
from collections import namedtuple

from ..creation import tensor
from ..engine import _validate
from ..grad_mode import no_grad
from ..node import AccumulateGrad
from ..tensor import Tensor, _make

__all__ = ['Sweep', 'Grad']

Grad = namedtuple('Grad', 'shape norm')
Grad.__doc__ = 'Summary of one gradient: its shape and its 2-norm (a float).'

FREED = ('the values {name} saved for backward were freed by an earlier backward(): '
         'draw the backward view before calling backward(), or call '
         'backward(retain_graph=True)')


class Sweep:
    """The reverse sweep of ``graph`` (a :class:`~autograd.viz.graph.Graph`).

    Attributes:
        position: node -> 1-based step at which backward visits it.
        seeds: ``Grad`` of the gradient each output starts with (ones unless
            ``grad_outputs`` gives them).
        edge: ``(node, i)`` -> ``Grad`` that ``node`` passed along its i-th input edge
            (absent when it passed none).
        received: ``(node, output_nr)`` -> ``(count, Grad)``: how many gradients reached
            that output and their sum.  ``count > 1`` is where backprop adds.
        senders: node -> the nodes whose gradients reached it (None for an output's seed).
    """

    def __init__(self, graph, grad_outputs=None):
        self.position = {n: k + 1 for k, n in enumerate(graph.order)}
        self.edge = {}
        self.received = {}
        self.seeds = []
        self.senders = {}
        buffers = {}
        counts = {}

        def add(node, nr, g, sender):
            self.senders.setdefault(node, []).append(sender)
            lst = buffers.get(node)
            if lst is None:
                lst = buffers[node] = [None] * len(node._meta)
            lst[nr] = g if lst[nr] is None else lst[nr] + g
            counts[node, nr] = counts.get((node, nr), 0) + 1

        with no_grad():
            for k, (t, (node, nr)) in enumerate(zip(graph.outputs, graph.roots)):
                g = _seed(t, None if grad_outputs is None else grad_outputs[k])
                self.seeds.append(summary(g))
                add(node, nr, g, None)
            for node in graph.order:
                gs = buffers.pop(node, None)
                if gs is None:
                    continue                          # no gradient reaches it
                for nr, g in enumerate(gs):
                    if g is not None:
                        self.received[node, nr] = (counts[node, nr], summary(g))
                if node.__class__ is AccumulateGrad:
                    continue
                if node._saved is None:
                    raise RuntimeError(FREED.format(name=node.name()))
                grads = node.backward(*gs)
                if grads.__class__ is not tuple:
                    grads = (grads,)
                for i, e in enumerate(node._next):
                    if e is None or i >= len(grads) or grads[i] is None:
                        continue
                    nxt, nr = e
                    g = _validate(node, i, grads[i], nxt._meta[nr])
                    self.edge[node, i] = summary(g)
                    add(nxt, nr, g, node)


def _seed(t, g):
    if g is None:
        return _make(t._device.xp.ones_like(t._data), t._device)
    if not isinstance(g, Tensor):
        return tensor(g, dtype=t.dtype, device=t._device)
    return g


def summary(g):
    data = g._data
    xp = g._device.xp
    norm = float(xp.sqrt((data.astype('float64') ** 2).sum())) if data.size else 0.0
    return Grad(tuple(data.shape), norm)

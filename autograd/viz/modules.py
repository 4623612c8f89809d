"""Which submodule created each graph node: a traced forward pass.

Each submodule's forward runs between a pre-hook and a post-hook; both take a fresh
sequence number from the counter that numbers graph nodes, so a node was created inside
the innermost module call whose interval contains its number.  (Sequence numbers are only
ever compared, so taking some for the hooks changes nothing else.)
"""
import functools

from ..node import AccumulateGrad, next_seq as _next_seq

__all__ = ['trace']


class trace:
    """Context manager recording, during a forward pass of ``model``, which of its
    submodules creates each node, for pictures grouped by module::

        with autograd.viz.trace(model) as modules:
            loss = loss_fn(model(x), y)
        autograd.viz.draw(loss, modules=modules, depth=1, path='graph.svg')

    ``model`` is anything with ``named_modules()`` whose modules take forward hooks (an
    ``nn.Module``).  Paths are tuples of attribute names: ``()`` is ``model`` itself,
    ``('layers', '0')`` is ``model.layers[0]``; ``types`` maps each path to the module's
    class name.  Parameters belong to the module that owns them.
    """

    def __init__(self, model):
        self.model = model
        self.types = {}
        self._events = []           # (seq, path or None when leaving): a bracket sequence
        self._handles = []

    def __enter__(self):
        for name, module in self.model.named_modules():
            path = tuple(name.split('.')) if name else ()
            self.types[path] = type(module).__name__
            self._handles.append(module.register_forward_pre_hook(
                functools.partial(self._enter, path), prepend=True))
            self._handles.append(module.register_forward_hook(
                self._leave, always_call=True))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    def _enter(self, path, module, args):
        self._events.append((_next_seq(), path))

    def _leave(self, module, args, output):
        self._events.append((_next_seq(), None))

    def assign(self, nodes, named_params):
        """node -> module path (or None: created outside ``model``) for ``nodes`` sorted by
        creation; a leaf's accumulator goes to the module owning the parameter."""
        owner = {id(t): tuple(name.split('.')[:-1]) for name, t in named_params}
        events = self._events
        out = {}
        stack = []
        k = 0
        for node in nodes:
            seq = node._seq
            while k < len(events) and events[k][0] < seq:
                path = events[k][1]
                if path is None:
                    stack.pop()
                else:
                    stack.append(path)
                k += 1
            if node.__class__ is AccumulateGrad:
                leaf = node.variable
                path = None if leaf is None else owner.get(id(leaf))
                out[node] = path if path in self.types else None
            else:
                out[node] = stack[-1] if stack else None
        return out

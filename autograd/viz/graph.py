"""The backward graph of some outputs, walked once, with what the pictures say about it.

The walk is the engine's own (``topological_order``: an explicit stack, no recursion), so
a graph of any depth can be drawn.  Nodes are named by their position in creation order,
never by ``id()``, so the same program gives the same DOT text on every run.
"""
from ..engine import root_edges, topological_order
from ..node import edge_of
from ..tensor import Tensor

__all__ = ['Graph', 'saved_values', 'saved_nbytes', 'op_name', 'fmt_shape', 'fmt_bytes']


class Graph:
    """The nodes reachable from ``outputs``.

    Attributes:
        nodes: every node, in creation order (inputs first: a topological order).
        order: the same nodes in the order backward visits them (outputs first).
        index: node -> its position in ``nodes`` (names it in the DOT text).
        roots: ``(node, output_nr)`` of each output tensor.
        names: id(leaf tensor) -> parameter name, from ``params``.
        module: node -> path (tuple of names) of the submodule that created it, or None;
            empty unless a :class:`~autograd.viz.trace` was given.
    """

    def __init__(self, outputs, params=None, modules=None):
        if not outputs:
            raise TypeError('expected at least one output tensor to draw')
        roots = root_edges(outputs)        # (the checks and errors of backward's roots)
        self.outputs = tuple(outputs)
        self.roots = roots
        self.order = topological_order(list(dict.fromkeys(n for n, _ in roots)))
        self.nodes = self.order[::-1]
        self.index = {n: i for i, n in enumerate(self.nodes)}
        if params is None and modules is not None:
            params = modules.model
        self._params = _named(params)         # holds the tensors, so their ids stay valid
        self.names = {id(t): name for name, t in self._params}
        self.module = modules.assign(self.nodes, self._params) if modules is not None else {}
        self.module_types = modules.types if modules is not None else {}

    def param_name(self, node):
        leaf = node.variable
        return None if leaf is None else self.names.get(id(leaf))

    def tensor_key(self, t):
        """``(node index, output_nr)`` naming tensor ``t`` in this graph, or None when ``t``
        is not part of it (a value that needs no gradient)."""
        e = edge_of(t)
        if e is None or e[0] not in self.index:
            return None
        return (self.index[e[0]], e[1])

    def freed(self):
        """True when backward already released the saved values of some node."""
        return any(n._saved is None for n in self.nodes)


def _named(params):
    """``params`` as a list of (name, tensor): a mapping, (name, tensor) pairs, or anything
    with ``named_parameters()`` (a module)."""
    if params is None:
        return []
    if hasattr(params, 'named_parameters'):
        return list(params.named_parameters())
    if hasattr(params, 'items'):
        return list(params.items())
    return [(name, t) for name, t in params]


def saved_values(node):
    """What ``node`` keeps alive for backward, as ``(tensor, output_nr, array)``: an input
    tensor it saved (``output_nr`` None), or one of its own outputs, which nodes keep as a
    bare array (``tensor`` None).  Empty once backward freed them."""
    saved = node._saved
    out = []
    for s in saved or ():
        if isinstance(s, Tensor):
            out.append((s, None, s._data))
        elif isinstance(s, tuple):                # a custom Function's own output
            out.append((None, s[3], s[0]))
    if node._out is not None:
        data, _, _, _, nr = node._out
        out.append((None, nr, data))
    return out


def saved_nbytes(nodes):
    """Bytes of the distinct arrays ``nodes`` keep for backward (an array saved by several
    nodes, or twice by one, counts once), and the number of those arrays."""
    seen = {}
    for node in nodes:
        for _, _, array in saved_values(node):
            seen[id(array)] = array
    return sum(a.nbytes for a in seen.values()), len(seen)


def op_name(node):
    """The forward op's name: ``MulBackward0`` -> ``Mul``, ``MyFnBackward`` -> ``MyFn``."""
    name = node.name()
    for suffix in ('Backward0', 'Backward'):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return name


def fmt_shape(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def fmt_bytes(n):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if n < 1024 or unit == 'GiB':
            return f'{n} B' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1024

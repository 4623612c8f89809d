"""The two views of a graph, as pictures (see ``dot.py``), and ``to_dot``/``frames``.

Forward view: what the program computed.  Op vertices (ellipses) between tensor vertices
(boxes: shape, dtype, device), inputs flowing down to outputs; a tensor used several
times is one vertex with several out-edges.  Values that nodes keep for backward have a
double border.

Backward view: how backprop walks the same graph.  One vertex per backward node, marked
with its step in the sweep (reverse topological order), edges pointing the way the
gradients flow, each labelled with the gradient it carried (shape and norm); vertices
where several gradients arrive (a tensor used more than once: S(i) = sum_j S(j) dj/di)
are outlined, and each vertex shows the memory it keeps alive for backward.
"""
from ..node import AccumulateGrad
from .backward import Sweep
from .dot import Picture, Vertex, collapse, render_dot
from .graph import Graph, fmt_bytes, fmt_shape, op_name, saved_nbytes, saved_values
from .notebook import Source

__all__ = ['to_dot', 'frames', 'forward_view', 'backward_view']

VIEWS = ('forward', 'backward')


def to_dot(*outputs, params=None, modules=None, view='forward', depth=None,
           grad_outputs=None, legend=True):
    """DOT text of the graph that produced ``outputs`` (no Graphviz needed).

    Args:
        outputs: tensors that require grad (e.g. a loss).
        params: names for parameters: a module (its ``named_parameters()``), a mapping
            name -> tensor, or (name, tensor) pairs.
        modules: a :class:`trace` of the forward pass, to group vertices by submodule
            (it also names the parameters when ``params`` is None).
        view: ``'forward'`` (the computation) or ``'backward'`` (the sweep, which this
            runs without touching any ``.grad``; needs the saved values, so draw it before
            ``backward()`` or after ``backward(retain_graph=True)``).
        depth: draw each module at this nesting depth as one box (0: the whole model;
            None: every op).  Only with ``modules``.
        grad_outputs: gradients to start the backward view from (default: ones).
        legend: add a legend of the styles used.

    Returns a :class:`~autograd.viz.notebook.Source`: the DOT text as a ``str``, which a
    Jupyter notebook displays as the picture.
    """
    pic = _picture(outputs, params, modules, view, grad_outputs)
    return Source(render_dot(collapse(pic, depth), legend))


def frames(*outputs, params=None, modules=None, depth=None, grad_outputs=None, legend=True):
    """DOT texts of the backward sweep, one per step: the node running, the nodes done,
    and the gradients waiting to be summed.  Same arguments as :func:`to_dot`."""
    g = Graph(outputs, params, modules)
    sw = Sweep(g, grad_outputs)
    return [Source(render_dot(collapse(backward_view(g, sw, step), depth), legend))
            for step in range(1, len(g.order) + 1)]


def _picture(outputs, params, modules, view, grad_outputs):
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    g = Graph(outputs, params, modules)
    if view == 'forward':
        return forward_view(g)
    return backward_view(g, Sweep(g, grad_outputs))


def _tensor_line(shape, dtype, device):
    return f'{fmt_shape(shape)} {getattr(dtype, "name", dtype)} {device}'


# ------------------------------------------------------------------------------ forward

def forward_view(g):
    nodes, index = g.nodes, g.index
    roots = {}
    for k, (n, nr) in enumerate(g.roots):
        roots.setdefault((index[n], nr), k)
    used = set(roots)             # tensors some vertex needs: inputs, outputs, saved
    saved = set()
    consts = {}                   # id(tensor) -> vertex id, for values needing no grad
    const_tensors = {}            # vertex id -> tensor
    const_users = {}              # node index -> vertex ids of constants it saved
    for i, node in enumerate(nodes):
        for e in node._next:
            if e is not None:
                used.add((index[e[0]], e[1]))
        for t, nr, _ in saved_values(node):
            key = (i, nr) if t is None else g.tensor_key(t)
            if key is not None:
                saved.add(key)
                used.add(key)
                continue
            cid = consts.get(id(t))
            if cid is None:
                cid = consts[id(t)] = f'c{len(consts)}'
                const_tensors[cid] = t
            users = const_users.setdefault(i, [])
            if cid not in users:
                users.append(cid)
    n_out = len(roots)
    emitted = set()
    n_ops = 0
    pic = Picture('', g.module_types)
    for i, node in enumerate(nodes):
        module = g.module.get(node)
        if node.__class__ is AccumulateGrad:
            name = g.param_name(node)
            role = 'output' if (i, 0) in roots else 'param' if name else 'input'
            first = name or _output_name(roots.get((i, 0)), n_out) or 'input'
            pic.add(Vertex(f't{i}:0', [first, _tensor_line(*node._meta[0])],
                           [role] + (['saved'] if (i, 0) in saved else []), module,
                           {'params': 1} if name else {}))
            continue
        for cid in const_users.get(i, ()):
            if cid not in emitted:
                emitted.add(cid)
                t = const_tensors[cid]
                pic.add(Vertex(cid, ['input (no grad)', _tensor_line(
                    t._data.shape, t._data.dtype, t._device)], ['input', 'saved']))
        op = f'n{i}'
        n_ops += 1
        pic.add(Vertex(op, [op_name(node)], ['op'], module, {'ops': 1}))
        for e in node._next:
            if e is not None:
                pic.connect(f't{index[e[0]]}:{e[1]}', op)
        for cid in const_users.get(i, ()):
            pic.connect(cid, op)
        for nr, meta in enumerate(node._meta):
            if (i, nr) not in used:
                continue
            k = roots.get((i, nr))
            lines = ([_output_name(k, n_out)] if k is not None else []) + [_tensor_line(*meta)]
            pic.add(Vertex(f't{i}:{nr}', lines,
                           ['output' if k is not None else 'tensor'] +
                           (['saved'] if (i, nr) in saved else []), module))
            pic.connect(op, f't{i}:{nr}')
    nbytes, count = saved_nbytes(nodes)
    pic.title = (f'forward graph: {n_ops} ops; {count} arrays ({fmt_bytes(nbytes)}) saved for '
                 'backward' if not g.freed() else
                 f'forward graph: {n_ops} ops; saved values already freed by backward()')
    return pic


def _output_name(k, n_out):
    if k is None:
        return None
    return 'output' if n_out == 1 else f'output {k}'


# ----------------------------------------------------------------------------- backward

def backward_view(g, sw, step=None):
    """The sweep as a picture; with ``step`` (1-based), the state just as that step runs."""
    index = g.index
    pic = Picture('', g.module_types)
    for k, ((node, nr), seed) in enumerate(zip(g.roots, sw.seeds)):
        sid = f's{k}'
        pic.add(Vertex(sid, ['output gradient' if len(g.roots) == 1 else f'output {k} gradient',
                             _grad_line(seed)], ['seed']))
        pic.connect(sid, f'n{index[node]}', _grad_line(seed), _edge_style(sw, node, nr))
    for node in g.order:
        i = index[node]
        pos = sw.position[node]
        nbytes, _ = saved_nbytes([node])
        multi = len(node._meta) > 1
        leaf = node.__class__ is AccumulateGrad
        name = g.param_name(node) if leaf else None
        lines = [f'#{pos} {node.name()}']
        if leaf:
            lines.append(f'{name or "input"} {_tensor_line(*node._meta[0])}')
        if nbytes:
            lines.append(f'saves {fmt_bytes(nbytes)}')
        styles = ['leaf' if leaf else 'node']
        reached = False
        for nr in range(len(node._meta)):
            got = sw.received.get((node, nr))
            if got is None:
                continue
            reached = True
            count, total = got
            if count > 1:
                lines.append(f'Σ of {count} gradients' + (f' (output {nr})' if multi else ''))
                if 'summed' not in styles:
                    styles.append('summed')
            if leaf and (step is None or pos < step):
                lines.append(f'grad {_grad_line(total)}')
        if not reached:
            styles.append('unreached')
        if step is not None:
            state = _state(sw, node, pos, step)
            if state:
                styles.append(state)
        pic.add(Vertex(f'n{i}', lines, styles, g.module.get(node),
                       {'ops': 0 if leaf else 1, 'params': 1 if name else 0, 'nbytes': nbytes,
                        'steps': (pos, pos)}))
        for j, e in enumerate(node._next):
            if e is None:
                continue
            got = sw.edge.get((node, j))
            shown = got is not None and (step is None or pos < step)
            prefix = f'to output {e[1]}: ' if len(e[0]._meta) > 1 else ''
            pic.connect(f'n{i}', f'n{index[e[0]]}', prefix + _grad_line(got) if shown else '',
                        _edge_style(sw, *e) if shown else 'none')
    total, count = saved_nbytes(g.nodes)
    title = (f'backward sweep: {len(g.order)} steps in reverse topological order; '
             f'saved for backward: {fmt_bytes(total)} in {count} arrays')
    if step is not None:
        held, _ = saved_nbytes([n for n in g.order if sw.position[n] >= step])
        title = (f'step {step} of {len(g.order)}: {g.order[step - 1].name()} runs; saved '
                 f'values still held: {fmt_bytes(held)} of {fmt_bytes(total)}')
    pic.title = title
    return pic


def _state(sw, node, pos, step):
    """A node's state as step ``step`` runs: its gradient is complete once every node
    sending to it ran (all come earlier in the order); until then it is pending."""
    if pos < step:
        return 'done'
    if pos == step:
        return 'current'
    if any(src is None or sw.position[src] < step for src in sw.senders.get(node, ())):
        return 'pending'
    return None


def _edge_style(sw, node, nr):
    got = sw.received.get((node, nr))
    return 'summed' if got is not None and got[0] > 1 else 'grad'


def _grad_line(grad):
    return f'{fmt_shape(grad.shape)} ‖g‖={grad.norm:.4g}'

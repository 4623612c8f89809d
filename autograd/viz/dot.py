"""DOT text from a picture: vertices, edges, module clusters, collapsing and a legend.

A picture is view-independent: the forward and backward views (``views.py``) build one,
and this module groups its vertices by module, collapses modules below a depth into
single boxes, and writes the text.  Everything is emitted in a fixed order with ids
derived from graph positions, so equal graphs give byte-equal DOT text.
"""
from .graph import fmt_bytes

__all__ = ['Vertex', 'Edge', 'Picture', 'STYLES', 'collapse', 'render_dot']

# name -> (DOT attributes, legend text)
STYLES = {
    'op': ({'shape': 'ellipse', 'style': 'filled', 'fillcolor': '#e9ecef'}, 'operation'),
    'input': ({'shape': 'box', 'style': 'filled', 'fillcolor': '#cfe2ff'}, 'input'),
    'param': ({'shape': 'box', 'style': 'filled', 'fillcolor': '#c3e6cb'}, 'parameter'),
    'output': ({'shape': 'box', 'style': 'filled,bold', 'fillcolor': '#ffd8a8'}, 'output'),
    'tensor': ({'shape': 'box', 'style': 'filled', 'fillcolor': '#ffffff'}, 'intermediate'),
    'saved': ({'peripheries': '2', 'color': '#7048e8'}, 'saved for backward'),
    'node': ({'shape': 'ellipse', 'style': 'filled', 'fillcolor': '#e9ecef'},
             'backward node (#step)'),
    'leaf': ({'shape': 'box', 'style': 'filled', 'fillcolor': '#c3e6cb'},
             'leaf: gradient accumulated'),
    'seed': ({'shape': 'box', 'style': 'filled,bold', 'fillcolor': '#ffd8a8'},
             'output gradient (seed)'),
    'summed': ({'color': '#d9480f', 'penwidth': '2.5'}, 'gradients summed here'),
    'unreached': ({'style': 'filled,dashed', 'fontcolor': '#868e96'}, 'no gradient reaches it'),
    'done': ({'fillcolor': '#f1f3f5', 'fontcolor': '#868e96'}, 'done'),
    'current': ({'fillcolor': '#ff8787', 'style': 'filled,bold'}, 'running now'),
    'pending': ({'fillcolor': '#fff3bf'}, 'gradient waiting'),
    'module': ({'shape': 'box3d', 'style': 'filled', 'fillcolor': '#e5dbff'},
               'collapsed module'),
}
EDGE_STYLES = {
    'flow': {},
    'grad': {'fontcolor': '#1864ab'},
    'summed': {'color': '#d9480f', 'fontcolor': '#d9480f'},
    'none': {'style': 'dotted', 'color': '#adb5bd', 'fontcolor': '#868e96'},
}


class Vertex:
    """One drawn vertex: ``styles`` are keys of STYLES applied in order; ``module`` the
    path of the module it belongs to (None: outside any); ``stats`` the numbers a
    collapsed module box adds up (ops, params, nbytes, first/last step)."""
    __slots__ = ('id', 'lines', 'styles', 'module', 'stats')

    def __init__(self, id, lines, styles, module=None, stats=None):
        self.id = id
        self.lines = lines
        self.styles = styles
        self.module = module
        self.stats = stats or {}


class Edge:
    __slots__ = ('src', 'dst', 'label', 'style')

    def __init__(self, src, dst, label='', style='flow'):
        self.src = src
        self.dst = dst
        self.label = label
        self.style = style


class Picture:
    """Vertices and edges in drawing order, a title, and the module class names."""

    def __init__(self, title, module_types):
        self.title = title
        self.module_types = module_types
        self.vertices = []
        self.edges = []

    def add(self, vertex):
        self.vertices.append(vertex)
        return vertex

    def connect(self, src, dst, label='', style='flow'):
        self.edges.append(Edge(src, dst, label, style))


def collapse(pic, depth):
    """Draw each module at nesting ``depth`` (0: the model itself) as one box holding
    everything created inside it; edges between the same two vertices merge."""
    if depth is None:
        return pic
    out = Picture(pic.title, pic.module_types)
    boxes = {}
    where = {}
    for v in pic.vertices:
        m = v.module
        if m is None or len(m) < depth:
            out.add(v)
            where[v.id] = v.id
            continue
        path = m[:depth]
        box = boxes.get(path)
        if box is None:
            box = boxes[path] = out.add(Vertex('module:' + '.'.join(path), [], ['module'],
                                               path[:-1] if path else None, {}))
        _merge_stats(box.stats, v.stats)
        if 'summed' in v.styles and 'summed' not in box.styles:
            box.styles.append('summed')
        where[v.id] = box.id
    for path, box in boxes.items():
        box.lines = _box_lines(pic, path, box.stats)
    merged = {}
    for e in pic.edges:
        src, dst = where[e.src], where[e.dst]
        if src == dst:
            continue
        key = (src, dst)
        if key in merged:
            m = merged[key]
            m[1] += 1
            if e.style == 'summed':
                m[0].style = 'summed'
        else:
            merged[key] = [Edge(src, dst, e.label, e.style), 1]
            out.edges.append(merged[key][0])
    for edge, n in merged.values():
        if n > 1:
            edge.label = f'{n} edges'
    return out


def _merge_stats(total, stats):
    for k, v in stats.items():
        if k == 'steps':
            lo, hi = total.get(k, (v[0], v[1]))
            total[k] = (min(lo, v[0]), max(hi, v[1]))
        else:
            total[k] = total.get(k, 0) + v


def _box_lines(pic, path, s):
    lines = [_module_title(pic, path)]
    if 'ops' in s:
        lines.append(_plural(s['ops'], 'op') +
                     (', ' + _plural(s['params'], 'param') if s.get('params') else ''))
    if 'steps' in s:
        lo, hi = s['steps']
        lines.append(f'steps #{lo}-#{hi}' if lo != hi else f'step #{lo}')
    if s.get('nbytes'):
        lines.append(f"saves {fmt_bytes(s['nbytes'])}")
    return lines


def _plural(n, word):
    return f'{n} {word}' + ('' if n == 1 else 's')


def _module_title(pic, path):
    name = '.'.join(path) if path else '(model)'
    kind = pic.module_types.get(path)
    return f'{name}: {kind}' if kind else name


# -------------------------------------------------------------------------------- text

def quote(s):
    return '"' + str(s).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def _attrs(d):
    return ' '.join(f'{k}={quote(v)}' for k, v in d.items())


def _vertex_attrs(styles):
    attrs = {}
    for s in styles:
        attrs.update(STYLES[s][0])
    return attrs


def _vertex_line(v):
    attrs = {'label': '\n'.join(v.lines)}
    attrs.update(_vertex_attrs(v.styles))
    return f'{quote(v.id)} [{_attrs(attrs)}]'


def render_dot(pic, legend=True):
    """The DOT text of ``pic``: vertices outside modules first, then one nested cluster
    per module, then the edges and the legend."""
    lines = ['digraph autograd {']
    graph_attrs = {'label': pic.title, 'labelloc': 't', 'fontname': 'Helvetica',
                   'newrank': 'true'}
    lines.append(f'  graph [{_attrs(graph_attrs)}]')
    lines.append(f'  node [{_attrs({"fontname": "Helvetica", "fontsize": "11"})}]')
    lines.append(f'  edge [{_attrs({"fontname": "Helvetica", "fontsize": "9"})}]')
    members = {}
    for v in pic.vertices:
        members.setdefault(v.module, []).append(v)
    for v in members.pop(None, ()):
        lines.append('  ' + _vertex_line(v))
    _clusters(pic, members, lines)
    for e in pic.edges:
        attrs = dict(EDGE_STYLES[e.style])
        if e.label:
            attrs['label'] = e.label
        tail = f' [{_attrs(attrs)}]' if attrs else ''
        lines.append(f'  {quote(e.src)} -> {quote(e.dst)}{tail}')
    if legend:
        _legend(pic, lines)
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _clusters(pic, members, lines):
    """Nested clusters: every prefix of a used module path gets one, children inside."""
    paths = set()
    for m in members:
        for k in range(len(m) + 1):
            paths.add(m[:k])
    children = {}
    for p in sorted(paths):
        if p:
            children.setdefault(p[:-1], []).append(p)
    number = {p: i for i, p in enumerate(sorted(paths))}
    # an explicit stack (module nesting is shallow, but the emitter stays iterative)
    stack = [('open', ())] if () in paths else []
    while stack:
        what, p = stack.pop()
        indent = '  ' * (len(p) + 1)
        if what == 'close':
            lines.append(indent + '}')
            continue
        lines.append(f'{indent}subgraph {quote(f"cluster_{number[p]}")} {{')
        attrs = {'label': _module_title(pic, p), 'style': 'rounded,filled',
                 'fillcolor': '#f8f9fa' if len(p) % 2 == 0 else '#eef2f7', 'color': '#adb5bd'}
        lines.append(f'{indent}  graph [{_attrs(attrs)}]')
        for v in members.get(p, ()):
            lines.append(f'{indent}  {_vertex_line(v)}')
        stack.append(('close', p))
        for c in reversed(children.get(p, ())):
            stack.append(('open', c))


def _legend(pic, lines):
    used = []
    for v in pic.vertices:
        for s in v.styles:
            if s not in used:
                used.append(s)
    order = [s for s in STYLES if s in used]
    lines.append('  subgraph "cluster_legend" {')
    attrs = {'label': 'legend', 'style': 'dashed', 'color': '#adb5bd'}
    lines.append(f'    graph [{_attrs(attrs)}]')
    for i, s in enumerate(order):
        attrs = {'label': STYLES[s][1], 'fontsize': '9'}
        if s == 'saved':
            attrs.update(STYLES['tensor'][0])
        elif 'shape' not in STYLES[s][0]:
            attrs.update(STYLES['node'][0])
        attrs.update(STYLES[s][0])
        lines.append(f'    "legend_{i}" [{_attrs(attrs)}]')
    for i in range(len(order) - 1):
        lines.append(f'    "legend_{i}" -> "legend_{i + 1}" [style="invis"]')
    lines.append('  }')

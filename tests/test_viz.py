"""autograd.viz: the forward and backward pictures of known graphs, rendering through
Graphviz, the missing-``dot`` error, a 10,000-op graph, the command-line tool, and the
README pictures."""
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd
import nn
from autograd import viz
from oracle import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_graphviz = pytest.mark.skipif(importlib.util.find_spec('graphviz') is None,
                                    reason="needs the graphviz Python package (the viz extra)")
needs_dot = pytest.mark.skipif(
    shutil.which('dot') is None or importlib.util.find_spec('graphviz') is None,
    reason="needs Graphviz: the 'dot' program and the graphviz Python package")

VERTEX = re.compile(r'^\s*"([^"]+)" \[(.*)\]$')
EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?$')
ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(autouse=True)
def on_the_cpu():
    """The expected labels and the README pictures name the CPU: draw on it whatever the
    default device of the run (the suite also runs with AUTOGRAD_DEVICE=cuda)."""
    before = autograd.get_default_device()
    autograd.set_default_device('cpu')
    yield
    autograd.set_default_device(before)


def parse(dot):
    """(vertices: id -> attributes, edges: [(src, dst, attributes)]) of DOT text written by
    to_dot, leaving out the legend."""
    vertices, edges = {}, []
    for line in dot.splitlines():
        m = EDGE.match(line)
        if m:
            if not m.group(1).startswith('legend_'):
                edges.append((m.group(1), m.group(2), dict(ATTR.findall(m.group(3) or ''))))
            continue
        m = VERTEX.match(line)
        if m and not m.group(1).startswith('legend_'):
            attrs = dict(ATTR.findall(m.group(2)))
            attrs['label'] = attrs['label'].replace('\\n', '\n')
            vertices[m.group(1)] = attrs
    return vertices, edges


def by_label(vertices, prefix):
    return [v for v, a in vertices.items() if a['label'].startswith(prefix)]


def leaf(*shape):
    return autograd.randn(*shape, requires_grad=True)


# --------------------------------------------------------------------------- forward view

def test_forward_chain_counts_ops_tensors_and_edges():
    x = leaf(3)
    z = x.exp().sum()
    vertices, edges = parse(viz.to_dot(z))
    assert sorted(a['label'].split('\n')[0] for a in vertices.values()) == \
        ['Exp', 'Sum', '[3] float32 cpu', 'input', 'output']
    assert len(edges) == 4          # x -> Exp -> exp(x) -> Sum -> z


def test_forward_tensor_labels_show_shape_dtype_device():
    x = autograd.randn(2, 3, dtype=autograd.float64, requires_grad=True)
    vertices, _ = parse(viz.to_dot((x * 2).sum()))
    assert vertices[by_label(vertices, 'input')[0]]['label'] == 'input\n[2, 3] float64 cpu'
    assert vertices[by_label(vertices, 'output')[0]]['label'] == 'output\n[] float64 cpu'


def test_parameters_named_from_a_mapping():
    w, b = leaf(3), leaf(3)
    vertices, _ = parse(viz.to_dot((w * b).sum(), params={'w': w, 'b': b}))
    assert vertices[by_label(vertices, 'w\n')[0]]['fillcolor'] == '#c3e6cb'
    assert by_label(vertices, 'b\n[3] float32 cpu')


def test_parameters_named_from_a_module():
    layer = nn.Linear(3, 2)
    vertices, _ = parse(viz.to_dot(layer(autograd.randn(4, 3)).sum(), params=layer))
    labels = {a['label'] for a in vertices.values()}
    assert {'weight\n[2, 3] float32 cpu', 'bias\n[2] float32 cpu'} <= labels


def test_reused_tensor_is_drawn_once_with_an_edge_per_use():
    x = leaf(3)
    y = x.exp()
    vertices, edges = parse(viz.to_dot((y * y + y).sum()))
    y_id = [d for s, d, _ in edges if s in by_label(vertices, 'Exp')]
    assert len(y_id) == 1
    uses = [vertices[d]['label'] for s, d, _ in edges if s == y_id[0]]
    assert sorted(uses) == ['Add', 'Mul', 'Mul']


def test_several_outputs_and_a_multi_output_op():
    x = leaf(4)
    a, b = x.split(2)
    vertices, edges = parse(viz.to_dot(a * 2, b * 3))
    assert len(by_label(vertices, 'Split')) == 1
    split = by_label(vertices, 'Split')[0]
    assert len([d for s, d, _ in edges if s == split]) == 2
    assert len(by_label(vertices, 'output 0')) == len(by_label(vertices, 'output 1')) == 1


def test_styles_distinguish_inputs_params_outputs_and_saved_values():
    w = leaf(3)
    x = autograd.randn(3)                      # needs no grad, but Mul saves it
    vertices, edges = parse(viz.to_dot((w * x).exp().sum(), params={'w': w}))
    const = vertices[by_label(vertices, 'input (no grad)')[0]]
    assert const['fillcolor'] == '#cfe2ff' and const['peripheries'] == '2'
    # only d/dx reads w, and x needs no gradient: w is not kept (as PyTorch)
    assert 'peripheries' not in vertices[by_label(vertices, 'w\n')[0]]
    out_of = {vertices[s]['label']: vertices[d] for s, d, _ in edges if s.startswith('n')}
    assert 'peripheries' not in out_of['Mul']
    assert out_of['Exp']['peripheries'] == '2'                 # Exp saves its output
    assert vertices[by_label(vertices, 'output')[0]]['fillcolor'] == '#ffd8a8'


def test_legend_names_the_styles_used():
    dot = viz.to_dot((leaf(3) * autograd.randn(3)).sum())
    legend = dot[dot.index('cluster_legend'):]
    for text in ('operation', 'input', 'output', 'intermediate', 'saved for backward'):
        assert f'label="{text}"' in legend
    assert 'cluster_legend' not in viz.to_dot(leaf(3).sum(), legend=False)


def test_custom_function_nodes_are_drawn():
    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = leaf(3)
    loss = Square.apply(x).sum()
    vertices, _ = parse(viz.to_dot(loss))
    assert len(by_label(vertices, 'Square')) == 1
    vertices, edges = parse(viz.to_dot(loss, view='backward'))
    sq = by_label(vertices, '#2 SquareBackward')[0]
    acc = by_label(vertices, '#3 AccumulateGrad')[0]
    grad = [a['label'] for s, d, a in edges if (s, d) == (sq, acc)][0]
    assert grad == f'[3] ‖g‖={np.linalg.norm(2 * x.detach().numpy()):.4g}'


def test_node_ids_are_deterministic():
    def build():
        autograd.manual_seed(0)
        x = leaf(2, 2)
        return (x @ x).tanh().sum()
    assert viz.to_dot(build()) == viz.to_dot(build())
    assert '0x' not in viz.to_dot(build(), view='backward')


def test_outputs_must_have_a_graph():
    with pytest.raises(RuntimeError, match='does not require grad'):
        viz.to_dot(autograd.randn(3))
    with pytest.raises(ValueError, match='view'):
        viz.to_dot(leaf(3).sum(), view='sideways')


# -------------------------------------------------------------------------- backward view

def positions(vertices):
    return {v: int(re.match(r'#(\d+) ', a['label']).group(1))
            for v, a in vertices.items() if a['label'].startswith('#')}


def demo():
    sys.path.insert(0, os.path.join(ROOT, 'examples'))
    try:
        import graph_demo
    finally:
        sys.path.pop(0)
    return graph_demo.build_graph()


def test_backward_order_visits_a_node_after_every_node_using_it():
    loss, modules = demo()
    vertices, edges = parse(viz.to_dot(loss, modules=modules, view='backward'))
    pos = positions(vertices)
    assert sorted(pos.values()) == list(range(1, len(pos) + 1))
    graph_edges = [(s, d) for s, d, _ in edges if s in pos]
    assert graph_edges
    for s, d in graph_edges:
        assert pos[s] < pos[d]


def test_summed_gradient_marked_where_a_tensor_is_reused():
    x = leaf(3)
    y = x.exp()                                # used by Mul twice and by Add: three uses
    vertices, edges = parse(viz.to_dot((y * y + y).sum(), view='backward'))
    exp = by_label(vertices, '#4 ExpBackward0')[0]     # Sum, Add, Mul, then Exp
    assert 'Σ of 3 gradients' in vertices[exp]['label']
    assert vertices[exp]['penwidth'] == '2.5'
    assert [v for v, a in vertices.items() if 'Σ' in a['label']] == [exp]
    assert sum(1 for s, d, a in edges if d == exp and a['color'] == '#d9480f') == 3


def test_gradient_labels_match_pytorch_and_grad_is_untouched():
    xs = np.random.default_rng(0).standard_normal((2, 3))
    x = autograd.tensor(xs, requires_grad=True)
    w = autograd.tensor(xs.T.copy(), requires_grad=True)
    loss = (x @ w).tanh().sum()
    vertices, edges = parse(viz.to_dot(loss, params={'x': x, 'w': w}, view='backward'))
    assert x.grad is None and w.grad is None
    tx = torch.tensor(xs, requires_grad=True)
    tw = torch.tensor(xs.T.copy(), requires_grad=True)
    (tx @ tw).tanh().sum().backward()
    for name, t in (('x', tx), ('w', tw)):
        v = [a['label'] for a in vertices.values() if f'\n{name} [' in a['label']][0]
        assert f'grad {list(t.shape)} ‖g‖={t.grad.norm().item():.4g}' in v


def test_saved_memory_per_node_and_total():
    a = leaf(3, 4)                             # float32: 48 bytes
    b = a.exp()                                # saves its output b: 48 B
    loss = (b * a).sum()                       # Mul saves b and a: 96 B; Sum saves nothing
    vertices, _ = parse(viz.to_dot(loss, view='backward'))
    assert 'saves 48 B' in vertices[by_label(vertices, '#3 ExpBackward0')[0]]['label']
    assert 'saves 96 B' in vertices[by_label(vertices, '#2 MulBackward0')[0]]['label']
    assert 'saves' not in vertices[by_label(vertices, '#1 SumBackward0')[0]]['label']
    # b's array is saved twice but alive once: the total is a's and b's 96 bytes
    assert 'saved for backward: 96 B in 2 arrays' in viz.to_dot(loss, view='backward')


def test_backward_view_needs_the_saved_values():
    x = leaf(3)
    loss = x.exp().sum()
    loss.backward(retain_graph=True)
    grad = x.grad.clone()
    viz.to_dot(loss, view='backward')
    assert np.array_equal(x.grad.numpy(), grad.numpy())
    loss.backward()
    with pytest.raises(RuntimeError, match='retain_graph=True'):
        viz.to_dot(loss, view='backward')
    assert 'already freed' in viz.to_dot(loss)


def test_frames_show_one_running_node_per_step():
    x = leaf(3)
    y = x.exp()
    texts = viz.frames((y * y).sum())
    assert len(texts) == 4                    # Sum, Mul, Exp, AccumulateGrad
    for k, text in enumerate(texts, 1):
        vertices, _ = parse(text)
        running = [a['label'] for a in vertices.values() if a.get('fillcolor') == '#ff8787']
        assert len(running) == 1 and running[0].startswith(f'#{k} ')
        done = [a for a in vertices.values() if a.get('fillcolor') == '#f1f3f5']
        assert len(done) == k - 1
    # y (12 bytes) is saved by Exp (its output) and twice by Mul: one array, alive until
    # Exp has run
    assert 'saved values still held: 12 B of 12 B' in texts[2]
    assert 'saved values still held: 0 B of 12 B' in texts[3]


# -------------------------------------------------------------------------------- modules

def test_trace_groups_nodes_in_module_clusters():
    loss, modules = demo()
    dot = viz.to_dot(loss, modules=modules)
    for title in ('(model): TinyNet', 'inp: Linear', 'block: Residual', 'block.fc: Linear',
                  'block.act: Tanh', 'out: Linear'):
        assert f'label="{title}"' in dot
    block = dot[dot.index('label="block: Residual"'):dot.index('label="out: Linear"')]
    assert 'label="Tanh"' in block and 'label="Add"' in block and 'block.fc.weight' in block


def test_depth_collapses_modules_into_boxes():
    loss, modules = demo()
    vertices, edges = parse(viz.to_dot(loss, modules=modules, view='backward', depth=1))
    boxes = sorted(v for v in vertices if v.startswith('module:'))
    assert boxes == ['module:block', 'module:inp', 'module:out']
    assert vertices['module:block']['label'].startswith('block: Residual\n3 ops, 2 params')
    assert 'steps #5-#9' in vertices['module:block']['label']
    assert by_label(vertices, '#1 NllLossBackward0')          # the loss is outside the model
    assert ('module:block', 'module:inp') in {(s, d) for s, d, _ in edges}
    vertices, _ = parse(viz.to_dot(loss, modules=modules, depth=0))
    assert [v for v in vertices if v.startswith('module:')] == ['module:']


# ------------------------------------------------------------------------------ rendering

@needs_dot
def test_draw_svg_png_and_pdf(tmp_path):
    loss, modules = demo()
    svg = viz.draw(loss, modules=modules, path=str(tmp_path / 'g.svg'))
    assert ET.parse(svg).getroot().tag == '{http://www.w3.org/2000/svg}svg'
    png = viz.draw(loss, modules=modules, view='backward', path=str(tmp_path / 'g.png'))
    assert open(png, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    pdf = viz.draw(loss, path=str(tmp_path / 'g'), format='pdf')
    assert open(pdf, 'rb').read(5) == b'%PDF-'


@needs_dot
def test_draw_frames_writes_a_pager(tmp_path):
    paths = viz.draw_frames(leaf(3).exp().sum(), directory=str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ['step_001.svg', 'step_002.svg',
                                                    'step_003.svg']
    index = (tmp_path / 'index.html').read_text()
    assert '"step_003.svg"' in index and 'ArrowRight' in index


@needs_graphviz
def test_missing_dot_names_the_program_and_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))          # an empty folder: no dot
    loss = leaf(3).sum()
    with pytest.raises(viz.DotNotFoundError, match=r"'dot'.*apt-get install graphviz"):
        viz.draw(loss, path=str(tmp_path / 'g.svg'))
    assert not (tmp_path / 'g.svg').exists()
    assert viz.to_dot(loss).startswith('digraph')


# ---------------------------------------------------------------------------- large graph

def test_ten_thousand_op_graph_in_seconds():
    y = leaf(3)
    for i in range(10000):
        y = y * 1.0001 if i % 2 else y + 0.5
    loss = y.sum()
    start = time.perf_counter()
    forward = viz.to_dot(loss)
    backward = viz.to_dot(loss, view='backward')
    assert time.perf_counter() - start < 10
    assert forward.count('label="Mul"') == 5000
    assert '#10002 AccumulateGrad' in backward


@needs_dot
def test_ten_thousand_op_model_collapsed_renders_in_seconds(tmp_path):
    class Block(nn.Module):
        def forward(self, x):
            for _ in range(100):
                x = x * 1.0001
            return x

    model = nn.Sequential(*[Block() for _ in range(100)])
    with viz.trace(model) as modules:
        loss = model(leaf(3)).sum()
    start = time.perf_counter()
    viz.draw(loss, modules=modules, depth=1, view='backward', path=str(tmp_path / 'g.svg'))
    assert time.perf_counter() - start < 20
    assert ET.parse(str(tmp_path / 'g.svg')).getroot().tag.endswith('svg')


# -------------------------------------------------------------------------------- the CLI

def run_cli(*args, env=None):
    return subprocess.run([sys.executable, '-m', 'autograd.viz.cli', *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_writes_dot_text_without_graphviz(tmp_path):
    from autograd.viz.cli import main
    out = tmp_path / 'g.dot'
    assert main([os.path.join(ROOT, 'examples', 'graph_demo.py'), '--view', 'backward',
                 '--format', 'dot', '--depth', '1', '-o', str(out)]) == 0
    assert '"module:block"' in out.read_text()


@needs_dot
def test_cli_draws_a_script_and_a_model_factory(tmp_path, monkeypatch):
    r = run_cli('examples/graph_demo.py', '--view', 'backward', '-o', str(tmp_path / 'g.svg'))
    assert r.returncode == 0, r.stderr
    assert ET.parse(str(tmp_path / 'g.svg')).getroot().tag.endswith('svg')
    (tmp_path / 'mymodels.py').write_text(
        'import nn\n'
        'def make():\n'
        '    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())\n')
    monkeypatch.chdir(tmp_path)
    from autograd.viz.cli import main
    assert main(['mymodels:make', '--input-shape', '2,4', '--format', 'png', '--depth', '1',
                 '-o', 'm.png']) == 0
    assert (tmp_path / 'm.png').read_bytes()[:4] == b'\x89PNG'


@needs_dot
@pytest.mark.parametrize('name, magic', [('picture.png', b'\x89PNG\r\n\x1a\n'),
                                         ('picture.svg', b'<?xml'), ('picture.pdf', b'%PDF')])
def test_cli_format_follows_the_output_extension(tmp_path, name, magic):
    from autograd.viz.cli import main
    out = tmp_path / name
    assert main([os.path.join(ROOT, 'examples', 'graph_demo.py'), '-o', str(out)]) == 0
    assert out.read_bytes()[:len(magic)] == magic


@needs_dot
def test_cli_format_option_overrides_the_extension(tmp_path):
    from autograd.viz.cli import main
    out = tmp_path / 'picture.png'
    assert main([os.path.join(ROOT, 'examples', 'graph_demo.py'), '--format', 'svg',
                 '-o', str(out)]) == 0
    assert ET.parse(str(out)).getroot().tag.endswith('svg')


def test_cli_format_without_a_known_extension_is_svg_or_dot_text(tmp_path):
    from autograd.viz.cli import _format
    assert _format(None, 'g.PNG') == 'png' and _format(None, 'g.dot') == 'dot'
    assert _format(None, 'graph') == 'svg' and _format(None, None) == 'svg'
    assert _format('pdf', 'g.png') == 'pdf'


@needs_dot
def test_graph_demo_writes_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, os.path.join(ROOT, 'examples'))
    try:
        import graph_demo
    finally:
        sys.path.pop(0)
    paths = graph_demo.main([])
    assert sorted(os.listdir(tmp_path)) == ['runs']
    assert sorted(os.listdir(tmp_path / 'runs' / 'graph_demo')) == ['graph_backward.svg',
                                                                    'graph_forward.svg']
    for p in paths:
        assert ET.parse(str(tmp_path / p)).getroot().tag.endswith('svg')
    out = tmp_path / 'elsewhere'
    graph_demo.main(['--out', str(out)])
    assert sorted(os.listdir(out)) == ['graph_backward.svg', 'graph_forward.svg']


def test_cli_reports_missing_dot(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    r = run_cli('examples/graph_demo.py', '-o', str(tmp_path / 'g.svg'), env=env)
    assert r.returncode == 1
    assert "'dot'" in r.stderr and 'apt-get install graphviz' in r.stderr
    assert 'Traceback' not in r.stderr


def test_tools_wrapper_runs_the_cli(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'drawgraph.py'),
                        os.path.join(ROOT, 'examples', 'graph_demo.py'), '--format', 'dot',
                        '-o', str(tmp_path / 'g.dot')], capture_output=True, text=True,
                       cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'g.dot').read_text().startswith('digraph')


# ------------------------------------------------------------------------ README pictures

@pytest.mark.parametrize('view', ['forward', 'backward'])
def test_readme_pictures_are_what_the_tool_draws_today(view):
    """The committed SVG carries the SHA-256 of the DOT text it was drawn from; that text
    must be what the tool makes of the demo today."""
    path = os.path.join(ROOT, 'docs', f'graph_{view}.svg')
    svg = open(path, encoding='utf-8').read()
    assert ET.fromstring(svg.encode()).tag.endswith('svg')
    stamped = re.search(r'autograd\.viz source sha256 ([0-9a-f]{64})', svg).group(1)
    loss, modules = demo()
    today = hashlib.sha256(viz.to_dot(loss, modules=modules, view=view).encode()).hexdigest()
    assert stamped == today, (f'docs/graph_{view}.svg is stale; redraw it: autograd-graph '
                              f'examples/graph_demo.py --view {view} -o docs/graph_{view}.svg')


def test_cli_is_installed_as_a_console_script():
    tomllib = pytest.importorskip('tomllib', reason='reading pyproject.toml needs Python 3.11+')
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        scripts = tomllib.load(f)['project']['scripts']
    assert scripts['autograd-graph'] == 'autograd.viz.cli:main'

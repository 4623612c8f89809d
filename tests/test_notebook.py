"""Notebooks: the graph picture displays inline, and a notebook runs headlessly.

``test_notebook_renders_the_graph`` builds a notebook that trains a small model a few
steps and shows its graph as the cell's value, executes it in a fresh Jupyter kernel
(``nbclient``), and checks that the executed notebook holds the SVG picture and the
training losses went down.
"""
import os
import re
import shutil

import pytest

import autograd
import nn
from autograd import viz

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_dot = pytest.mark.skipif(shutil.which('dot') is None,
                               reason="needs Graphviz's 'dot' program")


def small_graph():
    x = autograd.randn(3, 2)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    return model(x).sum(), model


def test_to_dot_is_dot_text():
    loss, model = small_graph()
    dot = viz.to_dot(loss, params=model)
    assert isinstance(dot, str) and isinstance(dot, viz.Source)
    assert dot.source == str(dot) and dot.startswith('digraph')
    assert '0.weight' in dot


@needs_dot
def test_repr_svg_and_mimebundle():
    loss, model = small_graph()
    dot = viz.to_dot(loss, params=model)
    svg = dot._repr_svg_()
    assert svg.lstrip().startswith('<?xml') and '<svg' in svg and '0.weight' in svg
    bundle = dot._repr_mimebundle_()
    assert bundle['image/svg+xml'] == svg and 'text/plain' in bundle
    assert set(dot._repr_mimebundle_(include=['image/svg+xml'])) == {'image/svg+xml'}
    assert 'image/svg+xml' not in dot._repr_mimebundle_(exclude=['image/svg+xml'])
    frames = viz.frames(loss, params=model)
    assert all(isinstance(f, viz.Source) for f in frames)
    assert dot.pipe('png')[:8] == b'\x89PNG\r\n\x1a\n'


def test_mimebundle_without_graphviz_shows_the_text(monkeypatch):
    loss, model = small_graph()
    dot = viz.to_dot(loss, params=model)
    monkeypatch.setenv('PATH', '')          # `dot` cannot be found
    bundle = dot._repr_mimebundle_()
    assert bundle == {'text/plain': str(dot)}


NOTEBOOK = [
    "import autograd, nn, optim\nfrom autograd import viz\nautograd.manual_seed(0)",
    "x = autograd.randn(32, 3)\ny = x @ autograd.tensor([[1.0], [-2.0], [0.5]]) + 0.1\n"
    "model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))\n"
    "opt = optim.Adam(model.parameters(), lr=0.05)\nlosses = []\n"
    "for step in range(20):\n"
    "    opt.zero_grad()\n"
    "    loss = nn.functional.mse_loss(model(x), y)\n"
    "    loss.backward()\n"
    "    opt.step()\n"
    "    losses.append(loss.item())\n"
    "print('first', losses[0], 'last', losses[-1])",
    "viz.to_dot(nn.functional.mse_loss(model(x), y), params=model)",
]


@needs_dot
@pytest.mark.slow
def test_notebook_renders_the_graph(tmp_path):
    nbformat = pytest.importorskip('nbformat')
    nbclient = pytest.importorskip('nbclient')
    pytest.importorskip('ipykernel')
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name='python3',
                                     resources={'metadata': {'path': ROOT}})
    try:
        client.execute()
    except (RuntimeError, OSError) as e:
        if 'kernel' in str(e).lower() and not isinstance(e, nbclient.exceptions.CellExecutionError):
            pytest.skip(f'no Jupyter kernel could start: {e}')
        raise
    nbformat.write(nb, str(tmp_path / 'executed.ipynb'))
    printed = ''.join(o.get('text', '') for o in nb.cells[1].outputs)
    first, last = map(float, re.search(r'first (\S+) last (\S+)', printed).groups())
    assert last < first
    shown = nb.cells[2].outputs
    assert len(shown) == 1 and shown[0].output_type == 'execute_result'
    svg = shown[0].data['image/svg+xml']
    assert '<svg' in svg and '0.weight' in svg and 'Tanh' in svg

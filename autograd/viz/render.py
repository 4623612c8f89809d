"""Pictures on disk: DOT text piped through Graphviz's ``dot`` program.

The ``graphviz`` package runs ``dot`` as a subprocess with an argument list (no shell)
and pipes the text in and the picture out, so no temporary file is involved.
"""
import hashlib
import html
import os

from .views import frames, to_dot

__all__ = ['draw', 'draw_frames', 'render', 'DotNotFoundError', 'MissingGraphviz', 'FORMATS']

FORMATS = ('svg', 'png', 'pdf')

INSTALL = ('install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install '
           'graphviz` (macOS) or `conda install graphviz`')


class DotNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not on PATH."""


class MissingGraphviz(ImportError):
    """The ``graphviz`` Python package is not installed."""


def render(dot_text, format='svg'):
    """The picture described by ``dot_text`` in ``format`` (bytes), made by ``dot``."""
    if format not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {format!r}')
    try:
        import graphviz
    except ImportError:
        raise MissingGraphviz("drawing needs the 'graphviz' Python package (pip install graphviz) "
                          f"and the Graphviz 'dot' program ({INSTALL}); to_dot() needs "
                          'neither') from None
    try:
        return graphviz.Source(dot_text).pipe(format=format, engine='dot')
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(f"the Graphviz program 'dot' was not found on PATH; {INSTALL}. "
                               'autograd.viz.to_dot() still gives the DOT text without it.'
                               ) from None


def stamp(dot_text):
    """``dot_text`` with its own SHA-256 as the graph's comment (``dot`` copies it into
    SVG output), so a picture can be checked against the DOT text it was made from."""
    digest = hashlib.sha256(dot_text.encode()).hexdigest()
    head, rest = dot_text.split('\n', 1)
    return f'{head}\n  comment="autograd.viz source sha256 {digest}"\n{rest}'


def _format_of(path, format):
    if format is not None:
        return format
    ext = os.path.splitext(str(path))[1].lstrip('.').lower()
    return ext if ext in FORMATS else 'svg'


def draw(*outputs, path, format=None, **options):
    """Draw the graph of ``outputs`` into the file ``path``; returns ``path``.

    ``format`` is ``'svg'``, ``'png'`` or ``'pdf'`` (default: from the file name's
    extension, else SVG); ``options`` are those of :func:`to_dot` (``params``,
    ``modules``, ``view``, ``depth``, ``grad_outputs``, ``legend``).  Needs Graphviz's
    ``dot`` program (:class:`DotNotFoundError` otherwise).
    """
    data = render(stamp(to_dot(*outputs, **options)), _format_of(path, format))
    with open(path, 'wb') as f:
        f.write(data)
    return path


def draw_frames(*outputs, directory, format='svg', **options):
    """Draw the backward sweep one step per file (``step_001.svg`` ...) into
    ``directory``, with an ``index.html`` that pages through them (arrow keys).
    ``options`` are those of :func:`frames`.  Returns the picture paths."""
    texts = frames(*outputs, **options)
    os.makedirs(directory, exist_ok=True)
    paths = []
    for k, text in enumerate(texts, 1):
        path = os.path.join(directory, f'step_{k:03d}.{format}')
        with open(path, 'wb') as f:
            f.write(render(stamp(text), format))
        paths.append(path)
    with open(os.path.join(directory, 'index.html'), 'w', encoding='utf-8') as f:
        f.write(_pager([os.path.basename(p) for p in paths]))
    return paths


def _pager(names):
    items = ', '.join('"' + html.escape(n) + '"' for n in names)
    return f'''<!doctype html>
<meta charset="utf-8"><title>backward sweep</title>
<p><button id="prev">&larr; previous</button> <span id="where"></span>
<button id="next">next &rarr;</button> (arrow keys work too)</p>
<img id="frame" alt="backward sweep step">
<script>
const frames = [{items}];
let k = 0;
function show(i) {{
  k = Math.max(0, Math.min(frames.length - 1, i));
  document.getElementById("frame").src = frames[k];
  document.getElementById("where").textContent = "step " + (k + 1) + " of " + frames.length;
}}
document.getElementById("prev").onclick = () => show(k - 1);
document.getElementById("next").onclick = () => show(k + 1);
document.onkeydown = (e) => {{
  if (e.key === "ArrowLeft") show(k - 1);
  if (e.key === "ArrowRight") show(k + 1);
}};
show(0);
</script>
'''

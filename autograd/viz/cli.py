"""``autograd-graph``: draw the graph of an example script's loss, or of a model.

    autograd-graph examples/graph_demo.py --view backward --depth 1 -o graph.svg
    autograd-graph mypackage.models:ResNet18 --input-shape 1,3,32,32 --depth 1

A script target defines ``build_graph()`` returning ``(loss, model)``: the output of one
forward pass (usually a scalar loss) and what names its parameters and modules, either
the model (names only) or the ``autograd.viz.trace(model)`` the forward ran under (names
and grouping by module).  It may also return the loss alone.  The script's directory is
put on ``sys.path`` while it loads, and its ``if __name__ == '__main__'`` block is skipped.

A ``module:callable`` target is a model factory called with no arguments; the tool runs
the model on ``randn(input_shape)`` under a trace and draws the output (the backward view
starts from a gradient of ones when the output is not a scalar).
"""
import argparse
import importlib
import os
import runpy
import sys

from ..creation import randn
from .modules import trace
from .render import DotNotFoundError, MissingGraphviz, draw, draw_frames
from .views import to_dot

__all__ = ['main', 'load_target', 'UsageError']

FORMATS = ('svg', 'png', 'pdf', 'dot')


class UsageError(Exception):
    """A target or option the tool cannot use (reported without a traceback)."""


def _parser():
    p = argparse.ArgumentParser(
        prog='autograd-graph',
        description='Draw the autograd graph of an example script\'s loss or of a model.')
    p.add_argument('target', help='path/to/script.py defining build_graph(), '
                                   'or package.module:factory returning a model')
    p.add_argument('-o', '--output', help='file to write (a directory for --view frames); '
                                          'default: <target>_<view>.<format>')
    p.add_argument('--view', choices=('forward', 'backward', 'frames'), default='forward',
                   help='the computation, the backward sweep, or the sweep one step '
                        'per picture with an index.html to page through them')
    p.add_argument('--format', choices=FORMATS, default=None,
                   help="picture format (default: the output file's extension, else svg); "
                        "'dot' writes the DOT text and needs no Graphviz")
    p.add_argument('--depth', type=int, default=None,
                   help='draw each module at this nesting depth as one box (0: the whole '
                        'model; default: every op)')
    p.add_argument('--input-shape', default=None,
                   help='input shape for a model factory target, e.g. 1,3,32,32')
    p.add_argument('--no-legend', action='store_true', help='leave the legend out')
    return p


def load_target(target, input_shape=None):
    """``(outputs, options)`` for a target: the tensors to draw and the ``params``/
    ``modules`` keywords of ``to_dot``."""
    if target.endswith('.py') or os.path.sep in target:
        return _load_script(target)
    if ':' not in target:
        raise UsageError(f'target {target!r} is neither a .py script nor module:factory')
    if input_shape is None:
        raise UsageError('a model factory target needs --input-shape, e.g. --input-shape 1,784')
    mod, _, attr = target.partition(':')
    sys.path.insert(0, os.getcwd())
    try:
        factory = getattr(importlib.import_module(mod), attr)
    finally:
        sys.path.remove(os.getcwd())
    model = factory()
    x = randn(*[int(s) for s in input_shape.split(',')])
    with trace(model) as modules:
        out = model(x)
    outputs = out if isinstance(out, tuple) else (out,)
    return tuple(o for o in outputs if o.requires_grad), {'modules': modules}


def _load_script(path):
    if not os.path.isfile(path):
        raise UsageError(f'no such script: {path}')
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        namespace = runpy.run_path(path, run_name='__autograd_graph__')
    finally:
        sys.path.remove(folder)
    build = namespace.get('build_graph')
    if build is None:
        raise UsageError(f'{path} defines no build_graph(); it should return (loss, model) '
                         'or (loss, autograd.viz.trace(model))')
    result = build()
    loss, named = (result if isinstance(result, tuple) else (result, None))
    if isinstance(named, trace):
        return (loss,), {'modules': named}
    return (loss,), {'params': named}


def _format(fmt, output):
    """``--format`` when given, else the output file's extension when it names a format
    (``picture.png`` is drawn as PNG), else SVG."""
    if fmt is not None:
        return fmt
    ext = os.path.splitext(output or '')[1].lstrip('.').lower()
    return ext if ext in FORMATS else 'svg'


def _default_output(target, view, fmt):
    stem = os.path.splitext(os.path.basename(target.split(':')[-1]))[0]
    return f'{stem}_frames' if view == 'frames' else f'{stem}_{view}.{fmt}'


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        outputs, options = load_target(args.target, args.input_shape)
        if args.depth is not None and 'modules' not in options:
            raise UsageError('--depth needs grouping by module: return the trace of the '
                             'forward pass from build_graph()')
        fmt = _format(args.format, None if args.view == 'frames' else args.output)
        if args.view == 'frames' and fmt not in ('svg', 'png'):
            raise UsageError('--view frames writes svg or png pictures')
        options.update(depth=args.depth, legend=not args.no_legend)
        out = args.output or _default_output(args.target, args.view, fmt)
        print(_write(outputs, options, args.view, fmt, out))
    except (UsageError, DotNotFoundError, MissingGraphviz) as e:
        print(f'autograd-graph: error: {e}', file=sys.stderr)
        return 1
    return 0


def _write(outputs, options, view, fmt, out):
    if view == 'frames':
        paths = draw_frames(*outputs, directory=out, format=fmt, **options)
        return f'wrote {len(paths)} frames and index.html to {out}'
    if fmt == 'dot':
        with open(out, 'w', encoding='utf-8') as f:
            f.write(to_dot(*outputs, view=view, **options))
    else:
        draw(*outputs, path=out, format=fmt, view=view, **options)
    return f'wrote {out}'


if __name__ == '__main__':
    sys.exit(main())

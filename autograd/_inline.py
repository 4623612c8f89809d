"""Functions compiled from statement templates, for the engine's per-op path.

Making an op's output tensor and recording its node is written once, as templates of
statements (``tensor.MAKE``, ``node.link_source``, ``node.record_source``), compiled into
ordinary functions (``_make``, ``link``, ``record``) and, inlined, into the entry points
``apply_unary``/``apply_binary`` (``op.py``).  The path runs once per op, and in CPython
a call costs about as much as the statements it would save (measured: 12% of a small
op chain's time for the four calls).  The compiled source is registered with
``linecache``, so tracebacks, debuggers and ``inspect.getsource`` show it.
"""
import linecache
import textwrap

__all__ = ['define', 'indent']


def define(name, signature, body, namespace, doc=None):
    """Compile ``def name(signature): body`` in ``namespace`` (a module's globals) and
    return the function; ``body`` is unindented statements."""
    source = f'def {name}({signature}):\n' + textwrap.indent(body, '    ')
    filename = f'<autograd {namespace["__name__"]}.{name}>'
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, 'exec'), namespace)
    fn = namespace[name]
    fn.__doc__ = doc
    return fn


def indent(template, levels):
    """``template`` indented by ``levels`` blocks, to nest it in another template."""
    return textwrap.indent(template, '    ' * levels)

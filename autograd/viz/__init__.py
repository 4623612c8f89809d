"""Pictures of the autograd graph: what the forward pass built, and how backward walks it.

``to_dot`` gives DOT text (no Graphviz needed); ``draw`` renders it with Graphviz's
``dot``; ``frames``/``draw_frames`` give the backward sweep one step at a time; ``trace``
records which submodule built which node, for pictures grouped (and collapsed) by module.
In Jupyter, what ``to_dot`` returns (a :class:`Source`) shows as the picture.
The command-line tool is ``autograd-graph`` (``autograd.viz.cli``).
"""
from .modules import trace
from .notebook import Source
from .render import DotNotFoundError, draw, draw_frames, render
from .views import frames, to_dot

__all__ = ['to_dot', 'draw', 'frames', 'draw_frames', 'trace', 'render', 'DotNotFoundError',
           'Source']

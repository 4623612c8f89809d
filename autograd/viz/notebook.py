"""DOT text that Jupyter shows as a picture.

``to_dot`` and ``frames`` return :class:`Source`: a ``str`` (the DOT text, usable as any
string) that IPython displays inline as SVG, as the result of torchviz's ``make_dot``
(a ``graphviz.Digraph``) does.  Rendering needs Graphviz (see ``render``); without it the
notebook shows the DOT text.
"""

__all__ = ['Source']


class Source(str):
    """DOT text with IPython's display hooks (``_repr_svg_``, ``_repr_mimebundle_``)."""
    __slots__ = ()

    @property
    def source(self):
        """The DOT text as a plain ``str`` (``graphviz.Source.source``)."""
        return str(self)

    def pipe(self, format='svg'):
        """The picture as bytes in ``format`` ('svg', 'png' or 'pdf'), made by ``dot``."""
        from .render import render
        return render(str(self), format)

    def _repr_svg_(self):
        return self.pipe('svg').decode('utf-8')

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .render import DotNotFoundError, MissingGraphviz
        lines = self.count('\n')
        bundle = {'text/plain': f'<autograd.viz graph: DOT text of {lines} lines>'}
        try:
            bundle['image/svg+xml'] = self._repr_svg_()
        except (DotNotFoundError, MissingGraphviz):
            bundle['text/plain'] = str(self)        # no Graphviz: show the text itself
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

"""Run the graph-drawing tool from a source checkout: ``python tools/drawgraph.py ...``
(the same as the installed ``autograd-graph`` command; see ``autograd.viz.cli``)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd.viz.cli import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())

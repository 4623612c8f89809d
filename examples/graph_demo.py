"""A tiny residual network whose graph the README pictures show.

Draw it with the command-line tool (``autograd-graph examples/graph_demo.py --view
backward -o graph.svg``) or run this file to write both views under ``runs/graph_demo/``
(``python examples/graph_demo.py [--out runs/graph_demo]``).  It follows
the tool's protocol: ``build_graph()`` returns ``(loss, modules)``, the loss of one
forward pass and the ``autograd.viz.trace`` of the model that recorded it (a plain
model works too; the trace adds the grouping by module).
"""
import argparse
import os

import autograd
import nn
import nn.functional as F


class Residual(nn.Module):
    """``x + tanh(W x + b)``: ``x`` is used twice, so backprop sums two gradients for it."""

    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.Tanh()

    def forward(self, x):
        return x + self.act(self.fc(x))


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.block = Residual(8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.block(self.inp(x)))


def build_graph():
    autograd.manual_seed(0)
    model = TinyNet().double()     # float64: the pictures' gradient norms are the same everywhere
    x = autograd.randn(2, 4, dtype=autograd.float64)
    target = autograd.tensor([0, 2])
    with autograd.viz.trace(model) as modules:
        loss = F.cross_entropy(model(x), target)
    return loss, modules


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=os.path.join('runs', 'graph_demo'))
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    loss, modules = build_graph()
    paths = [autograd.viz.draw(loss, modules=modules, view=view,
                               path=os.path.join(args.out, f'graph_{view}.svg'))
             for view in ('forward', 'backward')]
    print('wrote ' + ' and '.join(paths))
    return paths


if __name__ == '__main__':
    main()

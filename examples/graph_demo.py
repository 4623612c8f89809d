"""A tiny residual network whose graph the README pictures show.

Draw it with the command-line tool (``autograd-graph examples/graph_demo.py --view
backward -o graph.svg``) or run this file to write both views next to it.  It follows
the tool's protocol: ``build_graph()`` returns ``(loss, modules)``, the loss of one
forward pass and the ``autograd.viz.trace`` of the model that recorded it (a plain
model works too; the trace adds the grouping by module).
"""
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


if __name__ == '__main__':
    loss, modules = build_graph()
    autograd.viz.draw(loss, modules=modules, path='graph_forward.svg')
    autograd.viz.draw(loss, modules=modules, view='backward', path='graph_backward.svg')
    print('wrote graph_forward.svg and graph_backward.svg')

"""Backpropagation by hand versus by the engine.

The book's small computational graphs (Aggarwal, *Neural Networks and Deep Learning*,
sec. 3.2.1-3.2.2, and the exercises of sec. 3.10), each written once as a Python function of
its inputs and run twice:

* on a hand-built graph of :class:`Node` scalars, where every node records the local
  derivative of its value with respect to each of its inputs, and
* on ``autograd`` tensors, whose ``backward()`` does the same job for real models.

On the hand graph the derivative of the output ``o`` with respect to an input ``w`` is
computed two ways:

* path enumeration (the multivariable chain rule written out, eq. 3.17):
  ``do/dw = sum over all paths P from w to o of prod_{(i -> j) in P} dj/di``;
* backpropagation (dynamic programming, eq. 3.18): visit the nodes once in reverse
  topological order and accumulate ``S(i, o) = sum_j S(j, o) * dj/di`` over the
  successors ``j`` of ``i``.

Both must equal the gradient the engine's ``backward()`` leaves in ``w.grad``. The product
graph for ``w**32`` (five layers of multiplications, two nodes a layer) has 2**5 = 32 paths;
at depth ``d`` it has 2**d paths, while backpropagation touches each of its 2d edges once,
which is the point of the dynamic-programming view. The run prints a table of both costs and
draws each graph with ``autograd.viz``: the forward computation, and the backward sweep
with the gradient summed at each node (``<out>/<graph>_{forward,backward}.png``).

The book's two-path example (Figs. 3.1-3.3): o = cos(w^2) has one path, do/dw = -2w sin(w^2);
o = cos(w^2) + sin(w^2), with w^2 computed once and used twice, has two, and the products
along them, -sin(w^2) 2w and cos(w^2) 2w, add up to the derivative (printed path by path).

The chapter's exercises 2-4 (sec. 3.10) start the sweep from a given dL/do instead of 1:

* 2: o = x1 x2 with dL/do = 5 at x1 = 2, x2 = 3: dL/dx1 = 5 x2 = 15, dL/dx2 = 5 x1 = 10.
* 3: six hidden units x_i x_j (i < j) summed into o, dL/do = 2 at x = (1, 2, 3, 4): each x_i
  reaches o along three paths, dL/dx_i = 2 sum_{j != i} x_j = 18, 16, 14, 12.
* 4: o the maximum of the six instead: only the largest product x3 x4 = 12 passes a
  gradient (the max's local derivative is 1 there, 0 elsewhere), so dL/dx = (0, 0, 8, 6):
  x1 and x2 have three paths each, all of them through a zero.

Run: ``python examples/backprop_by_hand.py [--depth 16] [--out runs/backprop_by_hand]``
"""
import argparse
import math
import os
import random
import shutil
import time

import _data  # noqa: F401,I001  (first: fixes the BLAS threads, makes a checkout importable)
import autograd
from autograd import viz


class Node:
    """A scalar in a hand-built computational graph.

    ``inputs`` lists ``(input_node, local_derivative)`` pairs: ``d self / d input`` evaluated
    at the forward values, exactly the edge labels of the book's figures.
    """
    __slots__ = ('value', 'inputs')

    def __init__(self, value, inputs=()):
        self.value = float(value)
        self.inputs = tuple(inputs)

    def __add__(self, other):
        other = _node(other)
        return Node(self.value + other.value, [(self, 1.0), (other, 1.0)])

    __radd__ = __add__

    def __sub__(self, other):
        other = _node(other)
        return Node(self.value - other.value, [(self, 1.0), (other, -1.0)])

    def __mul__(self, other):
        other = _node(other)  # d(ab)/da = b, d(ab)/db = a
        return Node(self.value * other.value, [(self, other.value), (other, self.value)])

    __rmul__ = __mul__

    def __pow__(self, p):  # p is a constant: d(a^p)/da = p a^(p-1)
        return Node(self.value ** p, [(self, p * self.value ** (p - 1))])

    def __repr__(self):
        return f'Node({self.value:g})'


def _node(x):
    return x if isinstance(x, Node) else Node(x)


class hand:
    """The functions the graphs call, on :class:`Node` s (``autograd`` provides the same names)."""

    @staticmethod
    def sigmoid(a):
        s = 1.0 / (1.0 + math.exp(-a.value))
        return Node(s, [(a, s * (1.0 - s))])  # sigma' = sigma (1 - sigma)

    @staticmethod
    def sin(a):
        return Node(math.sin(a.value), [(a, math.cos(a.value))])

    @staticmethod
    def cos(a):
        return Node(math.cos(a.value), [(a, -math.sin(a.value))])

    @staticmethod
    def stack(nodes):
        """The nodes side by side (``autograd.stack`` makes a vector of them)."""
        return tuple(nodes)

    @staticmethod
    def sum(nodes):
        """One node adding its inputs: every local derivative is 1."""
        return Node(math.fsum(n.value for n in nodes), [(n, 1.0) for n in nodes])

    @staticmethod
    def amax(nodes):
        """One node taking the largest input: local derivative 1 for the largest, 0 for the
        others (shared evenly among ties, as ``amax``'s gradient is)."""
        top = max(n.value for n in nodes)
        ties = sum(n.value == top for n in nodes)
        return Node(top, [(n, 1.0 / ties if n.value == top else 0.0) for n in nodes])


# ---------------------------------------------------------------------------------------------
# The graphs: functions of (lib, inputs...) that run on Nodes (lib=hand) and tensors (autograd)

def sum_times(lib, x, y, z):
    """f = (x + y) z: the first graph of every backprop lecture."""
    return (x + y) * z


def product_graph(lib, w, depth=5):
    """w ** (2 ** depth) as a layered graph: two nodes a layer, each the product of both nodes
    of the layer before (the book's example of exponentially many paths: 2 ** depth of them)."""
    a = b = w
    for _ in range(depth - 1):
        a, b = a * b, a * b
    return a * b


def squaring_chain(lib, w, depth=5):
    """The same w ** (2 ** depth) as a chain w -> w^2 -> w^4 -> ...: a single path whose local
    derivatives 2 h multiply to 2**depth * w ** (2**depth - 1)."""
    h = w
    for _ in range(depth):
        h = h ** 2
    return h


def sigmoid_net(lib, x1, x2, w11, w12, w21, w22, v1, v2):
    """A 2-2-1 sigmoid network: each input reaches the output along two paths (one per hidden
    unit), and the output weights along one."""
    h1 = lib.sigmoid(w11 * x1 + w21 * x2)
    h2 = lib.sigmoid(w12 * x1 + w22 * x2)
    return lib.sigmoid(v1 * h1 + v2 * h2)


def shared_input(lib, x, y):
    """f = x y + sin(x): x is used twice, so its two paths' products add up."""
    return x * y + lib.sin(x)


def cos_square(lib, w):
    """Fig. 3.1: o = f(g(w)) = cos(w^2), the chain w -> y = w^2 -> cos(y): one path, whose
    local derivatives multiply to do/dw = -sin(w^2) * 2w (the univariate chain rule, eq. 3.2)."""
    return lib.cos(w ** 2)


def sin_cos_square(lib, w):
    """Figs. 3.2 and 3.3: o = K(p, q) = p + q with p = cos(y), q = sin(z) and y = z = w^2 one
    node: two paths from w to o, and do/dw = -2w sin(w^2) + 2w cos(w^2) (eqs. 3.3-3.5)."""
    y = w ** 2
    return lib.cos(y) + lib.sin(y)


GRAPHS = {  # name -> (function, the point the book evaluates it at)
    'sum_times': (sum_times, dict(x=-2.0, y=5.0, z=-4.0)),
    'product_graph': (product_graph, dict(w=1.1)),
    'squaring_chain': (squaring_chain, dict(w=1.1)),
    'sigmoid_net': (sigmoid_net, dict(x1=1.0, x2=-1.0, w11=0.5, w12=-0.3, w21=0.8, w22=0.2,
                                      v1=1.5, v2=-2.0)),
    'shared_input': (shared_input, dict(x=0.5, y=3.0)),
    # the book draws these without a number: w = 1 (at w^2 = pi/4 the two paths of Fig. 3.2
    # cancel exactly, -sin = -cos; the test checks that point too)
    'cos_square': (cos_square, dict(w=1.0)),
    'sin_cos_square': (sin_cos_square, dict(w=1.0)),
}


# ---------------------------------------------------------------------------------------------
# The chapter's exercises 2-4 (sec. 3.10): a loss L after the output o, with dL/do given

def product_neuron(lib, x1, x2):
    """Exercise 2: a two-input neuron o = x1 x2."""
    return x1 * x2


def _pairwise_products(x1, x2, x3, x4):
    xs = (x1, x2, x3, x4)
    return [xs[i] * xs[j] for i in range(4) for j in range(i + 1, 4)]


def pairwise_sum(lib, x1, x2, x3, x4):
    """Exercise 3: six hidden units x_i x_j (i < j), and o adds them."""
    return lib.sum(lib.stack(_pairwise_products(x1, x2, x3, x4)))


def pairwise_max(lib, x1, x2, x3, x4):
    """Exercise 4: the same hidden units, and o takes their maximum."""
    return lib.amax(lib.stack(_pairwise_products(x1, x2, x3, x4)))


EXERCISES = {  # name -> (function, the inputs the book gives, the dL/do it gives)
    'exercise 2': (product_neuron, dict(x1=2.0, x2=3.0), 5.0),
    'exercise 3': (pairwise_sum, dict(x1=1.0, x2=2.0, x3=3.0, x4=4.0), 2.0),
    'exercise 4': (pairwise_max, dict(x1=1.0, x2=2.0, x3=3.0, x4=4.0), 2.0),
}


# ---------------------------------------------------------------------------------------------
# Two ways to differentiate a hand graph

def enumerate_paths(output, leaf):
    """Yield every path from ``leaf`` to ``output`` as the list of its local derivatives."""
    stack = [(output, [])]  # walk backwards from the output; a path ends when it meets leaf
    while stack:
        node, suffix = stack.pop()
        if node is leaf:
            yield suffix
            continue
        for inp, local in node.inputs:
            stack.append((inp, [local] + suffix))


def grad_by_paths(output, leaf, upstream=1.0):
    """do/dleaf as the sum over all paths of the product of local derivatives (eq. 3.17),
    times ``upstream`` (dL/do, when a loss L follows o).

    Returns ``(gradient, number_of_paths)``."""
    total, count = 0.0, 0
    for path in enumerate_paths(output, leaf):
        total += math.prod(path)
        count += 1
    return upstream * total, count


def grad_by_backprop(output, upstream=1.0):
    """Every node's dL/dnode by one reverse sweep in topological order (eq. 3.18), started
    from S(o, o) = dL/do = ``upstream`` (1: the derivatives of o itself).

    Returns ``(grads, edges_visited)`` with ``grads`` a dict from node to derivative."""
    order, seen, stack = [], set(), [(output, False)]
    while stack:  # iterative depth-first search: a node is emitted after all its inputs
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((inp, False) for inp, _ in node.inputs)
    grads, edges = {output: upstream}, 0
    for node in reversed(order):
        for inp, local in node.inputs:
            grads[inp] = grads.get(inp, 0.0) + grads.get(node, 0.0) * local
            edges += 1
    return grads, edges


# ---------------------------------------------------------------------------------------------

def check_graph(name, fn, point, device, upstream=1.0):
    """Differentiate ``fn`` at ``point`` three ways, starting from dL/do = ``upstream``;
    return the rows of the comparison."""
    leaves = {k: Node(v) for k, v in point.items()}
    out = fn(hand, **leaves)
    dp_grads, _ = grad_by_backprop(out, upstream)
    tensors = {k: autograd.tensor(v, dtype=autograd.float64, device=device, requires_grad=True)
               for k, v in point.items()}
    y = fn(autograd, **tensors)
    # keep the saved values (retain_graph): the backward view redraws the sweep
    y.backward(autograd.tensor(upstream, dtype=autograd.float64, device=device),
               retain_graph=True)
    rows = []
    for k, leaf in leaves.items():
        by_paths, n_paths = grad_by_paths(out, leaf, upstream)
        rows.append(dict(graph=name, input=k, value=out.value, paths=n_paths, by_paths=by_paths,
                         by_backprop=dp_grads.get(leaf, 0.0), by_engine=tensors[k].grad.item()))
    return rows, y, tensors


def scaling_table(max_depth):
    """Paths versus edges for the product graph of depth 1..max_depth, with timings."""
    rows = []
    for depth in range(1, max_depth + 1):
        w = Node(1.0)
        out = product_graph(hand, w, depth)
        t0 = time.perf_counter()
        _, n_paths = grad_by_paths(out, w)
        t1 = time.perf_counter()
        _, edges = grad_by_backprop(out)
        t2 = time.perf_counter()
        rows.append(dict(depth=depth, paths=n_paths, edges=edges,
                         paths_s=t1 - t0, backprop_s=t2 - t1))
    return rows


def draw_graphs(graphs, out_dir):
    """Draw each engine graph twice: the forward computation, and the backward sweep with the
    gradient on every edge. DOT text always; PNG too when Graphviz's ``dot`` is installed."""
    written = []
    for name, (y, tensors) in graphs.items():
        for view in ('forward', 'backward'):
            stem = os.path.join(out_dir, f'{name}_{view}')
            with open(stem + '.dot', 'w') as f:
                f.write(viz.to_dot(y, params=tensors, view=view))
            written.append(stem + '.dot')
            if shutil.which('dot'):
                written.append(viz.draw(y, path=stem + '.png', params=tensors, view=view))
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default=str(autograd.get_default_device()))
    p.add_argument('--seed', type=int, default=0, help='seed of the extra random check points')
    p.add_argument('--depth', type=int, default=16, help='deepest product graph to time')
    p.add_argument('--out', default=os.path.join('runs', 'backprop_by_hand'))
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)

    rows, drawn = [], {}
    for name, (fn, point) in GRAPHS.items():
        graph_rows, y, tensors = check_graph(name, fn, point, args.device)
        rows += graph_rows
        drawn[name] = (y, tensors)
        # the same identities hold at any point, not just the book's
        random_point = {k: rng.uniform(-1.5, 1.5) for k in point}
        rows += check_graph(name, fn, random_point, args.device)[0]

    print(f'{"graph":15s} {"input":6s} {"paths":>5s} {"by paths":>14s} {"by backprop":>14s} '
          f'{"by engine":>14s}')
    worst = 0.0
    for r in rows:
        scale = max(1.0, abs(r['by_engine']))
        worst = max(worst, abs(r['by_paths'] - r['by_engine']) / scale,
                    abs(r['by_backprop'] - r['by_engine']) / scale)
        print(f'{r["graph"]:15s} {r["input"]:6s} {r["paths"]:5d} {r["by_paths"]:14.8g} '
              f'{r["by_backprop"]:14.8g} {r["by_engine"]:14.8g}')
    print(f'largest relative disagreement with backward(): {worst:.2e}')

    scaling = scaling_table(args.depth)
    print(f'\n{"depth":>5s} {"paths":>8s} {"edges":>6s} {"paths (s)":>10s} {"backprop (s)":>12s}')
    for r in scaling:
        print(f'{r["depth"]:5d} {r["paths"]:8d} {r["edges"]:6d} {r["paths_s"]:10.4f} '
              f'{r["backprop_s"]:12.6f}')

    w = GRAPHS['sin_cos_square'][1]['w']
    paths = book_paths(sin_cos_square, w=w)
    print(f'\nFig. 3.3, o = cos(w^2) + sin(w^2) at w = {w:g}: the products along its two paths')
    for factors, product in paths:
        print('  ' + ' * '.join(f'{f:.6g}' for f in factors) + f' = {product:.10g}')
    print(f'  sum {sum(p for _, p in paths):.10g}; the book\'s -2w sin(w^2) + 2w cos(w^2) = '
          f'{-2 * w * math.sin(w * w) + 2 * w * math.cos(w * w):.10g}')

    exercises = {}
    print(f'\n{"exercise":11s} {"input":6s} {"paths":>5s} {"dL/dx by paths":>15s} '
          f'{"by backprop":>12s} {"by engine":>10s}')
    for name, (fn, point, upstream) in EXERCISES.items():
        exercises[name] = check_graph(name, fn, point, args.device, upstream)[0]
        for r in exercises[name]:
            print(f'{name:11s} {r["input"]:6s} {r["paths"]:5d} {r["by_paths"]:15g} '
                  f'{r["by_backprop"]:12g} {r["by_engine"]:10g}')

    written = draw_graphs(drawn, args.out)
    if written:
        print('graphs written:', ', '.join(written))
    return dict(rows=rows, worst_relative_error=worst, scaling=scaling, drawn=written,
                fig_3_3_paths=paths, exercises=exercises)


def book_paths(fn, **point):
    """Each path from the (single) input to the output of ``fn``'s hand graph at ``point``:
    ``(local derivatives from the input onwards, their product)``, as Fig. 3.3 lists them."""
    leaves = {k: Node(v) for k, v in point.items()}
    out = fn(hand, **leaves)
    leaf, = leaves.values()
    return [(factors, math.prod(factors)) for factors in enumerate_paths(out, leaf)]


if __name__ == '__main__':
    main()

"""The model's graph as a TensorBoard ``GraphDef``, from the recorded autograd graph.

The forward runs once inside ``autograd.viz.trace`` (which submodule made each node);
``autograd.viz.graph.Graph`` walks the nodes.  Each op becomes a NodeDef named by its
module scope, ``Net/Sequential[body]/Linear[0]/Linear_3``, so TensorBoard folds the
graph by module; parameters are ``<scope>/<name>`` (op ``Parameter``); inputs and
outputs are ``input/...`` and ``output/...`` (op ``IO Node``), as PyTorch writes them.
"""
from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ...grad_mode import enable_grad
from ...node import AccumulateGrad
from ...op import Op
from ...tensor import Tensor
from ...viz.graph import Graph, op_name
from ...viz.modules import trace

__all__ = ['graph_def']


def _scope(path, types):
    if path is None:
        return ''
    parts = [types.get((), 'Model')]
    for i in range(len(path)):
        parts.append(f'{types.get(path[:i + 1], "Module")}[{path[i]}]')
    return '/'.join(parts)


def _shape_attr(meta):
    shapes = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(n)) for n in shape])
              for shape, _, _ in meta]
    return AttrValue(list=AttrValue.ListValue(shape=shapes))


def _flatten(x, acc):
    if isinstance(x, Tensor):
        acc.append(x)
    elif isinstance(x, (tuple, list)):
        for y in x:
            _flatten(y, acc)
    elif isinstance(x, dict):
        for y in x.values():
            _flatten(y, acc)
    return acc


def graph_def(model, inputs=None, verbose=False):
    """GraphDef of ``model(*inputs)`` (``inputs``: a tensor or a tuple of them)."""
    if inputs is None:
        inputs = ()
    elif isinstance(inputs, Tensor) or not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    traced = [x.detach().requires_grad_(True) if isinstance(x, Tensor)
              and x.is_floating_point() else x for x in inputs]
    with enable_grad(), trace(model) as modules:
        out = model(*traced)
    outputs = [t for t in _flatten(out, []) if t.requires_grad]
    if not outputs:
        raise ValueError('add_graph: the model returned no tensor that depends on its '
                         'inputs or parameters')
    g = Graph(outputs, modules=modules)
    inputs_by_id = {id(t): k for k, t in enumerate(traced) if isinstance(t, Tensor)}
    names = {}
    nodes = []
    for i, node in enumerate(g.nodes):
        scope = _scope(g.module.get(node), g.module_types)
        if node.__class__ is AccumulateGrad:
            leaf = node.variable
            pname = g.param_name(node)
            if pname is not None:
                name = (scope + '/' if scope else '') + pname.split('.')[-1]
                op = 'Parameter'
            elif leaf is not None and id(leaf) in inputs_by_id:
                name, op = f'input/input.{inputs_by_id[id(leaf)]}', 'IO Node'
            else:
                name, op = f'constant/tensor_{i}', 'Constant'
            inputs = []
        else:
            # the op class, as PyTorch's graph names the aten op (``linear``, not its
            # backward node's ``AddmmBackward0``)
            op = type(node).__name__ if isinstance(node, Op) else op_name(node)
            name = (scope + '/' if scope else '') + f'{op}_{i}'
            inputs = [names[e[0]] for e in node._next if e is not None and e[0] in names]
        names[node] = name
        attr = {'_output_shapes': _shape_attr(node._meta)}
        attr['attr'] = AttrValue(s=', '.join(
            f'{list(s)} {getattr(d, "name", d)}' for s, d, _ in node._meta).encode())
        nodes.append(NodeDef(name=name, op=op, input=inputs, attr=attr))
    for k, (node, nr) in enumerate(g.roots):
        nodes.append(NodeDef(name=f'output/output.{k}', op='IO Node', input=[names[node]],
                             attr={'_output_shapes': _shape_attr((node._meta[nr],))}))
    if verbose:
        for n in nodes:
            print(n.name, n.op, list(n.input))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))

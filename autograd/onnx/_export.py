"""``export``: run the model once on ``args`` with a :class:`~._trace.Recorder`, keep the
records the outputs depend on, and translate each with its converter (``symbolic``)."""
import enum
import os
import warnings

import numpy as np

from ..ops.shape import cat
from ..grad_mode import enable_grad
from ..tensor import Tensor
from ._graph import GraphBuilder
from ._trace import Recorder
from .errors import OnnxExporterError
from . import symbolic

__all__ = ['export', 'is_in_onnx_export', 'TrainingMode']

DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 17, 20
_exporting = [False]


def is_in_onnx_export():
    """True while :func:`export` runs the model (``torch.onnx.is_in_onnx_export``)."""
    return _exporting[0]


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=False, external_data=False,
           dynamic_shapes=None, export_params=True, keep_initializers_as_inputs=False,
           dynamic_axes=None, training=None, do_constant_folding=True, **unused):
    """Export ``model`` (a Module or callable) as ONNX, as ``torch.onnx.export`` does.

    ``model(*args, **kwargs)`` runs once; every op the outputs depend on becomes ONNX
    nodes, parameters and buffers become initializers named as in ``state_dict``
    (``export_params=False``: graph inputs instead; ``keep_initializers_as_inputs``:
    both).  ``args``: a tensor or a tuple of tensors (the graph inputs, in order; a dict
    last is keyword arguments).  ``f``: a path or a binary file object; None returns the
    ``onnx.ModelProto``.  ``input_names``/``output_names`` default to PyTorch's
    (``input``, ``input.1`` ...).  ``dynamic_axes``: ``{name: {axis: 'label'}}`` or
    ``{name: [axis, ...]}``: those axes of inputs and outputs are symbolic, and reshapes
    stay valid for any size along them (the model runs a second time with those axes one
    longer, to tell which sizes follow them).  ``opset_version``: 17 (default) to 20.
    ``training``: :class:`TrainingMode` ``EVAL`` (default: the model runs in eval mode,
    restored afterwards), ``PRESERVE`` or ``TRAINING``.  This is the classic exporter:
    ``dynamo`` and the TorchScript-only options are accepted and change nothing.

    An op without an ONNX translation raises
    :class:`~autograd.onnx.errors.UnsupportedOperatorError` naming it.  Values computed
    by ops that record nothing and are not wrapped during export (integer arithmetic,
    ``.item()``) are baked in as constants; with ``dynamic_axes`` a constant whose shape
    follows a dynamic axis is an error.
    """
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f'Unsupported ONNX opset version: {opset}; this exporter writes '
                         f'opsets {MIN_OPSET} to {MAX_OPSET}')
    if dynamic_shapes is not None:
        raise OnnxExporterError('dynamic_shapes belongs to the dynamo exporter; give '
                                'dynamic_axes instead')
    if isinstance(args, Tensor) or not isinstance(args, (tuple, list)):
        args = (args,)
    args = tuple(args)
    if args and isinstance(args[-1], dict) and kwargs is None:
        args, kwargs = args[:-1], args[-1]     # torch's (x, {'kw': v}) convention
    kwargs = dict(kwargs or {})
    inputs = [a for a in args if isinstance(a, Tensor)]
    input_names = list(input_names or [])
    input_names += [f'input.{i}' if i else 'input' for i in range(len(input_names),
                                                                        len(inputs))]
    input_names = input_names[:len(inputs)]
    dynamic = _dynamic_axes(dynamic_axes)

    modes = _set_mode(model, TrainingMode.EVAL if training is None else training)
    _exporting[0] = True
    try:
        first = _trace(model, args, kwargs)
        second = None
        dyn_in = [dynamic.get(n, {}) for n in input_names]
        if any(dyn_in):
            axes = iter(dyn_in)             # (the tensors of args, in order)
            grown = tuple(_grow(a, next(axes)) if isinstance(a, Tensor) else a for a in args)
            try:
                second = _trace(model, grown, kwargs)
            except Exception as e:          # (the model refuses the longer axes)
                warnings.warn(f'onnx.export: the model did not run with the dynamic axes '
                              f'grown ({e}); reshapes keep the traced sizes')
    finally:
        _exporting[0] = False
        for m, mode in modes:
            m.training = mode
    proto = _build(model, first, second, opset, input_names, output_names, dynamic,
                   export_params, keep_initializers_as_inputs)
    import onnx
    if f is None:
        return proto
    if isinstance(f, (str, os.PathLike)):
        onnx.save_model(proto, os.fspath(f))
    else:
        f.write(proto.SerializeToString())
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    return None


def _dynamic_axes(spec):
    out = {}
    for name, axes in (spec or {}).items():
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            out[name] = {int(k): f'{name}_dynamic_axes_{i + 1}' for i, k in enumerate(axes)}
    return out


class TrainingMode(enum.IntEnum):
    """The mode the model is exported in (``torch.onnx.TrainingMode``)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def _set_mode(model, training):
    """Put ``model``'s modules in the mode of ``training``; returns their modes before."""
    mode = TrainingMode(training)
    modes = []
    if hasattr(model, 'modules'):
        for m in model.modules():
            modes.append((m, m.training))
            if mode is not TrainingMode.PRESERVE:
                m.training = mode is TrainingMode.TRAINING
    return modes


def _grow(t, axes):
    """``t`` one longer along each of ``axes`` (its first slice repeated)."""
    for ax in sorted(axes):
        t = cat([t, t.narrow(ax, 0, 1)], ax)
    return t


class _Trace:
    """One recorded forward: its records, inputs (as traced), outputs (flattened)."""

    def __init__(self, records, inputs, outputs, structure):
        self.records, self.inputs, self.outputs, self.structure = records, inputs, outputs, \
            structure


def _trace(model, args, kwargs):
    from nn.modules.rnn import RNNBase
    whole = [m for m in model.modules() if isinstance(m, RNNBase)] \
        if hasattr(model, 'modules') else []
    traced = tuple(a.detach().requires_grad_(True) if isinstance(a, Tensor)
                   and a.is_floating_point() else a for a in args)
    with enable_grad(), Recorder(whole) as rec:
        out = model(*traced, **kwargs)
    outputs = []
    _flatten(out, outputs)
    return _Trace(rec.records, [a for a in traced if isinstance(a, Tensor)], outputs, out)


def _flatten(x, acc):
    if isinstance(x, Tensor):
        acc.append(x)
    elif isinstance(x, (tuple, list)):
        for y in x:
            _flatten(y, acc)
    elif isinstance(x, dict):
        for y in x.values():
            _flatten(y, acc)
    elif x is not None:
        raise OnnxExporterError(f'model output of type {type(x).__name__} is not a tensor')


def _build(model, tr, alt, opset, input_names, output_names, dynamic, export_params,
           keep_initializers_as_inputs):
    g = GraphBuilder(opset)
    ctx = symbolic.Context(g, tr, alt, model, export_params)
    for t, name in zip(tr.inputs, input_names):
        ctx.bind_input(t, name)
    if alt is not None and ctx.recs and ctx.recs[0].alt is None:
        warnings.warn('onnx.export: the model ran a different sequence of ops with the '
                      'dynamic axes grown; reshapes keep the traced sizes, so the graph may '
                      'only run on inputs of the traced shapes')
    for rec in ctx.needed():
        ctx.emit(rec)
    output_names = list(output_names or [])
    output_names += [f'output.{i}' if i else 'output'
                     for i in range(len(output_names), len(tr.outputs))]
    helper = g.helper
    outs = []
    for k, (t, name) in enumerate(zip(tr.outputs, output_names)):
        if not ctx.traced(t):
            raise OnnxExporterError(
                f'output {k} ({name!r}) was computed by an op that records no graph (an '
                'integer or boolean result: argmax, a comparison ...), so the exporter '
                'cannot follow it; return the floating-point values it was computed from')
        g.op('Identity', [ctx.value(t)], name)
        outs.append(_value_info(helper, name, t, dynamic.get(name, {})))
    ins = [_value_info(helper, n, t, dynamic.get(n, {})) for t, n in zip(tr.inputs, input_names)]
    if not export_params or keep_initializers_as_inputs:
        # the parameters as graph inputs after the model's (without values: export_params
        # False; with their values as defaults: keep_initializers_as_inputs)
        ins += [helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(array.dtype), list(array.shape))
            for name, array in ctx.used_params.items()]
    graph = helper.make_graph(g.nodes, 'main_graph', ins, outs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)],
                              producer_name='autograd')
    proto.ir_version = min(proto.ir_version, 10)      # what current ONNX Runtimes read
    if not export_params:
        proto.ir_version = max(proto.ir_version, 4)
    return proto


def _value_info(helper, name, t, axes):
    from onnx import helper as h
    elem = h.np_dtype_to_tensor_dtype(np.dtype(t.dtype.name if t.dtype.name != 'bool'
                                               else 'bool'))
    shape = [axes.get(i, n) for i, n in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, elem, shape)

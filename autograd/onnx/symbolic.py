"""ONNX translations of the recorded ops and of whole recurrent modules.

``Context`` names the values of the traced program: a graph input, a parameter or
buffer (an initializer named as in ``state_dict``), a constant (anything else made
outside the graph, numbers included), or an output of an earlier record.  ``OPS`` maps
an op class's name to its converter ``fn(ctx, rec)``, ``FUNCS`` a recorded Tensor
method's name to one, ``MODULES`` a recurrent module's class name to one; ``rec`` is one
record of the trace (``Rec``: the node, method name or module; its inputs as received;
its keyword parameters; the same record from the second trace, when one was taken for
dynamic axes; ``outs``, the ONNX names the converter must write).  A converter emits
nodes with ``ctx.op`` and names its inputs with ``ctx.value``.
"""
import math

import numpy as np

from ..op import Op
from ..tensor import Tensor
from ._graph import host
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ['Context', 'OPS', 'FUNCS', 'MODULES', 'register']

OPS = {}


def register(*names):
    """Decorator: the converter of the op classes ``names``."""
    def deco(fn):
        for n in names:
            OPS[n] = fn
        return fn
    return deco


class Rec:
    __slots__ = ('kind', 'node', 'inputs', 'params', 'alt', 'module', 'output', 'outs')

    def __init__(self, raw, alt=None):
        self.kind = raw[0]
        self.alt = alt
        if self.kind == 'op':
            _, self.node, self.inputs, self.params = raw
            self.module = self.output = None
        elif self.kind == 'fn':
            _, self.module, self.inputs, self.params, self.output = raw
            self.node = None
        else:
            _, self.module, self.inputs, self.output = raw
            self.node, self.params = None, {}
        self.outs = None

    @property
    def name(self):
        if self.kind == 'fn':
            return self.module                  # the method's name
        return type(self.node).__name__ if self.node is not None else type(self.module).__name__

    def out_meta(self, nr=0):
        shape, dtype, _ = self.node._meta[nr]
        return tuple(shape), np.dtype(dtype)


class Context:
    def __init__(self, g, trace, alt, model, export_params):
        self.g = g
        self.opset = g.opset
        self.trace = trace
        self.names = {}             # key -> value name; keys: see _key
        self.hold = []              # keeps keyed tensors alive (ids stay valid)
        self.params = {}
        if hasattr(model, 'named_parameters'):
            for n, p in model.named_parameters():
                self.params.setdefault(id(p), n)
            for n, b in model.named_buffers():
                self.params.setdefault(id(b), n)
            self.hold.append(model)
        self.export_params = export_params
        self.used_params = {}       # name -> array of the parameters and buffers used
        alts = alt.records if alt is not None and len(alt.records) == len(trace.records) \
            and all(a[0] == b[0] and (a[1] == b[1] if a[0] == 'fn' else
                                      type(a[1]) is type(b[1]))
                    for a, b in zip(alt.records, trace.records)) else None
        self.recs = [Rec(r, Rec(a) if alts else None)
                     for r, a in zip(trace.records, alts or trace.records)]
        self.producer = {}          # key -> (record, output index)
        for rec in self.recs:
            if rec.kind == 'op':
                for nr in range(len(rec.node._meta)):
                    self.producer[(id(rec.node), nr)] = (rec, nr)
            else:
                outs = []
                _flat(rec.output, outs)
                for nr, t in enumerate(outs):
                    self.producer[('t', id(t))] = (rec, nr)
                    self.hold.append(t)
        # An op may receive a tensor's bare array as a parameter (a mask, indices): the
        # arrays of graph inputs and of method results, by identity.
        self.arrays = {id(t._data): ('t', id(t)) for rec in self.recs
                       if rec.kind == 'fn' for t in _flat(rec.output, [])}

    # -- naming values ---------------------------------------------------------------
    def bind_input(self, t, name):
        self.names[('t', id(t))] = name
        self.arrays[id(t._data)] = ('t', id(t))
        self.hold.append(t)

    def _key(self, t):
        """The key of the record output or graph input that tensor ``t`` is, or None."""
        k = ('t', id(t))
        if k in self.names or k in self.producer:
            return k
        if t.grad_fn is not None:
            k = (id(t.grad_fn), t._output_nr)
            if k in self.producer:
                return k
        return None

    def traced(self, t):
        """Whether ``t`` (a tensor, or an array given as a parameter) is a graph input, a
        parameter, or made by a record."""
        if not isinstance(t, Tensor):
            return id(t) in self.arrays
        return self._key(t) is not None or id(t) in self.params

    def value(self, x, dtype=None):
        """The ONNX name of ``x`` (a tensor, an array or a number); ``dtype`` (a NumPy
        dtype) casts it (numbers and constants are made in it)."""
        if isinstance(x, Tensor):
            k = self._key(x)
            if k is not None:
                name = self.names[k]
                src = np.dtype(x._data.dtype)
                if dtype is not None and np.dtype(dtype) != src:
                    return self.g.op('Cast', [name], to=_onnx_type(dtype))
                return name
            pname = self.params.get(id(x))
            data = host(x._data)
            if pname is not None:
                if pname not in self.used_params:
                    self.used_params[pname] = data
                    if self.export_params:
                        self.g.initializer(data, pname)
                return pname if dtype in (None, data.dtype) else \
                    self.g.op('Cast', [pname], to=_onnx_type(dtype))
            return self.g.const(data, dtype)
        if hasattr(x, 'dtype') and hasattr(x, 'shape') and id(x) in self.arrays:
            name = self.names[self.arrays[id(x)]]
            if dtype is not None and np.dtype(dtype) != np.dtype(x.dtype):
                return self.g.op('Cast', [name], to=_onnx_type(dtype))
            return name
        if x is None:
            return ''
        return self.g.const(np.asarray(host(x) if hasattr(x, 'shape') else x), dtype)

    # -- what to emit ----------------------------------------------------------------
    def needed(self):
        """The records the outputs depend on, in creation order (a topological order)."""
        want = set()
        stack = [self._key(t) for t in self.trace.outputs]
        while stack:
            k = stack.pop()
            if k is None or k not in self.producer:
                continue
            rec = self.producer[k][0]
            if id(rec) in want:
                continue
            want.add(id(rec))
            for x in _tensors(rec.inputs) + _tensors(list(rec.params.values())):
                stack.append(self._key(x))
            for v in rec.params.values():
                if id(v) in self.arrays:
                    stack.append(self.arrays[id(v)])
        return [r for r in self.recs if id(r) in want]

    def emit(self, rec):
        if rec.kind == 'module':
            fn = MODULES.get(rec.name)
            n = len(_flat(rec.output, []))
        elif rec.kind == 'fn':
            fn = FUNCS.get(rec.name)
            n = 1
        else:
            fn = OPS.get(rec.name)
            n = len(rec.node._meta)
        if fn is None:
            raise UnsupportedOperatorError(_op_name(rec), self.opset)
        self._check_constants(rec)
        base = rec.name
        rec.outs = [self.g.fresh(f'/{base}_output') for _ in range(n)]
        fn(self, rec)
        if rec.kind == 'op':
            for nr, name in enumerate(rec.outs):
                self.names[(id(rec.node), nr)] = name
        else:
            for t, name in zip(_flat(rec.output, []), rec.outs):
                self.names[('t', id(t))] = name

    def _check_constants(self, rec):
        """A tensor made during forward (not an input, parameter or record output) is
        exported as a constant; one whose shape follows the dynamic axes cannot be."""
        if rec.alt is None:
            return
        pairs = list(zip(rec.inputs, rec.alt.inputs)) + [
            (v, rec.alt.params.get(k)) for k, v in rec.params.items()]
        for j, (x, y) in enumerate(pairs):
            if hasattr(x, 'shape') and hasattr(y, 'shape') and not self.traced(x) \
                    and tuple(x.shape) != tuple(y.shape):
                raise OnnxExporterError(
                    f'{_op_name(rec)}: input {j} is a tensor made during forward from the '
                    f'input sizes (shape {list(x.shape)} with the traced inputs, '
                    f'{list(y.shape)} with the dynamic axes grown), which can only be '
                    'exported as a constant; compute it from the inputs with ops instead')

    # -- helpers for converters ------------------------------------------------------
    def op(self, op_type, inputs, out=None, n_out=1, **attrs):
        return self.g.op(op_type, inputs, out, n_out, **attrs)

    def ints(self, values):
        return self.g.ints(values)

    def scalar(self, v, dtype):
        return self.g.const(np.asarray(v, dtype=dtype))


def _flat(x, acc):
    if isinstance(x, Tensor):
        acc.append(x)
    elif isinstance(x, (tuple, list)):
        for y in x:
            _flat(y, acc)
    return acc


def _tensors(xs):
    return [x for x in xs if isinstance(x, Tensor)]


def _op_name(rec):
    if rec.kind == 'fn':
        return rec.name
    if rec.node is not None:
        if isinstance(rec.node, Op):    # the op class (PyTorch's node name may be shared)
            return type(rec.node).__name__
        name = rec.node.name()
        return name[:-len('Backward0')] if name.endswith('Backward0') else name
    return type(rec.module).__name__


def _onnx_type(dtype):
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def unsupported(rec, ctx, why=''):
    err = UnsupportedOperatorError(_op_name(rec), ctx.opset)
    if why:
        err.args = (err.args[0] + f' ({why})',)
    return err


# ============================================================================== elementwise

_UNARY = {'Relu': 'Relu', 'Tanh': 'Tanh', 'Sigmoid': 'Sigmoid', 'Exp': 'Exp', 'Log': 'Log',
          'Sqrt': 'Sqrt', 'Neg': 'Neg', 'Abs': 'Abs', 'Erf': 'Erf', 'Reciprocal': 'Reciprocal',
          'Sin': 'Sin', 'Cos': 'Cos', 'Sign': 'Sign', 'Clone': 'Identity'}


@register(*_UNARY)
def _unary(ctx, rec):
    ctx.op(_UNARY[rec.name], [ctx.value(rec.inputs[0])], rec.outs[0])


def _binary_inputs(ctx, rec, k=2):
    dt = rec.out_meta()[1]
    return [ctx.value(x, dt) for x in rec.inputs[:k]]


@register('Add', 'Sub')
def _add(ctx, rec):
    a, b = _binary_inputs(ctx, rec)
    alpha = getattr(rec.node, 'alpha', 1)
    if alpha != 1:
        b = ctx.op('Mul', [b, ctx.scalar(alpha, rec.out_meta()[1])])
    ctx.op(rec.name, [a, b], rec.outs[0])


@register('Mul', 'Div', 'Pow', 'Maximum', 'Minimum')
def _binop(ctx, rec):
    op = {'Maximum': 'Max', 'Minimum': 'Min'}.get(rec.name, rec.name)
    ctx.op(op, _binary_inputs(ctx, rec), rec.outs[0])


@register('Rsqrt')
def _rsqrt(ctx, rec):
    ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.value(rec.inputs[0])])], rec.outs[0])


@register('Square')
def _square(ctx, rec):
    x = ctx.value(rec.inputs[0])
    ctx.op('Mul', [x, x], rec.outs[0])


@register('Log1p', 'Expm1')
def _log1p(ctx, rec):
    x = ctx.value(rec.inputs[0])
    one = ctx.scalar(1, rec.out_meta()[1])
    if rec.name == 'Log1p':
        ctx.op('Log', [ctx.op('Add', [x, one])], rec.outs[0])
    else:
        ctx.op('Sub', [ctx.op('Exp', [x]), one], rec.outs[0])


@register('Where')
def _where(ctx, rec):
    dt = rec.out_meta()[1]
    cond, a, b = rec.inputs[:3]
    ctx.op('Where', [ctx.value(cond), ctx.value(a, dt), ctx.value(b, dt)], rec.outs[0])


@register('Clamp', 'Hardtanh')
def _clamp(ctx, rec):
    dt = rec.out_meta()[1]
    lo, hi = rec.node.lo, rec.node.hi
    ctx.op('Clip', [ctx.value(rec.inputs[0]),
                    '' if lo is None else ctx.scalar(lo, dt),
                    '' if hi is None else ctx.scalar(hi, dt)], rec.outs[0])


@register('ToCopy')
def _to_copy(ctx, rec):
    dt = rec.out_meta()[1]
    ctx.op('Cast', [ctx.value(rec.inputs[0])], rec.outs[0], to=_onnx_type(dt))


# ============================================================================== activations

@register('LeakyRelu')
def _leaky(ctx, rec):
    ctx.op('LeakyRelu', [ctx.value(rec.inputs[0])], rec.outs[0], alpha=float(rec.node.slope))


@register('Elu')
def _elu(ctx, rec):
    n = rec.node
    x = ctx.value(rec.inputs[0])
    dt = rec.out_meta()[1]
    if n.input_scale != 1:
        x = ctx.op('Mul', [x, ctx.scalar(n.input_scale, dt)])
    if n.scale != 1:
        y = ctx.op('Elu', [x], alpha=float(n.alpha))
        ctx.op('Mul', [y, ctx.scalar(n.scale, dt)], rec.outs[0])
    else:
        ctx.op('Elu', [x], rec.outs[0], alpha=float(n.alpha))


@register('Gelu')
def _gelu(ctx, rec):
    x = ctx.value(rec.inputs[0])
    dt = rec.out_meta()[1]
    c = lambda v: ctx.scalar(v, dt)     # noqa: E731
    if rec.node.approximate == 'tanh':   # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = ctx.op('Mul', [ctx.op('Mul', [x, x]), x])
        inner = ctx.op('Mul', [ctx.op('Add', [x, ctx.op('Mul', [x3, c(0.044715)])]),
                               c(math.sqrt(2 / math.pi))])
        t = ctx.op('Add', [ctx.op('Tanh', [inner]), c(1.0)])
    else:                                # 0.5 x (1 + erf(x / sqrt 2))
        t = ctx.op('Add', [ctx.op('Erf', [ctx.op('Div', [x, c(math.sqrt(2.0))])]), c(1.0)])
    ctx.op('Mul', [ctx.op('Mul', [x, t]), c(0.5)], rec.outs[0])


@register('Silu')
def _silu(ctx, rec):
    x = ctx.value(rec.inputs[0])
    ctx.op('Mul', [x, ctx.op('Sigmoid', [x])], rec.outs[0])


@register('Softplus')
def _softplus(ctx, rec):
    n = rec.node
    x = ctx.value(rec.inputs[0])
    dt = rec.out_meta()[1]
    bx = ctx.op('Mul', [x, ctx.scalar(n.beta, dt)]) if n.beta != 1 else x
    sp = ctx.op('Softplus', [bx])
    if n.beta != 1:
        sp = ctx.op('Div', [sp, ctx.scalar(n.beta, dt)])
    # PyTorch reverts to the identity where beta x > threshold
    cond = ctx.op('Greater', [bx, ctx.scalar(n.threshold, dt)])
    ctx.op('Where', [cond, x, sp], rec.outs[0])


@register('Softmax', 'LogSoftmax')
def _softmax(ctx, rec):
    ctx.op(rec.name, [ctx.value(rec.inputs[0])], rec.outs[0], axis=int(rec.node.axis))


# ============================================================================== linear algebra

@register('Linear')
def _linear(ctx, rec):
    x, w = rec.inputs[0], rec.inputs[1]
    b = rec.inputs[2] if len(rec.inputs) > 2 else None
    wt = ctx.op('Transpose', [ctx.value(w)], perm=[1, 0])
    if b is None:
        ctx.op('MatMul', [ctx.value(x), wt], rec.outs[0])
    else:
        ctx.op('Add', [ctx.op('MatMul', [ctx.value(x), wt]), ctx.value(b)], rec.outs[0])


@register('MatMul')
def _matmul(ctx, rec):
    ctx.op('MatMul', _binary_inputs(ctx, rec), rec.outs[0])


@register('Permute')
def _permute(ctx, rec):
    ctx.op('Transpose', [ctx.value(rec.inputs[0])], rec.outs[0],
           perm=[int(d) for d in rec.node.dims])


@register('SwapLast')
def _swap_last(ctx, rec):
    nd = len(rec.inputs[0].shape)
    perm = list(range(nd))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    ctx.op('Transpose', [ctx.value(rec.inputs[0])], rec.outs[0], perm=perm)


# ============================================================================== shapes

def _target_shape(ctx, rec, in_shape, shape, alt):
    """The ``shape`` input of an ONNX Reshape from traced sizes: sizes that change with the
    dynamic axes (``alt``: the second trace's input and output shapes) become 0 (copied
    from the input's same dim) or -1 (inferred)."""
    shape = list(shape)
    if alt is None:
        return shape
    in2, shape2 = alt
    moving = [i for i, (a, b) in enumerate(zip(shape, shape2)) if a != b]
    left = []
    for i in moving:
        if i < len(in_shape) and in_shape[i] == shape[i] and in2[i] == shape2[i]:
            shape[i] = 0
        else:
            left.append(i)
    if len(left) > 1:
        raise unsupported(rec, ctx, f'a reshape to {shape} with several sizes that follow the '
                                    'dynamic axes')
    for i in left:
        shape[i] = -1
    return shape


def _alt_shapes(rec):
    a = rec.alt
    if a is None or a.kind != 'op':
        return None
    return tuple(a.inputs[0].shape), tuple(a.node._meta[0][0])


@register('Reshape', 'Squeeze', 'Unsqueeze', 'Unflatten')
def _reshape(ctx, rec):
    x = rec.inputs[0]
    shape = _target_shape(ctx, rec, tuple(x.shape), rec.out_meta()[0], _alt_shapes(rec))
    ctx.op('Reshape', [ctx.value(x), ctx.ints(shape)], rec.outs[0])


@register('BroadcastTo')
def _expand(ctx, rec):
    x = rec.inputs[0]
    shape = list(rec.out_meta()[0])
    alt = _alt_shapes(rec)
    if alt is not None:          # a size that follows a dynamic axis comes from the input
        shape = [1 if a != b else a for a, b in zip(shape, alt[1])]
    ctx.op('Expand', [ctx.value(x), ctx.ints(shape)], rec.outs[0])


@register('Cat')
def _cat(ctx, rec):
    dt = rec.out_meta()[1]
    nd = len(rec.out_meta()[0])
    xs = [x for x in rec.inputs if isinstance(x, Tensor) and tuple(x.shape) != (0,)]
    ctx.op('Concat', [ctx.value(x, dt) for x in xs], rec.outs[0],
           axis=int(rec.node.dim) % nd)


@register('Stack')
def _stack(ctx, rec):
    dt = rec.out_meta()[1]
    nd = len(rec.out_meta()[0])
    d = int(rec.node.dim) % nd
    axes = ctx.ints([d])
    xs = [ctx.op('Unsqueeze', [ctx.value(x, dt), axes]) for x in rec.inputs]
    ctx.op('Concat', xs, rec.outs[0], axis=d)


@register('Split', 'Unbind')
def _split(ctx, rec):
    nd = len(rec.inputs[0].shape)
    d = int(rec.node.dim) % nd
    if rec.name == 'Unbind':
        parts = ctx.op('Split', [ctx.value(rec.inputs[0]), ctx.ints([1] * len(rec.outs))],
                       n_out=len(rec.outs), axis=d)
        parts = [parts] if isinstance(parts, str) else parts
        for p, o in zip(parts, rec.outs):
            ctx.op('Squeeze', [p, ctx.ints([d])], o)
        return
    sizes = [m[0][d] for m in rec.node._meta]
    ctx.op('Split', [ctx.value(rec.inputs[0]), ctx.ints(sizes)], rec.outs, axis=d)


@register('Narrow')
def _narrow(ctx, rec):
    n = rec.node
    d = int(n.dim) % len(n.in_shape)
    length = rec.out_meta()[0][d]
    ctx.op('Slice', [ctx.value(rec.inputs[0]), ctx.ints([n.start]),
                     ctx.ints([n.start + length]), ctx.ints([d])], rec.outs[0])


@register('Slice')
def _slice(ctx, rec):
    if rec.params.get('adv') is not None or len(rec.inputs) > 1 and rec.inputs[1] is not None:
        raise unsupported(rec, ctx, 'advanced (tensor) indexing')
    basic = rec.node.basic
    if not isinstance(basic, tuple):
        basic = (basic,)
    in_shape = rec.node.in_shape
    n_real = sum(1 for b in basic if b is not None and b is not Ellipsis)
    full = []
    for b in basic:
        if b is Ellipsis:
            full += [slice(None)] * (len(in_shape) - n_real)
        else:
            full.append(b)
    full += [slice(None)] * (len(in_shape) - sum(1 for b in full if b is not None))
    starts, ends, axes, steps, squeeze, unsq = [], [], [], [], [], []
    ax = out_pos = 0
    big = np.iinfo(np.int64).max
    for b in full:
        if b is None:
            unsq.append(out_pos)
            out_pos += 1
            continue
        if isinstance(b, slice):
            if b != slice(None):
                step = 1 if b.step is None else int(b.step)
                starts.append(int(b.start) if b.start is not None else (0 if step > 0 else -1))
                ends.append(int(b.stop) if b.stop is not None else (big if step > 0 else -big))
                axes.append(ax)
                steps.append(step)
            out_pos += 1
        else:
            i = int(b)
            starts.append(i)
            ends.append(i + 1 if i != -1 else big)
            axes.append(ax)
            steps.append(1)
            squeeze.append(ax)
        ax += 1
    y = ctx.value(rec.inputs[0])
    if axes:
        y = ctx.op('Slice', [y, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes),
                             ctx.ints(steps)])
    if squeeze:
        y = ctx.op('Squeeze', [y, ctx.ints(squeeze)])
    if unsq:
        y = ctx.op('Unsqueeze', [y, ctx.ints(unsq)])
    ctx.op('Identity', [y], rec.outs[0])


@register('MaskedFill')
def _masked_fill(ctx, rec):
    dt = rec.out_meta()[1]
    a, value = rec.inputs[0], rec.inputs[1]
    mask = rec.params.get('mask', rec.inputs[2] if len(rec.inputs) > 2 else None)
    ctx.op('Where', [ctx.value(mask, np.bool_), ctx.value(value, dt), ctx.value(a)],
           rec.outs[0])


@register('Embedding')
def _embedding(ctx, rec):
    idx = rec.params['indices']
    ctx.op('Gather', [ctx.value(rec.inputs[0]), ctx.value(idx, np.int64)], rec.outs[0], axis=0)


# ============================================================================== reductions

def _axes(rec):
    nd = len(rec.inputs[0].shape)
    dim = rec.params.get('dim')
    if dim is None:
        return list(range(nd))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return sorted(int(d) % nd for d in dims)


@register('Sum', 'Mean', 'Amax', 'Amin')
def _reduce(ctx, rec):
    op = {'Sum': 'ReduceSum', 'Mean': 'ReduceMean', 'Amax': 'ReduceMax',
          'Amin': 'ReduceMin'}[rec.name]
    keep = int(bool(rec.params.get('keepdim', False)))
    x = ctx.value(rec.inputs[0])
    axes = _axes(rec)
    if op == 'ReduceSum' or ctx.opset >= 18:
        ctx.op(op, [x, ctx.ints(axes)], rec.outs[0], keepdims=keep)
    else:
        ctx.op(op, [x], rec.outs[0], axes=axes, keepdims=keep)


# ============================================================================== layers

@register('Conv')
def _conv(ctx, rec):
    n = rec.node
    x, w = rec.inputs[0], rec.inputs[1]
    b = rec.inputs[2] if len(rec.inputs) > 2 else None
    pads = [int(p[0]) for p in n.pads] + [int(p[1]) for p in n.pads]
    ins = [ctx.value(x), ctx.value(w)] + ([ctx.value(b)] if b is not None else [])
    ctx.op('Conv', ins, rec.outs[0], kernel_shape=list(w.shape[2:]),
           strides=[int(s) for s in n.stride], pads=pads,
           dilations=[int(d) for d in n.dilation], group=int(n.groups))


def _geo_attrs(geo):
    kernel, stride, pads, dilation = geo
    return dict(kernel_shape=[int(k) for k in kernel], strides=[int(s) for s in stride],
                pads=[int(p[0]) for p in pads] + [int(p[1]) for p in pads]), dilation


def _batched(ctx, rec, d):
    if len(rec.inputs[0].shape) != d + 2:
        raise unsupported(rec, ctx, f'an input of {len(rec.inputs[0].shape)} dims; ONNX pools '
                                    f'(N, C, *spatial) inputs')


@register('MaxPool')
def _max_pool(ctx, rec):
    attrs, dilation = _geo_attrs(rec.node.geo)
    _batched(ctx, rec, len(attrs['kernel_shape']))
    ctx.op('MaxPool', [ctx.value(rec.inputs[0])], rec.outs[0],
           dilations=[int(v) for v in dilation], **attrs)


@register('SumPool')
def _sum_pool(ctx, rec):
    # AveragePool with its pads explicit divides every window by the kernel size; the
    # node's ``scale`` (1 / PyTorch's divisor, per window) then gives PyTorch's average.
    attrs, _ = _geo_attrs(rec.node.geo)
    _batched(ctx, rec, len(attrs['kernel_shape']))
    y = ctx.op('AveragePool', [ctx.value(rec.inputs[0])], count_include_pad=1, **attrs)
    dt = rec.out_meta()[1]
    factor = np.asarray(host(rec.node.scale), dtype=dt) * math.prod(attrs['kernel_shape'])
    if np.allclose(factor, 1, rtol=0, atol=1e-12 if dt == np.float64 else 1e-6):
        ctx.op('Identity', [y], rec.outs[0])
    else:
        ctx.op('Mul', [y, ctx.g.const(factor, dt)], rec.outs[0])


@register('AxisLinear')
def _axis_linear(ctx, rec):
    mats = [np.asarray(host(m)) for m in rec.node.mats]
    y = ctx.value(rec.inputs[0])
    if len(mats) > 2:
        raise unsupported(rec, ctx, 'more than two pooled dims')
    y = ctx.op('MatMul', [y, ctx.g.const(mats[-1].T)])
    if len(mats) == 2:
        y = ctx.op('MatMul', [ctx.g.const(mats[0]), y])
    ctx.op('Identity', [y], rec.outs[0])


@register('Norm')
def _norm(ctx, rec):
    n = rec.node
    x, w, b = rec.inputs[:3]
    shape, dt = rec.out_meta()
    nd = len(shape)
    axes = tuple(int(a) % nd for a in n.axes)
    if n.stats is not None:                 # batch norm with running statistics
        if axes != (0,) + tuple(range(2, nd)):
            raise unsupported(rec, ctx, f'normalization over dims {axes}')
        c = shape[1]
        mean, var = (np.asarray(host(s), dtype=dt).reshape(c) for s in n.stats)
        scale = ctx.value(w) if isinstance(w, Tensor) else ctx.g.const(np.ones(c, dt))
        bias = ctx.value(b) if isinstance(b, Tensor) else ctx.g.const(np.zeros(c, dt))
        ctx.op('BatchNormalization', [ctx.value(x), scale, bias, ctx.g.const(mean),
                                      ctx.g.const(var)], rec.outs[0], epsilon=float(n.eps))
        return
    if axes != tuple(range(axes[0], nd)):
        raise unsupported(rec, ctx, f'normalization with batch statistics over dims {axes} '
                                    '(export in eval mode; group norm is not translated)')
    norm_shape = shape[axes[0]:]
    scale = ctx.value(w) if isinstance(w, Tensor) else ctx.g.const(np.ones(norm_shape, dt))
    if isinstance(w, Tensor) and tuple(w.shape) != norm_shape:
        scale = ctx.op('Reshape', [scale, ctx.ints(norm_shape)])
    bias = ctx.value(b) if isinstance(b, Tensor) else ctx.g.const(np.zeros(norm_shape, dt))
    if isinstance(b, Tensor) and tuple(b.shape) != norm_shape:
        bias = ctx.op('Reshape', [bias, ctx.ints(norm_shape)])
    ctx.op('LayerNormalization', [ctx.value(x), scale, bias], rec.outs[0], axis=axes[0],
           epsilon=float(n.eps))


# ============================================================================== recurrent modules

MODULES = {}

# PyTorch's gate blocks -> ONNX's: LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h)
_GATES = {'LSTM': [0, 3, 1, 2], 'GRU': [1, 0, 2], 'RNN_TANH': [0], 'RNN_RELU': [0]}


def _rnn_module(ctx, rec):
    m = rec.module
    mode = m.mode
    if getattr(m, 'proj_size', 0):
        raise UnsupportedOperatorError(f'{type(m).__name__}(proj_size>0)', ctx.opset)
    x = rec.inputs[0]
    if not isinstance(x, Tensor):
        raise UnsupportedOperatorError(f'{type(m).__name__} on a {type(x).__name__}',
                                       ctx.opset)
    hx = rec.inputs[1] if len(rec.inputs) > 1 else None
    if mode == 'LSTM' and hx is not None:
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    H, nd = m.hidden_size, 2 if m.bidirectional else 1
    G = len(_GATES[mode])
    unbatched = x.ndim == 2
    dt = np.dtype(x._data.dtype)
    y = ctx.value(x)
    if unbatched:
        y = ctx.op('Unsqueeze', [y, ctx.ints([1])])
    elif m.batch_first:
        y = ctx.op('Transpose', [y], perm=[1, 0, 2])

    def state(s, layer):
        if s is None:
            return ''
        v = ctx.value(s)
        if unbatched:
            v = ctx.op('Unsqueeze', [v, ctx.ints([1])])
        return ctx.op('Slice', [v, ctx.ints([layer * nd]), ctx.ints([(layer + 1) * nd]),
                                ctx.ints([0])])

    def block(w):
        w = np.asarray(host(w._data), dtype=dt)
        return np.concatenate([w[k * H:(k + 1) * H] for k in _GATES[mode]], axis=0)

    op_type = {'LSTM': 'LSTM', 'GRU': 'GRU'}.get(mode, 'RNN')
    hs, cs = [], []
    for layer in range(m.num_layers):
        Ws, Rs, Bs = [], [], []
        for d in range(nd):
            sfx = f'_l{layer}' + ('_reverse' if d else '')
            Ws.append(block(getattr(m, 'weight_ih' + sfx)))
            Rs.append(block(getattr(m, 'weight_hh' + sfx)))
            if m.bias:
                Bs.append(np.concatenate([block(getattr(m, 'bias_ih' + sfx)),
                                          block(getattr(m, 'bias_hh' + sfx))]))
            else:
                Bs.append(np.zeros(2 * G * H, dt))
        ins = [y, ctx.g.const(np.stack(Ws)), ctx.g.const(np.stack(Rs)),
               ctx.g.const(np.stack(Bs)), '', state(h0, layer)]
        attrs = dict(hidden_size=H, direction='bidirectional' if nd == 2 else 'forward')
        if op_type == 'LSTM':
            ins.append(state(c0, layer))
        if op_type == 'GRU':
            attrs['linear_before_reset'] = 1
        if op_type == 'RNN':
            attrs['activations'] = ['Tanh' if mode == 'RNN_TANH' else 'Relu'] * nd
        while ins[-1] == '':
            ins.pop()
        outs = ctx.op(op_type, ins, n_out=3 if op_type == 'LSTM' else 2, **attrs)
        Y, Yh = outs[0], outs[1]
        hs.append(Yh)
        if op_type == 'LSTM':
            cs.append(outs[2])
        # Y: (T, nd, B, H) -> (T, B, nd * H), the next layer's input
        y = ctx.op('Reshape', [ctx.op('Transpose', [Y], perm=[0, 2, 1, 3]),
                               ctx.ints([0, 0, -1])])
    out = y
    if unbatched:
        out = ctx.op('Squeeze', [out, ctx.ints([1])])
    elif m.batch_first:
        out = ctx.op('Transpose', [out], perm=[1, 0, 2])
    finals = [ctx.op('Concat', hs, axis=0) if len(hs) > 1 else hs[0]]
    if op_type == 'LSTM':
        finals.append(ctx.op('Concat', cs, axis=0) if len(cs) > 1 else cs[0])
    if unbatched:
        finals = [ctx.op('Squeeze', [f, ctx.ints([1])]) for f in finals]
    for src, dst in zip([out] + finals, rec.outs):
        ctx.op('Identity', [src], dst)


for _name in ('LSTM', 'GRU', 'RNN'):
    MODULES[_name] = _rnn_module


# ============================================================================== methods
# Tensor methods that record no node (``_trace.FUNCTIONS``): records of kind 'fn', whose
# ``output`` is the result tensor.

FUNCS = {}

_COMPARE = {'gt': 'Greater', 'ge': 'GreaterOrEqual', 'lt': 'Less', 'le': 'LessOrEqual',
            'eq': 'Equal', 'ne': 'Equal'}


def _operand_dtype(xs):
    """The dtype both sides of a comparison are cast to (PyTorch's promotion: a Python
    float makes an integer tensor compare as float)."""
    tensors = [np.dtype(x._data.dtype) for x in xs if isinstance(x, Tensor)]
    dt = np.result_type(*tensors) if tensors else np.dtype(np.float32)
    if dt.kind in 'biu' and any(isinstance(x, float) for x in xs):
        dt = np.dtype(np.float32)
    return dt


def _compare(ctx, rec):
    kind = rec.name.strip('_')
    a, b = rec.inputs[0], rec.inputs[1] if len(rec.inputs) > 1 else rec.params['other']
    dt = _operand_dtype([a, b])
    y = ctx.op(_COMPARE[kind], [ctx.value(a, dt), ctx.value(b, dt)])
    ctx.op('Not' if kind == 'ne' else 'Identity', [y], rec.outs[0])


def _logical(ctx, rec):
    kind = rec.name.strip('_')
    ins = [ctx.value(x, np.bool_) for x in rec.inputs[:2]]
    op = {'invert': 'Not', 'logical_not': 'Not', 'and': 'And', 'logical_and': 'And',
          'or': 'Or', 'logical_or': 'Or'}[kind]
    ctx.op(op, ins[:1] if op == 'Not' else ins, rec.outs[0])


def _arg(ctx, rec):
    x = rec.inputs[0]
    dim = rec.inputs[1] if len(rec.inputs) > 1 else rec.params.get('dim')
    keep = rec.inputs[2] if len(rec.inputs) > 2 else rec.params.get('keepdim', False)
    v = ctx.value(x)
    op = 'ArgMax' if rec.name == 'argmax' else 'ArgMin'
    if dim is None:
        ctx.op(op, [ctx.op('Reshape', [v, ctx.ints([-1])])], rec.outs[0], axis=0, keepdims=0)
    else:
        ctx.op(op, [v], rec.outs[0], axis=int(dim) % max(len(x.shape), 1),
               keepdims=int(bool(keep)))


def _cast(ctx, rec):
    ctx.op('Cast', [ctx.value(rec.inputs[0])], rec.outs[0],
           to=_onnx_type(np.dtype(rec.output._data.dtype)))


for _name in ('gt', 'ge', 'lt', 'le', 'eq', 'ne'):
    FUNCS[_name] = FUNCS[f'__{_name}__'] = _compare
for _name in ('__invert__', 'logical_not', '__and__', '__or__', 'logical_and', 'logical_or'):
    FUNCS[_name] = _logical
FUNCS['argmax'] = FUNCS['argmin'] = _arg
for _name in ('long', 'int', 'bool', 'float', 'double'):
    FUNCS[_name] = _cast

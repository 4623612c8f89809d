"""autograd.onnx.export: the exported file, run by ONNX Runtime, gives the project's outputs.

Each model is exported on one batch with a dynamic batch axis, checked with
``onnx.checker`` (full check: shapes inferred), and run by ONNX Runtime on the exported
batch and on batches of other sizes; outputs match the model's own to 1e-5.  Models are
float32 (ONNX Runtime's LSTM/GRU kernels are float32 only) on the run's default device.
"""
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import nn.functional as F

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')
import autograd.onnx  # noqa: E402
from autograd.onnx import UnsupportedOperatorError  # noqa: E402

TOL = 1e-5
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True)


@pytest.fixture(autouse=True)
def seeded():
    """The same weights and inputs whatever ran before (the suite shares one generator)."""
    autograd.manual_seed(0)


def export(model, args, *, names=None, outputs=('y',), dynamic=True, **kw):
    """Export to bytes (through a file object); returns (bytes, input names)."""
    args = args if isinstance(args, tuple) else (args,)
    names = names or [f'x{i}' for i in range(len(args))]
    axes = None
    if dynamic:
        axes = {n: {0: 'batch'} for n in names}
        axes.update({n: {0: 'batch'} for n in outputs})
    buf = io.BytesIO()
    autograd.onnx.export(model, args, buf, input_names=names, output_names=list(outputs),
                         dynamic_axes=axes, **kw)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return data, names


def flat(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in flat(o)]
    return [out]


def check_runs(data, names, model, *batches):
    """ONNX Runtime on each batch (a tuple of tensors) gives model(*batch)'s outputs."""
    sess = ort.InferenceSession(data, providers=['CPUExecutionProvider'])
    for batch in batches:
        with autograd.no_grad():
            want = [y.cpu().numpy() for y in flat(model(*batch))]
        got = sess.run(None, {n: x.cpu().numpy() for n, x in zip(names, batch)})
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=TOL, atol=TOL)
    return sess


def op_types(data):
    return [n.op_type for n in onnx.load_from_string(data).graph.node]


# --------------------------------------------------------------------------- MLP

def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16),
                         nn.GELU(), nn.Linear(16, 8), nn.LeakyReLU(0.1), nn.Linear(8, 4),
                         nn.Tanh(), nn.Linear(4, 3), nn.Softmax(dim=-1))


def test_mlp_runs_in_onnxruntime_with_a_dynamic_batch():
    model = mlp().eval()
    data, names = export(model, autograd.randn(5, 6))
    check_runs(data, names, model, (autograd.randn(5, 6),), (autograd.randn(1, 6),),
               (autograd.randn(11, 6),))
    assert 'Dropout' not in op_types(data)          # eval: dropout is the identity


def test_export_uses_eval_mode_and_restores_training():
    model = mlp()
    assert model.training
    data, names = export(model, autograd.randn(4, 6))
    assert model.training and all(m.training for m in model.modules())
    model.eval()                    # the exported graph is the eval-mode model's
    check_runs(data, names, model, (autograd.randn(3, 6),))


@SETTINGS
@given(batch=st.integers(1, 9), act=st.sampled_from(['relu', 'sigmoid', 'elu', 'silu',
                                                      'softplus', 'gelu_tanh', 'hardtanh']))
def test_activations_and_runtime_batch_sizes(batch, act):
    fn = {'relu': F.relu, 'sigmoid': autograd.sigmoid, 'elu': lambda x: F.elu(x, 0.7),
          'silu': F.silu, 'softplus': lambda x: F.softplus(x, beta=2.0, threshold=1.0),
          'gelu_tanh': lambda x: F.gelu(x, approximate='tanh'),
          'hardtanh': lambda x: F.hardtanh(x, -0.5, 0.5)}[act]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 7)

        def forward(self, x):
            return F.log_softmax(fn(self.fc(x)) * 2.0 - 1.0, dim=1)

    model = Net().eval()
    data, names = export(model, autograd.randn(3, 5) * 3)
    check_runs(data, names, model, (autograd.randn(batch, 5) * 3,))


def test_initializers_are_named_as_the_state_dict():
    model = mlp().eval()
    data, _ = export(model, autograd.randn(2, 6))
    inits = {t.name: onnx.numpy_helper.to_array(t)
             for t in onnx.load_from_string(data).graph.initializer}
    for key, value in model.state_dict().items():
        assert key in inits
        np.testing.assert_array_equal(inits[key], value.cpu().numpy())


def test_file_path_and_model_proto(tmp_path):
    model = mlp().eval()
    x = autograd.randn(2, 6)
    path = tmp_path / 'mlp.onnx'
    assert autograd.onnx.export(model, (x,), str(path)) is None
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ['input']
    assert [o.name for o in proto.graph.output] == ['output']
    assert proto.opset_import[0].version == 17
    proto18 = autograd.onnx.export(model, x, None, opset_version=18)
    assert proto18.opset_import[0].version == 18
    sess = ort.InferenceSession(proto18.SerializeToString())
    with autograd.no_grad():
        want = model(x).cpu().numpy()
    np.testing.assert_allclose(sess.run(None, {'input': x.cpu().numpy()})[0], want,
                               rtol=TOL, atol=TOL)


def test_static_shapes_without_dynamic_axes():
    model = mlp().eval()
    data, names = export(model, autograd.randn(4, 6), dynamic=False)
    dims = onnx.load_from_string(data).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [4, 6]
    check_runs(data, names, model, (autograd.randn(4, 6),))


def test_dynamic_axes_as_a_list_get_torchs_labels():
    model = mlp().eval()
    buf = io.BytesIO()
    autograd.onnx.export(model, autograd.randn(2, 6), buf, input_names=['x'],
                         output_names=['y'], dynamic_axes={'x': [0], 'y': [0]})
    g = onnx.load_from_string(buf.getvalue()).graph
    assert g.input[0].type.tensor_type.shape.dim[0].dim_param == 'x_dynamic_axes_1'
    assert g.output[0].type.tensor_type.shape.dim[0].dim_param == 'y_dynamic_axes_1'


def test_is_in_onnx_export():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            seen.append(autograd.onnx.is_in_onnx_export())
            return self.fc(x)

    autograd.onnx.export(Probe(), autograd.randn(1, 2), io.BytesIO())
    assert seen == [True] and not autograd.onnx.is_in_onnx_export()


# --------------------------------------------------------------------------- CNN

class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(8, affine=False)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.adapt = nn.AdaptiveAvgPool2d((2, 3))
        self.flat = nn.Flatten()
        self.fc = nn.Linear(8 * 2 * 3, 4)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = self.adapt(self.avg(x))
        return self.fc(self.flat(x))


def trained_stats(model):
    """Running statistics and affine weights away from their initial values."""
    with autograd.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                if m.affine:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_()
    return model


def test_cnn_runs_in_onnxruntime_with_a_dynamic_batch():
    model = trained_stats(CNN()).eval()
    data, names = export(model, autograd.randn(2, 3, 15, 13))
    check_runs(data, names, model, (autograd.randn(2, 3, 15, 13),),
               (autograd.randn(5, 3, 15, 13),))
    kinds = set(op_types(data))
    assert {'Conv', 'BatchNormalization', 'MaxPool', 'AveragePool'} <= kinds


@SETTINGS
@given(k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), ceil=st.booleans(),
       include=st.booleans(), size=st.integers(4, 9))
def test_pooling_geometry(k, s, p, ceil, include, size):
    p = min(p, k // 2)

    def f(x):
        a = F.max_pool2d(x, k, s, p, ceil_mode=ceil)
        b = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include)
        return a + b

    data, names = export(f, autograd.randn(2, 2, size, size + 1))
    check_runs(data, names, f, (autograd.randn(3, 2, size, size + 1),))


def test_conv1d_and_pool1d():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1, stride=2), nn.ReLU(),
                          nn.MaxPool1d(2), nn.AvgPool1d(2)).eval()
    data, names = export(model, autograd.randn(2, 2, 17))
    check_runs(data, names, model, (autograd.randn(4, 2, 17),))


# --------------------------------------------------------------------------- recurrent

class Recurrent(nn.Module):
    def __init__(self, cls, **kw):
        super().__init__()
        self.rnn = cls(3, 5, **kw)
        self.head = nn.Linear(5 * (2 if kw.get('bidirectional') else 1), 2)

    def forward(self, x, *state):
        out, h = self.rnn(x, *state)
        return (self.head(out),) + (h if isinstance(h, tuple) else (h,))


@pytest.mark.parametrize('cls, onnx_op', [(nn.LSTM, 'LSTM'), (nn.GRU, 'GRU'),
                                          (nn.RNN, 'RNN')])
@pytest.mark.parametrize('kw', [dict(batch_first=True),
                                dict(num_layers=2, bidirectional=True),
                                dict(num_layers=2, batch_first=True, bias=False)])
def test_recurrent_modules_become_onnx_recurrent_ops(cls, onnx_op, kw):
    model = Recurrent(cls, **kw).eval()
    batch_axis = 0 if kw.get('batch_first') else 1
    shape = lambda b: (b, 6, 3) if batch_axis == 0 else (6, b, 3)   # noqa: E731
    buf = io.BytesIO()
    outs = ['y', 'h_n'] + (['c_n'] if onnx_op == 'LSTM' else [])
    autograd.onnx.export(model, autograd.randn(*shape(2)), buf, input_names=['x'],
                         output_names=outs, dynamic_axes={'x': {batch_axis: 'b'},
                                                          'y': {batch_axis: 'b'}})
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    kinds = op_types(data)
    assert kinds.count(onnx_op) == kw.get('num_layers', 1)
    check_runs(data, ['x'], model, (autograd.randn(*shape(2)),), (autograd.randn(*shape(4)),))


@pytest.mark.parametrize('cls', [nn.LSTM, nn.GRU])
def test_recurrent_with_initial_state(cls):
    model = Recurrent(cls, num_layers=2, bidirectional=True, batch_first=True).eval()
    x = autograd.randn(3, 4, 3)
    h0 = autograd.randn(4, 3, 5)
    state = ((h0, autograd.randn(4, 3, 5)),) if cls is nn.LSTM else (h0,)
    args = (x,) + tuple(t for s in state for t in (s if isinstance(s, tuple) else (s,)))

    class Run(nn.Module):           # (the exporter finds recurrent modules in a Module)
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x, *hs):
            return self.model(x, tuple(hs) if cls is nn.LSTM else hs[0])

    run = Run()

    names = ['x'] + [f'h{i}' for i in range(len(args) - 1)]
    data, _ = export(run, args, names=names, dynamic=False, outputs=('y', 'hn', 'cn')
                     if cls is nn.LSTM else ('y', 'hn'))
    check_runs(data, names, run, args)


def test_lstm_last_step_classifier():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 6, batch_first=True)
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    model = Tagger().eval()
    data, names = export(model, autograd.randn(2, 7, 4))
    check_runs(data, names, model, (autograd.randn(2, 7, 4),), (autograd.randn(6, 7, 4),))


# --------------------------------------------------------------------------- attention

class AttentionBlock(nn.Module):
    """A pre-norm causal self-attention block written with plain ops."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        B, T, C = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, h, C // h).transpose(1, 2)
        k = k.view(B, T, h, C // h).transpose(1, 2)
        v = v.view(B, T, h, C // h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // h))
        mask = autograd.tril(autograd.ones(T, T)).view(1, 1, T, T)
        att = att.masked_fill(mask == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


def test_hand_written_attention_block():
    model = AttentionBlock().eval()
    data, names = export(model, autograd.randn(2, 5, 8))
    check_runs(data, names, model, (autograd.randn(2, 5, 8),), (autograd.randn(7, 5, 8),))
    kinds = set(op_types(data))
    assert {'LayerNormalization', 'Softmax', 'Where', 'MatMul', 'Erf'} <= kinds


def test_transformer_encoder():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True,
                                       activation='gelu')
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    data, names = export(model, autograd.randn(2, 5, 8))
    check_runs(data, names, model, (autograd.randn(2, 5, 8),), (autograd.randn(4, 5, 8),))


def test_transformer_encoder_norm_first_seq_first_with_mask():
    layer = nn.TransformerEncoderLayer(8, 4, 12, dropout=0.0, norm_first=True)
    model = nn.TransformerEncoder(layer, 1, norm=nn.LayerNorm(8),
                                  enable_nested_tensor=False).eval()
    mask = nn.Transformer.generate_square_subsequent_mask(5)

    def run(x):
        return model(x, mask=mask)

    buf = io.BytesIO()
    autograd.onnx.export(run, autograd.randn(5, 2, 8), buf, input_names=['x'],
                         output_names=['y'], dynamic_axes={'x': {1: 'b'}, 'y': {1: 'b'}})
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    check_runs(data, ['x'], run, (autograd.randn(5, 2, 8),), (autograd.randn(5, 3, 8),))


def test_embedding_with_integer_input():
    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.fc = nn.Linear(4, 2)

        def forward(self, idx):
            return self.fc(self.emb(idx)).mean(dim=1)

    model = Tokens().eval()
    idx = autograd.randint(0, 10, (2, 6))
    data, names = export(model, idx)
    check_runs(data, names, model, (idx,), (autograd.randint(0, 10, (5, 6)),))


# --------------------------------------------------------------------------- errors

def test_unsupported_op_is_named():
    def f(x):
        return x.cumsum(dim=1)

    with pytest.raises(UnsupportedOperatorError, match="operator 'Cumsum'") as info:
        autograd.onnx.export(f, autograd.randn(2, 3), io.BytesIO())
    assert isinstance(info.value, RuntimeError)


def test_unsupported_custom_function_is_named():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(UnsupportedOperatorError, match="'Twice"):
        autograd.onnx.export(lambda x: Twice.apply(x), autograd.randn(2), io.BytesIO())


def test_opset_out_of_range():
    with pytest.raises(ValueError, match='Unsupported ONNX opset version: 9'):
        autograd.onnx.export(mlp(), autograd.randn(1, 6), io.BytesIO(), opset_version=9)


def test_training_mode_exports_dropout_as_unsupported():
    model = mlp()
    with pytest.raises(UnsupportedOperatorError, match="operator '_MaskMul'"):   # dropout's
        autograd.onnx.export(model, autograd.randn(2, 6), io.BytesIO(),
                             training=autograd.onnx.TrainingMode.TRAINING)
    assert model.training
    model.eval()
    autograd.onnx.export(model, autograd.randn(2, 6), io.BytesIO(),
                         training=autograd.onnx.TrainingMode.PRESERVE)
    assert not model.training


def test_parameters_as_graph_inputs():
    model = mlp().eval()
    x = autograd.randn(3, 6)
    proto = autograd.onnx.export(model, x, None, input_names=['x'], export_params=False)
    onnx.checker.check_model(proto)
    assert not set(model.state_dict()) & {t.name for t in proto.graph.initializer}
    names = [i.name for i in proto.graph.input]
    assert names[0] == 'x' and set(names[1:]) == set(model.state_dict())
    feeds = {k: v.cpu().numpy() for k, v in model.state_dict().items()}
    feeds['x'] = x.cpu().numpy()
    got = ort.InferenceSession(proto.SerializeToString()).run(None, feeds)[0]
    with autograd.no_grad():
        np.testing.assert_allclose(got, model(x).cpu().numpy(), rtol=TOL, atol=TOL)
    kept = autograd.onnx.export(model, x, None, keep_initializers_as_inputs=True)
    inits = {t.name for t in kept.graph.initializer}
    assert set(model.state_dict()) <= inits
    assert [i.name for i in kept.graph.input][1:] == [n for n in names[1:]]


def test_untraceable_output_is_refused():
    model = nn.Linear(3, 4)

    def f(x):
        return autograd.tensor(model(x).sum().item())       # through a Python float

    with pytest.raises(autograd.onnx.OnnxExporterError, match='output 0'):
        autograd.onnx.export(f, autograd.randn(2, 3), io.BytesIO())


def test_comparisons_masks_argmax_and_casts():
    model = nn.Linear(3, 4)

    def f(x, ids):
        y = model(x)
        pad = (ids == 0) | autograd.lt(ids, 0)              # a padding mask from the input
        y = y.masked_fill(pad, 0.0) + (y > 0.5).float() * 2 - (~(y <= -0.5)).double().float()
        keep = autograd.logical_not(y.ne(0.0)).long()
        return y, y.argmax(dim=1), autograd.argmin(y), keep

    ids = autograd.randint(-1, 3, (5, 4))
    data, names = export(f, (autograd.randn(5, 3), ids), outputs=('y', 'arg', 'amin', 'keep'))
    check_runs(data, names, f, (autograd.randn(5, 3), ids),
               (autograd.randn(2, 3), autograd.randint(-1, 3, (2, 4))))


def test_constant_that_follows_a_dynamic_axis_is_refused():
    def f(x):
        return x + autograd.ones(x.shape[0], 1)

    export(f, autograd.randn(2, 3), dynamic=False)          # fine at a fixed batch
    with pytest.raises(autograd.onnx.OnnxExporterError, match='input 1 is a tensor made'):
        export(f, autograd.randn(2, 3))


def test_constants_made_in_forward_are_exported():
    w = autograd.linspace(-1, 1, 4)

    def f(x):
        scale = autograd.tensor([0.5, 2.0, -1.0, 3.0])
        return (x * scale + w) / 3.0 - 1.0

    data, names = export(f, autograd.randn(2, 4))
    check_runs(data, names, f, (autograd.randn(2, 4),), (autograd.randn(6, 4),))


def zoo(x):
    """Elementwise, shape and reduction ops of the exporter's table, on (B, 4, 6)."""
    a, b = x.chunk(2, dim=2)                                  # Split
    parts = x.unbind(1)                                       # Unbind
    s = autograd.stack([parts[0], parts[3]], dim=1)           # Stack
    y = autograd.cat([a.exp() - b.abs().sqrt(), s.mT.mT[:, :, :3]], dim=1)
    y = y.clamp(-2.0, 3.0) + (x.narrow(1, 1, 1)[..., :3] ** 2).rsqrt().log1p()
    y = autograd.where(y > 0.5, y.expm1(), y.square() - y.neg())
    z = y.unsqueeze(1).expand(-1, 2, -1, -1)                  # (B, 2, 6, 3)
    z = z.sum(dim=1) + z.mean(dim=(1, 2, 3), keepdim=True).squeeze(1) + z.amax(dim=1)
    # (scaled: a float32 log_softmax of values in the hundreds is exact only to ~1e-5)
    return F.log_softmax(0.1 * z.reshape(z.shape[0], -1), dim=-1) + x.double().float().mean()


@pytest.mark.parametrize('opset', [17, 18, 20])
def test_op_table_at_each_opset(opset):
    x = autograd.randn(3, 4, 6)
    data, names = export(zoo, x, opset_version=opset)
    assert onnx.load_from_string(data).opset_import[0].version == opset
    check_runs(data, names, zoo, (x,), (autograd.randn(5, 4, 6),))


def test_more_layers():
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.SELU(), nn.AdaptiveAvgPool1d(3),
                          nn.Hardtanh(-0.3, 0.3), nn.Flatten(), nn.Linear(12, 5),
                          nn.Softplus(), nn.Sigmoid()).eval()
    data, names = export(model, autograd.randn(2, 2, 9))
    check_runs(data, names, model, (autograd.randn(4, 2, 9),))

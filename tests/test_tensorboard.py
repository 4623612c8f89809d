"""autograd.utils.tensorboard.SummaryWriter against torch.utils.tensorboard.SummaryWriter.

Every test makes the same calls on both writers (ours with the project's tensors, PyTorch's
with the same values as torch tensors) into two directories, reads both back with
TensorBoard's own reader (``EventAccumulator`` / ``EventFileLoader``) and compares what
was recorded: scalar values and steps, histogram buckets, decoded image pixels, text,
hparams plugin data.  The graph (ours is drawn from the autograd graph, PyTorch's from a
TorchScript trace) is checked against the model's structure.
"""
import glob
import io
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn

pytest.importorskip('tensorboard')
torch = pytest.importorskip('torch')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader  # noqa
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

from autograd.utils.tensorboard import SummaryWriter  # noqa: E402

SETTINGS = settings(max_examples=5, deadline=None, derandomize=True)


def T(x):
    """The torch tensor of one of ours."""
    return torch.from_numpy(x.detach().cpu().numpy().copy())


def read(logdir):
    acc = EventAccumulator(str(logdir), size_guidance={'images': 0, 'histograms': 0,
                                                       'scalars': 0, 'tensors': 0})
    acc.Reload()
    return acc


def events(logdir):
    out = []
    for path in sorted(glob.glob(os.path.join(str(logdir), 'events.out.tfevents.*'))):
        out += list(LegacyEventFileLoader(path).Load())
    return out


def both(tmp_path, calls):
    """Run ``calls(writer, convert)`` on our writer and PyTorch's; returns the dirs."""
    ours, theirs = tmp_path / 'ours', tmp_path / 'torch'
    with SummaryWriter(str(ours)) as w:
        calls(w, lambda x: x)
    with TorchWriter(str(theirs)) as w:
        calls(w, lambda x: T(x) if isinstance(x, autograd.Tensor) else x)
    return ours, theirs


def test_scalars_match_torch(tmp_path):
    losses = autograd.randn(6).abs()

    def calls(w, c):
        for step in range(6):
            w.add_scalar('train/loss', c(losses[step]), step)
            w.add_scalar('lr', 0.1 / (step + 1), step, walltime=1000.0 + step)
        w.add_scalar('new', c(losses[0]), 3, new_style=True)

    ours, theirs = both(tmp_path, calls)
    a, b = read(ours), read(theirs)
    for tag in ('train/loss', 'lr'):
        assert [(e.step, e.value) for e in a.Scalars(tag)] == \
               [(e.step, e.value) for e in b.Scalars(tag)]
    assert [e.wall_time for e in a.Scalars('lr')] == [1000.0 + s for s in range(6)]
    np.testing.assert_allclose([e.value for e in a.Scalars('train/loss')],
                               losses.cpu().numpy(), rtol=1e-7)
    ta, tb = a.Tensors('new')[0], b.Tensors('new')[0]
    assert ta.step == tb.step == 3 and ta.tensor_proto == tb.tensor_proto


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    def calls(w, c):
        for step in range(3):
            w.add_scalars('loss', {'train': 1.0 / (step + 1), 'val': 2.0 / (step + 1)}, step)

    ours, theirs = both(tmp_path, calls)
    dirs = [sorted(p for p in os.listdir(d) if os.path.isdir(d / p)) for d in (ours, theirs)]
    assert dirs[0] == dirs[1] == ['loss_train', 'loss_val']
    for sub in ('loss_train', 'loss_val'):
        a, b = read(ours / sub), read(theirs / sub)
        assert [(e.step, e.value) for e in a.Scalars('loss')] == \
               [(e.step, e.value) for e in b.Scalars('loss')]


@SETTINGS
@given(n=st.integers(1, 300), scale=st.sampled_from([1e-3, 1.0, 50.0]),
       bins=st.sampled_from(['tensorflow', 'auto', 10]), max_bins=st.sampled_from([None, 7]))
def test_histograms_match_torch(tmp_path_factory, n, scale, bins, max_bins):
    tmp_path = tmp_path_factory.mktemp('h')
    values = autograd.randn(n) * scale

    def calls(w, c):
        w.add_histogram('weights', c(values), 7, bins=bins, max_bins=max_bins)

    ours, theirs = both(tmp_path, calls)
    ha = read(ours).Histograms('weights')[0]
    hb = read(theirs).Histograms('weights')[0]
    assert ha.step == hb.step == 7
    va, vb = ha.histogram_value, hb.histogram_value
    assert va.bucket_limit == pytest.approx(vb.bucket_limit, rel=1e-12)
    assert va.bucket == vb.bucket
    assert (va.min, va.max, va.num) == (vb.min, vb.max, vb.num)
    assert va.sum == pytest.approx(vb.sum, rel=1e-9, abs=1e-12)
    assert va.sum_squares == pytest.approx(vb.sum_squares, rel=1e-9)


def decode(image_event):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image_event.encoded_image_string)))


@pytest.mark.parametrize('shape, fmt, method', [
    ((3, 5, 7), 'CHW', 'add_image'), ((1, 5, 7), 'CHW', 'add_image'),
    ((5, 7, 3), 'HWC', 'add_image'), ((5, 7), 'HW', 'add_image'),
    ((11, 3, 4, 5), 'NCHW', 'add_images'), ((3, 4, 5, 1), 'NHWC', 'add_images')])
def test_images_match_torch(tmp_path, shape, fmt, method):
    pytest.importorskip('PIL')
    img = autograd.rand(*shape) * 1.2 - 0.1         # some values to clip

    def calls(w, c):
        getattr(w, method)('pic', c(img), 2, dataformats=fmt)

    ours, theirs = both(tmp_path, calls)
    ia, ib = read(ours).Images('pic')[0], read(theirs).Images('pic')[0]
    assert (ia.step, ia.width, ia.height) == (ib.step, ib.width, ib.height)
    np.testing.assert_array_equal(decode(ia), decode(ib))


def test_uint8_image(tmp_path):
    pytest.importorskip('PIL')
    img = autograd.randint(0, 256, (3, 4, 6), dtype=autograd.uint8)
    ours, theirs = both(tmp_path, lambda w, c: w.add_image('u8', c(img), 0))
    got = decode(read(ours).Images('u8')[0])
    np.testing.assert_array_equal(got, img.cpu().numpy().transpose(1, 2, 0))
    np.testing.assert_array_equal(got, decode(read(theirs).Images('u8')[0]))


def test_text_matches_torch(tmp_path):
    ours, theirs = both(tmp_path, lambda w, c: w.add_text('notes', 'lr **0.1**, ü', 4))
    a, b = read(ours).Tensors('notes/text_summary'), read(theirs).Tensors('notes/text_summary')
    assert a[0].step == b[0].step == 4
    assert a[0].tensor_proto == b[0].tensor_proto
    assert a[0].tensor_proto.string_val[0].decode() == 'lr **0.1**, ü'


def hparam_records(logdir):
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    out, scalars = {}, {}
    for e in events(logdir):
        for v in e.summary.value:
            if v.metadata.plugin_data.plugin_name == 'hparams':
                out[v.tag] = HParamsPluginData.FromString(v.metadata.plugin_data.content)
            elif v.HasField('simple_value'):
                scalars[v.tag] = v.simple_value
    return out, scalars


def test_hparams_match_torch(tmp_path):
    def calls(w, c):
        w.add_hparams({'lr': 0.01, 'optimizer': 'adam', 'nesterov': True, 'layers': 3},
                      {'hparam/accuracy': 0.9, 'hparam/loss': 0.25},
                      hparam_domain_discrete={'optimizer': ['adam', 'sgd']}, run_name='trial')

    ours, theirs = both(tmp_path, calls)
    a, sa = hparam_records(ours / 'trial')
    b, sb = hparam_records(theirs / 'trial')
    assert set(a) == set(b) == {'_hparams_/experiment', '_hparams_/session_start_info',
                                '_hparams_/session_end_info'}
    for tag in a:
        assert a[tag] == b[tag], tag
    assert sa == sb == pytest.approx({'hparam/accuracy': 0.9, 'hparam/loss': 0.25})
    start = a['_hparams_/session_start_info'].session_start_info.hparams
    assert start['optimizer'].string_value == 'adam' and start['lr'].number_value == 0.01
    assert start['nesterov'].number_value == 1.0       # a bool is a number, as PyTorch
    with pytest.raises(TypeError, match='should be dictionary'):
        SummaryWriter(str(tmp_path / 'x')).add_hparams([('lr', 1)], {})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.body(x))


def test_graph_is_the_models_structure(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Net(), autograd.randn(5, 3))
    g = read(tmp_path).Graph()
    nodes = {n.name: n for n in g.node}
    assert nodes['input/input.0'].op == 'IO Node'
    for p in ('Net/Sequential[body]/Linear[0]/weight', 'Net/Sequential[body]/Linear[0]/bias',
              'Net/Linear[head]/weight', 'Net/Linear[head]/bias'):
        assert nodes[p].op == 'Parameter'
    (lin0,) = [n for n in g.node if n.name.startswith('Net/Sequential[body]/Linear[0]/Linear')]
    assert list(lin0.input) == ['input/input.0', 'Net/Sequential[body]/Linear[0]/weight',
                                'Net/Sequential[body]/Linear[0]/bias']
    (relu,) = [n for n in g.node if n.op == 'Relu']
    assert relu.name.startswith('Net/Sequential[body]/ReLU[1]/') and \
        list(relu.input) == [lin0.name]
    (head,) = [n for n in g.node if n.name.startswith('Net/Linear[head]/Linear')]
    assert list(head.input)[0] == relu.name
    out = nodes['output/output.0']
    assert list(out.input) == [head.name]
    dims = [d.size for d in out.attr['_output_shapes'].list.shape[0].dim]
    assert dims == [5, 2]


def test_purge_step_flush_close_and_reopen(tmp_path):
    w = SummaryWriter(str(tmp_path), purge_step=5)
    w.add_scalar('a', 1.0, 5)
    w.flush()
    evs = events(tmp_path)
    assert any(e.HasField('session_log') and e.step == 5 for e in evs)
    assert any(v.tag == 'a' for e in evs for v in e.summary.value)
    w.close()
    w.add_scalar('a', 2.0, 6)              # a closed writer opens a new file
    w.close()
    assert [(e.step, e.value) for e in read(tmp_path).Scalars('a')] == [(5, 1.0), (6, 2.0)]


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment='_lr0.1') as w:
        w.add_scalar('x', 1.0, 0)
        logdir = w.get_logdir()
    assert logdir.startswith('runs' + os.sep) and logdir.endswith('_lr0.1')
    assert read(tmp_path / logdir).Scalars('x')[0].value == 1.0


def test_bad_inputs():
    from autograd.utils.tensorboard import summary
    with pytest.raises(ValueError, match='0D'):
        summary.scalar('x', autograd.ones(2))
    with pytest.raises(ValueError, match='no element'):
        summary.histogram('h', autograd.ones(0))
    with pytest.raises(ValueError, match='different'):
        summary.image('i', autograd.ones(3, 4), 'CHW')

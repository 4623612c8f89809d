"""``Summary`` protocol buffers from arrays: scalars, histograms, images, text, hparams.

The same records ``torch.utils.tensorboard`` writes (tags, plugin names, bucket rule),
built with the ``tensorboard`` package's protos.  Images are encoded as PNG here (zlib),
so no imaging library is needed.
"""
import struct
import zlib

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ['to_numpy', 'scalar', 'histogram', 'make_histogram', 'image', 'text', 'hparams',
           'encode_png', 'convert_to_HWC', 'make_grid', 'DEFAULT_BINS']


def _default_bins():
    """TensorFlow's histogram buckets: +-1e-12 * 1.1^k up to 1e20, and 0."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


DEFAULT_BINS = _default_bins()


def to_numpy(x):
    """A NumPy array of ``x``: a Tensor (on any device, detached), an array, a number."""
    if hasattr(x, 'detach') and hasattr(x, 'cpu'):
        return x.detach().cpu().numpy()
    if hasattr(x, 'get') and not isinstance(x, np.ndarray):    # a CuPy array
        return np.asarray(x.get())
    return np.asarray(x)


def scalar(tag, value, new_style=False, double_precision=False):
    value = to_numpy(value)
    if value.size != 1:
        raise ValueError(f'scalar should be 0D, got a value of shape {list(value.shape)}')
    value = float(value.reshape(()))
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=value)])
    proto = TensorProto(double_val=[value], dtype='DT_DOUBLE') if double_precision else \
        TensorProto(float_val=[value], dtype='DT_FLOAT')
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name='scalars'))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=meta)])


def make_histogram(values, bins, max_bins=None):
    """HistogramProto of ``values`` counted into ``bins`` (NumPy's ``bins`` argument),
    merged down to at most ``max_bins`` buckets and trimmed to the occupied range (with
    one empty bucket on the left, since TensorBoard stores right edges only)."""
    values = values.reshape(-1)
    if values.size == 0:
        raise ValueError('The input has no element.')
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        sub = len(counts) // max_bins
        rem = len(counts) % sub
        if rem:
            counts = np.pad(counts, (0, sub - rem))
        counts = counts.reshape(-1, sub).sum(axis=-1)
        limits = np.concatenate([limits[:-1:sub], limits[-1:]])
    occupied = np.flatnonzero(counts)
    if occupied.size == 0:
        raise ValueError('The histogram is empty: no value falls into the bins')
    start, end = int(occupied[0]), int(occupied[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return HistogramProto(min=values.min(), max=values.max(), num=len(values),
                          sum=values.sum(), sum_squares=values.dot(values),
                          bucket_limit=limits.tolist(), bucket=counts.tolist())


def histogram(tag, values, bins='tensorflow', max_bins=None):
    if isinstance(bins, str) and bins == 'tensorflow':
        bins = DEFAULT_BINS
    hist = make_histogram(to_numpy(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def make_grid(images, ncols=8):
    """(N, C, H, W) images with C 1 or 3 -> one (3, rows H, cols W) picture, row-major."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'images should be (N, 1 or 3, H, W), got {list(images.shape)}')
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = images[i]
    return canvas


def convert_to_HWC(array, dataformats):
    """``array`` laid out as ``dataformats`` ('NCHW', 'CHW', 'HWC', 'HW', ...) -> (H, W, C)
    with C 3 (gray images repeated) or 4; batches are tiled with :func:`make_grid`."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt):
        raise ValueError(f'dataformats {dataformats!r} names a dimension twice')
    if array.ndim != len(fmt):
        raise ValueError(f'size of input tensor and input format are different: tensor '
                         f'shape {list(array.shape)}, dataformats {dataformats!r}')
    if len(fmt) == 4:
        return make_grid(array.transpose([fmt.find(c) for c in 'NCHW'])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in 'HWC'])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = array.transpose([fmt.find(c) for c in 'HW'])
    return np.stack([hw] * 3, 2)


def encode_png(hwc):
    """PNG bytes of an (H, W, C) uint8 array, C 1 (gray), 3 (RGB) or 4 (RGBA)."""
    h, w, c = hwc.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    rows = np.ascontiguousarray(hwc).reshape(h, w * c)
    raw = b''.join(b'\x00' + row.tobytes() for row in rows)   # filter type 0 per row

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))

    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, color,
                                                              0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))


def image(tag, img, dataformats='CHW'):
    """An image summary: floats are taken in [0, 1] and scaled by 255, uint8 as is;
    values outside [0, 255] are clipped."""
    array = to_numpy(img)
    hwc = convert_to_HWC(array, dataformats)
    scale = 1 if array.dtype == np.uint8 else 255
    hwc = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    h, w, c = hwc.shape
    proto = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(hwc))
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def text(tag, text_string):
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name='text', content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype='DT_STRING', string_val=[text_string.encode('utf_8')],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + '/text_summary', metadata=meta,
                                        tensor=proto)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three summaries of TensorBoard's hparams plugin: the experiment (names of the
    hyperparameters and metrics), the session start (their values), the session end."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams.api_pb2 import (DataType, Experiment, HParamInfo,
                                                     MetricInfo, MetricName, Status)
    from tensorboard.plugins.hparams.metadata import (EXPERIMENT_TAG, PLUGIN_DATA_VERSION,
                                                      PLUGIN_NAME, SESSION_END_INFO_TAG,
                                                      SESSION_START_INFO_TAG)
    from tensorboard.plugins.hparams.plugin_data_pb2 import (HParamsPluginData,
                                                             SessionEndInfo, SessionStartInfo)
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError('parameter: hparam_domain_discrete should be a dictionary, nothing '
                        'logged.')
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f'parameter: hparam_domain_discrete[{k}] should be a list of same '
                            f'type as hparam_dict[{k}].')
    ssi = SessionStartInfo()
    infos = []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if hasattr(v, 'detach'):            # a Tensor
            v = float(to_numpy(v).reshape(-1)[0])
        if isinstance(v, (int, float)):     # a bool too (a number 0/1, as PyTorch)
            field, kind, vals = 'number_value', 'DATA_TYPE_FLOAT64', 'number_value'
        elif isinstance(v, str):
            field, kind, vals = 'string_value', 'DATA_TYPE_STRING', 'string_value'
        else:
            raise ValueError('value should be one of int, float, str, bool, or Tensor')
        setattr(ssi.hparams[k], field, v)
        domain = None
        if k in domains:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{vals: d})
                                                  for d in domains[k]])
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    def summary(tag, **content):
        data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content)
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=data.SerializeToString()))
        return Summary(value=[Summary.Value(tag=tag, metadata=meta)])

    metrics = [MetricInfo(name=MetricName(tag=k)) for k in metric_dict]
    exp = Experiment(hparam_infos=infos, metric_infos=metrics)
    sei = SessionEndInfo(status=Status.Value('STATUS_SUCCESS'))
    return (summary(EXPERIMENT_TAG, experiment=exp),
            summary(SESSION_START_INFO_TAG, session_start_info=ssi),
            summary(SESSION_END_INFO_TAG, session_end_info=sei))

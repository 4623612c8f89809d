"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``.

Floats follow PyTorch's formatter: integral values print as ``1.``, others with four
decimals, and scientific notation when the magnitudes span more than 10^3 (or exceed
10^8, or fall below 10^-4); one width for every element.
"""
import numpy

from .backend import CPU, get_default_dtype, raise_deferred


def _float_formatter(data):
    finite = data[numpy.isfinite(data)]
    nonzero = numpy.abs(finite[finite != 0]).astype(numpy.float64)
    integral = bool(numpy.all(finite == numpy.ceil(finite))) if finite.size else True
    if nonzero.size:
        lo, hi = nonzero.min(), nonzero.max()
        with numpy.errstate(over='ignore'):     # 1e300 / 1e-40 is inf: scientific
            sci = hi / lo > 1000.0 or hi > 1e8 or (not integral and lo < 1e-4)
    else:
        sci = False
    if sci:
        fmt = '{:.4e}'.format
    elif integral:
        fmt = lambda v: f'{v:.0f}.' if numpy.isfinite(v) else str(v)  # noqa: E731
    else:
        fmt = '{:.4f}'.format
    width = max((len(_special(fmt, v)) for v in data.ravel()), default=1)
    return lambda v: _special(fmt, v).rjust(width)


def _special(fmt, v):
    if numpy.isnan(v):
        return 'nan'
    if numpy.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return fmt(float(v))


def format_tensor(t):
    raise_deferred()
    data = t._device.backend.to_host(t._data)  # printing is an explicit synchronising read
    suffix = []
    if t._device is not CPU:
        suffix.append(f"device='{t._device}'")
    kind = data.dtype.kind
    default_float = data.dtype == get_default_dtype().np
    if data.size == 0 and data.ndim != 1:
        suffix.append(f'size={tuple(data.shape)}')
    if (kind == 'f' and not default_float) or (kind in 'iu' and data.dtype != numpy.int64) or \
            (kind in 'biu' and data.size == 0):     # an empty tensor names a non-float dtype
        suffix.append(f'dtype=autograd.{t.dtype.name}')
    if t.grad_fn is not None:
        suffix.append(f'grad_fn=<{t.grad_fn.name()}>')
    elif t._requires_grad:
        suffix.append('requires_grad=True')
    formatter = None
    if kind == 'f' and data.size:
        shown = data if data.size <= 1000 else _edges(data)
        formatter = {'float_kind': _float_formatter(shown)}
    elif kind == 'b' and data.size and data.all():
        formatter = {'bool': str}     # no False to align with: PyTorch prints [True, True]
    body = numpy.array2string(data, separator=', ', prefix='tensor(', threshold=1000,
                              edgeitems=3, max_line_width=80, formatter=formatter)
    return 'tensor(' + ', '.join([body] + suffix) + ')'


def _edges(data):
    """The elements a summarised print shows (PyTorch formats only those)."""
    idx = tuple(numpy.r_[0:3, -3:0] if s > 6 else slice(None) for s in data.shape)
    return data[numpy.ix_(*[numpy.arange(s)[i] for s, i in zip(data.shape, idx)])]

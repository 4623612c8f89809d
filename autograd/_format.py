"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``.

Complex values print as PyTorch prints them: real and imaginary parts each formatted as a
float tensor of their own.  Floats follow PyTorch's formatter: integral values print as ``1.``, others with four
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


def _format_complex(data, suffix):
    """A complex tensor as PyTorch prints it (``torch/_tensor_str.py``): real and imaginary
    parts each formatted as a float tensor of their own (one width per part), the imaginary
    part signed, with ``j``; PyTorch's line budget per element (the parts' widths + 3) and
    its rule for a suffix that does not fit on the last line."""
    summarize = data.size > 1000
    shown = _edges(data) if summarize else data
    real, imag = _float_formatter(shown.real), _float_formatter(shown.imag)
    z = shown.flat[0]
    element = len(real(z.real)) + 2 + len(imag(z.imag)) + 1

    def fmt(v):
        im = (imag(v.imag) + 'j').lstrip()
        return real(v.real) + (im if im[0] in '+-' else '+' + im)

    def render(a, indent):
        if a.ndim == 0:
            return fmt(a.item())
        n = a.shape[0]
        cut = summarize and n > 6
        if a.ndim == 1:
            items = [fmt(v) for v in (list(a[:3]) + list(a[-3:]) if cut else a)]
            if cut:
                items[3:3] = [' ...']
            per_line = max(1, (80 - indent) // element)
            lines = [', '.join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
            return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'
        rows = [render(a[i], indent + 1) for i in (list(range(3)) + list(range(n - 3, n))
                                                    if cut else range(n))]
        if cut:
            rows[3:3] = ['...']
        return '[' + (',' + '\n' * (a.ndim - 1) + ' ' * (indent + 1)).join(rows) + ']'

    text = 'tensor(' + render(data, 7)
    last = len(text) - text.rfind('\n') + 1
    for s in suffix:
        if last + len(s) + 2 > 80:
            text += ',\n' + ' ' * 7 + s
            last = 7 + len(s)
        else:
            text += ', ' + s
            last += len(s) + 2
    return text + ')'


def format_tensor(t):
    raise_deferred()
    data = t._device.backend.to_host(t._data)  # printing is an explicit synchronising read
    suffix = []
    if t._device is not CPU:
        suffix.append(f"device='{t._device}'")
    default_float = data.dtype == get_default_dtype().np
    if data.dtype.kind == 'V':      # bfloat16 (backend.py): its values, exact in float32
        data = data.astype(numpy.float32)
    kind = data.dtype.kind
    if data.size == 0 and data.ndim != 1:
        suffix.append(f'size={tuple(data.shape)}')
    if (kind == 'f' and not default_float) or \
            (kind == 'c' and data.dtype != get_default_dtype().to_complex().np) or (kind in 'iu' and data.dtype != numpy.int64) or \
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
    elif kind == 'c' and data.size:
        return _format_complex(data, suffix)
    elif kind == 'b' and data.size and data.all():
        formatter = {'bool': str}     # no False to align with: PyTorch prints [True, True]
    body = numpy.array2string(data, separator=', ', prefix='tensor(', threshold=1000,
                              edgeitems=3, max_line_width=80, formatter=formatter)
    return 'tensor(' + ', '.join([body] + suffix) + ')'


def _edges(data):
    """The elements a summarised print shows (PyTorch formats only those)."""
    idx = tuple(numpy.r_[0:3, -3:0] if s > 6 else slice(None) for s in data.shape)
    return data[numpy.ix_(*[numpy.arange(s)[i] for s, i in zip(data.shape, idx)])]

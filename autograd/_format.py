"""``repr`` of tensors in PyTorch's style: ``tensor([1., 2.], requires_grad=True)``."""
import numpy

from .backend import get_default_dtype, to_numpy


def format_tensor(t):
    data = to_numpy(t._data)                  # printing is an explicit synchronising read
    suffix = []
    if t._device.type != 'cpu':
        suffix.append(f"device='{t._device}'")
    kind = data.dtype.kind
    if data.size == 0 or (kind == 'f' and data.dtype != get_default_dtype().np) or \
            (kind in 'iu' and data.dtype != numpy.int64):
        if data.size == 0 and data.ndim != 1:
            suffix.append(f'size={tuple(data.shape)}')
        if not (kind == 'f' and data.dtype == get_default_dtype().np) and \
                not (kind == 'i' and data.dtype == numpy.int64) and kind != 'b' or \
                (data.size == 0 and kind != 'f'):
            suffix.append(f'dtype=autograd.{t.dtype.name}')
    if t.grad_fn is not None:
        suffix.append(f'grad_fn=<{t.grad_fn.name()}>')
    elif t._requires_grad:
        suffix.append('requires_grad=True')
    body = numpy.array2string(data, separator=', ', prefix='tensor(', precision=4,
                              threshold=1000, edgeitems=3,
                              formatter=None, floatmode='maxprec_equal' if kind == 'f' else None)
    return 'tensor(' + ', '.join([body] + suffix) + ')'

"""``nn.DataParallel``: PyTorch's single-process wrapper that splits a batch across GPUs.

As in PyTorch, with no accelerator the wrapper is a pass-through: ``forward`` calls
``self.module`` and ``device_ids`` is empty; its state dict keys carry the ``module.``
prefix, as PyTorch's do.  With one accelerator device the module is moved there and the
inputs follow it (PyTorch's one-device path).  Splitting a batch over several GPUs in one
process is not implemented: that raises, naming ``DistributedDataParallel`` instead.
"""
import autograd
from autograd import accelerator

from ..modules.module import Module

__all__ = ['DataParallel', 'data_parallel']


def _to(obj, device):
    """Tensors in nested tuples/lists/dicts moved to ``device`` (PyTorch's scatter to one)."""
    if isinstance(obj, autograd.Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to(v, device)) for k, v in obj.items())
    return obj


def _devices(device_ids, output_device):
    """``(device_ids, output_device, source device)`` as indices of the accelerator."""
    kind = accelerator.current_accelerator()
    if device_ids is None:
        device_ids = list(range(accelerator.device_count()))
    ids = [d if isinstance(d, int) else autograd.device(d).index or 0 for d in device_ids]
    if not ids:
        raise RuntimeError('no available devices were found')
    if len(ids) > 1:
        raise NotImplementedError(
            f'DataParallel over several devices ({ids}) is not implemented here; use one '
            'device, or nn.parallel.DistributedDataParallel (one process per device)')
    out = ids[0] if output_device is None else output_device
    out = out if isinstance(out, int) else autograd.device(out).index or 0
    return ids, out, autograd.device(kind.type, ids[0])


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: runs
    ``module`` on the accelerator's device, or passes through without an accelerator."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not accelerator.is_available():
            self.module = module
            self.device_ids = []
            return
        self.dim = dim
        self.module = module
        self.device_ids, self.output_device, self.src_device_obj = _devices(device_ids,
                                                                             output_device)
        self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(
                    'module must have its parameters and buffers on device '
                    f'{self.src_device_obj} (device_ids[0]) but found one of them on device: '
                    f'{t.device}')
        return self.module(*_to(inputs, self.src_device_obj),
                           **_to(kwargs, self.src_device_obj))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """The functional form: ``module(*inputs)`` on the accelerator's device (RuntimeError
    without an accelerator, as PyTorch's)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not accelerator.is_available():
        raise RuntimeError('device type could not be determined')
    _, _, src = _devices(device_ids, output_device)
    return module(*_to(inputs, src), **_to(module_kwargs or {}, src))

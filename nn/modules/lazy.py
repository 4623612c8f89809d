"""Lazy modules (PyTorch's ``torch.nn.modules.lazy`` and the ``Lazy*`` layers): the input
size (``in_features``, ``in_channels``, ``num_features``) is read from the first input.

A lazy layer is its regular class built with size 0 and ``UninitializedParameter`` /
``UninitializedBuffer`` placeholders.  A forward pre-hook runs ``initialize_parameters`` at
the first call: it materialises the placeholders in place (each keeps its identity, so an
optimizer built before the first call steps the real parameters), initialises them as the
regular class does (``reset_parameters``), removes the hooks and turns the module into
``cls_to_become`` (the regular class).  A ``state_dict`` of an uninitialised module holds
the placeholders themselves; loading a materialised state dict materialises them first.
"""
import itertools

from autograd import int64, no_grad, tensor

from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, _BatchNorm, _InstanceNorm, _NormBase)

__all__ = ['LazyLinear', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d',
           'LazyBatchNorm3d', 'LazyInstanceNorm1d', 'LazyInstanceNorm2d', 'LazyInstanceNorm3d']


class LazyModuleMixin:
    """Mixed in before a ``Module`` class: ``initialize_parameters(*args, **kwargs)`` (given
    the first call's arguments) must materialise every uninitialised parameter and buffer;
    afterwards the module becomes ``cls_to_become`` (if not None)."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # the placeholders themselves (detaching one would make an empty tensor)
        for name, value in itertools.chain(
                self._parameters.items(),
                ((k, v) for k, v in self._buffers.items()
                 if k not in self._non_persistent_buffers_set)):
            if value is not None:
                destination[prefix + name] = value if is_lazy(value) or keep_vars \
                    else value.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Before loading: a placeholder whose checkpoint entry is a real tensor takes that
        tensor's shape, so that the load copies into it."""
        for name, value in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and value is not None and is_lazy(value):
                loaded = state_dict[key]
                if not is_lazy(loaded):
                    with no_grad():
                        value.materialize(loaded.shape)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(
            f'initialize_parameters is not implemented for {type(self).__name__}')

    def has_uninitialized_params(self):
        """Whether a parameter or buffer is still a placeholder."""
        return any(is_lazy(v) for v in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f'module {type(self).__name__} has not been fully initialized')
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, '_initialize_hook')
        delattr(module, '_load_hook')
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` with ``in_features`` read from the last dim of the first input."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        # no bias now: a tensor made only to be replaced
        super().__init__(0, 0, False)
        factory = dict(device=device, dtype=dtype)
        self.weight = UninitializedParameter(**factory)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**factory)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:       # materialised by load_state_dict: read it back
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f'The in_features inferred from input: {input.shape[-1]} '
                                     'is not equal to in_features from self.weight: '
                                     f'{self.weight.shape[-1]}')
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` from dim 1 of batched input (dim 0 of
    unbatched).  (Materialised by ``load_state_dict`` instead, they keep ``in_channels``
    0, as PyTorch's do.)"""
    _dims = 0

    def _lazy_init(self, out_channels, bias, device, dtype):
        factory = dict(device=device, dtype=dtype)
        self.weight = UninitializedParameter(**factory)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(**factory)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError('in_channels must be divisible by groups')
            k = tuple(self.kernel_size)
            with no_grad():
                if self.transposed:
                    self.weight.materialize((self.in_channels, self.out_channels // self.groups)
                                            + k)
                else:
                    self.weight.materialize((self.out_channels, self.in_channels // self.groups)
                                            + k)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input):
        unbatched, batched = self._dims + 1, self._dims + 2
        if input.ndim not in (unbatched, batched):
            raise RuntimeError(f'Expected {unbatched}D (unbatched) or {batched}D (batched) input '
                               f'to {type(self).__name__}, but got input of size: '
                               f'{input.shape}')
        return input.shape[1] if input.ndim == batched else input.shape[0]


def _lazy_conv(base, dims):
    """``LazyConv<dims>d`` over the convolution class ``base``."""
    class LazyConv(_LazyConvXdMixin, base):
        __doc__ = f'``{base.__name__}`` with ``in_channels`` read from the first input.'
        cls_to_become = base
        _dims = dims

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode='zeros', device=None, dtype=None):
            super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                             padding_mode, device=device, dtype=dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    LazyConv.__name__ = LazyConv.__qualname__ = f'Lazy{base.__name__}'
    return LazyConv


def _lazy_conv_transpose(base, dims):
    """``LazyConvTranspose<dims>d`` over the transposed convolution class ``base``."""
    class LazyConvTranspose(_LazyConvXdMixin, base):
        __doc__ = f'``{base.__name__}`` with ``in_channels`` read from the first input.'
        cls_to_become = base
        _dims = dims

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode='zeros', device=None,
                     dtype=None):
            super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                             dilation, padding_mode, device=device, dtype=dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    LazyConvTranspose.__name__ = LazyConvTranspose.__qualname__ = f'Lazy{base.__name__}'
    return LazyConvTranspose


LazyConv1d = _lazy_conv(Conv1d, 1)
LazyConv2d = _lazy_conv(Conv2d, 2)
LazyConv3d = _lazy_conv(Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, 3)


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """The lazy normalisations: ``num_features`` from dim 1 of the first input (as PyTorch,
    for unbatched input too); weight, bias and the running statistics are placeholders."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        factory = dict(device=device, dtype=dtype)
        # nothing made now that would only be replaced
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(**factory)
            if bias:
                self.bias = UninitializedParameter(**factory)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = tensor(0, dtype=int64, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                shape = (self.num_features,)
                if self.affine:
                    self.weight.materialize(shape)
                    if self.bias is not None:
                        self.bias.materialize(shape)
                if self.track_running_stats:
                    self.running_mean.materialize(shape)
                    self.running_var.materialize(shape)
                self.reset_parameters()


def _lazy_norm(base, kind):
    class LazyNorm(_LazyNormBase, kind):
        __doc__ = f'``{base.__name__}`` with ``num_features`` read from the first input.'
        cls_to_become = base
        _input_dims = base._input_dims
    LazyNorm.__name__ = LazyNorm.__qualname__ = f'Lazy{base.__name__}'
    return LazyNorm


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, _BatchNorm)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, _BatchNorm)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, _BatchNorm)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, _InstanceNorm)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, _InstanceNorm)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, _InstanceNorm)

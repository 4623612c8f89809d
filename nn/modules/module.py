"""``Module``: the base class of every layer (PyTorch's ``torch.nn.Module``).

A module owns parameters, buffers and submodules, registered by attribute assignment in
insertion order.  Their dotted names (``'0.weight'``, ``'encoder.layers.1.bias'``) are the
keys of ``state_dict``, identical to PyTorch's so that weights load by name.
"""
import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import autograd
from autograd import Tensor, is_grad_enabled, no_grad
from autograd.extend import Op, array_of, as_dtype, increment_version
from autograd.utils.hooks import RemovableHandle

from ..parameter import Buffer, Parameter, is_lazy
from ..utils.zero_grad import zero_grad_

__all__ = ['Module']

_EXTRA_STATE_KEY_SUFFIX = '_extra_state'


class _IncompatibleKeys(namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])):
    """What ``load_state_dict`` returns: the keys it did not find and did not expect."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return super().__repr__()

    __str__ = __repr__


def _addindent(s, spaces):
    """Indent every line but the first of a multi-line repr by ``spaces``."""
    lines = s.split('\n')
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + '\n' + '\n'.join((' ' * spaces) + ln if ln.strip() else '' for ln in lines)


def _typename(obj):
    t = type(obj)
    return t.__name__ if t.__module__ == 'builtins' else t.__module__ + '.' + t.__qualname__


def _forward_unimplemented(self, *input):
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              '"forward" function')


class Module:
    """Base class for all layers; subclasses define ``__init__`` and ``forward``.

    Assigning a ``Parameter``, a ``Buffer`` or a ``Module`` as an attribute registers it;
    ``module(*args)`` runs the forward pre-hooks, ``forward`` and the forward hooks.
    """
    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False

    def __init__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f'{type(self).__name__}.__init__() got an unexpected keyword '
                            f"argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(f'{type(self).__name__}.__init__() takes 1 positional argument but '
                            f'{len(args) + 1} were given')
        # object.__setattr__: these are plain attributes, not parameters or submodules
        setattr_ = object.__setattr__
        setattr_(self, 'training', True)
        setattr_(self, '_parameters', {})
        setattr_(self, '_buffers', {})
        setattr_(self, '_non_persistent_buffers_set', set())
        setattr_(self, '_backward_pre_hooks', OrderedDict())
        setattr_(self, '_backward_hooks', OrderedDict())
        setattr_(self, '_forward_hooks', OrderedDict())
        setattr_(self, '_forward_hooks_with_kwargs', OrderedDict())
        setattr_(self, '_forward_hooks_always_called', OrderedDict())
        setattr_(self, '_forward_pre_hooks', OrderedDict())
        setattr_(self, '_forward_pre_hooks_with_kwargs', OrderedDict())
        setattr_(self, '_state_dict_hooks', OrderedDict())
        setattr_(self, '_load_state_dict_pre_hooks', OrderedDict())
        setattr_(self, '_modules', {})

    forward = _forward_unimplemented

    # ------------------------------------------------------------------ registration
    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (state that is not learned, e.g. BatchNorm's ``running_mean``).
        Non-persistent buffers are left out of ``state_dict``."""
        self._check_new_name('buffer', name, '_buffers')
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            '(autograd Tensor or None required)')
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Add a parameter (or None, which is skipped by ``parameters()`` and ``state_dict``)."""
        self._check_new_name('parameter', name, '_parameters')
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            '(nn.Parameter or None required)')
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                'compute the value in the forward() method.')
        self._parameters[name] = param

    def _check_new_name(self, kind, name, registry):
        """PyTorch's checks of the name of a new ``kind`` ('parameter' or 'buffer'), to be
        kept in the dict attribute ``registry``."""
        if registry not in self.__dict__:
            raise AttributeError(f'cannot assign {kind} before Module.__init__() call')
        if not isinstance(name, str):
            raise TypeError(f'{kind} name should be a string. Got {_typename(name)}')
        if '.' in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == '':
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def add_module(self, name, module):
        """Add a child module, reachable as the attribute ``name``."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f'{_typename(module)} is not a Module subclass')
        if not isinstance(name, str):
            raise TypeError(f'module name should be a string. Got {_typename(name)}')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if '.' in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == '':
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of ``add_module``."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` ('' is ``self``)."""
        if target == '':
            return self
        mod = self
        for item in target.split('.'):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + ' has no attribute `' + item + '`')
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError('`' + item + '` is not an nn.Module')
        return mod

    def _owner_of(self, target):
        """The submodule that has the attribute at the dotted path ``target``, and the
        attribute's name there."""
        module_path, _, name = target.rpartition('.')
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + ' has no attribute `' + name + '`')
        return mod, name

    def get_parameter(self, target):
        """The parameter at the dotted path ``target``."""
        mod, name = self._owner_of(target)
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError('`' + name + '` is not an nn.Parameter')
        return param

    def get_buffer(self, target):
        """The buffer at the dotted path ``target``."""
        mod, name = self._owner_of(target)
        if name not in mod._buffers:
            raise AttributeError('`' + name + '` is not a buffer')
        return getattr(mod, name)

    def get_extra_state(self):
        """Override (with ``set_extra_state``) to save non-tensor state in ``state_dict``."""
        raise RuntimeError('Reached a code path in Module.get_extra_state() that should never be '
                           'called.')

    def set_extra_state(self, state):
        raise RuntimeError('Reached a code path in Module.set_extra_state() that should never be '
                           'called.')

    # ------------------------------------------------------------------ attribute protocol
    def __getattr__(self, name):
        # only reached when normal lookup fails: look in the registries
        d = self.__dict__
        if '_parameters' in d:
            if name in d['_parameters']:
                return d['_parameters'][name]
            if name in d['_buffers']:
                return d['_buffers'][name]
            if name in d['_modules']:
                return d['_modules'][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__

        def remove_from(*containers):
            for c in containers:
                if name in c:
                    if isinstance(c, dict):
                        del c[name]
                    else:
                        c.discard(name)

        params = d.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError('cannot assign parameters before Module.__init__() call')
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                '(nn.Parameter or None expected)')
            self.register_parameter(name, value)
        else:
            modules = d.get('_modules')
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError('cannot assign module before Module.__init__() call')
                remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                    f"'{name}' (nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = d.get('_buffers')
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer "
                                        f"'{name}' (nn.Buffer, autograd Tensor or None expected)")
                    persistent = value.persistent if isinstance(value, Buffer) else \
                        name not in self._non_persistent_buffers_set
                    self.register_buffer(name, value, persistent)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        attrs = dir(self.__class__) + list(self.__dict__.keys()) + list(self._parameters) + \
            list(self._modules) + list(self._buffers)
        # integer-named children (Sequential's '0', '1') are not attribute names
        return sorted(a for a in attrs if not a[:1].isdigit())

    # ------------------------------------------------------------------ traversal
    def _named_members(self, get_members_fn, prefix='', recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None or v in memo:
                    continue
                if remove_duplicate:
                    memo.add(v)
                yield module_prefix + ('.' if module_prefix else '') + k, v

    def parameters(self, recurse=True):
        """The parameters of this module (and of all submodules when ``recurse``), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` pairs in registration order."""
        return self._named_members(lambda m: m._parameters.items(), prefix=prefix,
                                   recurse=recurse, remove_duplicate=remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix=prefix, recurse=recurse,
                                   remove_duplicate=remove_duplicate)

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_children(self):
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        """``(dotted name, module)`` for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ('.' if prefix else '') + name,
                                            remove_duplicate)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError('training mode is expected to be boolean')
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None, or zeroed in place)."""
        zero_grad_(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ devices and dtypes
    def _apply(self, fn, recurse=True):
        """Replace every parameter's and buffer's tensor by ``fn(tensor)``.

        Parameters keep their identity (their ``data`` is reassigned), so optimizers built
        on them still see them, as with PyTorch's ``module.to``.
        """
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                param.data = fn(param)
                if param.grad is not None:
                    param.grad.data = fn(param.grad)
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on ``self``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``, in place.

        Only floating-point parameters and buffers change dtype; all change device.
        """
        device, dtype = _parse_to(*args, **kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError('nn.Module.to only accepts floating point or complex dtypes, but got '
                            f'desired dtype={dtype}')

        def convert(t):
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)
        return self._apply(convert)

    def cuda(self, device=None):
        dev = autograd.device('cuda' if device is None else
                              f'cuda:{device}' if isinstance(device, int) else device)
        return self._apply(lambda t: t.to(device=dev))

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        dt = as_dtype(dst_type)
        return self._apply(lambda t: t.to(dtype=dt))

    def _float_to(self, dt):
        return self._apply(lambda t: t.to(dtype=dt) if t.is_floating_point() else t)

    def float(self):
        return self._float_to(autograd.float32)

    def double(self):
        return self._float_to(autograd.float64)

    def half(self):
        return self._float_to(autograd.float16)

    def bfloat16(self):
        return self._float_to(autograd.bfloat16)

    # ------------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own parameters and persistent buffers into ``destination``."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix='', keep_vars=False):
        """An ordered dict ``dotted name -> tensor`` of all parameters and persistent buffers
        (detached unless ``keep_vars``; they share storage with the module's tensors)."""
        if args:
            destination = args[0] if destination is None else destination
            if len(args) > 1 and prefix == '':
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        # the class attribute ``_version`` (as PyTorch's): the format of the layer's saved
        # state, raised when it changes and read back by _load_from_state_dict
        local_metadata = dict(version=getattr(type(self), '_version'))
        if hasattr(destination, '_metadata'):
            destination._metadata[prefix[:-1]] = local_metadata
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + '.',
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                destination = result
        return destination

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        if with_module:
            module = self
            wrapped = (lambda *a: hook(module, *a))
        else:
            wrapped = hook
        return RemovableHandle(self._load_state_dict_pre_hooks, wrapped)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Check this module's own entries of ``state_dict`` and plan their copies.

        Problems go to ``missing_keys``/``unexpected_keys``/``error_msgs``; the copies are
        appended to ``local_metadata['_deferred']`` and run by ``load_state_dict`` only when
        the whole state dict is valid, so a failed load leaves the module unchanged.
        """
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        deferred = local_metadata.get('_deferred')
        if deferred is None:
            deferred = local_metadata['_deferred'] = []
        assign = local_metadata.get('assign_to_params_buffers', False)
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                        persistent.items()) if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected Tensor '
                                  f'or Tensor-like object from checkpoint but received '
                                  f'{type(value)}')
                continue
            lazy = is_lazy(param)           # a lazy module's placeholder takes any shape
            if not lazy and param.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                value = value.reshape(())       # checkpoints that stored scalars as (1,)
            if not lazy and value.shape != param.shape:
                error_msgs.append(f'size mismatch for {key}: copying a param with shape '
                                  f'{value.shape} from checkpoint, the shape in current model is '
                                  f'{param.shape}.')
                continue
            deferred.append((self, name, param, value, assign))
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                deferred.append((self, None, None, state_dict[extra_key], False))
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix):].split('.', 1)
                    if len(head) > 1:
                        if head[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif head[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` into this module's tensors.

        With ``strict``, missing and unexpected keys are errors.  Any error (including a
        shape mismatch) raises ``RuntimeError`` listing every problem, and nothing is copied.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f'Expected state_dict to be dict-like, got {type(state_dict)}.')
        missing_keys, unexpected_keys, error_msgs = [], [], []
        deferred = []
        metadata = getattr(state_dict, '_metadata', None)
        state_dict = OrderedDict(state_dict)

        def load(module, local_state_dict, prefix=''):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            local_metadata['_deferred'] = deferred
            if assign:
                local_metadata['assign_to_params_buffers'] = True
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + '.'
                    load(child, {k: v for k, v in local_state_dict.items()
                                 if k.startswith(child_prefix)}, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, 'Unexpected key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, 'Missing key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError('Error(s) in loading state_dict for {}:\n\t{}'.format(
                type(self).__name__, '\n\t'.join(error_msgs)))
        with no_grad():
            for module, name, param, value, assign_ in deferred:
                if name is None:
                    module.set_extra_state(value)
                elif assign_:
                    _assign(module, name, param, value)
                else:
                    _copy_into(param, value)
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``hook(module, args, kwargs)``) before ``forward``;
        a non-None result replaces the arguments."""
        handle = RemovableHandle(self._forward_pre_hooks, hook)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """``hook(module, args, output)`` (or with ``kwargs``) after ``forward``; a non-None
        result replaces the output."""
        handle = RemovableHandle(self._forward_hooks, hook)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` when the gradients of the outputs are known; a
        non-None result replaces ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks, hook)
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional tensor inputs are known; a non-None result replaces ``grad_input``."""
        handle = RemovableHandle(self._backward_hooks, hook)
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or
                self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError('forward pre-hook must return None or a tuple of '
                                           f'(new_args, new_kwargs), but got {res}.')
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = None
        if self._backward_hooks or self._backward_pre_hooks:
            bw = _BackwardHook(self)
            args = bw.setup_input(args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:
                        pass            # the forward error is the one to report
            raise
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        if bw is not None:
            result = bw.setup_output(result)
        return result

    # ------------------------------------------------------------------ printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The layer's own settings, shown inside its ``repr`` (override in layers)."""
        return ''

    def __repr__(self):
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split('\n')
        child_lines = ['(' + key + '): ' + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + '('
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += '\n  ' + '\n  '.join(lines) + '\n'
        return main + ')'


def _parse_to(*args, device=None, dtype=None, non_blocking=False, copy=False,
              memory_format=None):
    """The ``(device, dtype)`` that ``to(...)`` asks for (either may be None)."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, autograd.dtype):
            dtype = a
        elif isinstance(a, bool):
            non_blocking = a
        elif a is None:              # to(None) changes nothing, as PyTorch
            continue
        elif isinstance(a, (autograd.Device, str, int)):
            device = a
        else:
            raise TypeError(f'to() received an invalid argument {a!r}')
    if device is not None:
        device = autograd.device(f'cuda:{device}' if isinstance(device, int) else device)
    if dtype is not None:
        dtype = as_dtype(dtype)
    return device, dtype


def _copy_into(dst, src):
    """Write ``src``'s values into ``dst``'s array (casting dtype, moving device)."""
    if src.device is not dst.device:
        src = src.to(device=dst.device)
    data = array_of(dst)
    data[...] = array_of(src).astype(data.dtype, copy=False)
    increment_version(dst)


def _assign(module, name, old, value):
    """``load_state_dict(assign=True)``: the module takes the checkpoint's tensor itself."""
    if isinstance(old, Parameter):
        if isinstance(value, Parameter):
            value.requires_grad_(old.requires_grad)
        else:
            value = Parameter(value, requires_grad=old.requires_grad)
        module._parameters[name] = value
    else:
        module._buffers[name] = value


class _HookIdentity(Op):
    """Identity on several tensors whose backward calls ``fn(grads) -> grads``: the
    attachment point of module backward hooks (on the inputs and on the outputs)."""
    __slots__ = ('fn',)

    def forward(self, xp, *arrays, fn=None):
        self.fn = fn
        return tuple(arrays)

    def backward(self, *grads):
        return tuple(self.fn(grads))


class _BackwardHook:
    """Runs a module's full backward (pre-)hooks.

    The module's tensor inputs that require grad pass through one identity node and its
    outputs through another.  The output node sees ``grad_output`` (and applies the
    pre-hooks); the input node, which runs after every use of the inputs inside the
    module has contributed, sees ``grad_input`` and calls the hooks.
    """

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_idx = []            # positions of the inputs that pass through the node
        self.output_idx = []

    def setup_input(self, args):
        self.n_inputs = len(args)
        self.input_idx = [i for i, a in enumerate(args)
                          if isinstance(a, Tensor) and a.requires_grad]
        if not self.input_idx:
            return args
        if not is_grad_enabled():
            return args
        outs = _HookIdentity.apply(*[args[i] for i in self.input_idx], fn=self._on_grad_input)
        args = list(args)
        for i, t in zip(self.input_idx, outs):
            args[i] = t
        return tuple(args)

    def setup_output(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            import warnings
            warnings.warn('For backward hooks to be called, module output should be a Tensor or '
                          f'a tuple of Tensors but received {type(result)}')
            return result
        idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not idx:
            return result
        self.n_outputs = len(outs)
        self.output_idx = idx
        wrapped = _HookIdentity.apply(*[outs[i] for i in idx], fn=self._on_grad_output)
        outs = list(outs)
        for i, t in zip(idx, wrapped):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def _pack(self, grads, idx, n):
        full = [None] * n
        for i, g in zip(idx, grads):
            full[i] = g
        return tuple(full)

    def _on_grad_output(self, grads):
        self.grad_outputs = self._pack(grads, self.output_idx, self.n_outputs)
        for hook in list(self.module._backward_pre_hooks.values()):
            res = hook(self.module, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(self.grad_outputs):
                    raise RuntimeError('Backward pre hook returned an invalid number of '
                                       f'grad_output, got {len(res)}, but expected '
                                       f'{len(self.grad_outputs)}')
                self.grad_outputs = res
        if not self.input_idx:
            # no input needs a gradient: the hooks run now, with grad_input all None
            grad_inputs = (None,) * self.n_inputs
            for hook in list(self.module._backward_hooks.values()):
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not all(r is None for r in res):
                    raise RuntimeError('Backward hook for Modules where no input requires '
                                       'gradient should always return None or None for all '
                                       'gradients.')
        return [self.grad_outputs[i] for i in self.output_idx]

    def _on_grad_input(self, grads):
        grad_inputs = self._pack(grads, self.input_idx, self.n_inputs)
        for hook in list(self.module._backward_hooks.values()):
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grad_inputs):
                    raise RuntimeError('Backward hook returned an invalid number of grad_input, '
                                       f'got {len(res)}, but expected {len(grad_inputs)}')
                grad_inputs = res
        return [grad_inputs[i] for i in self.input_idx]

"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

An optimizer holds ``param_groups`` (a list of dicts, each with a ``'params'`` list and
the hyper-parameters for those parameters) and ``state`` (a dict keyed by the parameter
tensor itself: tensors hash by identity).  Subclasses implement ``_init_state`` (create
the per-parameter buffers on the parameter's device) and ``_update`` (one in-place step
for one parameter); the base class walks the groups under ``no_grad``.
"""
import warnings
from collections import defaultdict
from itertools import chain

import autograd
from autograd import Tensor
from autograd.extend import array_of, increment_version
from nn.utils.zero_grad import zero_grad_

__all__ = ['Optimizer', 'required']


class _RequiredParameter:
    """Marks a hyper-parameter that every group must give (``optim.optimizer.required``)."""

    def __repr__(self):
        return '<required parameter>'


required = _RequiredParameter()


def _scalar_dtype():
    """The dtype of step counters: float64 when that is the default dtype, else float32."""
    return autograd.float64 if autograd.get_default_dtype() is autograd.float64 \
        else autograd.float32


def _step_tensor(value=0.0):
    """A step counter as PyTorch keeps it: a 0-d float tensor on the CPU."""
    return autograd.tensor(float(value), dtype=_scalar_dtype(), device='cpu')


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError('Tensor lr must be 1-element')
    if not 0.0 <= lr:
        raise ValueError(f'Invalid learning rate: {lr}')


_LABELS = {'eps': 'epsilon'}      # PyTorch's messages spell out this one name


def _check_nonnegative(**values):
    """PyTorch's ``Invalid <name> value: <value>`` for the first negative value given."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f'Invalid {_LABELS.get(name, name)} value: {value}')


def _check_betas(betas):
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f'Invalid beta parameter at index {i}: {b}')


def _check_flags(differentiable=False, fused=None, foreach=None):
    """The PyTorch keyword flags are accepted; the update is the same single-tensor one."""
    if differentiable:
        raise NotImplementedError('differentiable=True (differentiating through the optimizer '
                                  'step) is not supported')
    if fused and foreach:
        raise RuntimeError('`fused` and `foreach` cannot be `True` together.')


def _to_scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def _start_state(state, p, *buffers):
    """A parameter's state at its first step: the step counter and the named buffers,
    zeros shaped like ``p``."""
    state['step'] = _step_tensor()
    for name in buffers:
        state[name] = autograd.zeros_like(p)


def _l2_grad(p, grad, group):
    """The gradient the update follows: negated for ``maximize``, plus the L2 penalty's
    ``weight_decay * p``."""
    if group['maximize']:
        grad = -grad
    if group['weight_decay'] != 0:
        grad = grad.add(p, alpha=group['weight_decay'])
    return grad


def _next_step(state):
    """Advance ``state['step']`` (a 0-d tensor) in place and return the new count as a number."""
    step_t = state['step']
    count = array_of(step_t)
    count += 1
    increment_version(step_t)
    return float(count)


# The fast update paths (SGD, Adam) work on the tensors' arrays (``array_of``): ufuncs with
# ``out=`` change the parameter and state buffers in place (no graph, no tensor wrappers,
# one temporary per formula term), and each changed tensor's version counter is bumped
# once (``increment_version``), as one in-place op would.  They follow PyTorch's formulas
# term by term, so results match its single-tensor path to rounding.


def _lerp_(xp, a, b, w):
    """``a = lerp(a, b, w)`` in place with PyTorch's two-sided formula (exact at w = 0, 1):
    ``a + w (b - a)`` for ``|w| < 0.5``, else ``b - (b - a)(1 - w)``.  Returns its scratch
    array (``a``'s shape and dtype), free for the caller's next temporary."""
    d = xp.subtract(b, a)
    if abs(w) < 0.5:
        d *= w
        a += d
    else:
        d *= 1 - w
        xp.subtract(b, d, out=a)
    return d


# Tensor has no fused ``addcmul_``/``addcdiv_``; these compose them in PyTorch's rounding
# order, ``t + (value * a) * b`` and ``t + (value * a) / b``.
def _addcmul_(t, a, b, value=1):
    return t.add_(a * value * b)


def _addcdiv_(t, a, b, value=1):
    return t.add_(a * value / b)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (param
            groups) each with a ``'params'`` entry and per-group hyper-parameters.
        defaults: the hyper-parameters used where a group does not give them.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError('params argument given to the optimizer should be an iterable of '
                            'Tensors or dicts, but got ' + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError('optimizer got an empty parameter list')
        if not isinstance(param_groups[0], dict):
            param_groups = [{'params': param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [self.__class__.__name__ + ' (']
        for i, group in enumerate(self.param_groups):
            lines.append(f'Parameter Group {i}')
            lines += [f'    {k}: {group[k]}' for k in sorted(group) if k != 'params']
        return '\n'.join(lines) + '\n)'

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters (with optional per-group hyper-parameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f'param_group must be a dict, but got {type(param_group)}')
        params = param_group['params']
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError('optimizer parameters need to be organized in ordered collections, '
                            'but the ordering of tensors in sets will change between runs. '
                            'Please use a list instead.')
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError('all optimizer params should be with/without names. Some param '
                                 'names are missing')
            param_group['param_names'] = names
        param_group['params'] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError('optimizer can only optimize Tensors, but one of the params is '
                                + _typename(p))
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError('parameter group didn\'t specify a value of required '
                                 f'optimization parameter {name}')
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn('optimizer contains a parameter group with duplicate parameters; '
                          'in future, this will cause an error; see '
                          'github.com/pytorch/pytorch/issues/40967 for more information',
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group['params'])
            if ('param_names' in param_group) != ('param_names' in group):
                which = 'with names' if 'param_names' in param_group else 'without names'
                raise ValueError('all optimizer param groups should be with/without names. '
                                 f'cannot add param group {which} to the optimizer')
        if not seen.isdisjoint(ids):
            raise ValueError('some parameters appear in more than one parameter group')
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: drop them (``set_to_none``) or fill them with zeros."""
        zero_grad_(chain.from_iterable(g['params'] for g in self.param_groups), set_to_none)

    # ------------------------------------------------------------------ stepping
    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model with grad enabled and returns the
        loss, which ``step`` returns.  The update runs in place under ``no_grad`` with the
        parameter's own device arrays.
        """
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        with autograd.no_grad():
            work = []
            for group in self.param_groups:     # every gradient checked before any update
                params = []
                for p in group['params']:
                    g = p.grad
                    if g is not None:
                        _check_grad(p, g)
                        params.append(p)
                work.append((group, params))
            for group, params in work:
                self._step_group(group, params)
        return loss

    def _step_group(self, group, params):
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, state, group)
            self._update(p, p.grad, state, group)

    def _init_state(self, p, state, group):
        """Create the per-parameter buffers of ``p`` in ``state`` (lazily, at its first step)."""

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # ------------------------------------------------------------------ state dicts
    def state_dict(self):
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are replaced by their position counted across all groups; the state
        tensors are returned by reference (copy them to keep a snapshot).
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != 'params'}
            for p in group['params']:
                index.setdefault(id(p), len(index))
            packed['params'] = [index[id(p)] for p in group['params']]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {'state': state, 'param_groups': groups}

    def load_state_dict(self, state_dict):
        """Load a state dict from ``state_dict()``: group sizes must match.

        State tensors are copied onto each parameter's device (floating ones in its
        dtype; step counters keep theirs).  On error nothing changes.
        """
        groups = self.param_groups
        saved_groups = [dict(g) for g in state_dict['param_groups']]
        if len(groups) != len(saved_groups):
            raise ValueError('loaded state dict has a different number of parameter groups')
        if any(len(g['params']) != len(s['params']) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g['params'] for g in saved_groups),
                          chain.from_iterable(g['params'] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict['state'].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast(param, value, key) for key, value in v.items()}
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            for key, value in saved.items():
                saved[key] = _copy_value(value)
            saved['params'] = group['params']
            if 'param_names' in group and 'param_names' not in saved:
                saved['param_names'] = group['param_names']
            for key, default in self.defaults.items():
                saved.setdefault(key, default)
        self.state = state
        self.param_groups = saved_groups


def _check_grad(p, g):
    """Refuse a step whose gradient ``g`` cannot update ``p`` (checked before anything
    changes)."""
    if array_of(g).shape != array_of(p).shape or g.device is not p.device:
        raise RuntimeError(f'optimizer step: the gradient of a parameter of shape '
                           f'{list(p.shape)} on {p.device} has shape {list(g.shape)} on '
                           f'{g.device}')


def _cast(param, value, key=None):
    """A copy of ``value`` with its tensors on ``param``'s device (floating ones in its dtype);
    step counters keep their own dtype and device, as PyTorch does."""
    if isinstance(value, Tensor):
        if key == 'step':
            return value.detach().clone()
        dtype = param.dtype if param.is_floating_point() else None
        return value.detach().to(device=param.device, dtype=dtype, copy=True)
    if key == 'step' and isinstance(value, (int, float)):
        return _step_tensor(value)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


def _copy_value(value):
    """A copy of a group hyper-parameter (lists and tensors are not shared with the source)."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    return value


def _typename(obj):
    if isinstance(obj, Tensor):
        return 'autograd.' + type(obj).__name__
    return type(obj).__module__ + '.' + type(obj).__qualname__

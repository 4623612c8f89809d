"""``amp.GradScaler`` (PyTorch's ``torch.amp.GradScaler``): loss scaling for training in
low precision.

The loss is multiplied by a scale before backward so that small float16 gradients do not
flush to zero; ``step`` divides the gradients by it again (``unscale_``) and skips the
optimizer's step when any gradient is inf or NaN; ``update`` halves the scale after such a
step and doubles it after ``growth_interval`` clean steps in a row.  The scale is a 0-d
float32 tensor on the loss's device, as in PyTorch, and the arithmetic on it is PyTorch's:
the inverse scale is ``1/scale`` in float64 rounded to float32, the update multiplies in
float64 and stores float32.
"""
import warnings
from collections import defaultdict
from enum import Enum

import autograd

__all__ = ['GradScaler', 'OptState']


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {'stage': OptState.READY, 'found_inf_per_device': {}}


class GradScaler:
    """``GradScaler(device='cuda', init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``; ``scale(loss)``, ``step(optimizer)``,
    ``update()``, ``unscale_(optimizer)``, ``state_dict()`` as PyTorch's.  For
    ``device='cuda'`` without a usable GPU it warns and disables itself, as PyTorch does."""

    def __init__(self, device='cuda', init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == 'cuda' and enabled and not autograd.cuda.is_available():
            warnings.warn('torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  '
                          'Disabling.', stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError('The growth factor must be > 1.0.')
            if backoff_factor >= 1.0:
                raise AssertionError('The backoff factor must be < 1.0.')
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_fresh_state)

    # ------------------------------------------------------------------ scaling
    def _check_scale_growth_tracker(self, funcname):
        fix = ('This may indicate your script did not use scaler.scale(loss or outputs) '
               'earlier in the iteration.')
        if self._scale is None:
            raise AssertionError(f'Attempted {funcname} but _scale is None.  ' + fix)
        return self._scale, self._growth_tracker

    def _lazy_init(self, dev):
        self._scale = autograd.full((), self._init_scale, dtype=autograd.float32, device=dev)
        self._growth_tracker = autograd.full((), self._init_growth_tracker,
                                             dtype=autograd.int32, device=dev)

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of tensors) times the
        scale; unchanged when disabled."""
        if not self._enabled:
            return outputs

        def apply(val):
            if isinstance(val, autograd.Tensor):
                if self._scale is None:
                    self._lazy_init(val.device)
                return val * self._scale.to(val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply(v) for v in val)
            if hasattr(val, '__iter__'):
                return map(apply, val)
            raise ValueError('outputs must be a Tensor or an iterable of Tensors')
        return apply(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, allow_fp16):
        """Multiply every gradient by ``inv_scale`` in place; ``{device: found_inf}``, a
        0-d float32 tensor per device that is 1 where a gradient had an inf or NaN."""
        nonfinite = {}
        unit = float(inv_scale.item()) == 1.0
        with autograd.no_grad():
            for group in optimizer.param_groups:
                for param in group['params']:
                    g = param.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype == autograd.float16:
                        raise ValueError('Attempting to unscale FP16 gradients.')
                    bad = ~autograd.isfinite(g).all()
                    dev = g.device
                    nonfinite[dev] = bad if dev not in nonfinite else nonfinite[dev] | bad
                    if not unit:
                        g.mul_(inv_scale.to(dev))
        return {dev: bad.to(autograd.float32) for dev, bad in nonfinite.items()}

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale (once per step), recording
        whether any is inf or NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker('unscale_')
        state = self._per_optimizer_states[id(optimizer)]
        if state['stage'] is OptState.UNSCALED:
            raise RuntimeError('unscale_() has already been called on this optimizer since '
                               'the last update().')
        if state['stage'] is OptState.STEPPED:
            raise RuntimeError('unscale_() is being called after step().')
        inv_scale = self._scale.double().reciprocal().float()
        state['found_inf_per_device'] = self._unscale_grads_(optimizer, inv_scale, False)
        state['stage'] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done already) and run ``optimizer.step(*args, **kwargs)`` unless a
        gradient is inf or NaN; returns what the step returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError('Closure use is not currently supported if GradScaler is '
                               'enabled.')
        self._check_scale_growth_tracker('step')
        state = self._per_optimizer_states[id(optimizer)]
        if state['stage'] is OptState.STEPPED:
            raise RuntimeError('step() has already been called since the last update().')
        if state['stage'] is OptState.READY:
            self.unscale_(optimizer)
        if len(state['found_inf_per_device']) == 0:
            raise AssertionError('No inf checks were recorded for this optimizer.')
        retval = None
        if not sum(v.item() for v in state['found_inf_per_device'].values()):
            retval = optimizer.step(*args, **kwargs)
        state['stage'] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Back off after a skipped step, grow after ``growth_interval`` clean ones; or set
        the scale to ``new_scale`` (a float, or a 1-element tensor)."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker('update')
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ('new_scale should be a float or a 1-element torch.cuda.FloatTensor '
                          'or torch.FloatTensor with requires_grad=False.')
                if (new_scale.device.type != self._device or new_scale.numel() != 1
                        or new_scale.requires_grad):
                    raise AssertionError(reason)
                scale.copy_(new_scale.reshape(()))
        else:
            found = [f.item() for s in self._per_optimizer_states.values()
                     for f in s['found_inf_per_device'].values()]
            if not found:
                raise AssertionError('No inf checks were recorded prior to update.')
            # torch._amp_update_scale_: the factor applied in float64, stored as float32
            if sum(found):
                scale.fill_(scale.item() * self._backoff_factor)
                tracker.fill_(0)
            else:
                successful = int(tracker.item()) + 1
                if successful == self._growth_interval:
                    grown = scale.item() * self._growth_factor
                    if grown != float('inf'):
                        scale.fill_(grown)
                    tracker.fill_(0)
                else:
                    tracker.fill_(successful)
        self._per_optimizer_states = defaultdict(_fresh_state)

    # ------------------------------------------------------------------ settings and state
    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None else int(
                self._growth_tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """``scale, growth_factor, backoff_factor, growth_interval, _growth_tracker``
        (empty when disabled), as PyTorch's."""
        if self._enabled:
            return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                    'backoff_factor': self._backoff_factor,
                    'growth_interval': self._growth_interval,
                    '_growth_tracker': self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError('The source state dict is empty, possibly because it was saved '
                               'from a disabled instance of GradScaler.')
        self._init_scale = state_dict['scale']
        if self._scale is not None:
            self._scale.fill_(state_dict['scale'])
        self._growth_factor = state_dict['growth_factor']
        self._backoff_factor = state_dict['backoff_factor']
        self._growth_interval = state_dict['growth_interval']
        self._init_growth_tracker = state_dict['_growth_tracker']
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict['_growth_tracker'])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError('A GradScaler instance may only be pickled at the '
                                     'beginning of an iteration, or at the end after '
                                     'scaler.update().')
            state['_init_scale'] = self.get_scale()
            state['_init_growth_tracker'] = self._get_growth_tracker()
            state['_scale'] = None
            state['_growth_tracker'] = None
            state['_per_optimizer_states'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._enabled:
            self._per_optimizer_states = defaultdict(_fresh_state)

"""Adagrad (Duchi, Hazan & Singer, 2011)."""
from autograd import full_like

from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_flags, _check_lr,
                        _check_nonnegative, _l2_grad, _next_step, _step_tensor, _to_scalar)

__all__ = ['Adagrad']


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    ``s_t = s_{t-1} + g^2``;
    ``theta -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s_t) + eps)``.
    The accumulators exist from construction (filled with ``initial_accumulator_value``).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonnegative(lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        _check_flags(differentiable, fused, foreach)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p, state, group):
        # PyTorch fills from the constructor's value, whatever a group says.
        state['step'] = _step_tensor()
        state['sum'] = full_like(p, self.defaults['initial_accumulator_value'])

    def _update(self, p, grad, state, group):
        step = _next_step(state)
        grad = _l2_grad(p, grad, group)
        clr = _to_scalar(group['lr']) / (1 + (step - 1) * group['lr_decay'])
        state_sum = _addcmul_(state['sum'], grad, grad)
        std = state_sum.sqrt().add_(group['eps'])
        _addcdiv_(p, grad, std, value=-clr)

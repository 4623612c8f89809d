"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7.1)."""
from autograd import zeros_like

from .optimizer import (Optimizer, _addcdiv_, _check_flags, _check_lr, _next_step,
                        _step_tensor, _to_scalar)
from .adam import _check_betas

__all__ = ['Adamax']


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    ``m_t = beta1 m + (1 - beta1) g``; ``u_t = max(beta2 u, |g| + eps)``;
    ``theta -= lr / (1 - beta1^t) * m_t / u_t``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        state['step'] = _step_tensor()
        state['exp_avg'] = zeros_like(p)
        state['exp_inf'] = zeros_like(p)

    def _update(self, p, grad, state, group):
        beta1, beta2 = group['betas']
        if group['maximize']:
            grad = -grad
        step = _next_step(state)
        if group['weight_decay'] != 0:
            grad = grad.add(p, alpha=group['weight_decay'])
        exp_avg = state['exp_avg'].lerp_(grad, 1 - beta1)
        exp_inf = state['exp_inf'].mul_(beta2).maximum_(grad.abs().add_(group['eps']))
        clr = _to_scalar(group['lr']) / (1 - beta1 ** step)
        _addcdiv_(p, exp_avg, exp_inf, value=-clr)

"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7.1)."""
from .optimizer import (Optimizer, _addcdiv_, _check_betas, _check_flags, _check_lr,
                        _check_nonnegative, _l2_grad, _next_step, _start_state, _to_scalar)

__all__ = ['Adamax']


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    ``m_t = beta1 m + (1 - beta1) g``; ``u_t = max(beta2 u, |g| + eps)``;
    ``theta -= lr / (1 - beta1^t) * m_t / u_t``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonnegative(eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        _start_state(state, p, 'exp_avg', 'exp_inf')

    def _update(self, p, grad, state, group):
        beta1, beta2 = group['betas']
        step = _next_step(state)
        grad = _l2_grad(p, grad, group)
        exp_avg = state['exp_avg'].lerp_(grad, 1 - beta1)
        exp_inf = state['exp_inf'].mul_(beta2).maximum_(grad.abs().add_(group['eps']))
        clr = _to_scalar(group['lr']) / (1 - beta1 ** step)
        _addcdiv_(p, exp_avg, exp_inf, value=-clr)

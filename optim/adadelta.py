"""Adadelta (Zeiler, 2012)."""
from .optimizer import (Optimizer, _addcmul_, _check_flags, _check_lr, _check_nonnegative,
                        _l2_grad, _next_step, _start_state, _to_scalar)

__all__ = ['Adadelta']


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    ``v_t = rho v + (1 - rho) g^2``; ``dx = sqrt(u + eps) / sqrt(v_t + eps) * g``;
    ``u_t = rho u + (1 - rho) dx^2``; ``theta -= lr dx``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f'Invalid rho value: {rho}')
        _check_nonnegative(eps=eps, weight_decay=weight_decay)
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        _start_state(state, p, 'square_avg', 'acc_delta')

    def _update(self, p, grad, state, group):
        rho, eps = group['rho'], group['eps']
        _next_step(state)
        grad = _l2_grad(p, grad, group)
        square_avg = _addcmul_(state['square_avg'].mul_(rho), grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = state['acc_delta'].add(eps).sqrt_().div_(std).mul_(grad)
        _addcmul_(state['acc_delta'].mul_(rho), delta, delta, value=1 - rho)
        p.add_(delta, alpha=-_to_scalar(group['lr']))

"""RMSprop (Hinton's lecture 6e; centered form of Graves, 2013)."""
from autograd import zeros_like

from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_flags, _check_lr,
                        _check_nonnegative, _l2_grad, _next_step, _start_state, _to_scalar)

__all__ = ['RMSprop']


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    ``v_t = alpha v + (1 - alpha) g^2``; with ``centered`` the mean ``m_t`` (same
    average of ``g``) is removed: ``avg = sqrt(v_t - m_t^2) + eps``, else
    ``avg = sqrt(v_t) + eps``.  With momentum ``b_t = mu b + g / avg`` and
    ``theta -= lr b_t``; otherwise ``theta -= lr g / avg``.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonnegative(eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        _start_state(state, p, 'square_avg')
        if group['momentum'] > 0:
            state['momentum_buffer'] = zeros_like(p)
        if group['centered']:
            state['grad_avg'] = zeros_like(p)

    def _update(self, p, grad, state, group):
        alpha, eps, momentum = group['alpha'], group['eps'], group['momentum']
        lr = _to_scalar(group['lr'])
        _next_step(state)
        grad = _l2_grad(p, grad, group)
        square_avg = _addcmul_(state['square_avg'].mul_(alpha), grad, grad, value=1 - alpha)
        if group['centered']:
            grad_avg = state['grad_avg'].lerp_(grad, 1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = _addcdiv_(state['momentum_buffer'].mul_(momentum), grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            _addcdiv_(p, grad, avg, value=-lr)

"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""
from autograd import zeros_like

from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_betas, _check_flags, _check_lr,
                        _check_nonnegative, _next_step, _step_tensor, _to_scalar)

__all__ = ['NAdam']


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``.

    Momentum schedule ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))`` with running
    product ``P_t = prod mu_i`` (kept, as in PyTorch, in a 0-d step-dtype tensor);
    ``m, v`` as in Adam and ``denom = sqrt(v_t / (1 - beta2^t)) + eps``;
    ``theta -= lr (1 - mu_t) / (1 - P_t) g / denom + lr mu_{t+1} / (1 - P_t mu_{t+1}) m_t / denom``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonnegative(eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        state['step'] = _step_tensor()
        state['mu_product'] = _step_tensor(1.0)
        state['exp_avg'] = zeros_like(p)
        state['exp_avg_sq'] = zeros_like(p)

    def _update(self, p, grad, state, group):
        lr = _to_scalar(group['lr'])
        beta1, beta2 = group['betas']
        weight_decay, momentum_decay = group['weight_decay'], group['momentum_decay']
        if group['maximize']:
            grad = -grad
        step = _next_step(state)
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if group['decoupled_weight_decay']:
                p.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(p, alpha=weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state['mu_product'].mul_(mu).item()
        mu_product_next = mu_product * mu_next
        exp_avg = state['exp_avg'].lerp_(grad, 1 - beta1)
        exp_avg_sq = _addcmul_(state['exp_avg_sq'].mul_(beta2), grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(group['eps'])
        _addcdiv_(p, grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        _addcdiv_(p, exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))

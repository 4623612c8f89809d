"""Stochastic gradient descent with optional (Nesterov) momentum."""
from autograd.extend import array_of, axpy, increment_version, wrap, xp_of

from .optimizer import Optimizer, _check_flags, _check_lr, _to_scalar

__all__ = ['SGD']


class SGD(Optimizer):
    """SGD, as ``torch.optim.SGD``.

    With momentum ``mu`` and dampening ``tau`` (Sutskever et al., 2013):
    ``b_1 = g_1``, ``b_t = mu * b_{t-1} + (1 - tau) * g_t``; the step uses
    ``g_t + mu * b_t`` (nesterov) or ``b_t``; then ``theta -= lr * step``.
    ``g_t`` includes ``weight_decay * theta`` and is negated when ``maximize``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if weight_decay < 0.0:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        _check_flags(differentiable, fused, foreach)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('Nesterov momentum requires a momentum and zero dampening')
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        if group['momentum'] != 0:
            return super()._step_group(group, params)
        for p in params:                  # plain SGD keeps no per-parameter state
            self._update(p, p.grad, None, group)

    def _update(self, p, grad, state, group):
        d, g = array_of(p), array_of(grad)
        if group['maximize']:
            g = -g
        if group['weight_decay'] != 0:
            g = g + group['weight_decay'] * d
        momentum = group['momentum']
        if momentum != 0:
            buf = state.get('momentum_buffer')
            if buf is None:
                b = xp_of(p).array(g, copy=True)
                state['momentum_buffer'] = wrap(b, p.device)
            else:
                b = array_of(buf)
                b *= momentum
                dampening = group['dampening']
                if dampening == 0:
                    b += g
                else:
                    axpy(1 - dampening, g, b)
                increment_version(buf)
            g = g + momentum * b if group['nesterov'] else b
        # PyTorch's p.add_(step, alpha=-lr): one fused pass where BLAS serves it
        axpy(-_to_scalar(group['lr']), g, d)
        increment_version(p)

"""Custom ``Function``s written once and built for either library: ``lib`` is ``torch`` or
``autograd``, and the same class body runs on both (tests of ``autograd.Function`` and of
gradcheck compare the two)."""
import autograd
from oracle import torch


def function_base(lib):
    """``torch.autograd.Function`` or ``autograd.Function``."""
    return torch.autograd.Function if lib is torch else autograd.Function


def function(lib, name, forward, backward, setup_context=None):
    """A Function subclass called ``name`` (its graph node is ``<name>Backward``) with these
    static ``forward``/``backward`` (and ``setup_context``, for the ctx-free forward style)."""
    body = dict(forward=staticmethod(forward), backward=staticmethod(backward))
    if setup_context is not None:
        body['setup_context'] = staticmethod(setup_context)
    return type(name, (function_base(lib),), body)


def cube(lib, wrong_first=False, wrong_second=False):
    """x^3, saving its input; backward 3 x^2 in tensor ops (so it differentiates again),
    optionally wrong at first order (2 x^2) or second order (right value, but through
    ``x.detach()``: no second derivative)."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    def backward(ctx, g):
        x, = ctx.saved_tensors
        if wrong_first:
            return g * 2 * x ** 2
        if wrong_second:
            return g * 3 * x.detach() ** 2
        return g * 3 * x ** 2
    return function(lib, 'Cube', forward, backward)


def scaled_exp(lib, factor=1):
    """exp, saving its own output y; backward g y ``factor`` (``factor`` != 1: wrong by that
    relative error)."""
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y * factor
    return function(lib, 'ScaledExp', forward, backward)

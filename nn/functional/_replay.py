"""The second-order backward of a gradient node, by replaying its formula.

A fused backward node (layer norm's ``NormGrad``, the recurrent layers' gradient nodes)
computes first derivatives on arrays, with no graph.  Its own backward replays the first
derivatives as a formula of ops and differentiates that, so double backward needs no
second hand-written formula."""
import autograd
from autograd.extend import array_of, device_of_array, wrap


def replay_backward(inputs, cotangents, vjp, needed):
    """The derivative of a gradient node by replaying its gradients as a formula
    (``vjp(*inputs)``, a tuple) and differentiating that: sum_j cotangent_j .
    d vjp_j / d inputs, for the inputs that are ``needed`` (a graph of it recorded when
    grad mode is on).  Stand-ins for the inputs (views where an input requires grad,
    fresh leaves elsewhere) make these partial derivatives that still connect to the
    inputs for higher derivatives; an array sweep's arrays are wrapped for the replay, and
    its results handed back as arrays."""
    create = autograd.is_grad_enabled()
    arrays = not any(isinstance(x, autograd.Tensor) for x in inputs)
    wrt = [i for i, x in enumerate(inputs) if needed[i] and x is not None and hasattr(x, 'shape')]
    xs = list(inputs)
    with autograd.enable_grad():
        for i, x in enumerate(inputs):
            if arrays and hasattr(x, 'shape'):
                xs[i] = wrap(x, device_of_array(x), requires_grad=i in wrt)
            elif isinstance(x, autograd.Tensor):
                xs[i] = x.view_as(x) if x.requires_grad else x.detach().requires_grad_()
        firsts = vjp(*xs)
    if arrays:
        cotangents = [None if c is None else wrap(c, device_of_array(c)) for c in cotangents]
    pairs = [(f, c) for f, c in zip(firsts, cotangents)
             if c is not None and f is not None and f.requires_grad]
    grads = [None] * len(inputs)
    if pairs and wrt:
        found = autograd.grad([f for f, _ in pairs], [xs[i] for i in wrt],
                              [c for _, c in pairs], create_graph=create, allow_unused=True)
        for i, d in zip(wrt, found):
            grads[i] = array_of(d) if arrays and d is not None else d
    return tuple(grads)

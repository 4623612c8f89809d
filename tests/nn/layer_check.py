"""Layer-level differential testing: the same layer in PyTorch and here, same weights.

``check_layer`` builds a layer with each library, copies PyTorch's ``state_dict`` into
ours (through NumPy, by key, so the key names and shapes must match PyTorch's), runs the
same float64 inputs through both, and compares every output, the input gradients, each
parameter gradient and each buffer (running statistics after a training pass).
Without PyTorch it checks our layer alone: the passes run, and the gradients with respect
to the floating inputs and the parameters match finite differences (``gradcheck``).
"""
import numpy as np

import autograd
import nn
from oracle import HAVE_TORCH, UNCHECKED, assert_close, torch

TOL = dict(rtol=1e-8, atol=1e-10)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def copy_state(theirs, ours):
    """Load the PyTorch layer's state into ours (strict: every key must match)."""
    state = {k: autograd.tensor(v.detach().cpu().numpy().copy())
             for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def check_layer(build, *inputs, call=None, train=True, steps=1, seed=0, tol=TOL,
                derivative=True):
    """``build(lib_nn)`` makes the layer (``lib_nn`` is ``torch.nn`` or ``nn``);
    ``call(layer, *tensors)`` runs it (default ``layer(*tensors)``).  Floating NumPy
    inputs require grad.  Runs ``steps`` forward/backward passes, then compares.  Returns
    both layers (PyTorch's is None without PyTorch: then see ``check_alone``, and
    ``derivative=False`` says that the gradients are, by PyTorch's convention, not the
    derivatives, so that finite differences cannot check them)."""
    if not HAVE_TORCH:
        return None, check_alone(build, *inputs, call=call, train=train, steps=steps,
                                 seed=seed, derivative=derivative)
    torch.manual_seed(seed)
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    copy_state(theirs, ours)
    theirs.train(train)
    ours.train(train)
    call = call or (lambda layer, *xs: layer(*xs))
    results = []
    for lib, layer in ((torch, theirs), (autograd, ours)):
        xs, outs = _passes(lib, layer, call, inputs, steps, seed)
        results.append(dict(
            outs=outs,
            grads=[x.grad for x in xs if getattr(x, 'requires_grad', False)],
            params={k: p.grad for k, p in layer.named_parameters()},
            buffers=dict(layer.named_buffers())))
    t, o = results
    assert len(t['outs']) == len(o['outs']), 'number of outputs'
    for i, (a, b) in enumerate(zip(o['outs'], t['outs'])):
        assert_close(a, b, f'output {i}', **tol)
    for i, (a, b) in enumerate(zip(o['grads'], t['grads'])):
        assert_close(a, b, f'gradient of input {i}', **tol)
    assert sorted(o['params']) == sorted(t['params']), 'parameter names'
    for k in t['params']:
        assert_close(o['params'][k], t['params'][k], f'gradient of {k}', **tol)
    assert sorted(o['buffers']) == sorted(t['buffers']), 'buffer names'
    for k in t['buffers']:
        assert_close(o['buffers'][k], t['buffers'][k], f'buffer {k}', **tol)
    return theirs, ours


def _passes(lib, layer, call, inputs, steps, seed):
    """``steps`` forward/backward passes of ``layer`` (a random weighted sum of its float64
    outputs) on ``lib``'s tensors of ``inputs``; returns those tensors and the outputs."""
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == 'f') if isinstance(a, np.ndarray)
          else a for a in inputs]
    for _ in range(steps):
        outs = _flat(call(layer, *xs))
        ws = [np.random.default_rng(seed + i).standard_normal(tuple(o.shape))
              for i, o in enumerate(outs)]
        loss = sum((o * lib.tensor(w)).sum() for o, w in zip(outs, ws)
                   if o.dtype == lib.float64 and o.requires_grad)
        if not isinstance(loss, int):
            loss.backward()
    return xs, outs


def check_alone(build, *inputs, call=None, train=True, steps=1, seed=0, derivative=True):
    """``check_layer`` without an oracle: build our layer in float64, run the ``steps``
    passes (each gradient shaped as its tensor), then check the gradients of the outputs
    with respect to the floating inputs and the parameters against central finite
    differences with ``autograd.gradcheck``.  Outputs and buffers are not checked; a
    random forward (dropout in training) or a layer without anything to differentiate
    goes to ``UNCHECKED``."""
    autograd.manual_seed(seed)
    ours = build(nn).double()
    ours.train(train)
    call = call or (lambda layer, *xs: layer(*xs))
    before = {k: b.detach().cpu().numpy().copy() for k, b in ours.named_buffers()}
    xs, _ = _passes(autograd, ours, call, inputs, steps, seed)
    for name, t in [(f'input {i}', x) for i, x in enumerate(xs)] + list(
            ours.named_parameters()):
        if getattr(t, 'grad', None) is not None:
            assert t.grad.shape == t.shape and t.grad.dtype == t.dtype, name
    if any(not np.array_equal(b.detach().cpu().numpy(), before[k], equal_nan=True)
           for k, b in ours.named_buffers()):
        UNCHECKED.append('buffers (running statistics)')
    diff = [x for x in xs if getattr(x, 'requires_grad', False)] + [
        p for p in ours.parameters() if p.requires_grad]
    if not diff:
        UNCHECKED.append('outputs (nothing to differentiate)')
        return ours
    if not derivative:
        UNCHECKED.append("gradients (PyTorch's convention, not the derivative)")
        return ours

    def f(*_):      # gradcheck perturbs the inputs and parameters in place
        return tuple(o for o in _flat(call(ours, *xs)) if o.dtype.is_floating_point)

    with autograd.no_grad():
        first, again = [[o.detach() for o in f()] for _ in range(2)]
    if any(not np.array_equal(a.cpu().numpy(), b.cpu().numpy(), equal_nan=True)
           for a, b in zip(first, again)):
        UNCHECKED.append('gradients (the forward is random)')
        return ours
    autograd.gradcheck(f, tuple(diff))
    return ours


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())

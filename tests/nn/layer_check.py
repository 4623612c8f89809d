"""Layer-level differential testing: the same layer in PyTorch and here, same weights.

``check_layer`` builds a layer with each library, copies PyTorch's ``state_dict`` into
ours (through NumPy, by key, so the key names and shapes must match PyTorch's), runs the
same float64 inputs through both, and compares every output, the input gradients, each
parameter gradient and each buffer (running statistics after a training pass).
"""
import numpy as np

import autograd
import nn
from oracle import assert_close, torch

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


def check_layer(build, *inputs, call=None, train=True, steps=1, seed=0, tol=TOL):
    """``build(lib_nn)`` makes the layer (``lib_nn`` is ``torch.nn`` or ``nn``);
    ``call(layer, *tensors)`` runs it (default ``layer(*tensors)``).  Floating NumPy
    inputs require grad.  Runs ``steps`` forward/backward passes, then compares."""
    torch.manual_seed(seed)
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    copy_state(theirs, ours)
    theirs.train(train)
    ours.train(train)
    call = call or (lambda layer, *xs: layer(*xs))
    results = []
    for lib, layer in ((torch, theirs), (autograd, ours)):
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


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())

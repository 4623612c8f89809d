"""The recurrent fast paths of issue 19 against PyTorch, in float32 and float64: the LSTM
layer's backward on the products its forward keeps (i g, f c, h'), and the feature-major
GRUCell step (GRUStepOp / GRUStepGrad: gates as (3H, B) blocks, factors formed in place).
Odd sizes, batch 1, non-contiguous inputs, loss on the last step only or on everything,
and gradients wanted for some inputs only."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from oracle import rand, to_numpy, torch

TOL = {'float64': dict(rtol=1e-9, atol=1e-11), 'float32': dict(rtol=2e-4, atol=2e-5)}


def _pair(build, dtype, seed=0):
    """The same module in both libraries, PyTorch's float64 initialisation loaded into ours
    and cast to ``dtype``."""
    ref = build(torch.nn).double()
    state = {k: v.detach().numpy().astype(dtype) for k, v in ref.state_dict().items()}
    pair = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        m = build(mod)
        m = m.double() if dtype == 'float64' else m.float()
        m.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        pair.append((lib, m))
    return pair


def _compare(results, dtype):
    for ours, theirs in zip(results[1], results[0]):
        if theirs is None:
            assert ours is None
            continue
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, **TOL[dtype])


@settings(max_examples=10, deadline=None, derandomize=True)
@given(T=st.integers(1, 6), B=st.sampled_from([1, 3, 8]), H=st.sampled_from([1, 5, 8]),
       bidirectional=st.booleans(), bias=st.booleans(), batch_first=st.booleans(),
       last_only=st.booleans(), states=st.booleans(),
       dtype=st.sampled_from(['float32', 'float64']))
def test_lstm_layer_values_and_gradients(T, B, H, bidirectional, bias, batch_first, last_only,
                                         states, dtype):
    """Outputs, final states and every gradient of a one- or two-direction LSTM layer; the
    input is a transposed view (non-contiguous) and does not require grad when the loss is
    on the last step only (gradients for some inputs only), given states require grad."""
    I = 3
    x = rand(B, T, I, seed=T * 10 + B).astype(dtype)
    h0 = rand(2 if bidirectional else 1, B, H, seed=1).astype(dtype)
    c0 = rand(2 if bidirectional else 1, B, H, seed=2).astype(dtype)
    results = []
    for lib, layer in _pair(lambda m: m.LSTM(I, H, bias=bias, bidirectional=bidirectional,
                                              batch_first=batch_first), dtype):
        xt = lib.tensor(x, requires_grad=not last_only)
        inp = xt if batch_first else xt.transpose(0, 1)         # (T, B, I): a strided view
        hx = (lib.tensor(h0, requires_grad=True), lib.tensor(c0, requires_grad=True)) \
            if states else None
        out, (h, c) = layer(inp, hx)
        if last_only:
            loss = (out[:, -1] if batch_first else out[-1]).pow(2).sum()
        else:
            loss = (out * out).sum() + (h * c).sum() + c.sum()
        loss.backward()
        results.append([to_numpy(out), to_numpy(h), to_numpy(c), to_numpy(xt.grad)]
                       + ([to_numpy(t.grad) for t in hx] if states else [])
                       + [to_numpy(p.grad) for p in layer.parameters()])
    _compare(results, dtype)


def test_lstm_layer_with_frozen_input_weights_and_gradcheck():
    """W_ih frozen: no gradient for it, the others as PyTorch's; and the layer's first and
    second derivatives against finite differences."""
    for dtype in ('float32', 'float64'):
        x = rand(4, 2, 3, seed=5).astype(dtype)
        results = []
        for lib, layer in _pair(lambda m: m.LSTM(3, 5), dtype):
            layer.weight_ih_l0.requires_grad_(False)
            out, (h, c) = layer(lib.tensor(x))
            (out.sum() + (c * c).sum()).backward()
            results.append([to_numpy(p.grad) for p in layer.parameters()])
        _compare(results, dtype)
    layer = nn.LSTM(2, 3).double()
    xt = autograd.tensor(rand(3, 2, 2, seed=6), requires_grad=True)
    f = lambda x: layer(x)[0]
    assert autograd.gradcheck(f, (xt,))
    assert autograd.gradgradcheck(f, (xt,))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(B=st.sampled_from([1, 2, 7, 16]), I=st.sampled_from([1, 5]), H=st.sampled_from([1, 3, 8]),
       bias=st.booleans(), x_grad=st.booleans(), h_grad=st.booleans(),
       freeze=st.sampled_from([None, 'weight_ih', 'weight_hh']),
       dtype=st.sampled_from(['float32', 'float64']))
def test_gru_cell_values_and_gradients(B, I, H, bias, x_grad, h_grad, freeze, dtype):
    """Two GRUCell steps (the state fed back) on a non-contiguous input: h' and every
    gradient, with gradients wanted for some inputs only (x, h0, a frozen weight)."""
    x = rand(2, I, B, seed=B + I).astype(dtype)                # x[t].T: strided (B, I)
    h0 = rand(B, H, seed=4).astype(dtype)
    results = []
    for lib, cell in _pair(lambda m: m.GRUCell(I, H, bias=bias), dtype):
        if freeze:
            getattr(cell, freeze).requires_grad_(False)
        xt, ht = lib.tensor(x, requires_grad=x_grad), lib.tensor(h0, requires_grad=h_grad)
        h = ht
        for t in range(2):
            h = cell(xt[t].T, h)
        (h * h * h).sum().backward()
        results.append([to_numpy(h), to_numpy(xt.grad), to_numpy(ht.grad)]
                       + [to_numpy(p.grad) for p in cell.parameters()])
    _compare(results, dtype)


def test_gru_cell_unbatched_and_second_order():
    """An unbatched step (1-d input and state), then first and second derivatives of a
    batch-1 step against PyTorch's and against finite differences."""
    for dtype in ('float32', 'float64'):
        results = []
        for lib, cell in _pair(lambda m: m.GRUCell(4, 3), dtype):
            x = lib.tensor(rand(4, seed=7).astype(dtype), requires_grad=True)
            h = cell(x, lib.tensor(rand(3, seed=8).astype(dtype)))
            h.sum().backward()
            results.append([to_numpy(h), to_numpy(x.grad)]
                           + [to_numpy(p.grad) for p in cell.parameters()])
        _compare(results, dtype)
    results = []
    for lib, cell in _pair(lambda m: m.GRUCell(2, 3), 'float64'):
        x = lib.tensor(rand(1, 2, seed=9), requires_grad=True)
        h0 = lib.tensor(rand(1, 3, seed=10), requires_grad=True)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        g1 = grad((cell(x, h0) ** 2).sum(), [x, h0, cell.weight_hh], create_graph=True)
        g2 = grad(sum((g * g).sum() for g in g1), [x, h0, cell.weight_ih])
        results.append([to_numpy(g) for g in g1 + g2])
    _compare(results, 'float64')
    cell = nn.GRUCell(2, 3).double()
    x = autograd.tensor(rand(1, 2, seed=11), requires_grad=True)
    h0 = autograd.tensor(rand(1, 3, seed=12), requires_grad=True)
    assert autograd.gradcheck(cell, (x, h0))
    assert autograd.gradgradcheck(cell, (x, h0))


@pytest.mark.parametrize('shapes', [
    # (dtype, T, B, I, H, seed): 16 steps of 8 x 128 float64 gates per chunk over 37 steps
    # (two full chunks and a partial one); then gates too large for two steps per chunk
    # (4 x 33 x 256 float64, 4 x 65 x 256 float32: over 256 KiB a step), each step's
    # input product formed alone
    [('float64', 37, 8, 3, 128, 13), ('float32', 37, 8, 3, 128, 13)],
    [('float64', 3, 33, 2, 256, 24), ('float32', 3, 65, 2, 256, 24)]],
    ids=['chunks', 'one-step-a-chunk'])
def test_lstm_layer_input_product_in_chunks(shapes):
    """The LSTM layer's input product formed a few steps at a time, in both directions,
    against PyTorch."""
    for dtype, T, B, I, H, seed in shapes:
        x = rand(T, B, I, seed=seed).astype(dtype)
        results = []
        for lib, layer in _pair(lambda m: m.LSTM(I, H, bidirectional=True), dtype):
            xt = lib.tensor(x, requires_grad=True)
            out, (h, c) = layer(xt)
            ((out * out).sum() + c.sum()).backward()
            results.append([to_numpy(out), to_numpy(h), to_numpy(c), to_numpy(xt.grad)]
                           + [to_numpy(p.grad) for p in layer.parameters()])
        _compare(results, dtype)


def test_gru_layer_input_product_in_chunks():
    """The GRU layer's input product a few steps at a time (21 steps of 3 gates x 8 x 128
    float64 or 16 x 128 float32 per chunk, 37 steps: a partial last chunk, both
    directions), b_hr and b_hz folded into it, against PyTorch."""
    for dtype, B in (('float64', 8), ('float32', 16)):
        x = rand(37, B, 3, seed=14).astype(dtype)
        results = []
        for lib, layer in _pair(lambda m: m.GRU(3, 128, bidirectional=True), dtype):
            xt = lib.tensor(x, requires_grad=True)
            out, h = layer(xt)
            ((out * out).sum() + h.sum()).backward()
            results.append([to_numpy(out), to_numpy(h), to_numpy(xt.grad)]
                           + [to_numpy(p.grad) for p in layer.parameters()])
        _compare(results, dtype)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(wanted=st.sampled_from(['h0', 'c0', 'neither']), bidirectional=st.booleans(),
       T=st.sampled_from([1, 3]), B=st.sampled_from([1, 4]),
       dtype=st.sampled_from(['float32', 'float64']))
def test_lstm_layer_gradient_for_one_initial_state(wanted, bidirectional, T, B, dtype):
    """Given states of which only h0, only c0 or neither requires grad (the backward then
    skips the first step's dL/dh0 product or dL/dc0 factor): outputs and every gradient
    against PyTorch, the states' own gradients None where not wanted; a sequence of one
    step included."""
    H, I = 5, 3
    x = rand(T, B, I, seed=15).astype(dtype)
    h0 = rand(2 if bidirectional else 1, B, H, seed=16).astype(dtype)
    c0 = rand(2 if bidirectional else 1, B, H, seed=17).astype(dtype)
    results = []
    for lib, layer in _pair(lambda m: m.LSTM(I, H, bidirectional=bidirectional), dtype):
        ht = lib.tensor(h0, requires_grad=wanted == 'h0')
        ct = lib.tensor(c0, requires_grad=wanted == 'c0')
        out, (h, c) = layer(lib.tensor(x), (ht, ct))
        ((out * out).sum() + (h * c).sum()).backward()
        results.append([to_numpy(out), to_numpy(h), to_numpy(c), to_numpy(ht.grad),
                        to_numpy(ct.grad)] + [to_numpy(p.grad) for p in layer.parameters()])
    _compare(results, dtype)


def test_lstm_layer_second_order_for_one_initial_state():
    """Second derivatives through the layer's backward when only h0 (or only c0) of the
    given states requires grad, against PyTorch and finite differences (float64)."""
    for wanted in ('h0', 'c0'):
        results = []
        for lib, layer in _pair(lambda m: m.LSTM(2, 3), 'float64'):
            x = lib.tensor(rand(3, 2, 2, seed=18), requires_grad=True)
            s = [lib.tensor(rand(1, 2, 3, seed=19 + j), requires_grad=wanted == n)
                 for j, n in enumerate(('h0', 'c0'))]
            state = s[0] if wanted == 'h0' else s[1]
            out, (h, c) = layer(x, tuple(s))
            grad = torch.autograd.grad if lib is torch else autograd.grad
            g1 = grad((out ** 2).sum() + (c ** 2).sum(), [x, state, layer.weight_hh_l0],
                      create_graph=True)
            g2 = grad(sum((g * g).sum() for g in g1), [x, state, layer.weight_ih_l0])
            results.append([to_numpy(g) for g in g1 + g2])
        _compare(results, 'float64')
    layer = nn.LSTM(2, 3).double()
    c0 = autograd.tensor(rand(1, 2, 3, seed=21))
    f = lambda x, h0: layer(x, (h0, c0))[0]
    args = (autograd.tensor(rand(3, 2, 2, seed=22), requires_grad=True),
            autograd.tensor(rand(1, 2, 3, seed=23), requires_grad=True))
    assert autograd.gradcheck(f, args)
    assert autograd.gradgradcheck(f, args)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(mode=st.sampled_from(['GRU', 'tanh', 'relu']), h_grad=st.booleans(),
       bidirectional=st.booleans(), T=st.sampled_from([1, 4]),
       dtype=st.sampled_from(['float32', 'float64']))
def test_gru_and_rnn_layers_given_state_with_or_without_grad(mode, h_grad, bidirectional, T,
                                                             dtype):
    """A GRU or Elman (tanh, relu) layer from a given h0 that does or does not require grad
    (the backward then skips the first step's dL/dh0 product): outputs and every gradient
    against PyTorch, h0's None where not wanted; a sequence of one step included."""
    H, I, B = 5, 3, 2
    x = rand(T, B, I, seed=25).astype(dtype)
    h0 = rand(2 if bidirectional else 1, B, H, seed=26).astype(dtype)
    build = (lambda m: m.GRU(I, H, bidirectional=bidirectional)) if mode == 'GRU' else \
        (lambda m: m.RNN(I, H, nonlinearity=mode, bidirectional=bidirectional))
    results = []
    for lib, layer in _pair(build, dtype):
        xt, ht = lib.tensor(x, requires_grad=True), lib.tensor(h0, requires_grad=h_grad)
        out, h = layer(xt, ht)
        ((out * out).sum() + (h * h).sum()).backward()
        results.append([to_numpy(out), to_numpy(h), to_numpy(xt.grad), to_numpy(ht.grad)]
                       + [to_numpy(p.grad) for p in layer.parameters()])
    _compare(results, dtype)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(bias=st.booleans(), frozen=st.sampled_from([None, 'weight_ih', 'weight_hh']),
       bidirectional=st.booleans(), T=st.sampled_from([1, 5]), B=st.sampled_from([1, 6]),
       H=st.sampled_from([3, 17]), batch_first=st.booleans(),
       dtype=st.sampled_from(['float32', 'float64']))
def test_lstm_layer_weight_gradients_from_one_product(bias, frozen, bidirectional, T, B, H,
                                                      batch_first, dtype):
    """The LSTM layer's dL/dW_hh, dL/dW_ih and dL/db formed by one product per gate over
    [h | x | 1] (the input h by time, reversed for the backward direction), or by h alone
    when neither W_ih nor a bias wants a gradient: against PyTorch with or without biases,
    a weight frozen, the input a strided view that does not require grad."""
    I = 4
    x = rand(B, T, I, seed=31 + T).astype(dtype)
    results = []
    for lib, layer in _pair(lambda m: m.LSTM(I, H, bias=bias, bidirectional=bidirectional,
                                              batch_first=batch_first), dtype):
        if frozen:
            for p in (getattr(layer, f'{frozen}_l0'), getattr(layer, f'{frozen}_l0_reverse',
                                                              None)):
                if p is not None:
                    p.requires_grad_(False)
        inp = lib.tensor(x)
        out, (h, c) = layer(inp if batch_first else inp.transpose(0, 1))
        ((out * out).sum() + (c * h).sum()).backward()
        results.append([to_numpy(out), to_numpy(c)]
                       + [to_numpy(p.grad) for p in layer.parameters()])
    _compare(results, dtype)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('layers,bidirectional', [(1, False), (2, True)])
def test_lstm_layer_without_given_states(layers, bidirectional, dtype):
    """No hx: the fused layers start from zero states without zero tensors being built
    (None handed to the layer op, h_n and c_n of one layer an unsqueeze, not a stack):
    outputs, h_n, c_n, first derivatives and (float64) second derivatives against
    PyTorch, batch 1 and a strided input included."""
    for B in (1, 3):
        x = rand(4, B, 3, seed=40 + B).astype(dtype)
        results = []
        for lib, layer in _pair(lambda m: m.LSTM(3, 5, num_layers=layers, batch_first=True,
                                                  bidirectional=bidirectional), dtype):
            xt = lib.tensor(x, requires_grad=True)
            out, (h, c) = layer(xt.transpose(0, 1))          # a strided (B, T, I) view
            grad = torch.autograd.grad if lib is torch else autograd.grad
            params = list(layer.parameters())
            loss = (out * out).sum() + (h * c).sum()
            g1 = grad(loss, [xt] + params, create_graph=dtype == 'float64')
            found = [to_numpy(out), to_numpy(h), to_numpy(c)] + [to_numpy(g) for g in g1]
            if dtype == 'float64':
                g2 = grad(sum((g * g).sum() for g in g1), [xt, params[1]])
                found += [to_numpy(g) for g in g2]
            results.append(found)
        _compare(results, dtype)

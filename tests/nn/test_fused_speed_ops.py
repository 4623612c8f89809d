"""The ops fused or reworked for speed (issue 19) against PyTorch, to third order where
they replay: the GRU and Elman RNN layers as one node each (GRULayerOp / GRULayerGrad,
RNNLayerOp / RNNLayerGrad), a GRUCell step as one node (GRUStepOp / GRUStepGrad), GELU's
kept normal CDF, and softmax/log_softmax computed in place."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from nn.modules.rnn import GRULayerOp, RNNLayerOp
from oracle import rand, to_numpy, torch


def _gru_pair(bias, bidirectional, layers=1):
    state = {k: v.detach().numpy().copy() for k, v in torch.nn.GRU(
        3, 2, layers, bias=bias, bidirectional=bidirectional).double().state_dict().items()}
    pair = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        layer = mod.GRU(3, 2, layers, bias=bias, bidirectional=bidirectional).double()
        layer.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        pair.append((lib, layer))
    return pair


def test_gru_layer_is_one_node_per_direction():
    layer = nn.GRU(3, 2, bidirectional=True)
    out, h = layer(autograd.tensor(rand(4, 2, 3)).float())
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(e[0] for e in node.next_functions if e is not None)
    assert sum(isinstance(n, GRULayerOp) for n in seen) == 2


@pytest.mark.parametrize('bias', [True, False])
def test_gru_third_derivative_with_given_state(bias):
    """Output and final state used, h0 requiring grad, a reversed direction: derivatives
    to third order agree with PyTorch."""
    x, h0 = rand(4, 2, 3), rand(2, 2, 2, seed=1)
    results = []
    for lib, layer in _gru_pair(bias, bidirectional=True):
        xs = [lib.tensor(a, requires_grad=True) for a in (x, h0)]
        out, h = layer(*xs)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        wrt = xs + [layer.weight_hh_l0_reverse, layer.weight_hh_l0]
        if bias:
            wrt.append(layer.bias_hh_l0)
        g1 = grad((out * out).sum() + (h * h * h).sum(), wrt, create_graph=True)
        g2 = grad(sum((g * g).sum() for g in g1), wrt, create_graph=True)
        g3 = grad(sum((g * g * g).sum() for g in g2), wrt)
        results.append([to_numpy(g) for g in g1 + g2 + g3])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(T=st.integers(1, 5), B=st.integers(1, 3), layers=st.integers(1, 2),
       bidirectional=st.booleans(), bias=st.booleans())
def test_gru_layer_values_and_gradients(T, B, layers, bidirectional, bias):
    x = rand(T, B, 3)
    results = []
    for lib, layer in _gru_pair(bias, bidirectional, layers):
        xt = lib.tensor(x, requires_grad=True)
        out, h = layer(xt)
        (out.sum() + (h * h).sum()).backward()
        results.append([to_numpy(out), to_numpy(h), to_numpy(xt.grad)]
                       + [to_numpy(p.grad) for p in layer.parameters()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_gru_layer_gradcheck():
    layer = nn.GRU(2, 3).double()
    x = autograd.tensor(rand(3, 2, 2), requires_grad=True)
    h0 = autograd.tensor(rand(1, 2, 3, seed=1), requires_grad=True)
    f = lambda x, h0: layer(x, h0)[0]
    assert autograd.gradcheck(f, (x, h0)) and autograd.gradgradcheck(f, (x, h0))


def test_gelu_kept_cdf_to_second_order_and_retain_graph():
    x = rand(3, 5) * 3
    results = []
    for lib, F in ((torch, torch.nn.functional), (autograd, nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        g, = grad(F.gelu(xt).sum(), xt, create_graph=True)
        gg, = grad((g * g * g).sum(), xt)
        y = F.gelu(xt).sum()
        y.backward(retain_graph=True)
        y.backward()                        # the kept values serve a second sweep too
        results.append([to_numpy(g), to_numpy(gg), to_numpy(xt.grad)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    xt = autograd.tensor(x, requires_grad=True)
    assert autograd.gradgradcheck(nn.functional.gelu, (xt,))


@pytest.mark.parametrize('shape,dim', [((), 0), ((4,), 0), ((2, 3, 4), 1), ((3, 5), -1)])
@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_in_place_forms_to_second_order(shape, dim, name):
    x = rand(*shape) if shape else np.array(0.7)
    results = []
    for lib in (torch, autograd):
        xt = lib.tensor(x, requires_grad=True)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        y = getattr(xt, name)(dim)
        w = lib.tensor(rand(*shape, seed=3) if shape else np.array(1.3))
        g, = grad((y * w).sum(), xt, create_graph=True)
        gg, = grad((g * g).sum(), xt)
        results.append([to_numpy(y), to_numpy(g), to_numpy(gg)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_softmax_of_fully_masked_rows_is_nan_as_in_pytorch():
    x = [[1.0, float('-inf')], [float('-inf'), float('-inf')]]
    with np.errstate(invalid='ignore'):
        for name in ('softmax', 'log_softmax'):
            ours = to_numpy(getattr(autograd.tensor(x), name)(-1))
            theirs = getattr(torch.tensor(x), name)(-1).numpy()
            np.testing.assert_array_equal(ours, theirs)


def _rnn_pair(nonlinearity, bias, bidirectional, layers=1):
    state = {k: v.detach().numpy().copy() for k, v in torch.nn.RNN(
        3, 2, layers, nonlinearity=nonlinearity, bias=bias,
        bidirectional=bidirectional).double().state_dict().items()}
    pair = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        layer = mod.RNN(3, 2, layers, nonlinearity=nonlinearity, bias=bias,
                        bidirectional=bidirectional).double()
        layer.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        pair.append((lib, layer))
    return pair


def test_rnn_layer_is_one_node_per_direction():
    layer = nn.RNN(3, 2, bidirectional=True)
    out, h = layer(autograd.tensor(rand(4, 2, 3)).float())
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(e[0] for e in node.next_functions if e is not None)
    assert sum(isinstance(n, RNNLayerOp) for n in seen) == 2


@pytest.mark.parametrize('nonlinearity', ['tanh', 'relu'])
def test_rnn_third_derivative_with_given_state(nonlinearity):
    x, h0 = rand(4, 2, 3), rand(2, 2, 2, seed=1)
    results = []
    for lib, layer in _rnn_pair(nonlinearity, True, bidirectional=True):
        xs = [lib.tensor(a, requires_grad=True) for a in (x, h0)]
        out, h = layer(*xs)
        grad = torch.autograd.grad if lib is torch else autograd.grad
        wrt = xs + [layer.weight_hh_l0_reverse, layer.weight_hh_l0, layer.bias_hh_l0]
        g1 = grad((out * out).sum() + (h * h * h).sum(), wrt, create_graph=True)
        g2 = grad(sum((g * g).sum() for g in g1), wrt, create_graph=True)
        g3 = grad(sum((g * g * g).sum() for g in g2), wrt, allow_unused=True)
        results.append([to_numpy(g) for g in g1 + g2 + g3 if g is not None])
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(T=st.integers(1, 5), B=st.integers(1, 3), layers=st.integers(1, 2),
       bidirectional=st.booleans(), bias=st.booleans(), relu=st.booleans())
def test_rnn_layer_values_and_gradients(T, B, layers, bidirectional, bias, relu):
    x = rand(T, B, 3)
    results = []
    for lib, layer in _rnn_pair('relu' if relu else 'tanh', bias, bidirectional, layers):
        xt = lib.tensor(x, requires_grad=True)
        out, h = layer(xt)
        (out.sum() + (h * h).sum()).backward()
        results.append([to_numpy(out), to_numpy(h), to_numpy(xt.grad)]
                       + [to_numpy(p.grad) for p in layer.parameters()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_rnn_layer_gradcheck():
    layer = nn.RNN(2, 3).double()
    x = autograd.tensor(rand(3, 2, 2), requires_grad=True)
    h0 = autograd.tensor(rand(1, 2, 3, seed=1), requires_grad=True)
    f = lambda x, h0: layer(x, h0)[0]
    assert autograd.gradcheck(f, (x, h0)) and autograd.gradgradcheck(f, (x, h0))


# --------------------------------------------------------------- GRUCell as one node


def _gru_cell_pair(bias):
    state = {k: v.detach().numpy().copy() for k, v in
             torch.nn.GRUCell(3, 2, bias=bias).double().state_dict().items()}
    pair = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        cell = mod.GRUCell(3, 2, bias=bias).double()
        cell.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        pair.append((lib, cell))
    return pair


def test_gru_cell_is_one_node():
    cell = nn.GRUCell(3, 2)
    h = cell(autograd.tensor(rand(4, 3)).float())
    assert type(h.grad_fn).__name__ == 'GRUStepOp'
    edges = [e[0] for e in h.grad_fn.next_functions if e[0] is not None]     # x, h need none
    assert [type(n).__name__ for n in edges] == ['AccumulateGrad'] * 4
    assert [n.variable for n in edges] == [cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                           cell.bias_hh]


@pytest.mark.parametrize('bias', [True, False])
def test_gru_cell_third_derivative_over_steps(bias):
    """Three steps, the state fed back, x and h0 requiring grad: values and derivatives to
    third order agree with PyTorch's."""
    xs_, h0_ = rand(3, 4, 3), rand(4, 2, seed=1)
    results = []
    for lib, cell in _gru_cell_pair(bias):
        x, h0 = (lib.tensor(a, requires_grad=True) for a in (xs_, h0_))
        h, total = h0, 0
        for t in range(3):
            h = cell(x[t], h)
            total = total + (h * h * h).sum()
        grad = torch.autograd.grad if lib is torch else autograd.grad
        wrt = [x, h0, cell.weight_ih, cell.weight_hh]
        wrt += [cell.bias_ih, cell.bias_hh] if bias else []
        g1 = grad(total, wrt, create_graph=True)
        g2 = grad(sum((g * g).sum() for g in g1), wrt, create_graph=True)
        g3 = grad(sum((g * g * g).sum() for g in g2), wrt)
        results.append([to_numpy(h)] + [to_numpy(g) for g in g1 + g2 + g3])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(B=st.integers(1, 4), bias=st.booleans(), unbatched=st.booleans(),
       x_grad=st.booleans())
def test_gru_cell_values_and_gradients(B, bias, unbatched, x_grad):
    x, h0 = rand(*((3,) if unbatched else (B, 3))), rand(*((2,) if unbatched else (B, 2)), seed=3)
    results = []
    for lib, cell in _gru_cell_pair(bias):
        xt, ht = lib.tensor(x, requires_grad=x_grad), lib.tensor(h0, requires_grad=True)
        h = cell(xt, ht)
        (h * h).sum().backward()
        results.append([to_numpy(h), to_numpy(ht.grad)] + ([to_numpy(xt.grad)] if x_grad else [])
                       + [to_numpy(p.grad) for p in cell.parameters()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_gru_cell_gradcheck_and_dtype_error():
    cell = nn.GRUCell(2, 3).double()
    x = autograd.tensor(rand(2, 2), requires_grad=True)
    h = autograd.tensor(rand(2, 3, seed=1), requires_grad=True)
    assert autograd.gradcheck(cell, (x, h)) and autograd.gradgradcheck(cell, (x, h))
    with pytest.raises(RuntimeError, match='same dtype'):
        nn.GRUCell(2, 3)(x)

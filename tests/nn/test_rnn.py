"""Recurrent layers against PyTorch (same weights: outputs, final states, input and every
parameter gradient), the fused cell ops to second order, and errors."""
import numpy as np
import pytest

import autograd
import nn
from layer_check import check_layer
from nn.modules.rnn import GRUCellOp, LSTMCellOp
from oracle import check_op, rand, to_numpy, torch

X = rand(5, 3, 4)          # (L, N, H_in)

CONFIGS = [
    dict(),
    dict(num_layers=2, bidirectional=True),
    dict(batch_first=True, bias=False),
    dict(num_layers=3, bidirectional=True, batch_first=True, dropout=0.5),
]


@pytest.mark.parametrize('kw', CONFIGS, ids=['plain', 'deep-bidir', 'batch-first', 'all'])
@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
def test_recurrent_layer_matches_torch(cls, kw):
    # dropout acts only in training; compare in eval mode where it must be a no-op
    check_layer(lambda nn: getattr(nn, cls)(4, 6, **kw), X, train=not kw.get('dropout'))


def test_rnn_relu_matches_torch():
    check_layer(lambda nn: nn.RNN(4, 6, nonlinearity='relu', num_layers=2), X)


def test_lstm_with_projection_matches_torch():
    check_layer(lambda nn: nn.LSTM(4, 6, proj_size=3, num_layers=2, bidirectional=True), X)


def test_initial_states_receive_gradients():
    h0, c0 = rand(4, 3, 6, seed=3), rand(4, 3, 6, seed=4)
    check_layer(lambda nn: nn.LSTM(4, 6, num_layers=2, bidirectional=True), X, h0, c0,
                call=lambda layer, x, h, c: layer(x, (h, c)))
    check_layer(lambda nn: nn.GRU(4, 6, num_layers=2, bidirectional=True), X, h0,
                call=lambda layer, x, h: layer(x, h))
    check_layer(lambda nn: nn.RNN(4, 6, num_layers=4), X, h0,
                call=lambda layer, x, h: layer(x, h))


def test_unbatched_sequences():
    x = rand(5, 4)
    check_layer(lambda nn: nn.GRU(4, 6, bidirectional=True), x)
    check_layer(lambda nn: nn.LSTM(4, 6), x, rand(1, 6, seed=1), rand(1, 6, seed=2),
                call=lambda layer, x, h, c: layer(x, (h, c)))
    check_layer(lambda nn: nn.RNN(4, 6, batch_first=True), x)


def test_dropout_between_layers_acts_in_training_only():
    autograd.manual_seed(0)
    layer = nn.LSTM(4, 6, num_layers=2, dropout=0.5).double()
    x = autograd.tensor(X)
    a, b = layer(x)[0], layer(x)[0]
    assert not np.allclose(to_numpy(a), to_numpy(b))
    layer.eval()
    a, b = layer(x)[0], layer(x)[0]
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


@pytest.mark.parametrize('cls', ['RNNCell', 'LSTMCell', 'GRUCell'])
@pytest.mark.parametrize('shape', [(3, 4), (4,)])
def test_cells_match_torch(cls, shape):
    check_layer(lambda nn: getattr(nn, cls)(4, 6), rand(*shape))


def test_cells_with_given_state():
    h, c = rand(3, 6, seed=1), rand(3, 6, seed=2)
    check_layer(lambda nn: nn.LSTMCell(4, 6, bias=False), rand(3, 4), h, c,
                call=lambda cell, x, h, c: cell(x, (h, c)))
    check_layer(lambda nn: nn.GRUCell(4, 6), rand(3, 4), h, call=lambda cell, x, h: cell(x, h))
    check_layer(lambda nn: nn.RNNCell(4, 6, nonlinearity='relu'), rand(3, 4), h,
                call=lambda cell, x, h: cell(x, h))


def test_lstm_cell_op_matches_the_gate_equations_to_second_order():
    def cell(lib, xg, hg, c):
        if lib is torch:
            i, f, g, o = (xg + hg).chunk(4, 1)
            c2 = i.sigmoid() * g.tanh() + f.sigmoid() * c
            return o.sigmoid() * c2.tanh(), c2
        return LSTMCellOp.apply(xg, hg, c)
    check_op(cell, rand(3, 8), rand(3, 8, seed=2), rand(3, 2, seed=1))


def test_gru_cell_op_matches_the_gate_equations_to_second_order():
    def cell(lib, xg, hg, h):
        if lib is torch:
            xr, xz, xn = xg.chunk(3, 1)
            hr, hz, hn = hg.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
            return (1 - z) * n + z * h
        return GRUCellOp.apply(xg, hg, h)
    check_op(cell, rand(3, 6), rand(3, 6, seed=1), rand(3, 2, seed=2))


def test_lstm_second_derivative_through_the_sequence():
    """d/dx of |d loss / d W_hh|^2 agrees with PyTorch (double backward through time)."""
    grads = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        torch.manual_seed(0)
        layer = mod.LSTM(4, 3).double() if lib is torch else None
        if lib is torch:
            state = {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}
        else:
            layer = nn.LSTM(4, 3).double()
            layer.load_state_dict({k: autograd.tensor(v) for k, v in state.items()})
        x = lib.tensor(rand(3, 2, 4), requires_grad=True)
        out, _ = layer(x)
        g, = lib.autograd.grad(out.sum(), layer.weight_hh_l0, create_graph=True) \
            if lib is torch else autograd.grad(out.sum(), layer.weight_hh_l0, create_graph=True)
        (g * g).sum().backward()
        grads.append(to_numpy(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-8, atol=1e-10)


def test_lstm_third_derivative_with_given_states():
    """Both outputs used, initial states requiring grad, a reversed direction: derivatives
    to third order agree with PyTorch."""
    state = {k: v.detach().numpy().copy()
             for k, v in torch.nn.LSTM(3, 2, bidirectional=True).double().state_dict().items()}
    x, h0, c0 = rand(4, 2, 3), rand(2, 2, 2, seed=1), rand(2, 2, 2, seed=2)
    results = []
    for lib, mod in ((torch, torch.nn), (autograd, nn)):
        layer = mod.LSTM(3, 2, bidirectional=True).double()
        layer.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        xs = [lib.tensor(a, requires_grad=True) for a in (x, h0, c0)]
        out, (h, c) = layer(xs[0], (xs[1], xs[2]))
        grad = torch.autograd.grad if lib is torch else autograd.grad
        wrt = xs + [layer.weight_hh_l0_reverse]
        g1 = grad((out * out).sum() + (c * h).sum(), wrt, create_graph=True)
        g2 = grad(sum((g * g).sum() for g in g1), wrt, create_graph=True)
        g3 = grad(sum((g * g * g).sum() for g in g2), wrt)
        results.append([to_numpy(g) for g in g1 + g2 + g3])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


def test_state_dict_keys_shapes_and_order_match_torch():
    for build in (lambda nn: nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2),
                  lambda nn: nn.GRU(3, 4, 2, bias=False), lambda nn: nn.RNN(3, 4),
                  lambda nn: nn.LSTMCell(3, 4), lambda nn: nn.GRUCell(3, 4, bias=False)):
        ours = [(k, tuple(v.shape)) for k, v in build(nn).state_dict().items()]
        theirs = [(k, tuple(v.shape)) for k, v in build(torch.nn).state_dict().items()]
        assert ours == theirs


def test_init_is_uniform_within_one_over_sqrt_hidden():
    layer = nn.GRU(5, 16, num_layers=2)
    for p in layer.parameters():
        a = to_numpy(p)
        assert np.abs(a).max() <= 0.25 and np.abs(a).max() > 0.2


def test_repr_matches_torch():
    for build in (lambda nn: nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2, batch_first=True,
                                     dropout=0.5),
                  lambda nn: nn.GRU(3, 4, bias=False),
                  lambda nn: nn.RNNCell(3, 4, nonlinearity='relu'),
                  lambda nn: nn.GRUCell(3, 4)):
        assert repr(build(nn)) == repr(build(torch.nn))


# ----------------------------------------------------------------------------- errors

def _raises_like_torch(call, *args):
    """Both libraries raise the same exception type with the same message."""
    with pytest.raises(Exception) as theirs:
        call(torch.nn, torch.tensor, *args)
    with pytest.raises(type(theirs.value)) as ours:
        call(nn, autograd.tensor, *args)
    assert str(ours.value) == str(theirs.value)


def _inputs_raise_like_torch(cls, x_shape, h_shape=None):
    """``cls`` (3 input features, 4 hidden) called on zeros of these shapes (and its state,
    two of them for an LSTM) raises as in PyTorch."""
    def call(mod, tensor):
        layer = getattr(mod, cls)(3, 4)
        x = tensor(np.zeros(x_shape, np.float32))
        if h_shape is None:
            return layer(x)
        h = tensor(np.zeros(h_shape, np.float32))
        return layer(x, (h, h) if cls.startswith('LSTM') else h)
    _raises_like_torch(call)


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
def test_recurrent_layer_input_errors(cls):
    _inputs_raise_like_torch(cls, (2, 2, 2, 3))                 # rank
    _inputs_raise_like_torch(cls, (2, 2, 5))                    # input size
    _inputs_raise_like_torch(cls, (2, 2, 3), (1, 3, 4))         # hidden batch size
    _inputs_raise_like_torch(cls, (2, 3), (1, 1, 4))            # unbatched input, batched state


@pytest.mark.parametrize('cls', ['RNNCell', 'LSTMCell', 'GRUCell'])
def test_cell_input_errors(cls):
    _inputs_raise_like_torch(cls, (2, 2, 3))
    _inputs_raise_like_torch(cls, (2, 5))
    _inputs_raise_like_torch(cls, (2, 3), (3, 4))


@pytest.mark.parametrize('cls,kw', [('RNN', dict(nonlinearity='foo')), ('RNN', dict(proj_size=2)),
                                    ('GRU', dict(proj_size=2)), ('LSTM', dict(proj_size=4)),
                                    ('LSTM', dict(dropout=2)), ('GRU', dict(hidden_size=0)),
                                    ('LSTM', dict(num_layers=0))])
def test_constructor_errors(cls, kw):
    kw = dict(kw)
    args = (3, kw.pop('hidden_size', 4))
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn, cls)(*args, **kw)
    with pytest.raises(ValueError) as ours:
        getattr(nn, cls)(*args, **kw)
    assert str(ours.value) == str(theirs.value)

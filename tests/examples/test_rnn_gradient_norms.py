"""Gradient norms through time (sec. 7.4-7.5): the tanh RNN's gradient vanishes
geometrically, no slower than the largest singular value of W_hh allows; the LSTM with the
book's forget-gate bias keeps it."""
import numpy
import pytest

import autograd
from example_scripts import load_example

gn = load_example('rnn_gradient_norms')


@pytest.fixture(scope='module')
def norms():
    return gn.compare(steps=60, hidden=32, batch=16)


def test_the_tanh_rnn_gradient_vanishes(norms):
    n = norms['rnn']
    assert n[0] / n[-1] < 1e-10
    assert gn.decay_per_step(n) < 0.7


def test_the_rnn_decay_is_bounded_by_the_largest_singular_value_of_w_hh(norms):
    # each step back multiplies by W_hh^T diag(tanh') with |tanh'| <= 1
    autograd.manual_seed(0)
    layer = gn.make('rnn', 16, 32)
    w_hh = layer.weight_hh_l0.detach().cpu().numpy().astype(numpy.float64)
    sigma_max = numpy.linalg.svd(w_hh, compute_uv=False)[0]
    assert gn.decay_per_step(norms['rnn']) <= sigma_max


def test_the_lstm_with_forget_bias_keeps_the_gradient(norms):
    kept = norms['lstm+bias']
    assert kept[0] / kept[-1] > 1e-2
    assert gn.decay_per_step(kept) > 0.9
    # and it is the forget bias that does it: the default LSTM and GRU vanish too
    for kind in ('lstm', 'gru'):
        assert norms[kind][0] < 1e-6 * kept[0], kind


def test_forget_bias_sets_only_the_forget_slice():
    lstm = gn.forget_bias_(gn.nn.LSTM(3, 4), 1.0)
    for name in ('bias_ih_l0', 'bias_hh_l0'):
        b = getattr(lstm, name).detach().cpu().numpy()
        numpy.testing.assert_array_equal(b[4:8], 1.0)
        assert not (b[:4] == 1.0).any() and not (b[8:] == 1.0).any()


def test_decay_per_step_recovers_a_geometric_rate():
    norm = 0.8 ** numpy.arange(40)[::-1]       # ||dL/dx_t|| = 0.8^(T - t)
    assert gn.decay_per_step(norm) == pytest.approx(0.8)

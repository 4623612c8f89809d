"""TD(0) and TD(lambda) with eligibility traces (sec. 9.4.4): lambda = 1 equals Monte
Carlo, TD learns the random walk's values, and traces speed up learning."""
import numpy
import pytest

import autograd
import nn

from example_scripts import load_example

td = load_example('td_lambda')


@pytest.mark.parametrize('hidden', [None, 6])
def test_offline_td_1_equals_the_monte_carlo_update(hidden):
    n = 7
    autograd.manual_seed(0)
    net = td.value_net(n, hidden=hidden)
    for p in net.parameters():          # away from the zero table: every delta counts
        nn.init.normal_(p, std=0.3)
    rng = numpy.random.default_rng(3)
    for _ in range(3):
        states, rewards = td.random_walk(n, rng)
        td1, mc = td.offline_update(net, states, rewards, n, lam=1.0)
        for a, b in zip(td1, mc):
            numpy.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), atol=1e-12)
    # and below 1 the two differ (the traces decay): the identity is not trivially true
    td_half, mc = td.offline_update(net, states, rewards, n, lam=0.5)
    assert max(abs(a - b).max().item() for a, b in zip(td_half, mc)) > 1e-3


def test_td0_update_is_eq_9_16_on_a_hand_computed_step():
    # a 3-state table at zero; walk 1 -> 2 -> exit right (reward 1), alpha 0.5, lambda 0:
    # first step delta = 0 + V(2) - V(1) = 0; second delta = 1 - 0, so V(2) = 0.5
    net = td.value_net(3)
    td.td_lambda_episode(net, [1, 2], [0.0, 1.0], 3, lam=0.0, alpha=0.5)
    numpy.testing.assert_allclose(net.weight.detach().cpu().numpy(), [[0.0, 0.0, 0.5]])
    # with lambda = 1 the second error also reaches state 1 through its trace
    net = td.value_net(3)
    td.td_lambda_episode(net, [1, 2], [0.0, 1.0], 3, lam=1.0, alpha=0.5)
    numpy.testing.assert_allclose(net.weight.detach().cpu().numpy(), [[0.0, 0.5, 0.5]])


def test_td0_learns_the_five_state_walk():
    errors = td.learning_curve(0.0, 0.05, episodes=200, n=5, seed=0)
    assert errors[0] > 0.3
    assert errors[-1] < 0.1


def test_traces_learn_faster_than_td0_on_the_19_state_walk():
    def mean_error(lam):
        return numpy.mean([numpy.mean(td.learning_curve(lam, 0.4, 10, n=19, seed=s))
                           for s in range(2)])
    assert mean_error(0.8) < mean_error(0.0) - 0.03

"""Policy gradients (sec. 9.5): the text's worked REINFORCE gain, the finite-difference
regression of eq. 9.23, and both methods learning CartPole."""
import math

import numpy
import pytest

import autograd
from example_scripts import load_example

pg = load_example('policy_gradient')


def test_the_books_worked_example_gain_is_0_83_log_0_2():
    gain, grad = pg.book_gain(0.2, 0.17, 1.0)
    assert gain == pytest.approx(0.83 * math.log(0.2), rel=1e-12)     # = -1.33582...
    # d/d logits of A log softmax(logits)[UP] = A (onehot(UP) - p): only the advantage 0.83
    # scales it; the other outputs carry no gain of their own
    expected = 0.83 * (numpy.array([1.0, 0.0, 0.0]) - numpy.array([0.2, 0.4, 0.4]))
    numpy.testing.assert_allclose(grad.cpu().numpy(), expected, rtol=1e-12)


def test_discounted_returns():
    numpy.testing.assert_allclose(pg.discounted_returns(numpy.ones(3), 0.5), [1.75, 1.5, 1.0])


def test_finite_difference_regression_recovers_a_known_gradient():
    c = autograd.tensor([1.0, -2.0, 0.5], dtype=autograd.float64)
    theta = autograd.zeros(3, dtype=autograd.float64)
    d = 1e-4 * autograd.randn(8, 3, dtype=autograd.float64,
                              generator=autograd.Generator(theta.device).manual_seed(0))
    grad, j0 = pg.finite_difference_gradient(
        lambda t: -((t - c) ** 2).sum().item(), theta, d)
    assert j0 == pytest.approx(-5.25)
    numpy.testing.assert_allclose(grad.cpu().numpy(), 2 * c.cpu().numpy(), atol=1e-3)


def test_finite_difference_policy_reaches_the_horizon():
    policy, history = pg.train_finite_difference(iters=20, seed=0)
    assert history[0] < 30                          # a random linear policy drops the pole
    assert max(history[-5:]) >= 190                 # balanced for (nearly) all H = 200 moves
    assert numpy.mean(history[-5:]) > 5 * history[0]


@pytest.mark.slow
def test_reinforce_with_baseline_learns_cartpole():
    policy, history = pg.train_reinforce(episodes=120, seed=0)
    first, last = numpy.mean(history[:20]), numpy.mean(history[-20:])
    assert first < 40
    assert last > 60 and last > 2.5 * first

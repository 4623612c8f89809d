"""Actor-critic (sec. 9.5.4): the advantage is the TD error (eq. 9.16), the Gaussian policy's
log-likelihood gradient is the textbook one, and the discrete actor-critic learns CartPole."""
import math

import numpy
import pytest

import autograd
from example_scripts import load_example

ac = load_example('actor_critic')


def test_one_step_advantage_is_the_td_error():
    rewards = autograd.tensor([[1.0, 0.5]])
    values = autograd.tensor([[2.0, 1.0]])
    last = autograd.tensor([3.0, 4.0])
    dones = autograd.tensor([[0.0, 1.0]])
    returns, adv = ac.td_advantages(rewards, values, last, dones, gamma=0.9)
    # delta = r + gamma (1 - done) V(s') - V(s)
    numpy.testing.assert_allclose(adv.cpu().numpy(), [[1 + 0.9 * 3 - 2, 0.5 - 1.0]], rtol=1e-6)


def test_n_step_returns_bootstrap_from_the_last_value():
    rewards = autograd.tensor([[1.0], [1.0], [1.0]])
    values = autograd.zeros(3, 1)
    returns, _ = ac.td_advantages(rewards, values, autograd.tensor([10.0]),
                                  autograd.zeros(3, 1), gamma=0.5)
    numpy.testing.assert_allclose(returns.squeeze(1).cpu().numpy(),
                                  [1 + 0.5 + 0.25 + 0.125 * 10, 1 + 0.5 + 0.25 * 10, 1 + 0.5 * 10])


def test_gaussian_policy_score_function():
    # d/dmu log N(a; mu, sigma) = (a - mu) / sigma^2; d/dlog sigma = (a - mu)^2 / sigma^2 - 1
    policy = ac.GaussianPolicy(3, 1, 8, scale=2.0).double()
    with autograd.no_grad():
        policy.log_std.fill_(math.log(0.5))
    s = autograd.tensor([[0.1, -0.2, 0.3]], dtype=autograd.float64)
    dist = policy(s)
    mu = dist.mean.item()
    a = autograd.tensor([[mu + 0.25]], dtype=autograd.float64)
    dist.log_prob(a).sum().backward()
    assert policy.log_std.grad.item() == pytest.approx(0.25 ** 2 / 0.25 - 1)
    assert abs(mu) <= 2.0                              # the mean stays in Pendulum's range


@pytest.mark.slow
def test_actor_critic_learns_cartpole():
    _, history = ac.train_cartpole(episodes=200, seed=0)
    assert numpy.mean(history[:20]) < 30
    assert numpy.mean(history[-20:]) > 100


def test_gaussian_actor_critic_runs_on_pendulum_and_keeps_its_torque_in_range():
    policy, history = ac.train_pendulum(steps=1600, envs=4, n_steps=8, seed=0, log=None)
    assert len(history) == 4                                  # 4 episodes of 200 steps
    assert all(-2000 < h < 0 for h in history)               # Pendulum rewards are <= 0
    s = autograd.zeros(5, 3)
    assert policy(s).mean.abs().max().item() <= 2.0
    assert policy.log_std.grad is not None                    # the Gaussian's width is learned

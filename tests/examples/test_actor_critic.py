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


def test_gae_with_lambda_zero_is_the_td_error_and_lambda_one_the_n_step_advantage():
    rewards = autograd.tensor([[1.0], [2.0], [0.5]])
    values = autograd.tensor([[0.5], [1.0], [2.0]])
    last, dones = autograd.tensor([4.0]), autograd.tensor([[0.0], [1.0], [0.0]])
    _, adv0 = ac.td_advantages(rewards, values, last, dones, gamma=0.9, lam=0.0)
    numpy.testing.assert_allclose(adv0.squeeze(1).cpu().numpy(),
                                  [1 + 0.9 * 1.0 - 0.5, 2.0 - 1.0, 0.5 + 0.9 * 4 - 2],
                                  rtol=1e-6)
    ret1, adv1 = ac.td_advantages(rewards, values, last, dones, gamma=0.9, lam=1.0)
    # the episode ends after step 1: no bootstrap across it
    numpy.testing.assert_allclose(ret1.squeeze(1).cpu().numpy(),
                                  [1 + 0.9 * 2, 2.0, 0.5 + 0.9 * 4], rtol=1e-6)
    numpy.testing.assert_allclose(adv1.cpu().numpy(), (ret1 - values).cpu().numpy(), rtol=1e-6)


def test_cartpole_actor_critic_runs_and_updates_every_episode():
    actor, history = ac.train_cartpole(episodes=3, seed=0)
    assert len(history) == 3 and all(1 <= h <= 500 for h in history)


@pytest.mark.slow
def test_actor_critic_learns_cartpole_and_does_not_collapse():
    # seed 0: about 49 over the first 50 episodes, 205 over the last 50 (the full run of
    # 400 episodes ends at 500, the cap, and stays there)
    _, history = ac.train_cartpole(episodes=150, seed=0)
    assert numpy.mean(history[:20]) < 60
    assert numpy.mean(history[-50:]) > 150


def test_gaussian_actor_critic_runs_on_pendulum_and_keeps_its_torque_in_range():
    policy, history = ac.train_pendulum(steps=1600, envs=4, n_steps=8, epochs=2, seed=0,
                                        log=None)
    assert len(history) == 8              # 400 steps in each of 4 environments: 2 episodes each
    assert all(-2000 < h < 0 for h in history)               # Pendulum rewards are <= 0
    s = autograd.zeros(5, 3)
    assert policy(s).mean.abs().max().item() <= 2.0
    assert policy.log_std.grad is not None                    # the Gaussian's width is learned


@pytest.mark.slow
def test_gaussian_actor_critic_learns_pendulum():
    # seed 0, 100k steps: about -1580 over the first 16 episodes; over the last 16 most
    # episodes swing up and hold (-130 to -270) but one to three still fail (about -1530),
    # so their mean swings with the products' rounding (-220 on one CPU, -446 on another)
    # while the median (-265 on the second; -196 with seed 1) stays well above -400
    _, history = ac.train_pendulum(steps=100000, seed=0, log=None)
    assert numpy.mean(history[:16]) < -1000
    assert numpy.median(history[-16:]) > -400

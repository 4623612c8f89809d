"""Deep Q-learning (sec. 9.4.1-9.4.2): the text's Atari network has its shapes, the Bellman
target carries no gradient, and DQN with replay and a target network learns CartPole."""
import numpy
import pytest

import autograd
import nn
from example_scripts import load_example, run_example

dqn = load_example('dqn')


def test_atari_network_shapes_and_parameter_count():
    net = dqn.AtariQNetwork(actions=4)
    shapes = [s for name, s in dqn.layer_shapes(net, autograd.zeros(2, 4, 84, 84))
              if name in ('Conv2d', 'Flatten', 'Linear')]
    assert shapes == [(2, 32, 20, 20), (2, 64, 9, 9), (2, 64, 7, 7), (2, 3136), (2, 512), (2, 4)]
    # (k*k*c_in + 1) * c_out per convolution, (in + 1) * out per linear layer, by hand
    by_hand = ((8 * 8 * 4 + 1) * 32 + (4 * 4 * 32 + 1) * 64 + (3 * 3 * 64 + 1) * 64
               + (3136 + 1) * 512 + (512 + 1) * 4)
    assert sum(p.numel() for p in net.parameters()) == by_hand == 1_686_180
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in net.modules())


def test_bellman_target_is_constant_and_masks_terminal_states():
    q_net = nn.Linear(2, 2, bias=False)
    with autograd.no_grad():
        q_net.weight.copy_(autograd.tensor([[1.0, 0.0], [0.0, 2.0]]))
    s = autograd.tensor([[1.0, 1.0], [1.0, 1.0]])
    batch = [s, autograd.tensor([0, 1]), autograd.tensor([1.0, 1.0]), s,
             autograd.tensor([0.0, 1.0])]
    loss = nn.functional.smooth_l1_loss  # the loss the example uses, on hand-made numbers
    got = dqn.q_learning_loss(q_net, q_net, batch, gamma=0.5)
    # Q(s, .) = (1, 2); targets: 1 + 0.5 * 2 = 2 (not terminal) and 1 (terminal)
    expected = loss(autograd.tensor([1.0, 2.0]), autograd.tensor([2.0, 1.0]))
    assert got.item() == pytest.approx(expected.item())
    got.backward()
    # only the chosen Q-values are pushed: d/dW of Q(s, a) with the target held fixed
    numpy.testing.assert_allclose(q_net.weight.grad.cpu().numpy(),
                                  [[-0.5, -0.5], [0.5, 0.5]])


def test_double_dqn_target_chooses_with_w_and_values_with_the_target_network():
    q_net, target_net = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    with autograd.no_grad():
        q_net.weight.copy_(autograd.tensor([[1.0, 0.0], [0.0, 2.0]]))
        target_net.weight.copy_(autograd.tensor([[3.0, 0.0], [0.0, 1.0]]))
    s = autograd.tensor([[1.0, 1.0]])
    batch = [s, autograd.tensor([0]), autograd.tensor([1.0]), s, autograd.tensor([0.0])]
    # Q(s, 0) = 1; at s' W prefers action 1 (1 < 2), which W- values 1; W-'s max is 3
    # double: target 1 + 0.5 * 1 = 1.5, Huber 0.5 * 0.5^2; plain: 1 + 0.5 * 3 = 2.5, 1.5 - 0.5
    double = dqn.q_learning_loss(q_net, target_net, batch, gamma=0.5, double=True)
    plain = dqn.q_learning_loss(q_net, target_net, batch, gamma=0.5)
    assert double.item() == pytest.approx(0.125) and plain.item() == pytest.approx(1.0)


def test_replay_pool_keeps_the_newest_experiences():
    pool = dqn.Replay(3, 1, numpy.random.default_rng(0))
    for i in range(5):
        pool.add([i], i % 2, float(i), [i + 1], 0.0)
    assert pool.size == 3 and sorted(pool.r.tolist()) == [2.0, 3.0, 4.0]
    s, a, r, s2, done = pool.sample(16)
    assert set(r.tolist()) <= {2.0, 3.0, 4.0}
    assert (s2 - s).eq(1).all().item()


@pytest.mark.slow
def test_dqn_learns_cartpole():
    q_net, returns, evaluations = dqn.train(8192, eval_episodes=10, seed=0, log=None)
    random_policy = numpy.mean(returns[:10])    # the first 1,000 steps are random actions
    assert random_policy < 40
    assert [step for step, _ in evaluations] == list(range(1024, 8193, 1024))
    # the greedy policy of the kept weights, on 20 fresh episodes it was not selected on
    # (seed 0 on the CPU: 169.4 on the 10 selection episodes after 8,192 steps, 153.4 on the
    # 20 fresh ones, a random policy 21.5; the full run's kept weights average 499.1 over
    # 100 fresh episodes)
    score = dqn.evaluate(q_net, episodes=20)
    assert score > 100 and score > 4 * random_policy


@pytest.mark.slow
def test_the_script_reports_the_atari_net_and_a_fresh_evaluation(tmp_path):
    result = run_example('dqn', tmp_path, '--epochs', 2048)
    # 18 actions: (8*8*4+1)*32 + (4*4*32+1)*64 + (3*3*64+1)*64 + (3136+1)*512 + (512+1)*18
    assert result['atari_parameters'] == 1_693_362
    assert result['kept_step'] in (1024, 2048)          # evaluated after each 1,024 steps
    assert 8 <= result['eval_min'] <= result['eval'] <= 500
    assert (tmp_path / 'returns.png').stat().st_size > 0

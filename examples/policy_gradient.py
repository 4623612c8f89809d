"""Policy gradients: the finite-difference estimate and REINFORCE with a baseline on CartPole.

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.5.

- Finite differences (9.5.1): perturb the policy's weights s times by Delta W_r, play one
  roll-out of at most H moves with each, and regress the changes of total reward on the
  perturbations: grad J^T = (D^T D)^-1 D^T y  (eq. 9.23), D the s x N matrix of
  perturbations and y the s changes Delta J_r.  The step is gradient *ascent* (eq. 9.20).
- Likelihood ratio / REINFORCE (9.5.2): the policy network outputs action probabilities p;
  W <- W + (Q(s, a) - b(s)) grad log p(a)  (eq. 9.24-9.25), the baseline b(s) a second
  network V(s) regressed on the observed returns (the state-specific baseline of the text).
  The gain of the sampled action is its advantage times log p(a); every other output's gain
  is 0 (:func:`book_gain` reproduces the text's UP example: 0.83 log 0.2).

The environment is gymnasium's CartPole-v1 (offline, classic control): +1 per step while the
pole stands, at most 500 steps.  Policies are ``autograd.distributions.Categorical``.

Run: python examples/policy_gradient.py [--epochs 300] [--fd-iters 30] [--out runs/policy_gradient]
(``--epochs`` is the number of REINFORCE training episodes.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
from autograd.distributions import Categorical


def make_env(seed=None):
    """CartPole-v1 from gymnasium (imported here: it is in the examples extra)."""
    import gymnasium
    env = gymnasium.make('CartPole-v1')
    env.reset(seed=seed)
    return env


def book_gain(prob_up, baseline, reward):
    """The text's worked example (end of 9.5.2) as a computation: a roll-out sampled UP with
    p(UP) = ``prob_up`` and was worth ``reward``; with a constant ``baseline`` the advantage
    is reward - baseline and the gain of the UP output is advantage * log p(UP), of every
    other output 0.  Returns (gain, d gain / d logits) with the probabilities made from
    logits = log [p(UP), (1 - p(UP)) / 2, (1 - p(UP)) / 2] (three actions: UP, DOWN, STAY)."""
    p = autograd.tensor([prob_up, (1 - prob_up) / 2, (1 - prob_up) / 2], dtype=autograd.float64)
    logits = p.log().requires_grad_()
    up = autograd.tensor(0)
    gain = (reward - baseline) * Categorical(logits=logits).log_prob(up)
    gain.backward()
    return gain.item(), logits.grad


# ----------------------------------------------------------------------------- roll-outs
def rollout(env, act, seed, horizon=500):
    """Play one episode (at most ``horizon`` moves) with ``act(observation) -> action``;
    returns (observations (T, 4) float32, actions (T,), rewards (T,))."""
    obs, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    for _ in range(horizon):
        a = act(obs)
        states.append(obs)
        actions.append(a)
        obs, r, terminated, truncated, _ = env.step(a)
        rewards.append(r)
        if terminated or truncated:
            break
    return numpy.array(states, dtype=numpy.float32), numpy.array(actions), numpy.array(rewards)


def discounted_returns(rewards, gamma):
    """G_t = sum_k gamma^k r_(t+k), the Monte-Carlo long-term reward of each move."""
    out, g = numpy.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


# ----------------------------------------------------------------------------- finite differences
def finite_difference_gradient(score, theta, perturbations):
    """Eq. 9.23: regress Delta J on Delta W.  ``score(theta) -> J`` (a float);
    theta (N,), perturbations (s, N) tensors.  Returns (gradient (N,), J(theta))."""
    j0 = score(theta)
    y = autograd.tensor([score(theta + d) - j0 for d in perturbations],
                        dtype=theta.dtype, device=theta.device)
    grad = autograd.linalg.lstsq(perturbations, y.unsqueeze(1)).solution.squeeze(1)
    return grad, j0


def train_finite_difference(iters=30, samples=12, sigma=0.3, lr=0.1, horizon=200, seed=0,
                            device=None):
    """A linear policy (push right iff w.s + b > 0, ``nn.Linear(4, 1)``) trained by
    gradient ascent on the finite-difference estimate.  Every roll-out of one iteration starts
    from the same seeded state (common random numbers: Delta J measures the weights, not the
    start).  Returns (policy, the return of each iteration)."""
    autograd.manual_seed(seed)                      # the policy's initial weights
    gen = autograd.Generator(autograd.device(device or autograd.get_default_device()))
    gen.manual_seed(seed)
    policy = nn.Linear(4, 1).to(device)
    env = make_env(seed)
    theta = nn.utils.parameters_to_vector(policy.parameters()).detach()
    history = []
    for it in range(iters):
        def score(t):
            nn.utils.vector_to_parameters(t, policy.parameters())
            return float(rollout(env, lambda o: _linear_act(policy, o, device),
                                 seed=seed * 1000 + it, horizon=horizon)[2].sum())
        d = sigma * autograd.randn(samples, theta.numel(), generator=gen, dtype=theta.dtype,
                                   device=theta.device)
        grad, j0 = finite_difference_gradient(score, theta, d)
        history.append(j0)
        theta = theta + lr * grad / (grad.norm() + 1e-8)    # normalised ascent step
    nn.utils.vector_to_parameters(theta, policy.parameters())
    return policy, history


def _linear_act(policy, obs, device):
    with autograd.no_grad():
        return int(policy(autograd.tensor(obs, device=device)).item() > 0)


# ----------------------------------------------------------------------------- REINFORCE
def train_reinforce(episodes=300, gamma=0.99, lr=0.01, hidden=32, seed=0, device=None,
                    baseline=True):
    """REINFORCE (eq. 9.25) with a learned state-value baseline on CartPole.  Returns
    (policy, the return of every training episode)."""
    autograd.manual_seed(seed)
    policy = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 2)).to(device)
    value = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 1)).to(device)
    opt = optim.Adam([*policy.parameters(), *value.parameters()], lr=lr)
    env = make_env(seed)
    gen = autograd.Generator(autograd.device(device or autograd.get_default_device()))
    gen.manual_seed(seed)
    history = []
    for episode in range(episodes):
        def act(obs):
            with autograd.no_grad():
                logits = policy(autograd.tensor(obs, device=device))
                return int(autograd.multinomial(logits.softmax(-1), 1, generator=gen).item())
        states, actions, rewards = rollout(env, act, seed=seed * 100000 + episode)
        history.append(float(rewards.sum()))
        s = autograd.tensor(states, device=device)
        G = autograd.tensor(discounted_returns(rewards, gamma), dtype=autograd.float32,
                            device=device)
        log_p = Categorical(logits=policy(s)).log_prob(autograd.tensor(actions, device=device))
        v = value(s).squeeze(1)
        advantage = (G - v).detach() if baseline else G
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8) \
            if len(rewards) > 1 else advantage
        loss = -(advantage * log_p).mean() + nn.functional.mse_loss(v, G)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return policy, history


def evaluate(env, act, episodes=10, seed=10_000):
    """Mean return of ``act`` over ``episodes`` fresh seeded episodes."""
    return float(numpy.mean([rollout(env, act, seed=seed + i)[2].sum()
                             for i in range(episodes)]))


def main(argv=None):
    p = _data.parser('policy_gradient', __doc__, epochs=300,
                     epochs_help='REINFORCE training episodes')
    p.add_argument('--fd-iters', type=int, default=30)
    args = p.parse_args(argv)
    gain, grad = book_gain(0.2, 0.17, 1.0)
    print(f'worked example: gain of UP = 0.83 log 0.2 = {gain:.4f}; d gain / d logits = '
          f'{[round(g, 4) for g in grad.tolist()]}')
    env = make_env(args.seed)

    fd_policy, fd_history = train_finite_difference(args.fd_iters, seed=args.seed,
                                                    device=args.device)
    fd_score = evaluate(env, lambda o: _linear_act(fd_policy, o, args.device))
    print(f'finite differences: return {fd_history[0]:.0f} -> {fd_history[-1]:.0f} '
          f'in {args.fd_iters} iterations; greedy evaluation {fd_score:.1f}')

    policy, history = train_reinforce(args.epochs, seed=args.seed, device=args.device)

    def greedy(obs):
        with autograd.no_grad():
            return int(policy(autograd.tensor(obs, device=args.device)).argmax().item())
    score = evaluate(env, greedy)
    last = float(numpy.mean(history[-20:]))
    print(f'REINFORCE + baseline: mean return of the last 20 training episodes {last:.1f}; '
          f'greedy evaluation {score:.1f} (500 = solved)')

    fig, (ax_fd, ax_rf) = _data.figure(1, 2, figsize=(11, 3.8))
    ax_fd.plot(fd_history)
    ax_fd.set(xlabel='iteration', ylabel='return', title='finite-difference gradient')
    ax_rf.plot(history, alpha=0.4)
    ax_rf.plot(numpy.convolve(history, numpy.ones(20) / 20, mode='valid'))
    ax_rf.set(xlabel='episode', ylabel='return', title='REINFORCE with a baseline')
    print('plot:', _data.savefig(fig, args.out, 'returns.png'))
    return {'book_gain': gain, 'fd_first': fd_history[0], 'fd_last': fd_history[-1],
            'fd_eval': fd_score, 'reinforce_last20': last, 'reinforce_eval': score}


if __name__ == '__main__':
    main()

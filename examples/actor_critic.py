"""Actor-critic with an advantage, on CartPole (discrete) and Pendulum (a Gaussian policy).

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.5.2 (baselines) and 9.5.4
(actor-critic methods).  The critic is a value network V(s); its temporal-difference error

    delta_t = r_t + gamma V(s_(t+1)) - V(s_t)                          (eq. 9.16)

is the advantage of the action taken (the state-specific baseline of 9.5.2: "the advantage
Q(s, a) - V(s) becoming identical to the temporal difference error").  The actor steps
W <- W + alpha delta_t grad log p(a_t | s_t) (eq. 9.25 with the advantage), the critic
minimises delta_t^2 with its target held fixed.

For continuous actions (sec. 9.5.2, "continuous actions occur frequently in robotics") the
actor outputs the mean of a Gaussian, with a learned log standard deviation, through
``autograd.distributions.Normal``; the torque is the sample clipped to Pendulum's [-2, 2].
Pendulum-v1 (gymnasium, classic control): reward -(angle^2 + 0.1 speed^2 + 0.001 torque^2)
per step, 200 steps; a random policy scores about -1200, a good one about -150.  Several
environments are stepped together (``gymnasium.vector``) and the networks updated every
``n_steps`` steps with n-step bootstrapped advantages.

Run: python examples/actor_critic.py [--epochs 200] [--pendulum-steps 100000] [--out runs/actor_critic]
(``--epochs`` is the number of CartPole episodes.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
from autograd.distributions import Categorical, Normal


def mlp(n_in, n_out, hidden):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                         nn.Tanh(), nn.Linear(hidden, n_out))


def td_advantages(rewards, values, last_value, dones, gamma):
    """n-step bootstrapped returns and advantages of a (T, E) block of E environments:
    R_t = r_t + gamma (1 - done_t) R_(t+1), R_T = V(s_T); advantage = R_t - V(s_t).
    With T = 1 the advantage is the TD error delta_t of eq. 9.16."""
    returns = autograd.zeros_like(values)
    R = last_value
    for t in range(values.shape[0] - 1, -1, -1):
        R = rewards[t] + gamma * (1 - dones[t]) * R
        returns[t] = R
    return returns, returns - values


def train_cartpole(episodes=200, gamma=0.99, lr=1e-2, hidden=32, seed=0, device=None):
    """One-step actor-critic on CartPole-v1: the update after every move uses the TD error
    as the advantage.  Returns (actor, returns of the episodes)."""
    import gymnasium
    autograd.manual_seed(seed)
    actor, critic = mlp(4, 2, hidden).to(device), mlp(4, 1, hidden).to(device)
    opt = optim.Adam([*actor.parameters(), *critic.parameters()], lr=lr)
    gen = autograd.Generator(autograd.device(device or autograd.get_default_device()))
    gen.manual_seed(seed)
    env = gymnasium.make('CartPole-v1')
    history = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed * 100000 + episode)
        states, actions, rewards, dones = [], [], [], []
        done = False
        while not done:
            with autograd.no_grad():
                logits = actor(autograd.tensor(obs, device=device))
                a = int(autograd.multinomial(logits.softmax(-1), 1, generator=gen).item())
            obs2, r, terminated, truncated, _ = env.step(a)
            states.append(obs)
            actions.append(a)
            rewards.append(r)
            dones.append(float(terminated))
            obs, done = obs2, terminated or truncated
        # the one-step TD errors of the whole episode, each with its own bootstrap
        s = autograd.tensor(numpy.array(states), device=device)
        s_next = autograd.tensor(numpy.array(states[1:] + [obs]), device=device)
        v = critic(s).squeeze(1)
        with autograd.no_grad():
            target = (autograd.tensor(rewards, device=device) + gamma
                      * (1 - autograd.tensor(dones, device=device)) * critic(s_next).squeeze(1))
        delta = target - v                                          # eq. 9.16
        log_p = Categorical(logits=actor(s)).log_prob(autograd.tensor(actions, device=device))
        loss = -(delta.detach() * log_p).mean() + delta.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(sum(rewards)))
    return actor, history


class GaussianPolicy(nn.Module):
    """N(mu(s), sigma^2): an MLP for the mean and a learned log sigma per action dimension."""

    def __init__(self, n_obs, n_act, hidden, scale):
        super().__init__()
        self.mu, self.scale = mlp(n_obs, n_act, hidden), scale
        self.log_std = nn.Parameter(autograd.zeros(n_act))

    def forward(self, s):
        return Normal(self.scale * self.mu(s).tanh(), self.log_std.exp())


def train_pendulum(steps=100000, envs=16, n_steps=16, gamma=0.9, lr=1e-3, hidden=64, seed=0,
                   device=None, log=print):
    """Advantage actor-critic with a Gaussian policy on Pendulum-v1, ``envs`` environments
    stepped together and an update every ``n_steps`` steps.  Returns (policy, the return of
    every finished episode)."""
    import gymnasium
    autograd.manual_seed(seed)
    venv = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make('Pendulum-v1')] * envs)
    policy = GaussianPolicy(3, 1, hidden, scale=2.0).to(device)
    critic = mlp(3, 1, hidden).to(device)
    opt = optim.Adam([*policy.parameters(), *critic.parameters()], lr=lr)
    obs, _ = venv.reset(seed=seed)
    totals, history = numpy.zeros(envs), []
    for update in range(steps // (envs * n_steps)):
        states, actions, rewards, dones = [], [], [], []
        for _ in range(n_steps):
            s = autograd.tensor(obs, device=device)
            with autograd.no_grad():
                a = policy(s).sample()
            act = a.clamp(-2.0, 2.0).cpu().numpy()
            obs, r, terminated, truncated, _ = venv.step(act)
            totals += r
            for i in numpy.flatnonzero(terminated | truncated):
                history.append(float(totals[i]))
                totals[i] = 0.0
            states.append(s)
            actions.append(a)
            # rewards scaled to about [-1, 0]; a time-out is cut, not a terminal state
            rewards.append(autograd.tensor(r / 16.0, dtype=autograd.float32, device=device))
            dones.append(autograd.tensor(terminated | truncated, dtype=autograd.float32,
                                         device=device))
        S = autograd.stack(states)                                  # (T, E, 3)
        v = critic(S).squeeze(-1)                                   # (T, E)
        with autograd.no_grad():
            last = critic(autograd.tensor(obs, device=device)).squeeze(-1)
        returns, adv = td_advantages(autograd.stack(rewards), v.detach(), last,
                                     autograd.stack(dones), gamma)
        log_p = policy(S).log_prob(autograd.stack(actions)).sum(-1)
        loss = -(adv * log_p).mean() + (returns - v).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if log and (update + 1) % 100 == 0 and history:
            log(f'step {(update + 1) * envs * n_steps}: mean return of the last 16 episodes '
                f'{numpy.mean(history[-16:]):.0f}, sigma {policy.log_std.exp().item():.2f}')
    return policy, history


def main(argv=None):
    p = _data.parser('actor_critic', __doc__, epochs=200, epochs_help='CartPole episodes')
    p.add_argument('--pendulum-steps', type=int, default=100000)
    args = p.parse_args(argv)
    _, cart = train_cartpole(args.epochs, seed=args.seed, device=args.device)
    cart_last = float(numpy.mean(cart[-20:]))
    print(f'CartPole, actor-critic: mean return of the first 20 episodes '
          f'{numpy.mean(cart[:20]):.1f}, of the last 20 {cart_last:.1f}')
    _, pend = train_pendulum(args.pendulum_steps, seed=args.seed, device=args.device)
    first, last = float(numpy.mean(pend[:16])), float(numpy.mean(pend[-16:]))
    print(f'Pendulum, Gaussian actor-critic: mean return of the first 16 episodes {first:.0f}, '
          f'of the last 16 {last:.0f}')
    fig, (ax_c, ax_p) = _data.figure(1, 2, figsize=(11, 3.8))
    ax_c.plot(cart, alpha=0.4)
    ax_c.set(xlabel='episode', ylabel='return', title='CartPole-v1, actor-critic')
    ax_p.plot(pend, alpha=0.4)
    ax_p.set(xlabel='episode', ylabel='return', title='Pendulum-v1, Gaussian policy')
    print('plot:', _data.savefig(fig, args.out, 'returns.png'))
    return {'cartpole_last20': cart_last, 'pendulum_first': first, 'pendulum_last': last}


if __name__ == '__main__':
    main()

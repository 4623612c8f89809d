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
``n_steps`` steps with lambda-weighted (GAE) advantages.

Beyond the book, the stabilisers that keep a trained policy from collapsing: advantages
normalised per update, an entropy bonus (CartPole), a clipped gradient norm, a learning
rate decaying linearly to 0, n-step returns; on Pendulum each batch also serves several
gradient steps with the probability ratio to the collecting policy clipped (PPO's
surrogate, Schulman et al. 2017; one step is exactly the actor-critic step above).

Run: python examples/actor_critic.py [--epochs 400] [--pendulum-steps 400000] [--out runs/actor_critic]
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


def td_advantages(rewards, values, last_value, dones, gamma, lam=1.0):
    """Bootstrapped returns and advantages of a (T, E) block of E environments.
    With lam = 1: n-step returns R_t = r_t + gamma (1 - done_t) R_(t+1), R_T = V(s_T),
    advantage = R_t - V(s_t); with T = 1 the advantage is the TD error delta_t of eq. 9.16.
    With lam < 1 the advantage is the lambda-weighted sum of the TD errors
    A_t = delta_t + gamma lam (1 - done_t) A_(t+1) (the TD(lambda) idea of sec. 9.4.4
    applied to the advantage), and the critic's target is A_t + V(s_t)."""
    advantages = autograd.zeros_like(values)
    A = autograd.zeros_like(last_value)
    next_value = last_value
    for t in range(values.shape[0] - 1, -1, -1):
        live = 1 - dones[t]
        delta = rewards[t] + gamma * live * next_value - values[t]   # eq. 9.16
        A = delta + gamma * lam * live * A
        advantages[t] = A
        next_value = values[t]
    return advantages + values, advantages


def normalised(x):
    """Advantages rescaled to zero mean and unit deviation per update (a baseline shift of
    sec. 9.5.2 and a step-size choice: neither changes the direction in expectation)."""
    return (x - x.mean()) / (x.std() + 1e-8)


def train_cartpole(episodes=400, gamma=0.99, lr=3e-3, hidden=32, entropy=0.01, clip=1.0,
                   n_steps=8, seed=0, device=None):
    """Actor-critic on CartPole-v1, one update per episode: the advantage of each move is
    its n-step bootstrapped return minus V(s) (n = ``n_steps``; n = 1 is the TD error of
    eq. 9.16), normalised over the episode; an entropy bonus keeps the policy from
    collapsing onto one action, and the gradient norm is clipped.  A time-out (500 steps)
    is bootstrapped, not treated as a terminal state.  Returns (actor, episode returns)."""
    import gymnasium
    autograd.manual_seed(seed)
    actor, critic = mlp(4, 2, hidden).to(device), mlp(4, 1, hidden).to(device)
    params = [*actor.parameters(), *critic.parameters()]
    opt = optim.Adam(params, lr=lr)
    # the step size decays linearly to 0 over the run (a lower learning rate as the policy
    # improves keeps one bad update from undoing a good policy)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - k / episodes)
    gen = autograd.Generator(autograd.device(device or autograd.get_default_device()))
    gen.manual_seed(seed)
    env = gymnasium.make('CartPole-v1')
    history = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed * 100000 + episode)
        states, actions, rewards, terms = [], [], [], []
        done = False
        while not done:
            with autograd.no_grad():
                logits = actor(autograd.tensor(obs, device=device))
                a = int(autograd.multinomial(logits.softmax(-1), 1, generator=gen).item())
            obs2, r, terminated, truncated, _ = env.step(a)
            states.append(obs)
            actions.append(a)
            rewards.append(r)
            terms.append(float(terminated))
            obs, done = obs2, terminated or truncated
        T = len(rewards)
        s = autograd.tensor(numpy.array(states + [obs]), device=device)
        v_all = critic(s).squeeze(1)
        v = v_all[:T]
        with autograd.no_grad():
            vals = v_all.detach().cpu().numpy()
        vals[T] *= 1.0 - terms[-1]                        # V(terminal state) = 0
        # n-step targets R_t = r_t + ... + gamma^(k-1) r_(t+k-1) + gamma^k V(s_(t+k))
        target = numpy.empty(T, dtype=numpy.float32)
        for t in range(T):
            k = min(n_steps, T - t)
            target[t] = (sum(gamma ** i * rewards[t + i] for i in range(k))
                         + gamma ** k * vals[t + k])
        target = autograd.tensor(target, device=device)
        adv = normalised(target - v.detach())
        dist = Categorical(logits=actor(s[:T]))
        log_p = dist.log_prob(autograd.tensor(actions, device=device))
        # the critic's squared error is divided by the size of its targets (up to ~100), so
        # its step does not grow with the returns and swamp the actor's
        loss = (-(adv * log_p).mean() - entropy * dist.entropy().mean()
                + 0.5 * (target - v).pow(2).mean() / (1.0 + target.abs().mean().detach()))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        sched.step()
        history.append(float(sum(rewards)))
    return actor, history


class GaussianPolicy(nn.Module):
    """N(mu(s), sigma^2): an MLP for the state-dependent mean and a learned log sigma per
    action dimension (state-independent)."""

    def __init__(self, n_obs, n_act, hidden, scale, log_std=0.0):
        super().__init__()
        self.mu, self.scale = mlp(n_obs, n_act, hidden), scale
        self.log_std = nn.Parameter(autograd.full((n_act,), float(log_std)))

    def forward(self, s):
        return Normal(self.scale * self.mu(s).tanh(), self.log_std.exp())


def train_pendulum(steps=400000, envs=32, n_steps=16, gamma=0.9, lam=0.95, lr=2e-3, hidden=64,
                   clip=0.5, log_std=-0.5, epochs=8, eps=0.2, seed=0, device=None, log=print):
    """Advantage actor-critic with a Gaussian policy on Pendulum-v1: ``envs`` environments
    stepped together, an update every ``n_steps`` steps with lambda-weighted advantages,
    normalised per update, and a clipped gradient; the learning rate decays linearly to 0.
    Each batch is used for ``epochs`` gradient steps, the probability ratio to the policy
    that collected it clipped to [1 - eps, 1 + eps]; epochs = 1 is the plain actor-critic
    step (the ratio is 1 and its gradient that of log p).
    Returns (policy, the return of every finished episode)."""
    import gymnasium
    autograd.manual_seed(seed)
    # SAME_STEP: an environment that finishes is reset within that step, so every stored
    # transition is a real one (no step from a final state into the next episode's start)
    venv = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make('Pendulum-v1')] * envs,
                                          autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP)
    policy = GaussianPolicy(3, 1, hidden, scale=2.0, log_std=log_std).to(device)
    critic = mlp(3, 1, hidden).to(device)
    params = [*policy.parameters(), *critic.parameters()]
    opt = optim.Adam(params, lr=lr)
    updates = max(1, steps // (envs * n_steps))
    sched = optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - k / updates)
    obs, _ = venv.reset(seed=seed)
    totals, history = numpy.zeros(envs), []
    for update in range(updates):
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
            # rewards shifted and scaled to about [-1, 1]; an episode's end cuts the return
            rewards.append(autograd.tensor((r + 8.0) / 8.0, dtype=autograd.float32,
                                           device=device))
            dones.append(autograd.tensor(terminated | truncated, dtype=autograd.float32,
                                         device=device))
        S, A = autograd.stack(states), autograd.stack(actions)      # (T, E, 3), (T, E, 1)
        with autograd.no_grad():
            v = critic(S).squeeze(-1)                               # (T, E)
            last = critic(autograd.tensor(obs, device=device)).squeeze(-1)
            returns, adv = td_advantages(autograd.stack(rewards), v, last,
                                         autograd.stack(dones), gamma, lam)
            adv = normalised(adv)
            old_log_p = policy(S).log_prob(A).sum(-1)
        for _ in range(epochs):
            # ratio = p(a|s) / p_old(a|s): on the first pass it is 1 and its gradient is
            # grad log p, so with epochs = 1 this is exactly the actor-critic step; further
            # passes over the same batch are kept near the old policy by the clip
            ratio = (policy(S).log_prob(A).sum(-1) - old_log_p).exp()
            surrogate = autograd.minimum(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)
            loss = -surrogate.mean() + 0.5 * (returns - critic(S).squeeze(-1)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, clip)
            opt.step()
        sched.step()
        if log and (update + 1) % 200 == 0 and history:
            log(f'step {(update + 1) * envs * n_steps}: mean return of the last 16 episodes '
                f'{numpy.mean(history[-16:]):.0f}, sigma {policy.log_std.exp().item():.2f}')
    return policy, history


def main(argv=None):
    p = _data.parser('actor_critic', __doc__, epochs=400, epochs_help='CartPole episodes')
    p.add_argument('--pendulum-steps', type=int, default=400000)
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

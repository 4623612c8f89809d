"""Deep Q-learning: experience replay and a target network solving CartPole; the Atari Q-network.

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.4.1-9.4.2.  A network F(X, W, a)
predicts the value of each action; it is trained towards the Bellman target

    r_t + gamma max_a F(X_(t+1), W-, a)        (0 after a terminal state; eq. 9.5-9.8)

treated as constant ground truth, with the text's two stabilisers: a fixed-length pool of
past experiences sampled as mini-batches (experience replay), and a separate, more slowly
updated network W- for the targets.  Actions are epsilon-greedy, epsilon annealed from
large values to small ones.

The numbers are the Stable-Baselines3 zoo's for DQN on CartPole-v1 (rl-baselines3-zoo,
hyperparams/dqn.yml): a 4-256-256-2 ReLU network, Adam at lr 2.3e-3, a pool of 100,000
experiences that 1,000 random steps fill first, then every 256 environment steps 128
mini-batches of 64 replayed (one Adam step each) and W- copied from W after each such
round, epsilon from 1 to 0.04 over the first 8,000 steps, gamma 0.99, 50,000 steps at most;
the Huber loss (``smooth_l1_loss``, the DQN paper's clipped error) and gradients clipped to
norm 10, as Stable-Baselines3 does.  DQN's greedy returns oscillate during training, so
every 1,024 steps the greedy policy plays 50 selection episodes (seeds from 20,000) and the
best weights are kept; training stops once all 50 reach the 500-step limit.  CartPole-v1
counts as solved at an average return of 475 over 100 consecutive episodes: the final
evaluation plays 100 fresh episodes greedily (seeds from 10,000, never used in selection).

:func:`train` also offers the text's online form (``train_every=1, updates=1``: one update
a step), double DQN's target (``double``: the next action chosen by W, valued by W-; van
Hasselt et al.), soft target updates (``tau``: Polyak averaging after every update) and a
linear learning-rate decay (``lr_final``).  The earlier defaults here (one update of 128 a
step, 2x128 net, Adam 5e-4, W- copied every 1,000 steps, 50,000 steps) reached 472.9, not
solved; with double DQN and lr decay 424.9 (seed 0) and 403.9 (seed 1).

Profiled (one BLAS thread): an update of a 64-batch on the 2x256 network costs about 1.5 ms
of CPU, most of it the three matrix products forward and back, the rest the autograd graph;
an action choice 0.1 ms (under ``no_grad``), a CartPole step 0.02 ms.  Replaying 128
batches every 256 steps is a quarter of the work of one 128-batch update a step: seed 0
stops at step 29,696 after 41 s of CPU (145 s of wall time on a shared, busy machine).

:class:`AtariQNetwork` is the text's network of 9.4.2: 4 stacked 84 x 84 grey screens,
convolutions of 32 8x8 (stride 4), 64 4x4 (stride 2) and 64 3x3 (stride 1) filters, a
512-unit layer and one linear output per action, ReLU everywhere else, no pooling.  It is
defined and its shapes and parameter count printed (no Atari emulator is installed).

Run: python examples/dqn.py [--epochs 50000] [--out runs/dqn]
(``--epochs`` is the number of environment steps, at most.)
"""
import copy
import time

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class AtariQNetwork(nn.Module):
    """The Q-network of sec. 9.4.2: (N, 4, 84, 84) screens -> (N, actions) Q-values."""

    def __init__(self, actions=18):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),       # -> 32 x 20 x 20
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),      # -> 64 x 9 x 9
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),      # -> 64 x 7 x 7
            nn.Flatten())
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.Linear(512, actions))

    def forward(self, screens):
        return self.head(self.features(screens))


def layer_shapes(model, x):
    """The output shape after every layer of ``model.features`` and ``model.head``."""
    shapes = []
    with autograd.no_grad():
        for layer in [*model.features, *model.head]:
            x = layer(x)
            shapes.append((type(layer).__name__, tuple(x.shape)))
    return shapes


class Replay:
    """A fixed-length pool of experiences (s, a, r, s', done); the oldest drop out."""

    def __init__(self, capacity, obs_dim, rng):
        self.s = numpy.zeros((capacity, obs_dim), numpy.float32)
        self.s2 = numpy.zeros((capacity, obs_dim), numpy.float32)
        self.a = numpy.zeros(capacity, numpy.int64)
        self.r = numpy.zeros(capacity, numpy.float32)
        self.done = numpy.zeros(capacity, numpy.float32)
        self.capacity, self.size, self.next, self.rng = capacity, 0, 0, rng

    def add(self, s, a, r, s2, done):
        i = self.next
        self.s[i], self.a[i], self.r[i], self.s2[i], self.done[i] = s, a, r, s2, done
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch, device=None):
        idx = self.rng.integers(self.size, size=batch)
        return [autograd.tensor(x[idx], device=device)
                for x in (self.s, self.a, self.r, self.s2, self.done)]


def q_learning_loss(q_net, target_net, batch, gamma, double=False):
    """Huber Bellman error of a mini-batch; the target (eq. 9.7) carries no gradient.
    ``double``: the next action is chosen by W and valued by W- (double DQN)."""
    s, a, r, s2, done = batch
    q = q_net(s).gather(1, a.unsqueeze(1)).squeeze(1)
    with autograd.no_grad():
        if double:
            best = q_net(s2).argmax(1, keepdim=True)
            nxt = target_net(s2).gather(1, best).squeeze(1)
        else:
            nxt = target_net(s2).max(1).values
        target = r + gamma * (1 - done) * nxt
    return nn.functional.smooth_l1_loss(q, target)


def train(steps=50000, hidden=256, lr=2.3e-3, gamma=0.99, batch=64, warmup=1000,
          capacity=100000, eps_steps=8000, eps_final=0.04, train_every=256, updates=128,
          sync=None, tau=None, double=False, lr_final=None, target_network=True,
          eval_every=1024, eval_episodes=50, stop_at=500.0, seed=0, device=None, log=print):
    """DQN on CartPole-v1; returns (the Q-network with the best evaluated weights, the
    returns of the finished training episodes, the evaluations as (step, mean return)).

    The environment is played ``steps`` steps epsilon-greedily (epsilon falls linearly from
    1 to ``eps_final`` over ``eps_steps``); the first ``warmup`` steps only fill the pool.
    Every ``train_every`` steps, ``updates`` mini-batches of ``batch`` experiences are
    replayed, one Adam step each.  The target network W- is copied from W every ``sync``
    steps (default: ``train_every``, after each round of updates), or, with ``tau``, moved
    towards W after every update (Polyak averaging).  Every ``eval_every`` steps the greedy
    policy plays ``eval_episodes`` selection episodes (seeds of their own) and the best
    weights are kept; training stops once they average ``stop_at``."""
    import gymnasium
    autograd.manual_seed(seed)
    rng = numpy.random.default_rng(seed)
    env = gymnasium.make('CartPole-v1')
    env.action_space.seed(seed)
    q_net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 2)).to(device)
    target_net = copy.deepcopy(q_net) if target_network else q_net
    opt = optim.Adam(q_net.parameters(), lr=lr)
    # lr_final: the learning rate falls linearly from lr to lr_final over the updates
    rounds = max(1, (steps - warmup) // train_every)
    sched = None if lr_final is None else optim.lr_scheduler.LinearLR(
        opt, 1.0, lr_final / lr, total_iters=rounds * updates)
    sync = train_every if sync is None else sync
    pool = Replay(capacity, 4, rng)
    obs, _ = env.reset(seed=seed)
    returns, evaluations, total = [], [], 0.0
    best_score, best_state = -1.0, copy.deepcopy(q_net.state_dict())
    for step in range(1, steps + 1):
        epsilon = max(eps_final, 1 - (1 - eps_final) * step / eps_steps)
        if step <= warmup or rng.random() < epsilon:
            a = int(rng.integers(2))
        else:
            with autograd.no_grad():
                a = int(q_net(autograd.tensor(obs, device=device)).argmax().item())
        obs2, r, terminated, truncated, _ = env.step(a)
        pool.add(obs, a, r, obs2, float(terminated))   # a time-out is not a terminal state
        obs, total = obs2, total + r
        if terminated or truncated:
            returns.append(total)
            obs, _ = env.reset()
            total = 0.0
        if step <= warmup:
            continue
        if step % train_every == 0:
            for _ in range(updates):
                loss = q_learning_loss(q_net, target_net, pool.sample(batch, device), gamma,
                                       double)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(q_net.parameters(), 10.0)
                opt.step()
                if sched is not None:
                    sched.step()
                if target_network and tau is not None:      # W- <- tau W + (1 - tau) W-
                    with autograd.no_grad():
                        for pt, p in zip(target_net.parameters(), q_net.parameters()):
                            pt.lerp_(p, tau)
        if target_network and tau is None and step % sync == 0:    # W- <- W
            target_net.load_state_dict(q_net.state_dict())
        if step % eval_every == 0:
            # seeds 20,000 on: not the seeds of the final evaluation
            score = evaluate(q_net, episodes=eval_episodes, seed=20_000, device=device)
            evaluations.append((step, score))
            if score > best_score:
                best_score, best_state = score, copy.deepcopy(q_net.state_dict())
            if log:
                log(f'step {step}: {len(returns)} episodes, mean return of the last 10 '
                    f'{numpy.mean(returns[-10:]):.1f}, epsilon {epsilon:.2f}, greedy '
                    f'evaluation {score:.1f}')
            if score >= stop_at:
                break
    q_net.load_state_dict(best_state)
    return q_net, returns, evaluations


def evaluate(q_net, episodes=10, seed=10_000, device=None, per_episode=False):
    """Mean return of the greedy policy over CartPole-v1 episodes seeded ``seed``,
    ``seed + 1``, ... (500 at most; ``per_episode``: the list of returns instead).  The
    episodes run side by side: one batched forward pass a step for those still going."""
    import gymnasium
    envs = [gymnasium.make('CartPole-v1') for _ in range(episodes)]
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    totals = numpy.zeros(episodes)
    going = list(range(episodes))
    while going:
        with autograd.no_grad():
            x = autograd.tensor(numpy.stack([obs[i] for i in going]), device=device)
            actions = q_net(x).argmax(1).tolist()
        still = []
        for i, a in zip(going, actions):
            obs[i], r, terminated, truncated, _ = envs[i].step(a)
            totals[i] += r
            if not (terminated or truncated):
                still.append(i)
        going = still
    return totals.tolist() if per_episode else float(totals.mean())


def main(argv=None):
    args = _data.parser('dqn', __doc__, epochs=50000, epochs_help='environment steps (at most)'
                        ).parse_args(argv)
    atari = AtariQNetwork(actions=18)
    print("the text's Atari Q-network, (1, 4, 84, 84) screens in:")
    for name, shape in layer_shapes(atari, autograd.zeros(1, 4, 84, 84)):
        print(f'  {name:8s} -> {shape}')
    count = sum(p.numel() for p in atari.parameters())
    print(f'  parameters: {count:,} (18 actions; the text gives no count: by hand '
          f'8,224 + 32,832 + 36,928 + 1,606,144 + 9,234 = 1,693,362)')

    start = time.perf_counter()
    q_net, returns, evaluations = train(args.epochs, seed=args.seed, device=args.device)
    seconds = time.perf_counter() - start
    kept_step, kept_score = max(evaluations, key=lambda e: e[1], default=(0, float('nan')))
    print(f'DQN: {len(returns)} training episodes in {seconds:.0f} s; the weights kept '
          f'(step {kept_step}) averaged {kept_score:.1f} on the 50 selection episodes')
    returns100 = evaluate(q_net, episodes=100, device=args.device, per_episode=True)
    score = float(numpy.mean(returns100))
    print(f'greedy evaluation over 100 fresh episodes: mean {score:.1f}, min '
          f'{min(returns100):.0f} (500 = the most; a mean of 475 solves CartPole-v1: '
          f'{"solved" if score >= 475 else "not solved"})')
    fig, (ax1, ax2) = _data.figure(1, 2, figsize=(10, 4))
    ax1.plot(returns, alpha=0.4)
    ax1.plot(numpy.arange(19, len(returns)), numpy.convolve(returns, numpy.ones(20) / 20,
                                                            mode='valid'))
    ax1.set(xlabel='training episode', ylabel='return (epsilon-greedy)',
            title='DQN on CartPole-v1: training')
    ax2.plot(*zip(*evaluations), marker='.')
    ax2.axhline(475, color='grey', linestyle=':')
    ax2.set(xlabel='environment step', ylabel='greedy mean return (50 episodes)',
            title='selection evaluations')
    print('plot:', _data.savefig(fig, args.out, 'returns.png'))
    return {'atari_parameters': count, 'eval': score, 'eval_min': float(min(returns100)),
            'episodes': len(returns), 'kept_step': kept_step, 'selection': kept_score,
            'train_seconds': seconds}


if __name__ == '__main__':
    main()

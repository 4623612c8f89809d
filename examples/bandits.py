"""Multi-armed bandits: the naive algorithm, epsilon-greedy and upper bounding, with regret.

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.2.  A gambler plays one of k slot
machines per step; machine i pays a reward drawn from N(q_i, 1), the q_i unknown.  The
strategies of the text:

- naive (9.2.1): play every machine ``explore`` times, then the best average forever;
- epsilon-greedy (9.2.2): a random machine with probability epsilon (the text's 0.1),
  else the best average so far;
- upper bounding (9.2.3, eq. 9.1): the machine with the largest U_i = Q_i + C_i, the
  confidence bonus C_i = K sigma_i / sqrt(n_i) from the estimated standard deviation of
  machine i's rewards; K = 3 is the text's 99.99% one-sided interval.

The testbed is Sutton and Barto's 10-armed one (q_i ~ N(0, 1)); many independent runs are
played at once as rows of (runs, k) tensors on the chosen device.  Regret after t steps is
sum_s (max_i q_i - q_{a_s}), averaged over the runs; the plot shows its curve.

Run: python examples/bandits.py [--epochs 1000] [--runs 2000] [--device cpu] [--out runs/bandits]
(``--epochs`` is the number of plays per run.)
"""
import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn


class Estimates:
    """Per-run, per-arm running statistics of the rewards seen: counts n, means Q and the
    sums of squared deviations M2 (Welford's update), all (runs, k) float tensors."""

    def __init__(self, runs, k, device):
        self.n = autograd.zeros(runs, k, device=device)
        self.mean = autograd.zeros(runs, k, device=device)
        self.m2 = autograd.zeros(runs, k, device=device)

    def update(self, action, reward):
        """Add one reward per run: action (runs,) int64, reward (runs,) float."""
        hit = nn.functional.one_hot(action, self.n.shape[1]).float()
        self.n = self.n + hit
        delta = (reward.unsqueeze(1) - self.mean) * hit
        self.mean = self.mean + delta / self.n.clamp(min=1)
        self.m2 = self.m2 + delta * (reward.unsqueeze(1) - self.mean) * hit

    def std(self):
        """Sample standard deviation of each arm's rewards (ddof 1; 0 below two plays)."""
        return (self.m2 / (self.n - 1).clamp(min=1)).sqrt()


def choose_naive(est, t, generator, explore=10):
    """Round-robin over the arms for the first ``explore * k`` plays, then the best mean."""
    runs, k = est.n.shape
    if t < explore * k:
        return autograd.full((runs,), t % k, dtype=autograd.int64, device=est.n.device)
    return est.mean.argmax(1)


def choose_epsilon_greedy(est, t, generator, epsilon=0.1):
    """A uniformly random arm with probability epsilon, else the best mean (untried arms
    first: their mean is the initial 0, and every arm is played once to start)."""
    runs, k = est.n.shape
    if t < k:
        return autograd.full((runs,), t, dtype=autograd.int64, device=est.n.device)
    explore = autograd.rand(runs, generator=generator, device=est.n.device) < epsilon
    random_arm = autograd.randint(0, k, (runs,), generator=generator, device=est.n.device)
    return autograd.where(explore, random_arm, est.mean.argmax(1))


def choose_upper_bound(est, t, generator, K=3.0):
    """Eq. 9.1: argmax_i Q_i + K sigma_i / sqrt(n_i).  Each arm is played twice first, so
    that every sigma_i is an estimate."""
    runs, k = est.n.shape
    if t < 2 * k:
        return autograd.full((runs,), t % k, dtype=autograd.int64, device=est.n.device)
    return (est.mean + K * est.std() / est.n.sqrt()).argmax(1)


STRATEGIES = {
    'naive (10 plays per arm)': choose_naive,
    'epsilon-greedy (0.1)': choose_epsilon_greedy,
    'upper bound (K = 3)': choose_upper_bound,
}


def play(choose, steps, runs=2000, k=10, seed=0, device=None):
    """Play ``runs`` independent k-armed testbeds for ``steps`` plays with the strategy
    ``choose(estimates, t, generator) -> (runs,) arms``.  Returns a dict with 'regret'
    (steps,) the mean cumulative regret after each play and 'optimal' (steps,) the fraction
    of runs playing the best arm at each play."""
    device = autograd.device(device or autograd.get_default_device())
    gen = autograd.Generator(device).manual_seed(seed)
    q = autograd.randn(runs, k, generator=gen, device=device)       # the true payoffs
    best_value, best_arm = q.max(1)
    est = Estimates(runs, k, device)
    regret, optimal, total = [], [], autograd.zeros(runs, device=device)
    for t in range(steps):
        a = choose(est, t, gen)
        payoff = q.gather(1, a.unsqueeze(1)).squeeze(1)
        est.update(a, payoff + autograd.randn(runs, generator=gen, device=device))
        total = total + (best_value - payoff)
        regret.append(total.mean().item())
        optimal.append((a == best_arm).float().mean().item())
    return {'regret': regret, 'optimal': optimal}


def main(argv=None):
    p = _data.parser('bandits', __doc__, epochs=1000, epochs_help='plays per run')
    p.add_argument('--runs', type=int, default=2000)
    args = p.parse_args(argv)
    results = {name: play(choose, args.epochs, runs=args.runs, seed=args.seed,
                          device=args.device)
               for name, choose in STRATEGIES.items()}
    fig, (ax_r, ax_o) = _data.figure(1, 2, figsize=(11, 4))
    for name, r in results.items():
        print(f'{name:26s} regret after {args.epochs} plays {r["regret"][-1]:7.1f}, '
              f'best arm in the last play {r["optimal"][-1]:.1%}')
        ax_r.plot(r['regret'], label=name)
        ax_o.plot(r['optimal'], label=name)
    ax_r.set(xlabel='play', ylabel='cumulative regret', title='regret (mean over runs)')
    ax_o.set(xlabel='play', ylabel='fraction playing the best arm')
    print('plot:', _data.savefig(fig, args.out, 'regret.png', legend_fontsize=8))
    return {name: {'regret': r['regret'][-1], 'optimal': r['optimal'][-1]}
            for name, r in results.items()}


if __name__ == '__main__':
    main()

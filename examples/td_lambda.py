"""Temporal-difference learning of state values: TD(0) and TD(lambda) with eligibility traces.

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.4.4 ("Modeling states versus
state-action pairs").  A network G(X, W) estimates the value V(s) of a state (eq. 9.13).
With the TD error

    delta_t = r_t + gamma G(X_(t+1), W) - G(X_t, W)                         (eq. 9.16)

TD(0) steps W <- W + alpha delta_t grad G(X_t, W), and TD(lambda) also corrects the earlier
predictions, discounted at lambda gamma per step (eq. 9.18):

    W <- W + alpha delta_t sum_(k <= t) (lambda gamma)^(t - k) grad G(X_k, W).

The sum is kept as one *eligibility trace* per parameter, e <- lambda gamma e + grad G(X_t, W),
the gradients coming from ``autograd.grad``.  At lambda = 1 the text says TD equals Monte
Carlo: summed over an episode (offline, the weights held fixed within it) the TD(1) updates
are exactly the Monte-Carlo updates alpha sum_t (G_t - G(X_t, W)) grad G(X_t, W), G_t the
observed return.  :func:`offline_update` computes both and the test checks they agree.

The task is Sutton's random walk: states 1..n in a row, start in the middle, step left or right
with probability 1/2, reward 1 for leaving on the right, 0 on the left, gamma = 1; the true
values are i / (n + 1).  G is ``nn.Linear(n, 1)`` on one-hot states (a table) or a small MLP.

Run: python examples/td_lambda.py [--epochs 10] [--seeds 10] [--states 19] [--out runs/td_lambda]
(``--epochs`` is the number of training episodes per run.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn


def random_walk(n, rng):
    """One episode of the n-state random walk: (states visited, rewards), states in 0..n-1;
    rewards[t] follows the move out of states[t]."""
    s, states, rewards = n // 2, [], []
    while 0 <= s < n:
        states.append(s)
        s += 1 if rng.random() < 0.5 else -1
        rewards.append(1.0 if s == n else 0.0)
    return states, rewards


def true_values(n):
    return numpy.arange(1, n + 1) / (n + 1)


def value_net(n, hidden=None, dtype=autograd.float64, device=None):
    """G(X, W): Linear(n, 1) on one-hot X (a table of values), or an MLP with ``hidden``
    tanh units.  Zero-initialised when linear, so all methods start alike."""
    if hidden is None:
        net = nn.Linear(n, 1, bias=False)
        nn.init.zeros_(net.weight)
    else:
        net = nn.Sequential(nn.Linear(n, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    return net.to(device=device, dtype=dtype)


def _features(net, states, n):
    p = next(net.parameters())
    return nn.functional.one_hot(autograd.tensor(states, device=p.device), n).to(p.dtype)


def td_lambda_episode(net, states, rewards, n, lam, alpha, gamma=1.0):
    """Online TD(lambda) over one episode (eq. 9.18 with eligibility traces): the weights
    change after every move."""
    params = list(net.parameters())
    traces = [autograd.zeros_like(p) for p in params]
    X = _features(net, states, n)
    for t in range(len(states)):
        v = net(X[t]).squeeze()
        grads = autograd.grad(v, params)
        with autograd.no_grad():
            v_next = net(X[t + 1]).squeeze() if t + 1 < len(states) else 0.0
            delta = rewards[t] + gamma * v_next - v.detach()    # eq. 9.16
            for p, e, g in zip(params, traces, grads):
                e.mul_(lam * gamma).add_(g)
                p.add_(alpha * delta * e)


def offline_update(net, states, rewards, n, lam, gamma=1.0):
    """The summed weight changes of one episode with the weights held fixed (alpha = 1):
    returns (TD(lambda) change, Monte-Carlo change), each a list of tensors like the
    parameters.  At lambda = 1 the two are equal."""
    params = list(net.parameters())
    X = _features(net, states, n)
    values = net(X).squeeze(1)
    T = len(states)
    grads = [autograd.grad(values[t], params, retain_graph=True) for t in range(T)]
    v = values.detach()
    td = [autograd.zeros_like(p) for p in params]
    mc = [autograd.zeros_like(p) for p in params]
    traces = [autograd.zeros_like(p) for p in params]
    G = 0.0
    returns = [0.0] * T
    for t in range(T - 1, -1, -1):
        G = rewards[t] + gamma * G
        returns[t] = G
    for t in range(T):
        delta = rewards[t] + (gamma * v[t + 1] if t + 1 < T else 0.0) - v[t]
        for i, g in enumerate(grads[t]):
            traces[i] = lam * gamma * traces[i] + g
            td[i] = td[i] + delta * traces[i]
            mc[i] = mc[i] + (returns[t] - v[t]) * g
    return td, mc


def rms_error(net, n):
    """Root-mean-square distance of the predicted values from i / (n + 1)."""
    with autograd.no_grad():
        p = next(net.parameters())
        v = net(autograd.eye(n, dtype=p.dtype, device=p.device)).squeeze(1).cpu().numpy()
    return float(numpy.sqrt(numpy.mean((v - true_values(n)) ** 2)))


def learning_curve(lam, alpha, episodes, n=19, seed=0, device=None):
    """RMS error after each of ``episodes`` online TD(lambda) episodes, the table starting
    at zero."""
    rng = numpy.random.default_rng(seed)
    net = value_net(n, device=device)
    errors = []
    for _ in range(episodes):
        td_lambda_episode(net, *random_walk(n, rng), n, lam, alpha)
        errors.append(rms_error(net, n))
    return errors


LAMBDAS = (0.0, 0.4, 0.8, 0.9, 1.0)
ALPHAS = (0.05, 0.1, 0.2, 0.4)


def main(argv=None):
    p = _data.parser('td_lambda', __doc__, epochs=10, epochs_help='episodes per run')
    p.add_argument('--states', type=int, default=19)
    p.add_argument('--seeds', type=int, default=10)
    args = p.parse_args(argv)
    n = args.states
    net = value_net(n, hidden=8, device=args.device)
    rng = numpy.random.default_rng(args.seed)
    td, mc = offline_update(net, *random_walk(n, rng), n, lam=1.0)
    gap = max((a - b).abs().max().item() for a, b in zip(td, mc))
    print(f'lambda = 1, offline, an MLP value net: |TD(1) update - Monte-Carlo update| = {gap:.1e}')
    result = {'td1_vs_mc': gap}
    fig, ax = _data.figure(figsize=(6, 4))
    for lam in LAMBDAS:
        errs = {a: numpy.mean([numpy.mean(learning_curve(lam, a, args.epochs, n, seed=s,
                                                         device=args.device))
                               for s in range(args.seeds)]) for a in ALPHAS}
        ax.plot(ALPHAS, list(errs.values()), marker='o', label=f'lambda = {lam}')
        best = min(errs, key=errs.get)
        result[lam] = (best, errs[best])
        print(f'TD({lam}): best alpha {best}, RMS error averaged over {args.epochs} episodes '
              f'{errs[best]:.3f}')
    ax.set(xlabel='alpha', ylabel=f'RMS error, mean over {args.epochs} episodes',
           title=f'{n}-state random walk')
    print('plot:', _data.savefig(fig, args.out, 'rms_error.png', legend_fontsize=8))
    return result


if __name__ == '__main__':
    main()

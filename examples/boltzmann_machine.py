"""A Boltzmann machine small enough to enumerate: Gibbs sampling against the exact
distribution, and learning with hidden units.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.3.  q binary units s in {0, 1}^q
(visible and hidden), symmetric weights with w_ii = 0, biases b, the energy of eq. 6.8

    E(s) = - sum_i b_i s_i - sum_{i<j} w_ij s_i s_j,     P(s) = exp(-E(s)) / Z     (6.9),

and the conditional of one unit given the rest (eq. 6.7)

    P(s_i = 1 | the others) = sigmoid(b_i + sum_j w_ij s_j).

With q = 7 there are 128 states, so Z and every marginal can be computed exactly and
compared with what Gibbs sampling (sec. 6.3.1: resample each unit from eq. 6.7 in turn,
many chains in parallel, after a burn-in) produces.

Learning (sec. 6.3.2): the gradient of the log-likelihood of the visible data is

    d log P(v) / d w_ij = <s_i s_j>_data - <s_i s_j>_model                        (6.12)

(visible units clamped to the data in the first average, free in the second).  The script
writes log P(v) = logsumexp_h(-E(v, h)) - logsumexp_s(-E(s)) with the engine, checks that
its gradient is eq. 6.12 computed by enumeration, that the book's sampled estimate of the
same update (eqs. 6.13-6.14: both averages from Gibbs chains, visible units clamped in the
positive phase) agrees with it, and trains with the exact gradient.  The data are the even-parity patterns of 3 bits: their pairwise correlations
are zero, so a machine without hidden units cannot do better than the uniform
distribution (KL = ln 2); hidden units capture the third-order structure.

Run: python examples/boltzmann_machine.py [--epochs 300] [--device cpu] [--out runs/boltzmann_machine]
"""
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

F64 = autograd.float64


class BoltzmannMachine(nn.Module):
    """q = n_visible + n_hidden fully connected binary units.  ``weight`` (q, q) is a free
    Parameter; the machine uses its symmetrised, zero-diagonal part (``W``)."""

    def __init__(self, n_visible, n_hidden, std=0.5, generator=None, device=None):
        super().__init__()
        self.n_visible, self.n_hidden = n_visible, n_hidden
        q = n_visible + n_hidden
        self.weight = nn.Parameter(std * autograd.randn(q, q, dtype=F64, device=device,
                                                        generator=generator))
        self.bias = nn.Parameter(0.1 * autograd.randn(q, dtype=F64, device=device,
                                                      generator=generator))

    @property
    def W(self):
        q = self.weight.shape[0]
        off = 1 - autograd.eye(q, dtype=F64, device=self.weight.device)
        return (self.weight + self.weight.T) / 2 * off

    def energy(self, s):
        """Eq. 6.8 for states s (..., q): (...,)."""
        return -(s * self.bias).sum(-1) - 0.5 * ((s @ self.W) * s).sum(-1)


def all_states(q, device=None):
    """Every binary vector of length q, (2^q, q) float64, unit 0 the most significant bit."""
    k = autograd.arange(2 ** q, device=device)
    place = 2 ** autograd.arange(q - 1, -1, -1, device=device)
    return (k[:, None] // place % 2).to(F64)


def exact_distribution(bm):
    """P(s) for every state (eq. 6.9): (2^q,) in the order of ``all_states``."""
    return autograd.softmax(-bm.energy(all_states(bm.n_visible + bm.n_hidden,
                                                  bm.weight.device)), 0)


def gibbs(bm, s, sweeps, generator=None, clamp=0):
    """``sweeps`` Gibbs sweeps (eq. 6.7, units in order) over the chains s (m, q) in
    {0, 1}; the first ``clamp`` units are held fixed (the visible units in the positive
    phase).  Returns the new states."""
    with autograd.no_grad():
        s = s.clone()
        W, b = bm.W, bm.bias
        for _ in range(sweeps):
            for i in range(clamp, s.shape[1]):
                p = autograd.sigmoid(s @ W[:, i] + b[i])
                s[:, i] = (autograd.rand(s.shape[0], dtype=F64, device=s.device,
                                         generator=generator) < p).to(F64)
    return s


def state_index(s):
    """Row s (m, q) of bits -> its index in ``all_states`` (m,) int64."""
    q = s.shape[1]
    weights = 2 ** autograd.arange(q - 1, -1, -1, device=s.device)
    return (s.long() * weights).sum(1)


def sampled_distribution(bm, chains, burn_in, samples, generator=None):
    """The empirical distribution of Gibbs samples: ``chains`` chains from random states,
    ``burn_in`` sweeps discarded, then one sample per chain after each of ``samples``
    sweeps.  Returns (2^q,)."""
    q = bm.n_visible + bm.n_hidden
    s = (autograd.rand(chains, q, dtype=F64, device=bm.weight.device,
                       generator=generator) < 0.5).to(F64)
    s = gibbs(bm, s, burn_in, generator)
    counts = autograd.zeros(2 ** q, dtype=F64, device=s.device)
    for _ in range(samples):
        s = gibbs(bm, s, 1, generator)
        counts = counts + nn.functional.one_hot(state_index(s), 2 ** q).to(F64).sum(0)
    return counts / counts.sum()


def log_likelihood(bm, v):
    """Mean log P(v) over visible rows v (n, n_visible): logsumexp over the hidden states
    of -E(v, h), minus log Z (both by enumeration)."""
    h = all_states(bm.n_hidden, v.device) if bm.n_hidden else autograd.zeros(
        1, 0, dtype=F64, device=v.device)
    n, H = v.shape[0], h.shape[0]
    joint = autograd.cat([v[:, None, :].expand(n, H, v.shape[1]),
                          h[None].expand(n, H, h.shape[1])], 2)
    log_z = autograd.logsumexp(-bm.energy(all_states(bm.n_visible + bm.n_hidden,
                                                     v.device)), 0)
    return (autograd.logsumexp(-bm.energy(joint), 1) - log_z).mean()


def correlations_by_enumeration(bm, v):
    """<s_i s_j>_data - <s_i s_j>_model of eq. 6.12, by enumeration: the data average
    takes each row of v (n, n_visible) with the hidden units at their exact posterior.
    Returns ((q, q) weight update, (q,) bias update)."""
    with autograd.no_grad():
        q, nv = bm.n_visible + bm.n_hidden, bm.n_visible
        S = all_states(q, v.device)
        p_model = exact_distribution(bm)
        # the posterior over states given each data row: P(s) restricted to s_v = v
        match = (S[None, :, :nv] == v[:, None, :]).all(-1)                 # (n, 2^q)
        logits = autograd.where(match, -bm.energy(S)[None], autograd.tensor(
            -math.inf, dtype=F64, device=v.device))
        p_data = autograd.softmax(logits, 1).mean(0)
        ss = S[:, :, None] * S[:, None, :]
        dW = (p_data[:, None, None] * ss).sum(0) - (p_model[:, None, None] * ss).sum(0)
        db = p_data @ S - p_model @ S
    return dW, db


def parity_data(nv, device=None):
    """The 2^(nv-1) even-parity patterns of nv bits (the data set: each equally likely)."""
    S = all_states(nv, device)
    return S[S.sum(1) % 2 == 0]


def kl_to_data(bm, data):
    """KL(data || model marginal over the visible units), data uniform over its rows."""
    with autograd.no_grad():
        return -math.log(data.shape[0]) - log_likelihood(bm, data).item()


def train_exact(bm, data, epochs, lr=0.05):
    """Maximise the exact log-likelihood (the engine differentiates it).  Returns the KL
    after each epoch."""
    opt = optim.Adam(bm.parameters(), lr=lr)
    kl = []
    for _ in range(epochs):
        loss = -log_likelihood(bm, data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        kl.append(kl_to_data(bm, data))
    return kl


def sampled_correlations(bm, data, chains, burn_in, generator=None):
    """The book's estimate of eq. 6.12 (sec. 6.3.2): the positive phase clamps the visible
    units to data rows and Gibbs-samples the hidden ones, the negative phase samples every
    unit freely; each runs ``chains`` chains for ``burn_in`` sweeps.  Returns ((q, q)
    <s s>_data - <s s>_model, (q,) <s>_data - <s>_model), the updates of eqs. 6.13-6.14
    before the learning rate."""
    q, nv = bm.n_visible + bm.n_hidden, bm.n_visible
    dev = bm.weight.device
    rows = data[autograd.randint(0, data.shape[0], (chains,), device=dev, generator=generator)]
    pos = autograd.cat([rows, autograd.zeros(chains, q - nv, dtype=F64, device=dev)], 1)
    pos = gibbs(bm, pos, burn_in, generator, clamp=nv)
    free = (autograd.rand(chains, q, dtype=F64, device=dev, generator=generator) < 0.5).to(F64)
    free = gibbs(bm, free, burn_in, generator)
    return pos.T @ pos / chains - free.T @ free / chains, pos.mean(0) - free.mean(0)


def main(argv=None):
    p = _data.parser('boltzmann_machine', __doc__, epochs=300)
    p.add_argument('--chains', type=int, default=4000, help='Gibbs chains for the check')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    dev = args.device
    results = {}

    # Gibbs sampling against enumeration
    bm = BoltzmannMachine(4, 3, std=0.8, generator=gen, device=dev)
    exact = exact_distribution(bm).detach()
    sampled = sampled_distribution(bm, args.chains, 30, 20, generator=gen)
    results['gibbs vs exact: total variation'] = 0.5 * (exact - sampled).abs().sum().item()
    results['gibbs vs exact: max |P(s_i = 1) error|'] = (
        (exact - sampled) @ all_states(7, dev)).abs().max().item()

    # eq. 6.12 from the engine
    data = parity_data(3, dev)
    bm = BoltzmannMachine(3, 2, std=0.1, generator=gen, device=dev)
    log_likelihood(bm, data).backward()
    dW, db = correlations_by_enumeration(bm, data)
    # w_ij (i < j) enters as weight_ij and weight_ji: its derivative is the sum of both
    off = 1 - autograd.eye(5, dtype=F64, device=dev)
    results['eq. 6.12 vs engine: max error'] = max(
        (bm.weight.grad + bm.weight.grad.T - dW * off).abs().max().item(),
        (bm.bias.grad - db).abs().max().item())
    sW, sb = sampled_correlations(bm, data, args.chains, 30, generator=gen)
    results['eq. 6.12 by Gibbs sampling: max error'] = max(
        ((sW - dW) * off).abs().max().item(), (sb - db).abs().max().item())

    # learning the parity distribution
    curves = {}
    for hidden in (0, 4):
        machine = BoltzmannMachine(3, hidden, std=1.0, generator=gen, device=dev)
        curves[f'{hidden} hidden'] = train_exact(machine, data, args.epochs)
    for name, kl in curves.items():
        results[f'KL to parity data: {name}'] = kl[-1]
    results['ln 2 (best without hidden units)'] = math.log(2)
    for k, v in results.items():
        print(f'{k:50s} {v:.4g}')

    fig, (ax1, ax2) = _data.figure(1, 2, figsize=(12, 4))
    idx = numpy.arange(128)
    ax1.bar(idx - 0.2, exact.cpu().numpy(), width=0.4, label='exact (enumeration)')
    ax1.bar(idx + 0.2, sampled.cpu().numpy(), width=0.4, label='Gibbs samples')
    ax1.set(xlabel='state (7 units)', ylabel='probability',
            title=f'TV distance {results["gibbs vs exact: total variation"]:.3f}')
    ax1.legend(fontsize=8)
    for name, kl in curves.items():
        ax2.plot(kl, label=name)
    ax2.axhline(math.log(2), color='0.5', ls='--', label='ln 2')
    ax2.set(xlabel='epoch', ylabel='KL(data || model)', yscale='log',
            title='learning 3-bit parity (exact gradient, Adam)')
    ax2.legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'boltzmann_machine.png'))
    return results


if __name__ == '__main__':
    main()

"""The Hopfield network: Hebbian storage, asynchronous recall, energy, capacity.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.2.  d binary units, symmetric weights
w_ij = w_ji with w_ii = 0, biases b_i, and the energy (eq. 6.1)

    E(s) = - sum_i b_i s_i - sum_{i<j} w_ij s_i s_j.

Storage is Hebb's rule (eq. 6.4) on binary data x in {0, 1}^d:
w_ij = 4 sum_k (x_ki - 0.5)(x_kj - 0.5) / n, and, with a dummy unit that is always on,
b_i = 2 sum_k (x_ki - 0.5) / n.  With s = 2x - 1 these are w_ij = sum_k s_ki s_kj / n and
b_i = sum_k s_ki / n: the book's rule for the {-1, +1} convention, which is the
convention these weights belong to (used with {0, 1} states they would need the extra
threshold -sum_j w_ij / 2).  So recall runs on states s in {-1, +1}: unit i is set to +1
exactly when its energy gap is >= 0 (eqs. 6.2, 6.3),

    Delta E_i = E(s_i = -1) - E(s_i = +1) = 2 (b_i + sum_j w_ij s_j) = -2 dE/ds_i.

E is linear in each s_i, so the script takes the gap from the engine (``autograd.grad``
of the energy) and the test checks it against eq. 6.2 by hand.  Each flip lowers E (or
leaves it), so asynchronous recall stops at a local minimum.

What the script shows:
* Fig. 6.1's six-unit network: two groups of three correlated bits.  Its four training
  vectors have low energy, the spurious 111000 (and 000111) that the text points out are
  minima, and recall from each training vector ends there: "closely related training
  patterns are merged into a single (deeper) minimum".
* Completion of corrupted patterns: 10 random 100-bit patterns stored, each recalled from
  a copy with 10% of its bits flipped.
* Capacity: random patterns stored in d = 100 units; the mean overlap of recall (started
  at a stored pattern) with that pattern stays near 1 up to about 0.14 d patterns, then
  falls (the text: "only about 0.15 d").

Run: python examples/hopfield.py [--d 100] [--device cpu] [--out runs/hopfield]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd

F64 = autograd.float64

# Fig. 6.1's training data: bits 1-3 go together, bits 4-6 go together, and the two
# groups exclude each other.
FIG_6_1 = [[1, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 1], [0, 0, 0, 0, 1, 1]]


def hebbian(X):
    """Hebb's rule for binary data X (n, d) in {0, 1}: W (d, d) by eq. 6.4 (zero diagonal)
    and b (d,) from a dummy always-on unit, b_i = 2 sum_k (x_ki - 0.5) / n (sec. 6.2.2)."""
    n, d = X.shape
    Z = X - 0.5
    W = 4 * Z.T @ Z / n
    W = W * (1 - autograd.eye(d, dtype=W.dtype, device=W.device))     # no self-loops
    return W, 2 * Z.sum(0) / n


def bipolar(x):
    """{0, 1} -> {-1, +1}."""
    return 2 * x - 1


def energy(s, W, b):
    """Eq. 6.1 for states s (..., d) in {-1, +1}: -b.s - sum_{i<j} w_ij s_i s_j (W symmetric, zero
    diagonal, so the pair sum is half of s^T W s).  Returns (...,)."""
    return -(s * b).sum(-1) - 0.5 * ((s @ W) * s).sum(-1)


def energy_gap(s, W, b):
    """Delta E_i = E(s_i = -1) - E(s_i = +1) = -2 dE/ds_i (eq. 6.2 in the {-1, +1}
    convention), from the engine: the gradient of the energy with respect to the states.
    s (..., d) -> (..., d)."""
    s = s.detach().requires_grad_()
    with autograd.enable_grad():
        (g,) = autograd.grad(energy(s, W, b).sum(), s)
    return -2 * g


def recall(s, W, b, max_sweeps=30, generator=None, free=None):
    """Asynchronous recall (eq. 6.3) of a batch of states s (m, d) in {-1, +1}: sweep the
    units in a random order, setting s_i = +1 where b_i + sum_j w_ij s_j >= 0 (else -1),
    until a sweep
    changes nothing.  ``free`` (d,) bool limits the updates to those units (attribute
    completion).  Returns (final states, energies after each sweep (list of (m,)))."""
    s = s.clone()
    d = s.shape[1]
    energies = [energy(s, W, b)]
    units = range(d) if free is None else free.nonzero().flatten().tolist()
    units = autograd.tensor(list(units), device=s.device)
    for _ in range(max_sweeps):
        old = s.clone()
        for i in units[autograd.randperm(len(units), generator=generator,
                                         device=s.device)].tolist():
            s[:, i] = 2 * (s @ W[:, i] + b[i] >= 0).to(s.dtype) - 1
        energies.append(energy(s, W, b))
        if bool((s == old).all()):
            break
    return s, energies


def is_local_minimum(s, W, b):
    """True where no single flip lowers the energy: each unit already agrees with the sign
    of its energy gap.  s (m, d) -> (m,) bool."""
    gap = energy_gap(s, W, b)
    return ((s == 1) & (gap >= 0) | (s == -1) & (gap <= 0)).all(-1)


def random_patterns(n, d, device, generator=None):
    """n random patterns of d fair bits: (n, d) float64 in {0, 1}."""
    return (autograd.rand(n, d, dtype=F64, device=device, generator=generator) < 0.5).to(F64)


def corrupt(X, fraction, generator=None):
    """X with ``fraction`` of each row's bits flipped (chosen at random per row)."""
    n, d = X.shape
    k = int(round(fraction * d))
    flip = autograd.zeros(n, d, dtype=X.dtype, device=X.device)
    for r in range(n):
        flip[r, autograd.randperm(d, generator=generator, device=X.device)[:k]] = 1.0
    return (X + flip) % 2


def overlap(a, b):
    """The overlap (1/d) sum a_i b_i of {-1, +1} rows: 1 for equal rows, 0 for unrelated
    ones.  (m, d), (m, d) -> (m,)."""
    return (a * b).mean(-1)


def capacity_curve(d, counts, device, generator=None):
    """For each number of stored random patterns, the mean overlap between each stored
    pattern and the state recall reaches from it.  Returns a list of floats."""
    curve = []
    for n in counts:
        X = random_patterns(n, d, device, generator)
        W, b = hebbian(X)
        s, _ = recall(bipolar(X), W, b, generator=generator)
        curve.append(overlap(s, bipolar(X)).mean().item())
    return curve


def capacity(d, counts, curve, threshold=0.97):
    """The largest load n/d whose mean overlap is still >= threshold (1.5% wrong bits)."""
    ok = [n for n, m in zip(counts, curve) if m >= threshold]
    return max(ok) / d if ok else 0.0


def main(argv=None):
    p = _data.parser('hopfield', __doc__, epochs=0, epochs_help='(unused)')
    p.add_argument('--d', type=int, default=100, help='units in the capacity experiment')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    dev = args.device
    results = {}

    # Fig. 6.1
    X = autograd.tensor(FIG_6_1, dtype=F64, device=dev)
    W, b = hebbian(X)
    groups = bipolar(autograd.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=F64,
                                     device=dev))
    results['fig 6.1: 111000 and 000111 are (spurious) minima'] = bool(
        is_local_minimum(groups, W, b).all())
    every = bipolar(autograd.tensor([[(k >> i) & 1 for i in range(6)] for k in range(64)],
                                    dtype=F64, device=dev))
    results['fig 6.1: training energy below the mean state\'s'] = bool(
        (energy(bipolar(X), W, b) < energy(every, W, b).mean()).all())
    ends, _ = recall(bipolar(X), W, b, generator=gen)
    results['fig 6.1: each training vector recalls its group'] = bool(
        (ends == groups[[0, 0, 1, 1]]).all())

    # completion of corrupted patterns
    P = random_patterns(10, 100, dev, gen)
    W, b = hebbian(P)
    noisy = corrupt(P, 0.1, gen)
    fixed, energies = recall(bipolar(noisy), W, b, generator=gen)
    fixed = (fixed + 1) / 2
    results['corrupted 10%: bits wrong before'] = (noisy != P).to(F64).mean().item()
    results['corrupted 10%: bits wrong after'] = (fixed != P).to(F64).mean().item()
    E = autograd.stack(energies).cpu().numpy()
    results['energy never rises'] = bool((numpy.diff(E, axis=0) <= 1e-9).all())

    # capacity
    counts = list(range(2, int(0.3 * args.d) + 1, max(1, args.d // 50)))
    curve = capacity_curve(args.d, counts, dev, gen)
    results['capacity (n/d at overlap >= 0.97)'] = capacity(args.d, counts, curve)
    for k, v in results.items():
        print(f'{k:42s} {v}')

    fig, (ax1, ax2, ax3) = _data.figure(1, 3, figsize=(14, 4))
    ax1.plot(E, color='tab:blue', alpha=0.6)
    ax1.set(xlabel='sweep', ylabel='energy (eq. 6.1)',
            title='recall of 10 corrupted patterns: energy falls')
    ax2.plot(numpy.array(counts) / args.d, curve, 'o-')
    ax2.axvline(0.138, color='0.5', ls='--', label='0.138 d (Amit et al.)')
    ax2.axvline(results['capacity (n/d at overlap >= 0.97)'], color='tab:red', ls=':',
                label='measured')
    ax2.set(xlabel='patterns stored / d', ylabel='overlap after recall',
            title=f'capacity, d = {args.d}')
    ax2.legend(fontsize=8)
    show = autograd.cat([P[:4], noisy[:4], fixed[:4]]).reshape(3, 4, 10, 10)
    grid = show.permute(0, 2, 1, 3).reshape(30, 40).cpu().numpy()
    ax3.imshow(grid, cmap='gray_r')
    ax3.set(title='stored / corrupted 10% / recalled', xticks=[], yticks=[])
    print('plot:', _data.savefig(fig, args.out, 'hopfield.png'))
    return results


if __name__ == '__main__':
    main()

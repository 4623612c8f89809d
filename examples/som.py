"""Competitive learning, vector quantisation and the Kohonen self-organising map.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.5.  No error is backpropagated: m
neurons with weight vectors W_i compete for each sampled point X.

- Competitive learning (winner-take-all): the winner p = argmin_i ||W_i - X|| moves towards
  X, W_p <- W_p + alpha (X - W_p)  (eq. 10.20).
- Vector quantisation (10.5.1): each neuron has a sensitivity s_i, raised by gamma for the
  non-winners and reset to 0 for the winner; the winner minimises ||W_i - X|| - s_i, which
  balances the points among the neurons.
- The self-organising map (10.5.2): the neurons sit on a rectangular or hexagonal lattice
  (neighbours at distance 1), and every neuron moves, damped by the lattice distance to the
  winner: W_i <- W_i + alpha Damp(i, p) (X - W_i), Damp = exp(-LDist(i, p)^2 / (2 sigma^2))
  (eq. 10.21-10.22); alpha and sigma shrink with time.

On points spread uniformly over a square, the map starts as a crumpled ball in the middle
and unfolds into a lattice over the square (``runs/som/unfolding.png``); its topographic
error (points whose two nearest neurons are not lattice neighbours) falls to a few percent.

Run: python examples/som.py [--epochs 10000] [--out runs/som]
(``--epochs`` is the number of sampled points.)
"""
import math

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn


def lattice(k, kind='rectangular', device=None):
    """(k*k, 2) coordinates of a k x k lattice whose neighbours are 1 apart: a square grid,
    or a hexagonal one (odd rows shifted by 1/2, rows sqrt(3)/2 apart: six neighbours)."""
    index = autograd.arange(k * k, device=device)
    rows, cols = (index // k).float(), (index % k).float()
    if kind == 'hexagonal':
        return autograd.stack([cols + 0.5 * (rows % 2), rows * math.sqrt(3) / 2], 1)
    if kind != 'rectangular':
        raise ValueError(f"lattice: kind must be 'rectangular' or 'hexagonal', got {kind!r}")
    return autograd.stack([cols, rows], 1)


def damp(coords, winner, sigma):
    """Eq. 10.21: exp(-LDist(i, p)^2 / (2 sigma^2)) for every neuron i, p = ``winner``."""
    ldist2 = ((coords - coords[winner]) ** 2).sum(1)
    return (-ldist2 / (2 * sigma ** 2)).exp()


def competitive_learning(X, m, steps, alpha=0.05, gamma=0.0, generator=None):
    """Winner-take-all (eq. 10.20); with ``gamma > 0`` vector quantisation with sensitivities.
    X (n, d).  The neurons start at random points of the data's bounding box (so some start
    far from every point).  Returns W (m, d)."""
    n = X.shape[0]
    lo, hi = X.min(0).values, X.max(0).values
    W = lo + (hi - lo) * autograd.rand(m, X.shape[1], generator=generator, dtype=X.dtype,
                                       device=X.device)
    s = autograd.zeros(m, device=X.device, dtype=X.dtype)
    picks = autograd.randint(0, n, (steps,), generator=generator, device=X.device).tolist()
    for i in picks:
        x = X[i]
        p = int(((W - x).norm(dim=1) - s).argmin().item())
        W[p] += alpha * (x - W[p])
        s += gamma
        s[p] = 0.0
    return W


def self_organising_map(X, k, steps, kind='rectangular', alpha=(0.5, 0.01), sigma=None,
                        generator=None, snapshots=()):
    """Kohonen's map (eq. 10.22) with k x k neurons; alpha and sigma decay geometrically from
    their first to their last value (sigma from k/2 to 0.5 by default).  The weights start
    small around the data's mean.  Returns (W (k*k, d), {step: W} at ``snapshots``)."""
    coords = lattice(k, kind, device=X.device).to(X.dtype)
    sigma = sigma or (k / 2, 0.5)
    W = X.mean(0) + 0.01 * autograd.randn(k * k, X.shape[1], generator=generator,
                                          dtype=X.dtype, device=X.device)
    picks = autograd.randint(0, X.shape[0], (steps,), generator=generator,
                             device=X.device).tolist()
    kept = {}
    for t, i in enumerate(picks):
        if t in snapshots:
            kept[t] = W.clone()
        frac = t / max(steps - 1, 1)
        a = alpha[0] * (alpha[1] / alpha[0]) ** frac
        sg = sigma[0] * (sigma[1] / sigma[0]) ** frac
        x = X[i]
        p = int((W - x).norm(dim=1).argmin().item())
        W += a * damp(coords, p, sg).unsqueeze(1) * (x - W)
    kept[steps] = W.clone()
    return W, kept


def distances(X, W):
    """(n, m) Euclidean distances between the rows of X (n, d) and of W (m, d)."""
    return ((X.unsqueeze(1) - W.unsqueeze(0)) ** 2).sum(2).sqrt()


def quantisation_error(X, W):
    """Mean distance from each point to its nearest neuron."""
    return distances(X, W).min(1).values.mean().item()


def topographic_error(X, W, coords):
    """Fraction of points whose nearest and second-nearest neurons are not lattice
    neighbours (lattice distance above 1)."""
    two = distances(X, W).topk(2, dim=1, largest=False).indices
    gap = (coords[two[:, 0]] - coords[two[:, 1]]).norm(dim=1)
    return (gap > 1.01).float().mean().item()


def cluster_sizes(X, W):
    """How many points each neuron is nearest to."""
    return nn.functional.one_hot(distances(X, W).argmin(1), W.shape[0]).sum(0)


def main(argv=None):
    args = _data.parser('som', __doc__, epochs=10000, epochs_help='sampled points'
                        ).parse_args(argv)
    device = autograd.device(args.device)
    gen = autograd.Generator(device).manual_seed(args.seed)
    X = autograd.rand(2000, 2, generator=gen, device=device)
    result = {}
    snaps = (0, 200, 1000)
    fig, axes = _data.figure(2, 4, figsize=(15, 7.5))
    for row, kind in zip(axes, ('rectangular', 'hexagonal')):
        W, kept = self_organising_map(X, 10, args.epochs, kind, generator=gen, snapshots=snaps)
        coords = lattice(10, kind, device=device)
        qe, te = quantisation_error(X, W), topographic_error(X, W, coords)
        result[kind] = {'quantisation': qe, 'topographic': te}
        print(f'SOM, {kind:11s} 10 x 10: quantisation error {qe:.4f}, topographic error {te:.3f}')
        for ax, (t, Wt) in zip(row, kept.items()):
            _draw_map(ax, X, Wt, coords, f'{kind}, after {t} points')
    print('plot:', _data.savefig(fig, args.out, 'unfolding.png'))

    # dense and sparse regions: neurons that start in the empty space never win a point by
    # plain competition; sensitivity lets them win until they reach the data
    dense = autograd.rand(1800, 2, generator=gen, device=device) * 0.3
    sparse = 0.5 + autograd.rand(200, 2, generator=gen, device=device) * 0.5
    Y = autograd.cat([dense, sparse])
    for name, g in (('competitive learning', 0.0), ('vector quantisation', 0.01)):
        W = competitive_learning(Y, 16, args.epochs, gamma=g, generator=gen)
        sizes = cluster_sizes(Y, W)
        used = int((sizes > 0).sum().item())
        result[name] = {'quantisation': quantisation_error(Y, W), 'used': used,
                        'largest': int(sizes.max().item())}
        print(f'{name:21s} (16 neurons): {used} neurons used, largest cluster '
              f'{result[name]["largest"]} points, quantisation error '
              f'{result[name]["quantisation"]:.4f}')
    return result


def _draw_map(ax, X, W, coords, title):
    """The data in grey, the neurons with their lattice-neighbour links."""
    X, W, c = X.cpu().numpy(), W.cpu().numpy(), coords.cpu().numpy()
    ax.scatter(X[:, 0], X[:, 1], s=1, color='0.8')
    for i in range(len(c)):
        for j in range(i + 1, len(c)):
            if ((c[i] - c[j]) ** 2).sum() < 1.01:
                ax.plot(W[[i, j], 0], W[[i, j], 1], color='tab:blue', lw=0.7)
    ax.scatter(W[:, 0], W[:, 1], s=6, color='tab:red')
    ax.set(title=title, xlim=(-0.05, 1.05), ylim=(-0.05, 1.05))


if __name__ == '__main__':
    main()

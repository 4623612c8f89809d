"""A binary restricted Boltzmann machine trained by contrastive divergence (CD-k) and
persistent contrastive divergence on binarised MNIST digits.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.4.  Visible units v in {0, 1}^d,
hidden units h in {0, 1}^m, connections only between the two layers:

    E(v, h) = - b.v - c.h - v^T W h,
    P(h_j = 1 | v) = sigmoid(c_j + (v W)_j)      (eq. 6.15)
    P(v_i = 1 | h) = sigmoid(b_i + (W h)_i)      (eq. 6.17).

The book's update (sec. 6.4.1) is w_ij <- w_ij + alpha (<v_i h_j>_pos - <v_i h_j>_neg), and
the same for the biases: the positive phase clamps v to a mini-batch, the negative phase
takes k Gibbs steps from it (CD-k, sec. 6.4.2) or from chains kept across updates
(persistent CD).  With the improvisations of sec. 6.4.3 (hidden probabilities in the last
step of both phases), this update is minus the gradient of a *free-energy surrogate*

    F(v) = - b.v - sum_j softplus(c_j + (v W)_j)      (-log of P(v) up to log Z),
    loss = mean F(v_data) - mean F(v_neg)             (v_neg held fixed),

so the script trains by ``loss.backward()`` and ``optim.SGD``, and the test checks the
engine's gradient against the hand-written update.  Initialisation as the book says:
W ~ N(0, 0.01^2), visible biases log(p_i / (1 - p_i)) (p_i the fraction of ones in
dimension i), hidden biases 0; mini-batches of 20 (the book: between 10 and 100).

With few hidden units the partition function can be summed over the hidden states, so
the small runs compare CD-1, CD-10 and persistent CD by the exact held-out
log-likelihood; the main run (64 hidden units) reports the reconstruction error and
draws the filters.

Run: python examples/rbm.py [--epochs 15] [--hidden 64] [--data mnist|digits] [--out runs/rbm]
"""
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class RBM(nn.Module):
    """A binary RBM: ``W`` (n_visible, n_hidden), ``b`` (visible biases), ``c`` (hidden)."""

    def __init__(self, n_visible, n_hidden, data=None, generator=None, device=None):
        super().__init__()
        self.W = nn.Parameter(0.01 * autograd.randn(n_visible, n_hidden, device=device,
                                                    generator=generator))
        b = autograd.zeros(n_visible, device=device)
        if data is not None:                # sec. 6.4.3: log(p_i / (1 - p_i))
            p = data.mean(0).clamp(1e-3, 1 - 1e-3)
            b = autograd.log(p / (1 - p))
        self.b = nn.Parameter(b)
        self.c = nn.Parameter(autograd.zeros(n_hidden, device=device))

    def p_h(self, v):
        """Eq. 6.15: (n, m)."""
        return autograd.sigmoid(v @ self.W + self.c)

    def p_v(self, h):
        """Eq. 6.17: (n, d)."""
        return autograd.sigmoid(h @ self.W.T + self.b)

    def free_energy(self, v):
        """F(v) = -log sum_h exp(-E(v, h)): (n,)."""
        return -(v @ self.b) - nn.functional.softplus(v @ self.W + self.c).sum(1)

    def energy(self, v, h):
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(1)


def bernoulli(p, generator=None):
    return (autograd.rand(p.shape, device=p.device, dtype=p.dtype, generator=generator)
            < p).to(p.dtype)


def gibbs_chain(rbm, v, k, generator=None):
    """k Gibbs steps v -> h -> v with the book's improvisations (sec. 6.4.3): hidden
    states sampled as binary, visible states kept as probabilities.  Returns v_k."""
    with autograd.no_grad():
        for _ in range(k):
            h = bernoulli(rbm.p_h(v), generator)
            v = rbm.p_v(h)
    return v


def cd_surrogate(rbm, v_data, v_neg):
    """mean F(v_data) - mean F(v_neg): its gradient is minus the CD update."""
    return rbm.free_energy(v_data).mean() - rbm.free_energy(v_neg.detach()).mean()


def hand_update(rbm, v_data, v_neg):
    """The book's update (sec. 6.4.1) with hidden probabilities in both phases:
    (<v h>_pos - <v h>_neg, <v>_pos - <v>_neg, <h>_pos - <h>_neg), averaged over the batch."""
    with autograd.no_grad():
        n = v_data.shape[0]
        hp, hn = rbm.p_h(v_data), rbm.p_h(v_neg)
        return ((v_data.T @ hp - v_neg.T @ hn) / n, v_data.mean(0) - v_neg.mean(0),
                hp.mean(0) - hn.mean(0))


def train(rbm, X, epochs, k=1, persistent=False, lr=0.1, batch_size=20, generator=None,
          log=None):
    """CD-k (or persistent CD with ``batch_size`` fantasy chains) by SGD on the
    free-energy surrogate.  X (n, d) binary.  Returns the reconstruction error (mean
    squared error of p_v(p_h(v)) against v) after each epoch."""
    opt = optim.SGD(rbm.parameters(), lr=lr)
    chains = None
    errors = []
    for epoch in range(epochs):
        for (vb,) in _batches(X, batch_size, generator):
            if persistent:
                if chains is None or chains.shape[0] != vb.shape[0]:
                    chains = vb.clone()
                chains = gibbs_chain(rbm, chains, k, generator)
                v_neg = chains
            else:
                v_neg = gibbs_chain(rbm, vb, k, generator)
            loss = cd_surrogate(rbm, vb, v_neg)
            opt.zero_grad()
            loss.backward()
            opt.step()
        errors.append(reconstruction_error(rbm, X))
        if log:
            log(f'epoch {epoch + 1}: reconstruction error {errors[-1]:.4f}')
    return errors


def _batches(X, batch_size, generator):
    order = autograd.randperm(X.shape[0], generator=generator, device=X.device)
    for s in range(0, X.shape[0], batch_size):
        yield (X[order[s:s + batch_size]],)


def reconstruction_error(rbm, X):
    with autograd.no_grad():
        return ((rbm.p_v(rbm.p_h(X)) - X) ** 2).mean().item()


def hidden_states(m, device=None, dtype=None):
    """All 2^m binary hidden vectors: (2^m, m)."""
    k = autograd.arange(2 ** m, device=device)
    place = 2 ** autograd.arange(m - 1, -1, -1, device=device)
    return (k[:, None] // place % 2).to(dtype or autograd.get_default_dtype())


def log_partition(rbm):
    """log Z by summing over the hidden states (feasible for m <= 16):
    log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)]."""
    with autograd.no_grad():
        W, b, c = (p.to(autograd.float64) for p in (rbm.W, rbm.b, rbm.c))
        H = hidden_states(W.shape[1], W.device, autograd.float64)
        terms = H @ c + nn.functional.softplus(H @ W.T + b).sum(1)
        return autograd.logsumexp(terms, 0).item()


def log_likelihood(rbm, X):
    """Mean exact log P(v) = -F(v) - log Z over the rows of X (m <= 16 hidden units)."""
    with autograd.no_grad():
        W, b, c = (p.to(autograd.float64) for p in (rbm.W, rbm.b, rbm.c))
        Xd = X.to(autograd.float64)
        F = -(Xd @ b) - nn.functional.softplus(Xd @ W + c).sum(1)
        return (-F).mean().item() - log_partition(rbm)


def binarised(name, n, device):
    """The first n of a seeded shuffle of MNIST-5k ('mnist', 28x28) or scikit-learn's
    digits ('digits', 8x8), thresholded at 0.5: (n, side^2), and the labels (n,)."""
    X, y = _data.mnist5k() if name == 'mnist' else _data.digits()
    perm = numpy.random.default_rng(0).permutation(len(X))[:n]
    X = (X[perm] > 0.5).astype(numpy.float32)
    return _data.to_tensors(X, y[perm], device=device)


def compare_estimators(X_train, X_test, epochs, hidden=12, generator=None):
    """CD-1, CD-10 and persistent CD on the same data from the same start: exact held-out
    log-likelihood (nats per image) after training, and at the book's initialisation."""
    d = X_train.shape[1]
    out = {}
    start = RBM(d, hidden, data=X_train, generator=generator, device=X_train.device)
    out['initialisation (independent pixels)'] = log_likelihood(start, X_test)
    for name, k, persistent in (('CD-1', 1, False), ('CD-10', 10, False), ('PCD-1', 1, True)):
        rbm = RBM(d, hidden, device=X_train.device)
        rbm.load_state_dict(start.state_dict())
        train(rbm, X_train, epochs, k=k, persistent=persistent, generator=generator)
        out[name] = log_likelihood(rbm, X_test)
    return out


def main(argv=None):
    p = _data.parser('rbm', __doc__, epochs=15)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--n', type=int, default=5000, help='images (4/5 train, 1/5 held out)')
    p.add_argument('--data', choices=('mnist', 'digits'), default='mnist')
    p.add_argument('--small-epochs', type=int, default=10,
                   help='epochs of the 12-hidden-unit comparison')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    X, _ = binarised(args.data, args.n, args.device)
    side = int(round(math.sqrt(X.shape[1])))
    n_train = args.n * 4 // 5
    Xtr, Xte = X[:n_train], X[n_train:]
    results = {}

    rbm = RBM(X.shape[1], args.hidden, data=Xtr, generator=gen, device=args.device)
    results['reconstruction error at start'] = reconstruction_error(rbm, Xte)
    errors = train(rbm, Xtr, args.epochs, k=1, generator=gen, log=print)
    results['reconstruction error after CD-1 (held out)'] = reconstruction_error(rbm, Xte)

    ll = compare_estimators(Xtr, Xte, args.small_epochs, generator=gen)
    results.update({f'12 hidden, held-out log-likelihood: {k}': v for k, v in ll.items()})
    for k, v in results.items():
        print(f'{k:56s} {v:.4f}')

    fig, (ax1, ax2, ax3) = _data.figure(1, 3, figsize=(15, 4.5))
    ax1.plot(range(1, len(errors) + 1), errors, 'o-')
    ax1.set(xlabel='epoch', ylabel='reconstruction MSE (train)',
            title=f'CD-1, {args.hidden} hidden units')
    names = list(ll)
    ax2.barh(names, [ll[k] for k in names])
    ax2.set(xlabel='held-out log-likelihood (nats / image)', title='12 hidden units: exact',
            xlim=(min(ll.values()) - 10, max(ll.values()) + 5))
    cols = int(math.ceil(math.sqrt(args.hidden)))
    Wn = rbm.W.detach().cpu().numpy().T
    tiles = numpy.zeros((cols * (side + 1), cols * (side + 1)))
    for j, w in enumerate(Wn):
        r, c = divmod(j, cols)
        w = (w - w.min()) / (w.max() - w.min() + 1e-12)
        tiles[r * (side + 1):r * (side + 1) + side,
              c * (side + 1):c * (side + 1) + side] = w.reshape(side, side)
    ax3.imshow(tiles, cmap='gray')
    ax3.set(title='filters (columns of W)', xticks=[], yticks=[])
    results['filters shown'] = len(Wn)
    print('plot:', _data.savefig(fig, args.out, 'rbm.png'))
    return results


if __name__ == '__main__':
    main()

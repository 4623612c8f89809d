"""The discriminative RBM: P(y | v) in closed form, checked by brute force, and trained
for classification on binarised digits.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.5.3 (Fig. 6.7).  The visible layer
holds d binary features v and a one-hot class unit e_y of k classes, the hidden layer m
binary units; W (d, m) links features to hidden units, U (k, m) classes to hidden units:

    E(v, y, h) = - b_f.v - b_c[y] - b_h.h - v^T W h - U[y].h.

Summing the m hidden units out gives eq. 6.28,

    P(y | v) = exp(b_c[y]) prod_j (1 + exp(o_yj)) / sum_l exp(b_c[l]) prod_j (1 + exp(o_lj)),
    o_lj = b_h[j] + U[l, j] + sum_i W[i, j] v_i,

i.e. a softmax over the class scores b_c[y] + sum_j softplus(o_yj) (b_f cancels).  The
script computes it that way, checks it against brute-force marginalisation over all 2^m
hidden states, checks the engine's gradient of L = -log P(y | v) against eq. 6.29,

    dL/dtheta = - sum_j sigmoid(o_yj) do_yj/dtheta
                + sum_l P(l | v) sum_j sigmoid(o_lj) do_lj/dtheta

(the printed equation drops the weight P(l | v) of the second sum; it is needed, as
Larochelle and Bengio's derivation has it), and trains the model by minimising L with Adam.

Run: python examples/classification_rbm.py [--epochs 30] [--hidden 100] [--out runs/classification_rbm]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class ClassificationRBM(nn.Module):
    """Features d, classes k, hidden m: ``W`` (d, m), ``U`` (k, m), biases ``b_f`` (d,),
    ``b_c`` (k,), ``b_h`` (m,)."""

    def __init__(self, d, k, m, generator=None, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.W = nn.Parameter(0.01 * autograd.randn(d, m, generator=generator, **kw))
        self.U = nn.Parameter(0.01 * autograd.randn(k, m, generator=generator, **kw))
        self.b_f = nn.Parameter(autograd.zeros(d, **kw))
        self.b_c = nn.Parameter(autograd.zeros(k, **kw))
        self.b_h = nn.Parameter(autograd.zeros(m, **kw))

    def o(self, v):
        """o_lj = b_h[j] + U[l, j] + (v W)_j: (n, k, m)."""
        return (v @ self.W + self.b_h)[:, None, :] + self.U[None]

    def forward(self, v):
        """Class scores whose softmax is eq. 6.28: (n, k)."""
        return self.b_c + nn.functional.softplus(self.o(v)).sum(-1)

    def energy(self, v, y_onehot, h):
        """E(v, y, h) for rows of v (n, d), one-hot y (n, k), h (n, m): (n,)."""
        return (-(v @ self.b_f) - (y_onehot @ self.b_c) - (h @ self.b_h)
                - ((v @ self.W) * h).sum(1) - ((y_onehot @ self.U) * h).sum(1))


def brute_force_posterior(model, v):
    """P(y | v) by summing exp(-E(v, y, h)) over every hidden state h and class y:
    (n, k).  Exponential in m: for checking only."""
    with autograd.no_grad():
        n, k, m = v.shape[0], model.U.shape[0], model.U.shape[1]
        place = 2 ** autograd.arange(m - 1, -1, -1, device=v.device)
        H = (autograd.arange(2 ** m, device=v.device)[:, None] // place % 2).to(v.dtype)
        logits = autograd.zeros(n, k, dtype=v.dtype, device=v.device)
        for y in range(k):
            onehot = nn.functional.one_hot(autograd.full((n * H.shape[0],), y, device=v.device),
                                           k).to(v.dtype)
            vv = v[:, None, :].expand(n, H.shape[0], v.shape[1]).reshape(-1, v.shape[1])
            hh = H.repeat(n, 1)
            neg_e = -model.energy(vv, onehot, hh).reshape(n, H.shape[0])
            logits[:, y] = autograd.logsumexp(neg_e, 1)
        return autograd.softmax(logits, 1)


def eq_6_29_grad_U(model, v, y):
    """dL/dU of L = sum over the batch of -log P(y | v), by eq. 6.29: do_lj/dU[l', j] is
    1 where l' = l.  Returns (k, m)."""
    with autograd.no_grad():
        k = model.U.shape[0]
        sig = autograd.sigmoid(model.o(v))                       # (n, k, m)
        post = autograd.softmax(model(v), 1)                     # (n, k)
        onehot = nn.functional.one_hot(y, k).to(v.dtype)
        return -(onehot[:, :, None] * sig).sum(0) + (post[:, :, None] * sig).sum(0)


def train(model, X, y, epochs, lr=0.01, batch_size=50, generator=None):
    """Minimise the mean -log P(y | v) (cross-entropy on the eq. 6.28 scores) with Adam.
    Returns the training loss per epoch."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    return [sum(_data.sgd_epoch(model, opt, loss_fn, X, y, batch_size, generator=generator))
            / -(-X.shape[0] // batch_size) for _ in range(epochs)]


def main(argv=None):
    p = _data.parser('classification_rbm', __doc__, epochs=30)
    p.add_argument('--hidden', type=int, default=100)
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    X, y = _data.digits()
    X = (X > 0.5).astype(numpy.float32)                      # binary features
    Xtr, ytr, Xte, yte = _data.split(X, y, 360, seed=args.seed)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr, ytr, Xte, yte, device=args.device)
    results = {}

    # eq. 6.28 against brute force, eq. 6.29 against the engine (float64, m = 8)
    small = ClassificationRBM(64, 10, 8, generator=gen, device=args.device,
                              dtype=autograd.float64)
    with autograd.no_grad():
        for prm in small.parameters():
            prm.copy_(autograd.randn(prm.shape, generator=gen, device=prm.device,
                                     dtype=prm.dtype) * 0.5)
    v = Xte[:20].to(autograd.float64)
    closed = autograd.softmax(small(v), 1)
    results['eq. 6.28 vs brute force: max error'] = (
        closed - brute_force_posterior(small, v)).abs().max().item()
    nn.functional.cross_entropy(small(v), yte[:20], reduction='sum').backward()
    results['eq. 6.29 vs engine: max error'] = (
        small.U.grad - eq_6_29_grad_U(small, v, yte[:20])).abs().max().item()

    model = ClassificationRBM(64, 10, args.hidden, generator=gen, device=args.device)
    losses = train(model, Xtr, ytr, args.epochs, generator=gen)
    with autograd.no_grad():
        results['held-out accuracy'] = _data.accuracy(model(Xte), yte)
        results['train accuracy'] = _data.accuracy(model(Xtr), ytr)
    for k, val in results.items():
        print(f'{k:40s} {val:.4g}')

    fig, (ax1, ax2) = _data.figure(1, 2, figsize=(11, 4))
    ax1.plot(range(1, len(losses) + 1), losses, 'o-')
    ax1.set(xlabel='epoch', ylabel='-log P(y | v) (train)',
            title=f'discriminative RBM, {args.hidden} hidden units')
    with autograd.no_grad():
        post = autograd.softmax(model(Xte[:12]), 1).cpu().numpy()
    ax2.imshow(post, cmap='Blues', aspect='auto')
    ax2.set(xlabel='class', ylabel='held-out digit', xticks=range(10),
            title=f'P(y | v), held-out accuracy {results["held-out accuracy"]:.3f}')
    print('plot:', _data.savefig(fig, args.out, 'classification_rbm.png'))
    return results


if __name__ == '__main__':
    main()

"""The restricted Boltzmann machine for collaborative filtering: softmax visible units, one
per rated item, trained by contrastive divergence, against matrix factorisation.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.5.2 (Salakhutdinov, Mnih and Hinton
2007).  Each user is one training case with an RBM of his or her own: a 5-way softmax unit
per item the user rated (one-hot v_i^(k), k = 1..5), the unrated items left out, and m
binary hidden units shared by all users through the weights w_ij^(k) (d x 5 x m), the
visible biases b_i^(k) and the hidden biases b_j:

    P(h_j = 1 | v) = sigmoid(b_j + sum_{i rated, k} v_i^(k) w_ij^(k))             (eq. 6.21)
    P(v_i^(k) = 1 | h) = softmax_k(b_i^(k) + sum_j h_j w_ij^(k))                  (eq. 6.22)
    w_ij^(k) <- w_ij^(k) + alpha (<v_i^(k) h_j>_pos - <v_i^(k) h_j>_neg)         (eq. 6.23)

The negative phase samples h from eq. 6.21 and then each rated item's rating from the
multinomial of eq. 6.22 (CD-1).  As in ``rbm.py``, the update is minus the gradient of a
free-energy surrogate, mean F(v_data) - mean F(v_neg) with
F(v) = -sum_{i rated, k} b_i^(k) v_i^(k) - sum_j softplus(b_j + sum v_i^(k) w_ij^(k)),
so the engine computes it (the test checks it against eq. 6.23 written out) and only the
weights of a user's rated items move.  A user with r ratings has an RBM of r x m x 5
connections: 20 for the book's Sayani (2 ratings, m = 2) and 40 for Bob (4 ratings).

Predictions use real values (sec. 6.5.2, "Making predictions"): p_j = P(h_j = 1 | the user's
ratings), then P(v_i^(k)) from eq. 6.22 with h_j replaced by p_j, and the expected rating.

The ratings are ``recommender.py``'s synthetic low-rank matrix (R = U* V*^T + noise, a
fraction observed, some of it held out) cut into ratings 1..5 at fixed quantiles, so the
answer is known and nothing downloads; the baseline is that script's matrix factorisation on
the same ratings (``recommender.fit``).

Run: ``python examples/cf_rbm.py [--epochs 40] [--hidden 100] [--users 1000]``
"""
import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim
import recommender

LEVELS = 5
QUANTILES = (0.1, 0.3, 0.65, 0.9)      # rating k's share: 10%, 20%, 35%, 25%, 10%


def ratings_1_to_5(n_users=300, n_items=200, rank=5, noise=0.3, observed=0.3, held_out=0.2,
                   seed=0):
    """``recommender.low_rank_ratings`` cut into integer ratings 1..5 at the ``QUANTILES`` of
    the training ratings.  Returns (ratings (n_users, n_items) int64 in 1..5, train, test)
    with boolean masks of the observed training and held-out entries (CPU tensors)."""
    _, R, train, test = recommender.low_rank_ratings(n_users, n_items, rank, noise, observed,
                                                     held_out, seed)
    R, train_np = R.numpy(), train.numpy()
    cuts = numpy.quantile(R[train_np], QUANTILES)
    ratings = 1 + numpy.searchsorted(cuts, R)           # 1 below the first cut ... 5 above
    return autograd.tensor(ratings), train, test


def one_hot(ratings, mask):
    """(n, d) ratings in 1..5 -> v (n, d, 5) one-hot, all zero where ``mask`` is false."""
    v = F.one_hot((ratings - 1).clamp(0, LEVELS - 1), LEVELS).to(autograd.float32)
    return v * mask.unsqueeze(-1).to(v.dtype)


class RatingsRBM(nn.Module):
    """``W`` (d, 5, m) = w_ij^(k) laid out as [item i, rating k, hidden j]; ``b`` (d, 5)
    visible biases b_i^(k); ``c`` (m,) hidden biases b_j."""

    def __init__(self, n_items, n_hidden, v_train=None, factor_rank=None):
        super().__init__()
        self.factor_rank = factor_rank
        if factor_rank is None:
            self.W = nn.Parameter(0.01 * autograd.randn(n_items, LEVELS, n_hidden))
        else:   # "conditional factoring" (sec. 6.5.2, eq. 6.24): W = U V^T of rank k
            self.U = nn.Parameter(0.1 * autograd.randn(n_items, LEVELS, factor_rank))
            self.V = nn.Parameter(0.1 * autograd.randn(n_hidden, factor_rank))
        b = autograd.zeros(n_items, LEVELS)
        if v_train is not None:         # log of each item's rating frequencies (cf. rbm.py)
            freq = (v_train.sum(0) + 1.0) / (v_train.sum((0, 2)).unsqueeze(-1) + LEVELS)
            b = freq.log()
        self.b = nn.Parameter(b)
        self.c = nn.Parameter(autograd.zeros(n_hidden))

    @property
    def weight(self):
        """w_ij^(k) (d, 5, m): the parameter W, or U V^T when factored."""
        return self.W if self.factor_rank is None else self.U @ self.V.T

    def hidden_input(self, v):
        """b_j + sum_{i, k} v_i^(k) w_ij^(k): (n, m) for v (n, d, 5)."""
        return v.flatten(1) @ self.weight.flatten(0, 1) + self.c

    def p_h(self, v):
        """Eq. 6.21: (n, m).  Unrated items (all-zero rows of v) contribute nothing."""
        return autograd.sigmoid(self.hidden_input(v))

    def p_v(self, h):
        """Eq. 6.22: (n, d, 5), a distribution over the 5 ratings of every item."""
        return F.softmax(self.b + autograd.einsum('ikj,nj->nik', self.weight, h), dim=-1)

    def free_energy(self, v):
        """F(v) = -sum b_i^(k) v_i^(k) - sum_j softplus(hidden input): (n,)."""
        return -(v * self.b).sum((1, 2)) - F.softplus(self.hidden_input(v)).sum(1)

    def predict(self, v):
        """Expected ratings (n, d) from mean-field hidden probabilities (sec. 6.5.2)."""
        p = self.p_v(self.p_h(v))
        levels = autograd.arange(1, LEVELS + 1, dtype=p.dtype, device=p.device)
        return p @ levels


def sample_ratings(p, mask, generator=None):
    """One rating per (user, item) from the distributions p (n, d, 5), as one-hot vectors,
    zero where ``mask`` (n, d) is false: the multinomial negative phase of sec. 6.5.2."""
    u = autograd.rand(p.shape[:-1] + (1,), device=p.device, dtype=p.dtype, generator=generator)
    k = (p.cumsum(-1) < u).sum(-1).clamp(max=LEVELS - 1)    # inverse CDF
    return F.one_hot(k, LEVELS).to(p.dtype) * mask.unsqueeze(-1).to(p.dtype)


def negative_phase(rbm, v, mask, generator=None):
    """CD-1: h ~ P(h | v) (binary), then each rated item's rating ~ P(v | h)."""
    with autograd.no_grad():
        p = rbm.p_h(v)
        h = (autograd.rand(p.shape, device=p.device, dtype=p.dtype, generator=generator)
             < p).to(p.dtype)
        return sample_ratings(rbm.p_v(h), mask, generator)


def cd_surrogate(rbm, v_data, v_neg):
    """mean F(v_data) - mean F(v_neg): its gradient is minus the CD update (eq. 6.23)."""
    return rbm.free_energy(v_data).mean() - rbm.free_energy(v_neg.detach()).mean()


def hand_update(rbm, v_data, v_neg):
    """Eq. 6.23 written out with hidden probabilities in both phases, averaged over users:
    (<v h>_pos - <v h>_neg (d, 5, m), <v>_pos - <v>_neg (d, 5), <h>_pos - <h>_neg (m,))."""
    with autograd.no_grad():
        n = v_data.shape[0]
        hp, hn = rbm.p_h(v_data), rbm.p_h(v_neg)
        dW = (autograd.einsum('nik,nj->ikj', v_data, hp)
              - autograd.einsum('nik,nj->ikj', v_neg, hn)) / n
        return dW, (v_data - v_neg).sum(0) / n, (hp - hn).mean(0)


def connections(rbm, rated):
    """The number of weights w_ij^(k) in the RBM of a user who rated the items ``rated``
    (d,) bool: those that the user's hidden units depend on, found by backpropagating
    from the hidden inputs with every rating of the rated items switched on."""
    v = rated.to(rbm.W.dtype).unsqueeze(-1).expand(-1, LEVELS).unsqueeze(0)
    (grad,) = autograd.grad(rbm.hidden_input(v).sum(), rbm.W)
    return int((grad != 0).sum().item())


def rmse(pred, ratings, mask):
    return recommender.rmse(pred, ratings.to(pred.dtype), mask)


def train_rbm(ratings, train_mask, test_mask, n_hidden=100, epochs=40, lr=0.02,
              batch_size=20, momentum=0.9, weight_decay=1e-2, factor_rank=None, seed=0,
              log=None):
    """CD-1 on mini-batches of users, by SGD with momentum on the free-energy surrogate.
    Returns (rbm, history) with the training and held-out RMSE of the expected ratings
    after each epoch."""
    autograd.manual_seed(seed)
    device = ratings.device
    v_train = one_hot(ratings, train_mask)
    rbm = RatingsRBM(ratings.shape[1], n_hidden, v_train, factor_rank).to(device)
    opt = optim.SGD(rbm.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    history = dict(train=[], test=[])
    n = ratings.shape[0]
    for epoch in range(epochs):
        for idx in autograd.randperm(n, device=device).split(batch_size):
            v, mask = v_train[idx], train_mask[idx]
            loss = cd_surrogate(rbm, v, negative_phase(rbm, v, mask))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with autograd.no_grad():
            pred = rbm.predict(v_train)
            history['train'].append(rmse(pred, ratings, train_mask))
            history['test'].append(rmse(pred, ratings, test_mask))
        if log and (epoch + 1) % max(1, epochs // 10) == 0:
            log(f'epoch {epoch + 1:3d}: RBM train RMSE {history["train"][-1]:.4f}, '
                f'held-out {history["test"][-1]:.4f}')
    return rbm, history


def plot(history, mf, out):
    fig, ax = _data.figure(figsize=(6, 4))
    ax.plot(history['train'], label='RBM, training ratings')
    ax.plot(history['test'], label='RBM, held-out ratings')
    ax.axhline(mf['test_rmse'], color='tab:green', ls='--',
               label='matrix factorisation, held out')
    ax.axhline(mf['constant_rmse'], color='k', ls=':', label='the mean rating, held out')
    ax.set_xlabel('epoch (CD-1)')
    ax.set_ylabel('RMSE of the expected rating (1..5)')
    ax.set_title('Collaborative filtering: RBM vs matrix factorisation', fontsize=9)
    ax.legend(fontsize=8)
    return _data.savefig(fig, out, 'cf_rbm.png')


def main(argv=None):
    p = _data.parser('cf_rbm', __doc__, epochs=40)
    p.add_argument('--hidden', type=int, default=100)
    p.add_argument('--lr', type=float, default=0.02)
    p.add_argument('--factor-rank', type=int, default=None,
                   help='learn W = U V^T of this rank (conditional factoring, eq. 6.24)')
    p.add_argument('--users', type=int, default=1000)
    p.add_argument('--items', type=int, default=200)
    args = p.parse_args(argv)
    ratings, train_mask, test_mask = (t.to(args.device) for t in ratings_1_to_5(
        args.users, args.items, seed=args.seed))
    print(f'{args.users} users, {args.items} items: {train_mask.sum().item()} training '
          f'ratings, {test_mask.sum().item()} held out')
    rbm, history = train_rbm(ratings, train_mask, test_mask, args.hidden, args.epochs, args.lr,
                             factor_rank=args.factor_rank, seed=args.seed, log=print)
    autograd.manual_seed(args.seed)
    mf = recommender.fit(ratings.to(autograd.float32), train_mask, test_mask, epochs=300)
    with autograd.no_grad():
        v_train = one_hot(ratings, train_mask)
        blend = (rbm.predict(v_train) + mf['model']()) / 2
    result = dict(rbm_rmse=history['test'][-1], mf_rmse=mf['test_rmse'],
                  constant_rmse=mf['constant_rmse'],
                  blend_rmse=rmse(blend, ratings, test_mask), history=history)
    print(f'held-out RMSE: RBM {result["rbm_rmse"]:.4f}, matrix factorisation '
          f'{result["mf_rmse"]:.4f}, their average {result["blend_rmse"]:.4f}, '
          f'the mean rating {result["constant_rmse"]:.4f}')
    result['plot'] = plot(history, mf, args.out)
    return result


if __name__ == '__main__':
    main()

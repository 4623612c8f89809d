"""Matrix factorisation recommender trained with a masked loss.

A ratings matrix R (users x items) is only partly observed. Matrix factorisation (Koren, Bell
and Volinsky 2009; Aggarwal, *Neural Networks and Deep Learning*, sec. 2.5.7) models it as
R ~ U V^T + b_user + b_item + mu with a k-dimensional embedding per user (row of U) and per
item (row of V), learned by minimising the squared error over the OBSERVED entries only,

    L = [sum_{(i,j) in Omega} (R_ij - u_i . v_j - b_i - c_j - mu)^2
         + lambda (|U|^2 + |V|^2)] / |Omega|,

which is an embedding network: user one-hot -> U, item one-hot -> V, dot product out.

The data are synthetic so the answer is known: R = U* V*^T (rank k, unit-variance entries,
from ``autograd.datasets.make_low_rank``) plus Gaussian noise of standard deviation
``--noise``. A fraction of the entries is observed; some observed entries are held out. No
predictor can beat the noise on held-out ratings, so the held-out RMSE is compared with that
noise floor (and the error against the clean matrix shows how much of the low-rank structure
was recovered).

Run: ``python examples/recommender.py [--epochs 200] [--rank 5] [--noise 0.1]``
"""
import math
import os

import _data  # noqa: I001  (first: it makes a checkout importable)
import autograd
from autograd import datasets
import nn
import optim


def low_rank_ratings(n_users, n_items, rank, noise, observed, held_out, seed):
    """A synthetic ratings problem with a known answer (``autograd.datasets.make_low_rank``).

    Returns tensors ``clean`` (n_users, n_items) = U* V*^T (entries of unit variance),
    ``ratings`` = clean + noise * N(0, 1), and boolean masks ``train`` and ``test`` (disjoint)
    that together cover a fraction ``observed`` of the entries, ``held_out`` of them in test.
    """
    ratings, users, items = datasets.make_low_rank(n_users, n_items, rank, noise, seed)
    clean = autograd.from_numpy(users) @ autograd.from_numpy(items).T
    # drawn on the CPU from a seeded generator: the same split on every device
    u = autograd.rand(n_users, n_items, generator=autograd.Generator().manual_seed(seed),
                      device='cpu')
    train = u < observed * (1 - held_out)
    test = (u >= observed * (1 - held_out)) & (u < observed)
    return clean, autograd.from_numpy(ratings), train, test


class MatrixFactorization(nn.Module):
    """Predicts every rating at once: (n_users, n_items) = U V^T + b_user + b_item + mu."""

    def __init__(self, n_users, n_items, rank):
        super().__init__()
        self.users = nn.Embedding(n_users, rank)
        self.items = nn.Embedding(n_items, rank)
        self.user_bias = nn.Parameter(autograd.zeros(n_users, 1))
        self.item_bias = nn.Parameter(autograd.zeros(1, n_items))
        self.mu = nn.Parameter(autograd.zeros(()))
        # small initial embeddings: u . v starts near 0 and grows along the data's directions
        nn.init.normal_(self.users.weight, std=0.1)
        nn.init.normal_(self.items.weight, std=0.1)

    def forward(self):
        return self.users.weight @ self.items.weight.T + self.user_bias + self.item_bias + self.mu


def masked_mse(pred, target, mask):
    """Mean squared error over the entries where ``mask`` is true (the observed ratings)."""
    mask = mask.to(pred.dtype)
    return ((pred - target) ** 2 * mask).sum() / mask.sum()


def rmse(pred, target, mask):
    return math.sqrt(masked_mse(pred, target, mask).item())


def train(n_users=300, n_items=200, rank=5, noise=0.1, observed=0.3, held_out=0.2,
          epochs=300, lr=0.05, weight_decay=0.5, seed=0, device=None, log=print):
    """Fit the factorisation by full-batch Adam on the observed entries.

    Returns a dict with the learning curves and the final held-out RMSE (against the noisy
    ratings), the RMSE against the clean matrix on held-out entries, the noise floor and the
    RMSE of the best constant predictor."""
    autograd.manual_seed(seed)
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    clean, ratings, train_mask, test_mask = (
        t.to(device) for t in low_rank_ratings(n_users, n_items, rank, noise, observed,
                                               held_out, seed))
    result = fit(ratings, train_mask, test_mask, rank, epochs, lr, weight_decay, log)
    with autograd.no_grad():
        result.update(noise=noise, clean_rmse=rmse(result['model'](), clean, test_mask))
    return result


def fit(ratings, train_mask, test_mask, rank=5, epochs=300, lr=0.05, weight_decay=0.5,
        log=None):
    """Matrix factorisation of ``ratings`` (n_users, n_items) by full-batch Adam on the
    entries of ``train_mask``, scored on those of ``test_mask`` (boolean, same shape, on
    the ratings' device).  Returns a dict: model, history (train and held-out RMSE per
    epoch), test_rmse, constant_rmse (the training mean as the prediction), n_train, n_test.
    Also the baseline of ``cf_rbm.py``."""
    n_users, n_items = ratings.shape
    model = MatrixFactorization(n_users, n_items, rank).to(ratings.device)
    opt = optim.Adam(model.parameters(), lr=lr)
    n_train = train_mask.sum().item()
    history = dict(train=[], test=[])
    for epoch in range(epochs):
        opt.zero_grad()
        pred = model()
        penalty = model.users.weight.pow(2).sum() + model.items.weight.pow(2).sum()
        loss = masked_mse(pred, ratings, train_mask) + weight_decay * penalty / n_train
        loss.backward()
        opt.step()
        with autograd.no_grad():
            pred = model()
            history['train'].append(rmse(pred, ratings, train_mask))
            history['test'].append(rmse(pred, ratings, test_mask))
        if log and (epoch + 1) % max(1, epochs // 10) == 0:
            log(f'epoch {epoch + 1:4d}  train RMSE {history["train"][-1]:.4f}  '
                f'held-out RMSE {history["test"][-1]:.4f}')
    with autograd.no_grad():
        mean = (ratings * train_mask).sum() / n_train
        return dict(history=history, model=model, test_rmse=history['test'][-1],
                    constant_rmse=rmse(mean.expand_as(ratings), ratings, test_mask),
                    n_train=n_train, n_test=test_mask.sum().item())


def plot(result, out):
    fig, ax = _data.curves(result['history']['train'], result['history']['test'], 'RMSE',
                           'train (observed) RMSE', 'held-out RMSE')
    ax.axhline(result['noise'], color='k', ls='--', label='noise floor')
    ax.set_yscale('log')
    ax.set_title('Matrix factorisation on a synthetic low-rank ratings matrix')
    ax.legend()
    _data.savefig(fig, out, 'rmse.png', dpi=120)


def main(argv=None):
    p = _data.parser('recommender', __doc__, epochs=200)
    p.add_argument('--rank', type=int, default=5)
    p.add_argument('--noise', type=float, default=0.1)
    p.add_argument('--observed', type=float, default=0.3, help='fraction of entries observed')
    p.add_argument('--lr', type=float, default=0.05)
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    result = train(rank=args.rank, noise=args.noise, observed=args.observed, epochs=args.epochs,
                   lr=args.lr, seed=args.seed, device=args.device)
    plot(result, args.out)
    print(f'{result["n_train"]} training ratings, {result["n_test"]} held out')
    print(f'held-out RMSE {result["test_rmse"]:.4f} vs noise floor {args.noise:.4f} '
          f'(constant predictor {result["constant_rmse"]:.4f}); '
          f'RMSE against the clean matrix {result["clean_rmse"]:.4f}')
    return result


if __name__ == '__main__':
    main()

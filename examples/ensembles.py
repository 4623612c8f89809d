"""Ensembles of neural networks: bagging, subsampling, randomized connection dropping,
DropConnect, and dropout as a geometric-mean ensemble.

Aggarwal, *Neural Networks and Deep Learning*, sec. 4.5.  A 64-64-10 ReLU network on a
small training set of scikit-learn's 8x8 digits (a high-variance learner, the setting
ensembles are for); every component sees the same mini-batch schedule length.

* Bagging (sec. 4.5.1): m models, each on n points drawn *with* replacement from the n
  training points; a fraction (1 - 1/n)^n ~ 1/e of the data is left out of each sample
  (measured here).  Subsampling: samples of s < n points *without* replacement.
* Combining (sec. 4.5.1, eqs. 4.10, 4.11): the geometric mean of the members' softmax
  probabilities (the mean of log-probabilities), renormalised to sum to 1; against the
  arithmetic mean and majority voting of discrete predictions.
* Randomized connection dropping (sec. 4.5.3): m models whose connections are dropped at
  random once, before training (a fixed mask, ``nn.utils.prune.random_unstructured``), no
  weights shared; their predictions averaged.
* DropConnect (Wan et al. [511], the variation named at the end of sec. 4.5.4): weights
  are shared, and a new random mask over the *connections* is drawn for every mini-batch
  (inverted scaling by 1 / (1 - p), as ``nn.Dropout`` scales units).
* Dropout (sec. 4.5.4): node sampling with shared weights, input units kept with
  probability 0.8, hidden units with 0.5.  At test time: the geometric mean of many
  sampled sub-networks (eq. 4.10, renormalised by eq. 4.11) against the weight scaling
  inference rule (the full network with each unit's outgoing weights times its keep
  probability; ``nn.Dropout`` scales by 1 / keep at training time instead, so ``eval()``
  *is* that rule) and against the arithmetic mean.  The rule is exact for linear
  activations: with no nonlinearity between dropout and a softmax output, the
  renormalised geometric mean over *all* sub-networks equals the rule's prediction (the
  logits are linear in the mask, and the weighted mean of log-softmaxes is the log-softmax
  of the mean logits up to a constant); the script enumerates every sub-network of a small
  such net to show it, and measures how far the rule is from the geometric mean with ReLUs.

Run: python examples/ensembles.py [--members 10] [--epochs 60] [--out runs/ensembles]
"""
import itertools

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
from nn.utils import prune


def mlp(hidden=64, p_in=0.0, p_hidden=0.0):
    """64-hidden-10 with ReLU; dropout on the inputs and the hidden units when p > 0."""
    layers = [nn.Dropout(p_in)] if p_in else []
    layers += [nn.Linear(64, hidden), nn.ReLU()]
    layers += [nn.Dropout(p_hidden)] if p_hidden else []
    return nn.Sequential(*layers, nn.Linear(hidden, 10))


class DropConnectLinear(nn.Linear):
    """``nn.Linear`` whose weight matrix, in training, is multiplied by a fresh Bernoulli
    mask per forward call (keep probability 1 - p), scaled by 1 / (1 - p) so that the
    expected weight is the weight; in eval mode the plain layer (the weight-scaling rule)."""

    def __init__(self, in_features, out_features, p=0.5, bias=True, device=None):
        super().__init__(in_features, out_features, bias=bias, device=device)
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return super().forward(x)
        w = nn.functional.dropout(self.weight, self.p, training=True)
        return nn.functional.linear(x, w, self.bias)


def dropconnect_mlp(hidden=64, p=0.5):
    return nn.Sequential(DropConnectLinear(64, hidden, p), nn.ReLU(), DropConnectLinear(hidden, 10, p))


def connection_dropped_mlp(hidden=64, drop=0.5):
    """A network with a fraction ``drop`` of each layer's connections removed for good."""
    model = mlp(hidden)
    for m in model:
        if isinstance(m, nn.Linear):
            prune.random_unstructured(m, 'weight', amount=drop)
    return model


def fit(model, X, y, steps, batch_size=32, lr=3e-3, generator=None):
    """``steps`` Adam steps on mini-batches drawn from (X, y) (epochs of shuffled batches);
    a fixed number of steps, so that a component on a smaller sample is not trained less."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    done = 0
    while done < steps:
        for xb, yb in _data.minibatches(X, y, batch_size, generator=generator):
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    model.eval()
    return model


def log_probs(model, X):
    """(n, C) log-softmax of ``model(X)``, without recording a graph."""
    with autograd.no_grad():
        return autograd.log_softmax(model(X), 1)


def geometric_mean(logp):
    """Eqs. 4.10, 4.11: the members' probabilities (m, n, C) as log-probabilities ->
    their geometric mean, renormalised over the classes, as log-probabilities (n, C)."""
    return autograd.log_softmax(logp.mean(0), 1)


def arithmetic_mean(logp):
    return autograd.log(autograd.exp(logp).mean(0))


def majority_vote(logp):
    """(n,) the class most members predict (ties to the smaller class index)."""
    votes = nn.functional.one_hot(logp.argmax(2), logp.shape[2]).sum(0)
    return votes.argmax(1)


def acc(pred, y):
    """Accuracy of (n, C) scores or (n,) class predictions against y (n,)."""
    if pred.ndim == 2:
        pred = pred.argmax(1)
    return (pred == y).float().mean().item()


def combined(logp, y):
    """Accuracies of the members (mean) and of the three combination rules."""
    return {'members (mean)': float(numpy.mean([acc(lp, y) for lp in logp])),
            'geometric mean': acc(geometric_mean(logp), y),
            'arithmetic mean': acc(arithmetic_mean(logp), y),
            'majority vote': acc(majority_vote(logp), y)}


def bootstrap(n, s, replace, generator, device):
    """Indices of a sample of s of n points, with replacement (bagging) or without
    (subsampling)."""
    if replace:
        return autograd.randint(0, n, (s,), generator=generator, device=device)
    return autograd.randperm(n, generator=generator, device=device)[:s]


def out_of_bag_fraction(n, trials, generator, device):
    """The measured fraction of the n points missing from a bootstrap sample of size n,
    averaged over ``trials`` samples, against the book's (1 - 1/n)^n."""
    missing = []
    for _ in range(trials):
        idx = bootstrap(n, n, True, generator, device)
        seen = autograd.zeros(n, device=device).index_fill(0, idx, 1.0)
        missing.append(1 - seen.mean().item())
    return float(numpy.mean(missing)), (1 - 1 / n) ** n


# --- dropout as an ensemble -----------------------------------------------------------

def sampled_subnetworks(model, X, m):
    """(m, n, C) log-probabilities of m sub-networks, each with its own dropout masks
    (``model.train()`` draws them; no gradient is recorded)."""
    model.train()
    out = autograd.stack([log_probs(model, X) for _ in range(m)])
    model.eval()
    return out


def linear_dropout_net(n_in, n_hidden, n_out, device=None, dtype=autograd.float64):
    """The net for the exactness check: Linear, dropout on the hidden units, Linear, with
    no nonlinearity: the logits are linear in the dropout mask."""
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)).to(device, dtype)


def enumerated_geometric_mean(net, X, p):
    """The renormalised geometric mean (eq. 4.10 with each sub-network weighted by its
    probability, then 4.11) over ALL 2^M dropout masks of the M hidden units of
    ``linear_dropout_net`` (drop probability p, kept units scaled by 1 / (1 - p) as
    ``nn.Dropout`` does); returns log-probabilities (n, C)."""
    first, second = net
    M = first.out_features
    dev, dt = X.device, X.dtype
    masks = autograd.tensor(list(itertools.product((0.0, 1.0), repeat=M)), dtype=dt, device=dev)
    weight = (1 - p) ** masks.sum(1) * p ** (M - masks.sum(1))            # (2^M,)
    with autograd.no_grad():
        h = first(X)                                                       # (n, M)
        z = second(h[None] * masks[:, None, :] / (1 - p))                  # (2^M, n, C)
        logp = autograd.log_softmax(z, 2)
        return autograd.log_softmax((weight[:, None, None] * logp).sum(0), 1)


def weight_scaling_rule(net, X):
    """The full network, no unit dropped (``nn.Dropout``'s eval mode): log-probabilities."""
    with autograd.no_grad():
        return autograd.log_softmax(net(X), 1)


def kl_rows(logp, logq):
    """Mean over rows of KL(p || q) for log-probabilities (n, C)."""
    return (autograd.exp(logp) * (logp - logq)).sum(1).mean().item()


def main(argv=None):
    p = _data.parser('ensembles', __doc__, epochs=60, epochs_help='epochs of the full '
                     'training set each component is trained for (as a step count)')
    p.add_argument('--members', type=int, default=10)
    p.add_argument('--n-train', type=int, default=300)
    p.add_argument('--subsample', type=float, default=0.5, help='s / n for subsampling')
    p.add_argument('--drop', type=float, default=0.5, help='connections dropped at random')
    p.add_argument('--samples', type=int, nargs='*', default=[1, 2, 5, 10, 20, 50, 100, 200],
                   help='sub-networks in the dropout geometric mean')
    args = p.parse_args(argv)
    dev = args.device
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, y = _data.digits()
    Xtr, ytr, Xte, yte = _data.split(X, y, 600, seed=args.seed)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr[:args.n_train], ytr[:args.n_train], Xte, yte,
                                          device=dev)
    n, m = Xtr.shape[0], args.members
    steps = args.epochs * -(-n // 32)
    results = {}

    oob, book = out_of_bag_fraction(n, 200, gen, dev)
    results['bagging: out-of-bag fraction'] = {'measured': oob, '(1 - 1/n)^n': book,
                                               '1/e': float(numpy.exp(-1))}

    autograd.manual_seed(args.seed)
    single = fit(mlp(), Xtr, ytr, steps, generator=gen)
    results['single network'] = acc(log_probs(single, Xte), yte)

    members = {'bagging': [], 'subsampling': [], 'connection dropping': []}
    for j in range(m):
        autograd.manual_seed(args.seed + 1 + j)
        idx = bootstrap(n, n, True, gen, dev)
        members['bagging'].append(fit(mlp(), Xtr[idx], ytr[idx], steps, generator=gen))
        idx = bootstrap(n, int(args.subsample * n), False, gen, dev)
        members['subsampling'].append(fit(mlp(), Xtr[idx], ytr[idx], steps, generator=gen))
        members['connection dropping'].append(
            fit(connection_dropped_mlp(drop=args.drop), Xtr, ytr, steps, generator=gen))
    autograd.manual_seed(args.seed + 1)
    seeds_only = [fit(mlp(), Xtr, ytr, steps, generator=gen) for _ in range(m)]
    members['random initialisations'] = seeds_only
    curves = {}
    for name, models in members.items():
        logp = autograd.stack([log_probs(model, Xte) for model in models])
        results[name] = combined(logp, yte)
        curves[name] = [acc(geometric_mean(logp[:k]), yte) for k in range(1, m + 1)]

    autograd.manual_seed(args.seed)
    dc = fit(dropconnect_mlp(p=args.drop), Xtr, ytr, 3 * steps, generator=gen)
    results['DropConnect (weight scaling at test)'] = acc(log_probs(dc, Xte), yte)

    # dropout: input keep 0.8, hidden keep 0.5 (sec. 4.5.4); longer training, as it needs
    autograd.manual_seed(args.seed)
    drop = fit(mlp(p_in=0.2, p_hidden=0.5), Xtr, ytr, 3 * steps, generator=gen)
    rule = log_probs(drop, Xte)
    subnets = sampled_subnetworks(drop, Xte, max(args.samples))
    geo = {k: geometric_mean(subnets[:k]) for k in args.samples}
    ari = {k: arithmetic_mean(subnets[:k]) for k in args.samples}
    kmax = max(args.samples)
    results['dropout'] = {
        'weight scaling rule': acc(rule, yte),
        'one sampled sub-network': acc(subnets[0], yte),
        f'geometric mean of {kmax}': acc(geo[kmax], yte),
        f'arithmetic mean of {kmax}': acc(ari[kmax], yte),
        f'KL(geometric {kmax} || rule)': kl_rows(geo[kmax], rule),
        f'KL(arithmetic {kmax} || rule)': kl_rows(ari[kmax], rule),
        f'rule agrees with geometric {kmax}': acc(rule, geo[kmax].argmax(1))}

    # exactness of the rule for linear activations: enumerate all 2^10 sub-networks
    autograd.manual_seed(args.seed)
    lin = linear_dropout_net(64, 10, 10, device=dev)
    X64 = Xte.to(autograd.float64)
    exact = enumerated_geometric_mean(lin, X64, 0.5)
    results['linear net, all 1024 sub-networks: max |log p_geo - log p_rule|'] = \
        (exact - weight_scaling_rule(lin, X64)).abs().max().item()

    for key, val in results.items():
        print(f'{key:40s} {val}')

    fig, (ax1, ax2) = _data.figure(1, 2, figsize=(11, 4))
    ks = range(1, m + 1)
    for name, c in curves.items():
        ax1.plot(ks, c, 'o-', ms=3, label=name)
    ax1.axhline(results['single network'], color='gray', ls=':', label='single network')
    ax1.set(xlabel='members combined (geometric mean)', ylabel='held-out accuracy',
            title=f'ensembles of 64-64-10 nets, n = {n}')
    ax2.plot(args.samples, [acc(geo[k], yte) for k in args.samples], 'o-', label='geometric mean')
    ax2.plot(args.samples, [acc(ari[k], yte) for k in args.samples], 's--', label='arithmetic mean')
    ax2.axhline(acc(rule, yte), color='k', ls=':', label='weight scaling rule')
    ax2.set(xscale='log', xlabel='sampled sub-networks', ylabel='held-out accuracy',
            title='dropout as an ensemble')
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'ensembles.png'))
    results['curves'] = curves
    return results


if __name__ == '__main__':
    main()

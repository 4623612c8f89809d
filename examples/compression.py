"""Model compression: magnitude pruning with fine-tuning, low-rank SVD factorisation,
hashed weights, and distillation into a mimic model, with a size vs accuracy curve.

Aggarwal, *Neural Networks and Deep Learning*, sec. 3.7.3.  A teacher MLP 64-256-256-10
is trained with an L2 penalty (the book, after [169]: L2 rather than L1, then prune) on
scikit-learn's 8x8 digits; then:

* Sparsifying weights: the links with the smallest |w| over all layers are dropped
  (``nn.utils.prune.global_unstructured`` with ``L1Unstructured``), and the network is
  fine-tuned "starting with the current weights on links that have not yet been dropped"
  (the mask stays on).  Iteratively: each sparsity level starts from the previous one's
  fine-tuned network.
* Redundancy in weights: each hidden layer's trained W (m2 x m1 here, PyTorch's out x in)
  is replaced by three layers of sizes m1, k, m2: ``Linear(m1, k)`` holding V^T and
  ``Linear(k, m2)`` holding U, from the rank-k truncated SVD W ~ U V^T
  (``autograd.linalg.svd``; U carries the singular values).  (m1 + m2) k parameters
  instead of m1 m2, a ratio m1 m2 / (k (m1 + m2)) = HARMONIC-MEAN(m1, m2) / 2k.  The
  replacement comes after W is learned; U is then fixed and V fine-tuned (as [94] does).
* Hash-based compression: each virtual weight W_ij of a layer reads one of K shared
  parameters, w[h(i, j)], h a fixed hash of the position (computed, not stored);
  backprop sums the gradients of the entries that share a parameter (sec. 3.2.9).  The
  book's example: a 100 x 100 matrix hashed into 1,000 groups stores 10% of the weights.
  Against it, a dense network of the same parameter count (the book: reducing the size a
  priori hurts expressivity more).
* Mimic models: a much smaller and shallower student 64-32-10 trained only on the
  teacher's softmax outputs over the (unlabelled) training inputs, against the same
  student trained on the labels.  The soft targets use temperature T (Hinton et al.'s
  refinement; ``--temperature 1`` is the book's plain softmax).

Run: python examples/compression.py [--epochs 30] [--device cpu] [--out runs/compression]
"""
import copy
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
from nn.utils import prune


def mlp(sizes):
    """Linear layers of ``sizes`` with ReLUs between them."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def train(model, X, y, epochs, lr=1e-3, weight_decay=0.0, loss_fn=None, generator=None):
    """Adam on ``loss_fn(model(xb), yb)`` (cross-entropy by default), mini-batches of 32,
    over the parameters that require grad."""
    opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr,
                     weight_decay=weight_decay)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    for _ in range(epochs):
        _data.sgd_epoch(model, opt, loss_fn, X, y, 32, generator=generator)
    return model


def accuracy(model, X, y):
    with autograd.no_grad():
        return _data.accuracy(model(X), y)


def stored_weights(model):
    """The numbers a compressed model must store: its parameters (frozen ones included),
    less the entries that a pruning mask holds at zero.  A hashed layer's hash is a
    function of the position, computed, not stored."""
    total = sum(p.numel() for p in model.parameters())
    for name, mask in model.named_buffers():
        if name.endswith('_mask'):
            total -= int((mask == 0).sum().item())
    return total


# --- sparsifying weights --------------------------------------------------------------

def prune_to(model, sparsity):
    """Prune the weights of all of ``model``'s Linear layers, globally by magnitude, until
    a fraction ``sparsity`` of them is zero (the links pruned before stay pruned: the
    L1 method picks among the remaining ones, as PyTorch's container does)."""
    linears = [(m, 'weight') for m in model.modules() if isinstance(m, nn.Linear)]
    total = sum(m.weight.numel() for m, _ in linears)
    pruned = sum(int((getattr(m, 'weight_mask', autograd.ones(1)) == 0).sum().item())
                 for m, _ in linears)
    prune.global_unstructured(linears, pruning_method=prune.L1Unstructured,
                              amount=round(sparsity * total) - pruned)
    return model


def sparsity_of(model):
    masks = [b for n, b in model.named_buffers() if n.endswith('weight_mask')]
    return sum(int((m == 0).sum().item()) for m in masks) / sum(m.numel() for m in masks)


# --- leveraging redundancies in weights -----------------------------------------------

def factorize(linear, k):
    """``Linear(m1, m2)`` -> ``Sequential(Linear(m1, k, bias=False), Linear(k, m2))`` whose
    product is the rank-k truncated SVD of the weight: the first layer holds V^T (k, m1),
    the second U S (m2, k) and the bias.  By Eckart-Young no rank-k matrix is closer to W
    in the Frobenius norm; the error is the root of the sum of the dropped sigma_i^2."""
    W = linear.weight.detach()
    U, S, Vh = autograd.linalg.svd(W, full_matrices=False)
    first = nn.Linear(linear.in_features, k, bias=False).to(W.device, W.dtype)
    second = nn.Linear(k, linear.out_features).to(W.device, W.dtype)
    with autograd.no_grad():
        first.weight.copy_(Vh[:k])
        second.weight.copy_(U[:, :k] * S[:k])
        second.bias.copy_(linear.bias)
    return nn.Sequential(first, second)


def low_rank(teacher, k):
    """A copy of the teacher whose hidden Linear layers (all but the output layer) are
    factorised at rank k; U (the second factor) is frozen: only V^T and the biases train."""
    model = copy.deepcopy(teacher)
    last = [i for i, m in enumerate(model) if isinstance(m, nn.Linear)][-1]
    for i, m in enumerate(model):
        if isinstance(m, nn.Linear) and i != last:
            pair = factorize(m, k)
            pair[1].weight.requires_grad_(False)
            model[i] = pair
    return model


def low_rank_ratio(m1, m2, k):
    """The book's parameters in W over parameters in U, V: m1 m2 / (k (m1 + m2))."""
    return m1 * m2 / (k * (m1 + m2))


# --- hash-based compression -----------------------------------------------------------

def hash_position(rows, cols, buckets, seed=0):
    """h(i, j) in {0, ..., buckets - 1} for every position of a rows x cols matrix: a
    multiplicative hash of (i, j, seed) (a fixed function, so nothing is stored)."""
    i = numpy.arange(rows, dtype=numpy.uint64)[:, None]
    j = numpy.arange(cols, dtype=numpy.uint64)[None, :]
    h = (i * numpy.uint64(0x9E3779B97F4A7C15) ^ j * numpy.uint64(0xC2B2AE3D27D4EB4F)
         ^ numpy.uint64(seed) * numpy.uint64(0x165667B19E3779F9))
    h ^= h >> numpy.uint64(29)
    h *= numpy.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> numpy.uint64(32)
    return (h % numpy.uint64(buckets)).astype(numpy.int64)


class HashedLinear(nn.Module):
    """A Linear(in_features, out_features) whose out x in virtual weights share
    ``buckets`` parameters: W_ij = weight[h(i, j)].  The hash table is a non-persistent
    buffer (recomputed from the hash function, not saved): the state dict holds
    ``buckets`` weights and the bias."""

    def __init__(self, in_features, out_features, buckets, seed=0, device=None):
        super().__init__()
        self.in_features, self.out_features, self.buckets = in_features, out_features, buckets
        index = hash_position(out_features, in_features, buckets, seed)
        self.register_buffer('index', autograd.tensor(index, device=device), persistent=False)
        bound = 1 / math.sqrt(in_features)      # nn.Linear's range for the virtual weights
        self.weight = nn.Parameter(autograd.empty(buckets, device=device).uniform_(-bound, bound))
        self.bias = nn.Parameter(autograd.empty(out_features, device=device).uniform_(-bound, bound))

    def virtual_weight(self):
        """(out_features, in_features): gathering from ``weight``; its backward
        scatter-adds, summing the gradients of the positions that share a bucket."""
        return self.weight[self.index]

    def forward(self, x):
        return nn.functional.linear(x, self.virtual_weight(), self.bias)

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}, buckets={self.buckets}'


def hashed_mlp(fraction, device=None, seed=0):
    """64-256-256-10 with both hidden layers hashed into ``fraction`` of their weights."""
    return nn.Sequential(
        HashedLinear(64, 256, int(fraction * 64 * 256), seed=seed, device=device), nn.ReLU(),
        HashedLinear(256, 256, int(fraction * 256 * 256), seed=seed + 1, device=device),
        nn.ReLU(), nn.Linear(256, 10).to(device))


def dense_width(n_params, n_in=64, n_out=10):
    """The width h of a dense n_in-h-h-n_out MLP with about ``n_params`` parameters:
    h^2 + (n_in + n_out + 3) h + n_out = n_params."""
    b = n_in + n_out + 3
    return max(1, round((-b + math.sqrt(b * b + 4 * (n_params - n_out))) / 2))


# --- mimic models ---------------------------------------------------------------------

def soft_targets(teacher, X, T):
    """The teacher's softmax outputs at temperature T on the unlabelled inputs X (n, C)."""
    with autograd.no_grad():
        return autograd.softmax(teacher(X) / T, 1)


def train_student(student, X, targets, epochs, T=1.0, generator=None):
    """Fit ``student`` to soft ``targets`` on X, never seeing a label: cross-entropy with
    the soft targets at temperature T, scaled by T^2 so gradients keep their size."""
    def loss_fn(logits, target):
        return nn.functional.cross_entropy(logits / T, target) * (T * T)
    return train(student, X, targets, epochs, lr=3e-3, loss_fn=loss_fn, generator=generator)


def main(argv=None):
    p = _data.parser('compression', __doc__, epochs=30)
    p.add_argument('--fine-tune', type=int, default=5, help='fine-tuning epochs after pruning '
                   'and after factorising')
    p.add_argument('--sparsity', type=float, nargs='*', default=[0.5, 0.75, 0.9, 0.95, 0.98, 0.99])
    p.add_argument('--ranks', type=int, nargs='*', default=[1, 2, 4, 8, 16, 32])
    p.add_argument('--hashed', type=float, nargs='*', default=[0.01, 0.03, 0.1],
                   help='fractions of the hidden weights kept as shared parameters')
    p.add_argument('--temperature', type=float, default=4.0)
    args = p.parse_args(argv)
    dev = args.device
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, y = _data.digits()
    Xtr, ytr, Xte, yte = _data.to_tensors(*_data.split(X, y, 400, seed=args.seed), device=dev)
    results, curve = {}, []

    def point(method, model, acc):
        curve.append((method, stored_weights(model), acc))

    teacher = train(mlp([64, 256, 256, 10]).to(dev), Xtr, ytr, args.epochs,
                    weight_decay=1e-4, generator=gen)
    results['teacher: parameters'] = stored_weights(teacher)
    results['teacher: accuracy'] = accuracy(teacher, Xte, yte)
    point('teacher 64-256-256-10', teacher, results['teacher: accuracy'])

    pruned = copy.deepcopy(teacher)
    for s in args.sparsity:
        prune_to(pruned, s)
        raw = accuracy(pruned, Xte, yte)
        train(pruned, Xtr, ytr, args.fine_tune, weight_decay=1e-4, generator=gen)
        tuned = accuracy(pruned, Xte, yte)
        results[f'pruned {s:.0%}'] = {'sparsity': sparsity_of(pruned), 'stored': stored_weights(pruned),
                                      'before fine-tuning': raw, 'after fine-tuning': tuned}
        point('pruning + fine-tuning', pruned, tuned)

    for k in args.ranks:
        model = low_rank(teacher, k)
        raw = accuracy(model, Xte, yte)
        train(model, Xtr, ytr, args.fine_tune, generator=gen)
        tuned = accuracy(model, Xte, yte)
        results[f'rank {k}'] = {'stored': stored_weights(model), 'truncated': raw,
                                'V fine-tuned': tuned}
        point('low-rank SVD, V fine-tuned', model, tuned)
    results['low-rank ratio 256 x 256 at k = 16'] = low_rank_ratio(256, 256, 16)

    for fraction in args.hashed:
        autograd.manual_seed(args.seed + 1)
        hashed = train(hashed_mlp(fraction, dev, seed=args.seed), Xtr, ytr, args.epochs,
                       generator=gen)
        h = dense_width(stored_weights(hashed))
        autograd.manual_seed(args.seed + 1)
        dense = train(mlp([64, h, h, 10]).to(dev), Xtr, ytr, args.epochs, generator=gen)
        results[f'hashed {fraction:.0%}'] = {
            'stored': stored_weights(hashed), 'accuracy': accuracy(hashed, Xte, yte),
            f'dense 64-{h}-{h}-10 stored': stored_weights(dense),
            'dense accuracy': accuracy(dense, Xte, yte)}
        point('hashed weights', hashed, results[f'hashed {fraction:.0%}']['accuracy'])
        point('dense, same size', dense, results[f'hashed {fraction:.0%}']['dense accuracy'])

    T = args.temperature
    autograd.manual_seed(args.seed + 2)
    student = train_student(mlp([64, 32, 10]).to(dev), Xtr, soft_targets(teacher, Xtr, T),
                            args.epochs, T=T, generator=gen)
    autograd.manual_seed(args.seed + 2)
    alone = train(mlp([64, 32, 10]).to(dev), Xtr, ytr, args.epochs, lr=3e-3, generator=gen)
    results['student 64-32-10'] = {'stored': stored_weights(student),
                                   'mimic (teacher outputs)': accuracy(student, Xte, yte),
                                   'trained on labels': accuracy(alone, Xte, yte)}
    point('mimic student 64-32-10', student, results['student 64-32-10']['mimic (teacher outputs)'])
    for key, val in results.items():
        print(f'{key:36s} {val}')

    fig, ax = _data.figure(figsize=(7.5, 4.8))
    styles = {'teacher 64-256-256-10': '*', 'mimic student 64-32-10': 'P'}
    for name in dict.fromkeys(c[0] for c in curve):
        pts = sorted((n, a) for c, n, a in curve if c == name)
        marker = styles.get(name)
        ax.plot(*zip(*pts), marker or 'o-', ms=14 if marker else 5, label=name)
    ax.set(xscale='log', xlabel='stored numbers (log scale)', ylabel='held-out accuracy',
           title='compressing a 64-256-256-10 MLP on 8x8 digits', ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='lower right')
    results['curve'] = curve
    print('plot:', _data.savefig(fig, args.out, 'compression.png'))
    return results


if __name__ == '__main__':
    main()

"""Hierarchical softmax: a k-way softmax as log2(k) binary decisions down a tree of classes.

Aggarwal, *Neural Networks and Deep Learning*, sec. 2.3.4 (and sec. 2.6.2, "Practical
issues": word2vec's softmax "is implemented hierarchically with Huffman encoding"); Morin and
Bengio (2005), Mikolov et al. (2013).  The k classes are the leaves of a binary tree; each of
its k - 1 internal nodes n holds a vector w_n, and a class's probability is the product of
the binary (sigmoid) decisions on the path from the root to its leaf,

    P(class c | h) = prod_{n on the path to c} sigmoid(s_n(c) * h . w_n),

with s_n(c) = +1 where the path turns left at n and -1 where it turns right.  The two turns
at a node have probabilities summing to 1, so the leaves' probabilities sum to 1 for every h
(an exact, normalised distribution, like the full softmax: the test checks it), yet a
training example touches only the nodes on one path: about log2(k) dot products instead of
the k of a full softmax.  The tree is either balanced (depth ceil(log2 k)) or the Huffman
tree of the class frequencies (sec. 2.3.4), which gives frequent words short paths: its
expected path length lies between the entropy H of the frequencies (in bits) and H + 1.

The script (1) trains word2vec's CBOW model (``word2vec.py``, sec. 2.6.1) on the standard
library's prose twice, with the full softmax of eq. 2.49 and with the Huffman-tree softmax,
and compares their held-out likelihoods and training times; (2) times one forward and
backward pass of both output layers as k grows (the full softmax grows like k, the tree
like log k).

Run: ``python examples/hierarchical_softmax.py [--epochs 3] [--max-words 300000]``
"""
import heapq
import math
import time

import numpy

import _data  # noqa: I001  (before autograd: they make a source checkout importable)
import autograd
import nn
import nn.functional as F
import word2vec


# ---------------------------------------------------------------------------------------------
# Trees: for each class, the internal nodes on its root-to-leaf path and the turn taken at each

class Tree:
    """A binary tree over k classes, as padded arrays: ``paths`` (k, L) internal-node indices
    in 0..k-2 (root first), ``signs`` (k, L) +1 (left) / -1 (right), 0 past the path's end,
    ``lengths`` (k,).  L is the longest path."""

    def __init__(self, parent, turn, k):
        # parent[x], turn[x]: the internal node above tree node x (leaves 0..k-1, internal
        # nodes k..2k-2) and the side (0 left, 1 right) x hangs on
        paths = []
        for leaf in range(k):
            path, x = [], leaf
            while x in parent:
                path.append((parent[x] - k, 1 - 2 * turn[x]))
                x = parent[x]
            paths.append(path[::-1])
        self.k = k
        self.lengths = numpy.array([len(p) for p in paths], dtype=numpy.int64)
        depth = max(1, self.lengths.max())
        self.paths = numpy.zeros((k, depth), dtype=numpy.int64)
        self.signs = numpy.zeros((k, depth), dtype=numpy.float64)
        for c, path in enumerate(paths):
            for level, (node, sign) in enumerate(path):
                self.paths[c, level], self.signs[c, level] = node, sign


def huffman_tree(counts):
    """The Huffman tree of class frequencies ``counts`` (k,): the two least frequent subtrees
    are merged first, so frequent classes get short paths (ties broken by index)."""
    k = len(counts)
    heap = [(float(c), x) for x, c in enumerate(counts)]
    heapq.heapify(heap)
    parent, turn, next_node = {}, {}, k
    while len(heap) > 1:
        (c0, a), (c1, b) = heapq.heappop(heap), heapq.heappop(heap)
        parent[a], turn[a], parent[b], turn[b] = next_node, 0, next_node, 1
        heapq.heappush(heap, (c0 + c1, next_node))
        next_node += 1
    return Tree(parent, turn, k)


def balanced_tree(k):
    """A balanced tree: each node halves its range of classes (depth ceil(log2 k))."""
    parent, turn, next_node = {}, {}, [k]

    def build(lo, hi):          # returns the tree node over classes lo..hi-1
        if hi - lo == 1:
            return lo
        node = next_node[0]
        next_node[0] += 1
        mid = (lo + hi + 1) // 2
        for side, child in enumerate((build(lo, mid), build(mid, hi))):
            parent[child], turn[child] = node, side
        return node

    build(0, k)
    return Tree(parent, turn, k)


# ---------------------------------------------------------------------------------------------
# The output layer

class HierarchicalSoftmax(nn.Module):
    """P(class | h) as the product of sigmoid turns along the class's path in ``tree``.

    ``nodes`` (k - 1, D): one vector per internal node, zero at the start (every turn 1/2, so
    the untrained loss of a class is its path length times ln 2).  ``forward(h, target)``:
    h (B, D), target (B,) -> the mean of -log P(target | h)."""

    def __init__(self, tree, dim):
        super().__init__()
        self.nodes = nn.Embedding(max(1, tree.k - 1), dim)
        nn.init.zeros_(self.nodes.weight)
        self.register_buffer('paths', autograd.tensor(tree.paths))
        self.register_buffer('signs', autograd.tensor(tree.signs, dtype=autograd.float32))
        self.lengths = tree.lengths

    def log_prob(self, h, target=None):
        """log P(target | h) (B,): only the nodes on each target's path are evaluated.  Without
        ``target``, the log-probabilities of all k classes (B, k), for checks and inspection."""
        if target is None:
            scores = (h @ self.nodes.weight.T)[:, self.paths]             # (B, k, L)
            signs = self.signs
        else:
            w = self.nodes(self.paths[target])                             # (B, L, D)
            scores = (w @ h.unsqueeze(-1)).squeeze(-1)                     # (B, L)
            signs = self.signs[target]
        # padding (sign 0) past the end of a path contributes nothing
        return (F.logsigmoid(signs * scores) * (signs != 0)).sum(-1)

    def forward(self, h, target):
        return -self.log_prob(h, target).mean()

    def initial_loss(self, targets):
        """The untrained (zero ``nodes``) mean loss over ``targets``: mean path length ln 2."""
        return float(self.lengths[numpy.asarray(targets)].mean() * math.log(2.0))


def expected_path_length(tree, counts):
    """Mean number of binary decisions per example when class c occurs ``counts[c]`` times."""
    p = numpy.asarray(counts, dtype=numpy.float64)
    return float((p / p.sum()) @ tree.lengths)


def entropy_bits(counts):
    p = numpy.asarray(counts, dtype=numpy.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * numpy.log2(p)).sum())


# ---------------------------------------------------------------------------------------------
# Speed: one forward + backward of each output layer as the number of classes grows

def time_output_layers(ks, batch_size=256, dim=64, repeats=5, device=None, seed=0):
    """Seconds (fastest of ``repeats``) for the loss and its gradients over a batch, with a
    full softmax over k classes and with a balanced-tree hierarchical softmax.
    Returns {'k': [...], 'full': [...], 'tree': [...]}.  On the CPU the BLAS runs one thread
    (``threadpoolctl``, part of scikit-learn): on a shared machine, idle BLAS threads
    spinning for cores make a 256 x 64 x 64 product a hundred times slower than it is."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:             # timings then depend on the BLAS thread count
        import contextlib
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    with limits:
        return _time_output_layers(ks, batch_size, dim, repeats, device, seed)


def _time_output_layers(ks, batch_size, dim, repeats, device, seed):
    gen = autograd.Generator().manual_seed(seed)   # CPU draws: the same on any device
    times = dict(k=list(ks), full=[], tree=[])
    for k in ks:
        h = autograd.randn(batch_size, dim, generator=gen, device='cpu').to(device).requires_grad_()
        target = autograd.randint(0, k, (batch_size,), generator=gen, device='cpu').to(device)
        full = 0.01 * autograd.randn(k, dim, generator=gen, device='cpu')
        full = full.to(device).requires_grad_()
        tree = HierarchicalSoftmax(balanced_tree(k), dim).to(device)

        def full_step():
            F.cross_entropy(h @ full.T, target).backward()
            return full.grad.sum().item()       # wait for the device

        def tree_step():
            tree(h, target).backward()
            return tree.nodes.weight.grad.sum().item()

        for name, step in (('full', full_step), ('tree', tree_step)):
            step()                              # warm-up
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                step()
                seconds.append(time.perf_counter() - start)
            times[name].append(min(seconds))
    return times


# ---------------------------------------------------------------------------------------------

def compare(max_words=300000, dim=50, epochs=3, batch_size=512, lr=0.03, seed=0, device=None,
            model='cbow', log=print):
    """word2vec (``model``) trained with the full softmax and with the Huffman-tree softmax on
    the same data.  Returns {'softmax': result, 'huffman': result} (word2vec.train's dicts)."""
    results = {}
    for name in ('softmax', 'huffman'):
        objective = ('softmax' if name == 'softmax' else
                     lambda vocab: HierarchicalSoftmax(huffman_tree(vocab.counts), dim))
        results[name] = r = word2vec.train(model, max_words=max_words, dim=dim, epochs=epochs,
                                           batch_size=batch_size, lr=lr, seed=seed,
                                           device=device, log=None, objective=objective)
        if log:
            log(f'{name:8s}: loss {r["first_loss"]:.3f} -> {r["last_loss"]:.3f}, held-out '
                f'-log P {r["held_out_nll"]:.3f} nats (unigram {r["unigram_nll"]:.3f}), '
                f'{r["seconds_per_epoch"]:.1f} s per epoch')
    return results


def plot(results, times, out):
    fig, (ax0, ax1) = _data.figure(1, 2, figsize=(11, 4))
    for name, r in results.items():
        ax0.plot(r['losses'], label=f'{name}: held-out {r["held_out_nll"]:.2f} nats')
    ax0.axhline(next(iter(results.values()))['unigram_nll'], color='k', ls='--',
                label='unigram frequencies (held out)')
    ax0.set_xlabel('batches / 200')
    ax0.set_ylabel('training -log P(target | context), nats')
    ax0.set_title('CBOW on the stdlib prose: full vs Huffman-tree softmax', fontsize=9)
    ax0.legend(fontsize=8)
    ax1.loglog(times['k'], times['full'], 'o-', label='full softmax (k dot products)')
    ax1.loglog(times['k'], times['tree'], 's-', label='balanced tree (log2 k dot products)')
    ax1.set_xlabel('number of classes k')
    ax1.set_ylabel('seconds per forward + backward (batch 256)')
    ax1.set_title('cost per batch as k grows', fontsize=9)
    ax1.legend(fontsize=8)
    return _data.savefig(fig, out, 'hierarchical_softmax.png')


def main(argv=None):
    p = _data.parser('hierarchical_softmax', __doc__, epochs=3)
    p.add_argument('--max-words', type=int, default=300000)
    p.add_argument('--dim', type=int, default=50)
    p.add_argument('--lr', type=float, default=0.03)
    p.add_argument('--batch-size', type=int, default=512)
    p.add_argument('--ks', default='256,1024,4096,16384,65536',
                   help='class counts for the timing panel')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    results = compare(args.max_words, args.dim, args.epochs, args.batch_size, args.lr,
                      seed=args.seed, device=args.device)
    vocab = results['huffman']['vocab']
    tree = huffman_tree(vocab.counts)
    code = expected_path_length(tree, vocab.counts)
    H = entropy_bits(vocab.counts)
    print(f'vocabulary {len(vocab)}: Huffman tree expected path {code:.2f} decisions '
          f'(entropy {H:.2f} bits, balanced tree {math.ceil(math.log2(len(vocab)))}, '
          f'full softmax {len(vocab)} scores)')
    times = time_output_layers([int(k) for k in args.ks.split(',')], device=args.device)
    for k, full, tr in zip(times['k'], times['full'], times['tree']):
        print(f'k = {k:6d}: full softmax {1000 * full:7.2f} ms, tree {1000 * tr:6.2f} ms '
              f'per batch ({full / tr:.1f}x)')
    path = plot(results, times, args.out)
    print(f'wrote {path}')
    return dict(results=results, times=times, expected_path=code, entropy_bits=H, plot=path)


if __name__ == '__main__':
    main()

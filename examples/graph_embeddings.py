"""Graph embeddings: node vectors from the adjacency matrix or from random-walk co-occurrences,
on Zachary's karate club, where they separate the club's two factions.

Aggarwal, *Neural Networks and Deep Learning*, sec. 2.7.  Each node i gets an input
embedding u_i and an output embedding v_i (rows of n x p matrices U and V); the network maps
a node's one-hot index to its neighbours (Fig. 2.17), which is a factorisation of the
adjacency matrix B through U V^T:

- ``logistic`` (sec. 2.7, eq. 2.62): b_ij ~ Bernoulli(sigmoid(u_i . v_j)) for every pair,
  the log-likelihood of the whole 0/1 matrix (n is small, so no sampling is needed);
- ``sgns`` (sec. 2.7.1, arbitrary edge counts c_ij): an edge (i, j) is drawn with probability
  proportional to c_ij and k negative nodes in proportion to their weighted degrees, and the
  loss is word2vec's negative-sampling loss (``word2vec.negative_sampling_loss``: "an almost
  exact simulation of the SGNS variant of word2vec");
- ``deepwalk`` (secs. 2.7.2-2.7.3, the multinomial model): c_ij counts how often node j falls
  within ``window`` steps of node i on random walks (DeepWalk), and the loss is the vanilla
  skip-gram's multinomial factorisation, eq. 2.60: -sum_ij c_ij log softmax_j(u_i V^T).

The graph is Zachary's karate club (34 members, 78 friendships, edge weights counting the
contexts in which two members met; shipped with ``networkx``): the club split in two, and
the test of an embedding is whether 2-means on the u_i recovers the split, which the
embeddings learn without ever seeing it.

Run: ``python examples/graph_embeddings.py [--dim 8] [--epochs 300]``
"""
import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim
import word2vec


def karate_club():
    """Zachary's karate club: (weights C (34, 34) float64 symmetric, the number of contexts in
    which two members interacted, 0 where they are not friends; faction (34,) int64, 0 for
    'Mr. Hi', 1 for 'Officer')."""
    import networkx
    graph = networkx.karate_club_graph()
    C = networkx.to_numpy_array(graph, nodelist=range(graph.number_of_nodes()), weight='weight')
    faction = numpy.array([graph.nodes[i]['club'] != 'Mr. Hi' for i in graph.nodes],
                          dtype=numpy.int64)
    return C, faction


def random_walk_counts(B, walks_per_node=10, length=40, window=5, seed=0):
    """DeepWalk's co-occurrences (sec. 2.7.3): from every node, ``walks_per_node`` uniform
    random walks of ``length`` nodes on the 0/1 adjacency B; c_ij counts the times j is within
    ``window`` steps of i on a walk.  Returns C (n, n) float64, symmetric."""
    rng = numpy.random.default_rng(seed)
    n = len(B)
    neighbours = [numpy.flatnonzero(B[i]) for i in range(n)]
    C = numpy.zeros((n, n))
    for start in numpy.tile(numpy.arange(n), walks_per_node):
        walk = [start]
        for _ in range(length - 1):
            walk.append(rng.choice(neighbours[walk[-1]]))
        walk = numpy.array(walk)
        for d in range(1, window + 1):      # each pair d apart, counted both ways
            numpy.add.at(C, (walk[:-d], walk[d:]), 1.0)
            numpy.add.at(C, (walk[d:], walk[:-d]), 1.0)
    return C


class NodeEmbedding(nn.Module):
    """U (input) and V (output) embeddings of n nodes, small random values at the start."""

    def __init__(self, n, dim):
        super().__init__()
        self.U = nn.Embedding(n, dim)
        self.V = nn.Embedding(n, dim)
        nn.init.normal_(self.U.weight, std=0.1)
        nn.init.normal_(self.V.weight, std=0.1)

    def scores(self):
        """u_i . v_j for every pair: (n, n)."""
        return self.U.weight @ self.V.weight.T


def logistic_loss(model, B):
    """Eq. 2.62: the mean negative log-likelihood of every b_ij under sigmoid(u_i . v_j)."""
    return F.binary_cross_entropy_with_logits(model.scores(), B)


def multinomial_loss(model, C):
    """Eq. 2.60 divided by sum c_ij: -sum_ij c_ij log softmax_j(u_i V^T) / sum_ij c_ij."""
    return -(C * F.log_softmax(model.scores(), dim=1)).sum() / C.sum()


def sgns_loss(model, edges, edge_probs, noise_probs, batch_size, negatives):
    """Sec. 2.7.1: ``batch_size`` edges (i, j) drawn in proportion to c_ij, ``negatives``
    nodes per edge in proportion to the weighted degrees; word2vec's SGNS loss."""
    pick = autograd.multinomial(edge_probs, batch_size, replacement=True)
    i, j = edges[pick, 0], edges[pick, 1]
    neg = autograd.multinomial(noise_probs, batch_size * negatives,
                               replacement=True).view(batch_size, negatives)
    return word2vec.negative_sampling_loss(model.U(i), model.V(j), model.V(neg))


def train(method, C, dim=8, epochs=300, lr=0.05, batch_size=256, negatives=5, seed=0,
          device=None):
    """Fit node embeddings by ``method`` ('logistic', 'sgns' or 'deepwalk') to the weighted
    adjacency C (n, n) (for 'deepwalk': to its random-walk counts).  Full-batch Adam for the
    first and last, ``epochs`` sampled batches for 'sgns'.  Returns (model, losses)."""
    autograd.manual_seed(seed)
    device = device or autograd.get_default_device()
    n = len(C)
    B = (C > 0).astype(numpy.float64)
    model = NodeEmbedding(n, dim).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    if method == 'logistic':
        target = autograd.tensor(B, dtype=autograd.float32, device=device)
        step = lambda: logistic_loss(model, target)  # noqa: E731
    elif method == 'deepwalk':
        counts = autograd.tensor(random_walk_counts(B, seed=seed), dtype=autograd.float32,
                                 device=device)
        step = lambda: multinomial_loss(model, counts)  # noqa: E731
    elif method == 'sgns':
        i, j = numpy.nonzero(C)            # both directions of every undirected edge
        edges = autograd.tensor(numpy.stack([i, j], 1), device=device)
        edge_probs = autograd.tensor(C[i, j] / C[i, j].sum(), dtype=autograd.float32,
                                     device=device)
        degree = C.sum(1)
        noise_probs = autograd.tensor(degree / degree.sum(), dtype=autograd.float32,
                                      device=device)
        step = lambda: sgns_loss(model, edges, edge_probs, noise_probs,  # noqa: E731
                                 batch_size, negatives)
    else:
        raise ValueError(f"train: method must be 'logistic', 'sgns' or 'deepwalk', "
                         f'got {method!r}')
    losses = []
    for _ in range(epochs):
        loss = step()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


def two_means(X, seed=0, restarts=10, iterations=50):
    """2-means (Lloyd's algorithm, the best of ``restarts`` random starts) on the rows of X
    (n, p) float64.  Returns the cluster of each row (n,) int64."""
    rng = numpy.random.default_rng(seed)
    best, best_cost = None, numpy.inf
    for _ in range(restarts):
        centres = X[rng.choice(len(X), 2, replace=False)]
        for _ in range(iterations):
            d = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
            assign = d.argmin(1)
            if len(set(assign.tolist())) < 2:
                break
            centres = numpy.stack([X[assign == c].mean(0) for c in (0, 1)])
        cost = d.min(1).sum()
        if len(set(assign.tolist())) == 2 and cost < best_cost:
            best, best_cost = assign, cost
    return best


def faction_agreement(embedding, faction, seed=0):
    """The fraction of members whose 2-means cluster on the unit-length embeddings matches
    their faction (the better of the two ways of naming the clusters)."""
    X = embedding / numpy.linalg.norm(embedding, axis=1, keepdims=True)
    match = (two_means(X, seed) == faction).mean()
    return float(max(match, 1 - match))


def edge_auc(model, B):
    """How often a friendship scores above a non-friendship (u_i . v_j, i != j): the area
    under the ROC curve of the reconstructed adjacency."""
    with autograd.no_grad():
        S = model.scores().cpu().numpy().astype(numpy.float64)
    S = (S + S.T) / 2
    upper = numpy.triu(numpy.ones_like(B, dtype=bool), 1)
    pos, neg = S[upper & (B > 0)], S[upper & (B == 0)]
    return float((pos[:, None] > neg[None, :]).mean())


def plot(embeddings, faction, C, out):
    """One panel per method: the embeddings' top two principal directions, the friendships
    drawn as lines, the members coloured by the faction they joined."""
    fig, axes = _data.figure(1, len(embeddings), figsize=(4.2 * len(embeddings), 4))
    for ax, (name, (E, agreement)) in zip(numpy.atleast_1d(axes), embeddings.items()):
        X = E / numpy.linalg.norm(E, axis=1, keepdims=True)
        X = X - X.mean(0)
        xy = X @ numpy.linalg.svd(X, full_matrices=False)[2][:2].T
        for i, j in zip(*numpy.nonzero(numpy.triu(C))):
            ax.plot(xy[[i, j], 0], xy[[i, j], 1], color='0.85', lw=0.6, zorder=0)
        for f, colour, label in ((0, 'tab:blue', "Mr. Hi's faction"),
                                 (1, 'tab:red', "the officer's faction")):
            ax.scatter(*xy[faction == f].T, c=colour, s=30, label=label)
        ax.set_title(f'{name}: 2-means agrees with the split on {100 * agreement:.0f}%',
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    numpy.atleast_1d(axes)[0].legend(fontsize=8)
    return _data.savefig(fig, out, 'graph_embeddings.png')


def main(argv=None):
    p = _data.parser('graph_embeddings', __doc__, epochs=300)
    p.add_argument('--dim', type=int, default=8)
    p.add_argument('--lr', type=float, default=0.05)
    args = p.parse_args(argv)
    C, faction = karate_club()
    B = (C > 0).astype(numpy.float64)
    print(f'karate club: {len(C)} members, {int(B.sum()) // 2} friendships')
    results, embeddings = {}, {}
    for method in ('logistic', 'sgns', 'deepwalk'):
        model, losses = train(method, C, args.dim, args.epochs, args.lr, seed=args.seed,
                              device=args.device)
        U = model.U.weight.detach().cpu().numpy().astype(numpy.float64)
        agreement = faction_agreement(U, faction, args.seed)
        auc = edge_auc(model, B)
        results[method] = dict(losses=losses, agreement=agreement, edge_auc=auc, U=U)
        embeddings[method] = (U, agreement)
        print(f'{method:8s}: loss {losses[0]:.3f} -> {losses[-1]:.3f}; 2-means on the '
              f'embeddings agrees with the factions on {100 * agreement:.1f}% of members; '
              f'edge AUC {auc:.3f}')
    results['plot'] = plot(embeddings, faction, C, args.out)
    print(f'wrote {results["plot"]}')
    return results


if __name__ == '__main__':
    main()

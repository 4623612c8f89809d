"""Neuroevolution: a genetic algorithm over a network's weights (conventional
neuroevolution, a direct encoding) against backprop on the same network and task, counted
in evaluations.

The shorter text S0 ("Neuroevolution", L1603-1631): with the architecture fixed, the
genotype is the vector of weights, one number per connection (direct encoding), and the
standard genetic algorithm (fitness, selection, crossover, mutation) runs on it.  Aggarwal,
*Neural Networks and Deep Learning*, sec. 1.2.1.3 (the network) and sec. 3.2 (backprop).

The GA here: a population of weight vectors of a 64-16-10 tanh network on scikit-learn's
8x8 digits; fitness = minus the training cross-entropy; tournament selection (size 3);
uniform crossover (each gene from either parent); Gaussian mutation of each gene with
probability ``p_mutate``; the best ``elite`` genotypes copied unchanged (so the best fitness
never decreases).  The whole population is evaluated in one batched forward pass
(matmul over a leading population axis).  An evaluation is one forward pass of one
network over the training set; a backprop step costs one evaluation plus a backward pass.

Run: python examples/neuroevolution.py [--epochs 500] [--device cpu] [--out runs/neuroevolution]
"""
import math

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

SIZES = (64, 16, 10)


def n_genes(sizes=SIZES):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def decode(pop, sizes=SIZES):
    """Genotypes (P, D) -> [(W (P, in, out), b (P, 1, out)) per layer]: the direct encoding,
    one gene per weight and bias."""
    layers, at = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        W = pop[:, at:at + a * b].reshape(-1, a, b)
        at += a * b
        layers.append((W, pop[:, at:at + b].unsqueeze(1)))
        at += b
    return layers


def forward(pop, X, sizes=SIZES):
    """Logits (P, n, 10) of the P networks on X (n, 64)."""
    h, layers = X, decode(pop, sizes)
    for i, (W, b) in enumerate(layers):
        # the first layer by einsum: NumPy's matmul broadcasting (n, d) against (P, d, h)
        # loops over P slowly (~100x on this machine); later layers are batched products
        h = (autograd.einsum('nd,pdh->pnh', X, W) if i == 0 else h @ W) + b
        if i < len(layers) - 1:
            h = autograd.tanh(h)
    return h


def fitness(pop, X, y):
    """Minus the mean cross-entropy of each network: (P,)."""
    logits = forward(pop, X)
    P, n, C = logits.shape
    ce = nn.functional.cross_entropy(logits.reshape(P * n, C), y.repeat(P), reduction='none')
    return -ce.reshape(P, n).mean(1)


def accuracy(pop, X, y):
    """Accuracy of each network: (P,)."""
    return (forward(pop, X).argmax(-1) == y).float().mean(1)


def tournament(fit, k, n, generator):
    """Indices of ``n`` parents, each the fittest of ``k`` drawn at random."""
    entrants = autograd.randint(0, fit.shape[0], (n, k), generator=generator, device=fit.device)
    best = fit[entrants].argmax(1, keepdim=True)
    return entrants.gather(1, best).squeeze(1)


def crossover(mothers, fathers, generator):
    """Uniform crossover: each gene of a child from one parent or the other, at random."""
    take = autograd.rand(mothers.shape, generator=generator, device=mothers.device) < 0.5
    return autograd.where(take, mothers, fathers)


def mutate(pop, p, sigma, generator):
    """Add N(0, sigma^2) to each gene with probability p."""
    hit = autograd.rand(pop.shape, generator=generator, device=pop.device) < p
    noise = sigma * autograd.randn(pop.shape, generator=generator, device=pop.device)
    return pop + noise * hit


def initial_population(size, generator, device=None):
    """Each layer uniform in +-1/sqrt(fan_in), as ``nn.Linear`` initialises."""
    pop = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / math.sqrt(a)
        pop.append((2 * autograd.rand(size, a * b + b, generator=generator, device=device) - 1)
                   * bound)
    return autograd.cat(pop, 1)


def evolve(X, y, generations, generator, size=100, elite=2, k=3, p_mutate=0.05, sigma=0.1,
           Xte=None, yte=None):
    """The genetic algorithm.  Returns (best genotype, history: one dict per generation with
    the evaluations so far, best fitness, best training and held-out accuracy)."""
    pop = initial_population(size, generator, X.device)
    history = []
    with autograd.no_grad():
        fit = fitness(pop, X, y)
        for g in range(generations):
            order = fit.argsort(descending=True)
            best = pop[order[0]].unsqueeze(0)
            history.append({'evaluations': (g + 1) * size, 'fitness': fit[order[0]].item(),
                            'train accuracy': accuracy(best, X, y).item(),
                            'test accuracy': (accuracy(best, Xte, yte).item()
                                              if Xte is not None else None)})
            n = size - elite
            mothers = pop[tournament(fit, k, n, generator)]
            fathers = pop[tournament(fit, k, n, generator)]
            children = mutate(crossover(mothers, fathers, generator), p_mutate, sigma, generator)
            pop = autograd.cat([pop[order[:elite]], children])
            fit = fitness(pop, X, y)
    return pop[fit.argmax()], history


def backprop(X, y, steps, seed, Xte=None, yte=None, lr=0.5):
    """The same network trained full-batch by gradient descent with momentum 0.9: history as
    :func:`evolve`'s, one evaluation per step."""
    autograd.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10)).to(X.device)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = []
    for t in range(steps):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with autograd.no_grad():
            history.append({'evaluations': t + 1, 'fitness': -loss.item(),
                            'train accuracy': _data.accuracy(model(X), y),
                            'test accuracy': (_data.accuracy(model(Xte), yte)
                                              if Xte is not None else None)})
    return model, history


def evaluations_to(history, level, key='train accuracy'):
    return next((h['evaluations'] for h in history if h[key] >= level), None)


def main(argv=None):
    p = _data.parser('neuroevolution', __doc__, epochs=500, epochs_help='GA generations')
    p.add_argument('--population', type=int, default=100)
    args = p.parse_args(argv)
    dev = autograd.device(args.device)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, y = _data.digits()
    Xtr, ytr, Xte, yte = _data.to_tensors(*_data.split(X, y, 500, seed=args.seed), device=dev)
    print(f'network {SIZES}: {n_genes()} genes')

    _, ga = evolve(Xtr, ytr, args.epochs, gen, size=args.population, Xte=Xte, yte=yte)
    _, bp = backprop(Xtr, ytr, 200, args.seed, Xte, yte)
    results = {'genes': n_genes()}
    for name, h in (('genetic algorithm', ga), ('backprop', bp)):
        results[name] = {'evaluations': h[-1]['evaluations'],
                         'train accuracy': h[-1]['train accuracy'],
                         'test accuracy': h[-1]['test accuracy'],
                         'best fitness': h[-1]['fitness']}
        for level in (0.5, 0.8, 0.9):
            results[name][f'evaluations to {level:.0%} train accuracy'] = evaluations_to(h, level)
        print(f'{name:17s} after {h[-1]["evaluations"]:6d} evaluations: train accuracy '
              f'{h[-1]["train accuracy"]:.3f}, held-out {h[-1]["test accuracy"]:.3f}; '
              'evaluations to 50/80/90% train accuracy: '
              + ' / '.join(str(results[name][f'evaluations to {lv:.0%} train accuracy'])
                           for lv in (0.5, 0.8, 0.9)))

    fig, ax = _data.figure(figsize=(6, 4))
    for name, h in (('genetic algorithm (best of population)', ga), ('backprop', bp)):
        ax.plot([e['evaluations'] for e in h], [e['train accuracy'] for e in h], label=name)
    ax.set_xscale('log')
    ax.set(xlabel='evaluations (forward passes over the training set)',
           ylabel='training accuracy', title=f'digits, {SIZES} tanh network')
    print('plot:', _data.savefig(fig, args.out, 'neuroevolution.png', legend_fontsize=8))
    return results


if __name__ == '__main__':
    main()

"""Sec. 3.7.3: model compression, judged by the book's numbers (the low-rank ratio
H(m1, m2) / 2k, the 100 x 100 matrix hashed into 1,000 groups storing 10%) and by what the
compressed networks keep of the teacher's accuracy."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def cm():
    return load_example('compression')


def test_low_rank_ratio_is_half_the_harmonic_mean_over_k(cm):
    for m1, m2, k in ((256, 256, 16), (64, 256, 8), (100, 30, 3)):
        harmonic = 2 * m1 * m2 / (m1 + m2)
        assert cm.low_rank_ratio(m1, m2, k) == pytest.approx(harmonic / (2 * k), rel=1e-12)
    assert cm.low_rank_ratio(256, 256, 16) == 8.0
    # fewer parameters exactly when k is below half the harmonic mean (64 x 256: 51.2)
    assert cm.low_rank_ratio(64, 256, 51) > 1 > cm.low_rank_ratio(64, 256, 52)


def test_factorize_is_the_best_rank_k_approximation(cm):
    a, nn = cm.autograd, cm.nn
    dev = a.get_default_device()
    a.manual_seed(0)
    layer = nn.Linear(40, 30).to(dev, a.float64)
    pair = cm.factorize(layer, 5)
    # three layers of sizes m1, k, m2: (m1 + m2) k weights and the m2 biases
    assert pair[0].weight.shape == (5, 40) and pair[1].weight.shape == (30, 5)
    assert sum(p.numel() for p in pair.parameters()) == (40 + 30) * 5 + 30
    W = layer.weight.detach().cpu().numpy()
    product = (pair[1].weight @ pair[0].weight).detach().cpu().numpy()
    sigma = numpy.linalg.svd(W, compute_uv=False)
    # Eckart-Young: the error is the root sum of squares of the dropped singular values
    assert numpy.linalg.norm(W - product) == pytest.approx(numpy.sqrt((sigma[5:] ** 2).sum()),
                                                           rel=1e-10)
    x = a.randn(7, 40, dtype=a.float64, device=dev)
    expected = x.cpu().numpy() @ product.T + layer.bias.detach().cpu().numpy()
    numpy.testing.assert_allclose(pair(x).detach().cpu().numpy(), expected, rtol=1e-12, atol=1e-12)
    full = cm.factorize(layer, 30)          # full rank: the same layer
    numpy.testing.assert_allclose(full(x).detach().cpu().numpy(),
                                  layer(x).detach().cpu().numpy(), rtol=1e-10, atol=1e-10)


def test_hashed_book_example_stores_ten_percent(cm):
    dev = cm.autograd.get_default_device()
    layer = cm.HashedLinear(100, 100, 1000, device=dev)
    state = layer.state_dict()
    assert sorted(state) == ['bias', 'weight']          # the hash is computed, not stored
    assert state['weight'].numel() / (100 * 100) == 0.1
    counts = numpy.bincount(layer.index.cpu().numpy().ravel(), minlength=1000)
    assert counts.sum() == 10_000 and counts.mean() == 10   # ten connections per group
    assert (counts > 0).mean() > 0.99 and counts.max() <= 30  # spread over the groups
    again = cm.hash_position(100, 100, 1000, seed=0)
    assert (again == layer.index.cpu().numpy()).all()        # a fixed function of (i, j)


def test_hashed_gradient_sums_the_shared_entries(cm):
    """Sec. 3.2.9: a shared weight's gradient is the sum over the positions that share it."""
    a, nn = cm.autograd, cm.nn
    dev = a.get_default_device()
    a.manual_seed(1)
    layer = cm.HashedLinear(12, 9, 20, seed=3, device=dev).to(dev, a.float64)
    x = a.randn(5, 12, dtype=a.float64, device=dev)
    layer(x).square().sum().backward()
    W = layer.virtual_weight().detach()
    dense = nn.Linear(12, 9).to(dev, a.float64)
    with a.no_grad():
        dense.weight.copy_(W)
        dense.bias.copy_(layer.bias)
    dense(x).square().sum().backward()
    expected = numpy.bincount(layer.index.cpu().numpy().ravel(),
                              weights=dense.weight.grad.cpu().numpy().ravel(), minlength=20)
    numpy.testing.assert_allclose(layer.weight.grad.cpu().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert a.gradcheck(lambda w: nn.functional.linear(x, w[layer.index]), (layer.weight.detach().requires_grad_(),))


def test_pruning_is_global_by_magnitude_and_iterative(cm):
    a = cm.autograd
    dev = a.get_default_device()
    a.manual_seed(2)
    model = cm.mlp([64, 32, 16, 10]).to(dev)
    weights = numpy.concatenate([m.weight.detach().cpu().numpy().ravel()
                                 for m in model if isinstance(m, cm.nn.Linear)])
    cm.prune_to(model, 0.5)
    first = [m.weight_mask.cpu().numpy().copy() for m in model if isinstance(m, cm.nn.Linear)]
    assert cm.sparsity_of(model) == 0.5
    kept = numpy.concatenate([(m.weight_mask * m.weight_orig).detach().cpu().numpy().ravel()
                              for m in model if isinstance(m, cm.nn.Linear)])
    threshold = numpy.sort(numpy.abs(weights))[weights.size // 2]
    assert (numpy.abs(kept[kept != 0]) >= threshold).all()   # the large ones survive
    cm.prune_to(model, 0.9)
    assert cm.sparsity_of(model) == pytest.approx(0.9, abs=1 / weights.size)
    for before, m in zip(first, [m for m in model if isinstance(m, cm.nn.Linear)]):
        assert (m.weight_mask.cpu().numpy()[before == 0] == 0).all()   # pruned stay pruned
    biases = sum(m.bias.numel() for m in model if isinstance(m, cm.nn.Linear))
    assert cm.stored_weights(model) == weights.size - round(0.9 * weights.size) + biases


def test_dense_width_matches_the_parameter_count(cm):
    for n in (4000, 11000, 30000):
        h = cm.dense_width(n)
        assert abs(h * h + 77 * h + 10 - n) <= 2 * h + 78


@pytest.mark.slow
def test_compression_script(tmp_path):
    r = run_example('compression', tmp_path, '--epochs', 12, '--fine-tune', 3,
                    '--sparsity', 0.5, 0.9, 0.97, '--ranks', 2, 16, '--hashed', 0.05)
    teacher = r['teacher: accuracy']
    assert r['teacher: parameters'] == 64 * 256 + 256 * 256 + 256 * 10 + 256 + 256 + 10
    assert teacher > 0.93
    ninety = r['pruned 90%']
    assert ninety['after fine-tuning'] > teacher - 0.03      # a tenth of the weights suffices
    assert r['pruned 97%']['after fine-tuning'] > r['pruned 97%']['before fine-tuning'] + 0.05
    assert ninety['stored'] == round(0.1 * 84480) + 522
    assert r['rank 16']['V fine-tuned'] > teacher - 0.03
    assert r['rank 16']['stored'] == (64 + 256) * 16 + (256 + 256) * 16 + 256 * 10 + 522
    assert r['rank 2']['truncated'] < r['rank 16']['truncated']
    hashed = r['hashed 5%']
    assert hashed['accuracy'] > 0.85
    assert r['student 64-32-10']['mimic (teacher outputs)'] > 0.88
    assert r['low-rank ratio 256 x 256 at k = 16'] == 8.0
    methods = {c[0] for c in r['curve']}
    assert methods == {'teacher 64-256-256-10', 'pruning + fine-tuning', 'low-rank SVD, V fine-tuned',
                       'hashed weights', 'dense, same size', 'mimic student 64-32-10'}
    assert (tmp_path / 'compression.png').stat().st_size > 0

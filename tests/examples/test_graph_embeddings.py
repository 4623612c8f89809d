"""Graph embeddings (sec. 2.7) on Zachary's karate club: the losses are the book's equations,
and all three embeddings recover the club's split without being shown it."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

ge = load_example('graph_embeddings')


@pytest.fixture(scope='module')
def club():
    return ge.karate_club()


def test_the_karate_club_has_34_members_78_friendships_and_two_factions_of_17(club):
    C, faction = club
    assert C.shape == (34, 34)
    assert (C == C.T).all() and (numpy.diag(C) == 0).all()
    assert int((C > 0).sum()) // 2 == 78
    assert numpy.bincount(faction).tolist() == [17, 17]
    assert faction[0] == 0 and faction[33] == 1      # Mr. Hi (member 1), the officer (34)


def test_random_walk_counts_are_symmetric_and_only_reach_window_steps(club):
    import networkx
    C, _ = club
    B = (C > 0).astype(float)
    counts = ge.random_walk_counts(B, walks_per_node=3, length=12, window=2, seed=0)
    assert (counts == counts.T).all()
    # every walk contributes 2 (length - d) pairs for each d = 1..window
    assert counts.sum() == 34 * 3 * 2 * ((12 - 1) + (12 - 2))
    hops = dict(networkx.all_pairs_shortest_path_length(networkx.from_numpy_array(B)))
    far = [(i, j) for i in range(34) for j in range(34) if hops[i][j] > 2]
    assert all(counts[i, j] == 0 for i, j in far)


def _model(n, dim, seed=0):
    autograd.manual_seed(seed)
    return ge.NodeEmbedding(n, dim).double()


def test_logistic_loss_is_the_bernoulli_likelihood_of_eq_2_62():
    model = _model(5, 3)
    B = numpy.random.default_rng(0).integers(0, 2, (5, 5)).astype(numpy.float64)
    U = model.U.weight.detach().cpu().numpy()
    V = model.V.weight.detach().cpu().numpy()
    p = 1 / (1 + numpy.exp(-U @ V.T))
    expected = -(B * numpy.log(p) + (1 - B) * numpy.log(1 - p)).mean()
    got = ge.logistic_loss(model, autograd.tensor(B, dtype=autograd.float64)).item()
    assert got == pytest.approx(expected, rel=1e-10)


def test_multinomial_loss_is_eq_2_60():
    model = _model(6, 2)
    C = numpy.random.default_rng(1).integers(0, 4, (6, 6)).astype(numpy.float64)
    S = model.U.weight.detach().cpu().numpy() @ model.V.weight.detach().cpu().numpy().T
    log_p = S - numpy.log(numpy.exp(S).sum(1, keepdims=True))
    expected = -(C * log_p).sum() / C.sum()
    got = ge.multinomial_loss(model, autograd.tensor(C, dtype=autograd.float64)).item()
    assert got == pytest.approx(expected, rel=1e-10)


def test_two_means_finds_two_obvious_clusters():
    rng = numpy.random.default_rng(0)
    X = numpy.concatenate([rng.normal(size=(10, 2)) + 8, rng.normal(size=(7, 2)) - 8])
    assign = ge.two_means(X)
    assert len(set(assign[:10])) == 1 and len(set(assign[10:])) == 1
    assert assign[0] != assign[10]


def test_an_unknown_method_is_refused(club):
    with pytest.raises(ValueError, match='method'):
        ge.train('spectral', club[0], epochs=1)


@pytest.mark.parametrize('method', ['logistic', 'sgns', 'deepwalk'])
def test_embeddings_separate_the_two_factions(club, method):
    C, faction = club
    B = (C > 0).astype(float)
    untrained, _ = ge.train(method, C, dim=8, epochs=0)
    model, losses = ge.train(method, C, dim=8, epochs=150, lr=0.05)
    assert losses[-1] < 0.85 * losses[0]     # (the multinomial loss has an entropy floor)
    # the friendships are reconstructed: they score above the non-friendships ...
    assert ge.edge_auc(untrained, B) < 0.75
    assert ge.edge_auc(model, B) > 0.95
    # ... and 2-means on the node vectors recovers the split (spectral methods: 97%)
    U = model.U.weight.detach().cpu().numpy().astype(numpy.float64)
    assert ge.faction_agreement(U, faction) >= 0.94


def test_the_script_runs_and_draws_one_panel_per_method(tmp_path):
    result = run_example('graph_embeddings', tmp_path, '--epochs', 100)
    assert set(result) == {'logistic', 'sgns', 'deepwalk', 'plot'}
    assert all(result[m]['agreement'] >= 0.9 for m in ('logistic', 'sgns', 'deepwalk'))
    assert (tmp_path / 'graph_embeddings.png').exists()

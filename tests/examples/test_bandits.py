"""The bandit strategies of sec. 9.2 on the 10-armed testbed: every one far below the
regret of random play, and the upper-bounding method lowest, as the text argues."""
import numpy
import pytest

import autograd
from example_scripts import load_example

bandits = load_example('bandits')


def test_running_statistics_match_numpy_mean_and_std():
    rewards = numpy.random.default_rng(0).normal(size=(6,))
    arms = [0, 1, 0, 0, 1, 2]
    est = bandits.Estimates(1, 3, None)
    for a, r in zip(arms, rewards):
        est.update(autograd.tensor([a]), autograd.tensor([r], dtype=autograd.float32))
    for arm in range(2):
        seen = rewards[[i for i, a in enumerate(arms) if a == arm]]
        assert est.mean[0, arm].item() == pytest.approx(seen.mean(), abs=1e-6)
        assert est.std()[0, arm].item() == pytest.approx(seen.std(ddof=1), abs=1e-6)
    assert est.n[0].tolist() == [3, 2, 1]


def test_regret_ordering_on_the_testbed():
    steps = 600
    runs = {name: bandits.play(choose, steps, runs=400, seed=0)
            for name, choose in bandits.STRATEGIES.items()}
    random_regret = 1.54 * steps   # E[max of 10 N(0,1)] = 1.54: a random arm loses it per play
    for r in runs.values():
        assert r['regret'][-1] < 0.2 * random_regret
        assert r['optimal'][-1] > 0.7
    ucb = runs['upper bound (K = 3)']['regret'][-1]
    assert ucb < 0.7 * min(runs['naive (10 plays per arm)']['regret'][-1],
                           runs['epsilon-greedy (0.1)']['regret'][-1])
    # the naive strategy pays linearly while it explores, then its regret grows slowly
    naive = runs['naive (10 plays per arm)']['regret']
    assert naive[99] > 0.6 * naive[-1]


def test_main_writes_the_regret_plot(tmp_path):
    result = bandits.main(['--epochs', '50', '--runs', '20', '--out', str(tmp_path)])
    assert (tmp_path / 'regret.png').exists()
    assert set(result) == set(bandits.STRATEGIES)

"""Bidirectional multi-layer tagger (sec. 7.2.3-7.2.4): on tags decided by the right-hand
context, the bidirectional network is right everywhere, while the left-to-right one cannot
beat the exact Bayes rate of guessing without that context."""
import numpy
import pytest

from example_scripts import load_example

bt = load_example('bidirectional_tagger')


def test_tags_mark_the_last_occurrence_of_each_symbol():
    x = numpy.array([[3, 1, 3, 2, 1]])
    numpy.testing.assert_array_equal(bt.last_occurrence_tags(x), [[0, 0, 1, 1, 1]])


def test_tags_against_a_brute_force_loop():
    x, tags = bt.make_data(50, length=9, vocab=4, seed=3)
    expected = [[int(x[i, t] not in x[i, t + 1:]) for t in range(9)] for i in range(50)]
    numpy.testing.assert_array_equal(tags, expected)


def test_left_only_bayes_rate_against_simulation():
    # the position-wise majority guess on many sequences scores the computed rate
    x, tags = bt.make_data(20000, length=12, vocab=6, seed=0)
    majority = tags.mean(0) > 0.5
    simulated = (tags == majority).mean()
    assert bt.left_only_bayes_accuracy(12, 6) == pytest.approx(simulated, abs=5e-3)


@pytest.mark.slow
def test_only_the_bidirectional_tagger_reads_the_right_context():
    kw = dict(steps=150, length=12, vocab=6, hidden=24, n_test=500, log=None)
    bayes = bt.left_only_bayes_accuracy(12, 6)                   # 0.740
    bi = bt.train_tagger(True, **kw)
    uni = bt.train_tagger(False, **kw)
    assert bi['accuracy'] > 0.97
    assert bi['per_position'].min() > 0.9
    # no left-to-right tagger beats the Bayes rate (500 x 12 tags: s.d. about 0.006)
    assert bayes - 0.06 < uni['accuracy'] < bayes + 0.02
    assert uni['losses'][-1] < uni['losses'][0]

"""Sequence-to-sequence translation (sec. 7.7.2): targets are built with <BOS>/<EOS> for
teacher forcing; the source is reversed for the encoder; a trained model translates short
held-out sentences exactly, stops at <EOS>, and beam search scores its translation
honestly and never below greedy decoding."""
import numpy
import pytest

import autograd
from example_scripts import load_example

s2s = load_example('seq2seq')


def test_translation_rule_and_teacher_forcing_batch():
    assert s2s.translate([1, 9]) == [4, 12, 16]          # 9 -> two tokens (9, 13), +3
    src, dec_in, dec_out = s2s.make_batch(2, 2, numpy.random.default_rng(0))
    for s, i, o in zip(src, dec_in, dec_out):
        t = s2s.translate(s)
        assert list(i[:len(t) + 1]) == [s2s.BOS] + t     # decoder input: <BOS> y_1 .. y_m
        assert list(o[:len(t) + 1]) == t + [s2s.EOS]     # decoder output: y_1 .. y_m <EOS>
        assert (i[len(t) + 1:] == s2s.PAD).all() and (o[len(t) + 1:] == s2s.PAD).all()


def test_encoder_reads_the_source_reversed():
    autograd.manual_seed(0)
    model = s2s.Seq2Seq(embed=4, hidden=6, reverse_source=True)
    plain = s2s.Seq2Seq(embed=4, hidden=6, reverse_source=False)
    plain.load_state_dict(model.state_dict())
    src = autograd.tensor([[1, 2, 3, 4]])
    with autograd.no_grad():
        a = model.encode(src)
        b = plain.encode(src.flip(1))
    numpy.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy())


@pytest.fixture(scope='module')
def trained():
    model, losses = s2s.train(True, steps=250, batch=32, hidden=48, min_len=3, max_len=4,
                              log=None)
    return model.eval(), losses


@pytest.mark.slow
def test_trained_model_translates_short_sentences(trained):
    model, losses = trained
    assert numpy.mean(losses[-20:]) < 0.25 * losses[0]
    rates, overall = s2s.evaluate(model, n_per_length=50, min_len=3, max_len=3)
    assert rates[3] > 0.85


@pytest.mark.slow
def test_beam_search_scores_honestly_and_beats_or_ties_greedy(trained):
    model, _ = trained
    rng = numpy.random.default_rng(5)
    for _ in range(5):
        src = autograd.tensor(rng.integers(0, s2s.SOURCE_WORDS, (1, 4)))
        (g,), (g_lp,) = s2s.greedy_decode(model, src)
        b, b_lp = s2s.beam_decode(model, src, beam=4)
        assert b_lp >= g_lp - 1e-4
        assert s2s.sequence_logprob(model, src, b) == pytest.approx(b_lp, abs=1e-3)
        assert s2s.sequence_logprob(model, src, g) == pytest.approx(g_lp, abs=1e-3)
        b1, b1_lp = s2s.beam_decode(model, src, beam=1)
        assert b1 == g                               # beam 1 is greedy decoding
        assert s2s.EOS not in b and len(b) <= 20     # <EOS> ends the sentence

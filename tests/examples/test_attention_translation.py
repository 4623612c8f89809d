"""Global attention for translation (sec. 10.2.3): the three scores are the text's
formulas, the attention is a distribution over the real source words, and a small model
learns the synthetic language with an anti-diagonal alignment."""
import numpy
import pytest

import autograd
from example_scripts import load_example

attention = load_example('attention')


@pytest.mark.parametrize('score', ['dot', 'general', 'concat'])
def test_scores_are_the_books_formulas(score):
    autograd.manual_seed(0)
    model = attention.Translator(score, hidden=4).double()
    h_dec = autograd.randn(2, 3, 4, dtype=autograd.float64)
    h_enc = autograd.randn(2, 5, 4, dtype=autograd.float64)
    got = model.scores(h_dec, h_enc).detach().cpu().numpy()
    d, e = h_dec.cpu().numpy(), h_enc.cpu().numpy()
    expected = numpy.zeros((2, 3, 5))
    for b in range(2):
        for t in range(3):
            for s in range(5):
                if score == 'dot':
                    expected[b, t, s] = e[b, s] @ d[b, t]
                elif score == 'general':
                    W = model.W_a.weight.detach().cpu().numpy()
                    expected[b, t, s] = e[b, s] @ W @ d[b, t]
                else:
                    W = model.W_a.weight.detach().cpu().numpy()
                    v = model.v_a.weight.detach().cpu().numpy()[0]
                    expected[b, t, s] = v @ numpy.tanh(W @ numpy.concatenate([e[b, s], d[b, t]]))
    numpy.testing.assert_allclose(got, expected, rtol=1e-10)


def test_attention_is_a_distribution_over_the_unpadded_source():
    src, tgt_in, _ = attention.make_batch(3, numpy.random.default_rng(0), (2, 5))
    model = attention.Translator('general', hidden=8)
    _, a = model(autograd.tensor(src), autograd.tensor(tgt_in))
    a = a.detach().cpu().numpy()
    numpy.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
    assert (a[numpy.broadcast_to((src == attention.PAD)[:, None, :], a.shape)] == 0).all()


def test_translation_is_the_reversed_dictionary():
    src, tgt_in, tgt_out = attention.make_batch(2, numpy.random.default_rng(0), (3, 3))
    assert (tgt_in[:, 0] == attention.BOS).all() and (tgt_out[:, 3] == attention.EOS).all()
    assert (tgt_in[:, 1:] == tgt_out[:, :3]).all()
    # the same source word always becomes the same target word, in mirrored position
    pairs = {(s, t) for row_s, row_t in zip(src, tgt_out) for s, t in zip(row_s, row_t[2::-1])}
    assert len({s for s, _ in pairs}) == len(pairs)


@pytest.mark.slow
def test_dot_attention_learns_the_language_and_aligns_anti_diagonally():
    lengths = (3, 5)
    model = attention.train('dot', steps=150, batch=32, hidden=32, lengths=lengths, log=None)
    word, sentence, align = attention.evaluate(model, n=200, lengths=lengths)
    assert word > 0.85
    assert align > 0.7       # chance: 1 / 4 source positions

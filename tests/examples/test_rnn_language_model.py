"""RNN language models (sec. 7.2): the book's toy sentence with its dimensions is learned
exactly; character-level RNN/LSTM/GRU beat the unigram model on held-out text; truncated
BPTT cuts the graph between segments; beam search finds continuations at least as likely
as greedy decoding, which is what sampling becomes as the temperature goes to 0."""
import numpy
import pytest

import autograd
from example_scripts import load_example

lm = load_example('rnn_language_model')


def test_toy_model_has_the_books_dimensions():
    model = lm.ToyRNN()
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    # W_xh is p x d = 2 x 4, W_hh 2 x 2, W_hy d x p = 4 x 2, no biases
    assert shapes == {'rnn.weight_ih_l0': (2, 4), 'rnn.weight_hh_l0': (2, 2),
                      'out.weight': (4, 2)}


def test_toy_sentence_needs_and_uses_the_recurrence():
    result = lm.toy_sentence(steps=300)
    # "the" is followed by "cat" once and "mouse" once: without memory at most 3 of 4
    assert result['correct'] == 4
    assert result['first_loss'] > 1.0 and result['last_loss'] < 0.05
    # each next word gets most of the probability mass
    assert (result['probs'][[0, 1, 2, 3], [1, 2, 0, 3]] > 0.9).all()


def test_streams_cut_the_text_into_parallel_contiguous_rows():
    data = lm.streams(numpy.arange(10), 3)
    numpy.testing.assert_array_equal(data, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])


def test_unigram_perplexity_of_uniform_text_is_the_alphabet_size():
    ids = numpy.tile(numpy.arange(5), 20)
    assert lm.unigram_perplexity(ids, ids, 5) == pytest.approx(5.0)


@pytest.mark.parametrize('cell', ['rnn', 'lstm', 'gru'])
def test_truncated_bptt_carries_the_state_but_not_its_graph(cell):
    model = lm.CharLM(7, cell, embed=4, hidden=5)
    x = autograd.randint(0, 7, (2, 6))
    _, state = model(x[:, :3])
    carried = lm.detach_state(state)
    for s in (carried if isinstance(carried, tuple) else (carried,)):
        assert s.grad_fn is None and not s.requires_grad
    # the carried state continues the sequence exactly: two segments = one pass
    whole, _ = model(x)
    second, _ = model(x[:, 3:], carried)
    numpy.testing.assert_allclose(second.detach().cpu().numpy(),
                                  whole[:, 3:].detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope='module')
def trained():
    results, vocab, unigram = lm.char_models(40000, cells=('rnn', 'lstm', 'gru'), steps=50,
                                             hidden=48, embed=16, batch=16, bptt=32,
                                             lr=1e-2, eval_every=50, log=None)
    return results, vocab, unigram


@pytest.mark.slow
def test_every_cell_beats_the_unigram_model_on_held_out_text(trained):
    results, _, unigram = trained
    assert unigram > 30     # ~90 symbols: letters, digits, punctuation
    for cell, r in results.items():
        assert r['curve'][-1][1] < 0.8 * unigram, cell
        assert numpy.mean(r['losses'][-10:]) < r['losses'][0] - 1.0, cell


@pytest.mark.slow
def test_beam_search_is_at_least_as_likely_as_greedy_and_scores_honestly(trained):
    results, vocab, _ = trained
    model = results['gru']['model'].eval()
    prime = 'Return the '
    greedy_text, greedy_logp = lm.greedy(model, vocab, prime, 15)
    beam1_text, beam1_logp = lm.beam_search(model, vocab, prime, 15, beam=1)
    beam_text, beam_logp = lm.beam_search(model, vocab, prime, 15, beam=5)
    assert beam1_text == greedy_text
    assert beam1_logp == pytest.approx(greedy_logp, abs=1e-3)
    assert beam_logp >= greedy_logp - 1e-4
    # the reported score is the model's log-probability of the returned text
    assert lm.sequence_logprob(model, vocab, prime, beam_text[len(prime):]) == \
        pytest.approx(beam_logp, abs=1e-3)


@pytest.mark.slow
def test_sampling_temperature(trained):
    results, vocab, _ = trained
    model = results['gru']['model'].eval()
    prime = 'Return the '
    g = autograd.Generator().manual_seed(0)
    # T -> 0 puts all the mass on the most likely character: greedy decoding
    cold = lm.sample(model, vocab, prime, 15, temperature=1e-4, generator=g)
    assert cold == lm.greedy(model, vocab, prime, 15)[0]
    # a hotter sample is less likely under the model than a colder one (averaged)
    def mean_logp(t):
        texts = [lm.sample(model, vocab, prime, 15, t, g) for _ in range(6)]
        return numpy.mean([lm.sequence_logprob(model, vocab, prime, s[len(prime):])
                           for s in texts])
    assert mean_logp(0.5) > mean_logp(1.5)


def test_gradient_clipping_bounds_every_step():
    ids = numpy.random.default_rng(0).integers(0, 6, 2000)
    r = lm.train_char_model('rnn', ids[:1800], ids[1800:], 6, steps=5, batch=4, bptt=8,
                            hidden=8, embed=4, clip=1e-6, eval_every=5, log=None)
    assert r['clipped'] == 1.0       # every gradient is above 1e-6: every step clipped

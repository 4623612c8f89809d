"""The CNN + RNN captioner of sec. 7.7.1: the image vector enters the RNN at the first step
only, where h_1 = tanh(W_xh x_1 + W_ih v) (checked against the equation with the module's
own weights); greedy decoding stops at <END>; trained jointly, the captions beat the best
image-blind model (hand-derived: loss (3 ln 2 + 2 ln 3) / 9, per-word accuracy
(4 + 3/2 + 2/3) / 9), with the book's tanh RNN and with the LSTM decoder; beam search with
b = 1 is greedy decoding exactly, and with b = 3 it finds on every test image a caption at
least as likely (log P(caption | image) measured independently, by teacher forcing)."""
import math

import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

cap = load_example('captioner')


def test_captions_describe_the_images():
    images, captions, tokens = cap.make_data(30, seed=1)
    assert images.shape == (30, 3, cap.SIZE, cap.SIZE) and tokens.shape == (30, 9)
    for image, words, row in zip(images, captions, tokens):
        assert cap.words(row) == words and cap.VOCAB[row[-1]] == '<END>'
        colour = numpy.array(cap.COLOURS[words[2]])
        hits = numpy.argwhere(numpy.all(numpy.abs(image - colour[:, None, None]) < 1e-6, 0))
        (r0, c0), (r1, c1) = hits.min(0), hits.max(0)
        half = cap.SIZE // 2
        assert (r1 < half) == (words[6] == 'top') and (r0 >= half) == (words[6] == 'bottom')
        assert (c1 < half) == (words[7] == 'left') and (c0 >= half) == (words[7] == 'right')
        assert max(r1 - r0, c1 - c0) + 1 == cap.SIZES[words[1]]


@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_image_enters_at_the_first_step_only(cell):
    autograd.manual_seed(0)
    model = cap.Captioner(cell=cell).eval()
    images = autograd.tensor(cap.make_data(4)[0])
    tokens = autograd.tensor(cap.teacher_inputs(cap.make_data(4)[2]))
    with autograd.no_grad():
        v = model.cnn(images)
        inputs = model.rnn_inputs(v, tokens)
        q = v.shape[1]
        assert autograd.equal(inputs[:, 0, -q:], v)
        assert inputs[:, 1:, -q:].abs().sum().item() == 0
        if cell == 'lstm':
            # the image changes the LSTM's first state only through its first input
            h, _ = model.rnn(inputs)
            h_blind, _ = model.rnn(autograd.cat([inputs[:, :1, :-q] * 1, inputs[:, :1, -q:] * 0],
                                                2))
            assert not autograd.allclose(h[:, 0], h_blind[:, 0])
            return
        # h_1 = tanh(W_xh x_1 + W_ih v) (+ the RNN's two biases), by the book's equation
        h, _ = model.rnn(inputs)
        W, b = model.rnn.weight_ih_l0, model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
        E = model.embedding.embedding_dim
        x1 = model.embedding(tokens[:, 0])
        h1 = autograd.tanh(x1 @ W[:, :E].T + v @ W[:, E:].T + b)
        numpy.testing.assert_allclose(h[:, 0].cpu().numpy(), h1.cpu().numpy(), atol=1e-5)


def test_greedy_decoding_pads_after_end():
    model = cap.Captioner().eval()
    out = model.greedy(autograd.tensor(cap.make_data(5)[0]))
    assert tuple(out.shape) == (5, cap.CAPTION_LENGTH)
    end = cap.INDEX['<END>']
    for row in out.cpu().tolist():
        if end in row:
            assert all(t == end for t in row[row.index(end):])


def _assert_step_is_teacher_forced(model, images, inputs):
    """step() fed the true tokens one at a time gives forward()'s log-probabilities."""
    with autograd.no_grad():
        whole = model(images, inputs).log_softmax(-1)
        v, state = model.annotations(images), None
        for j in range(inputs.shape[1]):
            logp, state = model.step(inputs[:, j:j + 1], v, state)
            numpy.testing.assert_allclose(logp.cpu().numpy(), whole[:, j].cpu().numpy(),
                                          atol=1e-5)


@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_decoder_step_is_the_teacher_forced_network(cell):
    autograd.manual_seed(1)
    model = cap.Captioner(cell=cell).eval()
    X, _, t = cap.make_data(3, seed=2)
    _assert_step_is_teacher_forced(model, autograd.tensor(X),
                                   autograd.tensor(cap.teacher_inputs(t)))


def _logprob_by_hand(model, image, caption):
    """log P(caption | image), one token at a time through step(), up to the first <END>."""
    with autograd.no_grad():
        v, state = model.annotations(image), None
        token, total = cap.INDEX['<START>'], 0.0
        for t in caption:
            logp, state = model.step(autograd.tensor([[token]]), v, state)
            total += logp[0, t].item()
            if t == cap.INDEX['<END>']:
                break
            token = t
    return total


@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_beam_of_one_is_greedy_decoding_exactly(cell):
    autograd.manual_seed(3)
    model = cap.Captioner(cell=cell).eval()
    images = autograd.tensor(cap.make_data(12, seed=4)[0])
    _assert_beam_of_one_is_greedy(model, images)


def _assert_beam_of_one_is_greedy(model, images):
    """A beam of one decodes each image as greedy decoding does, with the log-probability
    summed by hand and the one caption_logprob gives."""
    greedy = model.greedy(images).cpu().tolist()
    end = cap.INDEX['<END>']
    for i, row in enumerate(greedy):
        tokens, logp = model.beam_search(images[i:i + 1], beam=1)
        assert tokens + [end] * (cap.CAPTION_LENGTH - len(tokens)) == row
        assert logp == pytest.approx(_logprob_by_hand(model, images[i:i + 1], tokens), abs=1e-4)
        assert logp == pytest.approx(cap.caption_logprob(
            model, images[i:i + 1], autograd.tensor([row])).item(), abs=1e-4)


def _assert_beam_beats_greedy(model, images, tokens, beam=3):
    d = cap.compare_decoders(model, images, tokens, beam)
    assert numpy.all(d['beam_logp'] >= d['greedy_logp'] - 1e-6)
    return d


@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_beam_is_at_least_as_likely_as_greedy_untrained(cell):
    autograd.manual_seed(5)
    model = cap.Captioner(cell=cell).eval()
    X, _, t = cap.make_data(16, seed=6)
    _assert_beam_beats_greedy(model, autograd.tensor(X), t)


@pytest.mark.slow
def test_joint_training_beats_the_image_blind_captioner():
    blind_loss = (3 * math.log(2) + 2 * math.log(3)) / 9          # ~0.475
    blind_words = (4 + 3 / 2 + 2 / 3) / 9                          # ~0.685
    model, history, (X_te, _, t_te) = cap.train(epochs=4, n_train=800, n_test=200, log=None)
    exact, per_word, loss = history[-1]
    assert loss < blind_loss - 0.15
    assert per_word > blind_words + 0.08
    # beam search (b = 3) finds a caption at least as likely as greedy on every test image
    _assert_beam_beats_greedy(model, X_te[:100], t_te[:100].cpu().numpy())


@pytest.mark.slow
def test_the_lstm_captioner_learns_too():
    blind_loss = (3 * math.log(2) + 2 * math.log(3)) / 9
    blind_words = (4 + 3 / 2 + 2 / 3) / 9
    model, history, (X_te, _, t_te) = cap.train(epochs=3, n_train=800, n_test=100, log=None,
                                                cell='lstm')
    exact, per_word, loss = history[-1]
    assert loss < blind_loss - 0.1 and per_word > blind_words + 0.05
    _assert_beam_beats_greedy(model, X_te, t_te.cpu().numpy())


@pytest.mark.slow
def test_the_script_runs_and_draws_captions(tmp_path):
    r = run_example('captioner', tmp_path, '--epochs', 1, '--n-train', 96, '--n-test', 64,
                    '--cell', 'lstm', '--beam', 2)
    assert 0.0 <= r['exact'] <= r['per_word'] <= 1.0 and len(r['history']) == 1
    assert r['cell'] == 'lstm' and r['beam_at_least_greedy'] == 1.0
    assert (tmp_path / 'captions.png').stat().st_size > 0


# --- soft attention (sec. 10.2.1.1) ------------------------------------------------------

@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_attention_weights_are_a_distribution_over_the_feature_map(cell):
    autograd.manual_seed(7)
    model = cap.Captioner(cell=cell, attention=True).eval()
    X, _, t = cap.make_data(5, seed=8)
    images = autograd.tensor(X)
    with autograd.no_grad():
        feature_map = model.cnn(images)                               # (B, D, H', W')
        logits, alpha = model.attention_forward(images, autograd.tensor(cap.teacher_inputs(t)))
    assert tuple(alpha.shape) == (5, cap.CAPTION_LENGTH, *feature_map.shape[2:])
    assert tuple(logits.shape) == (5, cap.CAPTION_LENGTH, len(cap.VOCAB))
    a = alpha.cpu().numpy()
    assert (a >= 0).all()
    numpy.testing.assert_allclose(a.sum((2, 3)), 1.0, atol=1e-5)
    # the context is the alpha-weighted sum of the L annotation vectors, by hand
    annotations = model.annotations(images)                           # (B, L, D)
    with autograd.no_grad():
        z, alpha0 = model.attend(annotations, None)
    numpy.testing.assert_allclose(alpha0.cpu().numpy(), a[:, 0].reshape(5, -1), atol=1e-6)
    by_hand = numpy.einsum('bl,bld->bd', alpha0.cpu().numpy(), annotations.detach().cpu().numpy())
    numpy.testing.assert_allclose(z.cpu().numpy(), by_hand, atol=1e-5)
    # upsampling over the pixels keeps each map's total
    numpy.testing.assert_allclose(cap.upsample(a).sum((2, 3)), 1.0, atol=1e-5)


@pytest.mark.parametrize('cell', ['rnn', 'lstm'])
def test_attention_decoding_is_the_teacher_forced_network(cell):
    """step() (greedy and beam search use it) gives forward()'s log-probabilities; a beam of
    one is greedy decoding; a beam of three is at least as likely as greedy."""
    autograd.manual_seed(9)
    model = cap.Captioner(cell=cell, attention=True).eval()
    X, _, t = cap.make_data(6, seed=10)
    images = autograd.tensor(X)
    _assert_step_is_teacher_forced(model, images, autograd.tensor(cap.teacher_inputs(t)))
    _assert_beam_of_one_is_greedy(model, images)
    _assert_beam_beats_greedy(model, images, t)


def test_the_attention_captioner_learns_and_looks_at_the_object():
    blind_words = (4 + 3 / 2 + 2 / 3) / 9
    model, history, (X_te, captions, t_te) = cap.train(epochs=3, n_train=800, n_test=200,
                                                       log=None, attention=True)
    exact, per_word, loss = history[-1]
    assert per_word > blind_words + 0.15
    m = cap.attention_on_object(model, X_te, captions, t_te.cpu().numpy())
    assert m['content_mass'] > 2 * m['share']
    for word in ('colour', 'size'):
        assert m['mass'][word] > 2 * m['share']


def test_the_script_runs_with_attention_and_draws_the_maps(tmp_path):
    r = run_example('captioner', tmp_path, '--epochs', 1, '--n-train', 96, '--n-test', 32,
                    '--beam', 2, '--attention')
    assert r['attention'] and r['beam_at_least_greedy'] == 1.0
    assert 0.0 <= r['baseline_exact'] <= r['baseline_per_word'] <= 1.0
    assert set(r['attention_mass']) == set(cap.CONTENT.values())
    assert 0.0 < r['area_share'] < 1.0
    assert (tmp_path / 'attention.png').stat().st_size > 0
    assert (tmp_path / 'captions.png').stat().st_size > 0

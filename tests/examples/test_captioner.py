"""The CNN + RNN captioner of sec. 7.7.1: the image vector enters the RNN at the first step
only, where h_1 = tanh(W_xh x_1 + W_ih v) (checked against the equation with the module's
own weights); greedy decoding stops at <END>; trained jointly, the captions beat the best
image-blind model (hand-derived: loss (3 ln 2 + 2 ln 3) / 9, per-word accuracy
(4 + 3/2 + 2/3) / 9)."""
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


def test_image_enters_at_the_first_step_only():
    autograd.manual_seed(0)
    model = cap.Captioner().eval()
    images = autograd.tensor(cap.make_data(4)[0])
    tokens = autograd.tensor(cap.teacher_inputs(cap.make_data(4)[2]))
    with autograd.no_grad():
        v = model.cnn(images)
        inputs = model.rnn_inputs(v, tokens)
        q = v.shape[1]
        assert autograd.equal(inputs[:, 0, -q:], v)
        assert inputs[:, 1:, -q:].abs().sum().item() == 0
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


@pytest.mark.slow
def test_joint_training_beats_the_image_blind_captioner():
    blind_loss = (3 * math.log(2) + 2 * math.log(3)) / 9          # ~0.475
    blind_words = (4 + 3 / 2 + 2 / 3) / 9                          # ~0.685
    _, history, _ = cap.train(epochs=4, n_train=800, n_test=200, log=None)
    exact, per_word, loss = history[-1]
    assert loss < blind_loss - 0.15
    assert per_word > blind_words + 0.08


@pytest.mark.slow
def test_the_script_runs_and_draws_captions(tmp_path):
    r = run_example('captioner', tmp_path, '--epochs', 1, '--n-train', 96)
    assert 0.0 <= r['exact'] <= r['per_word'] <= 1.0 and len(r['history']) == 1
    assert (tmp_path / 'captions.png').stat().st_size > 0

"""The text CNN of sec. 8.6.4: its max-over-time features equal PyTorch's (embedding ->
Conv1d -> ReLU -> max over the sentence) with the same weights; one vector per sentence
whatever its length; embeddings shrink the first layer by orders of magnitude against
one-hot inputs; and it learns which standard-library package a docstring came from."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

tc = load_example('text_cnn')


def test_features_match_pytorch_with_the_same_weights():
    torch = pytest.importorskip('torch')
    autograd.manual_seed(0)
    model = tc.TextCNN(50, 4, embed=6, maps=5, windows=(2, 3)).eval()
    tokens = numpy.random.default_rng(0).integers(0, 50, size=(3, 9))
    tokens[1, 5:] = 0                                              # a padded sentence
    with autograd.no_grad():
        ours = model.features(autograd.tensor(tokens)).cpu().numpy()
    weights = {k: torch.tensor(v.detach().cpu().numpy()) for k, v in model.state_dict().items()}
    e = torch.nn.functional.embedding(torch.tensor(tokens), weights['embedding.weight'])
    e = e.transpose(1, 2)
    theirs = torch.cat([torch.relu(torch.nn.functional.conv1d(
        e, weights[f'convs.{i}.weight'], weights[f'convs.{i}.bias'])).amax(2)
        for i in range(2)], 1).numpy()
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('length', [5, 40])
def test_one_vector_per_sentence_whatever_its_length(length):
    model = tc.TextCNN(30, 4, embed=8, maps=7, windows=(3, 4, 5)).eval()
    with autograd.no_grad():
        out = model.features(autograd.randint(0, 30, (2, length)))
    assert tuple(out.shape) == (2, 7 * 3)


def test_padding_embeds_to_zero_and_gets_no_gradient():
    model = tc.TextCNN(30, 4, embed=8, maps=7)
    tokens = autograd.tensor([[3, 4, 5, 6, 7, 0, 0]])
    model(tokens).sum().backward()
    assert model.embedding.weight[0].abs().sum().item() == 0
    assert model.embedding.weight.grad[0].abs().sum().item() == 0


def test_embeddings_shrink_the_first_layer():
    # lexicon 10,000, windows 3-5, 100 maps: one-hot 10,000 x 12 x 100 weights;
    # 300-d embeddings: 300 x 12 x 100 plus the 10,000 x 300 table
    one_hot, embedded = tc.first_layer_parameters(10000, 300, 100, (3, 4, 5))
    assert one_hot == 12000000 and embedded == 360000 + 3000000
    assert one_hot / embedded > 3


def test_encode_pads_with_zero_and_marks_unknown_words():
    vocab = tc._text.Vocabulary([['read', 'write', 'read']], min_count=1)
    out = tc.encode([['read', 'socket', 'write'], ['write']], vocab, 4)
    numpy.testing.assert_array_equal(out, [[2, 1, 3, 0], [3, 0, 0, 0]])


def test_the_text_cnn_learns_which_package_a_docstring_is_from():
    r = tc.train(epochs=3, per_class=300, n_test_per_class=60, log=None)
    assert r['n_test'] == 240 and r['n_train'] == 4 * 300 - 240
    assert r['cnn'][-1] > 0.55                      # chance is 0.25
    assert r['cnn'][-1] > r['cnn'][0]


def test_the_script_runs_and_draws_its_curves(tmp_path):
    r = run_example('text_cnn', tmp_path, '--epochs', 1, '--per-class', 120)
    assert len(r['cnn']) == len(r['bag_of_words']) == 1
    assert (tmp_path / 'accuracy.png').stat().st_size > 0

"""Hierarchical softmax (sec. 2.3.4): an exact distribution over the leaves, log2(k) decisions
per example, Huffman paths of the textbook lengths, and a word model as good as the full
softmax's."""
import math

import numpy
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from example_scripts import load_example, run_example

hs = load_example('hierarchical_softmax')
f64 = autograd.float64


def np_(t):
    """A tensor's values as a NumPy array, from either device."""
    return t.detach().cpu().numpy()


def _random_head(tree, dim, seed=0):
    head = hs.HierarchicalSoftmax(tree, dim).double()
    with autograd.no_grad():
        autograd.manual_seed(seed)
        head.nodes.weight.copy_(autograd.randn(head.nodes.weight.shape, dtype=f64))
    return head


@settings(max_examples=15, deadline=None, derandomize=True)
@given(k=st.integers(2, 40), dim=st.integers(1, 6), huffman=st.booleans())
def test_the_leaves_probabilities_sum_to_one(k, dim, huffman):
    counts = numpy.random.default_rng(k).integers(1, 100, size=k)
    tree = hs.huffman_tree(counts) if huffman else hs.balanced_tree(k)
    head = _random_head(tree, dim, seed=k)
    h = 2 * autograd.randn(5, dim, dtype=f64)
    p = head.log_prob(h).exp()
    assert p.shape == (5, k)
    numpy.testing.assert_allclose(np_(p.sum(1)), 1.0, rtol=1e-12)
    # the path-only evaluation (what training uses) agrees with the all-leaves one
    target = autograd.tensor(numpy.arange(5) % k)
    numpy.testing.assert_allclose(np_(head.log_prob(h, target)),
                                  np_(p.log())[numpy.arange(5), numpy.arange(5) % k],
                                  rtol=1e-12)


def test_four_classes_on_a_balanced_tree_by_hand():
    # root w0 splits {0, 1} (left) from {2, 3}; w1 splits 0 | 1, w2 splits 2 | 3
    head = _random_head(hs.balanced_tree(4), 3)
    h = autograd.tensor([[0.3, -1.2, 0.8]], dtype=f64)
    w = np_(head.nodes.weight)
    s = [1 / (1 + math.exp(-float(np_(h)[0] @ w[n]))) for n in range(3)]
    expected = [s[0] * s[1], s[0] * (1 - s[1]), (1 - s[0]) * s[2], (1 - s[0]) * (1 - s[2])]
    numpy.testing.assert_allclose(np_(head.log_prob(h).exp())[0], expected, rtol=1e-12)


def test_two_classes_equal_a_full_softmax_with_the_difference_of_its_weights():
    # softmax over logits (h.u0, h.u1) = sigmoid(h.(u0 - u1)): the one-node tree is exact
    autograd.manual_seed(0)
    U = autograd.randn(2, 4, dtype=f64)
    h = autograd.randn(6, 4, dtype=f64)
    head = hs.HierarchicalSoftmax(hs.balanced_tree(2), 4).double()
    with autograd.no_grad():
        head.nodes.weight.copy_((U[0] - U[1]).unsqueeze(0))
    full = nn.functional.log_softmax(h @ U.T, dim=1)
    numpy.testing.assert_allclose(np_(head.log_prob(h)), np_(full), rtol=1e-12)


def test_huffman_paths_have_the_textbook_code_lengths():
    # the classic example (Cormen et al. sec. 16.3): frequencies 45 13 12 16 9 5 (thousands)
    tree = hs.huffman_tree([45, 13, 12, 16, 9, 5])
    assert tree.lengths.tolist() == [1, 3, 3, 3, 4, 4]
    assert hs.expected_path_length(tree, [45, 13, 12, 16, 9, 5]) == pytest.approx(2.24)


def test_huffman_expected_path_lies_between_the_entropy_and_one_more_bit():
    counts = numpy.random.default_rng(0).zipf(1.3, size=500).clip(max=10 ** 6)
    tree = hs.huffman_tree(counts)
    H = hs.entropy_bits(counts)
    assert H <= hs.expected_path_length(tree, counts) < H + 1
    assert hs.expected_path_length(tree, counts) < math.log2(500)   # beats the balanced tree


@pytest.mark.parametrize('k', [2, 3, 5, 8, 33, 100, 1000])
def test_a_balanced_tree_decides_in_ceil_log2_k_steps(k):
    tree = hs.balanced_tree(k)
    assert tree.lengths.max() == math.ceil(math.log2(k))
    assert tree.lengths.min() >= math.floor(math.log2(k))
    assert sorted(set(tree.paths[tree.signs != 0].tolist())) == list(range(k - 1))


def test_an_example_touches_only_the_nodes_on_its_path():
    k, dim = 1000, 8
    head = _random_head(hs.balanced_tree(k), dim)
    h = autograd.randn(1, dim, dtype=f64)
    head(h, autograd.tensor([417])).backward()
    touched = (head.nodes.weight.grad.abs().sum(1) > 0).sum().item()
    assert touched == hs.balanced_tree(k).lengths[417] == 10      # of the 999 nodes


def test_untrained_loss_is_path_length_times_ln_two():
    tree = hs.huffman_tree([45, 13, 12, 16, 9, 5])
    head = hs.HierarchicalSoftmax(tree, 3)
    target = autograd.tensor([0, 4, 5, 1])
    loss = head(autograd.randn(4, 3), target)
    assert loss.item() == pytest.approx((1 + 4 + 4 + 3) / 4 * math.log(2.0), rel=1e-6)
    assert head.initial_loss([0, 4, 5, 1]) == pytest.approx(loss.item(), rel=1e-6)


def test_loss_gradients_pass_gradcheck_and_gradgradcheck():
    head = _random_head(hs.huffman_tree([5, 1, 1, 2, 8, 3]), 3)
    target = autograd.tensor([0, 4, 2, 5])
    W = head.nodes.weight.detach().clone().requires_grad_()
    h = autograd.randn(4, 3, dtype=f64).requires_grad_()

    def loss(h, W):
        scores = (W[head.paths[target]] @ h.unsqueeze(-1)).squeeze(-1)
        signs = head.signs[target]
        return -(nn.functional.logsigmoid(signs * scores) * (signs != 0)).sum(-1)

    with autograd.no_grad():
        head.nodes.weight.copy_(W)
    assert autograd.gradcheck(loss, (h, W))
    assert autograd.gradgradcheck(loss, (h, W))
    # and the module computes that very function
    numpy.testing.assert_allclose(head(h, target).item(), loss(h, W).mean().item(), rtol=1e-12)


def test_tree_and_full_softmax_learn_word_models_of_the_same_quality(tmp_path):
    result = run_example('hierarchical_softmax', tmp_path, '--epochs', 3, '--max-words', 30000,
                         '--dim', 16, '--lr', 0.05, '--batch-size', 256, '--ks', '64,4096')
    full, tree = result['results']['softmax'], result['results']['huffman']
    for r in (full, tree):
        assert r['first_loss'] == pytest.approx(r['initial_loss'], rel=0.1)
        assert r['last_loss'] < r['first_loss'] - 0.5
        assert r['held_out_nll'] < r['unigram_nll'] - 0.2   # better than word frequencies
    assert tree['held_out_nll'] == pytest.approx(full['held_out_nll'], rel=0.05)
    assert result['entropy_bits'] <= result['expected_path'] < result['entropy_bits'] + 1
    assert result['times']['k'] == [64, 4096]
    assert (tmp_path / 'hierarchical_softmax.png').exists()

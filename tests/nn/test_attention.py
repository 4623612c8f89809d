"""Attention against PyTorch: scaled_dot_product_attention (masks, causal, scale, grouped
heads) to second order, MultiheadAttention with PyTorch's weights, and errors."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


Q, K, V = rand(2, 3, 4, 5), rand(2, 3, 6, 5, seed=1), rand(2, 3, 6, 7, seed=2)
MASK = np.random.default_rng(0).random((4, 6)) > 0.3


def sdpa(**kw):
    def run(lib, q, k, v, mask=None):
        return fn(lib).scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)
    return run


def test_sdpa_matches_torch_to_second_order():
    check_op(sdpa(), Q, K, V)
    check_op(sdpa(scale=0.3), Q, K, V)
    check_op(sdpa(), Q.astype('float32'), K.astype('float32'), V.astype('float32'))


def test_sdpa_causal():
    check_op(sdpa(is_causal=True), rand(2, 3, 6, 5, seed=5), K, V)
    check_op(sdpa(is_causal=True), Q, K, V)          # L != S: the top-left triangle


def test_sdpa_bool_and_float_masks():
    check_op(sdpa(), Q, K, V, MASK)
    check_op(sdpa(), Q, K, V, rand(4, 6, seed=8))
    check_op(sdpa(), Q, K, V, rand(3, 4, 6, seed=8))     # broadcast over the batch


def test_sdpa_query_that_may_attend_to_nothing_gets_zeros():
    mask = MASK.copy()
    mask[1] = False
    check_op(sdpa(), Q, K, V, mask, double=False)


def test_sdpa_grouped_query_heads():
    check_op(sdpa(enable_gqa=True), rand(2, 4, 3, 5), rand(2, 2, 6, 5, seed=1),
             rand(2, 2, 6, 5, seed=2), double=False)   # PyTorch's kernel has no 2nd order here


def test_sdpa_dropout_keeps_the_expectation():
    autograd.manual_seed(0)
    q = autograd.zeros(1, 1, 2000, 4)                  # uniform weights 1/S
    v = autograd.ones(1, 1, 8, 3)
    out = F.scaled_dot_product_attention(q, autograd.zeros(1, 1, 8, 4), v, dropout_p=0.5)
    assert abs(out.mean().item() - 1.0) < 0.05
    assert (to_numpy(out) != 1.0).any()


def test_sdpa_errors():
    check_raises(lambda lib, q, k, v, m: fn(lib).scaled_dot_product_attention(
        q, k, v, attn_mask=m, is_causal=True), Q, K, V, MASK, match='is_causal')
    check_raises(lambda lib, q, k, v: fn(lib).scaled_dot_product_attention(q, k, v[..., :3, :]),
                 Q, K, V)
    check_raises(lambda lib, q, k, v: fn(lib).scaled_dot_product_attention(q, k[..., :3], v),
                 Q, K, V)


# ----------------------------------------------------------------------------- MultiheadAttention

X = rand(4, 2, 6)          # (L, N, E)


def test_self_attention_matches_torch():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2), X, X, X)


def test_batch_first_cross_attention():
    check_layer(lambda nn: nn.MultiheadAttention(6, 3, batch_first=True), rand(2, 4, 6),
                rand(2, 5, 6, seed=1), rand(2, 5, 6, seed=2))


def test_different_key_and_value_sizes():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2, kdim=3, vdim=5), X, rand(5, 2, 3),
                rand(5, 2, 5))


def test_bias_kv_zero_attn_and_no_bias():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2, add_bias_kv=True, add_zero_attn=True),
                X, X, X)
    check_layer(lambda nn: nn.MultiheadAttention(6, 2, bias=False), X, X, X,
                call=lambda layer, q, k, v: layer(q, k, v, average_attn_weights=False))


KPM = np.zeros((2, 4), bool)
KPM[0, 1] = True
CAUSAL = np.triu(np.ones((4, 4), bool), 1)


@pytest.mark.parametrize('need_weights', [True, False])
def test_padding_and_attention_masks(need_weights):
    check_layer(lambda nn: nn.MultiheadAttention(6, 2, add_bias_kv=True), X, X, X, KPM, CAUSAL,
                call=lambda layer, q, k, v, kpm, am: layer(
                    q, k, v, key_padding_mask=kpm, attn_mask=am, need_weights=need_weights))


def test_float_masks_and_per_head_mask():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2), X, X, X, rand(2, 4, seed=3),
                rand(4, 4, 4, seed=4),
                call=lambda layer, q, k, v, kpm, am: layer(q, k, v, key_padding_mask=kpm,
                                                           attn_mask=am))


def test_causal_hint_with_its_mask():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2), X, X, X, CAUSAL,
                call=lambda layer, q, k, v, am: layer(q, k, v, attn_mask=am, is_causal=True))


def test_unbatched_input():
    check_layer(lambda nn: nn.MultiheadAttention(6, 2), rand(4, 6), rand(4, 6, seed=3),
                rand(4, 6, seed=4))


def test_mha_state_dict_matches_torch():
    for kw in (dict(), dict(kdim=3, vdim=5, bias=False), dict(add_bias_kv=True)):
        ours = [(k, tuple(v.shape)) for k, v in nn.MultiheadAttention(6, 2, **kw)
                .state_dict().items()]
        theirs = [(k, tuple(v.shape)) for k, v in torch.nn.MultiheadAttention(6, 2, **kw)
                  .state_dict().items()]
        assert ours == theirs


def test_mha_init():
    layer = nn.MultiheadAttention(8, 2)
    bound = np.sqrt(6 / (8 + 24))                     # xavier_uniform on (3E, E)
    w = to_numpy(layer.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not to_numpy(layer.in_proj_bias).any()
    assert not to_numpy(layer.out_proj.bias).any()


def test_mha_errors():
    with pytest.raises(AssertionError, match='embed_dim must be divisible by num_heads'):
        nn.MultiheadAttention(5, 2)
    layer = nn.MultiheadAttention(4, 2)
    x = autograd.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match=r'2D attn_mask .* should be \(3, 3\)'):
        layer(x, x, x, attn_mask=autograd.zeros(2, 2))
    with pytest.raises(RuntimeError, match='Need attn_mask if specifying the is_causal hint'):
        layer(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match='does not match value shape'):
        layer(x, x, x[:, :, :3])
    with pytest.raises(AssertionError, match='expected `key` and `value` to be 3-D'):
        layer(x, x, autograd.randn(3, 4))

"""Attention (PyTorch's ``F.scaled_dot_product_attention`` and
``F.multi_head_attention_forward``), composed from matmul, softmax and dropout.

    Attention(Q, K, V) = softmax(Q K^T * scale + bias) V       (Vaswani et al. 2017, eq. 1)

with scale = 1/sqrt(E) by default and bias the additive form of the masks (-inf where a
query may not attend).
"""
import math

import autograd

from .activation import softmax
from .dropout import dropout as _dropout
from .linear import linear
from .misc import pad

__all__ = ['scaled_dot_product_attention', 'multi_head_attention_forward']


def _shape(t):
    return list(t.shape)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    ``attn_mask`` (broadcastable to (..., L, S)): bool (True = may attend) or float (added
    to the scores).  ``is_causal``: query i attends to keys j <= i.  A query that may attend
    to nothing gets zeros (PyTorch's safe softmax).  ``enable_gqa``: key/value heads (dim
    -3) are shared by groups of query heads."""
    if is_causal and attn_mask is not None:
        raise RuntimeError('_scaled_dot_product_attention: Explicit attn_mask should not be set '
                           'when is_causal=True')
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f'scaled_dot_product_attention: query (..., L, E) and key (..., S, E) '
                           f'must share E, got query {_shape(query)} and key {_shape(key)}')
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f'scaled_dot_product_attention: key (..., S, E) and value '
                           f'(..., S, Ev) must share S, got key {_shape(key)} and value '
                           f'{_shape(value)}')
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    allowed = None
    if is_causal:
        # keys j > i blocked; row i keeps key 0, so no row is all -inf (no dead rows to find)
        blocked = autograd.ones(L, S, dtype=autograd.bool, device=query.device).triu(1)
        scores = scores.masked_fill(blocked, float('-inf'))
    elif attn_mask is not None and attn_mask.dtype == autograd.bool:
        allowed = attn_mask
    elif attn_mask is not None:
        scores = scores + attn_mask
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float('-inf'))
    dead = None
    if allowed is not None or attn_mask is not None:
        # a row with every score -inf attends to nothing: zeros instead of 0/0
        dead = (scores == float('-inf')).all(dim=-1, keepdim=True)
        scores = scores.masked_fill(dead, 0.0)
    weights = softmax(scores, dim=-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True)
    return weights.matmul(value)


def _repeat_heads(t, heads):
    """(..., Hk, S, E) -> (..., heads, S, E), each key head shared by heads/Hk query heads."""
    hk = t.shape[-3]
    if heads % hk:
        raise RuntimeError(f'scaled_dot_product_attention: number of query heads ({heads}) '
                           f'must be a multiple of key/value heads ({hk})')
    lead, rest = tuple(t.shape[:-3]), tuple(t.shape[-2:])
    t = t.unsqueeze(-3).expand(*lead, hk, heads // hk, *rest)
    return t.reshape(*lead, heads, *rest)


def _canonical_mask(mask, dtype, name='mask'):
    """A bool mask (True = masked out) as an additive float mask; float masks pass through."""
    if mask is not None and mask.dtype != autograd.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f'only bool and floating types of {name} are supported')
    if mask is None or mask.dtype != autograd.bool:
        return mask
    z = autograd.zeros(tuple(mask.shape), dtype=dtype, device=mask.device)
    return z.masked_fill(mask, float('-inf'))


def _in_projection(query, key, value, w, b, w_q, w_k, w_v, e, separate):
    if not separate:
        w_q, w_k, w_v = w[:e], w[e:2 * e], w[2 * e:]
    b_q = b_k = b_v = None
    if b is not None:
        b_q, b_k, b_v = b[:e], b[e:2 * e], b[2 * e:]
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's checks; returns whether the input is batched."""
    if query.ndim not in (2, 3):
        raise AssertionError(f'query should be unbatched 2D or batched 3D tensor but received '
                             f'{query.ndim}-D query tensor')
    batched = query.ndim == 3
    kind = 'batched (3-D)' if batched else 'unbatched (2-D)'
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f'For {kind} `query`, expected `key` and `value` to be '
                             f'{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors '
                             'respectively')
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f'For {kind} `query`, expected `key_padding_mask` to be `None` or '
                             f'{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor '
                             'instead')
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f'For {kind} `query`, expected `attn_mask` to be `None`, 2-D '
                                 f'or 3-D but found {attn_mask.ndim}-D tensor instead')
        want = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != want:
            raise AssertionError(f'Expected `attn_mask` shape to be {want} but got '
                                 f'{tuple(attn_mask.shape)}')
    return batched


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E_k/E_v) key/value (or unbatched
    (L, E), (S, E)).  Masks: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N * heads, L, S), bool (True = masked out) or additive float.  Returns the output
    (L, N, E) and, if ``need_weights``, the attention weights (N, L, S) averaged over heads
    (or (N, heads, L, S))."""
    batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f'was expecting embedding dimension of {embed_dim_to_check}, but '
                             f'got {embed_dim}')
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f'embed_dim {embed_dim} not divisible by num_heads {num_heads}')
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f'key\'s sequence and batch dims {tuple(key.shape[:2])} do not '
                                 f'match value\'s {tuple(value.shape[:2])}')
    elif key.shape != value.shape:
        raise AssertionError(f'key shape {key.shape} does not match value shape {value.shape}')
    if is_causal and attn_mask is None:
        raise RuntimeError('Need attn_mask if specifying the is_causal hint. You may use the '
                           'Transformer module method `generate_square_subsequent_mask` to '
                           'create this mask.')
    key_padding_mask = _canonical_mask(key_padding_mask, query.dtype, 'key_padding_mask')
    attn_mask = _canonical_mask(attn_mask, query.dtype, 'attn_mask')

    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, q_proj_weight,
                             k_proj_weight, v_proj_weight, embed_dim, use_separate_proj_weight)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f'The shape of the 2D attn_mask is {attn_mask.shape}, but '
                                   f'should be {(tgt_len, src_len)}.')
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f'The shape of the 3D attn_mask is {attn_mask.shape}, but '
                               f'should be {(bsz * num_heads, tgt_len, src_len)}.')
    if bias_k is not None and bias_v is not None:
        k = autograd.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = autograd.cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))

    # (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        zeros = autograd.zeros(bsz * num_heads, 1, head_dim, dtype=q.dtype, device=q.device)
        k = autograd.cat([k, zeros], dim=1)
        v = autograd.cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f'expecting key_padding_mask shape of {(bsz, src_len)}, but '
                                 f'got {tuple(key_padding_mask.shape)}')
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    scores = (q * math.sqrt(1.0 / head_dim)).matmul(k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    out = weights.matmul(v)                                    # (N * heads, L, head_dim)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights

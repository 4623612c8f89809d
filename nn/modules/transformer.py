"""The Transformer of Vaswani et al. 2017 ("Attention Is All You Need"), with PyTorch's module
tree, parameter names, defaults and initialisation: ``Transformer``, ``TransformerEncoder``,
``TransformerDecoder``, ``TransformerEncoderLayer``, ``TransformerDecoderLayer``.

Each layer is a residual block around self-attention (and, in the decoder, attention over
the encoder's output, the "memory") and a two-layer feed-forward network, with layer norm
after the sum (``norm_first=False``, the paper's sec. 3.1) or before the sublayer
(``norm_first=True``, the pre-norm variant).  Attention is ``MultiheadAttention``.
"""
import copy
import warnings

import autograd

from .. import functional as F
from .. import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ['Transformer', 'TransformerEncoder', 'TransformerDecoder', 'TransformerEncoderLayer',
           'TransformerDecoderLayer']


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
    return autograd.full((sz, sz), float('-inf'), dtype=dtype, device=device).triu(1)


def _get_seq_len(src, batch_first):
    if src.ndim == 2:                       # unbatched (S, E)
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """``is_causal`` if given; with None, whether ``mask`` equals the causal mask."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
        make_causal = tuple(mask.shape) == tuple(causal.shape) and bool((mask == causal).all())
    return make_causal


def _check_mask(mask, name):
    """PyTorch's ``_canonical_mask`` check: only bool and floating masks."""
    if mask is not None and mask.dtype != autograd.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f'only bool and floating types of {name} are supported')


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_activation_fn(activation):
    if activation == 'relu':
        return F.relu
    if activation == 'gelu':
        return F.gelu
    raise RuntimeError(f'activation should be relu/gelu, not {activation}')


class Transformer(Module):
    """Encoder-decoder Transformer: ``forward(src (S, N, E), tgt (T, N, E)) -> (T, N, E)``
    ((N, S, E) ... with ``batch_first``; unbatched (S, E), (T, E)).

    ``num_encoder_layers`` encoder layers with a final LayerNorm, then ``num_decoder_layers``
    decoder layers with a final LayerNorm (or ``custom_encoder``/``custom_decoder``).  Every
    parameter with more than one dim is re-initialised ``xavier_uniform_``, as PyTorch's."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Masks: ``src_mask`` (S, S), ``tgt_mask`` (T, T), ``memory_mask`` (T, S) (or with a
        leading N * nhead), bool (True = may not attend) or additive float; key padding
        masks (N, S), (N, T), (N, S), True at padding.  ``*_is_causal``: hints that the
        mask is the causal one (None: detect it)."""
        batched = src.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if batched and (tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]):
            raise RuntimeError(f'the batch number of src and tgt must be equal, got src '
                               f'{list(src.shape)} and tgt {list(tgt.shape)} '
                               f'(batch_first={self.batch_first})')
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f'the feature number of src and tgt must be equal to d_model '
                               f'({self.d_model}), got src {list(src.shape)} and tgt '
                               f'{list(tgt.shape)}')
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask (sz, sz): 0.0 on and below the diagonal, -inf above."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)


def _why_no_nested_tensor(layer):
    """PyTorch's reasons (its wording) not to run an encoder of ``layer``s on nested tensors."""
    name = 'encoder_layer'
    if not isinstance(layer, TransformerEncoderLayer):
        return f'{name} was not TransformerEncoderLayer'
    if layer.norm_first:
        return f'{name}.norm_first was True'
    if not layer.self_attn.batch_first:
        return (f'{name}.self_attn.batch_first was not True(use batch_first for better '
                'inference performance)')
    if not layer.self_attn._qkv_same_embed_dim:
        return f'{name}.self_attn._qkv_same_embed_dim was not True'
    if layer.self_attn.in_proj_bias is None:
        return f'{name}.self_attn was passed bias=False'
    if not layer.activation_relu_or_gelu:
        return f'{name}.activation_relu_or_gelu was not True'
    if layer.norm1.eps != layer.norm2.eps:
        return f'{name}.norm1.eps was not equal to {name}.norm2.eps'
    if layer.self_attn.num_heads % 2 == 1:
        return f'{name}.self_attn.num_heads is odd'
    return ''


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then ``norm`` if given.

    ``enable_nested_tensor``: where PyTorch would run the layers on nested tensors (in
    inference, batch first, with a left-aligned ``src_key_padding_mask`` and no ``mask``;
    see ``_nested_path``), its output is zero at the padded positions (before ``norm``);
    this encoder gives the same result, computed on the padded batch."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f'enable_nested_tensor is True, but self.use_nested_tensor is False '
                          f'because {why}', stacklevel=2)
            self.use_nested_tensor = False

    def _nested_path(self, src, mask, padding):
        """Whether PyTorch's encoder would take its nested-tensor path (its conditions, in
        its order); ``padding`` is the key padding mask as bool, True at padding."""
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src.ndim != 3 or padding is None:
            return False
        if self.mask_check:     # left-aligned: each row's kept positions are a prefix
            kept = (~padding).to(autograd.int64)
            if not bool((kept[:, 1:] <= kept[:, :-1]).all()):
                return False
        if mask is not None:
            return False
        attn, tensors = first.self_attn, [src]
        tensors += [attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                    attn.out_proj.bias]
        for module in (first.norm1, first.norm2, first.linear1, first.linear2):
            tensors += [module.weight, module.bias]
        return not (autograd.is_grad_enabled() and
                    any(t is not None and t.requires_grad for t in tensors))

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """``src`` (S, N, E) ((N, S, E) with batch_first, or (S, E)) -> the same shape."""
        _check_mask(src_key_padding_mask, 'src_key_padding_mask')
        _check_mask(mask, 'mask')
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        padding = src_key_padding_mask
        if padding is not None and padding.dtype != autograd.bool:
            padding = padding != 0              # PyTorch's canonical float mask: -inf at padding
        nested = len(self.layers) > 0 and self._nested_path(src, mask, padding)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if nested:                              # a nested tensor padded back with zeros
            output = output.masked_fill(padding.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then ``norm`` if given."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """``tgt`` (T, N, E), ``memory`` (S, N, E) (batch first, or unbatched) -> (T, N, E)."""
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal,
                                               _get_seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class _Layer(Module):
    """What the two layer kinds share: the feed-forward block and the activation."""

    def _set_activation(self, activation):
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        # PyTorch's flag for its fused kernel (1 relu, 2 gelu, 0 other); read by nothing here
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def _ff_block(self, x, last_dropout):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return last_dropout(x)


class TransformerEncoderLayer(_Layer):
    """Self-attention and feed-forward, each in a residual block:
    post-norm  x = norm1(x + SA(x));  x = norm2(x + FF(x))
    pre-norm   x = x + SA(norm1(x));  x = x + FF(norm2(x))
    with FF(x) = linear2(dropout(activation(linear1(x))))."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self._set_activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src`` (S, N, E) ((N, S, E) with batch_first, or (S, E)) -> the same shape."""
        _check_mask(src_key_padding_mask, 'src_key_padding_mask')
        _check_mask(src_mask, 'src_mask')
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)


class TransformerDecoderLayer(_Layer):
    """Self-attention over the target, attention over the memory, and feed-forward, each in
    a residual block (post-norm ``norm_i(x + block(x))`` or pre-norm ``x + block(norm_i(x))``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self._set_activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """``tgt`` (T, N, E), ``memory`` (S, N, E) (batch first, or unbatched) -> (T, N, E)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

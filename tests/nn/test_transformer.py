"""The Transformer family against PyTorch: PyTorch's module in float64, its state_dict copied
into ours (keys must match exactly), then outputs and the gradients of every input and
parameter compared (layer_check.check_layer), in train mode with dropout 0 and in eval mode;
masks bool and float, causal hints, key padding masks, batch_first, norm_first, activations.
"""
import numpy as np
import pytest

import autograd
import nn
from layer_check import check_layer
from oracle import check_raises, rand, to_numpy, torch

E, H, FF = 8, 2, 16
SRC = rand(5, 3, E)                  # (S, N, E)
TGT = rand(4, 3, E, seed=1)          # (T, N, E)
CAUSAL_T = np.triu(np.ones((4, 4), bool), 1)      # True = may not attend
SRC_KPM = np.zeros((3, 5), bool)
SRC_KPM[0, 3:] = True
SRC_KPM[2, 4] = True
TGT_KPM = np.zeros((3, 4), bool)
TGT_KPM[1, 3] = True


def first(x, batch_first):
    """(L, N, E) data as the layer wants it."""
    return np.ascontiguousarray(x.transpose(1, 0, 2)) if batch_first else x


def tanh_activation(x):          # a callable that runs on either library's tensors
    return x.tanh()


ACTIVATIONS = {'relu': 'relu', 'gelu': 'gelu', 'callable': tanh_activation}


def causal(layer, n):
    """The float causal mask, made by the library that ``layer`` belongs to."""
    lib, lib_nn = (autograd, nn) if isinstance(layer, nn.Module) else (torch, torch.nn)
    return lib_nn.Transformer.generate_square_subsequent_mask(n, dtype=lib.float64)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('activation', list(ACTIVATIONS))
def test_encoder_layer(batch_first, norm_first, activation):
    check_layer(lambda nn: nn.TransformerEncoderLayer(
        E, H, FF, dropout=0.0, activation=ACTIVATIONS[activation], batch_first=batch_first,
        norm_first=norm_first), first(SRC, batch_first))


def test_encoder_layer_activation_module_and_eval_mode():
    check_layer(lambda nn: nn.TransformerEncoderLayer(E, H, FF, activation=nn.GELU()), SRC,
                train=False)


@pytest.mark.parametrize('batch_first', [False, True])
def test_encoder_layer_masks(batch_first):
    x = first(SRC, batch_first)
    bool_mask = np.random.default_rng(3).random((5, 5)) > 0.7
    np.fill_diagonal(bool_mask, False)
    for mask, kpm in ((bool_mask, SRC_KPM), (rand(5, 5, seed=4), rand(3, 5, seed=5)),
                      (rand(6, 5, 5, seed=6), rand(3, 5, seed=7))):
        check_layer(lambda nn: nn.TransformerEncoderLayer(E, H, FF, dropout=0.0,
                                                          batch_first=batch_first), x, mask, kpm,
                    call=lambda layer, s, m, k: layer(s, src_mask=m, src_key_padding_mask=k))


def test_encoder_layer_causal_hint():
    check_layer(lambda nn: nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), SRC,
                call=lambda layer, s: layer(s, src_mask=causal(layer, 5), is_causal=True))


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
def test_decoder_layer(batch_first, norm_first):
    def call(layer, t, m, mem_mask, tkpm, mkpm):
        return layer(t, m, tgt_mask=causal(layer, 4), memory_mask=mem_mask,
                     tgt_key_padding_mask=tkpm, memory_key_padding_mask=mkpm,
                     tgt_is_causal=True)

    check_layer(lambda nn: nn.TransformerDecoderLayer(
        E, H, FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
        activation='gelu'), first(TGT, batch_first), first(SRC, batch_first),
        rand(4, 5, seed=7), TGT_KPM, SRC_KPM, call=call)


def test_decoder_layer_bool_masks_eval():
    mem_mask = np.zeros((4, 5), bool)
    mem_mask[:, 1] = True
    check_layer(lambda nn: nn.TransformerDecoderLayer(E, H, FF), TGT, SRC, CAUSAL_T, mem_mask,
                call=lambda layer, t, m, tm, mm: layer(t, m, tgt_mask=tm, memory_mask=mm),
                train=False)


def test_encoder_and_decoder_stacks():
    check_layer(lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), 2, norm=nn.LayerNorm(E),
        enable_nested_tensor=False), SRC, SRC_KPM,
        call=lambda layer, s, k: layer(s, src_key_padding_mask=k))

    def call(layer, t, m):        # the causal mask found without a hint (is_causal=None)
        return layer(t, m, tgt_mask=causal(layer, 4))

    check_layer(lambda nn: nn.TransformerDecoder(
        nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, norm_first=True), 3), TGT, SRC,
        call=call)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
def test_full_transformer(batch_first, norm_first):
    def call(layer, s, t, skpm, tkpm):
        return layer(s, t, tgt_mask=causal(layer, 4), src_key_padding_mask=skpm,
                     tgt_key_padding_mask=tkpm, memory_key_padding_mask=skpm)

    check_layer(lambda nn: nn.Transformer(
        E, H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0,
        batch_first=batch_first, norm_first=norm_first), first(SRC, batch_first),
        first(TGT, batch_first), SRC_KPM, TGT_KPM, call=call)


def test_full_transformer_eval_with_dropout_and_bool_masks():
    check_layer(lambda nn: nn.Transformer(E, H, 1, 1, FF, activation='gelu'), SRC, TGT,
                CAUSAL_T, call=lambda layer, s, t, tm: layer(s, t, tgt_mask=tm), train=False)


def test_unbatched_and_no_bias():
    check_layer(lambda nn: nn.Transformer(E, H, 1, 1, FF, dropout=0.0, bias=False),
                SRC[:, 0], TGT[:, 0])

    def call(layer, s, t, skpm):
        return layer(s, t, tgt_mask=causal(layer, 4), src_key_padding_mask=skpm,
                     memory_key_padding_mask=skpm)

    check_layer(lambda nn: nn.Transformer(E, H, 1, 2, FF, dropout=0.0, batch_first=True),
                SRC[:, 0], TGT[:, 0], SRC_KPM[0], call=call)


def test_custom_encoder_and_decoder():
    def build(nn):
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), 1)
        dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF, dropout=0.0), 1)
        return nn.Transformer(E, H, custom_encoder=enc, custom_decoder=dec)

    check_layer(build, SRC, TGT)


def test_second_order():
    autograd.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation='gelu').double()
    x = autograd.tensor(rand(3, 2, 4), requires_grad=True)
    mask = autograd.tensor(rand(3, 3, seed=2))
    assert autograd.gradgradcheck(lambda x: layer(x, src_mask=mask), (x,))


def test_state_dict_keys_and_order_match_torch():
    kw = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=FF)
    ours = [(k, tuple(v.shape)) for k, v in nn.Transformer(**kw).state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in torch.nn.Transformer(**kw).state_dict().items()]
    assert ours == theirs
    ours = [k for k, _ in nn.TransformerDecoderLayer(E, H, bias=False).named_parameters()]
    assert ours == [k for k, _ in torch.nn.TransformerDecoderLayer(E, H, bias=False)
                    .named_parameters()]


def test_transformer_init_is_xavier_uniform_for_matrices():
    autograd.manual_seed(0)
    model = nn.Transformer(16, 2, 1, 1, dim_feedforward=64)
    for name, p in model.named_parameters():
        w = to_numpy(p)
        if p.ndim > 1:              # xavier_uniform_: U(-b, b), b = sqrt(6 / (fan_in + fan_out))
            bound = np.sqrt(6 / sum(p.shape))
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound, name
        elif 'norm' in name:
            assert np.all(w == (1.0 if name.endswith('weight') else 0.0)), name
    # linear1 (64, 16): kaiming's bound 1/4 < xavier's sqrt(6/80), so the re-init shows
    assert np.abs(to_numpy(model.encoder.layers[0].linear1.weight)).max() > 0.25
    # the layers alone keep their own modules' defaults (Linear: kaiming, bound 1/sqrt(16))
    layer = nn.TransformerEncoderLayer(16, 2, 64)
    assert np.abs(to_numpy(layer.linear1.weight)).max() <= 0.25
    assert not to_numpy(layer.self_attn.in_proj_bias).any()


def test_clones_are_independent():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF), 3)
    ws = [layer.linear1.weight for layer in enc.layers]
    assert len({id(w) for w in ws}) == 3
    assert all(np.array_equal(to_numpy(ws[0]), to_numpy(w)) for w in ws)   # deep copies


def test_generate_square_subsequent_mask():
    ours = nn.Transformer.generate_square_subsequent_mask(4)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert ours.dtype == autograd.float32
    np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=autograd.float64).dtype == \
        autograd.float64


def test_module_paths():
    import nn.modules.activation
    import nn.modules.linear
    import nn.modules.transformer
    assert nn.modules.activation.MultiheadAttention is nn.MultiheadAttention
    assert nn.modules.transformer.Transformer is nn.Transformer
    out_proj = nn.MultiheadAttention(4, 2).out_proj
    assert type(out_proj) is nn.modules.linear.NonDynamicallyQuantizableLinear
    assert isinstance(out_proj, nn.Linear)
    assert type(out_proj).__name__ == type(torch.nn.MultiheadAttention(4, 2).out_proj).__name__


def nn_of(lib):
    return torch.nn if lib is torch else nn


def test_errors():
    check_raises(lambda lib: nn_of(lib).TransformerEncoderLayer(6, 4))     # d_model % nhead
    check_raises(lambda lib: nn_of(lib).Transformer(6, 4, 1, 1, 8))
    check_raises(lambda lib: nn_of(lib).TransformerEncoderLayer(E, H, activation='tanh'))

    def transformer(lib):
        lib.manual_seed(0)
        return nn_of(lib).Transformer(E, H, 1, 1, FF).double()

    check_raises(lambda lib, s, t: transformer(lib)(s, t), SRC, TGT[:, :2])        # batch
    check_raises(lambda lib, s, t: transformer(lib)(s, t), SRC, TGT[..., :4])      # features
    check_raises(lambda lib, s, t: transformer(lib)(s[..., :4], t[..., :4]), SRC, TGT)
    check_raises(lambda lib, s, m: nn_of(lib).TransformerEncoderLayer(E, H, FF).double()(
        s, src_mask=m), SRC, np.zeros((5, 5), np.int64))                           # int mask
    check_raises(lambda lib, s, m: nn_of(lib).TransformerEncoderLayer(E, H, FF).double()(
        s, src_mask=m), SRC, np.zeros((4, 4)))                                     # mask shape


@pytest.mark.parametrize('mask_kind', ['bool', 'float', 'not left-aligned'])
def test_encoder_inference_matches_torchs_nested_tensor_path(mask_kind):
    """In inference with a key padding mask, PyTorch runs a batch-first encoder on nested
    tensors and pads its output back with zeros: the padded positions read 0, not the
    masked computation's values."""
    x = first(SRC, True)
    kpm = SRC_KPM.copy()
    if mask_kind == 'not left-aligned':
        kpm[1, 0] = True
    results = []
    for lib, lib_nn in ((torch, torch.nn), (autograd, nn)):
        lib.manual_seed(0)
        enc = lib_nn.TransformerEncoder(lib_nn.TransformerEncoderLayer(
            E, H, FF, batch_first=True), 2, norm=lib_nn.LayerNorm(E)).double().eval()
        results.append(enc)
    theirs, ours = results
    ours.load_state_dict({k: autograd.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert ours.use_nested_tensor and theirs.use_nested_tensor
    outs = []
    for lib, enc in ((torch, theirs), (autograd, ours)):
        mask = lib.tensor(kpm)
        if mask_kind == 'float':
            mask = lib.zeros(kpm.shape, dtype=lib.float64).masked_fill(mask, float('-inf'))
        with lib.no_grad():
            outs.append(to_numpy(enc(lib.tensor(x), src_key_padding_mask=mask)))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-12)
    if mask_kind != 'not left-aligned':
        assert not outs[1][0, 4].any()
    assert not nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H), 1).use_nested_tensor


def test_integer_masks_are_refused_by_every_layer():
    check_raises(lambda lib, t, m: nn_of(lib).TransformerDecoderLayer(E, H, FF).double()(
        t, t, tgt_mask=m), TGT, np.zeros((4, 4), np.int64), match='only bool and floating')
    check_raises(lambda lib, t, m: nn_of(lib).TransformerDecoderLayer(E, H, FF).double()(
        t, t, memory_key_padding_mask=m), TGT, np.zeros((3, 4), np.int64))
    check_raises(lambda lib, t, m: nn_of(lib).MultiheadAttention(E, H).double()(
        t, t, t, key_padding_mask=m), TGT, np.zeros((3, 4), np.int32))

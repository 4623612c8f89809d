"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their cells (PyTorch's parameter names,
shapes, gate order and initialisation, so PyTorch weights load by name).

Each layer and direction maps the input sequence through W_ih in few large matrix
products (the fused layers a chunk of steps at a time, just before those steps), and
steps through time with one product by W_hh per step.  The LSTM and GRU
cell nonlinearities are fused ops (one node per step) whose backward is one formula on
arrays and tensors alike; the activations it reads come from an op of their own
(``LSTMGates``, ``GRUGates``), which hands back the forward's values in the plain sweep
and records them, so that they are differentiated again, when a graph of the backward is
wanted.  A whole LSTM layer is one node too (``LSTMLayerOp``, its input product
included), backpropagated through time by the op ``LSTMLayerGrad``, and so are GRU and
Elman RNN layers (``GRULayerOp``, ``RNNLayerOp``); a ``GRUCell`` step is one node with
its two products (``GRUStepOp``, feature-major: gates (3H, B)); the cells remain for LSTM with projections, packed
sequences and the LSTMCell and RNNCell modules.  The layers keep their gates gate-major
((T, gates, B, H)), so each elementwise pass runs on contiguous blocks.

Gates (PyTorch's order):
    LSTM  i, f, g, o = sigma, sigma, tanh, sigma of (x W_ih^T + b_ih + h W_hh^T + b_hh)
          c' = f c + i g,  h' = o tanh(c')      (h' = (o tanh(c')) W_hr^T with proj_size)
    GRU   r, z = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr), sigma(... z ...)
          n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),  h' = (1 - z) n + z h
    RNN   h' = tanh or relu of (x W_ih^T + b_ih + h W_hh^T + b_hh)
"""
import math

import autograd
from autograd.extend import Op, ones_vector
from autograd.ops.formula import Cat, zeros_like_shape

from .. import functional as F
from ..functional import _buffers
from ..functional._ctc import quiet_float_errors
from ..functional._replay import replay_backward
from ..functional.linear import _c_name
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from ._utils import empty_parameters

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']


# ----------------------------------------------------------------------------- fused cells

def _sigmoid_(xp, a):
    """``a = 1 / (1 + e^-a)`` in place.  e^-a overflows to inf for very negative ``a``,
    which gives the right 0: run it under ``quiet_float_errors``."""
    xp.negative(a, out=a)
    return _inv_one_plus_exp_(xp, a)


def _inv_one_plus_exp_(xp, a):
    """``a = 1 / (1 + e^a)`` (= sigmoid(-a)) in place."""
    xp.exp(a, out=a)
    a += 1
    return xp.reciprocal(a, out=a)


def _sigmoid_by_tanh_(xp, a):
    """``a = sigmoid(a) = (1 + tanh(a/2)) / 2`` in place: four passes as ``_sigmoid_``'s,
    but tanh never overflows, so no error state is set and reset around them (measured
    3.5 against 4.8 us on (128, 16) float32)."""
    a *= 0.5
    _tanh_(xp, a)
    a *= 0.5
    a += 0.5
    return a


def _tanh_(xp, a, out=None):
    """``tanh(a)`` into ``out`` (default: in place).  NumPy 2's float32 tanh is a SIMD loop
    (AVX2 and AVX-512): one pass, measured 5x faster on (32, 128) than the five passes of
    ``2 / (1 + e^-2a) - 1`` and more accurate (6e-8 against 1.8e-7 absolute)."""
    return xp.tanh(a, out=a if out is None else out)


def _lstm_gates_(xp, a):
    """The LSTM nonlinearities in place on the pre-activations ``a`` (B, 4H): sigmoid on
    the i, f, o quarters, tanh on g (as 2 sigmoid(2g) - 1, so one pass does all four).
    Returns the four (B, H) views."""
    h = a.shape[-1] // 4
    i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
    g *= 2
    with quiet_float_errors(xp):
        _sigmoid_(xp, a)
    g *= 2
    g -= 1
    return i, f, g, o


def _lstm_cell(xp, xg, hg, c):
    """An LSTM cell on arrays: the activations (i, f, g, o, tanh c') and c'."""
    i, f, g, o = _lstm_gates_(xp, xg + hg)
    c2 = f * c + i * g
    with quiet_float_errors(xp):
        tc = _tanh_(xp, c2, out=xp.empty_like(c2))
    return (i, f, g, o, tc), c2


def _gru_cell(xp, xg, hg):
    """The activations of a GRU cell on arrays: r, z, n and hn = h W_hn^T + b_hn."""
    k = hg.shape[-1] // 3
    hn = hg[:, 2 * k:]
    with quiet_float_errors(xp):
        rz = _sigmoid_(xp, xg[:, :2 * k] + hg[:, :2 * k])
        r, z = rz[:, :k], rz[:, k:]
        n = _tanh_(xp, xg[:, 2 * k:] + r * hn)
    return r, z, n, hn


# The backward formulas below take tensors or arrays alike (see ``autograd.ops.formula``).

def _cat(xs):
    return Cat.apply(*xs, dim=-1)


def _or_zeros(g, ref):
    """A gradient that is None (its output unused) as zeros in ``ref``'s form."""
    return zeros_like_shape(ref, ref.shape) if g is None else g


def _lstm_grads(i, f, g, o, tc, c, gh, gc):
    """dL/dgates and dL/dc of an LSTM cell."""
    gct = gc + gh * o * (1 - tc * tc)          # through c' -> h' and c' directly
    return _cat([gct * g * i * (1 - i), gct * c * f * (1 - f), gct * i * (1 - g * g),
                 gh * tc * o * (1 - o)]), gct * f


def _gru_grads(r, z, n, hn, h, gh):
    """dL/d(x-gates), dL/d(h-gates), dL/dh of a GRU cell."""
    dan = gh * (1 - z) * (1 - n * n)
    dar = dan * hn * r * (1 - r)
    daz = gh * (h - n) * z * (1 - z)
    return _cat([dar, daz, dan]), _cat([dar, daz, dan * r]), gh * z


class LSTMGates(Op):
    """(x-gates (B, 4H), h-gates (B, 4H), c (B, H)) -> (i, f, g, o, tanh c'): the
    activations of an LSTM cell, which its backward reads.  ``acts``: the same values as
    the cell's forward computed them (recomputed when None)."""
    __slots__ = ('acts',)
    save = (0, 1, 2)
    array_backward = True

    def forward(self, xp, xg, hg, c, acts=None):
        self.acts = _lstm_cell(xp, xg, hg, c)[0] if acts is None else acts
        return self.acts

    def backward(self, di, df, dg, do, dtc):
        xg, hg, c = self.saved_tensors
        i, f, g, o, tc = LSTMGates.apply(xg, hg, c, acts=self.acts)
        dc2 = _or_zeros(dtc, c) * (1 - tc * tc)               # through tanh c', c' = f c + i g
        da = _cat([(_or_zeros(di, c) + dc2 * g) * i * (1 - i),
                   (_or_zeros(df, c) + dc2 * c) * f * (1 - f),
                   (_or_zeros(dg, c) + dc2 * i) * (1 - g * g),
                   _or_zeros(do, c) * o * (1 - o)])
        return da, da, dc2 * f


class GRUGates(Op):
    """(x-gates (B, 3H), h-gates (B, 3H)) -> (r, z, n, hn): the activations of a GRU cell
    (and the h-gates' n part), which its backward reads.  ``acts``: as ``LSTMGates``."""
    __slots__ = ('acts',)
    save = (0, 1)
    array_backward = True

    def forward(self, xp, xg, hg, acts=None):
        self.acts = _gru_cell(xp, xg, hg) if acts is None else acts
        return self.acts

    def backward(self, dr, dz, dn, dhn):
        xg, hg = self.saved_tensors
        r, z, n, hn = GRUGates.apply(xg, hg, acts=self.acts)
        dan = _or_zeros(dn, r) * (1 - n * n)                   # n = tanh(xn + r hn)
        dar = (_or_zeros(dr, r) + dan * hn) * r * (1 - r)
        daz = _or_zeros(dz, r) * z * (1 - z)
        return _cat([dar, daz, dan]), _cat([dar, daz, dan * r + _or_zeros(dhn, r)])


class LSTMCellOp(Op):
    """(x-gates x W_ih^T + b (B, 4H), h-gates h W_hh^T (B, 4H), c (B, H)) -> (h', c');
    the gates before the nonlinearities are their sum."""
    __slots__ = ('acts',)
    save = (0, 1, 2)
    array_backward = True

    def forward(self, xp, xg, hg, c):
        self.acts, c2 = _lstm_cell(xp, xg, hg, c)
        i, f, g, o, tc = self.acts
        return o * tc, c2

    def backward(self, gh, gc):
        xg, hg, c = self.saved_tensors
        i, f, g, o, tc = LSTMGates.apply(xg, hg, c, acts=self.acts)
        dg, dc = _lstm_grads(i, f, g, o, tc, c, _or_zeros(gh, c), _or_zeros(gc, c))
        return dg, dg, dc


class GRUCellOp(Op):
    """(x-gates x W_ih^T + b_ih (B, 3H), h-gates h W_hh^T + b_hh (B, 3H), h (B, H)) -> h'."""
    __slots__ = ('acts',)
    save = (0, 1, 2)
    array_backward = True

    def forward(self, xp, xg, hg, h):
        self.acts = r, z, n, hn = _gru_cell(xp, xg, hg)
        return n + z * (h - n)

    def backward(self, gh):
        xg, hg, h = self.saved_tensors
        return _gru_grads(*GRUGates.apply(xg, hg, acts=self.acts), h, gh)


class GRUStepOp(Op):
    """One whole GRU step as one node, its two products included: (x (B, I), h (B, H),
    W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,) or None) -> h'.  ``GRUCell`` runs on it:
    one node per step instead of two ``Linear`` and a ``GRUCellOp`` (seq2seq-attn's decoder
    takes ten such steps per training step, and each node costs its recording and its
    visit in the sweep).  Backward is ``GRUStepGrad``.

    The step runs feature-major: the gates are W_ih x^T and W_hh h^T (3H, B), whose r, z, n
    row blocks are contiguous, so no slice is strided and no weight is transposed (OpenBLAS
    measured x W_ih^T 2.3x slower than W_ih x^T at B = 16, I = 96, H = 64, the transposed
    weight being the large operand)."""
    __slots__ = ('acts',)
    save = (0, 1, 2, 3, 4, 5)
    array_backward = True

    def forward(self, xp, x, h, w_ih, w_hh, b_ih, b_hh):
        for a, w in ((x, w_ih), (h, w_hh)):
            if a.dtype != w.dtype:          # as Linear: NumPy would promote silently
                raise RuntimeError(f'expected m1 and m2 to have the same dtype, but got: '
                                   f'{_c_name(a)} != {_c_name(w)}')
        H = w_hh.shape[1]
        xg = xp.matmul(w_ih, x.T)                       # (3H, B): r, z, n row blocks
        hg = xp.matmul(w_hh, h.T)
        if b_ih is not None:
            xg += b_ih[:, None]
            hg += b_hh[:, None]
        hn = hg[2 * H:]
        rz = xg[:2 * H]
        rz += hg[:2 * H]
        _sigmoid_by_tanh_(xp, rz)
        r, z = rz[:H], rz[H:]
        n = xg[2 * H:]                                  # tanh(x_n + r hn)
        n += xp.multiply(r, hn, out=hg[:H])
        _tanh_(xp, n)
        h_n = xp.subtract(h.T, n)                       # h' = n + z (h - n)
        self.acts = r, z, n, hn, h_n
        out = xp.multiply(z, h_n)
        out += n
        return xp.ascontiguousarray(out.T)

    def backward(self, gh):
        return GRUStepGrad.apply(*self.saved_tensors, gh, step=self)


class GRUStepGrad(Op):
    """``GRUStepOp``'s gradients on the activations its forward kept:
    (x, h, W_ih, W_hh, b_ih, b_hh, dL/dh') -> dL/d(x, h, W_ih, W_hh, b_ih, b_hh) (None for
    the biases when they are None), feature-major as the forward, each factor formed in
    place in one (3H, B) block.  Its own derivative replays the step as two ``Linear``
    and a ``GRUCellOp`` and differentiates that twice, as ``LSTMLayerGrad``'s does."""
    __slots__ = ()
    save = (0, 1, 2, 3, 4, 5, 6)

    def forward(self, xp, x, h, w_ih, w_hh, b_ih, b_hh, gh, *, step):
        r, z, n, hn, h_n = step.acts                    # (H, B)
        H = r.shape[0]
        g = gh.T
        dxg = xp.empty((3 * H, r.shape[1]), r.dtype)    # dL/d(x-gates): r, z, n
        dr, dz, dn = dxg[:H], dxg[H:2 * H], dxg[2 * H:]
        xp.subtract(1, z, out=dz)
        xp.multiply(n, n, out=dn)                       # dn: g (1 - z) (1 - n^2)
        xp.subtract(1, dn, out=dn)
        dn *= dz
        dn *= g
        xp.subtract(1, r, out=dr)                       # dr: dn hn r (1 - r)
        dr *= r
        dr *= hn
        dr *= dn
        dz *= z                                         # dz: g (h - n) z (1 - z)
        dz *= h_n
        dz *= g
        dhg = dxg.copy()                                # dL/d(h-gates): r, z, n r
        dhg[2 * H:] *= r
        needs = step.needs_input_grad
        dx = xp.matmul(dxg.T, w_ih) if needs[0] else None
        dh = xp.multiply(gh, z.T)
        dh += xp.matmul(dhg.T, w_hh)
        dw_ih = xp.matmul(dxg, x) if needs[2] else None
        dw_hh = xp.matmul(dhg, h) if needs[3] else None
        if b_ih is None:
            return dx, dh, dw_ih, dw_hh, None, None
        return dx, dh, dw_ih, dw_hh, dxg.sum(1), dhg.sum(1)

    def backward(self, *grads):
        def replay(x, h, w_ih, w_hh, b_ih, b_hh, gh):
            return (_gru_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh),), (gh,)
        return _replay_backward(self.saved_tensors, grads, replay)


class LSTMLayerOp(Op):
    """A whole LSTM layer (no projection) over time as one node, its input product included:
    (x (T, B, I), h0 (B, H), c0 (B, H) (either None: zeros), W_ih (4H, I), W_hh (4H, H),
    b_ih, b_hh (4H,) or None) -> (out (T, B, H), c_T (B, H)); ``reverse`` runs
    t = T-1 .. 0 (the backward direction).

    Each step's pre-activations are one product [h | x | 1] W per gate, W = [W_hh^T;
    W_ih^T; b_ih + b_hh], landing gate-major: z = [h | x | 1] (T B, H + I + 1) holds every
    time's input x and, written by the step before, its input h, so no pass adds the
    input product or the biases, and ``LSTMLayerGrad`` gets dL/dW_hh, dL/dW_ih and dL/db
    from one product by the same z.
    Forward keeps every step's gates, cell states (and their tanh) and the products i g
    and f c, which ``LSTMLayerGrad`` reads to backpropagate through time.
    The gates are kept gate-major, (T + 1, 5, B, H) in the order i, f, o, g
    (``_GATE_ORDER``) followed by the step's input cell state c, so that every
    elementwise pass runs on contiguous (B, H) blocks (NumPy's ufuncs on the strided
    (B, H) quarters of a (B, 4H) row were measured 3x slower per element) and i g, f c
    are one multiply of (i, f) by (g, c).
    """
    __slots__ = ('reverse', 'acts', 'cs', 'prods', 'xa')
    save = (0, 1, 2, 3, 4, 5, 6)
    array_backward = True

    def forward(self, xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        self.reverse = reverse
        T, B, I = x.shape
        G = w_hh.shape[0]
        H = G // 4
        dtype = x.dtype
        bias = b_ih is not None
        # W[j] = [W_hh_j^T; W_ih_j^T; b_j] per gate in the layer's order.  The
        # pre-activations are formed scaled by -1 (i, f, o) and by -2 (g), exactly (powers
        # of two), so that one exp, + 1 and reciprocal over all four gates give sigmoid(i),
        # sigmoid(f), sigmoid(o) and sigmoid(2 g), and tanh(g) = 2 sigmoid(2 g) - 1 (an
        # overflowing exp gives 1 / inf = 0: the limits).  NumPy's float32 exp is twice as
        # fast as its tanh without AVX-512 (AMD EPYC Zen 5 with AVX2: 1.34 against 2.7 ns an
        # element): 31 us per step against 46 us for (1 + tanh(a / 2)) / 2.
        K = H + I + bias
        self.xa = z = _buffers.empty(xp, (T * B, K), dtype)
        zt = z.reshape(T, B, K)
        zt[..., H:H + I] = x                             # one copy, x contiguous or not
        w = xp.empty((4, K, H), dtype)
        wi4, wh4 = w_ih.reshape(4, H, I), w_hh.reshape(4, H, H)
        if bias:
            zt[..., H + I] = 1
            b4 = (b_ih + b_hh).reshape(4, H)
        for j, p in enumerate(_GATE_ORDER):
            w[j, :H] = wh4[p].T
            w[j, H:H + I] = wi4[p].T
            if bias:
                w[j, H + I] = b4[p]
        w[:3] *= -1
        w[3] *= -2
        # step k (in processing order) reads zs[k] = [h | x | 1] and acts[k] = (i, f, o, g,
        # c) and writes its h' into zs[k + 1] (the last one into h_last) and c' into
        # acts[k+1, 4]: g and c lie next to each other, as i and f do, so that i g and f c
        # are one multiply of two (2, B, H) blocks.  (B, K) x (4, K, H) is four products in
        # one call, each landing in its gate's contiguous block.  (Measured against the
        # input product made 8 steps at a time into the gate blocks and added to each step's
        # h W_hh^T: forward op 5.0 -> 4.6 ms for 32 steps of B 32, I 64, H 128, float32.)
        zs = zt[::-1] if reverse else zt                 # by step k, not by time t
        self.acts = acts = _buffers.empty(xp, (T + 1, 5, B, H), dtype)  # i, f, o, g, c
        self.cs = tcs = _buffers.empty(xp, (T, B, H), dtype)            # tanh c'
        self.prods = prods = _buffers.empty(xp, (T, 2, B, H), dtype)    # i g, f c
        zs[0, :, :H] = 0 if h0 is None else h0                          # None: zeros
        acts[0, 4] = 0 if c0 is None else c0
        h_last = xp.empty((B, H), dtype)
        hs = [zs[k, :, :H] for k in range(1, T)] + [h_last]             # each step's h'
        tanh, exp, reciprocal, divide, multiply, add, matmul = \
            xp.tanh, xp.exp, xp.reciprocal, xp.divide, xp.multiply, xp.add, xp.matmul
        steps = zip(zs, acts[:, :4], acts[:, :3], acts[:, 3], acts[:, :2], acts[:, 3:],
                    acts[1:, 4], prods, tcs, acts[:, 2], hs)
        with quiet_float_errors(xp):
            for zk, a, ifo, g, if_, gc_, c, p, tc, o, h2 in steps:
                matmul(zk, w, out=a)
                exp(a, out=a)
                a += 1
                reciprocal(ifo, out=ifo)
                divide(2, g, out=g)                 # 2 sigmoid(2 g), exactly 2 / (1 + e)
                g -= 1
                multiply(if_, gc_, out=p)           # i g, f c
                add(p[0], p[1], out=c)
                tanh(c, out=tc)
                multiply(o, tc, out=h2)
        out = xp.empty((T, B, H), dtype)                 # by time: each step's h'
        if reverse:
            out[1:] = zt[:-1, :, :H]
            out[0] = h_last
        else:
            out[:-1] = zt[1:, :, :H]
            out[-1] = h_last
        return out, acts[T, 4].copy()

    def backward(self, gout, gc):
        return LSTMLayerGrad.apply(*self.saved_tensors, gout, gc, layer=self)


# PyTorch's LSTM gates are i, f, g, o; the layer's buffers hold them as i, f, o, g
_GATE_ORDER = (0, 1, 3, 2)


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


class LSTMLayerGrad(Op):
    """Backpropagation through time of the ``LSTMLayerOp`` node ``layer``:
    (x, h0, c0, W_ih, W_hh, b_ih, b_hh, dL/dout, dL/dc_T (either may be None)) ->
    dL/d(x, h0, c0, W_ih, W_hh, b_ih, b_hh), on the gates and states the layer's forward
    kept: one batched (4 x (B, H) x (H, H)) product per step for dL/dh, then one product
    over all steps for dL/dW_hh, dL/dW_ih and dL/db together (by [h | x | 1]), one for
    dL/dx.

    Its own derivative (second derivatives of the layer) differentiates the layer run
    step by step with ``LSTMCellOp`` twice, as ``torch.utils.checkpoint`` reruns a forward.
    """
    __slots__ = ('reverse',)
    save = (0, 1, 2, 3, 4, 5, 6, 7, 8)

    def forward(self, xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, gout, gc, *, layer):
        self.reverse = reverse = layer.reverse
        acts, tc, prods = layer.acts[:-1], layer.cs, layer.prods
        T, _, B, H = acts.shape
        G, I = 4 * H, x.shape[-1]
        dtype = acts.dtype
        i, f, o, g = (acts[:, j] for j in range(4))                   # (T, B, H)
        ig = prods[:, 0]
        # With dc' = dL/dc' the gate pre-activation gradients are dc' i g (1 - i),
        # dc' f c (1 - f), dc' (i - i g g) (= dc' i (1 - g^2)) and dh o (1 - o) tanh c', by the
        # products the forward kept; the factors after dc' and dh depend on forward values
        # only, so they are formed for all steps at once, gate-major in PyTorch's order
        # i, f, g, o (contiguous passes, two per factor)
        fac = _buffers.empty(xp, (T, 4, B, H), dtype)
        fg, fo = fac[:, 2], fac[:, 3]
        xp.subtract(1, acts[:, :2], out=fac[:, :2])
        fac[:, :2] *= prods
        xp.multiply(ig, g, out=fg)
        xp.subtract(i, fg, out=fg)
        xp.subtract(1, o, out=fo)
        fo *= o
        fo *= tc
        through_h = _buffers.empty(xp, (T, B, H), dtype)        # dh'/dc' = o (1 - tanh^2 c')
        xp.multiply(tc, tc, out=through_h)
        xp.subtract(1, through_h, out=through_h)
        through_h *= o
        # dL/d(pre-activations), gate-major in PyTorch's order, by time t (not step k):
        # the weight gradients below are then batched products with no transposed copy
        da = _buffers.empty(xp, (4, T, B, H), dtype)
        w4 = w_hh.reshape(4, H, H)
        dh_parts = xp.empty((4, B, H), dtype)
        dh = xp.zeros((B, H), dtype)
        dc = xp.zeros((B, H), dtype) if gc is None else gc.copy()
        tmp = xp.empty((B, H), dtype)
        # the four gates' parts of dL/dh summed as one product with ones (a (4,) x (4, B H)
        # product: 2.2 us against 4.3 us for three adds at (4, 32, 128))
        ones, parts = ones_vector(xp, 4, dtype), dh_parts.reshape(4, B * H)
        dh_flat = dh.reshape(-1)
        needs = layer.needs_input_grad
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            if gout is not None:
                dh += gout[t]
            dc += xp.multiply(dh, through_h[k], out=tmp)          # dc' = dc + dh dh'/dc'
            d = da[:, t]
            xp.multiply(dc, fac[k, :3], out=d[:3])
            xp.multiply(dh, fo[k], out=d[3])
            if k or needs[2]:                   # dL/dc of the step before (dL/dc0 at k = 0)
                dc *= f[k]
            if k or needs[1]:                   # dL/dh of the step before (dL/dh0 at k = 0)
                xp.matmul(d, w4, out=dh_parts)
                xp.matmul(ones, parts, out=dh_flat)
        flat = da.reshape(4, T * B, H)
        flat_t = flat.transpose(0, 2, 1)
        z = layer.xa                        # [h | x | 1] by time: each time's input h, x, 1
        gw_ih = gb = None
        if needs[3] or b_ih is not None:
            # [dL/dW_hh | dL/dW_ih | dL/db] per gate as one product by z = [h | x | 1]
            # (4 x (H, T B) x (T B, H + I + 1): 1.47 against 1.63 ms for the two products
            # by h and by [x | 1] at T = B = 32, I = 64, H = 128, float32)
            wb = xp.matmul(flat_t, z)
            gw_hh = xp.ascontiguousarray(wb[..., :H]).reshape(G, H)
            gw_ih = xp.ascontiguousarray(wb[..., H:H + I]).reshape(G, I) if needs[3] else None
            gb = xp.ascontiguousarray(wb[..., H + I]).reshape(G) if b_ih is not None else None
        else:
            gw_hh = xp.matmul(flat_t, z[:, :H]).reshape(G, H)
        gx = None
        if needs[0]:
            gx = xp.matmul(flat, w_ih.reshape(4, H, I)).sum(0).reshape(T, B, I)
        return (gx, dh if needs[1] else None, dc if needs[2] else None, gw_ih, gw_hh, gb,
                None if gb is None else gb.copy())

    def backward(self, *grads):
        def replay(x, h0, c0, w_ih, w_hh, b_ih, b_hh, gout, gc):
            xw = F.linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
            if h0 is None or c0 is None:                # initial states None: zeros
                zeros = autograd.zeros(xw.shape[1:2] + w_hh.shape[1:], dtype=x.dtype,
                                       device=x.device)
                h0, c0 = (zeros if h0 is None else h0), (zeros if c0 is None else c0)
            return _lstm_by_steps(xw, h0, c0, w_hh, self.reverse), (gout, gc)
        return _replay_backward(self.saved_tensors, grads, replay)


class GRULayerOp(Op):
    """A whole GRU layer over time as one node, its input product included: (x (T, B, I),
    h0 (B, H), W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,) or None) -> out (T, B, H);
    ``reverse`` as ``LSTMLayerOp``.

    x W_ih^T + b_ih (+ b_hr, b_hz) is a batched product of [x | 1] landing gate-major,
    a chunk of steps at a time, as in ``LSTMLayerOp``.  Forward keeps every step's activations gate-major, (T, 4, B, H)
    as r, z, hn = h W_hn^T + b_hn, n (contiguous passes), and the inputs h, which
    ``GRULayerGrad`` reads: then the weight and bias gradients are one batched product
    each over all steps, not T of each accumulated one by one.
    """
    __slots__ = ('reverse', 'acts', 'hs', 'xa')
    save = (0, 1, 2, 3, 4, 5)
    array_backward = True

    def forward(self, xp, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        self.reverse = reverse
        T, B, I = x.shape
        G = w_hh.shape[0]
        H = G // 3
        dtype = x.dtype
        bias = b_ih is not None
        # r and z pre-activations formed negated for 1 / (1 + e^a); one (B, H) x (3, H, H)
        # call lands r, z and hn in their contiguous blocks
        self.xa = xa = _buffers.empty(xp, (T * B, I + bias), dtype)
        xa.reshape(T, B, I + bias)[..., :I] = x          # one copy, x contiguous or not
        wa = xp.empty((3, I + bias, H), dtype)
        wa[:, :I] = w_ih.reshape(3, H, I).transpose(0, 2, 1)
        w_t = _buffers.empty(xp, (3, H, H), dtype)
        w_t[...] = w_hh.reshape(3, H, H).transpose(0, 2, 1)
        b_hn = None
        if bias:                                # b_hr, b_hz ride with b_ih; b_hn is inside r
            xa[:, I] = 1
            b3 = wa[:, I]
            b3[...] = b_ih.reshape(3, H)
            b3[:2] += b_hh.reshape(3, H)[:2]
            b_hn = b_hh[2 * H:]
        wa[:2] *= -1
        w_t[:2] *= -1
        # the input product for C steps at a time, as in ``LSTMLayerOp``
        C = max(1, min(T, 2 ** 19 // (3 * B * H * x.itemsize)))
        pre_buf = _buffers.empty(xp, (3, C * B, H), dtype)
        pre = pre_buf.reshape(3, C, B, H)
        self.hs = hs = _buffers.empty(xp, (T + 1, B, H), dtype)
        self.acts = acts = _buffers.empty(xp, (T, 4, B, H), dtype)     # r, z, hn, n
        hs[0] = h0
        with quiet_float_errors(xp):
            for k, t in enumerate(_order(T, reverse)):
                if k % C == 0:                      # times t0 .. t0 + m - 1 come next
                    m = min(C, T - k)
                    t0 = t - m + 1 if reverse else t
                    xp.matmul(xa[t0 * B:(t0 + m) * B], wa, out=pre_buf[:, :m * B])
                a = acts[k]
                xp.matmul(hs[k], w_t, out=a[:3])
                if b_hn is not None:
                    a[2] += b_hn
                a[:2] += pre[:2, t - t0]
                _inv_one_plus_exp_(xp, a[:2])
                n = a[3]                                        # tanh(x_n + r hn)
                xp.multiply(a[0], a[2], out=n)
                n += pre[2, t - t0]
                _tanh_(xp, n)
                h = hs[k + 1]                                   # n + z (h - n)
                xp.subtract(hs[k], n, out=h)
                h *= a[1]
                h += n
        out = hs[1:][::-1] if reverse else hs[1:]
        return xp.ascontiguousarray(out)

    def backward(self, gout):
        return GRULayerGrad.apply(*self.saved_tensors, gout, layer=self)


class GRULayerGrad(Op):
    """Backpropagation through time of the ``GRULayerOp`` node ``layer``:
    (x, h0, W_ih, W_hh, b_ih, b_hh, dL/dout) -> dL/d(x, h0, W_ih, W_hh, b_ih, b_hh), on
    the values the layer's forward kept.  Its own derivative differentiates the layer run
    step by step with ``GRUCellOp`` twice, as ``LSTMLayerGrad``'s does."""
    __slots__ = ('reverse',)
    save = (0, 1, 2, 3, 4, 5, 6)

    def forward(self, xp, x, h0, w_ih, w_hh, b_ih, b_hh, gout, *, layer):
        self.reverse = reverse = layer.reverse
        acts, hs = layer.acts, layer.hs
        T, _, B, H = acts.shape
        G, I = 3 * H, x.shape[-1]
        dtype = acts.dtype
        r, z, hn, n = (acts[:, j] for j in range(4))
        # dL/d(pre-activations): n: dh (1 - z)(1 - n^2); z: dh (h - n) z (1 - z);
        # r: dL/dn_pre hn r (1 - r); the h-gates' n part is dL/dn_pre r.  The factors
        # after dh and dL/dn_pre are formed for all steps at once
        fac = _buffers.empty(xp, (3, T, B, H), dtype)
        fn, fz, fr = fac
        one_z = _buffers.empty(xp, (T, B, H), dtype)
        xp.subtract(1, z, out=one_z)
        xp.multiply(n, n, out=fn)
        xp.subtract(1, fn, out=fn)
        fn *= one_z
        xp.subtract(hs[:-1], n, out=fz)
        fz *= z
        fz *= one_z
        xp.subtract(1, r, out=fr)
        fr *= r
        fr *= hn
        # by time t, gate-major: dL/dn_pre, dL/dr_pre, dL/dz_pre, dL/dn_pre r, so that the
        # x-gates' gradients are d[:3] (n, r, z) and the h-gates' d[1:] (r, z, n), each a
        # contiguous stack for the batched products after the loop
        d = _buffers.empty(xp, (4, T, B, H), dtype)
        w3 = w_hh.reshape(3, H, H)
        parts = xp.empty((3, B, H), dtype)
        tmp = xp.empty((B, H), dtype)
        dh = xp.zeros((B, H), dtype)
        # the three gates' parts summed as one product with ones, as in ``LSTMLayerGrad``
        ones, parts_flat = ones_vector(xp, 3, dtype), parts.reshape(3, B * H)
        tmp_flat = tmp.reshape(-1)
        needs = layer.needs_input_grad
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            if gout is not None:
                dh += gout[t]
            dn, dr, dz, dnr = d[:, t]
            xp.multiply(dh, fn[k], out=dn)
            xp.multiply(dn, fr[k], out=dr)
            xp.multiply(dh, fz[k], out=dz)
            xp.multiply(dn, r[k], out=dnr)
            if k or needs[1]:                   # dL/dh of the step before (dL/dh0 at k = 0)
                dh *= z[k]
                xp.matmul(d[1:, t], w3, out=parts)
                dh += xp.matmul(ones, parts_flat, out=tmp_flat).reshape(B, H)
        flat = d.reshape(4, T * B, H)
        h_in = hs[-2::-1] if reverse else hs[:-1]                # each time's input h
        gw_hh = xp.matmul(flat[1:].transpose(0, 2, 1),
                          xp.ascontiguousarray(h_in).reshape(T * B, H)).reshape(G, H)
        gw_ih = gb_ih = gb_hh = gx = None
        if needs[2] or b_ih is not None:
            xa = layer.xa                                        # [x | 1], by time
            wb = xp.matmul(flat[:3].transpose(0, 2, 1), xa)     # gates n, r, z
            wb = xp.concatenate([wb[1:], wb[:1]]).reshape(G, xa.shape[1])
            gw_ih = xp.ascontiguousarray(wb[:, :I]) if needs[2] else None
            if b_ih is not None:
                gb_ih = wb[:, I].copy()
                gb_hh = flat[1:].sum(1).reshape(G)
        if needs[0]:
            wi = w_ih.reshape(3, H, I)
            gx = xp.matmul(flat[:3], xp.concatenate([wi[2:], wi[:2]])).sum(0).reshape(T, B, I)
        return gx, dh if needs[1] else None, gw_ih, gw_hh, gb_ih, gb_hh

    def backward(self, *grads):
        def replay(x, h0, w_ih, w_hh, b_ih, b_hh, gout):
            return (_gru_by_steps(F.linear(x, w_ih, b_ih), h0, w_hh, b_hh, self.reverse),), \
                (gout,)
        return _replay_backward(self.saved_tensors, grads, replay)


class RNNLayerOp(Op):
    """A whole Elman RNN layer over time as one node, its input product included:
    (x (T, B, I), h0 (B, H), W_ih (H, I), W_hh (H, H), b_ih, b_hh (H,) or None) ->
    out (T, B, H), with tanh or (``relu``) ReLU; ``reverse`` as ``LSTMLayerOp``.
    x W_ih^T + b_ih + b_hh for all steps is one product of [x | 1] (as in
    ``LSTMLayerOp``: no bias pass, none per step).  Forward keeps every step's h, which
    ``RNNLayerGrad`` reads."""
    __slots__ = ('reverse', 'relu', 'hs', 'xa')
    save = (0, 1, 2, 3, 4, 5)
    array_backward = True

    def forward(self, xp, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, relu):
        self.reverse, self.relu = reverse, relu
        T, B, I = x.shape
        H = w_hh.shape[0]
        bias = b_ih is not None
        self.xa = xa = _buffers.empty(xp, (T * B, I + bias), x.dtype)
        xa.reshape(T, B, I + bias)[..., :I] = x          # one copy, x contiguous or not
        wa = xp.empty((I + bias, H), x.dtype)
        wa[:I] = w_ih.T
        if bias:
            xa[:, I] = 1
            xp.add(b_ih, b_hh, out=wa[I])
        pre = _buffers.empty(xp, (T * B, H), x.dtype)
        xp.matmul(xa, wa, out=pre)
        pre = pre.reshape(T, B, H)
        w_t = xp.ascontiguousarray(w_hh.T)       # (row-major: see LSTMLayerOp)
        self.hs = hs = _buffers.empty(xp, (T + 1, B, H), x.dtype)
        hs[0] = h0
        for k, t in enumerate(_order(T, reverse)):
            a = hs[k + 1]
            xp.matmul(hs[k], w_t, out=a)
            a += pre[t]
            if relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
        out = hs[1:][::-1] if reverse else hs[1:]
        return xp.ascontiguousarray(out)

    def backward(self, gout):
        return RNNLayerGrad.apply(*self.saved_tensors, gout, layer=self)


class RNNLayerGrad(Op):
    """Backpropagation through time of the ``RNNLayerOp`` node ``layer``:
    (x, h0, W_ih, W_hh, b_ih, b_hh, dL/dout) -> dL/d(x, h0, W_ih, W_hh, b_ih, b_hh).  Its
    own derivative replays the layer step by step, as ``LSTMLayerGrad``'s does."""
    __slots__ = ('reverse', 'relu')
    save = (0, 1, 2, 3, 4, 5, 6)

    def forward(self, xp, x, h0, w_ih, w_hh, b_ih, b_hh, gout, *, layer):
        self.reverse, self.relu = reverse, relu = layer.reverse, layer.relu
        hs = layer.hs
        T1, B, H = hs.shape
        T, I = T1 - 1, x.shape[-1]
        da = _buffers.empty(xp, (T, B, H), hs.dtype)          # dL/d(pre-activation), step order
        if relu:
            xp.greater(hs[1:], 0, out=da)                       # relu' as 0/1
        else:
            xp.multiply(hs[1:], hs[1:], out=da)                 # tanh' = 1 - h'^2
            xp.subtract(1, da, out=da)
        dh = xp.zeros((B, H), hs.dtype)
        needs = layer.needs_input_grad
        for k in range(T - 1, -1, -1):
            if gout is not None:
                dh += gout[T - 1 - k if reverse else k]
            d = da[k]
            d *= dh
            if k or needs[1]:                   # dL/dh of the step before (dL/dh0 at k = 0)
                xp.matmul(d, w_hh, out=dh)
        gw_hh = xp.matmul(da.reshape(T * B, H).T, hs[:-1].reshape(T * B, H))
        flat = (xp.ascontiguousarray(da[::-1]) if reverse else da).reshape(T * B, H)  # by time
        gx = gw_ih = gb = None
        if needs[2] or b_ih is not None:
            xa = layer.xa
            wb = xp.matmul(flat.T, xa)                           # [dL/dW_ih | dL/db]
            gw_ih = xp.ascontiguousarray(wb[:, :I]) if needs[2] else None
            gb = wb[:, I].copy() if b_ih is not None else None
        if needs[0]:
            gx = xp.matmul(flat, w_ih).reshape(T, B, I)
        return (gx, dh if needs[1] else None, gw_ih, gw_hh, gb,
                None if gb is None else gb.copy())

    def backward(self, *grads):
        def replay(x, h0, w_ih, w_hh, b_ih, b_hh, gout):
            xw = F.linear(x, w_ih, b_ih)
            outs = [None] * xw.shape[0]
            h = h0
            for t in _order(xw.shape[0], self.reverse):
                h = outs[t] = _rnn_step(xw[t], h, w_hh, b_hh, self.relu)
            return (autograd.stack(outs, 0),), (gout,)
        return _replay_backward(self.saved_tensors, grads, replay)


def _gru_by_steps(xw, h, w_hh, b_hh, reverse):
    """What ``GRULayerOp`` computes, one ``GRUCellOp`` per step."""
    outs = [None] * xw.shape[0]
    for t in _order(xw.shape[0], reverse):
        h = _gru_step(xw[t], h, w_hh, b_hh)
        outs[t] = h
    return autograd.stack(outs, 0)


def _replay_backward(inputs, grads, replay):
    """Backward of a layer-gradient node (whose outputs are the first derivatives) by
    replaying the layer step by step and differentiating twice.  ``replay(*xs)`` returns
    (outputs, cotangents), the cotangents being the last inputs."""
    def firsts(*xs):
        outputs, cotangents = replay(*xs)
        return _vjp(outputs, xs[:len(xs) - len(cotangents)], cotangents, create=True)
    return replay_backward(inputs, grads, firsts,
                           [x is not None and x.requires_grad for x in inputs])


def _vjp(outputs, inputs, cotangents, create):
    """sum_j cotangent_j . d outputs_j / d inputs (None where an input is None or unused)."""
    pairs = [(y, v) for y, v in zip(outputs, cotangents) if y is not None and v is not None]
    wrt = [x for x in inputs if x is not None]
    if not pairs:
        return [None] * len(inputs)
    found = iter(autograd.grad([y for y, _ in pairs], wrt, [v for _, v in pairs],
                               create_graph=create, allow_unused=True))
    return [None if x is None else next(found) for x in inputs]


def _lstm_by_steps(xw, h, c, w_hh, reverse):
    """What ``LSTMLayerOp`` computes, one ``LSTMCellOp`` per step."""
    outs = [None] * xw.shape[0]
    for t in _order(xw.shape[0], reverse):
        h, c = _lstm_step(xw[t], h, c, w_hh, None)
        outs[t] = h
    return autograd.stack(outs, 0), c


def _lstm_step(xw, h, c, w_hh, w_hr):
    """One LSTM step; ``xw`` holds x W_ih^T + b_ih + b_hh."""
    h, c = LSTMCellOp.apply(xw, F.linear(h, w_hh), c)
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_step(xw, h, w_hh, b_hh):
    return GRUCellOp.apply(xw, F.linear(h, w_hh, b_hh), h)


def _rnn_step(xw, h, w_hh, b_hh, relu):
    a = xw + F.linear(h, w_hh, b_hh)
    return a.relu() if relu else a.tanh()


# ----------------------------------------------------------------------------- layers

_GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def _reset_uniform(module):
    """PyTorch's initialisation of recurrent layers and cells: every parameter
    U(-1/sqrt(H), 1/sqrt(H)) for hidden size H."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


class RNNBase(Module):
    """Multi-layer, optionally bidirectional recurrence.  Parameters per layer k and
    direction (suffix '' or '_reverse'): weight_ih_l{k} (G*H, in), weight_hh_l{k} (G*H, H),
    bias_ih_l{k}, bias_hh_l{k} (G*H,), and weight_hr_l{k} (proj, H) for a projected LSTM;
    all initialised U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError('dropout should be a number in range [0, 1] representing the '
                             'probability of an element being zeroed')
        if not isinstance(hidden_size, int):
            raise TypeError(f'hidden_size should be of type int, got: '
                            f'{type(hidden_size).__name__}')
        if hidden_size <= 0:
            raise ValueError('hidden_size must be greater than zero')
        if num_layers <= 0:
            raise ValueError('num_layers must be greater than zero')
        if proj_size < 0:
            raise ValueError('proj_size should be a positive integer or zero to disable '
                             'projections')
        if proj_size >= hidden_size:
            raise ValueError('proj_size has to be smaller than hidden_size')
        if proj_size and mode != 'LSTM':
            raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        kw = dict(device=device, dtype=dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                layer_in = input_size if layer == 0 else real_hidden * dirs
                suffix = '_reverse' if d == 1 else ''
                shapes = [('weight_ih', (gate_size, layer_in)),
                          ('weight_hh', (gate_size, real_hidden))]
                if bias:
                    shapes += [('bias_ih', (gate_size,)), ('bias_hh', (gate_size,))]
                if proj_size > 0:
                    shapes.append(('weight_hr', (proj_size, hidden_size)))
                for name, shape in shapes:
                    full = f'{name}_l{layer}{suffix}'
                    setattr(self, full, Parameter(autograd.empty(*shape, **kw)))
                    self._flat_weights_names.append(full)
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: weights need no flattening here."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names[i:i + self._per_dir()]]
                for i in range(0, len(self._flat_weights_names), self._per_dir())]

    def _per_dir(self):
        return 2 + 2 * bool(self.bias) + (self.proj_size > 0)

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if self.proj_size != 0:
            s += ', proj_size={proj_size}'
        if self.num_layers != 1:
            s += ', num_layers={num_layers}'
        if self.bias is not True:
            s += ', bias={bias}'
        if self.batch_first is not False:
            s += ', batch_first={batch_first}'
        if self.dropout != 0:
            s += ', dropout={dropout}'
        if self.bidirectional is not False:
            s += ', bidirectional={bidirectional}'
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ forward
    def _name(self):
        return 'RNN' if self.mode.startswith('RNN') else self.mode

    def _weights(self, layer, d):
        suffix = '_reverse' if d == 1 else ''
        get = lambda name: getattr(self, f'{name}_l{layer}{suffix}', None)   # noqa: E731
        return get('weight_ih'), get('weight_hh'), get('bias_ih'), get('bias_hh'), \
            get('weight_hr')

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f'Expected {what} size {expected}, got {list(hx.shape)}')

    def forward(self, input, hx=None):
        """input (L, N, H_in) ((N, L, H_in) with batch_first, (L, H_in) unbatched);
        hx (num_layers * dirs, N, H_out) ((h0, c0) for LSTM), zeros if None.
        Returns (output (L, N, dirs * H_out), h_n) (h_n = (h_n, c_n) for LSTM).
        A ``PackedSequence`` input gives a ``PackedSequence`` output, and h_n holds each
        sequence's state at its own last step."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        lstm = self.mode == 'LSTM'
        name = self._name()
        if input.ndim not in (2, 3):
            raise ValueError(f'{name}: Expected input to be 2D or 3D, got {input.ndim}D '
                             f'{"tensor " if name == "RNN" else ""}instead')
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hs = hx if lstm else (hx,)
                if any(h.ndim != 2 for h in hs):
                    dims = ', '.join(f'{h.ndim}-D' for h in hs)
                    raise RuntimeError(
                        'For unbatched 2-D input, hx and cx should also be 2-D but got '
                        f'({dims}) tensors' if lstm else
                        f'For unbatched 2-D input, hx should also be 2-D but got {dims} tensor')
                hx = tuple(h.unsqueeze(1) for h in hs) if lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected '
                               f'{self.input_size}, got {input.shape[-1]}')
        dirs = 2 if self.bidirectional else 1
        batch = input.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape = (self.num_layers * dirs, batch, real_hidden)
        c_shape = (self.num_layers * dirs, batch, self.hidden_size)
        if hx is None and lstm and not self.proj_size:
            h0s = c0s = (None,) * (self.num_layers * dirs)   # the fused layers start at zeros
        elif hx is None:
            h0 = autograd.zeros(h_shape, dtype=input.dtype, device=input.device)
            c0 = autograd.zeros(c_shape, dtype=input.dtype, device=input.device) if lstm \
                else None
        elif lstm:
            h0, c0 = hx
            self._check_hidden(h0, h_shape, 'hidden[0]')
            self._check_hidden(c0, c_shape, 'hidden[1]')
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, h_shape, 'hidden')
        if hx is not None or not lstm or self.proj_size:
            h0s = h0.unbind(0)
            c0s = c0.unbind(0) if lstm else None
        x = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = self._run(x, layer, d, h0s[k], c0s[k] if lstm else None)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else autograd.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = x
        stack = (lambda ts: ts[0].unsqueeze(0)) if len(h_n) == 1 else \
            (lambda ts: autograd.stack(ts, 0))
        hidden = stack(h_n)
        if lstm:
            hidden = (hidden, stack(c_n))
        if not batched:
            output = output.squeeze(1)
            hidden = tuple(h.squeeze(1) for h in hidden) if lstm else hidden.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, hidden

    def _forward_packed(self, packed, hx):
        """The layers over packed data (sum of lengths, H_in), kept packed: at step t only
        the first batch_sizes[t] sequences (the longest, as packing sorts them) advance."""
        lstm = self.mode == 'LSTM'
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        if data.ndim != 2:
            raise RuntimeError(f'input must have 2 dimensions, got {data.ndim}')
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected '
                               f'{self.input_size}, got {data.shape[-1]}')
        sizes = [int(n) for n in batch_sizes.tolist()]
        dirs = 2 if self.bidirectional else 1
        batch = sizes[0] if sizes else 0
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape = (self.num_layers * dirs, batch, real_hidden)
        c_shape = (self.num_layers * dirs, batch, self.hidden_size)
        if hx is None:
            h0 = autograd.zeros(h_shape, dtype=data.dtype, device=data.device)
            c0 = autograd.zeros(c_shape, dtype=data.dtype, device=data.device) if lstm \
                else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            if sorted_indices is not None:      # hx comes in the caller's batch order
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if lstm else None
            self._check_hidden(h0, h_shape, 'hidden[0]' if lstm else 'hidden')
            if lstm:
                self._check_hidden(c0, c_shape, 'hidden[1]')
        h0s = h0.unbind(0)
        c0s = c0.unbind(0) if lstm else None
        x = data
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = self._run_packed(x, sizes, layer, d, h0s[k],
                                             c0s[k] if lstm else None)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else autograd.cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        hidden = [autograd.stack(h_n, 0)] + ([autograd.stack(c_n, 0)] if lstm else [])
        if unsorted_indices is not None:        # back to the caller's batch order
            hidden = [h.index_select(1, unsorted_indices) for h in hidden]
        output = PackedSequence(x, batch_sizes, sorted_indices, unsorted_indices)
        return output, (tuple(hidden) if lstm else hidden[0])

    def _run_packed(self, x, sizes, layer, d, h, c):
        """One layer in one direction over packed rows x; returns the packed outputs and
        the final states (B, H) (the forward direction's at each sequence's last step)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
        mode = self.mode
        if mode == 'LSTM' and b_ih is not None:
            b_ih, b_hh = b_ih + b_hh, None
        steps = F.linear(x, w_ih, b_ih).split(sizes, 0)     # all input products in one GEMM
        outs = [None] * len(steps)
        for t in _order(len(steps), d == 1):
            n = sizes[t]
            ht, ct = h[:n], (c[:n] if c is not None else None)
            if mode == 'LSTM':
                ht, ct = _lstm_step(steps[t], ht, ct, w_hh, w_hr)
            elif mode == 'GRU':
                ht = _gru_step(steps[t], ht, w_hh, b_hh)
            else:
                ht = _rnn_step(steps[t], ht, w_hh, b_hh, mode == 'RNN_RELU')
            outs[t] = ht
            # sequences past their end (forward) or not yet started (reverse) keep their state
            h = ht if n == h.shape[0] else autograd.cat([ht, h[n:]])
            if c is not None:
                c = ct if n == c.shape[0] else autograd.cat([ct, c[n:]])
        out = autograd.cat(outs, 0) if outs else autograd.zeros(
            0, h.shape[-1], dtype=x.dtype, device=x.device)
        return out, h, c

    def _run(self, x, layer, d, h, c):
        """One layer in one direction over the whole sequence x (L, N, in)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
        mode = self.mode
        if mode == 'LSTM' and w_hr is None:
            out, c = LSTMLayerOp.apply(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse=d == 1)
            return out, out[0 if d == 1 else -1], c
        if mode == 'GRU':
            out = GRULayerOp.apply(x, h, w_ih, w_hh, b_ih, b_hh, reverse=d == 1)
            return out, out[0 if d == 1 else -1], c
        if mode != 'LSTM':
            out = RNNLayerOp.apply(x, h, w_ih, w_hh, b_ih, b_hh, reverse=d == 1,
                                   relu=mode == 'RNN_RELU')
            return out, out[0 if d == 1 else -1], c
        # an LSTM with projections, step by step
        b = None if b_ih is None else b_ih + b_hh      # both biases added once, not per step
        steps = F.linear(x, w_ih, b).unbind(0)         # all input products in one GEMM
        outs = [None] * len(steps)
        for t in _order(len(steps), d == 1):
            h, c = _lstm_step(steps[t], h, c, w_hh, w_hr)
            outs[t] = h
        return autograd.stack(outs, 0), h, c


class RNN(RNNBase):
    """Elman recurrence h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if nonlinearity not in ('tanh', 'relu'):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__('RNN_TANH' if nonlinearity == 'tanh' else 'RNN_RELU', input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o; optional
    output projection (proj_size).  forward returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__('LSTM', input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), gates r, z, n with b_hn inside the reset
    product, as PyTorch."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        super().__init__('GRU', input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ----------------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """One time step.  weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,),
    initialised U(-1/sqrt(H), 1/sqrt(H))."""
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = self._gates * hidden_size
        empty_parameters(self, device, dtype, weight_ih=(g, input_size),
                         weight_hh=(g, hidden_size), bias_ih=(g,) if bias else None,
                         bias_hh=(g,) if bias else None)
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if self.bias is not True:
            s += ', bias={bias}'
        if 'nonlinearity' in self.__dict__ and self.nonlinearity != 'tanh':
            s += ', nonlinearity={nonlinearity}'
        return s.format(**self.__dict__)

    def _prepare(self, input, hx, n_states):
        """Batch unbatched input; zeros for a missing state; PyTorch's shape checks."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f'{name}: Expected input to be 1D or 2D, got {input.ndim}D '
                             'instead')
        hs = None if hx is None else (hx if n_states == 2 else (hx,))
        if hs is not None and any(h.ndim not in (1, 2) for h in hs):
            raise ValueError(f'{name}: Expected hidden to be 1D or 2D, got '
                             f'{next(h.ndim for h in hs if h.ndim not in (1, 2))}D instead')
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f'input has inconsistent input_size: got {input.shape[1]} '
                               f'expected {self.input_size}')
        if hs is None:
            z = autograd.zeros(input.shape[0], self.hidden_size, dtype=input.dtype,
                               device=input.device)
            hs = (z,) * n_states
        elif not batched:
            hs = tuple(h.unsqueeze(0) for h in hs)
        for k, h in enumerate(hs):
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} "
                                   f'batch size {h.shape[0]}')
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f'hidden{k} has inconsistent hidden_size: got {h.shape[1]}, '
                                   f'expected {self.hidden_size}')
        return input, hs, batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        if self.nonlinearity not in ('tanh', 'relu'):
            raise RuntimeError(f'Unknown nonlinearity: {self.nonlinearity}')
        h = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                      self.bias_hh, self.nonlinearity == 'relu')
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (input, (h, c)) -> (h', c')."""
    _gates = 4

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        b = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        h, c = _lstm_step(F.linear(x, self.weight_ih, b), h, c, self.weight_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: (input, h) -> h'."""
    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        h = GRUStepOp.apply(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)

"""Connectionist Temporal Classification (Graves et al. 2006): the negative log
likelihood of a label sequence summed over all its alignments, by the forward-backward
recursion in log space.

With the blank-extended labels ``l'`` (length ``L = 2S + 1``), the forward variable
``alpha_t(s)`` is the log probability of the alignments of the first ``s + 1`` extended
labels with the first ``t + 1`` frames (eq. 6-7 of the paper) and ``beta_t(s)`` that of
the rest (eq. 10-11); both include frame ``t``'s own log probability.  Then
``nll = -log(exp(alpha_{T-1}(L-1)) + exp(alpha_{T-1}(L-2)))`` and the occupation
``exp(alpha_t(s) + beta_t(s) - lp_t(l'_s) + nll)`` of each (frame, label) pair gives the
gradient (eq. 16).
"""
from autograd.extend import Op, const_like, quiet_float_errors

__all__ = ['CTCNegLogLikelihood', 'quiet_float_errors']


def _shift(xp, a, k, fill):
    """``a`` moved ``k`` places right along the last axis, ``fill`` entering on the left."""
    out = xp.full_like(a, fill)
    out[..., k:] = a[..., :-k]
    return out


def _shift_left(xp, a, k, fill):
    """``a`` moved ``k`` places left along the last axis, ``fill`` entering on the right."""
    out = xp.full_like(a, fill)
    out[..., :-k] = a[..., k:]
    return out


def _alpha(xp, lp_ext, skip, valid):
    """Forward variables ``(T, N, L)``; ``lp_ext[t, n, s] = lp[t, n, l'_s]``."""
    T, N, L = lp_ext.shape
    ninf = -xp.inf
    alpha = xp.full((T, N, L), ninf, dtype=lp_ext.dtype)
    alpha[0, :, :2] = lp_ext[0, :, :2]
    alpha[0] = xp.where(valid, alpha[0], ninf)
    for t in range(1, T):
        prev = alpha[t - 1]
        a = xp.logaddexp(prev, _shift(xp, prev, 1, ninf))
        a = xp.where(skip, xp.logaddexp(a, _shift(xp, prev, 2, ninf)), a)
        alpha[t] = xp.where(valid, a + lp_ext[t], ninf)
    return alpha


def _beta(xp, lp_ext, skip, valid, in_lens, ext_lens):
    """Backward variables ``(T, N, L)``, started at each sequence's own last frame."""
    T, N, L = lp_ext.shape
    ninf = -xp.inf
    beta = xp.full((T, N, L), ninf, dtype=lp_ext.dtype)
    s = xp.arange(L)
    last = (s == (ext_lens - 1)[:, None]) | (s == (ext_lens - 2)[:, None])     # (N, L)
    # skip into s + 2 is allowed when s + 2 itself may be skipped to
    skip_from = xp.zeros_like(skip)
    skip_from[:, :-2] = skip[:, 2:]
    for t in range(T - 1, -1, -1):
        start = (in_lens - 1 == t)[:, None] & last & valid
        if t + 1 < T:
            nxt = beta[t + 1]
            b = xp.logaddexp(nxt, _shift_left(xp, nxt, 1, ninf))
            b = xp.where(skip_from, xp.logaddexp(b, _shift_left(xp, nxt, 2, ninf)), b)
            inside = (t < in_lens - 1)[:, None] & valid
            beta[t] = xp.where(inside, b + lp_ext[t], ninf)
        beta[t] = xp.where(start, lp_ext[t], beta[t])
    return beta


class CTCNegLogLikelihood(Op):
    """Per-sequence CTC loss ``(N,)`` of log probabilities ``(T, N, C)``.

    ``targets`` ``(N, S)`` are padded label arrays; the lengths are integer arrays.
    Backward follows PyTorch's ``ctc_loss_backward``: the gradient with respect to the
    log probabilities is ``exp(lp) - occupation`` (the ``exp(lp)`` term, which vanishes
    after a log_softmax, makes the result the gradient with respect to the logits).
    """
    __slots__ = ('grad',)
    array_backward = True

    def forward(self, xp, lp, targets=None, in_lens=None, tgt_lens=None, blank=0,
                zero_infinity=False, need_grad=False):
        T, N, C = lp.shape
        S = targets.shape[1]
        L = 2 * S + 1
        ext = xp.full((N, L), blank, dtype=targets.dtype)
        ext[:, 1::2] = targets
        ext_lens = 2 * tgt_lens + 1
        s = xp.arange(L)
        valid = s[None, :] < ext_lens[:, None]                                    # (N, L)
        prev2 = _shift(xp, ext, 2, blank)
        skip = (s[None, :] >= 2) & (ext != blank) & (ext != prev2)
        picks = xp.broadcast_to(xp.clip(ext, 0, C - 1)[None], (T, N, L))   # padding may be junk
        lp_ext = xp.take_along_axis(lp, picks, axis=2)
        alpha = _alpha(xp, lp_ext, skip, valid)
        rows = xp.arange(N)
        end = alpha[in_lens - 1, rows]                                            # (N, L)
        last = end[rows, ext_lens - 1]
        before = xp.where(ext_lens >= 2, end[rows, xp.maximum(ext_lens - 2, 0)], -xp.inf)
        nll = -xp.logaddexp(last, before)
        self.grad = None
        if need_grad:
            beta = _beta(xp, lp_ext, skip, valid, in_lens, ext_lens)
            self.grad = _gradient(xp, lp, alpha + beta, ext, nll, in_lens)
        if zero_infinity:
            inf = xp.isinf(nll)
            nll = xp.where(inf, 0, nll)
            if self.grad is not None:
                self.grad = xp.where(inf[None, :, None], 0, self.grad)
        return nll

    def backward(self, g):
        return g.reshape(1, -1, 1) * const_like(self.grad, g)


def _gradient(xp, lp, ab, ext, nll, in_lens):
    """``exp(lp) - exp(logsumexp_{s: l'_s = c}(alpha + beta) + nll - lp)``, zero beyond
    each sequence's length."""
    T, N, C = lp.shape
    m = ab.max(axis=2, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    onehot = (ext[:, :, None] == xp.arange(C)).astype(lp.dtype)                  # (N, L, C)
    with quiet_float_errors(xp):
        occ = xp.einsum('tnl,nlc->tnc', xp.exp(ab - m), onehot)
        lcab = xp.log(occ) + m
        grad = xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)
    inside = xp.arange(T)[:, None] < in_lens[None, :]
    return xp.where(inside[:, :, None], grad, 0).astype(lp.dtype)


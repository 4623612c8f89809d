"""Loss functions (PyTorch's ``torch.nn.functional`` losses).

Every loss takes ``reduction='mean'|'sum'|'none'`` (and the legacy ``size_average`` /
``reduce`` flags).  Cross-entropy and NLL are one fused op each: they share
``loss_i = -sum_c q_ic z_ic`` with ``z = log_softmax(x)`` (cross-entropy) or ``z = x``
(NLL), where the constant coefficients ``q`` encode the class indices or probabilities,
class weights, label smoothing and ignored targets.  The other losses are compositions of
differentiable ops, as in PyTorch's reference formulas.
"""
import math
import warnings

import numpy

import autograd
from autograd import where
from autograd.extend import Op, array_of, const_like, needs_grad, scalar_name, wrap, xp_of
from autograd.extend import check_data
from autograd.extend import ones_vector, opmath, row_max
from autograd.extend import named, renamed
from autograd.ops.formula import Clamp, Log, Log1p, LogSoftmax, Sigmoid, Softmax, Sum, Where

from ._ctc import CTCNegLogLikelihood, quiet_float_errors
from .activation import LogSigmoid
from .misc import pairwise_distance

__all__ = ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'cross_entropy', 'nll_loss',
           'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div',
           'hinge_embedding_loss', 'multi_margin_loss', 'multilabel_margin_loss',
           'soft_margin_loss', 'multilabel_soft_margin_loss', 'cosine_embedding_loss',
           'margin_ranking_loss', 'triplet_margin_loss', 'gaussian_nll_loss',
           'poisson_nll_loss', 'ctc_loss']


# ----------------------------------------------------------------------------- reductions

def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return 'mean'
    return 'sum' if reduce else 'none'


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        warnings.warn('size_average and reduce args will be deprecated, please use '
                      f"reduction='{_legacy_reduction(size_average, reduce)}' instead.")
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    return reduction


def _reduce(loss, reduction):
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


def _named_reduce(loss, reduction, torch_name):
    """``_reduce``, its last node named as PyTorch names the whole loss (``MseLossBackward0``:
    the node, a mean, a sum or the elementwise loss, and its backward are unchanged)."""
    return renamed(_reduce(loss, reduction), torch_name)


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f'Using a target size ({target.shape}) that is different to the input '
                      f'size ({input.shape}). This will likely lead to incorrect results due to '
                      'broadcasting. Please ensure they have the same size.', stacklevel=3)


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    """Elementwise ``weight`` (same shape as input), as PyTorch's weighted regression losses."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError('Weights and input must have the same size.')
    loss = loss * weight
    if reduction == 'mean' and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- regression

def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """``(input - target)^2``."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    return _named_reduce(loss, reduction, 'MseLossBackward0') if weight is None else \
        _weighted(loss, weight, input, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """``|input - target|``."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    return _reduce(loss, reduction) if weight is None else \
        _weighted(loss, weight, input, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError('smooth_l1_loss does not support negative values for beta.')
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _named_reduce(loss, reduction, 'SmoothL1LossBackward0')


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """``0.5 d^2`` for ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _warn_size(input, target)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError('huber_loss does not support non-positive values for delta.')
    d = (input - target).abs()
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _named_reduce(loss, reduction, 'HuberLossBackward0') if weight is None else \
        _weighted(loss, weight, input, reduction, mean_by_weight=False)


# ----------------------------------------------------------------------------- classification

class ClassLoss(Op):
    """``loss_i = -sum_c q_ic z_ic`` over the class dim, ``z = log_softmax(x)`` when
    ``fused`` (cross-entropy) or ``z = x`` (NLL), reduced by ``reduction`` (``'mean'``
    divides the sum by ``divisor``).

    Cross-entropy's gradient is ``g (softmax(x) Q - q)`` with ``Q = sum_c q`` (one
    subtraction: the log-softmax graph is never built); NLL's is ``-g q``.  A probability
    target given as input 1 receives ``-g w (1 - eps) z``.

    (N, C) logits with class indices (no label smoothing) pass ``index = (y, w_y, C)``
    instead of ``q``: the loss gathers ``z`` at the targets and the gradient subtracts
    ``w_y`` there (``q``, one-hot, is built only for a graph of the backward).
    """
    __slots__ = ('q', 'qsum', 'cdim', 'reduction', 'divisor', 'fused', 'probs', 'tscale',
                 'valid', 'index', 'norm')
    array_backward = True
    save = (0,)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, target=None, q=None, cdim=1, reduction='mean', divisor=1.0,
                fused=True, tscale=None, qsum=None, valid=None, index=None):
        self.q, self.cdim, self.reduction, self.divisor = q, cdim, reduction, divisor
        self.fused, self.tscale, self.valid, self.index = fused, tscale, valid, index
        self.norm = None
        if index is not None:
            return self._forward_rows(xp, x, index)
        z = x
        if fused:
            m = x.max(axis=cdim, keepdims=True) if x.size else x.sum(axis=cdim, keepdims=True)
            with quiet_float_errors(xp):    # (logits spanning +-3e38: inf - inf, silently)
                z = x - m
            e = xp.exp(z)
            s = e.sum(axis=cdim, keepdims=True)
            self.probs = e
            e /= s
            z -= xp.log(s)
            self.qsum = q.sum(axis=cdim, keepdims=True) if qsum is None else qsum
        qz = q * z
        if reduction == 'none':
            return -qz.sum(axis=cdim)
        return self._reduced(xp, -qz.sum(), qz.dtype)

    def _forward_rows(self, xp, x, index):
        """The (N, C) class-index case without one-hot ``q``: ``loss_i = -w_{y_i} z_{i y_i}``
        gathered at the targets (``index = (y, w_y, C)``, ``w_y`` 0 on ignored rows).  The
        row sums of ``exp`` are a product with ones (BLAS; NumPy's reduction along a short
        last axis costs 4x more) and the softmax's division waits for the backward."""
        y, wy, _ = index
        rows = xp.arange(x.shape[0])
        # (logits spanning +-3e38: inf - inf; an ignored row's -inf logit times weight 0)
        with quiet_float_errors(xp):
            if self.fused:
                z = x - row_max(x, 1)     # (a Fortran copy's column maxima for short rows)
                e = xp.exp(z)
                s = xp.matmul(e, ones_vector(xp, x.shape[1], e.dtype))
                self.probs, self.norm = e, s[:, None]
                self.qsum = None if wy is None else wy[:, None]
                zy = z[rows, y] - xp.log(s)
            else:
                zy = x[rows, y]
            if wy is None:          # every weight 1, no row ignored
                loss = -zy
            else:   # (an ignored row is 0 whatever its logits, as PyTorch skips it)
                loss = xp.where(self.valid[:, 0], -(wy * zy), 0).astype(x.dtype, copy=False)
        if self.reduction == 'none':
            return loss
        return self._reduced(xp, loss.sum(), loss.dtype)

    def _reduced(self, xp, total, dtype):
        if self.reduction == 'sum':
            return total
        divisor = self.divisor
        mean = _divide(xp, total, divisor)
        if self.valid is not None and _may_be_zero(xp, divisor):
            mean = mean + _no_weight(xp, divisor)
        return xp.asarray(mean, dtype=dtype)

    def backward(self, g):
        cdim = self.cdim
        if self.reduction == 'none':
            g = g.reshape(g.shape[:cdim] + (1,) + g.shape[cdim:])
        elif self.reduction == 'mean':
            g = _divide(xp_of(g), g, self.divisor)
            if self.valid is not None and _may_be_zero(xp_of(g), self.divisor):
                # every target ignored or weighted 0: NaN on the rows not ignored, 0 on
                # the ignored ones (padding only: no NaN reaches the weights)
                g = Where.apply(const_like(self.valid, g),
                                g + _no_weight(xp_of(g), self.divisor), 0.0)
        if self.index is not None and not isinstance(g, autograd.Tensor):
            return self._backward_rows(g)
        if self.norm is not None:   # the softmax's division, left by _forward_rows
            self.probs, self.norm = self.probs / self.norm, None
        q, qsum = self._coefficients(g)
        gx = gt = None
        needs = self.needs_input_grad
        if needs[0]:
            if self.fused:
                # the softmax forward kept (in a graph of the backward, a function of x)
                p = KeptSoftmax.apply(self.saved_tensors[0], dim=cdim, kept=self.probs)
                gx = g * (p * qsum - q)
            else:
                gx = g * -q
        if len(needs) == 1:
            return gx
        if needs[1]:
            gt = -(g * LogSoftmax.apply(self.saved_tensors[0], dim=cdim)) * \
                const_like(self.tscale, g)
        return gx, gt

    def _backward_rows(self, g):
        """``g (p w_y - w_y onehot(y))`` (``-g w_y onehot(y)`` for NLL) on arrays, with the
        one-hot subtracted at the targets only."""
        y, wy, C = self.index
        xp = xp_of(g)
        if not self.fused:
            d = xp.zeros((y.shape[0], C), dtype=g.dtype if wy is None else wy.dtype)
        elif self.norm is not None:     # exp(z) w_y / s: the softmax's division folded in
            d = self.probs * ((1.0 if wy is None else self.qsum) / self.norm)
        else:
            d = self.probs if wy is None else self.probs * self.qsum
        d[xp.arange(y.shape[0]), y] -= 1 if wy is None else wy
        if g.dtype == d.dtype and g.ndim <= 2:      # (0-d, or (N, 1) for 'none')
            d *= g
            return d
        return g * d

    def _coefficients(self, g):
        """``q`` and (cross-entropy) ``Q``, in ``g``'s form."""
        if self.q is None:          # the one-hot q of _forward_rows, for a graph of the backward
            y, wy, C = self.index
            xp = xp_of(y)
            if wy is None:          # (every weight 1)
                wy = xp.ones(y.shape[0], dtype=array_of(g).dtype)
                self.qsum = wy[:, None]
            self.q = (y[:, None] == xp.arange(C)) * wy[:, None]
        return const_like(self.q, g), const_like(self.qsum, g) if self.fused else None


class ClassLossWithTargetGrad(ClassLoss):
    """Cross-entropy with a probability target that requires grad: ``q`` is rebuilt from
    the target tensor (``q = t tscale + const``) so that second derivatives reach it."""
    __slots__ = ()
    save = (0, 1)

    def _coefficients(self, g):
        t = self.saved_tensors[1]
        q = t * const_like(self.tscale, g) + const_like(self.q - array_of(t) * self.tscale, g)
        return q, Sum.apply(q, dim=self.cdim, keepdim=True)


class KeptSoftmax(Softmax):
    """Softmax along ``dim`` whose forward hands back ``kept``, the value already computed
    (by ``ClassLoss``'s forward)."""
    __slots__ = ()

    def forward(self, xp, a, dim, kept):
        self.axis = dim
        return kept


class NllLoss(ClassLoss):
    """``ClassLoss`` without the softmax: its gradient ``-g q`` needs no saved input."""
    __slots__ = ()
    save = ()


def _may_be_zero(xp, divisor):
    """Whether the mean's ``divisor`` may be 0: read on the host on NumPy only (a device
    would wait for it: there the answer is yes)."""
    return xp is not numpy or float(array_of(divisor)) == 0


def _no_weight(xp, divisor):
    """0 / divisor: NaN where no target carries weight (every one ignored or weighted 0),
    else 0.  PyTorch's mean is NaN there whatever else it sums (the weighted NLL part is
    0 / 0; label smoothing's part alone would be x / 0 = inf)."""
    return _divide(xp, xp.zeros((), dtype=array_of(divisor).dtype), divisor)


def _divide(xp, a, divisor):
    """``a / divisor``, quietly NaN or inf when the divisor is 0 (every target ignored) or
    overflows below 1 in magnitude (small class weights).  A divisor of magnitude 1 or more
    (a count of targets) can raise no NumPy warning, and skips the error-state switch,
    which cost as much as the rest of a small loss's mean."""
    if isinstance(a, autograd.Tensor) and not isinstance(divisor, (int, float)):
        divisor = const_like(divisor, a)
    # (the divisor read on the host on NumPy only: a device's division keeps the switch)
    if xp is not numpy or -1 < float(array_of(divisor)) < 1:
        with quiet_float_errors(xp):
            return a / divisor
    return a / divisor


def _class_shape(xp_shape, cdim, C):
    return tuple(C if d == cdim else 1 for d in range(len(xp_shape)))


def _check_weight(weight, C):
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != C):
        raise RuntimeError(f'weight tensor should be defined either for all {C} classes or no '
                           f'classes but got weight tensor of shape: {list(weight.shape)}')


def _check_index_target(input, target):
    """PyTorch's shape and dtype checks for class-index targets."""
    if input.ndim < 1:
        raise ValueError(f'Expected 1 or more dimensions (got {input.ndim})')
    # a 0-d target counts as a batch of 0 (PyTorch's rule): only a 1-D input takes one
    batch = target.shape[0] if target.ndim else 0
    if input.ndim != 1 and input.shape[0] != batch:
        raise ValueError(f'Expected input batch_size ({input.shape[0]}) to match target '
                         f'batch_size ({batch}).')
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError('0D or 1D target tensor expected, multi-target not supported')
        if input.ndim == 1 and target.ndim != 0:
            if target.shape[0] != 1:
                raise RuntimeError(f'Expected target size [], got {list(target.shape)}')
    else:
        expected = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != expected:
            if input.ndim == 3:
                raise RuntimeError(f'Expected target size {expected}, got {list(target.shape)}')
            raise RuntimeError(f'size mismatch (got input: {list(input.shape)} , target: '
                               f'{list(target.shape)}')
    if target.dtype not in (autograd.int64, autograd.uint8):
        raise RuntimeError(f'expected target dtype to be Long or Byte, but got '
                           f'{scalar_name(target.dtype)}')


def _valid_targets(xp, y, C, ignore_index):
    """The mask of int64 targets ``y`` not ignored, after checking that each is either
    ignore_index or a class index: on the device, without reading the targets on the host
    (backend.check_data)."""
    valid = y != ignore_index
    # (a negative index read as unsigned is out of range too: one comparison for both ends)
    check_data(xp, (valid & (y.view(xp.uint64) >= C)).any(), IndexError,
               f'Target out of bounds: expected class indices in [0, {C - 1}] or '
               f'ignore_index {ignore_index}')
    return valid


def _index_coefficients(input, target, weight, ignore_index, smoothing, cdim):
    """``q``, the mean's divisor, ``Q = sum_c q`` (None: summed by ``ClassLoss``) and the
    mask of the targets not ignored (q's shape, 1 along the class dim) for class-index
    targets."""
    xp = xp_of(input)
    x = array_of(input)
    C = x.shape[cdim]
    y = array_of(target).astype(xp.int64, copy=False)
    if input.ndim == 1 and y.ndim == 1:
        y = y.reshape(())
    valid = _valid_targets(xp, y, C, ignore_index)
    # an ignored target matches no class, so its row of the one-hot q is zero: as it is
    # when ignore_index is no class (-100, the default), else made so (-1)
    ys = y if not 0 <= ignore_index < C else xp.where(valid, y, -1)
    cshape = _class_shape(x.shape, cdim, C)
    q = (ys.reshape(ys.shape[:cdim] + (1,) + ys.shape[cdim:]) ==
         xp.arange(C).reshape(cshape)).astype(x.dtype)
    if smoothing > 0:
        q = q * (1 - smoothing) + smoothing / C
        q = q * xp.expand_dims(valid, cdim)     # (smoothing filled the ignored rows)
    w = None if weight is None else array_of(weight).astype(x.dtype, copy=False)
    if w is not None:
        q = q * w.reshape(cshape)
    rows = valid.reshape(valid.shape[:cdim] + (1,) + valid.shape[cdim:])
    # the mean's divisor stays on the device (a 0-d array): no host read
    if w is None:
        # a row of the one-hot q sums to 1 exactly, or 0 where the target is ignored
        qsum = None if smoothing > 0 else rows.astype(x.dtype)
        return q, valid.sum(dtype=x.dtype), qsum, rows
    return q, (w[xp.where(valid, y, 0)] * valid).sum(dtype=x.dtype), None, rows


def _index_rows(input, target, weight, ignore_index):
    """For (N, C) logits and (N,) class indices: ``(y, w_y, C)`` with ignored targets read
    as class 0 and weighted 0, the mean's divisor and the (N, 1) mask of the rows not
    ignored (``ClassLoss`` gathers at ``y`` instead of building a one-hot ``q``).  Without
    class weights and ignored rows, ``w_y`` and the mask are None (all ones)."""
    xp = xp_of(input)
    x = array_of(input)
    N, C = x.shape
    y = array_of(target).astype(xp.int64, copy=False)
    if xp is numpy and weight is None and N and not 0 <= ignore_index < C and \
            not (y.view(xp.uint64) >= C).any():
        # every target a class index (the common case, told by one comparison read on the
        # host; an ignore_index outside [0, C) fails it too): no mask, no weights, N
        return (y, None, C), N, None
    valid = _valid_targets(xp, y, C, ignore_index)
    # ignored rows gather class 0; so do targets out of range, which on a device (that
    # checks the indices later) must not reach the gather either
    y = xp.where(valid & (y.view(xp.uint64) < C), y, 0)
    if weight is None:
        wy = valid.astype(x.dtype)
    else:
        wy = array_of(weight).astype(x.dtype, copy=False)[y] * valid
    return (y, wy, C), wy.sum(), valid[:, None]


def _prob_coefficients(input, target, weight, smoothing, cdim):
    """``q = w (t (1 - eps) + eps / C)`` for probability targets (and ``dq/dt``)."""
    x = array_of(input)
    C = x.shape[cdim]
    t = array_of(target).astype(x.dtype, copy=False)
    scale = 1 - smoothing
    q = t * scale + smoothing / C if smoothing > 0 else t
    tscale = xp_of(input).full(_class_shape(x.shape, cdim, C), scale, dtype=x.dtype)
    if weight is not None:
        w = array_of(weight).astype(x.dtype, copy=False).reshape(_class_shape(x.shape, cdim, C))
        q = q * w
        tscale = tscale * w
    divisor = x.size // C if C else 0
    return q, divisor, tscale


_CE_NLL = named(ClassLoss, 'NllLossBackward0')     # cross-entropy of class indices, as PyTorch
_CE_SMOOTH = named(ClassLoss, 'AddBackward0')      # ... with label smoothing


def _nll_name(ndim, reduction):
    """PyTorch's node name of nll_loss (and cross-entropy) of class indices: its 2-d kernel
    for (N, C, *) input, whose unreduced loss is viewed back unless the input is 4-d."""
    if ndim <= 2:
        return 'NllLossBackward0'
    return 'NllLoss2DBackward0' if reduction != 'none' or ndim == 4 else 'ViewBackward0'


def _class_loss(input, target, weight, ignore_index, reduction, smoothing, fused):
    cdim = 0 if input.ndim == 1 else 1
    C = input.shape[cdim] if input.ndim else 0
    _check_weight(weight, C)
    probs = fused and target.is_floating_point() and tuple(target.shape) == tuple(input.shape)
    if probs:
        if ignore_index != -100:
            raise RuntimeError('ignore_index is not supported for floating point target')
        q, divisor, tscale = _prob_coefficients(input, target, weight, smoothing, cdim)
        if target.requires_grad:
            return ClassLossWithTargetGrad.apply(input, target, q=q, cdim=cdim, reduction=reduction,
                                   divisor=divisor, fused=True, tscale=tscale)
    else:
        _check_index_target(input, target)
        if input.ndim == 2 and smoothing == 0 and input.dtype in (autograd.float32,
                                                                  autograd.float64):
            index, divisor, valid = _index_rows(input, target, weight, ignore_index)
            op = _CE_NLL if fused else NllLoss
            return op.apply(input, cdim=1, reduction=reduction, divisor=divisor, fused=fused,
                            valid=valid, index=index)
        q, divisor, qsum, valid = _index_coefficients(input, target, weight, ignore_index,
                                                      smoothing, cdim)
        if fused:
            return (named(ClassLoss, _nll_name(input.ndim, reduction)) if smoothing == 0
                    else _CE_SMOOTH).apply(input, q=q, cdim=cdim, reduction=reduction, divisor=divisor, qsum=qsum,
                valid=valid)
        return named(NllLoss, _nll_name(input.ndim, reduction)).apply(
            input, q=q, cdim=cdim, reduction=reduction, divisor=divisor, fused=False, valid=valid)
    op = ClassLoss if fused else NllLoss
    return op.apply(input, q=q, cdim=cdim, reduction=reduction, divisor=divisor, fused=fused)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction='mean', label_smoothing=0.0):
    """Softmax cross-entropy of logits ``(N, C, *)`` (or ``(C,)``) with class indices
    ``(N, *)`` or class probabilities ``(N, C, *)``.

    ``weight (C,)`` rescales classes; targets equal to ``ignore_index`` are skipped;
    ``label_smoothing`` mixes the target with the uniform distribution.  ``'mean'``
    divides by the summed weight of the non-ignored targets (index targets) or by the
    number of rows (probability targets).
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f'label_smoothing must be between 0.0 and 1.0. Got: '
                           f'{label_smoothing}')
    return _class_loss(input, target, weight, ignore_index, reduction, label_smoothing, True)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction='mean'):
    """Negative log likelihood of log probabilities ``(N, C, *)`` at class indices ``(N, *)``."""
    reduction = _reduction(size_average, reduce, reduction)
    return _class_loss(input, target, weight, ignore_index, reduction, 0.0, False)


class BinaryCrossEntropy(Op):
    """``-w (t log x + (1 - t) log(1 - x))`` with each log clamped at -100 (as PyTorch);
    gradient ``g w (x - t) / max(x (1 - x), 1e-12)``, target gradient ``-g w logit(x)``."""
    __slots__ = ('w',)
    array_backward = True
    save = (0, 1)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, t, w=None):
        check_data(xp, ((x < 0) | (x > 1)).any(), RuntimeError,
                   'all elements of input should be between 0 and 1')
        self.w = w
        with quiet_float_errors(xp):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        return loss if w is None else loss * w

    def backward(self, g):
        x, t = self.saved_tensors
        if self.w is not None:
            g = g * const_like(self.w, g)
        gx = gt = None
        needs = self.needs_input_grad
        if needs[0]:
            gx = g * (x - t) / Clamp.apply((1 - x) * x, min=1e-12)
        if needs[1]:
            with quiet_float_errors(xp_of(g)):          # log(0) at x = 0 or 1
                gt = -g * (Log.apply(x) - Log1p.apply(-x))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction='mean'):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] and targets of its shape."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f'Using a target size ({target.shape}) that is different to the input '
                         f'size ({input.shape}) is deprecated. Please ensure they have the same '
                         'size.')
    w = None
    if weight is not None:
        w = array_of(weight.expand(*_broadcast_shape(target.shape, weight.shape)))
    return _named_reduce(BinaryCrossEntropy.apply(input, target, w=w), reduction,
                         'BinaryCrossEntropyBackward0')


class BCEWithLogits(Op):
    """``w ((1 - t) x - (1 + (pw - 1) t) log_sigmoid(x))``, stable for any logit.

    Gradients: ``g w ((pw t + 1 - t) sigmoid(x) - pw t)`` for the logits and
    ``g w (log_sigmoid(-x) - pw log_sigmoid(x))`` for the target.
    """
    __slots__ = ('w', 'pw')
    array_backward = True
    save = (0, 1)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, t, w=None, pw=None):
        self.w, self.pw = w, pw
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        lw = 1 if pw is None else (pw - 1) * t + 1
        loss = (1 - t) * x - lw * log_sig
        return loss if w is None else loss * w

    def backward(self, g):
        x, t = self.saved_tensors
        if self.w is not None:
            g = g * const_like(self.w, g)
        pw = None if self.pw is None else const_like(self.pw, g)
        gx = gt = None
        needs = self.needs_input_grad
        if needs[0]:
            s = Sigmoid.apply(x)
            gx = g * (s - t) if pw is None else g * ((pw * t + 1 - t) * s - pw * t)
        if needs[1]:
            gt = -g * x if pw is None else \
                g * (LogSigmoid.apply(-x) - pw * LogSigmoid.apply(x))
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction='mean', pos_weight=None):
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from the logits;
    ``pos_weight`` (broadcast over the last dim) weighs the positive term."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f'Target size ({target.shape}) must be the same as input size '
                         f'({input.shape})')
    w = None if weight is None else _const(weight, input)
    pw = None if pos_weight is None else _const(pos_weight, input)
    return _named_reduce(BCEWithLogits.apply(input, target, w=w, pw=pw), reduction,
                         'BinaryCrossEntropyWithLogitsBackward0')


def _const(t, like):
    """The array of a weight tensor, in ``like``'s dtype (weights get no gradient)."""
    return array_of(t).astype(array_of(like).dtype, copy=False)


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f'The size of tensor a ({x}) must match the size of tensor b ({y})')
        out.append(max(x, y))
    return tuple(out)


def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """KL divergence ``target * (log target - input)`` of log-probabilities ``input``
    (``log_target``: the target is given as log-probabilities too).  ``'batchmean'``
    divides the sum by the batch size, which is the mathematical KL divergence."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, 'mean')
    elif reduction == 'mean':
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.")
    elif reduction not in ('batchmean', 'sum', 'none'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t): 0 where t == 0 (also in the gradient, so log sees 1 there)
        safe = where(target > 0, target, target * 0 + 1)
        loss = target * safe.log() - target * input
    if reduction == 'batchmean':
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- margins

def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction='mean'):
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1``."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = (margin - input).clamp_min(0)
    loss = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def _index_column(input, target):
    """``input[n, target[n]]`` as a column ``(N, 1)``."""
    return input.gather(1, target.unsqueeze(1))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction='mean'):
    """Multi-class hinge (Weston-Watkins SVM):
    ``sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C`` per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError('only p == 1 and p == 2 supported')
    if weight is not None and weight.ndim != 1:
        raise ValueError('weight must be one-dimensional')
    x = input if input.ndim == 2 else input.reshape(1, -1)
    y = target.reshape(-1)
    N, C = x.shape
    if y.shape[0] != N:
        raise RuntimeError(f'inconsistent target size, expected {N} but got {list(target.shape)}')
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= C):
        raise RuntimeError('target out of range')
    z = (margin - _index_column(x, y) + x).clamp_min(0)
    if p == 2:
        z = z * z
    others = wrap(array_of(y)[:, None] != xp_of(x).arange(C), x.device)
    z = z * others
    if weight is not None:
        z = z * weight[y].unsqueeze(1)
    loss = z.sum(1) / C
    if input.ndim != 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """``sum_{j in targets} sum_{k not in targets} max(0, 1 - (x_j - x_k)) / C`` per sample;
    each target row lists class indices and ends at the first -1."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape) or input.ndim not in (1, 2):
        raise RuntimeError(f'inconsistent target size: {list(target.shape)} for input of size: '
                           f'{list(input.shape)}')
    x = input if input.ndim == 2 else input.reshape(1, -1)
    N, C = x.shape
    xp = xp_of(x)
    y = array_of(target).reshape(N, C)
    # the listed targets stop at the first -1
    listed = xp.cumprod(y >= 0, axis=1).astype(bool)
    counts = (xp.where(listed, y, -1)[:, :, None] == xp.arange(C)).sum(axis=1)     # (N, C)
    is_target = counts > 0
    pair = counts[:, :, None] * (~is_target)[:, None, :]                           # (N, j, k)
    z = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)
    loss = (z * wrap(pair.astype(array_of(x).dtype), x.device)).sum((1, 2)) / C
    if input.ndim != 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """Logistic loss ``log(1 + exp(-y x))`` for labels ``y`` in {1, -1}."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(-LogSigmoid.apply(input * target), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction='mean'):
    """Per-class logistic loss averaged over the classes (the last dim)."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * LogSigmoid.apply(input) + (1 - target) * LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction='mean'):
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1``."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or input1.ndim != input2.ndim or \
            target.ndim != input1.ndim - 1:
        raise RuntimeError(f'{target.ndim}D target tensor expects {target.ndim + 1}D input '
                           f'tensors, but found inputs with sizes {list(input1.shape)} and '
                           f'{list(input2.shape)}.')
    dim = input1.ndim - 1
    eps = 1e-12         # as PyTorch: keeps the magnitudes away from zero
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    zeros = cos * 0
    loss = where(target == 1, 1 - cos, zeros) + \
        where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction='mean'):
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _reduction(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f'margin_ranking_loss : All input tensors should have same dimension '
                           f'but got sizes: input1: {input1.shape}, input2: {input2.shape}, '
                           f'target: {target.shape} ')
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction='mean'):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the p-norm distance; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al. 2016)."""
    reduction = _reduction(size_average, reduce, reduction)
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1 or dims[0] not in (1, 2):
        raise RuntimeError('The anchor, positive, and negative tensors are expected to have the '
                           f'same number of dimensions, but got: anchor {dims[0]}D, positive '
                           f'{dims[1]}D, and negative {dims[2]}D inputs')
    if margin <= 0:
        raise ValueError(f'TripletMarginLoss: expected margin to be greater than 0, got {margin} '
                         'instead')
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = autograd.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


# ----------------------------------------------------------------------------- likelihoods

def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` when ``full``);
    ``var`` is clamped at ``eps`` without affecting its gradient."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError('var has negative entry/entries')
        var = autograd.full_like(input, float(var))
    elif bool((var < 0).any()):
        raise ValueError('var has negative entry/entries')
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and \
                sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
            pass
        else:
            raise ValueError('var is of incorrect size')
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + ' is not valid')
    var = var + (var.detach().clamp_min(eps) - var.detach())
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction='mean'):
    """Poisson negative log likelihood: ``exp(input) - target input`` (``log_input``) or
    ``input - target log(input + eps)``; ``full`` adds Stirling's ``log(target!)``."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        safe = where(big, target, target * 0 + 2)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, stirling * 0)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- CTC

def _lengths(x, device, n):
    if isinstance(x, autograd.Tensor):
        a = array_of(x)
    else:
        a = device.xp.asarray(x if isinstance(x, (list, tuple)) else [x])
    return a.reshape(-1).astype(device.xp.int64)[:n] if a.size >= n else \
        a.reshape(-1).astype(device.xp.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
             zero_infinity=False):
    """CTC loss of log probabilities ``(T, N, C)`` (or ``(T, C)``) against ``targets``,
    padded ``(N, S)`` or concatenated ``(sum(target_lengths),)``.  ``'mean'`` divides each
    loss by its target length, then averages over the batch."""
    reduction = _reduction(None, None, reduction)
    batched = log_probs.ndim == 3
    if not batched:
        if log_probs.ndim != 2:
            raise RuntimeError(f'ctc_loss: expected log_probs to be 2-D or 3-D, got '
                               f'{log_probs.ndim}-D')
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 else targets
    T, N, C = log_probs.shape
    dev = log_probs.device
    xp = dev.xp
    in_lens = _lengths(input_lengths, dev, N)
    tgt_lens = _lengths(target_lengths, dev, N)
    if in_lens.shape[0] != N:
        raise RuntimeError(f'input_lengths must be of size batch_size, but got '
                           f'{in_lens.shape[0]}')
    if tgt_lens.shape[0] != N:
        raise RuntimeError(f'target_lengths must be of size batch_size, but got '
                           f'{tgt_lens.shape[0]}')
    if not 0 <= blank < C:
        raise RuntimeError('blank must be in label range')
    if bool((in_lens > T).any()):
        raise RuntimeError(f'Expected input_lengths to have value at most {T}, but got value '
                           f'{int(in_lens.max())}')
    tg = array_of(targets).astype(xp.int64)
    if tg.ndim == 1 and batched:                 # concatenated: cut into padded rows
        S = int(tgt_lens.max()) if N else 0
        rows = xp.zeros((N, max(S, 1)), dtype=xp.int64)
        starts = [0]
        for n in range(N):
            starts.append(starts[-1] + int(tgt_lens[n]))
            rows[n, :int(tgt_lens[n])] = tg[starts[n]:starts[n + 1]]
        tg = rows
    elif bool((tgt_lens > tg.shape[1]).any()):
        raise RuntimeError(f'Expected tensor to have size at least {int(tgt_lens.max())} at '
                           f'dimension 1, but got size {tg.shape[1]}')
    need_grad = needs_grad(log_probs)
    nll = CTCNegLogLikelihood.apply(log_probs, targets=tg, in_lens=in_lens, tgt_lens=tgt_lens,
                                    blank=blank, zero_infinity=zero_infinity,
                                    need_grad=need_grad)
    if reduction == 'mean':
        div = wrap(xp.maximum(tgt_lens, 1).astype(array_of(log_probs).dtype), dev)
        return (nll / div).mean()
    if reduction == 'sum':
        return nll.sum()
    return nll if batched else nll.reshape(())

"""Normalisation layers (PyTorch's ``F.batch_norm``, ``layer_norm``, ``group_norm``,
``instance_norm``, ``local_response_norm``).

Batch, layer, group and instance norm are one computation over different axes:
    x_hat = (x - mean) / sqrt(var + eps),   y = x_hat * w + b,
with mean and the biased var taken over the normalised axes (or fixed running stats in
evaluation).  Its gradient (Ioffe & Szegedy 2015, sec. 3), with m elements per statistic
and gh = g * w:
    dL/dx = invstd * (gh - mean(gh) - x_hat * mean(gh * x_hat)),
    dL/dw = sum(g * x_hat),   dL/db = sum(g)          (over the axes w is broadcast along).
The fused op ``Norm`` computes the forward in one pass over the arrays and keeps x_hat and
1/std.  Its backward is one op, ``NormGrad``, which computes the three gradients on those
kept arrays in a few passes; its own derivative replays the same gradients written as a
formula (``_norm_vjp``, reading x_hat and 1/std through the op ``Standardize``, x ->
(x_hat, 1/std), so that second derivatives see the statistics' dependence on x) and
differentiates that.
"""
import functools
import math

from autograd import no_grad
from autograd.extend import Op, array_of, const_like, xp_of
from autograd.extend import ones_vector, opmath
from autograd.extend import named, renamed
from autograd.ops.formula import MatMul, Mean, Sum

from ._replay import replay_backward
from .pooling import SumPool

__all__ = ['batch_norm', 'layer_norm', 'group_norm', 'instance_norm', 'local_response_norm']


@functools.lru_cache(maxsize=256)
def _product_plan(shape, dtype, axes):
    """How ``_sum_by_product`` sums an array of ``shape`` and ``dtype`` over ``axes``:
    ``(m, keepdims shape, over the leading axes)``, or None (the shapes of a training loop
    repeat, so this is worked out once per shape)."""
    k, n = len(axes), len(shape)
    if dtype.kind != 'f' or dtype.itemsize < 4 or not 0 < k < n or 0 in shape:
        return None
    if axes == tuple(range(n - k, n)):
        leading = False
    elif axes == tuple(range(k)):
        leading = True
    else:
        return None
    m = math.prod(shape[a] for a in axes)
    return m, tuple(1 if i in axes else d for i, d in enumerate(shape)), leading


def _sum_by_product(t, axes, matmul=MatMul.apply):
    """The sum of array or tensor ``t`` over ``axes`` (keepdim), as a product with a vector
    of ones, when ``axes`` are its trailing dims (layer and group norm) or its leading ones
    (their weights' gradients, BatchNorm1d); None otherwise, or for other than float32 and
    float64.  BLAS's dot products beat NumPy's reductions along short rows several times
    over: over the 64 features of (8, 32, 64) float32, 1.7 us against 20 us.  A formula
    (MatMul, reshape), so the backward of a backward sees it too; a forward on arrays
    passes ``matmul=xp.matmul``."""
    dtype = array_of(t).dtype
    plan = _product_plan(tuple(t.shape), dtype, axes)
    if plan is None:
        return None
    m, keep, leading = plan
    ones = const_like(ones_vector(xp_of(t), m, dtype), t)
    if leading:
        return matmul(ones, t.reshape(m, -1)).reshape(keep)
    return matmul(t.reshape(-1, m), ones).reshape(keep)


def _sum(t, axes):
    """The sum of ``t`` over ``axes`` (keepdim): a formula; no axes, ``t`` itself (a 1-d
    layer norm's weight spans the whole input)."""
    if not axes:
        return t
    s = _sum_by_product(t, axes)
    return Sum.apply(t, dim=axes, keepdim=True) if s is None else s


def _mean(t, axes, matmul=MatMul.apply):
    """The mean of ``t`` over ``axes`` (keepdim): a formula (``matmul``: as above)."""
    s = _sum_by_product(t, axes, matmul)
    return Mean.apply(t, dim=axes, keepdim=True) if s is None else \
        s / math.prod(t.shape[a] for a in axes)


def _standardize(xp, x, axes, eps, stats):
    """x_hat = (x - mean) / sqrt(var + eps) over ``axes``, 1/std, the mean and the biased
    var: of x itself, or the fixed ``stats`` (mean, var); and a spare new array of x's
    shape and dtype, or None."""
    plan = None if stats is not None else _product_plan(x.shape, x.dtype, axes)
    if plan is not None and not plan[2]:
        # trailing axes (layer and group norm): rows of m, with their sums as one matrix-
        # vector product each and the statistics as columns
        m, keep, _ = plan
        # (means as products with copies of 1 / m: the sums divided by m exactly for m a
        # power of two, and two calls fewer; the squares' array is the caller's spare)
        x2 = x.reshape(-1, m)
        by_m = ones_vector(xp, m, x.dtype, 1 / m)
        mean = xp.matmul(x2, by_m).reshape(-1, 1)
        xc = x2 - mean
        squares = xc * xc
        var = xp.matmul(squares, by_m).reshape(-1, 1)
        invstd = var + eps
        xp.sqrt(invstd, out=invstd)
        xp.reciprocal(invstd, out=invstd)
        xc *= invstd
        return (xc.reshape(x.shape), invstd.reshape(keep), mean.reshape(keep),
                var.reshape(keep), squares.reshape(x.shape))
    if stats is None:
        mean = _mean(x, axes, xp.matmul)
        xc = x - mean
        var = _mean(xc * xc, axes, xp.matmul)
    else:
        mean, var = stats
        xc = x - mean
    invstd = 1.0 / xp.sqrt(var + eps)
    if xc.dtype == invstd.dtype and xc.ndim >= invstd.ndim and all(
            m in (1, n) for n, m in zip(reversed(xc.shape), reversed(invstd.shape))):
        xc *= invstd            # x_hat in xc's own buffer
        return xc, invstd, mean, var, None
    return xc * invstd, invstd, mean, var, None


def _standardize_vjp(g, xhat, invstd, axes):
    """dL/dx from g = dL/dx_hat for the batch statistics (Ioffe & Szegedy 2015, sec. 3)."""
    return invstd * (g - _mean(g, axes) - xhat * _mean(g * xhat, axes))


class Standardize(Op):
    """x -> (x_hat, 1/std) over ``axes`` (batch statistics, or the fixed ``stats`` (mean,
    var), which give 1/std no dependence on x).  ``kept``: the two arrays already computed
    (by ``Norm``'s forward), handed back as they are."""
    __slots__ = ('axes', 'eps', 'stats', 'kept')
    array_backward = True
    save = (0,)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, *, axes, eps, stats=None, kept=None):
        self.axes, self.eps, self.stats = axes, eps, stats
        self.kept = kept = kept or _standardize(xp, x, axes, eps, stats)[:2]
        return kept

    def backward(self, gxhat, ginvstd):
        x, = self.saved_tensors
        # the same values again, as functions of x when a graph of this backward is recorded
        xhat, invstd = Standardize.apply(x, axes=self.axes, eps=self.eps, stats=self.stats,
                                         kept=self.kept)
        if self.stats is not None:
            return None if gxhat is None else gxhat * invstd
        gx = None if gxhat is None else _standardize_vjp(gxhat, xhat, invstd, self.axes)
        if ginvstd is not None:
            # d(1/std)/dx = -(1/std)^2 x_hat / m, m elements per statistic
            m = math.prod(x.shape[a] for a in self.axes)
            gs = ginvstd * invstd * invstd * xhat * (-1.0 / m)
            gx = gs if gx is None else gx + gs
        return gx


class Norm(Op):
    """Inputs (x, w, b): w and b are tensors of the shape ``wshape`` broadcasts from, or the
    numbers 1 and 0 when absent.  Training (``stats`` None): returns (y, mean, var) with
    the batch statistics (keepdims shape, no gradient); else normalises by ``stats``."""
    __slots__ = ('axes', 'eps', 'wshape', 'bshape', 'stats', 'kept')
    array_backward = True
    save = (0, 1)
    nondiff_outputs = (1, 2)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, x, w, b, *, axes, wshape, eps, stats=None, with_stats=True):
        """``with_stats=False``: y alone (layer and group norm keep no running stats)."""
        self.axes, self.wshape, self.eps, self.stats = axes, wshape, eps, stats
        self.bshape = getattr(b, 'shape', None)
        xhat, invstd, mean, var, spare = _standardize(xp, x, axes, eps, stats)
        self.kept = xhat, invstd
        y = xhat
        if w.__class__ is not int:
            y = y * w.reshape(wshape) if spare is None or w.dtype != spare.dtype else \
                xp.multiply(y, w.reshape(wshape), out=spare)
        if b.__class__ is not int:
            if y is xhat:
                y = y + b.reshape(wshape)
            else:
                y += b.reshape(wshape)          # y is this op's own buffer
        if y is xhat:
            y = xhat.copy()
        return y if stats is not None or not with_stats else (y, mean, var)

    def backward(self, g, *_stat_grads):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        grads = iter(NormGrad.apply(g, x, w, norm=self, needs=needs))
        return tuple([next(grads) if n else None for n in needs])


def _array_sum(xp, a, axes):
    """The sum of array ``a`` over ``axes`` (keepdims): by a product with ones where
    ``_sum_by_product`` can, else NumPy's reduction."""
    s = _sum_by_product(a, axes, xp.matmul)
    return xp.sum(a, axis=axes, keepdims=True) if s is None else s


def _norm_vjp(g, x, w, norm, needs):
    """``Norm``'s gradients (dL/dx, dL/dw, dL/db) as a formula of ops (the ones ``needs``
    asks for, as a tuple): what ``NormGrad`` computes, written so that it can be
    differentiated; x_hat and 1/std come through ``Standardize``, as functions of x."""
    xhat, invstd = Standardize.apply(x, axes=norm.axes, eps=norm.eps, stats=norm.stats)
    waxes = tuple(i for i, n in enumerate(norm.wshape) if n == 1)
    out = []
    if needs[0]:
        gh = g if w.__class__ is int else g * w.reshape(norm.wshape)
        out.append(gh * invstd if norm.stats is not None else
                   _standardize_vjp(gh, xhat, invstd, norm.axes))
    if needs[1]:
        out.append(_sum(g * xhat, waxes).reshape(w.shape))
    if needs[2]:
        out.append(_sum(g, waxes).reshape(norm.bshape))
    return tuple(out)


class NormGrad(Op):
    """``Norm``'s gradients: (g, x, w) -> the ones of (dL/dx, dL/dw, dL/db) that ``needs``
    asks for, as a tuple, from the x_hat and 1/std that the node ``norm``'s forward kept.
    On arrays, in five elementwise passes and four sums as products with ones, where the
    formula ran some twenty ops with their temporaries (layer norm of (8, 32, 64) float32,
    forward and backward: 199 -> 151 us): with a = mean(g w), c = mean(g w x_hat) over
    the normalised axes, dL/dx = (g w - a - x_hat c) / std.  Its own derivative replays ``_norm_vjp`` (the same
    gradients as a formula) and differentiates that, as the recurrent layers' gradient
    nodes do."""
    __slots__ = ('norm', 'needs')
    array_backward = True
    save = (0, 1, 2)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, g, x, w, *, norm, needs):
        self.norm, self.needs = norm, needs
        xhat, invstd = norm.kept
        wshape = norm.wshape
        waxes = tuple(i for i, n in enumerate(wshape) if n == 1)
        if norm.stats is None:
            plan = _product_plan(x.shape, x.dtype, norm.axes)
            if plan is not None and not plan[2] and (
                    w.__class__ is int or waxes == tuple(range(x.ndim - len(norm.axes)))):
                return self._rows(xp, g, w, plan[0], xhat, invstd, needs)
        out = []                                    # (dL/dx first: appended last)
        t = None                                    # g x_hat, then g w x_hat
        if needs[1]:
            t = g * xhat
            out.append(_array_sum(xp, t, waxes).reshape(w.shape))
        if needs[2]:
            out.append(_array_sum(xp, g, waxes).reshape(norm.bshape))
        if needs[0]:
            gh = g if w.__class__ is int else g * w.reshape(wshape)
            if norm.stats is not None:
                gx = gh * invstd
            else:
                axes = norm.axes
                scale = 1.0 / math.prod(x.shape[i] for i in axes)
                a = _array_sum(xp, gh, axes)
                if t is None or gh is g:
                    t = gh * xhat
                else:
                    t *= w.reshape(wshape)
                c = _array_sum(xp, t, axes)
                a *= scale
                c *= scale
                gx = gh - a if gh is g else xp.subtract(gh, a, out=gh)
                if t.shape == xhat.shape and t.dtype == xp.result_type(xhat, c):
                    gx -= xp.multiply(xhat, c, out=t)
                else:
                    gx = gx - xhat * c
                gx *= invstd
            out.insert(0, gx)
        return tuple([o if o.dtype == g.dtype else o.astype(g.dtype) for o in out])

    def _rows(self, xp, g, w, m, xhat, invstd, needs):
        """The layer-norm layout (trailing axes, w and b of their shape or absent), as rows
        of m: the sums over the rows are products with w itself, sum(g w) = g w and
        sum(g w x_hat) = (g x_hat) w, and those down the rows one product with ones each."""
        g2 = g.reshape(-1, m)
        n = g2.shape[0]
        xh = xhat.reshape(n, m)
        t = g2 * xh                                 # g x_hat
        wv = None if w.__class__ is int else w.reshape(m)
        out = []
        if needs[0]:
            # the means by products with w / m (copies of 1 / m without w)
            w_m = ones_vector(xp, m, g.dtype, 1 / m) if wv is None else wv * (1 / m)
            a = xp.matmul(g2, w_m).reshape(n, 1)
            c = xp.matmul(t, w_m).reshape(n, 1)
            if w.__class__ is int:
                gx = g2 - a
            else:
                gx = g2 * wv
                gx -= a
            out.append(gx)
        if needs[1] or needs[2]:
            ones = ones_vector(xp, n, g.dtype)
            if needs[1]:
                out.append(xp.matmul(ones, t).reshape(w.shape))
            if needs[2]:
                out.append(xp.matmul(ones, g2).reshape(self.norm.bshape))
        if needs[0]:
            gx -= xp.multiply(xh, c, out=t)        # (t's last use)
            gx *= invstd.reshape(n, 1)
            out[0] = gx.reshape(g.shape)
        return tuple([o if o.dtype == g.dtype else o.astype(g.dtype) for o in out])

    def backward(self, *cotangents):
        norm, needs = self.norm, self.needs
        return replay_backward(self.saved_tensors, cotangents,
                                lambda g, x, w: _norm_vjp(g, x, w, norm, needs),
                                self.needs_input_grad)


def _affine(weight, bias):
    return (1 if weight is None else weight), (0 if bias is None else bias)


def _check_param(t, n, what, op, input):
    if t is not None and t.numel() != n:       # (PyTorch's words)
        raise RuntimeError(f'Expected {what} to be a vector of size equal to the number of '
                           f'channels in input, but got {what} of shape {list(t.shape)} and '
                           f'input of shape {list(input.shape)}')


# PyTorch's node names (its instance norm is a batch norm of a reshaped input, viewed back)
_BATCH_NORM = named(Norm, 'NativeBatchNormBackward0')
_INSTANCE_NORM = named(Norm, 'ViewBackward0')
_LAYER_NORM = named(Norm, 'NativeLayerNormBackward0')


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel of (N, C, *) input over the batch and spatial dims.

    Training: uses the batch statistics and updates ``running_mean``/``running_var`` in
    place: r <- (1 - momentum) r + momentum s, with the unbiased batch variance.
    Evaluation: uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f'expected 2D or higher input (got {input.ndim}D input)')
    shape = tuple(input.shape)
    c = shape[1]
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(f'Expected more than 1 value per channel when training, got input '
                             f'size {input.shape}')
    # PyTorch's checks, in its order and words
    for t, what in ((running_mean, 'running_mean'), (running_var, 'running_var'),
                    (weight, 'weight'), (bias, 'bias')):
        if t is None:
            if not training and what.startswith('running'):
                raise RuntimeError(f'{what} must be defined in evaluation mode')
        elif t.numel() != c:
            raise RuntimeError(f'{what} should contain {c} elements not {t.numel()}')
    axes = (0,) + tuple(range(2, len(shape)))
    wshape = (1, c) + (1,) * (len(shape) - 2)
    w, b = _affine(weight, bias)
    if not training:
        stats = (array_of(running_mean).reshape(wshape), array_of(running_var).reshape(wshape))
        return _BATCH_NORM.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, stats=stats)
    y, mean, var = _BATCH_NORM.apply(input, w, b, axes=axes, wshape=wshape, eps=eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            # momentum: a number, or a 0-d tensor (BatchNorm's cumulative average, no host read)
            scaled = not isinstance(momentum, (int, float))
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.reshape(c) * momentum if scaled
                                                     else mean.reshape(c),
                                                     alpha=1 if scaled else momentum)
            if running_var is not None:
                unbiased = var.reshape(c) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum if scaled else unbiased,
                                                    alpha=1 if scaled else momentum)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each (sample, channel) of (N, C, *) input over its spatial dims; running
    statistics (if given) track the batch average of the per-instance statistics."""
    if input.ndim < 3:
        raise ValueError(f'expected 3D or higher input (got {input.ndim}D input)')
    shape = tuple(input.shape)
    n, c = shape[:2]
    axes = tuple(range(2, len(shape)))
    wshape = (1, c) + (1,) * (len(shape) - 2)
    w, b = _affine(weight, bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError('Expected running_mean and running_var to be defined when '
                               'use_input_stats is false')
        stats = (array_of(running_mean).reshape(wshape), array_of(running_var).reshape(wshape))
        return _INSTANCE_NORM.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, stats=stats)
    count = input.numel() // (n * c)
    if count <= 1:
        raise ValueError(f'Expected more than 1 spatial element when training, got input size '
                         f'{input.shape}')
    y, mean, var = _INSTANCE_NORM.apply(input, w, b, axes=axes, wshape=wshape, eps=eps)
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.reshape(n, c).mean(0), alpha=momentum)
        if running_var is not None:
            unbiased = var.reshape(n, c).mean(0) * (count / (count - 1))
            running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing dims ``normalized_shape``; weight and bias have that shape."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    d = len(ns)
    shape = tuple(input.shape)
    if d == 0 or shape[len(shape) - d:] != ns or len(shape) < d:
        raise RuntimeError(f'Given normalized_shape={list(ns)}, expected input with shape '
                           f'[*, {", ".join(map(str, ns))}], but got input of size{list(shape)}')
    for t, what in ((weight, 'weight'), (bias, 'bias')):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f'Expected {what} to be of same shape as normalized_shape, but got '
                               f'{what} of shape {list(t.shape)} and normalized_shape = {list(ns)}')
    axes = tuple(range(len(shape) - d, len(shape)))
    wshape = (1,) * (len(shape) - d) + ns
    w, b = _affine(weight, bias)
    return _LAYER_NORM.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, with_stats=False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise (N, C, *) input over each group of C/num_groups channels and the spatial
    dims; weight and bias are per channel (C,)."""
    if input.ndim < 2:
        raise RuntimeError(f'Expected at least 2 dimensions for input tensor but received '
                           f'{input.ndim}')
    shape = tuple(input.shape)
    n, c = shape[:2]
    if c % num_groups:
        raise RuntimeError(f'Expected number of channels in input to be divisible by num_groups, '
                           f'but got input of shape {list(shape)} and num_groups={num_groups}')
    for t, what in ((weight, 'weight'), (bias, 'bias')):
        _check_param(t, c, what, 'group_norm', input)
    rest = shape[2:]
    x = input.reshape((n, num_groups, c // num_groups) + rest)
    axes = tuple(range(2, x.ndim))
    wshape = (1, num_groups, c // num_groups) + (1,) * len(rest)
    w, b = _affine(weight, bias)
    y = Norm.apply(x, w, b, axes=axes, wshape=wshape, eps=eps, with_stats=False)
    return renamed(y.reshape(shape), 'NativeGroupNormBackward0')


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """Divide each channel by (k + alpha/size * sum of squares over ``size`` neighbouring
    channels)^beta (Krizhevsky et al. 2012, sec. 3.3), as PyTorch's local_response_norm."""
    if input.ndim < 3:
        raise ValueError(f'Expected 3D or higher dimensionality input (got {input.ndim} '
                         'dimensions)')
    if input.numel() == 0:
        return input
    shape = tuple(input.shape)
    sq = (input * input).reshape(shape[:2] + (-1,))
    # a window of `size` channels, zero-padded size//2 before and (size-1)//2 after
    geo = ((size, 1), (1, 1), ((size // 2, (size - 1) // 2), (0, 0)), (1, 1))
    div = SumPool.apply(sq, geo=geo, out=sq.shape[1:], scale=alpha / size).reshape(shape)
    return input / (div + k).pow(beta)

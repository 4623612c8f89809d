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
1/std.  Its backward formula reads them through the op ``Standardize`` (x -> x_hat, 1/std),
whose forward hands back the kept arrays: an array sweep computes nothing more, and a
graph of the backward (create_graph) sees them as functions of x, so that second
derivatives see the statistics' dependence on x.
"""
import functools
import math

from autograd import no_grad
from autograd.extend import Op, array_of, const_like, xp_of
from autograd.extend import opmath
from autograd.ops.formula import MatMul, Mean, Sum

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
    ones = const_like(xp_of(t).ones(m, dtype=dtype), t)
    if leading:
        return matmul(ones, t.reshape(m, -1)).reshape(keep)
    return matmul(t.reshape(-1, m), ones).reshape(keep)


def _sum(t, axes):
    """The sum of ``t`` over ``axes`` (keepdim): a formula."""
    s = _sum_by_product(t, axes)
    return Sum.apply(t, dim=axes, keepdim=True) if s is None else s


def _mean(t, axes, matmul=MatMul.apply):
    """The mean of ``t`` over ``axes`` (keepdim): a formula (``matmul``: as above)."""
    s = _sum_by_product(t, axes, matmul)
    return Mean.apply(t, dim=axes, keepdim=True) if s is None else \
        s / math.prod(t.shape[a] for a in axes)


def _standardize(xp, x, axes, eps, stats):
    """x_hat = (x - mean) / sqrt(var + eps) over ``axes``, 1/std, the mean and the biased
    var: of x itself, or the fixed ``stats`` (mean, var)."""
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
        return xc, invstd, mean, var
    return xc * invstd, invstd, mean, var


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
        xhat, invstd, mean, var = _standardize(xp, x, axes, eps, stats)
        self.kept = xhat, invstd
        y = xhat
        if w.__class__ is not int:
            y = y * w.reshape(wshape)
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
        xhat, invstd = Standardize.apply(x, axes=self.axes, eps=self.eps, stats=self.stats,
                                         kept=self.kept)
        waxes = tuple(i for i, n in enumerate(self.wshape) if n == 1)
        gx = gw = gb = None
        if self._next[1] is not None:
            gw = _sum(g * xhat, waxes).reshape(w.shape)
        if self._next[2] is not None:
            gb = _sum(g, waxes).reshape(self.bshape)
        if self._next[0] is not None:
            gh = g if w.__class__ is int else g * w.reshape(self.wshape)
            gx = gh * invstd if self.stats is not None else \
                _standardize_vjp(gh, xhat, invstd, self.axes)
        return gx, gw, gb


def _affine(weight, bias):
    return (1 if weight is None else weight), (0 if bias is None else bias)


def _check_param(t, n, what, op, input):
    if t is not None and t.numel() != n:       # (PyTorch's words)
        raise RuntimeError(f'Expected {what} to be a vector of size equal to the number of '
                           f'channels in input, but got {what} of shape {list(t.shape)} and '
                           f'input of shape {list(input.shape)}')


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
        return Norm.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, stats=stats)
    y, mean, var = Norm.apply(input, w, b, axes=axes, wshape=wshape, eps=eps)
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
        return Norm.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, stats=stats)
    count = input.numel() // (n * c)
    if count <= 1:
        raise ValueError(f'Expected more than 1 spatial element when training, got input size '
                         f'{input.shape}')
    y, mean, var = Norm.apply(input, w, b, axes=axes, wshape=wshape, eps=eps)
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
    return Norm.apply(input, w, b, axes=axes, wshape=wshape, eps=eps, with_stats=False)


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
    return y.reshape(shape)


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

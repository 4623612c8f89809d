"""Pooling and resampling (PyTorch's ``F.max_pool*``, ``F.avg_pool*``, ``F.adaptive_avg_pool*``,
``F.adaptive_max_pool*``, ``F.max_unpool*``, ``F.lp_pool*``, ``F.interpolate``).

Window pooling works on strided slices of the padded input, one per kernel offset j:
    window_j = x_pad[..., j*dilation : ... : stride]       (shape of the output)
Max pooling takes the elementwise maximum over the slices and, for backward, the offset
that won (the argmax: the first maximum, as in PyTorch), found by comparing each slice
with the maximum; its backward sends each gradient to the winning offset.  Average pooling
sums the slices and divides by the window count; its backward is the adjoint slice-add.
Each op's backward is another op of this module whose own backward is the first, so
derivatives of every order exist.

Adaptive average pooling and interpolation are separable linear maps: one small matrix
per spatial dim (averaging windows, or interpolation weights), applied as matrix products.
Adaptive max pooling is separable too (the max over a box is the max over one dim of the
maxima over the others), one dim at a time, with windows gathered by index.
Pooling acts on the trailing spatial dims, so unbatched (C, *S) input needs no reshape.
Nothing here reads a device array on the host (no data-dependent branch or shape), so
on a GPU pooling never waits for the device.
"""
import math

import autograd
from autograd.extend import Op, array_of, const_like, needs_grad, scalar_name, wrap, xp_of
from autograd.extend import scatter_add
from autograd.extend import named

from . import _buffers
from .conv import _offsets, _pad, _tuple

__all__ = ['max_pool1d', 'max_pool2d', 'max_unpool1d', 'max_unpool2d', 'avg_pool1d',
           'avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_max_pool1d',
           'adaptive_max_pool2d', 'lp_pool1d', 'lp_pool2d',
           'interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear',
           'max_pool3d', 'max_unpool3d', 'avg_pool3d', 'adaptive_avg_pool3d',
           'adaptive_max_pool3d', 'lp_pool3d']


# ----------------------------------------------------------------------------- window slices

def _slices(j, geo, out):
    """The slice of the padded input that window offset ``j`` sees at every output position."""
    _, stride, _, dilation = geo
    return (Ellipsis,) + tuple(slice(jj * dl, jj * dl + (o - 1) * s + 1, s)
                               for jj, dl, o, s in zip(j, dilation, out, stride))


def _scatter_windows(xp, parts, geo, size, out, where=None):
    """Sum ``parts(k, j)`` (output-shaped) into the padded frame at window offset j, then
    crop the padding: the adjoint of taking the window slices.  With ``where(k)`` (a mask
    of the output's shape) only the masked elements of part k are sent."""
    kernel, stride, pads, dilation = geo
    # windows that cannot overlap are written, not added to
    disjoint = all(dl == 1 and s >= k for k, s, dl in zip(kernel, stride, dilation))
    frame = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    # windows that tile the frame exactly write every element: nothing to zero first
    tiled = disjoint and all(s == k and o * s == f
                             for k, s, o, f in zip(kernel, stride, out, frame))
    lead = None
    buf = None
    for k, j in enumerate(_offsets(kernel)):
        p = parts(k, j)
        if buf is None:
            lead = p.shape[:p.ndim - len(size)]
            buf = _buffers.empty(xp, lead + frame, p.dtype)
            if not tiled:
                buf.fill(0)
        window = buf[_slices(j, geo, out)]
        if where is not None and disjoint:
            # p's bits times the 0/1 mask, straight into the window: exact (an inf or NaN
            # outside the mask gives 0, as through _select) in one pass after the mask's
            bits = xp.dtype(f'int{8 * p.dtype.itemsize}')
            xp.multiply(p.view(bits), where(k), out=window.view(bits))
            continue
        if where is not None:
            p = _select(xp, where(k), p)
        if disjoint:
            window[...] = p
        else:
            window += p
    return xp.ascontiguousarray(_pad(xp, buf, tuple((-lo, -hi) for lo, hi in pads)))


def _select(xp, mask, a):
    """``a`` where ``mask``, else 0, exactly: an inf or NaN outside the mask must not leak
    (as it would through ``a * mask``: 0 * inf is NaN).  A bitwise and of a's bits with all
    ones or all zeros, which NumPy vectorises where it does not vectorise ``where``."""
    bits = xp.dtype(f'int{8 * a.dtype.itemsize}')
    keep = xp.subtract(0, mask, dtype=bits)             # -1 (all bits set) or 0
    xp.bitwise_and(a.view(bits), keep, out=keep)
    return keep.view(a.dtype)


class MaxPool(Op):
    """Max over windows.  With ``track`` also returns the winning kernel offset per output
    (an integer tensor, no gradient) that backward routes the gradient by."""
    __slots__ = ('geo', 'size', 'arg')
    array_backward = True
    nondiff_outputs = (1,)

    def forward(self, xp, x, *, geo, out, track):
        kernel, _, pads, _ = geo
        self.geo, self.size = geo, x.shape[-len(kernel):]
        low = -xp.inf if x.dtype.kind == 'f' else xp.iinfo(x.dtype).min
        xpad = _pad(xp, x, pads, low)
        views = [xpad[_slices(j, geo, out)] for j in _offsets(kernel)]
        if len(views) == 1:
            y = views[0].copy()
        elif all(dl == 1 and st == k for k, st, dl in zip(kernel, geo[1], geo[3])):
            # windows that tile: one dim at a time, the first pass over whole rows
            # ((64,8,28,28) 2x2 float32 204 -> 167 us; NaN propagates as below)
            y = _tile_sums(xp, xpad, kernel, out, xp.maximum)
        else:
            y = xp.maximum(views[0], views[1])          # NaN propagates, as in PyTorch
            for v in views[2:]:
                xp.maximum(y, v, out=y)
        if not track:
            return y
        padding = None
        if any(lo or hi for lo, hi in pads):
            # a window whose maximum is the padding value could match the padding, which
            # PyTorch's scan never visits: padded positions never count as the maximum
            # (a mask for each offset whose slice reaches into the padding)
            outside = _pad(xp, xp.zeros(self.size, bool), pads, True)
            padding = [outside[_slices(j, geo, out)] if _reaches_padding(j, geo, out, self.size)
                       else None for j in _offsets(kernel)]
        nans = None
        if x.dtype.kind == 'f':        # one pass over the input, not one per window offset
            def masks():
                isnan = xp.isnan(xpad)
                return [isnan[_slices(j, geo, out)] for j in _offsets(kernel)]
            nans = _nan_masks(xp, y, masks)
        self.arg = arg = _argmax(xp, views, y, padding, nans)
        return y, arg

    def backward(self, g, _g_arg=None):
        return PoolScatter.apply(g, const_like(self.arg, g), geo=self.geo, size=self.size)


def _reaches_padding(j, geo, out, size):
    """Whether the slice of window offset ``j`` reads a padded position."""
    _, stride, pads, dilation = geo
    for jj, s, (lo, _), dl, o, n in zip(j, stride, pads, dilation, out, size):
        first = jj * dl - lo
        if first < 0 or first + (o - 1) * s >= n:
            return True
    return False


def _argmax(xp, views, y, padding=None, nans=None):
    """The kernel offset of each window's maximum ``y``: the first one, and where the window
    holds NaN the last NaN (PyTorch's scan keeps ``val > max or isnan(val)``).  ``padding``
    (one boolean mask per view, None for a view or for all) marks positions that never count
    as the maximum; ``nans`` (one per view, or None: computed here) marks the NaNs.

    Branch-free: with ne_j = [window_j != y] (or padding), the first offset holding the
    maximum is ne_0 (1 + ne_1 (1 + ... (1 + ne_{K-2}))), a few passes of small integers.
    The NaN pass runs for every floating input: testing for a NaN first would read the
    device's answer on the host."""
    dtype = xp.uint8 if len(views) < 2 ** 8 else xp.int64
    if len(views) == 1:
        return xp.zeros(y.shape, dtype)

    def ne(k):
        diff = views[k] != y
        return diff if padding is None or padding[k] is None else diff | padding[k]
    arg = ne(len(views) - 2).astype(dtype)
    for k in reversed(range(len(views) - 2)):
        arg += 1
        arg *= ne(k)
    if y.dtype.kind == 'f':
        if nans is None:
            nans = _nan_masks(xp, y, lambda: [xp.isnan(v) for v in views])
        for k, mask in enumerate(nans):
            xp.copyto(arg, k, where=mask)
    return arg


def _nan_masks(xp, y, masks):
    """``masks()`` (a NaN mask per view), or none where no window holds a NaN.  A NaN in a
    window is a NaN maximum in ``y``: on the host one read of y says so, and skips the NaN
    pass (half of a 2x2 max pooling's argmax); a GPU always runs it (no host read)."""
    return () if _on_host(xp) and not xp.isnan(y).any() else masks()


def _on_host(xp):
    """Whether ``xp`` is NumPy, which computes on the host: reading a result there costs no
    wait for a device (any other module, CuPy or a stand-in for a device, is not read)."""
    return getattr(xp, '__name__', None) == 'numpy'


class PoolScatter(Op):
    """Each output gradient to its winning window offset: g (..., *out) -> (..., *size)."""
    __slots__ = ('geo',)
    array_backward = True
    save = (1,)

    def forward(self, xp, g, arg, *, geo, size):
        self.geo = geo
        out = g.shape[-len(size):]
        # only the winner may see its gradient (an inf included: no multiplying by a mask)
        return _scatter_windows(xp, lambda k, j: g, geo, size, out, where=lambda k: arg == k)

    def backward(self, gg):
        arg, = self.saved_tensors
        return PoolGather.apply(gg, arg, geo=self.geo), None


class PoolGather(Op):
    """The adjoint of ``PoolScatter``: x (..., *size) -> x at the winning offsets (..., *out)."""
    __slots__ = ('geo', 'size')
    array_backward = True
    save = (1,)

    def forward(self, xp, x, arg, *, geo):
        kernel, _, pads, _ = geo
        self.geo, self.size = geo, x.shape[-len(kernel):]
        xpad = _pad(xp, x, pads)
        out = arg.shape[-len(kernel):]
        y = xp.zeros(arg.shape, x.dtype)
        for k, j in enumerate(_offsets(kernel)):
            xp.copyto(y, xpad[_slices(j, geo, out)], where=arg == k)
        return y

    def backward(self, gy):
        arg, = self.saved_tensors
        return PoolScatter.apply(gy, arg, geo=self.geo, size=self.size), None


class SumPool(Op):
    """Window sums of the zero-padded input times ``scale`` (a number, or an array that
    broadcasts against the output): average pooling with scale = 1 / divisor."""
    __slots__ = ('geo', 'size', 'scale')
    array_backward = True

    def forward(self, xp, x, *, geo, out, scale):
        kernel, _, pads, _ = geo
        self.geo, self.size, self.scale = geo, x.shape[-len(kernel):], scale
        xpad = _pad(xp, x, pads)
        if all(dl == 1 and st == k for k, st, dl in zip(kernel, geo[1], geo[3])):
            y = _tile_sums(xp, xpad, kernel, out)
            y *= scale
            return y
        offsets = list(_offsets(kernel))
        y = xpad[_slices(offsets[0], geo, out)].copy()
        for j in offsets[1:]:
            y += xpad[_slices(j, geo, out)]
        y *= scale
        return y

    def backward(self, g):
        return SumPoolT.apply(g, geo=self.geo, size=self.size, scale=self.scale)


def _tile_sums(xp, xpad, kernel, out, ufunc=None):
    """The sums of the disjoint windows (stride = kernel, no dilation) that tile the first
    out * kernel elements of each trailing dim of ``xpad``, a new array: one dim at a time,
    the kernel's slices of that dim added (the first dim's are contiguous runs of whole rows),
    so each pass reads what the last one left.  Against one strided slice per window offset,
    (64,6,28,28) 2x2 float32 184 -> 173 us, (64,8,28,28) 326 -> 271 us, float64 468 -> 331
    us (CPU time, isolated).  With ``ufunc`` (``xp.maximum``) the windows' reductions by it
    instead of sums."""
    ufunc = xp.add if ufunc is None else ufunc
    d = len(kernel)
    a = xpad[(Ellipsis,) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    lead = a.ndim - d
    fresh = False
    for i, (o, k) in enumerate(zip(out, kernel)):
        if k == 1:
            continue
        ax = lead + i
        split = a.reshape(a.shape[:ax] + (o, k) + a.shape[ax + 1:])
        part = (slice(None),) * (ax + 1)
        a = ufunc(split[part + (0,)], split[part + (1,)])
        for j in range(2, k):
            ufunc(a, split[part + (j,)], out=a)
        fresh = True
    return a if fresh else a.copy()


class SumPoolT(Op):
    """The adjoint of ``SumPool``: g (..., *out) -> (..., *size)."""
    __slots__ = ('geo', 'scale', 'out')
    array_backward = True

    def forward(self, xp, g, *, geo, size, scale):
        self.geo, self.scale = geo, scale
        gs = g * scale
        self.out = out = g.shape[-len(size):]
        return _scatter_windows(xp, lambda k, j: gs, geo, size, out)

    def backward(self, gg):
        return SumPool.apply(gg, geo=self.geo, out=self.out, scale=self.scale)


class AxisLinear(Op):
    """Apply one matrix per trailing dim: y = x M^T for one dim, M_0 x M_1^T for two, and in
    general x contracted with M_i along trailing dim i.  Adaptive average pooling and
    interpolation are of this form."""
    __slots__ = ('mats',)
    array_backward = True

    def forward(self, xp, x, *, mats):
        self.mats = mats
        d = len(mats)
        y = xp.matmul(x, mats[-1].T)
        for i in reversed(range(d - 1)):          # dim i as the rows of a matrix product
            shape = y.shape
            a = y.ndim - d + i
            rows = y.reshape(shape[:a] + (shape[a], math.prod(shape[a + 1:])))
            y = xp.matmul(mats[i], rows).reshape(shape[:a] + (mats[i].shape[0],) + shape[a + 1:])
        return y

    def backward(self, g):
        return AxisLinear.apply(g, mats=tuple(m.T for m in self.mats))


class AdaptiveMaxPool(Op):
    """Max over PyTorch's adaptive windows of the trailing dims (..., *size) -> (..., *out).
    With ``track`` also returns each maximum's flat index into the (unbatched) plane, an
    integer tensor with no gradient, that backward scatter-adds the gradient to."""
    __slots__ = ('idx', 'shape', 'planes')
    array_backward = True
    nondiff_outputs = (1,)

    def forward(self, xp, x, *, out, track):
        d = len(out)
        size = x.shape[-d:]
        y, flat = x, None
        for i in reversed(range(d)):             # the last dim, then each earlier one
            y, arg = _adaptive_max_dim(xp, y, i - d, out[i], track)
            if track:
                # the winner along dim i picks which row's inner index wins
                inner = 0 if flat is None else xp.take_along_axis(flat, arg, axis=i - d)
                flat = arg * math.prod(size[i + 1:]) + inner
        if not track:
            return y
        self.idx, self.shape = flat, x.shape
        self.planes = (math.prod(x.shape[:-d]), math.prod(out), math.prod(size))
        return y, flat

    def backward(self, g, _g_idx=None):
        # repeated winners (overlapping windows) accumulate: a scatter-add into each plane
        idx = const_like(self.idx, g)
        planes, per_plane, numel = self.planes
        gx = ScatterAddFlat.apply(g.reshape((1, planes, per_plane)),
                                  idx.reshape((1, planes, per_plane)), numel=numel)
        return gx.reshape(self.shape)


def _adaptive_bounds(n, o):
    """PyTorch's adaptive windows along a dim: window i is [floor(i n / o), ceil((i+1) n / o))."""
    return [((i * n) // o, -(-(i + 1) * n // o)) for i in range(o)]


def _adaptive_max_dim(xp, x, axis, o, track):
    """Max over the adaptive windows along ``axis`` (negative) and, with ``track``, the index
    along ``axis`` of each window's first maximum (its last NaN, if any: PyTorch's scan
    keeps ``val > max or isnan(val)``).  Windows have at most K elements; offset k of window
    i reads position min(start_i + k, end_i - 1), so a short window repeats its last element,
    which changes neither the maximum nor the first/last winner."""
    n = x.shape[axis]
    bounds = _adaptive_bounds(n, o)
    k_max = max((b - a for a, b in bounds), default=0)
    if k_max == 0 or x.size == 0:
        shape = x.shape[:x.ndim + axis] + (o,) + x.shape[x.ndim + axis + 1:]
        return xp.empty(shape, x.dtype), xp.zeros(shape, xp.int64)
    tail = (1,) * (-axis - 1)
    starts = xp.asarray([a for a, _ in bounds], xp.int64).reshape((o,) + tail)
    lasts = xp.asarray([b - 1 for _, b in bounds], xp.int64).reshape((o,) + tail)
    if n % o == 0:                               # equal disjoint windows: strided views
        views = [x[(Ellipsis, slice(k, None, k_max)) + (slice(None),) * (-axis - 1)]
                 for k in range(k_max)]
    else:
        views = [xp.take(x, xp.minimum(starts + k, lasts).ravel(), axis=axis)
                 for k in range(k_max)]
    y = views[0].copy() if k_max == 1 else xp.maximum(views[0], views[1])  # NaN propagates
    for v in views[2:]:
        xp.maximum(y, v, out=y)
    if not track:
        return y, None
    return y, xp.minimum(starts + _argmax(xp, views, y), lasts)


class GatherFlat(Op):
    """y[b, c, i] = x[b, c, indices[b, c, i]] along the last dim."""
    __slots__ = ('numel',)
    array_backward = True
    save = (1,)

    def forward(self, xp, x, indices):
        self.numel = x.shape[-1]
        return xp.take_along_axis(x, indices, axis=-1)

    def backward(self, g):
        idx, = self.saved_tensors
        return ScatterAddFlat.apply(g, idx, numel=self.numel), None


class ScatterAddFlat(Op):
    """The adjoint of ``GatherFlat``: sums g into a zero (B, C, numel) array (repeats add)."""
    __slots__ = ()
    array_backward = True
    save = (1,)

    def forward(self, xp, g, indices, *, numel):
        b, c = g.shape[:2]
        flat = (xp.arange(b * c).reshape(b, c, 1) * numel + indices).ravel()
        y = xp.zeros(b * c * numel, g.dtype)
        scatter_add(xp, y, flat, g.ravel())     # no bincount: its size would be read on the host
        return y.reshape(b, c, numel)

    def backward(self, gg):
        idx, = self.saved_tensors
        return GatherFlat.apply(gg, idx), None


class MaxUnpool(ScatterAddFlat):
    """Place x (B, C, L) at flat positions ``indices`` of a zero (B, C, numel) array: the
    scatter-add with each value written (PyTorch's unpooling keeps one of the values sent
    to a repeated index; max pooling's indices never repeat), so the same adjoint."""
    __slots__ = ()

    def forward(self, xp, x, indices, *, numel):
        b, c = x.shape[:2]
        y = xp.zeros((b * c, numel), x.dtype)
        rows = xp.arange(b * c)[:, None]
        y[rows, indices.reshape(b * c, -1)] = x.reshape(b * c, -1)
        return y.reshape(b, c, numel)


# ----------------------------------------------------------------------------- geometry

def _check_dims(input, d, op, msg):
    if not isinstance(input, autograd.Tensor):
        raise TypeError(f'{op}(): argument \'input\' must be Tensor, not {type(input).__name__}')
    if input.ndim not in (d + 1, d + 2) or input.numel() == 0 and input.ndim == d + 1:
        raise RuntimeError(msg.format(shape=list(input.shape), ndim=input.ndim))


def _window_params(kernel_size, stride, padding, dilation, d):
    kernel = _tuple(kernel_size, d, 'kernel_size')
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, d, 'stride')
    if any(s <= 0 for s in stride):
        raise RuntimeError('stride should not be zero')
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f'kernel size should be greater than zero, but got kernel: {kernel}')
    dilation = _tuple(dilation, d, 'dilation')
    if any(dl <= 0 for dl in dilation):
        raise RuntimeError(f'dilation should be greater than zero, but got dilation: {dilation}')
    pad = _tuple(padding, d, 'padding')
    return kernel, stride, pad, dilation


def _pool_geometry(size, kernel, stride, pad, dilation, ceil_mode, lead):
    """The output size and the geometry (kernel, stride, pads, dilation) of a window pool;
    with ceil_mode the last window may overhang the input, so the 'after' pad grows."""
    out, pads = [], []
    for n, k, s, p, dl in zip(size, kernel, stride, pad, dilation):
        eff = dl * (k - 1) + 1
        if p > eff // 2:
            raise RuntimeError(f'pad should be at most half of effective kernel size, but got '
                               f'pad={p}, kernel_size={k} and dilation={dl}')
        o = (n + 2 * p - eff + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:      # the last window must start in the input
            o -= 1
        out.append(o)
        pads.append((p, max(p, (o - 1) * s + eff - n - p)))
    if any(o <= 0 for o in out):
        dims = 'x'.join(map(str, lead[-1:] + tuple(size)))
        outs = 'x'.join(map(str, lead[-1:] + tuple(out)))
        raise RuntimeError(f'Given input size: ({dims}). Calculated output size: ({outs}). '
                           'Output size is too small')
    return tuple(out), (kernel, stride, tuple(pads), dilation)


def _flat_indices(xp, arg, geo, size, out):
    """Kernel-offset argmax -> index into the flattened (unpadded) spatial plane."""
    kernel, stride, pads, dilation = geo
    d = len(kernel)
    flat = 0
    arg = arg.astype(xp.int64)
    for i in range(d):
        j = (arg // math.prod(kernel[i + 1:])) % kernel[i]
        pos = xp.arange(out[i], dtype=xp.int64).reshape((-1,) + (1,) * (d - 1 - i))
        flat = flat * size[i] + pos * stride[i] - pads[i][0] + j * dilation[i]
    return flat


# PyTorch's node names (its 1-d pooling runs the 2-d kernel and squeezes the result)
_MAX_POOL = {1: named(MaxPool, 'SqueezeBackward1'),
             2: named(MaxPool, 'MaxPool2DWithIndicesBackward0'),
             3: named(MaxPool, 'MaxPool3DWithIndicesBackward0')}
_ADAPTIVE_MAX = {1: named(AdaptiveMaxPool, 'SqueezeBackward1'),
                 2: named(AdaptiveMaxPool, 'AdaptiveMaxPool2DBackward0'),
                 3: named(AdaptiveMaxPool, 'AdaptiveMaxPool3DBackward0')}
_AVG_POOL = {1: named(SumPool, 'SqueezeBackward1'), 2: named(SumPool, 'AvgPool2DBackward0'),
             3: named(SumPool, 'AvgPool3DBackward0')}


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d, op,
              msg):
    _check_dims(input, d, op, msg)
    kernel, stride, pad, dilation = _window_params(kernel_size, stride, padding, dilation, d)
    size = input.shape[-d:]
    out, geo = _pool_geometry(size, kernel, stride, pad, dilation, ceil_mode,
                              input.shape[:-d])
    track = return_indices or needs_grad(input)
    res = _MAX_POOL[d].apply(input, geo=geo, out=out, track=track)
    if not track:
        return res
    y, arg = res
    if not return_indices:
        return y
    return y, wrap(_flat_indices(xp_of(input), array_of(arg), geo, size, out), input.device)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of the last dim: (N, C, L) or (C, L) -> (..., L_out), with
    L_out = (L + 2 pad - dilation (k - 1) - 1) // stride + 1 (rounded up with ceil_mode).
    ``return_indices`` also returns each maximum's index into L."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                     'max_pool1d', 'max_pool1d: Expected 2D or 3D (batch mode) tensor with '
                     'optional 0 dim batch size for input, but got:{shape}')


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding 2-d windows: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out).
    ``return_indices`` also returns each maximum's flat index into H * W (for max_unpool2d)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                     'max_pool2d', 'non-empty 3D or 4D (batch mode) tensor expected for input')


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding 3-d windows: (N, C, D, H, W) or (C, D, H, W) -> (..., D_out, H_out,
    W_out).  ``return_indices`` also returns each maximum's flat index into D * H * W (for
    max_unpool3d)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3,
                     'max_pool3d', 'non-empty 4D or 5D (batch mode) tensor expected for input')


def _avg_divisor(xp, size, out, geo, count_include_pad):
    """The number of elements each window averages (PyTorch's rule: windows are clipped to
    the padded input; without count_include_pad, the padding is not counted)."""
    kernel, stride, pads, _ = geo
    counts = []
    for n, o, k, s, (p, _) in zip(size, out, kernel, stride, pads):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, n)
        counts.append(end - start)
    div = counts[0]
    for c in counts[1:]:
        div = div[..., None] * c
    return div


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              d, op, msg):
    if d == 2 and input.ndim == 2:       # PyTorch's type for this case
        raise IndexError(f'avg_pool2d expects (N, C, H, W) or (C, H, W) input, got input of size '
                         f'{list(input.shape)}')
    _check_dims(input, d, op, msg)
    kernel, stride, pad, dilation = _window_params(kernel_size, stride, padding, 1, d)
    size = input.shape[-d:]
    out, geo = _pool_geometry(size, kernel, stride, pad, dilation, ceil_mode,
                              input.shape[:-d])
    if input.dtype == autograd.bool:     # PyTorch's 1-d pooling runs its 2-d kernel
        kernel_name = {1: 'avg_pool2d', 2: 'avg_pool2d', 3: 'avg_pool3d_out_frame'}[d]
        raise NotImplementedError(f'"{kernel_name}" not implemented for \'Bool\'')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError('divisor must be not zero')
    xp = xp_of(input)
    div = divisor_override if divisor_override is not None else \
        _avg_divisor(xp, size, out, geo, count_include_pad)
    if not input.is_floating_point():   # integers: the window sums, divided and truncated
        sums = SumPool.apply(input, geo=geo, out=out, scale=1)
        return sums.div(div if divisor_override is not None else wrap(div, input.device),
                        rounding_mode='trunc')
    scale = 1.0 / div if divisor_override is not None else \
        (1.0 / div).astype(array_of(input).dtype)
    return _AVG_POOL[d].apply(input, geo=geo, out=out, scale=scale)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of the last dim: (N, C, L) or (C, L) -> (..., L_out)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     'avg_pool1d', 'Expected 2 to 3 dimensions, but got {ndim}-dimensional '
                     "tensor for argument #1 'self' (while checking arguments for avg_pool1d)")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding 2-d windows: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out).
    The divisor is the window size (count_include_pad), the number of non-padding elements,
    or ``divisor_override``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, 'avg_pool2d',
                     'Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for '
                     'input, but got:{shape}')


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding 3-d windows: (N, C, D, H, W) or (C, D, H, W) -> (..., D_out, H_out,
    W_out), the divisor as in avg_pool2d."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3, 'avg_pool3d',
                     'non-empty 4D or 5D (batch mode) tensor expected for input')


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d):
    """(sum over each window of x^p)^(1/p) = (window size * mean of x^p)^(1/p), as PyTorch
    computes it (a negative mean, from odd p, gives 0); p = +-inf is the max (min) of |x|."""
    kernel = _tuple(kernel_size, d, 'kernel_size')
    pool = (max_pool1d, max_pool2d, max_pool3d)[d - 1]
    if norm_type == float('inf'):
        return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float('inf'):
        return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[d - 1]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling (sum over windows of x^p)^(1/p), as PyTorch's lp_pool1d."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 2-d windows, (sum of x^p)^(1/p), as PyTorch's lp_pool2d."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 3-d windows, (sum of x^p)^(1/p), as PyTorch's lp_pool3d:
    (N, C, D, H, W) or (C, D, H, W) input."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


def _adaptive_matrix(xp, n, o, dtype):
    """(o, n) averaging matrix of adaptive pooling: row i averages
    [floor(i n / o), ceil((i + 1) n / o))."""
    m = xp.zeros((o, n), dtype)
    for i, (a, b) in enumerate(_adaptive_bounds(n, o)):
        m[i, a:b] = 1.0 / (b - a)
    return m


def _adaptive_avg(input, output_size, d, op, msg):
    _check_dims(input, d, op, msg)
    shape = list(input.shape)
    # PyTorch checks the spatial dims (all non-batch dims in 3-d)
    for i in range(1 if d == 3 else input.ndim - d, input.ndim):
        if shape[i] == 0:
            raise RuntimeError(f'{op}(): Expected input to have non-zero size for non-batch '
                               f'dimensions, but input has sizes {shape} with dimension {i} '
                               'being empty')
    size = input.shape[-d:]
    if isinstance(output_size, int):
        output_size = (output_size,) * d
    out = tuple(n if o is None else int(o) for o, n in zip(_tuple_none(output_size, d), size))
    xp = xp_of(input)
    mats = tuple(_adaptive_matrix(xp, n, o, array_of(input).dtype) for n, o in zip(size, out))
    torch_name = 'SqueezeBackward1' if d == 1 else 'MeanBackward1' if set(out) == {1} else \
        f'AdaptiveAvgPool{d}DBackward0'        # PyTorch's node names
    return named(AxisLinear, torch_name).apply(input, mats=mats)


def _tuple_none(v, d):
    v = tuple(v)
    return v * d if len(v) == 1 else v


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed length: (N, C, L) or (C, L) -> (..., output_size)."""
    return _adaptive_avg(input, output_size, 1, 'adaptive_avg_pool1d',
                         'Expected 2 to 3 dimensions, but got {ndim}-dimensional tensor for '
                         "argument #1 'self' (while checking arguments for adaptive_avg_pool1d)")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed size: (N, C, H, W) or (C, H, W) -> (..., oH, oW); window i
    covers [floor(i H / oH), ceil((i + 1) H / oH)).  None in output_size keeps that dim."""
    return _adaptive_avg(input, output_size, 2, 'adaptive_avg_pool2d',
                         'adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {shape}')


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed size: (N, C, D, H, W) or (C, D, H, W) -> (..., oD, oH, oW),
    the windows per dim as in adaptive_avg_pool2d; None in output_size keeps that dim."""
    return _adaptive_avg(input, output_size, 3, 'adaptive_avg_pool3d',
                         'adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {shape}')


def _adaptive_max(input, output_size, return_indices, d, op):
    """PyTorch's checks in its order: the output size's type, the input's rank and non-batch
    sizes, the output size's length, the dtype."""
    if output_size is None or isinstance(output_size, (int, float)) and d == 1:
        output_size = (output_size,)
    sizes = (output_size,) * d if hasattr(type(output_size), '__index__') else tuple(output_size)
    for pos, v in enumerate(sizes):
        if not hasattr(type(v), '__index__'):
            raise TypeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, "
                            f'but found element of type {type(v).__name__} at pos {pos}')
    shape = list(input.shape)
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f'{op}(): Expected {d + 1}D or {d + 2}D tensor, but got: {shape}'
                           if d > 1 else
                           f'Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor '
                           f"for argument #1 'self' (while checking arguments for {op})")
    for i in range(1, input.ndim):
        if shape[i] == 0:
            raise RuntimeError(f'{op}(): Expected input to have non-zero size for non-batch '
                               f'dimensions, but input has sizes {shape} with dimension {i} '
                               'being empty')
    if len(sizes) != d:
        raise RuntimeError(f'{op}(): internal error: output_size.size() must be {d}' if d > 1 else
                           f"{op}() argument 'output_size' should contain one int (got "
                           f'{len(sizes)})')
    if not input.is_floating_point():
        kernel = 'adaptive_max_pool3d_cpu' if d == 3 else 'adaptive_max_pool2d'   # PyTorch's
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{scalar_name(input.dtype)}'")
    out = tuple(int(v) for v in sizes)
    if min(out) < 0:
        bad = shape[:-d] + list(out)
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(out)}: {bad}')
    track = return_indices or needs_grad(input)
    res = _ADAPTIVE_MAX[d].apply(input, out=out, track=track)
    if not track or return_indices:
        return res
    return res[0]


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed length: (N, C, L) or (C, L) -> (..., output_size); window i
    covers [floor(i L / out), ceil((i + 1) L / out)).  ``return_indices`` also returns each
    maximum's index into L (the first maximum of a window, or its last NaN)."""
    if not isinstance(input, autograd.Tensor):
        raise TypeError("adaptive_max_pool1d(): argument 'input' (position 1) must be Tensor, "
                        f'not {type(input).__name__}')
    return _adaptive_max(input, output_size, return_indices, 1, 'adaptive_max_pool1d')


def _adaptive_max_sized(input, output_size, return_indices, d):
    """adaptive_max_pool2d/3d: None in ``output_size`` keeps that dim (PyTorch's
    _list_with_default), then ``_adaptive_max``."""
    if output_size is None or not hasattr(type(output_size), '__index__') and \
            not isinstance(output_size, (tuple, list)):
        raise TypeError(f"object of type '{type(output_size).__name__}' has no len()")
    if isinstance(output_size, (tuple, list)):
        if input.ndim <= len(output_size):
            raise ValueError(f'Input dimension should be at least {len(output_size) + 1}')
        output_size = [n if v is None else v
                       for v, n in zip(output_size, input.shape[-len(output_size):])]
    return _adaptive_max(input, output_size, return_indices, d, f'adaptive_max_pool{d}d')


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed size: (N, C, H, W) or (C, H, W) -> (..., oH, oW); window (i, j)
    covers rows [floor(i H / oH), ceil((i + 1) H / oH)) and the columns likewise.  None in
    ``output_size`` keeps that dim.  ``return_indices`` also returns each maximum's flat index
    into H * W (the first maximum in row-major order, or the last NaN)."""
    return _adaptive_max_sized(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed size: (N, C, D, H, W) or (C, D, H, W) -> (..., oD, oH, oW), the
    windows per dim as in adaptive_max_pool2d; None in ``output_size`` keeps that dim.
    ``return_indices`` also returns each maximum's flat index into D * H * W."""
    return _adaptive_max_sized(input, output_size, return_indices, 3)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, d, op):
    kernel, stride, pad, _ = _window_params(kernel_size, stride, padding, 1, d)
    x, unbatched = input, input.ndim == d + 1
    if unbatched:
        x = x.reshape((1,) + tuple(x.shape))
        indices = indices.reshape((1,) + tuple(indices.shape))
    insize = x.shape[-d:]
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(insize, stride, pad, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-d:]
        for i, (n, dflt, s) in enumerate(zip(size, default, stride)):
            if not dflt - s < n < dflt + s:
                raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {i} must be '
                                 f'between {dflt - s} and {dflt + s})')
    numel = math.prod(size)
    if indices.shape != x.shape:
        raise RuntimeError(f'Expected shape of indices to be same as that of the input tensor '
                           f'({list(x.shape)}) but got indices tensor with shape: '
                           f'{list(indices.shape)}')
    idx = array_of(indices)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= numel):
        bad = int(idx.max()) if int(idx.max()) >= numel else int(idx.min())
        raise RuntimeError(f'Found an invalid max index: {bad} (output volumes are of size '
                           f'{"x".join(map(str, size))})')
    n, c = x.shape[:2]
    flat_idx = wrap(idx.reshape(n, c, -1), indices.device)
    y = MaxUnpool.apply(x.reshape(n, c, -1), flat_idx, numel=numel)
    y = y.reshape((n, c) + size)
    return y.reshape(y.shape[1:]) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: values placed at ``indices``, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       'max_unpool1d')


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: (N, C, H, W) values placed at their flat
    ``indices`` in (N, C, H_out, W_out), zeros elsewhere; H_out = (H - 1) stride - 2 pad + k
    unless ``output_size`` says otherwise."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       'max_unpool2d')


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: (N, C, D, H, W) values placed at their flat
    ``indices`` in (N, C, D_out, H_out, W_out), zeros elsewhere; D_out = (D - 1) stride
    - 2 pad + k unless ``output_size`` says otherwise."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       'max_unpool3d')


# ----------------------------------------------------------------------------- interpolation

def _source_scale(n, o, align_corners, scale_factor):
    """PyTorch's area_pixel_compute_scale: output step measured in input pixels."""
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else n / o


def _cubic_weights(t, ft):
    """Keys' cubic convolution weights (A = -0.75, as PyTorch) of the four taps at source
    offsets -1, 0, 1, 2 for the fractional position t in [0, 1]."""
    a = ft(-0.75)

    def near(x):                # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):                 # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return (far(t + 1), near(t), near(1 - t), far(2 - t))


def _interp_matrix(xp, n, o, mode, align_corners, scale_factor, dtype, d):
    """(o, n) matrix of interpolation weights along one dim of ``d``, computed in the
    precision PyTorch uses (float32 source indices for nearest, the input's dtype for linear
    and cubic).  Taps beyond the border read the border element (their weights add up there).
    PyTorch's kernels copy when o == n in linear modes and, for 2-d nearest only, also halve
    when o == 2 n, whatever the scale factor says; nearest-exact and cubic never do."""
    import numpy
    m = numpy.zeros((o, n))
    dst = numpy.arange(o)
    if mode == 'linear' and o == n:
        return xp.asarray(numpy.eye(n, dtype=dtype))
    if mode in ('nearest', 'nearest-exact'):
        if mode == 'nearest' and d == 2 and o in (n, 2 * n):
            src = dst * n // o
        else:
            scale = numpy.float32(_source_scale(n, o, False, scale_factor))
            shift = numpy.float32(0.5 if mode == 'nearest-exact' else 0.0)
            src = numpy.floor((dst.astype(numpy.float32) + shift) * scale).astype(int)
        m[dst, numpy.minimum(src, n - 1)] = 1.0
        return xp.asarray(m.astype(dtype))
    ft = numpy.dtype(dtype).type
    scale = ft(_source_scale(n, o, align_corners, scale_factor))
    d = dst.astype(ft)
    src = d * scale if align_corners else scale * (d + ft(0.5)) - ft(0.5)
    if mode == 'linear':        # linear clamps the source position at 0; cubic does not
        src = numpy.maximum(src, 0)
    i0 = numpy.minimum(numpy.floor(src).astype(int), n - 1)
    t = numpy.clip(src - i0, 0, 1).astype(ft)
    taps = zip((0, 1), (1 - t, t)) if mode == 'linear' else zip((-1, 0, 1, 2),
                                                                 _cubic_weights(t, ft))
    for offset, w in taps:
        numpy.add.at(m, (dst, numpy.clip(i0 + offset, 0, n - 1)), w.astype(numpy.float64))
    return xp.asarray(m.astype(dtype))


_NEEDS = {'linear': 1, 'bilinear': 2, 'bicubic': 2, 'trilinear': 3}      # spatial dims


def _output_size(input, size, scale_factor, d):
    """PyTorch's interpolate argument rules: (output size or None, scale factors or None)."""
    if size is not None and scale_factor is not None:
        raise ValueError('only one of size or scale_factor should be defined')
    if size is not None:
        if not isinstance(size, (list, tuple)):
            return (size,) * d, None
        if len(size) != d:
            raise ValueError(
                'Input and output must have the same number of spatial dimensions, but got input '
                f'with spatial dimensions of {list(input.shape[2:])} and output size of {size}. '
                'Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in '
                '(o1, o2, ...,oK) format.')
        if not all(hasattr(type(v), '__index__') for v in size):
            raise TypeError('expected size to be one of int or Tuple[int] or Tuple[int, int] or '
                            'Tuple[int, int, int], but got size with types '
                            f'{[type(v) for v in size]}')
        return tuple(size), None
    if scale_factor is None:
        raise ValueError('either size or scale_factor should be defined')
    if not isinstance(scale_factor, (list, tuple)):
        return None, (scale_factor,) * d
    if len(scale_factor) != d:
        raise ValueError(
            'Input and scale_factor must have the same number of spatial dimensions, but got '
            f'input with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape '
            f'{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and '
            'scale_factor in (s1, s2, ...,sK) format.')
    return None, tuple(scale_factor)


def _check_mode(input, mode, d, antialias, align_corners):
    """PyTorch's dispatch on (rank, mode): the errors for combinations it has no kernel for."""
    if mode in ('nearest', 'nearest-exact', 'area') and d in (1, 2, 3) or _NEEDS.get(mode) == d:
        if antialias:
            raise NotImplementedError(f'interpolate: antialias=True (mode {mode!r}) is not '
                                      'supported')
        return
    if mode in ('linear', 'bilinear', 'trilinear') and d in (1, 2, 3):
        raise NotImplementedError(f'Got {input.ndim}D input, but {mode} mode needs '
                                  f'{_NEEDS[mode] + 2}D input')
    if mode == 'lanczos' and d == 2:
        if align_corners:
            raise ValueError('Lanczos mode does not support align_corners=True')
        if not antialias:
            raise ValueError('Lanczos mode requires antialias=True')
        raise NotImplementedError("interpolate: mode 'lanczos' is not supported")
    raise NotImplementedError(
        f'Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the '
        'modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | '
        f'nearest-exact (got {mode})')


def _check_upsample(input, out, mode, d):
    """The checks of PyTorch's upsample kernels: positive sizes, non-empty non-batch dims,
    a floating dtype (uint8 too for the nearest modes)."""
    insize = input.shape[2:]
    if min(insize) <= 0 or min(out) <= 0:
        names = ('D', 'H', 'W')[3 - d:]
        fmt = lambda v: ', '.join(f'{k}: {n}' for k, n in zip(names, v))  # noqa: E731
        raise RuntimeError('Input and output sizes should be greater than 0, but got input '
                           f'({fmt(insize)}){" and" if d == 1 else ""} output ({fmt(out)})')
    if input.numel() == 0 and min(input.shape[1:]) == 0:
        raise RuntimeError(f'Non-empty {input.ndim}D data tensor expected but got a tensor with '
                           f'sizes {list(input.shape)}')
    if not input.is_floating_point() and not (mode.startswith('nearest') and
                                              input.dtype == autograd.uint8):
        what = f'upsample_nearest{d}d' if mode.startswith('nearest') else \
            f'compute_indices_weights_{"cubic" if mode == "bicubic" else "linear"}'
        raise NotImplementedError(f'"{what}" not implemented for \'{scalar_name(input.dtype)}\'')


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input: modes
    'nearest', 'nearest-exact' and 'area' (any of the three), 'linear' (3-D input),
    'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D).  Give either ``size`` or
    ``scale_factor`` (output size = floor(input size * scale_factor)); the scale factor, not
    the size ratio, sets the sampling positions unless ``recompute_scale_factor``.

    Each mode is separable: output = input contracted with one (out, in) weight matrix per
    spatial dim.  Bicubic uses Keys' cubic convolution with A = -0.75 over the 4 nearest
    source pixels, the out-of-range ones clamped to the border (PyTorch's rule)."""
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError('align_corners option can only be set with the interpolating modes: '
                             'linear | bilinear | bicubic | trilinear')
    elif align_corners is None:
        align_corners = False
    d = input.ndim - 2
    out, scales = _output_size(input, size, scale_factor, d)
    if recompute_scale_factor and size is not None:
        raise ValueError('recompute_scale_factor is not meaningful with an explicit size.')
    insize = input.shape[2:]
    if mode == 'area' and out is None or recompute_scale_factor:
        out, scales = tuple(int(n * s) for n, s in zip(insize, scales)), None
    if antialias and not (mode in ('bilinear', 'bicubic', 'lanczos') and input.ndim == 4):
        raise ValueError('Anti-alias option is restricted to bilinear, bicubic, and lanczos modes '
                         'and requires a 4-D tensor as input')
    _check_mode(input, mode, d, antialias, align_corners)
    if mode == 'area':
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[d - 1](input, out)
    if out is None:             # PyTorch's kernel: the size from the scale factors, truncated
        out = tuple(int(n * s) for n, s in zip(insize, scales))
    scales = scales or (None,) * d
    _check_upsample(input, out, mode, d)
    kind = {'bilinear': 'linear', 'trilinear': 'linear', 'bicubic': 'cubic'}.get(mode, mode)
    xp = xp_of(input)
    mats = tuple(_interp_matrix(xp, n, o, kind, bool(align_corners), s, array_of(input).dtype, d)
                 for n, o, s in zip(insize, out, scales))
    torch_name = None if antialias else _UPSAMPLE.get(mode)
    return (named(AxisLinear, torch_name.format(d=d)) if torch_name else AxisLinear).apply(
        input, mats=mats)


_UPSAMPLE = {'nearest': 'UpsampleNearest{d}DBackward0',     # PyTorch's node names
             'nearest-exact': 'UpsampleNearestExact{d}DBackward0',
             'linear': 'UpsampleLinear1DBackward0', 'bilinear': 'UpsampleBilinear2DBackward0',
             'trilinear': 'UpsampleTrilinear3DBackward0', 'bicubic': 'UpsampleBicubic2DBackward0'}


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)

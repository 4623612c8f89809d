"""Convolutions as im2col plus one matrix product (PyTorch's ``F.conv*``, ``unfold``, ``fold``).

For input x (N, C, *S) and weight w (O, C/G, *k), with G groups,
    y[n, o, p] = b[o] + sum_{c, j} w[o, c, j] * x[n, g(o) C/G + c, p*stride + j*dilation - pad].
Copying the windows of x into a buffer cols[n, g, (c, j), p] (im2col, from a strided view)
turns this into one batched matrix product y = w @ cols.  Its adjoints:
    dL/dx = col2im(w^T @ g)      a transposed convolution (col2im: one slice-add per
                                 kernel offset, the adjoint of taking the windows),
    dL/dw = sum_n g @ cols^T     a correlation of x with g.
The three are ops (``Conv``, ``ConvTranspose``, ``ConvWeight``) whose backwards are built
from one another, so derivatives of every order exist.

Spatial parameters are handled per dimension, so one implementation serves 1-d, 2-d and 3-d.
Internally padding is a pair (before, after) per dimension; a negative amount crops.

Stride 1 (the common case) takes a faster layout, the "wide grid": in a row-major padded
frame the window at kernel offset j is the whole frame shifted by a constant, so with the
output positions laid out over rows as wide as the frame (the last few columns of each row
garbage: 5-15% more GEMM work) im2col is k*k long contiguous copies and col2im k*k
contiguous slice-adds, where windows of short image rows would move 14-28 elements at a
time.  Garbage columns are cut from outputs and zero in gradients, so they add nothing.
In 3-d the planes are as tall as the frame too (their last few rows garbage as well).
The stride-1 columns are one copy of a strided view of the padded frames (every kernel
offset at once); with one input channel (a short, memory-bound GEMM) they are made and
multiplied over blocks of images that stay in cache (``CHUNK_BYTES``).
Where C/G * kw channels of neighbouring positions make long contiguous runs
(``CHANNELS_LAST_RUN``), the forward and weight gradient instead take position-major
columns from a channels-last copy of x (any stride), which OpenBLAS multiplies faster; in
2-d (one group, no dilation down the rows) from a copy of each window row only, the windows
of one output row at a time read in place by BLAS (``_rows_last``: kw C, not kh kw C, per
position copied).
With fewer channels (one to a few) a 2-d stride-1 convolution copies its window rows
channel-major instead (``_rows_first``: (R, C, kw, N, Wo)), each output row's windows a
(kh C kw, N Wo) matrix read in place: its weight gradient always, its forward from more than
3x3 taps.
The stride-1 transposed convolution (conv's input gradient) puts only the last dim's kw
taps in its columns and the other dims' taps in the product's rows, then adds one shifted
block per leading tap (kh adds, not kh kw), image by image (one batched product).
"""
import itertools
import math

import autograd
from autograd.extend import Op, array_of, as_strided, ones_vector, scalar_name, xp_of
from autograd.ops.formula import Sum, broadcast_to

from . import _buffers

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
           'conv_transpose3d', 'unfold', 'fold']


# ----------------------------------------------------------------------------- array helpers

def _windows(xp, a, kernel, stride, dilation, out_size):
    """``a`` (..., *S) seen as (..., *kernel, *out_size) with
    w[..., j, p] = a[..., p*stride + j*dilation]: a strided view (no copy) where the array
    library can make one (``backend.as_strided``: NumPy, CuPy), else a copy built from one
    strided slice per kernel offset.  The only array-library-specific helper."""
    d = len(kernel)
    st = a.strides[-d:]
    shape = a.shape[:-d] + tuple(kernel) + tuple(out_size)
    strides = (a.strides[:-d] + tuple(s * dl for s, dl in zip(st, dilation))
               + tuple(s * sd for s, sd in zip(st, stride)))
    view = as_strided(xp, a, shape, strides)
    if view is not None:
        return view
    out = xp.empty(shape, a.dtype)
    for j in _offsets(kernel):
        out[(Ellipsis,) + j + (slice(None),) * d] = a[(Ellipsis,) + tuple(
            slice(jj * dl, jj * dl + (o - 1) * s + 1, s)
            for jj, dl, o, s in zip(j, dilation, out_size, stride))]
    return out


def _pad(xp, a, pads, value=0):
    """``a`` padded on its trailing ``len(pads)`` dims by ``pads`` ((before, after), ...);
    negative amounts crop.  Returns ``a`` itself when nothing changes."""
    if not any(lo or hi for lo, hi in pads):
        return a
    d = len(pads)
    lead = a.shape[:-d]
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, a.shape[-d:]))
    a = a[(Ellipsis,) + crop]
    if all(lo <= 0 and hi <= 0 for lo, hi in pads):
        return a
    shape = lead + tuple(n + max(lo, 0) + max(hi, 0) for (lo, hi), n in zip(pads, a.shape[-d:]))
    out = xp.full(shape, value, dtype=a.dtype)
    out[(Ellipsis,) + tuple(slice(max(lo, 0), max(lo, 0) + n)
                            for (lo, _), n in zip(pads, a.shape[-d:]))] = a
    return out


def _out_size(size, kernel, stride, pads, dilation):
    """Number of window positions per spatial dim: (S + pads - dil*(k-1) - 1) // stride + 1."""
    return tuple((n + lo + hi - dl * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), dl in zip(size, kernel, stride, pads, dilation))


def _offsets(kernel):
    return itertools.product(*(range(k) for k in kernel))


def _im2col(xp, x, kernel, stride, pads, dilation, groups):
    """x (N, C, *S) -> cols (N, G, C/G * prod(k), P) contiguous, and the output size."""
    out = _out_size(x.shape[2:], kernel, stride, pads, dilation)
    win = _windows(xp, _pad(xp, x, pads), kernel, stride, dilation, out)   # (N, C, *k, *out)
    n, c = x.shape[:2]
    cols = xp.ascontiguousarray(win).reshape(n, groups, -1, math.prod(out))
    return cols, out


def _col2im(xp, cols, size, stride, pad_lo, dilation):
    """The adjoint of the windows view: cols (N, C, *k, *grid) summed back into an array
    (N, C, *size) whose index 0 sits ``pad_lo`` into the padded frame (one strided
    slice-add per kernel offset)."""
    d = len(size)
    kernel, grid = cols.shape[2:2 + d], cols.shape[2 + d:]
    full = tuple((g - 1) * s + dl * (k - 1) + 1
                 for g, s, dl, k in zip(grid, stride, dilation, kernel))
    frame = tuple(max(f, lo + n) for f, lo, n in zip(full, pad_lo, size))
    buf = xp.zeros(cols.shape[:2] + frame, dtype=cols.dtype)
    for j in _offsets(kernel):
        sl = tuple(slice(jj * dl, jj * dl + (g - 1) * s + 1, s)
                   for jj, dl, g, s in zip(j, dilation, grid, stride))
        buf[(Ellipsis,) + sl] += cols[(slice(None), slice(None)) + j]
    if frame == tuple(size):
        return buf
    return xp.ascontiguousarray(buf[(Ellipsis,) + tuple(slice(lo, lo + n)
                                                        for lo, n in zip(pad_lo, size))])


def _frame(xp, x, pads, spare):
    """x (N, C, *S) zero-padded by ``pads`` (negative amounts crop) in a reused buffer, with
    ``spare`` extra zero rows after the first spatial dim: room for the shifted reads of the
    wide grid's last row."""
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, x.shape[2:]))
    x = x[(Ellipsis,) + crop]
    size = tuple(n + max(lo, 0) + max(hi, 0) for (lo, hi), n in zip(pads, x.shape[2:]))
    buf = _buffers.empty(xp, x.shape[:2] + (size[0] + spare,) + size[1:], x.dtype)
    inner = tuple(slice(max(lo, 0), max(lo, 0) + n) for (lo, _), n in zip(pads, x.shape[2:]))
    for i, (sl, total) in enumerate(zip(inner, buf.shape[2:])):
        # zero only the border x does not cover (the reused buffer holds old values)
        lead = (slice(None),) * (2 + i)
        if sl.start:
            buf[lead + (slice(0, sl.start),)] = 0
        if sl.stop < total:
            buf[lead + (slice(sl.stop, None),)] = 0
    buf[(Ellipsis,) + inner] = x
    return buf


def _wide_grid(rows, frame):
    """The wide grid: ``rows`` (the output's first spatial size) rows as wide as the frame."""
    return (rows,) + tuple(frame[1:])


def _shifts(kernel, dilation, frame):
    """Each kernel offset's shift in the flattened frame."""
    pitch = tuple(math.prod(frame[i + 1:]) for i in range(len(frame)))
    return [sum(jj * dl * p for jj, dl, p in zip(j, dilation, pitch)) for j in _offsets(kernel)]


def _wide_source(xp, x, kernel, pads, dilation):
    """Stride 1: x (N, C, *S) zero-padded into flattened frames (N, C, F) (a reused buffer),
    the output size, the wide grid and the step in a frame of one kernel offset per dim."""
    d = len(kernel)
    n, c = x.shape[:2]
    frame = tuple(m + lo + hi for m, (lo, hi) in zip(x.shape[2:], pads))
    spare = 1 if d > 1 else 0
    flat = _frame(xp, x, pads, spare).reshape(n, c, (frame[0] + spare) * math.prod(frame[1:]))
    out = _out_size(x.shape[2:], kernel, (1,) * d, pads, dilation)
    steps = tuple(dl * math.prod(frame[i + 1:]) for i, dl in enumerate(dilation))
    return flat, out, _wide_grid(out[0], frame), steps


# Images per block: a stride-1 convolution with a short reduction (C/G * prod(k) <= 32 rows
# of columns: one input channel) runs its im2col copy and GEMM over blocks of images whose
# columns take about this many bytes, so that the copy and the memory-bound GEMM reading it
# stay in a core's L2 cache instead of streaming the whole batch's columns (25x the input
# for a 5x5 kernel) through memory: forward + backward of LeNet's conv1 3.1 -> 2.6 ms,
# cnn-b64's conv1 2.1 -> 1.8 ms (1 thread, CPU time, loaded machine).  A longer reduction is
# compute-bound and gains nothing; a GPU takes the whole batch.
CHUNK_BYTES = 256 * 1024
CHUNK_ROWS = 32


def _cached(xp):
    """Whether ``xp`` computes through a CPU cache that blocking pays on (NumPy, or a module
    without CuPy's ``cuda``; NumPy is told by name: its ``__getattr__`` for a missing name
    costs 2 us)."""
    return xp.__name__ == 'numpy' or getattr(xp, 'cuda', None) is None


def _chunks(xp, n, rows, per_image):
    """[start, stop) ranges of the ``n`` images for products over ``rows`` rows of columns of
    ``per_image`` bytes per image (none for an empty batch)."""
    step = max(n, 1)
    if rows <= CHUNK_ROWS and _cached(xp):
        step = max(1, CHUNK_BYTES // per_image)
    return [(s, min(n, s + step)) for s in range(0, n, step)]


def _cols_wide(xp, flat, chunks, length, kernel, steps, groups, ones=False):
    """Stride-1 im2col of ``flat`` (from ``_wide_source``) for each block ``(start, stop)``
    of ``chunks`` in turn: yields start, stop and the images' columns, channel-major over the
    wide grid (L = ``length``): cols (G, C/G * prod(k), n L) in one reused buffer (each block
    overwrites the last's), row c * prod(k) + j holding channel c's frames shifted by kernel
    offset j.  With ``ones`` each group gets a last row of ones (C/G * prod(k) + 1 rows), so
    the GEMM adds a bias column.  One strided view of the whole batch (every shifted frame
    at once, overlapping windows) is sliced per block: a view and a buffer per block cost
    as much as the copies (LeNet's conv1, 32 blocks: 0.37 -> 0.14 ms)."""
    c = flat.shape[1]
    taps = math.prod(kernel)
    rows = c // groups * taps
    step = max((stop - start for start, stop in chunks), default=0)
    buf = _buffers.empty(xp, (groups, rows + ones, step * length), flat.dtype)
    if ones:
        buf[:, rows] = 1
    item = flat.itemsize
    view = as_strided(xp, flat, (groups, c // groups) + tuple(kernel) + flat.shape[:1] + (length,),
                      (flat.strides[1] * (c // groups), flat.strides[1])
                      + tuple(st * item for st in steps) + (flat.strides[0], item))
    for start, stop in chunks:
        n = stop - start
        cols = buf if n == step else buf[..., :n * length]
        into = cols[:, :rows].reshape((groups, c // groups) + tuple(kernel) + (n, length))
        if view is not None:
            into[...] = view[..., start:stop, :]
        else:
            by_row = into.reshape(groups, rows, n, length)
            src = flat[start:stop]
            for k, j in enumerate(_offsets(kernel)):
                off = sum(jj * st for jj, st in zip(j, steps))
                by_row[:, k::taps] = src[:, :, off:off + length].transpose(1, 0, 2).reshape(
                    groups, -1, n, length)
        yield start, stop, cols


def _to_wide(xp, a, wide, lead=0, by_image=False):
    """a (N, C, *out) channel-major over the wide grid in a reused (C, lead + N * prod(wide))
    buffer: each channel's run is ``lead`` zeros (room for reads shifted left, see
    ``_taps_last``), then the N images laid out on ``wide``, zero past the true size.
    ``by_image``: image-major instead, (N, C, lead + prod(wide)), a run per image and channel
    (a copy with no transposition)."""
    n, c = a.shape[:2]
    length = math.prod(wide)
    if by_image:
        base = _buffers.empty(xp, (n, c, lead + length), a.dtype)
        buf = base[..., lead:].reshape((n, c) + wide)
    else:
        base = _buffers.empty(xp, (c, lead + n * length), a.dtype)
        buf = base[:, lead:].reshape((c, n) + wide)
        a = a.swapaxes(0, 1)
    if lead:
        base[..., :lead] = 0
    size = a.shape[2:]
    for i in range(len(wide)):
        if size[i] < wide[i]:
            buf[(slice(None),) * (2 + i) + (slice(size[i], None),)] = 0
    buf[(Ellipsis,) + tuple(slice(0, m) for m in size)] = a
    return base


def _taps_last(xp, base, lead, kw, dl, groups):
    """The columns of the last dim's ``kw`` taps (dilation ``dl``) of a ``_to_wide`` buffer
    ``base`` (..., C, lead + M), lead = dl (kw - 1): cols (..., G, C/G * kw, M), a reused
    buffer, row c * kw + b holding channel c read (kw - 1 - b) dl places back (from the
    lead's zeros or the previous row's zero tail).  One copy of a strided view."""
    lead_dims, (c, m) = base.shape[:-2], (base.shape[-2], base.shape[-1] - lead)
    if kw == 1:
        return base.reshape(lead_dims + (groups, c // groups, m))
    cols = _buffers.empty(xp, lead_dims + (groups, c // groups * kw, m), base.dtype)
    into = cols.reshape(lead_dims + (groups, c // groups, kw, m))
    st = base.strides
    view = as_strided(xp, base, into.shape, st[:-2] + (st[-2] * (c // groups), st[-2],
                                                      dl * base.itemsize, base.itemsize))
    if view is not None:
        into[...] = view
        return cols
    for b in range(kw):
        into[..., b, :] = base[..., b * dl:b * dl + m].reshape(lead_dims + (groups, c // groups, m))
    return cols


def _extract(xp, a, start, size, b=None, channel_major=False):
    """The block of a (N, C, *F) (or channel-major (C, N, *F)) at ``start`` of ``size`` as a
    contiguous (N, C, *size) array (a reused one: op outputs live for one step too), plus
    the bias ``b`` (C,) if given."""
    block = a[(Ellipsis,) + tuple(slice(lo, lo + n) for lo, n in zip(start, size))]
    if channel_major:
        block = block.swapaxes(0, 1)
    out = _buffers.empty(xp, block.shape, a.dtype)
    out[...] = block
    if b is not None:       # (a copy and an add beat one add reading the strided block)
        out += b.reshape((-1,) + (1,) * len(size))
    return out


def _transpose_frame(size, kernel, dilation, pad_lo, out_size):
    """The col2im frame of a stride-1 transposed convolution of input size ``size``: the
    full one, or larger to hold ``out_size`` at ``pad_lo``."""
    full = tuple(m + dl * (k - 1) for m, dl, k in zip(size, dilation, kernel))
    return tuple(max(f, lo + m) for f, lo, m in zip(full, pad_lo, out_size))


# Channels-last columns: with C/G * kw >= this many elements contiguous per window row
# (channels of kw neighbouring positions in an (N, *S, C) copy of x), im2col copies long runs
# and the product reads position-major columns, which OpenBLAS multiplies a third faster
# than channel-major ones: LeNet's conv2 (6 -> 16, 5x5) forward 1.45 -> 0.87 ms.  Shorter
# runs (one input channel) keep the channel-major wide grid.
CHANNELS_LAST_RUN = 16


def _channels_last(cg, kernel, dilation):
    """Whether a convolution with ``cg`` input channels per group takes channels-last columns."""
    return cg * (kernel[-1] if dilation[-1] == 1 else 1) >= CHANNELS_LAST_RUN


def _blocks_last(xp, n, per_image):
    """[start, stop) ranges of the ``n`` images whose channels-last columns (``per_image``
    bytes each) are copied and multiplied in turn: ``CHUNK_BYTES`` of columns, read by the
    product from L2 right after their copy.  Unlike the channel-major columns' long
    reduction (``_chunks``) this pays for long ones too: the (G, N P, K) product is over rows
    of K, LeNet's conv2 (64,6,14,14) 5x5 copy + product 0.64 -> 0.59 ms, (64,6,32,32) 5x5
    10.8 -> 8.2 ms (CPU time, isolated, 1 thread).  A GPU takes the whole batch."""
    step = max(n, 1)
    if _cached(xp):
        step = max(1, CHUNK_BYTES // max(per_image, 1))
    return [(s, min(n, s + step)) for s in range(0, n, step)]


def _padded_last(xp, x, pads):
    """x (N, C, *S) moved channels-last and zero-padded by ``pads`` (negative amounts crop):
    (N, *padded, C), a reused buffer."""
    n, c = x.shape[:2]
    crop = tuple(slice(max(-lo, 0), m - max(-hi, 0)) for (lo, hi), m in zip(pads, x.shape[2:]))
    x = x[(Ellipsis,) + crop]
    size = tuple(m + max(lo, 0) + max(hi, 0) for (lo, hi), m in zip(pads, x.shape[2:]))
    src = _buffers.empty(xp, (n,) + size + (c,), x.dtype)
    inner = tuple(slice(max(lo, 0), max(lo, 0) + m) for (lo, _), m in zip(pads, x.shape[2:]))
    for i, (sl, total) in enumerate(zip(inner, size)):
        # zero only the border x does not cover (the reused buffer holds old values)
        lead = (slice(None),) * (1 + i)
        if sl.start:
            src[lead + (slice(0, sl.start),)] = 0
        if sl.stop < total:
            src[lead + (slice(sl.stop, None),)] = 0
    src[(slice(None),) + inner] = xp.moveaxis(x, 1, -1)
    return src


def _cols_last(xp, x, kernel, stride, pads, dilation, groups, each=None):
    """x (N, C, *S) -> cols (G, N * prod(out), prod(k) * C/G), a reused buffer: row (n, p),
    column (j, c) holds x[n, g C/G + c, p * stride + j * dilation - pad]; and the output size.
    One copy of a strided view of x moved channels-last and zero-padded.  With ``each``,
    ``each(cols, start, stop)`` is called after the columns of images [start, stop) are written,
    block by block (``_blocks_last``), so that a product reads them from the cache."""
    n, c = x.shape[:2]
    cg = c // groups
    out = _out_size(x.shape[2:], kernel, stride, pads, dilation)
    src = _padded_last(xp, x, pads)
    taps = math.prod(kernel)
    cols = _buffers.empty(xp, (groups, n * math.prod(out), taps * cg), x.dtype)
    into = cols.reshape((groups, n) + out + tuple(kernel) + (cg,))
    st = src.strides
    view = as_strided(xp, src, into.shape,
                      (st[-1] * cg, st[0]) + tuple(t * sd for t, sd in zip(st[1:-1], stride))
                      + tuple(t * dl for t, dl in zip(st[1:-1], dilation)) + (st[-1],))
    if view is not None:
        if each is None:
            into[...] = view
            return cols, out
        for start, stop in _blocks_last(xp, n, cols.shape[2] * cols.itemsize * groups
                                        * math.prod(out)):
            into[:, start:stop] = view[:, start:stop]
            each(cols, start, stop)
        return cols, out
    by_group = src.reshape(src.shape[:-1] + (groups, cg))
    for j in _offsets(kernel):
        window = by_group[(slice(None),) + tuple(
            slice(jj * dl, jj * dl + (o - 1) * sd + 1, sd)
            for jj, dl, o, sd in zip(j, dilation, out, stride))]     # (N, *out, G, C/G)
        into[(Ellipsis,) + j + (slice(None),)] = xp.moveaxis(window, -2, 0)
    if each is not None and n:
        each(cols, 0, n)
    return cols, out


# Row products: a 2-d convolution with channels-last columns (one group, no dilation down
# the rows, at least this many output positions per output row across the batch) multiplies
# the windows of each output row in turn, read in place from a copy of x's window rows
# (``_rows_last``: kw C per position, kh times less than im2col's columns, in one run instead
# of kh).  Forward (CPU time, 1 thread, float32, medians, interleaved with the previous tree):
# LeNet's conv2 (64,6,14,14) 5x5 0.95 -> 0.76 ms, cnn-b64's conv2 (64,8,14,14) 3x3 pad 1
# 1.11 -> 1.02 ms.  Few rows a product pay more in per-product calls than the copy saves:
# forward + backward of (1,6,12,12) 5x5 (8 rows) 243 -> 254 us, of (8,6,12,12) (64 rows)
# 511 -> 490 us.
ROW_PRODUCT_ROWS = 64


def _row_products(n, groups, kernel, dilation, out):
    """Whether a channels-last convolution of ``n`` images to output size ``out`` takes row
    products (``_rows_last``)."""
    return (len(kernel) == 2 and groups == 1 and dilation[0] == 1
            and n * out[1] >= ROW_PRODUCT_ROWS)


def _rows_last(xp, x, kernel, stride, pads, dilation, each=None):
    """A 2-d convolution's window rows: rows (N, Wo, R, kw C), a reused buffer, with
    rows[n, q, r, (b, c)] = xpad[n, c, r, q stride[1] + b dilation[1]] for the
    R = (Ho - 1) stride[0] + kh rows of the padded frame that windows read; and the output
    size (Ho, Wo).  Output row p's windows are then kh kw C consecutive elements of rows for
    each (n, q) at a constant pitch (``_row_windows``): a matrix that BLAS reads in place."""
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), dw = kernel, stride, dilation[1]
    out = _out_size(x.shape[2:], kernel, stride, pads, dilation)
    ho, wo = out
    r = (ho - 1) * sh + kh
    src = _padded_last(xp, x, pads)                     # (N, Hp, Wp, C)
    rows = _buffers.empty(xp, (n, wo, r, kw * c), x.dtype)
    into = rows.reshape(n, wo, r, kw, c)
    st = src.strides
    view = as_strided(xp, src, into.shape, (st[0], st[2] * sw, st[1], st[2] * dw, st[3]))
    if view is None:
        for b in range(kw):
            into[:, :, :, b] = src[:, :r, b * dw:b * dw + (wo - 1) * sw + 1:sw].swapaxes(1, 2)
        if each is not None and n:
            each(rows, 0, n)
        return rows, out
    if each is None:
        into[...] = view
        return rows, out
    for start, stop in _blocks_last(xp, n, rows[0].nbytes):
        into[start:stop] = view[start:stop]
        each(rows, start, stop)
    return rows, out


def _row_windows(xp, rows, ho, sh):
    """The windows of each of the ``ho`` output rows (row stride ``sh``) in ``rows``
    (``_rows_last``): (Ho, N Wo, kh kw C), column (a, b, c); a view where the array library
    can make one, else a copy."""
    n, wo, r, kwc = rows.shape
    kh = r - (ho - 1) * sh
    view = as_strided(xp, rows, (ho, n * wo, kh * kwc),
                      (rows.strides[2] * sh, rows.strides[1], rows.strides[3]))
    if view is not None:
        return view
    return xp.stack([rows[:, :, p * sh:p * sh + kh].reshape(n * wo, kh * kwc)
                     for p in range(ho)])


# Channel-major row products: a 2-d convolution with channel-major columns (C/G kw below
# CHANNELS_LAST_RUN: one to a few input channels), one group and no dilation down the rows
# copies each window row once, channel-major (``_rows_first``: kw C per position, kh times less
# than im2col's columns), and multiplies the windows of each output row in place as a
# (kh C kw, N Wo) matrix at a constant pitch.  The weight gradient always pays (the rows kept
# from the forward or copied there: LeNet's conv1 (64,1,28,28) 5x5 pad 2 600 -> 300 us,
# cnn-b64's conv1 3x3 pad 1 405 -> 290 us, (64,1,28,28) 7x7 2400 -> 590 us; CPU time, 1
# thread, float32); the forward from more than ROWS_FIRST_TAPS taps (LeNet's conv1 490 ->
# 420 us, 7x7 2030 -> 810 us), while 3x3 kernels over wide images keep the wide grid's blocks
# (cnn-b64's conv1 360 against 450 us).
ROWS_FIRST_TAPS = 9


def _rows_first_path(groups, kernel, stride, dilation, cols=None):
    """Whether a channel-major stride-1 convolution takes channel-major row products
    (``_rows_first``); for the weight gradient, only if the forward kept no wide-grid
    columns ``cols`` (3-d; the window rows are 5-d) to reuse.  With a stride, the im2col
    columns kept from the forward are reused (the rows copied again cost more: (32,3,32,32)
    3x3 stride 2 weight gradient 116 against 327 us)."""
    return (len(kernel) == 2 and groups == 1 and dilation[0] == 1 and _stride_one(stride)
            and (cols is None or cols.ndim == 5))


def _rows_first(xp, x, kernel, stride, pads, dilation):
    """A 2-d convolution's window rows channel-major: t (R, C, kw, N, Wo), a reused buffer,
    with t[r, c, b, n, q] = xpad[n, c, r, q stride[1] + b dilation[1]] for the
    R = (Ho - 1) stride[0] + kh rows of the padded frame that windows read; and the output
    size (Ho, Wo).  Output row p's windows are then the kh C kw rows of t from p stride[0]
    on, each N Wo long: a (kh C kw, N Wo) matrix that BLAS reads in place
    (``_rows_first_windows``).  Copied from x one tap b at a time, the padding zeroed."""
    n, c, h, wd = x.shape
    (kh, kw), (sh, sw), dw = kernel, stride, dilation[1]
    ho, wo = _out_size(x.shape[2:], kernel, stride, pads, dilation)
    (pt, _), (pl, _) = pads
    r = (ho - 1) * sh + kh
    t = _buffers.empty(xp, (r, c, kw, n, wo), x.dtype)
    r0 = min(max(pt, 0), r)                 # rows [r0, r1) of t read x's rows r - pt
    r1 = max(min(h + pt, r), r0)
    t[:r0] = 0
    t[r1:] = 0
    src = x.transpose(2, 1, 0, 3)[r0 - pt:r1 - pt]     # (rows, C, N, W)
    for b in range(kw):
        # columns [q0, q1) read x's columns q sw + b dw - pl, the others the padding
        off = b * dw - pl
        q0 = min(max(-(off // sw), 0), wo)
        q1 = max(min((wd - 1 - off) // sw + 1, wo), q0)
        into = t[r0:r1, :, b]
        into[..., :q0] = 0
        into[..., q1:] = 0
        if q1 > q0:
            start = q0 * sw + off
            into[..., q0:q1] = src[..., start:start + (q1 - q0 - 1) * sw + 1:sw]
    return t, (ho, wo)


def _rows_first_windows(xp, t, ho, sh):
    """The windows of each of the ``ho`` output rows (row stride ``sh``) in ``t``
    (``_rows_first``): (Ho, kh C kw, N Wo), row (a, c, b); a view where the array library can
    make one, else a copy."""
    r, c, kw, n, wo = t.shape
    kh = r - (ho - 1) * sh
    view = as_strided(xp, t, (ho, kh * c * kw, n * wo),
                      (t.strides[0] * sh, t.strides[2], t.itemsize))
    if view is not None:
        return view
    return xp.stack([t[p * sh:p * sh + kh].reshape(kh * c * kw, n * wo) for p in range(ho)])


def _stride_one(stride):
    return all(s == 1 for s in stride)


def _needs(node, i):
    needs = node.needs_input_grad
    return len(needs) > i and needs[i]


def _bias_grad(g):
    """g (N, O, *out) summed to (O,)."""
    return BiasGrad.apply(g)


# below this many elements NumPy's reduction beats the two products' call overhead
# ((3, 5, 7, 9): 1.3 us against 3.5 us)
BIAS_PRODUCT_MIN = 4096


class BiasGrad(Op):
    """g (N, O, *out) summed over all but dim 1, to (O,): the bias gradient.  For float32 and
    float64 with at least ``BIAS_PRODUCT_MIN`` elements, two products with vectors of ones
    (ones(N) (g (N, O, P) ones(P))): BLAS's dot products beat NumPy's strided reduction over
    (0, 2, 3) up to three times, (64, 16, 10, 10) float32 37.6 -> 12.2 us."""
    __slots__ = ('shape',)
    array_backward = True

    def forward(self, xp, g):
        self.shape = g.shape
        n, o = g.shape[:2]
        if g.dtype.kind != 'f' or g.dtype.itemsize < 4 or g.size < BIAS_PRODUCT_MIN:
            return Sum.apply(g, dim=(0,) + tuple(range(2, g.ndim)))   # (bfloat16 in float32)
        p = g.size // (n * o)
        rows = xp.matmul(g.reshape(n, o, p), ones_vector(xp, p, g.dtype))      # (N, O)
        return xp.matmul(ones_vector(xp, n, g.dtype), rows)

    def backward(self, gg):
        d = len(self.shape) - 2
        return broadcast_to(gg.reshape((1, -1) + (1,) * d), self.shape)


# ----------------------------------------------------------------------------- ops

class Conv(Op):
    """y = conv(x, w) + b for x (N, C, *S), w (O, C/G, *k), b (O,) or absent."""
    __slots__ = ('stride', 'pads', 'dilation', 'groups', 'cols')
    torch_name = 'ConvolutionBackward0'     # PyTorch's node name
    array_backward = True
    save = (0, 1)

    def forward(self, xp, x, w, b=None, *, stride, pads, dilation, groups):
        self.stride, self.pads, self.dilation, self.groups = stride, pads, dilation, groups
        o = w.shape[0]
        if _channels_last(x.shape[1] // groups, w.shape[2:], dilation):
            if _row_products(x.shape[0], groups, w.shape[2:], dilation,
                             _out_size(x.shape[2:], w.shape[2:], stride, pads, dilation)):
                return self._forward_rows(xp, x, w, b)
            return self._forward_last(xp, x, w, b)
        if (_rows_first_path(groups, w.shape[2:], stride, dilation)
                and math.prod(w.shape[2:]) > ROWS_FIRST_TAPS):
            return self._forward_rows_first(xp, x, w, b)
        wm = w.reshape(groups, o // groups, -1)
        if _stride_one(stride):
            kernel = w.shape[2:]
            flat, out, wide, steps = _wide_source(xp, x, kernel, pads, dilation)
            ones = b is not None
            if ones:                    # the bias as one more weight column (on the ones row)
                wm = xp.concatenate([wm, b.reshape(groups, o // groups, 1)], axis=2)
            n, length = x.shape[0], math.prod(wide)
            y = _buffers.empty(xp, (groups, o // groups, n * length), x.dtype)
            chunks = _chunks(xp, n, wm.shape[2], wm.shape[2] * groups * length * x.itemsize)
            for start, stop, cols in _cols_wide(xp, flat, chunks, length, kernel, steps, groups,
                                                ones):
                xp.matmul(wm, cols, out=y if len(chunks) == 1 else
                          y[..., start * length:stop * length])
            # the columns of a single block are kept for the weight gradient; of several,
            # recomputed there block by block (cheaper than reading them back from memory),
            # or replaced by its own window rows where it takes them (``_rows_first``)
            self.cols = (cols[:, :-1] if ones else cols) if len(chunks) == 1 else None
            return _extract(xp, y.reshape((o, n) + wide), (0,) * len(out), out,
                            channel_major=True)
        cols, out = _im2col(xp, x, w.shape[2:], stride, pads, dilation, groups)
        self.cols = cols                # reused once by the weight gradient
        y = xp.matmul(wm, cols).reshape((x.shape[0], o) + out)
        if b is not None:
            y += b.reshape((o,) + (1,) * len(out))
        return y

    def _forward_rows_first(self, xp, x, w, b):
        """y = w (O, kh C kw) times the windows of each output row (``_rows_first``,
        ``_rows_first_windows``: (Ho, kh C kw, N Wo)), moved back to (N, O, Ho, Wo) (runs of
        Wo) and the bias added."""
        n, o = x.shape[0], w.shape[0]
        kernel = w.shape[2:]
        t, (ho, wo) = _rows_first(xp, x, kernel, self.stride, self.pads, self.dilation)
        self.cols = t                   # reused once by the weight gradient
        wm = w.transpose(0, 2, 1, 3).reshape(o, -1)        # row o, column (a, c, b)
        product = xp.matmul(wm, _rows_first_windows(xp, t, ho, self.stride[0]),
                            out=_buffers.empty(xp, (ho, o, n * wo), x.dtype))
        y = _buffers.empty(xp, (n, o, ho, wo), x.dtype)
        y[...] = product.reshape(ho, o, n, wo).transpose(2, 1, 0, 3)
        if b is not None:
            # a pass of its own: NumPy adds into the transposed copy slower than it copies
            # and then adds ((64,6,28,28) float32 195 against 152 us)
            y += b.reshape(o, 1, 1)
        return y

    def _forward_rows(self, xp, x, w, b):
        """y = the windows of each output row (``_rows_last``, ``_row_windows``: (Ho, N Wo, K))
        times w (K, O), moved back to (N, O, Ho, Wo) with the bias added."""
        n, o = x.shape[0], w.shape[0]
        kernel, sh = w.shape[2:], self.stride[0]
        ho, wo = _out_size(x.shape[2:], kernel, self.stride, self.pads, self.dilation)
        wm = w.transpose(2, 3, 1, 0).reshape(-1, o)        # row (a, b, c), column o
        y = _buffers.empty(xp, (n, o, ho, wo), x.dtype)
        yt = _buffers.empty(xp, (ho, n * wo, o), x.dtype)

        def product(rows, start, stop):     # each block of images once its rows are in
            xp.matmul(_row_windows(xp, rows[start:stop], ho, sh), wm,
                      out=yt[:, start * wo:stop * wo])

        self.cols, _ = _rows_last(xp, x, kernel, self.stride, self.pads, self.dilation,
                                  each=product)     # reused once by the weight gradient
        yt = yt.reshape(ho, n, wo, o).transpose(0, 1, 3, 2)          # (Ho, N, O, Wo)
        if _cached(xp):
            # one output row at a time, (N, Wo, O) -> (N, O, Wo): NumPy's copy runs faster
            # than one copy of the whole 4-d transposition (cnn-b64's conv2 forward 730 ->
            # 665 us, LeNet's 530 -> 505 us)
            for p in range(ho):
                y[:, :, p] = yt[p]
        else:
            y[...] = yt.transpose(1, 2, 0, 3)
        if b is not None:
            y += b.reshape(o, 1, 1)
        return y

    def _forward_last(self, xp, x, w, b):
        """y = cols (G, N P, prod(k) C/G) times w (G, prod(k) C/G, O/G) from channels-last
        columns (``_cols_last``), moved back to (N, O, *out) with the bias added."""
        groups = self.groups
        n, o, kernel = x.shape[0], w.shape[0], w.shape[2:]
        og, cg, taps = o // groups, w.shape[1], math.prod(kernel)
        # row (j, c), column o: w[g O/G + o, c, j]
        wm = w.reshape(groups, og, cg, taps).transpose(0, 3, 2, 1).reshape(groups, taps * cg, og)
        out = _out_size(x.shape[2:], kernel, self.stride, self.pads, self.dilation)
        length = math.prod(out)
        yt = _buffers.empty(xp, (groups, n * length, og), x.dtype)

        def product(cols, start, stop):     # each block of images once its columns are in
            rows = slice(start * length, stop * length)
            xp.matmul(cols[:, rows], wm, out=yt[:, rows])

        cols, _ = _cols_last(xp, x, kernel, self.stride, self.pads, self.dilation, groups,
                             each=product)
        self.cols = cols                # reused once by the weight gradient
        # (yt keeps its name: a view does not hold its base in every array module)
        y = _buffers.empty(xp, (n, o) + out, x.dtype)
        moved = yt.reshape(groups, n, length, og).transpose(1, 0, 3, 2)    # (N, G, O/G, P)
        by_group = y.reshape(n, groups, og, length)
        by_group[...] = moved
        if b is not None:       # (a copy and an add beat one add reading the transposed yt)
            by_group += b.reshape(groups, og, 1)
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        gx = gw = gb = None
        size = tuple(x.shape[2:])
        g_wide = lead = None
        if (_needs(self, 0) and _needs(self, 1) and _stride_one(self.stride)
                and len(size) > 1
                and not _channels_last(x.shape[1] // self.groups, w.shape[2:], self.dilation)
                and not _rows_first_path(self.groups, w.shape[2:], self.stride, self.dilation,
                                         self.cols)):
            # both products read g channel-major over the wide grid (the weight gradient of
            # channel-major columns): laid out once, with the lead that the transposed
            # convolution's shifted reads need; otherwise the transposed convolution lays g
            # out image by image itself
            frame = tuple(m + lo + hi for m, (lo, hi) in zip(size, self.pads))
            if frame == _transpose_frame(g.shape[2:], w.shape[2:], self.dilation,
                                         tuple(p[0] for p in self.pads), size):
                lead = self.dilation[-1] * (w.shape[-1] - 1)
                g_wide = _to_wide(xp_of(g), array_of(g), _wide_grid(g.shape[2], frame), lead)
        if _needs(self, 0):
            gx = ConvTranspose.apply(g, w, stride=self.stride,
                                     pad_lo=tuple(p[0] for p in self.pads),
                                     dilation=self.dilation, groups=self.groups, out_size=size,
                                     g_wide=g_wide)
        if _needs(self, 1):
            gw = ConvWeight.apply(x, g, kernel=tuple(w.shape[2:]), stride=self.stride,
                                  pads=self.pads, dilation=self.dilation, groups=self.groups,
                                  cols=self.cols, g_wide=None if g_wide is None else
                                  g_wide[:, lead:])
        self.cols = None                # a second backward (retain_graph) recomputes it
        if _needs(self, 2):
            gb = _bias_grad(g)
        return (gx, gw, gb)[:len(self.next_functions)]


class ConvTranspose(Op):
    """The adjoint of ``Conv`` in x: x (N, Cin, *S), w (Cin, O/G, *k) -> (N, O, *out_size),
    element 0 of the output at offset ``pad_lo`` in the full col2im frame."""
    __slots__ = ('stride', 'pad_lo', 'dilation', 'groups')
    torch_name = 'ConvolutionBackward0'     # PyTorch's node name
    array_backward = True
    save = (0, 1)

    def forward(self, xp, x, w, b=None, *, stride, pad_lo, dilation, groups, out_size,
                g_wide=None):
        """``g_wide``: x already laid out by ``_to_wide`` over the wide grid with the lead
        dilation[-1] (k[-1] - 1) (stride 1, 2-d and 3-d), or None."""
        self.stride, self.pad_lo, self.dilation, self.groups = stride, pad_lo, dilation, groups
        n, cin = x.shape[:2]
        kernel = w.shape[2:]
        wt = w.reshape(groups, cin // groups, -1).transpose(0, 2, 1)      # (G, O/G * K, Cin/G)
        o = w.shape[1] * groups
        if _stride_one(stride):
            return self._forward_wide(xp, x, w, b, o, kernel, out_size, g_wide)
        cols = xp.matmul(wt, x.reshape(n, groups, cin // groups, -1))     # (N, G, O/G * K, P)
        cols = cols.reshape((n, o) + tuple(kernel) + x.shape[2:])
        y = _col2im(xp, cols, out_size, stride, pad_lo, dilation)
        if b is not None:
            y += b.reshape((o,) + (1,) * len(out_size))
        return y

    def _forward_wide(self, xp, x, w, b, o, kernel, out_size, xw=None):
        """Stride 1, over a wide grid whose last dim is the frame's: the last dim's taps are
        columns (``_taps_last``: each input row read at kw shifts, kw times the input), the
        other dims' taps rows of the product, so that
            Y[a] = sum_{c, b} w[c, :, a, b] x[c] shifted by b along the last dim
        is each leading tap a's contribution, placed by one slice-add per leading tap
        (contiguous blocks of the flattened frames): kh adds instead of kh kw, and a product
        output kw times smaller than with every tap a row.  The wide grid's columns past the
        input read zeros, so every shifted read of a valid position is exact.
        Image by image (a product per image, batched) unless ``xw``, x's channel-major wide
        layout shared with the weight gradient, is given: OpenBLAS runs the batch of
        per-image products (each image's columns in cache) faster than one wide product, and
        neither x nor the output is transposed between (N, C) and (C, N)."""
        groups, dilation = self.groups, self.dilation
        n, cin = x.shape[:2]
        d = len(kernel)
        frame = _transpose_frame(x.shape[2:], kernel, dilation, self.pad_lo, out_size)
        wide = _wide_grid(x.shape[2], frame) if d > 1 else frame
        length = math.prod(wide)
        kw, lead = kernel[-1], dilation[-1] * (kernel[-1] - 1)
        cg, og, rows = cin // groups, o // groups, math.prod(kernel[:-1])
        # (G, A * O/G, Cin/G * kw): row (a, o), column (c, b) = w[c, o, a, kw - 1 - b]
        wm = w.reshape(groups, cg, og, rows, kw)[..., ::-1].transpose(0, 3, 2, 1, 4).reshape(
            groups, rows * og, cg * kw)
        # (the product is held by its own name until the end: an array module whose views
        # do not hold their base, such as the tests' CuPy stand-in, would otherwise let
        # _buffers hand it out again as buf, of the same shape when L = 1)
        by_image = xw is None
        if by_image:
            xw = _to_wide(xp, x, wide, lead, by_image=True)
            product = _buffers.empty(xp, (n, groups, rows * og, length), x.dtype)
            # the taps of a block of images (N, G, Cin/G * kw, L) multiplied while in cache
            # (CHUNK_BYTES a block): LeNet's conv2 input gradient 816 -> 695 us
            for start, stop in _blocks_last(xp, n, groups * cg * kw * length * x.itemsize):
                xp.matmul(wm, _taps_last(xp, xw[start:stop], lead, kw, dilation[-1], groups),
                          out=product[start:stop])
        else:
            cols = _taps_last(xp, xw, lead, kw, dilation[-1], groups)  # (G, Cin/G kw, N L)
            product = xp.matmul(wm, cols, out=_buffers.empty(
                xp, (groups, rows * og, n * length), x.dtype))
        # 3-d: a block shifted along the middle dim runs past its frame into a spare plane
        spare = 1 if d > 2 else 0
        per_frame = (frame[0] + spare) * math.prod(frame[1:])
        if by_image:
            y = product.reshape(n, groups, rows, og, length).swapaxes(0, 2)  # (A, G, N, O/G, L)
            buf = _buffers.empty(xp, (n, o, frame[0] + spare) + frame[1:], x.dtype)
            flat = buf.reshape(n, groups, og, per_frame).swapaxes(0, 1)  # (G, N, O/G, F)
        else:
            y = product.reshape(groups, rows, og, n, length).swapaxes(0, 1)  # (A, G, O/G, N, L)
            buf = _buffers.empty(xp, (o, n, frame[0] + spare) + frame[1:], x.dtype)
            flat = buf.reshape(groups, og, n, per_frame)
        shifts = _shifts(kernel[:-1], dilation[:-1], frame)   # the first is 0: written
        flat[..., :length] = y[0]
        flat[..., length:] = 0
        for k, off in enumerate(shifts[1:], 1):
            flat[..., off:off + length] += y[k]
        return _extract(xp, buf, self.pad_lo, out_size, b, channel_major=not by_image)

    def backward(self, g):
        x, w = self.saved_tensors
        size, kernel = tuple(x.shape[2:]), tuple(w.shape[2:])
        # pad g so that Conv's windows land exactly on the S positions of x
        pads = tuple((lo, (n - 1) * s + dl * (k - 1) + 1 - t - lo)
                     for lo, n, s, dl, k, t in zip(self.pad_lo, size, self.stride, self.dilation,
                                                    kernel, g.shape[2:]))
        gx = gw = gb = None
        if _needs(self, 0):
            gx = Conv.apply(g, w, stride=self.stride, pads=pads, dilation=self.dilation,
                            groups=self.groups)
        if _needs(self, 1):
            gw = ConvWeight.apply(g, x, kernel=kernel, stride=self.stride, pads=pads,
                                  dilation=self.dilation, groups=self.groups)
        if _needs(self, 2):
            gb = _bias_grad(g)
        return (gx, gw, gb)[:len(self.next_functions)]


class ConvWeight(Op):
    """The weight gradient of ``Conv``: x (N, C, *S), g (N, O, *out) -> (O, C/G, *kernel)."""
    __slots__ = ('stride', 'pads', 'dilation', 'groups')
    array_backward = True
    save = (0, 1)

    def forward(self, xp, x, g, *, kernel, stride, pads, dilation, groups, cols=None,
                g_wide=None):
        """``cols``, ``g_wide``: x's columns and g's wide layout (stride 1) if at hand."""
        self.stride, self.pads, self.dilation, self.groups = stride, pads, dilation, groups
        n, o = g.shape[:2]
        cg = x.shape[1] // groups
        if _channels_last(cg, kernel, dilation) and _row_products(n, groups, kernel, dilation,
                                                                   g.shape[2:]):
            # sum over output rows p of g's row p (O, N Wo) times its windows (N Wo, K)
            if cols is None:
                cols, _ = _rows_last(xp, x, kernel, stride, pads, dilation)
            ho, wo = g.shape[2:]
            gh = _buffers.empty(xp, (ho, n, wo, o), g.dtype)
            gh[...] = g.transpose(2, 0, 3, 1)
            gw = xp.matmul(_row_windows(xp, cols, ho, stride[0]).transpose(0, 2, 1),
                           gh.reshape(ho, n * wo, o))           # (Ho, K, O)
            return xp.ascontiguousarray(
                gw.sum(0).reshape(tuple(kernel) + (cg, o)).transpose(3, 2, 0, 1))
        if _channels_last(cg, kernel, dilation):      # g (G, O/G, N P) times the columns
            if cols is None:
                cols, _ = _cols_last(xp, x, kernel, stride, pads, dilation, groups)
            og, length = o // groups, math.prod(g.shape[2:])
            gm = _buffers.empty(xp, (groups, og, n, length), g.dtype)
            gm[...] = g.reshape(n, groups, og, length).transpose(1, 2, 0, 3)
            gw = xp.matmul(gm.reshape(groups, og, n * length), cols)   # (G, O/G, prod(k) C/G)
            return xp.ascontiguousarray(gw.reshape(groups, og, -1, cg).transpose(0, 1, 3, 2)
                                        ).reshape((o, cg) + tuple(kernel))
        if _rows_first_path(groups, kernel, stride, dilation, cols):
            # gw^T = sum_p windows_p (K, N Wo) @ g_p^T (N Wo, O), g laid out (Ho, O, N, Wo)
            if cols is None:
                cols, _ = _rows_first(xp, x, kernel, stride, pads, dilation)
            ho, wo = g.shape[2:]
            gp = _buffers.empty(xp, (ho, o, n, wo), g.dtype)
            gp[...] = g.transpose(2, 1, 0, 3)
            gw = xp.matmul(_rows_first_windows(xp, cols, ho, stride[0]),
                           gp.reshape(ho, o, n * wo).transpose(0, 2, 1))      # (Ho, K, O)
            return xp.ascontiguousarray(
                gw.sum(0).reshape(kernel[0], cg, kernel[1], o).transpose(3, 1, 0, 2))
        if _stride_one(stride):         # one GEMM per group and block of images
            frame = tuple(m + lo + hi for m, (lo, hi) in zip(x.shape[2:], pads))
            g = _to_wide(xp, g, _wide_grid(g.shape[2], frame)) if g_wide is None else g_wide
            gt = g.reshape(groups, o // groups, -1).transpose(0, 2, 1)
            # gw^T = cols g^T: OpenBLAS runs this long-K product a third faster than g cols^T
            if cols is not None:
                gw = xp.matmul(cols, gt)
            else:
                flat, _, wide, steps = _wide_source(xp, x, kernel, pads, dilation)
                length = math.prod(wide)
                gw = None
                rows = x.shape[1] // groups * math.prod(kernel)
                chunks = _chunks(xp, n, rows, rows * groups * length * x.itemsize)
                for start, stop, block in _cols_wide(xp, flat, chunks, length, kernel, steps,
                                                     groups):
                    part = xp.matmul(block, gt[:, start * length:stop * length])
                    if gw is None:
                        gw = part
                    else:
                        gw += part
                if gw is None:          # an empty batch
                    gw = xp.zeros((groups, rows, o // groups), x.dtype)
            return xp.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(
                (o, x.shape[1] // groups) + tuple(kernel))
        if cols is None:
            cols, _ = _im2col(xp, x, kernel, stride, pads, dilation, groups)
        gw = xp.matmul(g.reshape(n, groups, o // groups, -1), cols.transpose(0, 1, 3, 2)).sum(0)
        return gw.reshape((o, x.shape[1] // groups) + tuple(kernel))

    def backward(self, ggw):
        x, g = self.saved_tensors
        gx = gg = None
        if _needs(self, 0):
            gx = ConvTranspose.apply(g, ggw, stride=self.stride,
                                     pad_lo=tuple(p[0] for p in self.pads), dilation=self.dilation,
                                     groups=self.groups, out_size=tuple(x.shape[2:]))
        if _needs(self, 1):
            gg = Conv.apply(x, ggw, stride=self.stride, pads=self.pads, dilation=self.dilation,
                            groups=self.groups)
        return gx, gg


class Im2Col(Op):
    """``unfold``: x (N, C, *S) -> (N, C * prod(k), L)."""
    __slots__ = ('kernel', 'stride', 'pads', 'dilation', 'size')
    array_backward = True

    def forward(self, xp, x, *, kernel, stride, pads, dilation):
        self.kernel, self.stride, self.pads, self.dilation = kernel, stride, pads, dilation
        self.size = x.shape[2:]
        cols, _ = _im2col(xp, x, kernel, stride, pads, dilation, 1)
        return cols.reshape(x.shape[0], -1, cols.shape[-1])

    def backward(self, g):
        return Col2Im.apply(g, size=self.size, kernel=self.kernel, stride=self.stride,
                            pads=self.pads, dilation=self.dilation)


class Col2Im(Op):
    """``fold``: cols (N, C * prod(k), L) -> (N, C, *size), overlapping windows summed."""
    __slots__ = ('kernel', 'stride', 'pads', 'dilation')
    array_backward = True

    def forward(self, xp, cols, *, size, kernel, stride, pads, dilation):
        self.kernel, self.stride, self.pads, self.dilation = kernel, stride, pads, dilation
        grid = _out_size(size, kernel, stride, pads, dilation)
        n = cols.shape[0]
        cols = cols.reshape((n, -1) + tuple(kernel) + grid)
        return _col2im(xp, cols, size, stride, tuple(p[0] for p in pads), dilation)

    def backward(self, g):
        return Im2Col.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                            dilation=self.dilation)


# ----------------------------------------------------------------------------- argument checks

def _tuple(value, d, name):
    """An int or a sequence of 1 or ``d`` ints as a ``d``-tuple (PyTorch's expand_param)."""
    if isinstance(value, int):
        return (value,) * d
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * d
    if len(value) != d:
        raise RuntimeError(f'expected {name} to be a single integer value or a list of {d} values '
                           f'to match the convolution dimensions, but got {name}={list(value)}')
    return value


def _shape(t):
    return list(t.shape)


def _batched(input, d, op):
    """``input`` with a batch dim (added for unbatched input), and whether one was added."""
    if not isinstance(input, autograd.Tensor):
        raise TypeError(f'{op}(): argument \'input\' must be Tensor, not {type(input).__name__}')
    if input.ndim == d + 2:
        return input, False
    if input.ndim == d + 1:
        return input.reshape((1,) + tuple(input.shape)), True
    raise RuntimeError(f'Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op}, '
                       f'but got input of size: {_shape(input)}')


def _check_same_dtype(input, weight, bias):
    for t in (weight, bias):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f'expected scalar type {scalar_name(input.dtype)} but found '
                               f'{scalar_name(t.dtype)} '
                               f'(input dtype {input.dtype}, {"weight" if t is weight else "bias"} '
                               f'dtype {t.dtype})')


def _check_weight(input, weight, bias, groups, d, transposed):
    if weight.ndim != d + 2:
        raise RuntimeError(f'weight should have {d + 2} dimensions for a {d}-d convolution, but '
                           f'got weight of size {_shape(weight)}')
    if groups <= 0:
        raise RuntimeError('non-positive groups is not supported')
    if weight.shape[0] % groups:
        raise RuntimeError(f'Given groups={groups}, expected weight to be divisible by {groups} '
                           f'at dimension 0, but got weight of size [{_shape(weight)}] instead')
    per_group = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != per_group:
        which = 'transposed=1, weight' if transposed else f'groups={groups}, weight'
        raise RuntimeError(f'Given {which} of size {_shape(weight)}, expected input'
                           f'{_shape(input)} to have {per_group} channels, but got '
                           f'{input.shape[1]} channels instead')
    out = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out):
        raise RuntimeError(f'Given weight of size {_shape(weight)}, expected bias to be '
                           f'1-dimensional with {out} elements, but got bias of size '
                           f'{_shape(bias)} instead')
    _check_same_dtype(input, weight, bias)


def _check_positive(stride, dilation):
    if any(s <= 0 for s in stride):
        raise RuntimeError('non-positive stride is not supported')
    if any(s <= 0 for s in dilation):
        raise RuntimeError('dilation should be greater than zero')


def _conv_pads(padding, kernel, stride, dilation, d):
    """Per-dim (before, after) padding from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == 'valid':
            return ((0, 0),) * d
        if padding != 'same':
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # total dil*(k-1), the odd element after (as PyTorch)
        return tuple((dl * (k - 1) // 2, dl * (k - 1) - dl * (k - 1) // 2)
                     for k, dl in zip(kernel, dilation))
    pad = _tuple(padding, d, 'padding')
    if any(p < 0 for p in pad):
        raise RuntimeError('negative padding is not supported')
    return tuple((p, p) for p in pad)


def _check_window_fits(size, kernel, pads, dilation):
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    eff = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f'Calculated padded input size per channel: '
                           f'({" x ".join(map(str, padded))}). Kernel size: '
                           f'({" x ".join(map(str, eff))}). Kernel size can\'t be greater than '
                           'actual input size')


# ----------------------------------------------------------------------------- public functions

def _conv(input, weight, bias, stride, padding, dilation, groups, d, op):
    x, unbatched = _batched(input, d, op)
    _check_weight(x, weight, bias, groups, d, transposed=False)
    stride, dilation = _tuple(stride, d, 'stride'), _tuple(dilation, d, 'dilation')
    _check_positive(stride, dilation)
    kernel = weight.shape[2:]
    pads = _conv_pads(padding, kernel, stride, dilation, d)
    _check_window_fits(x.shape[2:], kernel, pads, dilation)
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Conv.apply(*args, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution: input (N, C, L) or (C, L), weight (O, C/groups, k), bias (O,).
    ``padding`` is an int, a 1-tuple, 'valid' or 'same'.  Returns (N, O, L_out)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, 'conv1d')


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW),
    bias (O,).  ``padding`` is an int, a pair, 'valid' or 'same'.  Returns (N, O, H_out, W_out)
    with H_out = (H + 2 pad - dilation (kH - 1) - 1) // stride + 1."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, 'conv2d')


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution: input (N, C, D, H, W) or (C, D, H, W), weight
    (O, C/groups, kD, kH, kW), bias (O,).  ``padding`` is an int, a triple, 'valid' or 'same'.
    Returns (N, O, D_out, H_out, W_out), each size as in conv2d."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, 'conv3d')


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, d,
                    op):
    x, unbatched = _batched(input, d, op)
    _check_weight(x, weight, bias, groups, d, transposed=True)
    stride, dilation = _tuple(stride, d, 'stride'), _tuple(dilation, d, 'dilation')
    _check_positive(stride, dilation)
    pad = _tuple(padding, d, 'padding')
    out_pad = _tuple(output_padding, d, 'output_padding')
    if any(p < 0 for p in pad):
        raise RuntimeError('negative padding is not supported')
    if any(op_ >= s and op_ >= dl for op_, s, dl in zip(out_pad, stride, dilation)):
        names = ['depth', 'height', 'width'][3 - d:]
        parts = [f'output_padding_{n}: {v}' for n, v in zip(names, out_pad)] + \
            [f'stride_{n}: {v}' for n, v in zip(names, stride)] + \
            [f'dilation_{n}: {v}' for n, v in zip(names, dilation)]
        raise RuntimeError('output padding must be smaller than either stride or dilation, but got '
                           + ' '.join(parts))
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + dl * (k - 1) + op_ + 1 for n, s, p, dl, k, op_ in
                 zip(x.shape[2:], stride, pad, dilation, kernel, out_pad))
    if any(n <= 0 for n in size):
        raise RuntimeError(f'Given input size per channel: {_shape(x)[2:]}. Calculated output '
                           f'size per channel: {list(size)}. Output size is too small')
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose.apply(*args, stride=stride, pad_lo=pad, dilation=dilation, groups=groups,
                            out_size=size)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution (the gradient of conv1d in its input): input (N, Cin, L),
    weight (Cin, O/groups, k).  L_out = (L - 1) stride - 2 pad + dilation (k - 1)
    + output_padding + 1."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           1, 'conv_transpose1d')


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution: input (N, Cin, H, W), weight (Cin, O/groups, kH, kW),
    bias (O,).  H_out = (H - 1) stride - 2 pad + dilation (kH - 1) + output_padding + 1."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           2, 'conv_transpose2d')


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-d transposed convolution: input (N, Cin, D, H, W), weight (Cin, O/groups, kD, kH, kW),
    bias (O,).  D_out = (D - 1) stride - 2 pad + dilation (kD - 1) + output_padding + 1, and
    H_out, W_out likewise."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           3, 'conv_transpose3d')


def _check_unfold_input(input, allowed, op):
    if op == 'unfold' and input.ndim < 3:       # PyTorch's type for this case
        raise IndexError(f'unfold expects (N, C, H, W) or (C, H, W) input, got input of size '
                         f'{_shape(input)}')
    if input.ndim not in allowed:
        raise RuntimeError(f'Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and '
                           f'other non-zero dimensions for input, but got: {_shape(input)}'
                           if op == 'unfold' else
                           f'Expected 2D or 3D (batch mode) tensor for input with possibly 0 '
                           f'batch size and non-zero dimensions for input, but got: '
                           f'{_shape(input)}')


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): input (N, C, H, W) -> (N, C * kH * kW, L) with L the
    number of block positions (C-major, then kernel offsets, as PyTorch)."""
    _check_unfold_input(input, (3, 4), 'unfold')
    x, unbatched = _batched(input, 2, 'unfold')
    kernel = _tuple(kernel_size, 2, 'kernel_size')
    stride, dilation = _tuple(stride, 2, 'stride'), _tuple(dilation, 2, 'dilation')
    _check_positive(stride, dilation)
    pads = tuple((p, p) for p in _tuple(padding, 2, 'padding'))
    _check_window_fits(x.shape[2:], kernel, pads, dilation)
    y = Im2Col.apply(x, kernel=kernel, stride=stride, pads=pads, dilation=dilation)
    return y.reshape(y.shape[1:]) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im), the adjoint of ``unfold``:
    input (N, C * kH * kW, L) -> (N, C, *output_size)."""
    _check_unfold_input(input, (2, 3), 'fold')
    x, unbatched = (input, False) if input.ndim == 3 else (
        input.reshape((1,) + tuple(input.shape)), True)
    size = _tuple(output_size, 2, 'output_size')
    kernel = _tuple(kernel_size, 2, 'kernel_size')
    stride, dilation = _tuple(stride, 2, 'stride'), _tuple(dilation, 2, 'dilation')
    _check_positive(stride, dilation)
    pad = _tuple(padding, 2, 'padding')
    pads = tuple((p, p) for p in pad)
    k = math.prod(kernel)
    if x.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f'of kernel_size, but got input.size(1)={x.shape[1]} and '
                           f'kernel_size={kernel}.')
    grid = _out_size(size, kernel, stride, pads, dilation)
    if x.shape[2] != math.prod(grid):
        raise RuntimeError(f'Given output_size={size}, kernel_size={kernel}, dilation={dilation}, '
                           f'padding={pad}, stride={stride}, expected size of input\'s dimension '
                           f'2 to match the calculated number of sliding blocks '
                           f'{" * ".join(map(str, grid))} = {math.prod(grid)}, but got '
                           f'input.size(2)={x.shape[2]}.')
    y = Col2Im.apply(x, size=size, kernel=kernel, stride=stride, pads=pads, dilation=dilation)
    return y.reshape(y.shape[1:]) if unbatched else y

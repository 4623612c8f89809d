"""Spatial transformers: ``grid_sample`` and ``affine_grid`` (PyTorch's ``F.grid_sample``,
``F.affine_grid``, in PyTorch's file name), and the sub-pixel rearrangements
``pixel_shuffle`` / ``pixel_unshuffle``.

``grid_sample`` reads input (N, C, *S) at the points of grid (N, *S_out, d), whose last
dim holds normalised coordinates (x, y[, z]) in [-1, 1] over the spatial dims taken last
first.  A coordinate c along a dim of size n becomes the pixel position
    u = (c + 1) / 2 (n - 1)          (align_corners: -1 and 1 are the corner pixels' centres)
    u = ((c + 1) n - 1) / 2          (otherwise: -1 and 1 are the corner pixels' outer edges),
then padding_mode decides what lies outside: 'zeros' reads 0, 'border' clips u to
[0, n - 1], 'reflection' mirrors u at the borders (then clips).  The value is
    bilinear (trilinear in 3-d):  sum over the 2^d corners v of prod_a w_a(v_a) x[v], with
                                  w = 1 - t at the lower corner, t at the upper (t = u - floor u)
    nearest:                       x[round_half_even(u)]
    bicubic (2-d):                 sum over a 4 x 4 neighbourhood of Keys' cubic weights
                                   (A = -0.75) of t, each tap's position padded by itself.

All of it is composed of differentiable ops (arithmetic on the grid's coordinates, a gather
of the input), so the gradients with respect to input and grid, and their derivatives of
every order, follow; positions (floor, round, the padding's reflections) are constants, as
in PyTorch, whose clipped coordinates carry no gradient at or beyond the border.
"""
import itertools
import math
import warnings

import autograd
from autograd.extend import array_of, renamed, scalar_name, wrap, xp_of

from .pooling import _cubic_weights

__all__ = ['grid_sample', 'affine_grid', 'pixel_shuffle', 'pixel_unshuffle']

_ALIGN_WARNING = ('Default grid_sample and affine_grid behavior has changed to '
                  'align_corners=False since 1.3.0. Please specify align_corners=True if the old '
                  'behavior is desired. See the documentation of grid_sample for details.')


# ----------------------------------------------------------------------------- coordinates

def _unnormalize(c, n, align_corners):
    """Normalised coordinate c in [-1, 1] -> pixel position along a dim of size n."""
    if align_corners:
        return ((c + 1) / 2) * (n - 1)
    return ((c + 1) * n - 1) / 2


def _const(a, like):
    """Array ``a`` as a constant tensor on ``like``'s device."""
    return wrap(a, like.device)


def _clip(u, n):
    """u clipped to [0, n - 1]; its gradient is 1 strictly inside and 0 elsewhere (PyTorch
    counts the borders as outside)."""
    inside = (u > 0) & (u < n - 1)
    return autograd.where(inside, u, u.detach().clamp(0, n - 1))


def _reflect(u, twice_low, twice_high):
    """u mirrored into [low, high] (PyTorch's reflect_coordinates): fold |u - low| by the
    span; an odd number of folds runs backwards."""
    if twice_low == twice_high:
        return u * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    t = (u - low).abs()
    flips = xp_of(t).floor(array_of(t.detach()) / span)
    extra = autograd.fmod(t, span)
    even = _const(flips % 2 == 0, t)
    return autograd.where(even, extra + low, span - extra + low)


def _pad_coordinate(u, n, padding_mode, align_corners):
    """Apply the padding mode to pixel position u along a dim of size n ('zeros' leaves it,
    and reading outside gives 0)."""
    if padding_mode == 'border':
        return _clip(u, n)
    if padding_mode == 'reflection':
        u = _reflect(u, 0, 2 * (n - 1)) if align_corners else _reflect(u, -1, 2 * n - 1)
        return _clip(u, n)
    return u


# ----------------------------------------------------------------------------- sampling

class _Reader:
    """Reads input (N, C, *S) at integer positions (one (N, L) array per spatial dim), 0
    outside, as a differentiable gather: (N, C, L)."""

    def __init__(self, input):
        self.n, self.c = input.shape[:2]
        self.size = tuple(input.shape[2:])
        # (N, S, C): one index pair (sample, position) reads all channels
        self.flat = input.reshape(self.n, self.c, math.prod(self.size)).transpose(1, 2)
        self.xp = xp_of(input)
        self.batch = _const(self.xp.arange(self.n).reshape(-1, 1), input)

    def __call__(self, positions):
        xp = self.xp
        valid = None
        flat = 0
        for p, n in zip(positions, self.size):
            ok = (p >= 0) & (p < n)
            valid = ok if valid is None else valid & ok
            flat = flat * n + xp.clip(p, 0, n - 1)
        values = self.flat[self.batch, _const(flat, self.batch)].transpose(1, 2)   # (N, C, L)
        return autograd.where(_const(valid[:, None, :], values), values, 0.0)


def _integers(xp, f, n):
    """Whole-number pixel positions ``f`` along a dim of size n as integers; those outside
    [0, n), inf and NaN included, become -1 or n (read as outside; casting them would be
    undefined)."""
    f = xp.clip(f, -1, n)
    return xp.where(f == f, f, -1).astype(xp.int64)


def _sample_linear(read, coords):
    """Bilinear (trilinear) interpolation at pixel positions ``coords`` ((N, L) tensors, one
    per spatial dim): the 2^d corners, each weighted by the product of its 1-d weights."""
    xp = read.xp
    lower = [xp.floor(array_of(u.detach())) for u in coords]
    out = None
    for corner in itertools.product((0, 1), repeat=len(coords)):
        w = None
        for u, lo, o in zip(coords, lower, corner):
            wa = u - _const(lo, u) if o else _const(lo + 1, u) - u
            w = wa if w is None else w * wa
        value = read([_integers(xp, lo + o, n) for lo, o, n in zip(lower, corner, read.size)])
        term = value * w.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _sample_nearest(read, coords):
    """The input at the nearest pixel (ties to even, as PyTorch's nearbyint); the grid gets a
    zero gradient, as in PyTorch."""
    xp = read.xp
    value = read([_integers(xp, xp.rint(array_of(u.detach())), n)
                  for u, n in zip(coords, read.size)])
    if any(u.requires_grad for u in coords):
        # the output depends on the grid (piecewise constantly): it requires grad, and the
        # grid's gradient is 0, as PyTorch gives (a select of none of u: 0 even for u inf)
        never = _const(xp.zeros(coords[0].shape, bool), coords[0])
        value = value + sum(autograd.where(never, u, 0.0) for u in coords).unsqueeze(1)
    return value


def _sample_bicubic(read, coords, padding_mode, align_corners):
    """Keys' cubic convolution over the 4 x 4 pixels around each point; each tap's position is
    padded on its own and read as 0 outside (PyTorch's get_value_bounded)."""
    xp = read.xp
    lower = [xp.floor(array_of(u.detach())) for u in coords]
    weights = [_cubic_weights(u - _const(lo, u), float) for u, lo in zip(coords, lower)]
    out = None
    for taps in itertools.product(range(4), repeat=len(coords)):
        positions, w = [], None
        for u, lo, k, n, wk in zip(coords, lower, taps, read.size, weights):
            p = _pad_coordinate(_const(lo - 1 + k, u), n, padding_mode, align_corners)
            positions.append(_integers(xp, xp.trunc(array_of(p)), n))
            w = wk[k] if w is None else w * wk[k]
        term = read(positions) * w.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _check_grid_sample(input, grid, mode, padding_mode):
    if mode not in ('bilinear', 'nearest', 'bicubic'):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ('zeros', 'border', 'reflection'):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    for name, t in (('input', input), ('grid', grid)):
        if not isinstance(t, autograd.Tensor):
            raise TypeError(f"grid_sampler(): argument '{name}' must be Tensor, not "
                            f'{type(t).__name__}')
    if input.device != grid.device:
        raise RuntimeError('grid_sampler(): expected input and grid to be on same device, but '
                           f'input is on {input.device} and grid is on {grid.device}')
    if not input.is_floating_point():
        raise NotImplementedError(f'"grid_sampler_{input.ndim - 2}d" not implemented for '
                                  f"'{scalar_name(input.dtype)}'")
    if grid.dtype != input.dtype:
        raise RuntimeError(f'expected scalar type {scalar_name(input.dtype)} but found '
                           f'{scalar_name(grid.dtype)} (grid_sampler: input {input.dtype}, '
                           f'grid {grid.dtype})')
    shape, gshape = list(input.shape), list(grid.shape)
    if input.ndim == 0 or grid.ndim == 0 or shape[0] != gshape[0]:
        raise RuntimeError('grid_sampler(): expected grid and input to have same batch size, but '
                           f'got input with sizes {shape} and grid with sizes {gshape}')
    if gshape[-1] != input.ndim - 2:
        raise RuntimeError(f'grid_sampler(): expected grid to have size {input.ndim - 2} in last '
                           f'dimension, but got grid with sizes {gshape}')
    for i in range(2, input.ndim):
        if shape[i] <= 0:
            raise RuntimeError('grid_sampler(): expected input to have non-empty spatial '
                               f'dimensions, but input has sizes {shape} with dimension {i} '
                               'being empty')
    d = 2 if input.ndim == 4 else 3
    if input.ndim != grid.ndim or input.ndim not in (4, 5):
        raise RuntimeError(f'grid_sampler(): expected {d + 2}D input and grid with same number '
                           f'of dimensions, but got input with sizes {shape} and grid with sizes '
                           f'{gshape}')
    if mode == 'bicubic' and d != 2:
        raise RuntimeError('grid_sampler(): bicubic interpolation only supports 4D input')


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """Sample input (N, C, H, W) at grid (N, H_out, W_out, 2) -> (N, C, H_out, W_out), or
    input (N, C, D, H, W) at grid (N, D_out, H_out, W_out, 3) -> (N, C, D_out, H_out, W_out).
    grid[..., 0] is x (along W), grid[..., 1] is y (along H), grid[..., 2] is z (along D),
    normalised to [-1, 1].  ``mode``: 'bilinear' (trilinear for 5-D input), 'nearest' or
    'bicubic' (4-D only); ``padding_mode``: 'zeros', 'border' or 'reflection'."""
    _check_grid_sample(input, grid, mode, padding_mode)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    n, c = input.shape[:2]
    size = tuple(input.shape[2:])
    d = len(size)
    out_size = tuple(grid.shape[1:-1])
    points = grid.reshape(n, math.prod(out_size), d)
    coords = []                     # pixel positions along D, H, W: grid's last dim reversed
    for a in range(d):
        u = _unnormalize(points[..., d - 1 - a], size[a], align_corners)
        if mode != 'bicubic':
            u = _pad_coordinate(u, size[a], padding_mode, align_corners)
        coords.append(u)
    read = _Reader(input)
    if mode == 'bilinear':
        out = _sample_linear(read, coords)
    elif mode == 'nearest':
        out = _sample_nearest(read, coords)
    else:
        out = _sample_bicubic(read, coords, padding_mode, align_corners)
    return out.reshape((n, c) + out_size)


# ----------------------------------------------------------------------------- affine grids

def _linspace_from_neg_one(xp, steps, align_corners, dtype):
    """PyTorch's base coordinates along a dim: linspace(-1, 1, steps), scaled by
    (steps - 1) / steps unless align_corners, and 0 for a single step."""
    if steps <= 1:
        return xp.zeros(1, dtype)
    r = xp.linspace(-1, 1, steps).astype(dtype)
    if not align_corners:
        r = r * dtype.type(steps - 1) / dtype.type(steps)
    return r


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps: theta (N, 2, 3) and size (N, C, H, W) give
    grid (N, H, W, 2); theta (N, 3, 4) and size (N, C, D, H, W) give (N, D, H, W, 3).  Each
    point is theta @ (x, y[, z], 1) for the output pixel's normalised coordinates (x along W,
    spaced as grid_sample reads them for the same ``align_corners``)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f'Expected theta to have floating point type, but got {theta.dtype}')
    size = tuple(size)
    shape = tuple(theta.shape)
    if len(size) == 4:
        if theta.ndim != 3 or shape[-2:] != (2, 3):
            raise ValueError(f'Expected a batch of 2D affine matrices of shape Nx2x3 for size '
                             f'{size}. Got {theta.shape}.')
    elif len(size) == 5:
        if theta.ndim != 3 or shape[-2:] != (3, 4):
            raise ValueError(f'Expected a batch of 3D affine matrices of shape Nx3x4 for size '
                             f'{size}. Got {theta.shape}.')
    else:
        raise NotImplementedError('affine_grid only supports 4D and 5D sizes, for 2D and 3D '
                                  f'affine transforms, respectively. Got size {size}.')
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn('Since version 1.3.0, affine_grid behavior has changed for unit-size grids '
                      'when align_corners=True. This is not an intended use case of affine_grid. '
                      'See the documentation of affine_grid for details.', stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f'Expected non-zero, positive output size. Got {size}')
    if size[0] != shape[0]:
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: '
                           f'[{size[0]}, {len(spatial) + 1}] but got: [{shape[0]}, '
                           f'{len(spatial) + 1}].')
    xp = xp_of(theta)
    dtype = array_of(theta).dtype
    d = len(spatial)
    base = xp.ones(spatial + (d + 1,), dtype)
    for k in range(d):              # column k: x, y, z over W, H, D
        a = d - 1 - k
        line = _linspace_from_neg_one(xp, spatial[a], align_corners, dtype)
        base[..., k] = line.reshape((-1,) + (1,) * (d - 1 - a))
    points = wrap(base.reshape(1, -1, d + 1), theta.device)
    grid = points.matmul(theta.transpose(1, 2))             # (N, prod(spatial), d)
    return grid.reshape((size[0],) + spatial + (d,))


# ----------------------------------------------------------------------------- pixel shuffle

def _check_factor(name, arg, r, input):
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"{name}(): argument '{arg}' (position 2) must be int, "
                        f"not {type(r).__name__}")
    if r <= 0:
        raise RuntimeError(f'{name} expects a positive {arg}, but got {r}')
    if input.dim() < 3:
        raise RuntimeError(f'{name} expects input to have at least 3 dimensions, but got '
                           f'input with {input.dim()} dimension(s)')


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[..., c, h r + i, w r + j] =
    input[..., c r^2 + i r + j, h, w] (a reshape, a permute and a contiguous copy)."""
    r = upscale_factor
    _check_factor('pixel_shuffle', 'upscale_factor', r, input)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but "
                           f"input.size(-3)={c} is not divisible by {r * r}")
    n = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return renamed(x.reshape(*batch, c // (r * r), h * r, w * r), 'PixelShuffleBackward0')


def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    _check_factor('pixel_unshuffle', 'downscale_factor', r, input)
    *batch, c, h, w = input.shape
    for side, size in (('height', h), ('width', w)):
        if size % r:
            raise RuntimeError(f'pixel_unshuffle expects {side} to be divisible by '
                               f'downscale_factor, but input.size({-2 if side == "height" else -1})'
                               f'={size} is not divisible by {r}')
    n = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return renamed(x.reshape(*batch, c * r * r, h // r, w // r), 'PixelUnshuffleBackward0')

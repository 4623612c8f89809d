"""``pad``, ``normalize``, ``cosine_similarity``, ``pairwise_distance``."""
import autograd
from autograd.extend import Op, renamed

__all__ = ['pad', 'normalize', 'cosine_similarity', 'pairwise_distance']


class ConstantPad(Op):
    """Surround ``x`` with ``value``: ``pads`` is one non-negative ``(before, after)`` per dim.
    Backward crops the gradient back to ``x``'s region."""
    __slots__ = ('region',)
    torch_name = 'ConstantPadNdBackward0'   # PyTorch's node name
    array_backward = True

    def forward(self, xp, x, pads=(), value=0):
        shape = tuple(n + b + a for n, (b, a) in zip(x.shape, pads))
        out = xp.full(shape, value, dtype=x.dtype)
        self.region = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, pads))
        out[self.region] = x
        return out

    def backward(self, g):
        return g[self.region]


_NON_CONSTANT_DIMS = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


def _index_map(mode, n, before, after):
    """Source index of every output position along one dim of size ``n`` padded by
    ``(before, after)`` (negative sizes crop).  Reflect and replicate map position
    ``-before .. n + after - 1`` of the uncropped input; circular wraps around the cropped
    input, as PyTorch's ``_pad_circular`` copies from it."""
    import numpy
    if mode == 'circular':
        start, m = max(-before, 0), n + min(before, 0) + min(after, 0)
        j = numpy.arange(-max(before, 0), m + max(after, 0))
        return start + j % max(m, 1)
    j = numpy.arange(-before, n + after)
    if mode == 'reflect':
        period = 2 * (n - 1)
        j = numpy.abs(j) % period if period else numpy.zeros_like(j)
        return numpy.where(j >= n, period - j, j)
    return numpy.clip(j, 0, n - 1)                 # replicate


def _check_non_constant(input, pad, mode):
    ok = _NON_CONSTANT_DIMS.get(len(pad))
    if ok is None or input.ndim not in ok:
        raise NotImplementedError(
            f'Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n'
            'Supported combinations for non-constant padding:\n'
            '  - 2D or 3D input: padding size = 2 (pads last dimension)\n'
            '  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n'
            '  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)')
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        n = input.shape[dim]
        before, after = pad[2 * k], pad[2 * k + 1]
        if mode == 'reflect' and (before >= n or after >= n):
            raise RuntimeError(f'Argument #4: Padding size should be less than the corresponding '
                               f'input dimension, but got: padding ({before}, {after}) at '
                               f'dimension {dim} of input {list(input.shape)}')
        if mode == 'circular' and (before > n or after > n):
            raise RuntimeError('Padding value causes wrapping around more than once.')
        if mode == 'circular' and n + before + after < 0:
            raise RuntimeError('Negative padding value is resulting in an empty dimension')
        if mode == 'circular' and max(before, after) > n + min(before, 0) + min(after, 0):
            # PyTorch copies from a region of its own output: it refuses the overlap, or reads
            # positions not yet written
            raise RuntimeError(f'pad: circular padding ({before}, {after}) of dimension {dim} '
                               f'of input {list(input.shape)} wraps around the cropped size '
                               f'{n + min(before, 0) + min(after, 0)} more than once')
        if mode != 'circular' and n + before + after < (1 if len(pad) == 2 else 0):
            # the 1-D kernels want an output of size >= 1
            raise RuntimeError(f'pad: {mode} padding ({before}, {after}) of dimension {dim} of '
                               f'input {list(input.shape)} gives a negative output size '
                               f'{n + before + after}; input (W: {n}) is too small')
        if mode == 'replicate' and n == 0:
            raise RuntimeError(f'Expected a non-empty dimension {dim} to replicate-pad')


_PAD_NAMES = {'reflect': 'ReflectionPad', 'replicate': 'ReplicationPad'}


def pad(input, pad, mode='constant', value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starts
    at the last dim.  Modes ``constant`` (negative sizes crop), ``reflect`` (mirror without
    repeating the edge), ``replicate`` (repeat the edge) and ``circular`` (wrap around)."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError('Padding length must be divisible by 2')
    if len(pad) // 2 > input.ndim:
        raise RuntimeError('Padding length should be less than or equal to two times the input '
                           f'dimension but got padding length {len(pad)} and input of dimension '
                           f'{input.ndim}')
    if mode not in ('constant', 'reflect', 'replicate', 'circular'):
        raise NotImplementedError(f'Unrecognised padding mode {mode}')
    if mode != 'constant':
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _check_non_constant(input, pad, mode)
        out = input
        for k in range(len(pad) // 2):
            dim = input.ndim - 1 - k
            src = _index_map(mode, input.shape[dim], pad[2 * k], pad[2 * k + 1])
            index = autograd.tensor(src, device=input.device)
            out = out[(slice(None),) * dim + (index,)]
        if pad and mode != 'circular':      # PyTorch's node name (its circular pad writes into slices)
            out = renamed(out, f'{_PAD_NAMES[mode]}{len(pad) // 2}DBackward0')
        return out
    pairs = [(0, 0)] * input.ndim
    crop = [slice(None)] * input.ndim
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        n = input.shape[dim]
        if n + before + after < 0:
            raise RuntimeError(f'The input size {n}, plus negative padding {before} and {after} '
                               f'resulted in a negative output size, which is invalid. Check '
                               f'dimension {dim} of your input.')
        if max(-before, 0) + max(-after, 0) > n:
            raise RuntimeError('narrow(): length must be non-negative.')
        crop[dim] = slice(max(-before, 0), n + min(after, 0))
        pairs[dim] = (max(before, 0), max(after, 0))
    if any(s != slice(None) for s in crop):
        input = input[tuple(crop)]
    return ConstantPad.apply(input, pads=tuple(pairs), value=0 if value is None else value)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / denom


def _clamped(t, lo):
    """``t`` with values raised to at least ``lo`` but the gradient of ``t`` (as PyTorch's
    clamp under ``no_grad`` on a clone)."""
    return t + (t.detach().clamp_min(lo) - t.detach())


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (broadcast)."""
    n1 = _clamped(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamped(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dim."""
    d = x1 - x2 + eps
    return d.norm(p, -1, keepdim=keepdim)

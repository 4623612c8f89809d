"""Differential fuzzing against PyTorch: random op chains, run through both libraries.

A *program* is a few input arrays (broadcast-compatible shapes, 0-d and 0-size included;
float32/float64/int64/bool; values from a pool with edge values: 0, -0, inf, nan, huge,
tiny) and a chain of 2-6 *steps*, each an op from ``SPECS`` with its parameters drawn
once.  ``run(lib, program)`` executes it with ``lib`` (``torch`` or ``autograd``) and
records what happened at each stage: the forward (value, dtype, shape, or the exception
type), the gradients of a weighted sum of the output with respect to the floating inputs
(``create_graph=True``), and the gradients of a weighted sum of those.  ``compare``
returns the first divergence, as ``(stage, message)``, or None.

The op table is a plain dict of specs (``SPECS``), easy to extend: a spec is a function
``(lib, v, args, params) -> tensor`` plus a strategy for its params.  Every name in the
ops modules' ``FUNCTIONS`` that no spec covers (an op added later) is still fuzzed, called
as a unary function ``getattr(lib, name)(v)`` (``GENERIC``): both libraries must then agree
on the value or on the exception type.

Documented differences (docs/DIFFERENCES.md) are known to ``KNOWN``: a divergence whose
message matches one of them is not counted as a failure.
"""
import math
import re
import operator
import warnings

import numpy as np
from hypothesis import strategies as st

import autograd
from oracle import torch

# ----------------------------------------------------------------------------- the op table

UNARY = [
    'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'square',
    'reciprocal', 'abs', 'sign', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'asin', 'acos', 'atan',
    'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'trunc', 'round', 'neg',
    'logical_not', 'bitwise_not', 'isnan', 'isinf', 'isfinite', 'clone',
]
BINARY = [
    'add', 'sub', 'mul', 'div', 'floor_divide', 'remainder', 'fmod', 'pow', 'maximum',
    'minimum', 'atan2', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or',
    'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor',
]
OPERATORS = {
    '+': operator.add, '-': operator.sub, '*': operator.mul, '/': operator.truediv,
    '//': operator.floordiv, '%': operator.mod, '**': operator.pow, '&': operator.and_,
    '|': operator.or_, '^': operator.xor, '<': operator.lt, '==': operator.eq,
}
REDUCTIONS = ['sum', 'mean', 'prod', 'amax', 'amin', 'logsumexp', 'all', 'any', 'std', 'var',
              'argmax', 'argmin']
DIM_OPS = ['softmax', 'log_softmax', 'cumsum', 'cumprod', 'flip', 'unsqueeze', 'squeeze']

SCALARS = st.sampled_from([0, 1, -1, 2, 3, 0.5, -2.5, 0.0, -0.0, 1e-30, 1e30, True, False,
                           math.inf, -math.inf, math.nan])
DIM = st.integers(-4, 3)


def _other(lib, v, args, p):
    """The second operand a binary step uses: the second input, a Python scalar, or v."""
    which = p['other']
    if which == 'input':
        return args[1]
    if which == 'self':
        return v
    return p['scalar']


OTHER = st.fixed_dictionaries({'other': st.sampled_from(['input', 'input', 'scalar', 'self']),
                               'scalar': SCALARS})


def _unary(name):
    return (lambda lib, v, args, p: getattr(lib, name)(v)), st.just({})


def _binary(name):
    def f(lib, v, args, p):
        o = _other(lib, v, args, p)
        a, b = (o, v) if p['swap'] and not isinstance(o, (int, float)) else (v, o)
        return getattr(lib, name)(a, b)
    return f, st.fixed_dictionaries({'swap': st.booleans()}).flatmap(
        lambda d: OTHER.map(lambda o: {**d, **o}))


def _operator(sym):
    fn = OPERATORS[sym]

    def f(lib, v, args, p):
        o = _other(lib, v, args, p)
        return fn(o, v) if p['swap'] else fn(v, o)
    return f, st.fixed_dictionaries({'swap': st.booleans()}).flatmap(
        lambda d: OTHER.map(lambda o: {**d, **o}))


def _reduction(name):
    def f(lib, v, args, p):
        fn = getattr(lib, name)
        if p['dim'] is None:
            return fn(v) if name != 'logsumexp' else fn(v, 0)
        return fn(v, p['dim'], keepdim=p['keepdim'])
    return f, st.fixed_dictionaries({'dim': st.none() | DIM, 'keepdim': st.booleans()})


def _dim_op(name):
    def f(lib, v, args, p):
        if name == 'flip':
            return lib.flip(v, (p['dim'],))
        return getattr(lib, name)(v, p['dim'])
    return f, st.fixed_dictionaries({'dim': DIM})


def _clamp(lib, v, args, p):
    lo, hi = p['min'], p['max']
    lo = args[1] if lo == 'input' else lo
    hi = args[1] if hi == 'input' else hi
    return lib.clamp(v, min=lo, max=hi)


_BOUND = st.sampled_from([None, 'input', 0, -1, 1, 0.5, -0.5, 300, math.nan, math.inf])


def _where(lib, v, args, p):
    return lib.where(v > p['t'], v, args[1])


def _lerp(lib, v, args, p):
    w = args[1] if p['w'] == 'input' else p['w']
    return lib.lerp(v, args[1], w)


def _div_mode(lib, v, args, p):
    return lib.div(v, _other(lib, v, args, p), rounding_mode=p['mode'])


def _add_alpha(lib, v, args, p):
    return lib.add(v, args[1], alpha=p['alpha'])


def _reshape(lib, v, args, p):
    return v.reshape(-1) if p['flat'] else v.reshape(v.shape[::-1])


def _transpose(lib, v, args, p):
    return v.transpose(p['a'], p['b'])


def _getitem(lib, v, args, p):
    return v[p['index']]


def _setitem(lib, v, args, p):
    t = v.clone()
    t[...] = args[1]
    return t


def _inplace(name):
    def f(lib, v, args, p):
        t = v.clone()
        getattr(t, name)(_other(lib, v, args, p))
        return t
    return f, OTHER


def _matmul(lib, v, args, p):
    return v @ (v.mT if v.dim() >= 2 else v)


def _cat(lib, v, args, p):
    return lib.cat([v, args[1]], p['dim'])


def _stack(lib, v, args, p):
    return lib.stack([v, v], p['dim'])


def _masked_fill(lib, v, args, p):
    return v.masked_fill(args[1] > 0, p['value'])


def _isclose(lib, v, args, p):
    return lib.isclose(v, args[1])


def _to(lib, v, args, p):
    return v.to(getattr(lib, p['dtype']))


def _column_signs(lib, q):
    """+-1 per column of the batch of matrices ``q`` (*, m, k): the sign of the column's
    dot product with fixed weights, so that ``q * _column_signs(lib, q)`` is the same for
    either sign of each column (zero only on a set of measure zero)."""
    w = lib.tensor(np.random.default_rng(5).standard_normal(q.shape[-2]), dtype=q.dtype)
    d = (q * w.reshape(-1, 1)).sum(-2, keepdim=True)
    return 1 - 2 * (d < 0).to(q.dtype)


def _qr(lib, v, args, p):
    """Q of ``qr``, its columns' signs normalised: LAPACK implementations (PyTorch's and
    NumPy's) may return any of the factorizations Q D, D R with D = diag(+-1), all right."""
    q, _ = lib.qr(v)
    return q * _column_signs(lib, q)


def _svd(lib, v, args, p):
    """U of ``svd``, its columns' signs normalised (U D, D S, V D: any signs are right)."""
    u, _, _ = lib.svd(v)
    return u * _column_signs(lib, u)


SPECS = {}
for _n in UNARY:
    SPECS[_n] = _unary(_n)
for _n in BINARY:
    SPECS[_n] = _binary(_n)
for _s in OPERATORS:
    SPECS['op' + _s] = _operator(_s)
for _n in REDUCTIONS:
    SPECS[_n] = _reduction(_n)
for _n in DIM_OPS:
    SPECS[_n] = _dim_op(_n)
for _n in ('add_', 'mul_', 'sub_', 'div_', 'clamp_min_', 'pow_'):
    SPECS[_n] = _inplace(_n)
SPECS.update({
    'clamp': (_clamp, st.fixed_dictionaries({'min': _BOUND, 'max': _BOUND})),
    'where': (_where, st.fixed_dictionaries({'t': st.sampled_from([0, 0.5, -1])})),
    'lerp': (_lerp, st.fixed_dictionaries({'w': st.sampled_from(['input', 0.5, 0, 2.0])})),
    'div_mode': (_div_mode, OTHER.flatmap(lambda o: st.fixed_dictionaries(
        {'mode': st.sampled_from(['trunc', 'floor', None])}).map(lambda d: {**o, **d}))),
    'add_alpha': (_add_alpha, st.fixed_dictionaries({'alpha': st.sampled_from([2, 0.5, -1])})),
    'reshape': (_reshape, st.fixed_dictionaries({'flat': st.booleans()})),
    'transpose': (_transpose, st.fixed_dictionaries({'a': DIM, 'b': DIM})),
    'getitem': (_getitem, st.fixed_dictionaries({'index': st.sampled_from(
        [0, -1, 1, slice(None, None, 2), slice(1, None), (Ellipsis, 0), None, (None, Ellipsis),
         slice(0, 0)])})),
    'setitem': (_setitem, st.just({})),
    'matmul': (_matmul, st.just({})),
    'cat': (_cat, st.fixed_dictionaries({'dim': DIM})),
    'stack': (_stack, st.fixed_dictionaries({'dim': DIM})),
    'masked_fill': (_masked_fill, st.fixed_dictionaries({'value': SCALARS})),
    'isclose': (_isclose, st.just({})),
    'to': (_to, st.fixed_dictionaries({'dtype': st.sampled_from(
        ['float32', 'float64', 'int64', 'bool'])})),
    'qr': (_qr, st.just({})),
    'svd': (_svd, st.just({})),
})


def _covered():
    """Names of the ops modules' public functions that a spec above calls."""
    names = set(UNARY) | set(BINARY) | set(REDUCTIONS) | set(DIM_OPS)
    names |= {'clamp', 'where', 'lerp', 'div', 'add', 'reshape', 'transpose', 'matmul', 'cat',
              'stack', 'masked_fill', 'isclose', 'qr', 'svd'}
    return names


# Random samplers: their streams differ from PyTorch's by design (docs/DIFFERENCES.md), so
# values cannot be compared program by program; their own tests check their statistics.
# PyTorch 2.13 crashes the process (a segmentation fault in backward) on pdist of an empty
# input, so pdist is fuzzed only through its own tests.
TORCH_CRASHES = {'pdist'}
RANDOM = {'poisson', 'binomial', 'bernoulli', 'multinomial', 'normal', 'rand', 'rand_like',
          'randn', 'randn_like', 'randint', 'randint_like', 'randperm'}


def _generic():
    """Public functions of the ops modules that no spec covers (ops added later, aliases,
    functions of other arities), fuzzed as unary calls: both libraries must agree.  Private
    names (``_standard_gamma`` ...) and random samplers are left out."""
    from autograd.ops import OP_MODULES
    names = []
    for m in OP_MODULES:
        for n in getattr(m, 'FUNCTIONS', ()):
            if n.startswith('_') or n in RANDOM or n in TORCH_CRASHES:
                continue
            if n not in _covered() and hasattr(torch, n) and hasattr(autograd, n):
                names.append(n)
    return sorted(set(names))


GENERIC = _generic() if torch else []
for _n in GENERIC:
    SPECS.setdefault(_n, _unary(_n))

# ----------------------------------------------------------------------------- programs

def _kind(e):
    """An exception's type name; PyTorch's ``torch.linalg.LinAlgError`` is named
    ``_LinAlgError`` (a C class), ours ``LinAlgError``."""
    return type(e).__name__.lstrip('_')


FINITE = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1e-300, 1e300, -1e300, 1e-40, 1e38, 2.5]
NONFINITE = [math.inf, -math.inf, math.nan]
DTYPES = ['float64', 'float32', 'int64', 'bool']


@st.composite
def shapes(draw):
    """Two broadcast-compatible shapes (0-d and 0-size dimensions included)."""
    base = tuple(draw(st.lists(st.sampled_from([1, 2, 3, 0]), max_size=3)))
    other = tuple(d if draw(st.booleans()) else 1 for d in base)
    other = other[draw(st.integers(0, len(other))):]
    return base, other


@st.composite
def arrays(draw, shape, dtype, edge):
    n = int(np.prod(shape))
    smooth = st.floats(-3, 3, allow_nan=False).map(lambda f: round(f, 3))
    pool = st.sampled_from(FINITE + (NONFINITE if edge else []))
    vals = draw(st.lists(smooth | pool if edge else smooth, min_size=n, max_size=n))
    a = np.array(vals, dtype=np.float64).reshape(shape)
    if dtype == 'bool':
        return a > 0.2
    if dtype == 'int64':
        return np.clip(np.nan_to_num(a), -1e6, 1e6).round().astype(np.int64)
    with np.errstate(over='ignore'):        # 1e300 as float32 is inf, deliberately
        return a.astype(dtype)


@st.composite
def programs(draw, edge=False, dtypes=DTYPES, ops=None, max_steps=6):
    s0, s1 = draw(shapes())
    d0 = draw(st.sampled_from(dtypes))
    d1 = draw(st.sampled_from([d0, d0, *dtypes]))
    xs = [draw(arrays(s0, d0, edge)), draw(arrays(s1, d1, edge))]
    names = sorted(SPECS) if ops is None else ops
    steps = []
    for _ in range(draw(st.integers(2, max_steps))):
        name = draw(st.sampled_from(names))
        steps.append((name, draw(SPECS[name][1])))
    return {'inputs': xs, 'steps': steps}


def describe(program):
    xs = program['inputs']
    ins = ', '.join(f'{a.dtype}{list(a.shape)}={a.tolist()!r}' for a in xs)
    return f'inputs {ins}; steps ' + ' -> '.join(f'{n}{p or ""}' for n, p in program['steps'])


def is_finite(program):
    return all(np.isfinite(a).all() for a in program['inputs'] if a.dtype.kind == 'f')

# ----------------------------------------------------------------------------- running


def _tensor(lib, a):
    t = lib.tensor(a)
    if a.dtype.kind == 'f':
        t.requires_grad_(True)
    return t


def _weights(t, seed):
    return np.random.default_rng(seed).standard_normal(tuple(t.shape)).astype(
        str(t.dtype).replace('torch.', '').replace('autograd.', ''))


def host(t):
    if isinstance(t, (bool, int, float)):
        return np.asarray(t)
    if hasattr(t, 'detach'):
        t = t.detach()
        if torch and isinstance(t, torch.Tensor):
            if t._is_zerotensor():      # PyTorch's lazy zeros (numpy(force=True) on them
                dtype = torch.empty(0, dtype=t.dtype).numpy().dtype     # has crashed)
                return np.zeros(tuple(t.shape), dtype=dtype)
            return t.cpu().numpy(force=True)
        return t.cpu().numpy()
    return np.asarray(t)


def _grad(lib, *a, **k):
    return (torch.autograd.grad if lib is torch else autograd.grad)(*a, **k)


def run(lib, program):
    """Stages of ``program`` through ``lib``: a list of (stage, outcome) pairs, where a
    stage is 'step i name' (the forward, step by step), 'grad' (first order) or 'grad2'
    (second order), and an outcome is ('raise', exception type name, message) or
    ('value', list of NumPy arrays).  A NumPy RuntimeWarning that reaches the user of ours
    is recorded as a stage 'warning' of its own."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        record = _run(lib, program)
    if lib is autograd:
        leaked = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if leaked:
            record.append(('warning', ('raise', 'RuntimeWarning', str(leaked[0].message))))
    return record


def _run(lib, program):
    record = []
    stage = 'inputs'
    try:
        xs = [_tensor(lib, a) for a in program['inputs']]
        v = xs[0]
        for i, (name, params) in enumerate(program['steps']):
            stage = f'step {i} {name}'
            v = SPECS[name][0](lib, v, xs, params)
            if isinstance(v, (tuple, list)):
                v = v[0]
            record.append((stage, ('value', [host(v)])))
        out = v
    except Exception as e:
        record.append((stage, ('raise', _kind(e), str(e)[:200])))
        return record
    diff = [x for x in xs if x.requires_grad]
    if not (diff and out.requires_grad):
        return record
    try:
        loss = (out * lib.tensor(_weights(out, 1))).sum()
        gs = _grad(lib, loss, diff, create_graph=True)
    except Exception as e:
        record.append(('grad', ('raise', _kind(e), str(e)[:200])))
        return record
    record.append(('grad', ('value', [host(g) for g in gs])))
    used = [g for g in gs if g.requires_grad]
    if not used:
        return record
    try:
        loss2 = sum((g * lib.tensor(_weights(g, 2))).sum() for g in used)
        g2 = _grad(lib, loss2, diff)
    except Exception as e:
        record.append(('grad2', ('raise', _kind(e), str(e)[:200])))
        return record
    record.append(('grad2', ('value', [host(g) for g in g2])))
    return record


TOL = {'float64': (1e-7, 1e-9), 'float32': (2e-4, 1e-5)}


def _same(a, b, loose=False):
    """Why arrays a (ours) and b (PyTorch's) differ, or None."""
    if a is None or b is None:
        other = a if b is None else b
        return None if other is None or not np.any(other) else 'None against nonzero'
    if a.shape != b.shape:
        return f'shape {a.shape} != torch {b.shape}'
    if str(a.dtype) != str(b.dtype):
        return f'dtype {a.dtype} != torch {b.dtype}'
    if a.dtype.kind == 'c':     # each part with the float tolerance
        return _same(a.real, b.real, loose) or _same(a.imag, b.imag, loose)
    if a.dtype.kind != 'f':
        return None if np.array_equal(a, b) else f'values {a.ravel()[:6]} != torch {b.ravel()[:6]}'
    rtol, atol = TOL['float32' if loose else str(a.dtype)] if str(a.dtype) in TOL else (1e-3, 1e-3)
    with np.errstate(all='ignore'):
        ok = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        # beyond the float's range both sides are inf; near it, relative error only
        ok |= (np.abs(b) > np.finfo(b.dtype).max / 2) & np.isclose(a, b, rtol=1e-3, atol=0)
    if ok.all():
        return None
    k = np.flatnonzero(~ok)[0]
    return (f'values differ at {np.unravel_index(k, a.shape)}: {a.ravel()[k]!r} != torch '
            f'{b.ravel()[k]!r}')


def _rounds_to_single(outcome):
    """Whether an outcome holds a value of float32 (or a narrower float)."""
    return outcome[0] == 'value' and any(
        v is not None and v.dtype.kind == 'f' and v.dtype.itemsize <= 4 for v in outcome[1])


def _first_derivative_nan(ours, theirs, i, a, b, loose):
    """Whether every element where second derivatives ``a`` and ``b`` differ has a NaN
    first derivative (same input) on both sides: a point where the function is not
    differentiable, whose NaN-vs-inf second derivative is an accident of formulas."""
    firsts = [dict(r).get('grad') for r in (ours, theirs)]
    if any(f is None or f[0] != 'value' or len(f[1]) <= i for f in firsts):
        return False
    fa, fb = firsts[0][1][i], firsts[1][1][i]
    if fa is None or fb is None or fa.shape != a.shape or fb.shape != b.shape or \
            a.dtype.kind != 'f':
        return False
    with np.errstate(all='ignore'):
        bad = ~(np.isclose(a, b, equal_nan=True) | ((a == b) & np.isinf(a)))
    return bool(bad.any() and (np.isnan(fa[bad]).all() and np.isnan(fb[bad]).all()))


# Matrix functions are accurate normwise, not elementwise: an entry that is 0 in exact
# arithmetic comes out as rounding noise of the matrix's size (pinverse of a float32
# matrix with entries of 250: -1.6e-9 here, -2.2e-5 in PyTorch)
NORMWISE = {'pinverse', 'pinv', 'inverse', 'matrix_exp', 'cholesky_inverse',
            'cholesky_solve', 'lstsq'}


def _normwise_close(a, b, loose):
    """Whether float arrays ``a`` and ``b`` (finite where they differ) agree to the
    tolerance relative to their largest entry."""
    if a is None or b is None or a.shape != b.shape or a.dtype != b.dtype or \
            a.dtype.kind not in 'fc' or a.size == 0:
        return False
    with np.errstate(all='ignore'):
        off = ~np.isclose(a, b, equal_nan=True)
        if not (np.isfinite(a[off]).all() and np.isfinite(b[off]).all()):
            return False
        rtol = TOL['float32' if loose else str(a.dtype)][0] if str(a.dtype) in TOL else 1e-3
        scale = np.abs(b[np.isfinite(b)]).max(initial=0)
        return bool(np.abs(a[off] - b[off]).max() <= rtol * scale)


def compare(ours, theirs, loose=False):
    """The first divergence between two ``run`` records, as (stage, message), or None.
    ``loose``: float32 tolerances throughout (a float32 input rounds everything after it).
    From the first stage whose value is float32 on (a step ``to(float32)``, an integer op
    giving the default dtype) the tolerances are float32's too: that rounding reaches every
    later stage, float64 ones included."""
    if ours and ours[-1][0] == 'warning':
        return 'warning', f'{ours[-1][1][2]} (a NumPy RuntimeWarning reached the user)'
    for (stage, o), (_, t) in zip(ours, theirs):
        loose = loose or _rounds_to_single(t)
        if o[0] != t[0]:
            if o[0] == 'raise':
                return stage, f'raised {o[1]}: {o[2]} (torch returns)'
            return stage, f'returns (torch raises {t[1]}: {t[2]})'
        if o[0] == 'raise':
            if o[1] != t[1]:
                return stage, f'raised {o[1]}: {o[2]} (torch raises {t[1]}: {t[2]})'
            return None
        for i, (a, b) in enumerate(zip(o[1], t[1])):
            why = _same(a, b, loose)
            if why and stage.startswith('step') and stage.split(' ', 2)[2] in NORMWISE and \
                    _normwise_close(a, b, loose):
                why = None
            if why:
                if stage == 'grad2' and _first_derivative_nan(ours, theirs, i, a, b, loose):
                    why += ' [first derivative NaN there]'
                return stage, f'result {i}: {why}'
    if len(ours) != len(theirs):
        longer = ours if len(ours) > len(theirs) else theirs
        stage, outcome = longer[min(len(ours), len(theirs))]
        what = f' (it raises {outcome[1]}: {outcome[2]})' if outcome[0] == 'raise' else ''
        return stage, f'computed by {"ours" if longer is ours else "torch"} only{what}'
    return None


# Divergences each listed in docs/DIFFERENCES.md: (stage, op in the program, a piece of
# the message).
KNOWN = [
    # PyTorch's abs backward multiplies by sgn(x), whose derivative is an "efficient zero
    # tensor" that absorbs NaN (0 * NaN = 0) in the formulas it reaches; ours is an ordinary
    # zero.  Second derivatives through abs where a NaN is present (an input, or made by an
    # earlier step: fmod(0, 0)) can be NaN where PyTorch's are 0.
    ('grad2', 'abs', 'values differ'),
    ('grad2', 'absolute', 'values differ'),
    ('grad2', 'sgn', 'values differ'),      # sgn's own derivative: the same zero tensor
    # and first derivatives through sgn where an earlier step made NaN (pow of a negative
    # base): PyTorch's zero tensor absorbs it, ours is 0 * NaN
    ('grad', 'sgn', 'np.float64(nan) != torch'),
    ('grad', 'sgn', 'np.float32(nan) != torch'),
    # norm's second derivative at a zero norm is 0 (PyTorch: NaN), a deliberate choice
    ('grad2', 'norm', 'values differ'),
    # argsort of tied values: their order is unspecified (PyTorch's sort is not stable
    # unless stable=True)
    ('step', 'argsort', '[ties]'),
    # sinc's second derivative at 0 is -pi^2/3 (PyTorch: NaN)
    ('grad2', 'sinc', '!= torch np.float64(nan)'),
    ('grad2', 'sinc', '!= torch np.float32(nan)'),
    # and near 0 (sinc(sinc(9)): sinc(9) is 1e-18), where PyTorch's quotient formula
    # cancels to 0 and ours is the Taylor polynomial's value (mpmath agrees to 1e-16)
    ('grad2', 'sinc', '!= torch np.float64(-0.0)'),
    ('grad2', 'sinc', '!= torch np.float64(0.0)'),
    # sinc's first derivative near 0 is its Taylor value here (-3.3e-30 at 1e-30), 0 in
    # PyTorch (cancellation): times an infinite factor later, -inf here and NaN there
    ('grad', 'sinc', 'inf) != torch np.float64(nan)'),
    ('grad', 'sinc', 'inf) != torch np.float32(nan)'),
    # torch.tensor of an empty NumPy array has strides (0, 0), which view_as_complex (a
    # view there, a copy here) refuses; torch.zeros(0, 2) it takes, as ours does
    ('step', 'view_as_complex', 'last dimension with stride 1'),
    # unique collapses NaNs into one value (NumPy's rule; PyTorch keeps each NaN)
    ('step', 'unique', 'its input holds NaN'),
    # mode of a slice holding NaN: PyTorch's sort with NaN decides (no consistent rule)
    ('step', 'mode', 'its input holds NaN'),
    # log|det| of an exactly singular matrix: whether LU's last pivot comes out exactly 0
    # (-inf) or a rounding residue depends on the LAPACK kernel
    ('step', 'logdet', '!= torch np.float32(-inf)'),
    ('step', 'logdet', '!= torch np.float64(-inf)'),
    ('step', 'slogdet', '!= torch np.float32(-inf)'),
    ('step', 'slogdet', '!= torch np.float64(-inf)'),
    # the sign bit of a NaN made by an operation (sqrt(-1), inf - inf) is unspecified by
    # IEEE 754; NumPy's and PyTorch's kernels set it differently
    ('step', 'signbit', 'its input holds NaN'),
    # svd of a matrix with repeated singular values: U, V unique only up to a rotation
    # within each repeated block; LAPACK's choice differs (docs/DIFFERENCES.md)
    ('step', 'svd', '[repeated singular values]'),
    # Cholesky of a matrix singular to the float's precision (acos(0) everywhere): the
    # zero pivot's rounding residue, and L's entries after it, differ by LAPACK kernel
    ('step', 'cholesky', '[singular matrix]'),
    # qr of a matrix whose leading columns are dependent (acos(0) everywhere, times 1e-30):
    # Q's columns from there on are any orthonormal completion, picked by rounding residue;
    # LAPACK builds pick differently (docs/DIFFERENCES.md)
    ('step', 'qr', '[rank-deficient matrix]'),
    # PyTorch's vander returns a view of an output its backward saved, so an in-place op
    # on vander's result fails PyTorch's version check; ours saves nothing there and
    # differentiates (docs/DIFFERENCES.md)
    ('grad', 'vander', 'has been modified by an inplace operation'),
    # prod's gradient where a factor is infinite: the product of the other factors here,
    # NaN in PyTorch (its prod / x is inf / inf; docs/DIFFERENCES.md)
    ('grad', 'prod', '!= torch np.float64(nan)'),
    ('grad', 'prod', '!= torch np.float32(nan)'),
]
# Sums whose terms cancel catastrophically (non-finite programs hold +-1e300): the result
# depends on the order of the additions (docs/DIFFERENCES.md)
NONFINITE_ORDER = {'sum', 'nansum', 'mean', 'nanmean'}
# Complex arithmetic on infinite or NaN parts: NumPy's complex division and
# multiplication (ours) do not follow C99 Annex G's recovery of infinities as PyTorch's
# do (docs/DIFFERENCES.md): only values of programs with non-finite inputs
NONFINITE_COMPLEX = {'view_as_complex', 'complex', 'polar'}
# PyTorch failing its own internal assertion is a PyTorch bug, not behaviour to reproduce
# (the case known: ``x[...] = y`` with a 0-d float ``y`` that requires grad makes PyTorch's
# integer ``x`` require grad, and backward then asserts; docs/DIFFERENCES.md)
TORCH_BUGS = ('INTERNAL ASSERT FAILED', 'Autograd not support dtype',
              'ZeroTensors are immutable')   # (PyTorch's efficient zeros leaking out)
# Matrix decompositions of matrices holding inf or NaN: LAPACK's results (PyTorch's) are
# unspecified mixtures of NaN and numbers; ours differ (docs/DIFFERENCES.md).  Only for
# programs with non-finite inputs.
NONFINITE_KNOWN = {'svd', 'svdvals', 'eigh', 'eigvalsh', 'qr', 'pinverse', 'pinv', 'det',
                   'logdet', 'slogdet', 'inverse', 'cholesky', 'matrix_exp', 'lstsq',
                   'matrix_rank', 'cholesky_inverse', 'cholesky_solve'}


def _repeated_singular_values(op, a):
    """Whether ``op`` factors matrices ``a`` some of which have (nearly) equal singular
    values, where U and V are unique only up to a rotation within each repeated block
    (an orthogonal matrix, such as an earlier svd's U, has all of them equal to 1)."""
    if op not in ('svd', 'linalg_svd') or a.dtype.kind != 'f' or a.ndim < 2 or \
            min(a.shape[-2:]) < 2 or not np.isfinite(a).all():
        return False
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    return bool((np.abs(np.diff(s, axis=-1)) <= 1e-3 * np.maximum(s[..., :1], 1e-30)).any())


def _rank_deficient_qr(op, a):
    """Whether ``op`` is ``qr`` of (m, n) matrices ``a`` some of whose leading j < m columns
    are (to rounding) linearly dependent: Q's column j is then any unit vector orthogonal
    to the ones before it, picked by rounding residue (R[j, j] of 1e-45 or 0), and so are
    the columns after it; LAPACK builds (ours, PyTorch's) pick differently, both right."""
    if op != 'qr' or a.dtype.kind != 'f' or a.ndim < 2 or 0 in a.shape[-2:] or \
            not np.isfinite(a).all():
        return False
    eps = np.finfo(a.dtype).eps
    a = a.astype(np.float64)
    m, n = a.shape[-2:]
    tol = max(m, n) * eps * np.linalg.svd(a, compute_uv=False)[..., :1]
    for j in range(1, min(m - 1, n) + 1):     # (Q's last column of m is its sign's choice)
        s = np.linalg.svd(a[..., :j], compute_uv=False)
        if (s[..., -1:] <= tol).any():
            return True
    return False


def _singular_cholesky(op, a):
    """Whether ``op`` is a Cholesky factorization of matrices ``a`` some of which are
    singular to the float's precision (positive semi-definite, a zero pivot that rounding
    leaves a tiny positive residue: L's last entries are square roots of that residue,
    different in every LAPACK kernel)."""
    if op != 'cholesky' or a.dtype.kind != 'f' or a.ndim < 2 or \
            a.shape[-1] != a.shape[-2] or a.shape[-1] < 2 or not np.isfinite(a).all():
        return False
    w = np.linalg.eigvalsh(a.astype(np.float64))
    eps = np.finfo(a.dtype).eps
    return bool((w[..., :1] <= a.shape[-1] * eps * np.abs(w[..., -1:])).any())


def check(program):
    """The divergence of ``program`` as (stage, message), or None."""
    theirs = run(torch, program)
    ours = run(autograd, program)
    loose = any(a.dtype == np.float32 for a in program['inputs'])
    found = compare(ours, theirs, loose=loose)
    if found and found[0].startswith('step'):
        k = int(found[0].split()[1])
        given = program['inputs'][0] if k == 0 else \
            theirs[k - 1][1][1][0] if theirs[k - 1][1][0] == 'value' else None
        if given is not None and given.dtype.kind == 'f' and np.isnan(given).any():
            found = found[0], found[1] + ' [its input holds NaN]'
        elif given is not None and given.dtype.kind == 'c' and not np.isfinite(given).all():
            found = found[0], found[1] + ' [complex input not finite]'
        elif given is not None and given.dtype.kind == 'f' and \
                program['steps'][k][0] in NONFINITE_KNOWN and np.isinf(given).any():
            found = found[0], found[1] + ' [its input holds inf]'
        elif given is not None and _repeated_singular_values(program['steps'][k][0], given):
            found = found[0], found[1] + ' [repeated singular values]'
        elif given is not None and _rank_deficient_qr(program['steps'][k][0], given):
            found = found[0], found[1] + ' [rank-deficient matrix]'
        elif given is not None and _singular_cholesky(program['steps'][k][0], given):
            found = found[0], found[1] + ' [singular matrix]'
        elif given is not None and program['steps'][k][0] == 'argsort' and \
                given.size != np.unique(given).size:
            found = found[0], found[1] + ' [ties]'
    if found and found[0].startswith('step') and 'values differ' in found[1]:
        # Rounding carried in from earlier steps (each within tolerance) can be amplified
        # by an ill-conditioned step (fmod of a large value...): run that step alone on
        # PyTorch's input to it; if the two agree there, the step is right.
        k = int(found[0].split()[1])
        if k > 0 and theirs[k - 1][1][0] == 'value':
            alone = {'inputs': [np.asarray(theirs[k - 1][1][1][0]), program['inputs'][1]],
                     'steps': [program['steps'][k]]}
            again = compare(run(autograd, alone), run(torch, alone), loose=loose)
            if again is None or not again[0].startswith('step'):
                return None
    if found and loose and found[0].startswith('grad') and 'values differ' in found[1] and \
            _float32_rounding(program, ours, theirs, found[0]):
        found = found[0], found[1] + ' [float32 rounding: agrees in float64]'
    return found


def _float32_rounding(program, ours, theirs, stage):
    """Whether a float32 gradient that differs beyond tolerance is rounding under
    cancellation (second derivatives summing terms far larger than their result): the
    same program on the inputs widened to float64 agrees on both sides, and ours is no
    more than 10 times further from that float64 value than PyTorch's is."""
    wide = {'inputs': [a.astype(np.float64) if a.dtype == np.float32 else a
                       for a in program['inputs']], 'steps': program['steps']}
    ours64, theirs64 = run(autograd, wide), run(torch, wide)
    if compare(ours64, theirs64) is not None:
        return False
    got = [dict(r).get(stage) for r in (ours, theirs, theirs64)]
    if any(g is None or g[0] != 'value' for g in got):
        return False
    bound = _qr_conditioning(program, theirs64)
    for a, b, t in zip(*(g[1] for g in got)):
        if a is None or b is None or t is None or a.dtype.kind != 'f' or a.shape != t.shape:
            continue
        with np.errstate(all='ignore'):
            ea, eb = np.abs(a - t), np.abs(b - t)
            scale = 10 * eb + 1e-6 * np.abs(t) + np.finfo(np.float32).tiny
            if np.all((ea <= scale) | (a == t) | (np.isnan(a) & np.isnan(t))):
                continue
            # through an ill-conditioned QR, float32 rounding is amplified by up to
            # cond(A)^2 in a second derivative: which side lands nearer the float64 value
            # is then chance, so compare normwise against that bound (or PyTorch's error)
            if bound and np.isfinite(a).all() and np.isfinite(t).all() and \
                    ea.max() <= 10 * max(eb.max(), bound * np.abs(t).max()):
                continue
            return False
    return True


def _qr_conditioning(program, theirs64):
    """eps(float32) * cond(A)^2 for the worst-conditioned matrix a ``qr`` step of
    ``program`` factors (its float64 run ``theirs64`` gives each step's input), or 0."""
    worst = 0.0
    for k, (name, _) in enumerate(program['steps']):
        if name != 'qr':
            continue
        given = program['inputs'][0] if k == 0 else \
            theirs64[k - 1][1][1][0] if theirs64[k - 1][1][0] == 'value' else None
        if given is None or given.dtype.kind != 'f' or given.ndim < 2 or \
                0 in given.shape or not np.isfinite(given).all():
            continue
        s = np.linalg.svd(given.astype(np.float64), compute_uv=False)
        with np.errstate(all='ignore'):
            worst = max(worst, float(np.max(s[..., 0] / s[..., -1])))
    return np.finfo(np.float32).eps * worst ** 2 if np.isfinite(worst) else 0.0


def divergence_class(program, stage, message):
    """A short key grouping divergences by cause: the stage, the last op, the message's
    gist."""
    gist = re.sub(r'[0-9(][^ ]*', '#', message.split(':')[0])[:50]
    if stage.startswith('step'):
        stage = stage.split(' ', 2)[2]       # the op whose step diverged
    else:
        stage += ' ' + ','.join(sorted({n for n, _ in program['steps']}))
    return f'{stage} | {gist}'


def _beyond_float32(program):
    """Whether a program's inputs or scalars hold magnitudes near or beyond float32's
    normal range (1e38, 1e-40, 1e300 ... and the scalars 1e30, 1e-30 that reach it)."""
    values = [abs(float(v)) for a in program['inputs'] if a.dtype.kind == 'f'
              for v in a.ravel()]
    values += [abs(v) for _, p in program['steps'] for v in p.values()
               if isinstance(v, float)]
    return any(v >= 1e30 or 0 < v <= 1e-30 for v in values if math.isfinite(v))


def known(program, stage, message):
    """Whether a divergence is one that docs/DIFFERENCES.md documents (``KNOWN``).  The
    campaign counts these separately, by whether the program's inputs were finite."""
    ops = {n for n, _ in program['steps']}
    if not is_finite(program) and ops & NONFINITE_KNOWN:
        return True
    if not is_finite(program) and stage.startswith('step') and 'values differ' in message \
            and stage.split(' ', 2)[2] in NONFINITE_ORDER:
        return True
    if not is_finite(program) and ops & NONFINITE_COMPLEX and message.startswith('result') \
            and 'values' in message:
        return True
    # the same, from finite inputs: a complex step whose input overflowed earlier (a
    # division by a float32 subnormal), where PyTorch's add also multiplies the other
    # operand by alpha as a complex number (0 * inf = NaN; docs/DIFFERENCES.md)
    if ops & NONFINITE_COMPLEX and message.startswith('result') and 'values' in message \
            and message.endswith('[complex input not finite]'):
        return True
    if any(bug in message for bug in TORCH_BUGS):
        return True
    # second derivatives where the first is NaN on both sides (docs/DIFFERENCES.md)
    if stage == 'grad2' and message.endswith('[first derivative NaN there]'):
        return True
    # gradients of digamma/polygamma in programs with non-finite inputs: at the poles
    # (trigamma inf here, a large finite residue in PyTorch) and at +inf (the limit -0
    # here, NaN in PyTorch; docs/DIFFERENCES.md)
    if not is_finite(program) and stage.startswith('grad') and \
            ops & {'digamma', 'polygamma', 'mvlgamma'} and 'values differ' in message:
        return True
    # the backward of logdet/slogdet/det at an exactly singular matrix: PyTorch's solve
    # raises LinAlgError even where the gradient reaching it is zero (a trunc after it);
    # ours computes it (docs/DIFFERENCES.md)
    if stage.startswith('grad') and ops & {'logdet', 'slogdet', 'det'} and \
            'The solver failed because the input matrix is singular' in message:
        return True
    # float32 gradients that agree once the inputs are float64: rounding under
    # cancellation, within 10x of PyTorch's own error (docs/DIFFERENCES.md)
    if message.endswith('[float32 rounding: agrees in float64]'):
        return True
    # ops outside the complex subset refuse complex input, or a complex gradient
    # (docs/DIFFERENCES.md)
    if "not implemented for 'Complex" in message or 'complex input (' in message or \
            'the derivative for complex tensors is not implemented' in message:
        return True
    # frexp's gradient g / 2^exponent where the exponent is beyond float32's (PyTorch
    # computes 2^exponent in float32: inf or 0; docs/DIFFERENCES.md)
    if stage.startswith('grad') and 'frexp' in ops and _beyond_float32(program):
        return True
    # trigamma (digamma's derivative) at a pole (0, -1, -2 ...) is inf here, PyTorch's a
    # large finite rounding residue (1.3e15 in float32): a zero gradient times it is NaN
    # here, 0 there (docs/DIFFERENCES.md)
    if stage.startswith('grad') and ops & {'digamma', 'polygamma'} and \
            '(nan) != torch' in message:
        return True
    # prod's gradient where the product underflowed to 0 with no factor 0: the product of
    # the other factors here, PyTorch's prod / x is 0 (docs/DIFFERENCES.md)
    if stage.startswith('grad') and 'prod' in ops and _beyond_float32(program) and \
            re.search(r'!= torch np\.float(32|64)\(-?0\.0\)$', message):
        return True
    # derivatives of det/logdet/slogdet of float32 matrices with entries near float32's
    # limits: the cofactor products overflow (ours NaN; PyTorch's second derivative of
    # det([[1e38, -1], [-1, -1]]) is also off, 0 for 0.74; docs/DIFFERENCES.md)
    if stage.startswith('grad') and ops & {'det', 'logdet', 'slogdet'} and \
            _beyond_float32(program) and 'values differ' in message:
        return True
    # det/logdet/slogdet of matrices with entries near the float's limits: PyTorch's
    # running product of U's diagonal overflows (inf for a det of 4.7e300), or its LU of
    # the transposed layout loses every digit (6.7e30 for 1.849); docs/DIFFERENCES.md
    if stage.startswith('step') and stage.endswith((' det', ' logdet', ' slogdet')) and \
            _beyond_float32(program) and 'values differ' in message:
        return True
    # PyTorch's vectorised fmod and remainder give NaN where a / b overflows (1e300 by
    # 1e-30); ours are the exact remainders (docs/DIFFERENCES.md)
    if stage.startswith('step') and stage.endswith((' fmod', ' remainder')) and \
            message.endswith('(nan)') and _beyond_float32(program):
        return True
    # a decomposition of a matrix that holds NaN or inf made by an earlier step (atanh of
    # a boolean): as for non-finite inputs, LAPACK's result is unspecified (PyTorch's svd
    # may also raise, failing to converge)
    if ops & NONFINITE_KNOWN and message.endswith(('[its input holds NaN]',
                                                   '[its input holds inf]')):
        return True
    return any((s is None or stage.startswith(s)) and op in ops and piece in message
               for s, op, piece in KNOWN)


def replay(path, classes=None):
    """Run again the divergent programs a campaign logged (``AUTOGRAD_FUZZ_LOG``): yields
    ``(class, divergence now or None, program)``, for the classes named (all when None)."""
    import pickle
    with open(path, 'rb') as f:
        while True:
            try:
                key, _, program = pickle.load(f)
            except EOFError:
                return
            if classes is None or key in classes:
                yield key, check(program), program

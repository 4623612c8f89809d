"""``autograd.extend.as_strided`` on NumPy arrays (``backend._numpy_as_strided``): the ndarray
constructor over a C-contiguous array, NumPy's ``as_strided`` otherwise.  The same view as
NumPy's in every case: values, shape, strides, dtype, writability, shared memory."""
import numpy as np
from hypothesis import given, settings, strategies as st
from numpy.lib.stride_tricks import as_strided as numpy_as_strided

from autograd import backend
from autograd.extend import as_strided


def _same_view(a, shape, strides):
    ours, theirs = as_strided(np, a, shape, strides), numpy_as_strided(a, shape, strides)
    assert type(ours) is np.ndarray
    assert ours.shape == theirs.shape and ours.strides == theirs.strides
    assert ours.dtype == theirs.dtype and ours.flags.writeable == theirs.flags.writeable
    np.testing.assert_array_equal(ours, theirs)
    assert ours.size == 0 or np.shares_memory(ours, a)
    return ours


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(1, 40), rows=st.integers(0, 5), cols=st.integers(0, 5),
       row_step=st.integers(0, 6), col_step=st.integers(0, 3),
       dtype=st.sampled_from(['float32', 'float64', 'int64', 'bool']))
def test_overlapping_windows_match_numpy(n, rows, cols, row_step, col_step, dtype):
    # windows within the buffer (overlapping rows, zero strides too)
    a = (np.arange(n) % 7).astype(dtype)
    rows = min(rows, 1 + (n - 1) // max(row_step, 1)) if row_step else rows
    last = (rows - 1) * row_step + (cols - 1) * col_step if rows and cols else 0
    if last >= n:
        cols = 1 if rows else cols
    item = a.itemsize
    _same_view(a, (rows, cols), (row_step * item, col_step * item))


def test_writes_reach_the_array():
    a = np.zeros(10, np.float32)
    v = as_strided(np, a, (3, 4), (8, 4))           # rows overlapping by two elements
    v[2, 3] = 5
    assert a[7] == 5


def test_non_contiguous_and_read_only_arrays():
    a = np.arange(24.0).reshape(4, 6)
    _same_view(a[:, 1:], (3, 2), (48, 8))           # a view with gaps: NumPy's own
    a.flags.writeable = False
    v = _same_view(a, (2, 2), (48, 8))
    assert not v.flags.writeable


def test_a_view_past_the_buffer_takes_numpys(monkeypatch):
    # the constructor refuses a view larger than the array's buffer; NumPy's as_strided
    # makes it (callers size their views; this only keeps the old behaviour)
    a = np.arange(6.0)
    calls = []
    original = np.lib.stride_tricks.as_strided

    def spy(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)
    monkeypatch.setattr(np.lib.stride_tricks, 'as_strided', spy)
    v = backend._numpy_as_strided(a, (2, 3), (8, 8))
    np.testing.assert_array_equal(v, [[0, 1, 2], [1, 2, 3]])
    assert calls == []
    backend._numpy_as_strided(a[:4], (1, 4), (8, 8))     # a contiguous view: the constructor
    assert calls == []
    backend._numpy_as_strided(a[::2], (2,), (16,))         # not contiguous
    assert calls == [(2,)]
    a.flags.writeable = False
    backend._numpy_as_strided(a, (2,), (8,))                # read-only
    assert calls == [(2,), (2,)]


def test_empty_and_zero_dim():
    _same_view(np.zeros((0, 3)), (0, 3), (24, 8))
    _same_view(np.array(2.5), (), ())

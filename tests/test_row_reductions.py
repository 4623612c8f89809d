"""``autograd.extend.row_max`` / ``row_sum`` (issue 19): an array's max and sum along an
axis (keepdims), the max along a short last axis from a Fortran-ordered copy, the float sum
along the last axis as a product with ones.  Against PyTorch's amax/sum on the same values
(the max exactly, NaN included; the sum within its rounding bound), over shapes, axes,
dtypes, row lengths on both sides of the short-row path, non-contiguous and empty arrays,
on the test's device."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from autograd.extend import array_of, row_max, row_sum
from oracle import to_numpy, torch


def _device_array(x):
    """``x`` as an array of the test run's default device (NumPy, or the CUDA stand-in)."""
    return array_of(autograd.tensor(x))


def _host(a):
    return to_numpy(autograd.extend.wrap(a, autograd.extend.device_of_array(a)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(lead=st.lists(st.integers(1, 5), min_size=0, max_size=2), n=st.integers(1, 70),
       dtype=st.sampled_from(['float32', 'float64', 'float16', 'int64']),
       axis_back=st.integers(1, 3), transposed=st.booleans(), nan=st.booleans())
def test_row_max_and_row_sum_match_torch(lead, n, dtype, axis_back, transposed, nan):
    rng = np.random.default_rng(n * 7 + len(lead))
    x = (rng.standard_normal(tuple(lead) + (n,)) * 10).astype(dtype)
    if nan and dtype.startswith('float'):
        x.flat[rng.integers(0, x.size)] = np.nan
    if transposed and x.ndim > 1:
        x = np.swapaxes(x, 0, -1)           # a non-contiguous view once on the device
    a = _device_array(np.ascontiguousarray(x))
    if transposed and a.ndim > 1:
        a = a.swapaxes(0, -1).swapaxes(0, -1)   # (the same values, strided on the device)
    axis = max(-axis_back, -a.ndim)
    ref = torch.tensor(np.ascontiguousarray(x))
    got_max = _host(row_max(a, axis))
    np.testing.assert_array_equal(got_max, torch.amax(ref, dim=axis, keepdim=True).numpy())
    got_sum = _host(row_sum(a, axis))
    want = torch.sum(ref.double() if dtype.startswith('float') else ref, dim=axis,
                     keepdim=True).numpy()
    assert got_sum.shape == want.shape
    if dtype == 'int64':
        np.testing.assert_array_equal(got_sum, want)
    else:
        assert got_sum.dtype == np.dtype(dtype)
        bound = torch.sum(ref.double().abs(), dim=axis, keepdim=True).numpy() * \
            (x.shape[axis] + 1) * np.finfo(dtype).eps
        np.testing.assert_array_equal(np.isnan(got_sum), np.isnan(want))
        ok = ~np.isnan(want)
        assert (np.abs(got_sum[ok] - want[ok]) <= bound[ok]).all()


@pytest.mark.parametrize('shape,axis', [((0, 5), -1), ((3, 0), -1), ((4, 0, 6), 1), ((7,), 0),
                                        ((), None), ((2, 3), None)])
def test_row_reductions_of_empty_0d_and_whole_arrays(shape, axis):
    """Empty rows sum to 0 (a max over an empty axis raises, as NumPy's and PyTorch's);
    axis None reduces the whole array (keepdims)."""
    x = np.arange(int(np.prod(shape)), dtype='float32').reshape(shape)
    a = _device_array(x)
    s = _host(row_sum(a, axis))
    np.testing.assert_array_equal(s, x.sum(axis=axis, keepdims=True))
    if x.size == 0 and (axis is None or x.shape[axis] == 0):
        with pytest.raises(ValueError):
            row_max(a, axis)
    else:
        np.testing.assert_array_equal(_host(row_max(a, axis)), x.max(axis=axis, keepdims=True))

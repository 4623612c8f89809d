"""Creation, sampling and conversion of user data against PyTorch: the exception types
(and messages naming the offending argument) for bad sizes, values, ranges and dtypes."""
import sys

import numpy as np
import pytest

import autograd
from oracle import each_library, torch

# name -> (fn(lib), our exception type, a regex our message matches)
BAD_ARGUMENTS = {
    'full_str': (lambda lib: lib.full((2,), 'a'), TypeError, r"full\(\).*fill_value.*str"),
    'full_none': (lambda lib: lib.full((2,), None), TypeError, 'fill_value.*NoneType'),
    'full_like_str': (lambda lib: lib.full_like(lib.zeros(2), 'a'), TypeError,
                      r'full_like\(\).*str'),
    'tensor_object': (lambda lib: lib.tensor(object()), RuntimeError, 'infer dtype of object'),
    'tensor_none_in_list': (lambda lib: lib.tensor([1, None]), RuntimeError,
                            'infer dtype of NoneType'),
    'as_tensor_dict': (lambda lib: lib.as_tensor({}), RuntimeError, 'infer dtype of dict'),
    'linspace_negative_steps': (lambda lib: lib.linspace(0, 1, -1), RuntimeError,
                                'steps must be non-negative'),
    'linspace_float_steps': (lambda lib: lib.linspace(0, 1, 2.5), TypeError, 'steps'),
    'eye_negative_n': (lambda lib: lib.eye(-1), RuntimeError, 'n must be greater or equal to 0'),
    'eye_negative_m': (lambda lib: lib.eye(2, -1), RuntimeError,
                       'm must be greater or equal to 0, got -1'),
    'eye_float': (lambda lib: lib.eye(2.5), TypeError, 'must be int, not float'),
    'randint_empty_range': (lambda lib: lib.randint(5, 2, (3,)), RuntimeError,
                            'from=5 >= to=2'),
    'randint_one_bound': (lambda lib: lib.randint(0, (3,)), RuntimeError, 'from=0 >= to=0'),
    'randint_like_empty_range': (lambda lib: lib.randint_like(lib.zeros(2), 5, 2),
                                 RuntimeError, 'from=5 >= to=2'),
    'random__empty_range': (lambda lib: lib.zeros(2).random_(5, 5), RuntimeError,
                            'from=5 >= to=5'),
    'arange_wrong_sign': (lambda lib: lib.arange(10, 0, 1), RuntimeError,
                          'inconsistent with step sign'),
    'arange_wrong_sign_float': (lambda lib: lib.arange(0.0, 1.0, -0.5), RuntimeError,
                                'inconsistent with step sign'),
    'arange_infinite': (lambda lib: lib.arange(0, float('inf')), RuntimeError,
                        'unsupported range'),
    'bernoulli__above_one': (lambda lib: lib.zeros(3).bernoulli_(1.5), RuntimeError,
                             r'bernoulli_ expects p to be in \[0, 1\], but got p=1.5'),
    'bernoulli__negative': (lambda lib: lib.zeros(3).bernoulli_(-0.1), RuntimeError, 'p=-0.1'),
    'bernoulli__nan': (lambda lib: lib.zeros(3).bernoulli_(float('nan')), RuntimeError, 'p=nan'),
    'bernoulli__tensor_p': (lambda lib: lib.zeros(2).bernoulli_(lib.tensor([0.5, 2.0])),
                            RuntimeError, 'bernoulli.*p_in >= 0'),
    'bernoulli_tensor_p': (lambda lib: lib.bernoulli(lib.tensor([0.5, -1.0])), RuntimeError,
                           'bernoulli.*p_in >= 0'),
    'uniform__reversed': (lambda lib: lib.zeros(3).uniform_(1, 0), RuntimeError,
                          'from=1 > to=0'),
    'uniform__infinite': (lambda lib: lib.zeros(3).uniform_(0, float('inf')), RuntimeError,
                          'out of bounds'),
    'normal__negative_std': (lambda lib: lib.zeros(3).normal_(0, -1), RuntimeError,
                             'normal expects std >= 0.0, but found std -1'),
    'normal_negative_std': (lambda lib: lib.normal(0.0, -1.0, (3,)), RuntimeError,
                            'std >= 0.0'),
    'normal_negative_std_tensor': (lambda lib: lib.normal(lib.zeros(2), lib.tensor([1., -1.])),
                                   RuntimeError, 'all elements of std >= 0.0'),
    'normal_two_numbers_no_size': (lambda lib: lib.normal(0.0, 1.0), TypeError,
                                   "normal\\(\\): argument 'mean' \\(position 1\\) must be Tensor"),
    'exponential__zero_rate': (lambda lib: lib.zeros(3).exponential_(0), RuntimeError,
                               'lambda > 0.0, but found lambda=0'),
    'tensor_dtype_name': (lambda lib: lib.tensor([1.], dtype='float32'), TypeError,
                          r"tensor\(\): argument 'dtype' must be .*dtype, not str"),
    'as_tensor_dtype_name': (lambda lib: lib.as_tensor([1.], dtype='float32'), TypeError,
                             'as_tensor.*not str'),
    'zeros_dtype_name': (lambda lib: lib.zeros(2, dtype='int64'), TypeError, 'zeros.*not str'),
    'zeros_like_numpy_dtype': (lambda lib: lib.zeros_like(lib.zeros(2), dtype=np.float32),
                               TypeError, 'zeros_like.*not type'),
    'arange_dtype_name': (lambda lib: lib.arange(3, dtype='int64'), TypeError, 'arange'),
    'randint_dtype_name': (lambda lib: lib.randint(3, (2,), dtype='int64'), TypeError,
                           'randint'),
    'manual_seed_too_large': (lambda lib: lib.manual_seed(2 ** 64), ValueError, 'out of range'),
    'manual_seed_too_small': (lambda lib: lib.manual_seed(-2 ** 63 - 1), ValueError,
                              'out of range'),
    'tensor_nan_to_int64': (lambda lib: lib.tensor([float('nan')], dtype=lib.int64),
                            RuntimeError, 'cannot be converted to type int64'),
    'tensor_nan_to_int64_0d': (lambda lib: lib.tensor(float('nan'), dtype=lib.int64),
                               RuntimeError, 'cannot be converted to type int64'),
    'tensor_inf_to_int32': (lambda lib: lib.tensor([1, float('inf')], dtype=lib.int32),
                            RuntimeError, 'cannot be converted to type int32'),
    'tensor_overflow_int8': (lambda lib: lib.tensor([300], dtype=lib.int8), RuntimeError,
                             'cannot be converted to type int8'),
    'tensor_overflow_uint8': (lambda lib: lib.tensor([256], dtype=lib.uint8), RuntimeError,
                              'cannot be converted to type uint8'),
    'tensor_ragged_int': (lambda lib: lib.tensor([[1], [1, 2]], dtype=lib.int32), ValueError,
                          'sequence'),
    'full_nan_int64': (lambda lib: lib.full((2,), float('nan'), dtype=lib.int64),
                       RuntimeError, 'cannot be converted to type int64'),
    'full_like_inf_int32': (lambda lib: lib.full_like(lib.zeros(2, dtype=lib.int32),
                                                      float('inf')),
                            RuntimeError, 'cannot be converted to type int32'),
    'fill__nan_int64': (lambda lib: lib.zeros(2, dtype=lib.int64).fill_(float('nan')),
                        RuntimeError, 'cannot be converted to type int64'),
    'fill__overflow_int8': (lambda lib: lib.zeros(2, dtype=lib.int8).fill_(300),
                            RuntimeError, 'cannot be converted to type int8'),
}


@pytest.mark.parametrize('name', sorted(BAD_ARGUMENTS))
def test_bad_arguments_raise_as_pytorch(name):
    raises_as_pytorch(*BAD_ARGUMENTS[name])


def raises_as_pytorch(fn, exc, match):
    """PyTorch (when installed) and ours raise ``exc``; ours with a message matching ``match``."""
    for lib in each_library(torch, autograd):
        with pytest.raises(exc, match=match if lib is autograd else None):
            fn(lib)


@pytest.mark.parametrize('lo_hi', [(0, 0), (0.0, 0.0), (3, 0, -1), (0.0, 1.0, 0.25)])
def test_arange_within_bounds(lo_hi):
    for lib in each_library(torch, autograd):
        assert lib.arange(*lo_hi).tolist() == np.arange(*lo_hi).tolist()


@pytest.mark.parametrize('seed', [-1, -2 ** 63, 2 ** 64 - 1, 0, 7])
def test_manual_seed_takes_pytorchs_range(seed):
    """Negative seeds wrap around to their two's complement, as PyTorch's initial_seed shows."""
    if 'cupy_stand_in' in sys.modules and not 0 <= seed < 2 ** 32:
        pytest.skip("the CuPy stand-in's cupy.random.seed is NumPy's (seeds below 2**32); "
                    "CuPy's takes 64-bit seeds")
    for lib in each_library(torch, autograd):
        assert lib.manual_seed(seed).initial_seed() == seed % 2 ** 64
        assert lib.Generator().manual_seed(seed).initial_seed() == seed % 2 ** 64
        assert lib.initial_seed() == seed % 2 ** 64
    assert autograd.rand(2).tolist() == (autograd.manual_seed(seed), autograd.rand(2))[1].tolist()
    autograd.manual_seed(0)


def test_valid_fills_still_fill():
    for lib in each_library(torch, autograd):
        t = lib.zeros(1000)
        assert t.uniform_(1, 1).tolist() == [1.0] * 1000
        assert t.normal_(2, 0).tolist() == [2.0] * 1000
        assert set(t.bernoulli_(1.0).tolist()) == {1.0}
        assert set(t.bernoulli_(lib.zeros(1000)).tolist()) == {0.0}
        assert lib.tensor([1.], dtype=float).dtype == lib.float64
        assert lib.zeros(1, dtype=int).dtype == lib.int64


def test_integer_conversions_in_range():
    """Floats truncate, and negative integers wrap around into unsigned types, as PyTorch's."""
    for lib in each_library(torch, autograd):
        assert lib.tensor([-1, 2], dtype=lib.uint8).tolist() == [255, 2]
        assert lib.tensor([2.7, -2.7], dtype=lib.int64).tolist() == [2, -2]
        assert lib.tensor([float('nan')], dtype=lib.bool).tolist() == [True]
        assert lib.full((2,), -1, dtype=lib.uint8).tolist() == [255, 255]
        assert lib.full((1,), 2.5, dtype=lib.int64).tolist() == [2]
        assert lib.zeros(2, dtype=lib.uint8).fill_(-1).tolist() == [255, 255]
        assert lib.zeros(1, dtype=lib.int64).fill_(lib.tensor(3.7)).tolist() == [3]


def test_normal_std_defaults_to_one_with_a_tensor_mean():
    """torch.normal(mean_tensor): std 1 (MorvanZhou's 306_optimizer.py calls it so)."""
    autograd.manual_seed(0)
    z = autograd.normal(autograd.full((20000,), 3.0, dtype=autograd.float64))
    assert z.shape == (20000,) and z.dtype == autograd.float64
    assert abs(z.mean().item() - 3.0) < 0.05 and abs(z.std().item() - 1.0) < 0.05
    assert autograd.normal(autograd.zeros(2, 3), 2.0).shape == (2, 3)
    assert autograd.normal(0.0, autograd.ones(4)).shape == (4,)

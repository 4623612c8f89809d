"""The backend's bridges over array-library gaps, on an array module that lacks the feature.

CuPy and its stand-ins miss some NumPy features (``multiply.at``, ``as_strided``,
``Generator.permutation``); each backend function then takes a fallback, checked here
against NumPy's own feature on the same data.
"""
import types

import numpy as np
import pytest

from autograd import backend


def numpy_without(*missing):
    """A module exposing NumPy's functions except ``missing`` (ufunc ``at``s: 'add.at')."""
    xp = types.ModuleType('numpy_without_' + '_'.join(m.replace('.', '_') for m in missing))
    for name in dir(np):
        if not name.startswith('__'):
            setattr(xp, name, getattr(np, name))
    for name in missing:
        if name.endswith('.at'):
            # a ufunc whose ``at`` raises, as most of CuPy's do
            ufunc = getattr(np, name[:-3])

            class NoAt:
                __call__ = staticmethod(ufunc)

                def at(self, *args):
                    raise NotImplementedError(f'`{ufunc.__name__}.at` is not supported yet')
            setattr(xp, name[:-3], NoAt())
        else:
            delattr(xp, name)
    return xp


KEYS = [
    (np.array([0, 2, 0, 0]),),                                   # repeated rows
    (np.array([[1, 1], [0, 1]]), np.array([[2, 2], [0, 2]])),    # repeated elements
    (slice(None), np.array([0, 0, 1])),                          # slice and repeats
]


@pytest.mark.parametrize('key', KEYS)
def test_scatter_add_without_add_at_sums_repeats(key):
    out, expected = np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4)
    values = np.random.default_rng(0).standard_normal(expected[key].shape)
    np.add.at(expected, key, values)
    backend.scatter_add(numpy_without('add.at'), out, key, values)
    np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize('key', KEYS)
def test_scatter_multiply_without_multiply_at_multiplies_repeats(key):
    out, expected = np.arange(1.0, 13.0).reshape(3, 4), np.arange(1.0, 13.0).reshape(3, 4)
    values = np.random.default_rng(1).uniform(0.5, 2.0, expected[key].shape)
    np.multiply.at(expected, key, values)
    backend.scatter_multiply(numpy_without('multiply.at'), out, key, values)
    np.testing.assert_allclose(out, expected)


def test_scatter_into_integers_without_add_at():
    out = np.zeros(3, np.int64)
    backend.scatter_add(numpy_without('add.at'), out, np.array([1, 1, 2]), np.array([5, 6, 7]))
    assert out.tolist() == [0, 11, 7] and out.dtype == np.int64


def test_as_strided_is_none_without_the_feature_and_a_view_with_it():
    a = np.arange(6.0)
    assert backend.as_strided(numpy_without('lib'), a, (2, 2), (8, 8)) is None
    view = backend.as_strided(np, a, (2, 2), (8, 8))
    assert view.tolist() == [[0.0, 1.0], [1.0, 2.0]] and np.shares_memory(view, a)


class CupyLikeGenerator:
    """A generator with CuPy's methods only: no ``permutation``, no ``dtype=`` needed."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def random(self, size):
        return self._rng.random(size)

    def standard_normal(self, size):
        return self._rng.standard_normal(size)


def test_permutation_without_generator_permutation():
    p = backend.permutation(CupyLikeGenerator(0), np, 100)
    assert sorted(p.tolist()) == list(range(100)) and p.tolist() != list(range(100))


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_samples_in_each_dtype_from_a_generator_without_dtype(dtype):
    u = backend.random_sample(CupyLikeGenerator(0), 'uniform', (10000,), np.dtype(dtype))
    z = backend.random_sample(CupyLikeGenerator(0), 'normal', (3,), np.dtype(dtype))
    assert u.dtype == dtype and z.dtype == dtype
    assert 0.0 <= u.min() and u.max() < 1.0


def test_half_uniform_samples_stay_below_one():
    # float32 draws just below 1 round to 1.0 in float16; rand must stay in [0, 1)
    u = backend.random_sample(np.random.default_rng(0), 'uniform', (1 << 20,),
                              np.dtype(np.float16))
    assert u.max() < 1.0

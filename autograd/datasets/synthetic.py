"""Seeded synthetic data sets: the same ``seed`` gives the same arrays on every machine
(NumPy's ``default_rng``, PCG64)."""
import numpy


def make_xor(n=200, noise=0.1, seed=0):
    """XOR: ``n // 4`` points around each corner of the square [-1, 1]^2 (Gaussian noise
    of standard deviation ``noise``); the label is 1 where the corner's coordinates have
    the same sign, else 0, so no straight line separates the classes.

    Returns ``X`` float32 (4 * (n // 4), 2) and ``y`` int64 in {0, 1}, shuffled.
    """
    rng = numpy.random.default_rng(seed)
    corners = numpy.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    which = rng.permutation(numpy.repeat(numpy.arange(4), n // 4))
    X = corners[which] + noise * rng.standard_normal((len(which), 2))
    y = (corners[which, 0] * corners[which, 1] > 0).astype(numpy.int64)
    return X.astype(numpy.float32), y


def make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (the classic non-linear toy problem):
    point i of class k sits at radius r = i / n_per_class and angle
    4 r + 2 pi k / n_classes (+ Gaussian noise of std ``noise`` on the angle).

    Returns ``X`` float32 (n_per_class * n_classes, 2) and ``y`` int64, ordered by class.
    """
    rng = numpy.random.default_rng(seed)
    r = numpy.tile(numpy.linspace(0.0, 1.0, n_per_class), n_classes)
    y = numpy.repeat(numpy.arange(n_classes), n_per_class)
    theta = 4.0 * r + 2.0 * numpy.pi * y / n_classes + noise * rng.standard_normal(len(r))
    X = numpy.stack([r * numpy.sin(theta), r * numpy.cos(theta)], axis=1)
    return X.astype(numpy.float32), y.astype(numpy.int64)


def make_blobs(n=300, centers=3, n_features=2, std=1.0, box=(-10.0, 10.0), seed=0):
    """Isotropic Gaussian clusters: ``centers`` centres drawn uniformly in ``box`` (or
    given as an array (k, n_features)), ``n`` points split evenly among them, each with
    standard deviation ``std``.

    Returns ``X`` float32 (n, n_features) and ``y`` int64 (n,), the cluster index, shuffled.
    """
    rng = numpy.random.default_rng(seed)
    if numpy.ndim(centers) == 0:
        centers = rng.uniform(box[0], box[1], size=(int(centers), n_features))
    centers = numpy.asarray(centers, dtype=numpy.float64)
    y = rng.permutation(numpy.arange(n) % len(centers))
    X = centers[y] + std * rng.standard_normal((n, centers.shape[1]))
    return X.astype(numpy.float32), y.astype(numpy.int64)


def make_low_rank(rows=100, cols=80, rank=5, noise=0.0, seed=0):
    """A rank-``rank`` matrix ``M = U V^T`` plus optional Gaussian noise of std ``noise``,
    with U (rows, rank) and V (cols, rank) standard normal scaled by rank^-1/4 so the
    entries of U V^T have unit variance.  For matrix factorisation and PCA checks.

    Returns ``M`` float32 (rows, cols), ``U`` and ``V`` (the noiseless factors, float32).
    """
    rng = numpy.random.default_rng(seed)
    scale = rank ** -0.25
    U = scale * rng.standard_normal((rows, rank))
    V = scale * rng.standard_normal((cols, rank))
    M = U @ V.T + noise * rng.standard_normal((rows, cols))
    return M.astype(numpy.float32), U.astype(numpy.float32), V.astype(numpy.float32)

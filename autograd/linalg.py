"""``autograd.linalg``: PyTorch's ``torch.linalg`` namespace.

The ops live in ``autograd/ops/decomposition.py`` (and ``ops/linalg.py`` for products);
this module only names them as ``torch.linalg`` does.
"""
from .ops.decomposition import (LinAlgError, det, inv, inv_ex, linalg_cholesky as cholesky,
                                cholesky_ex, linalg_slogdet as slogdet, solve,
                                solve_triangular)
from .ops.linalg import matmul

__all__ = ['LinAlgError', 'inv', 'inv_ex', 'det', 'slogdet', 'solve', 'solve_triangular',
           'cholesky', 'cholesky_ex', 'matmul']

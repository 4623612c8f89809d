"""``autograd.linalg``: PyTorch's ``torch.linalg`` namespace.

The ops live in ``autograd/ops/decomposition.py`` (and ``ops/linalg.py`` for products);
this module only names them as ``torch.linalg`` does.  ``eig`` and ``eigvals`` raise
``NotImplementedError``: their results are complex, and the library has no complex dtypes.
"""
from .ops.decomposition import (LinAlgError, cholesky_ex, cond, det, eig, eigh, eigvals,
                                eigvalsh, householder_product, inv, inv_ex, lstsq,
                                matrix_norm, matrix_rank, multi_dot, norm, pinv, solve,
                                solve_triangular, svdvals, vector_norm)
from .ops.decomposition import (linalg_cholesky as cholesky, linalg_cross as cross,
                                linalg_matrix_exp as matrix_exp,
                                linalg_matrix_power as matrix_power, linalg_qr as qr,
                                linalg_slogdet as slogdet, linalg_svd as svd,
                                linalg_vander as vander)
from .ops.linalg import matmul

__all__ = ['LinAlgError', 'inv', 'inv_ex', 'det', 'slogdet', 'solve', 'solve_triangular',
           'lstsq', 'cholesky', 'cholesky_ex', 'qr', 'svd', 'svdvals', 'eig', 'eigvals', 'eigh',
           'eigvalsh', 'matrix_norm', 'vector_norm', 'norm', 'cond', 'pinv', 'matrix_rank',
           'matrix_exp', 'matrix_power', 'cross', 'multi_dot', 'householder_product', 'vander',
           'matmul']

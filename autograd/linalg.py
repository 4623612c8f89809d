"""``autograd.linalg``: PyTorch's ``torch.linalg`` namespace.

The ops live in ``autograd/ops/decomposition.py``, the composites in
``ops/linalg_composites.py`` (and products in ``ops/linalg.py``);
this module only names them as ``torch.linalg`` does.  ``eig`` and ``eigvals`` return
complex tensors (``ops/complex.py``); the other functions take real (float) tensors only.
"""
from .ops.decomposition import (LinAlgError, cholesky_ex, det, eig, eigh, eigvals, eigvalsh,
                                inv, inv_ex, lstsq, matrix_rank, pinv, solve, solve_ex,
                                solve_triangular, svdvals)
from .ops.decomposition import (linalg_cholesky as cholesky, linalg_matrix_exp as matrix_exp,
                                linalg_qr as qr, linalg_slogdet as slogdet, linalg_svd as svd)
from .ops.linalg_composites import (cond, householder_product, matrix_norm, multi_dot, norm,
                                    tensorinv, tensorsolve, vecdot, vector_norm)
from .ops.linalg_composites import linalg_diagonal as diagonal
from .ops.linalg_composites import (linalg_cross as cross,
                                    linalg_matrix_power as matrix_power,
                                    linalg_vander as vander)
from .ops.linalg import matmul

__all__ = ['LinAlgError', 'inv', 'inv_ex', 'det', 'slogdet', 'solve', 'solve_triangular',
           'lstsq', 'cholesky', 'cholesky_ex', 'qr', 'svd', 'svdvals', 'eig', 'eigvals', 'eigh',
           'eigvalsh', 'matrix_norm', 'vector_norm', 'norm', 'cond', 'pinv', 'matrix_rank',
           'matrix_exp', 'matrix_power', 'cross', 'multi_dot', 'householder_product', 'vander',
           'matmul', 'solve_ex', 'tensorinv', 'tensorsolve', 'vecdot', 'diagonal']

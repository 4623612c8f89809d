"""The ops layer: primitive differentiable ops, one definition each.

Each module defines op classes (forward on arrays, backward with tensor ops), the public
functions built on them (``FUNCTIONS``), the subset bound as Tensor methods
(``METHODS``), in-place forms (``INPLACE``: name -> op class) and dunders/properties
(``OPERATORS``: name -> function or property).
"""
from . import elementwise, reduction, shape, indexing, linalg
from . import decomposition, linalg_composites
from . import special, sampling

OP_MODULES = [elementwise, reduction, shape, indexing, linalg]
OP_MODULES += [decomposition, linalg_composites]
OP_MODULES += [special, sampling]
from . import complex, complex_support  # noqa: E402  complex tensors (ops/complex.py)
OP_MODULES += [complex]

"""The ops layer: primitive differentiable ops, one definition each.

Each module defines op classes (forward on arrays, backward with tensor ops), the public
functions built on them (``FUNCTIONS``), the subset bound as Tensor methods
(``METHODS``) and in-place forms (``INPLACE``).
"""
from . import elementwise, reduction, shape

OP_MODULES = [elementwise, reduction, shape]

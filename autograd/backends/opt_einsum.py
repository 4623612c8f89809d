"""``backends.opt_einsum``: whether ``einsum`` plans its contraction order with the
``opt_einsum`` package.  This project's ``einsum`` is NumPy's/CuPy's own, so
``is_available()`` is False and ``enabled``/``strategy`` change nothing."""
__all__ = ['is_available', 'get_opt_einsum', 'enabled', 'strategy']

enabled = False
strategy = None


def is_available():
    """False: ``einsum`` here does not go through opt_einsum."""
    return False


def get_opt_einsum():
    return None

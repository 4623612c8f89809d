"""PyTorch's names of the scalar types, as its error messages spell them."""

__all__ = ['scalar_name']

_NAMES = {'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte',
          'bool': 'Bool', 'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}


def scalar_name(dtype):
    """'Long', 'Float' ... for a dtype of autograd or of the array library."""
    return _NAMES.get(dtype.name, dtype.name)

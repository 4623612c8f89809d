"""Turning a list of samples into a batch (as ``torch.utils.data._utils.collate``).

``default_collate`` recurses through the structure of the first sample: tensors are
stacked along a new first dimension, NumPy arrays likewise after conversion, Python
floats become a float64 tensor, ints an int64 tensor (bools a bool tensor), strings stay
a list; dicts, named tuples and sequences are collated field by field.
"""
import collections.abc
import copy
import re

import numpy

from ...tensor import Tensor
from ... import creation
from ...ops.shape import stack

__all__ = ['default_collate', 'default_convert', 'collate', 'default_collate_fn_map']

_np_str_obj = re.compile(r'[SaUO]')
default_collate_err_msg_format = ('default_collate: batch must contain tensors, numpy arrays, '
                                  'numbers, dicts or lists; found {}')


def default_convert(data):
    """Convert NumPy arrays and scalars (also inside containers) to tensors; no batching."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == 'numpy' and elem_type.__name__ not in ('str_', 'string_'):
        if elem_type.__name__ == 'ndarray' and _np_str_obj.search(data.dtype.str) is not None:
            return data
        return creation.as_tensor(numpy.asarray(data))      # a 0-d array keeps its dtype
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values):
    """A mapping of ``like``'s type holding ``values`` (a plain dict if that type cannot)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples), dispatching leaf types through
    ``collate_fn_map`` (type or tuple of types -> ``fn(batch, collate_fn_map=...)``)."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: collate([d[k] for d in batch],
                                                  collate_fn_map=collate_fn_map) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):        # namedtuple
        return elem_type(*(collate(list(s), collate_fn_map=collate_fn_map)
                           for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError('each element in list of batch should be of equal size')
        fields = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        return _rebuild_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _np_str_obj.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([creation.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return creation.as_tensor(numpy.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    # via a float64 array: the values must not pass through the default float dtype
    return creation.tensor(numpy.asarray(batch, dtype=numpy.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    return creation.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    numpy.ndarray: collate_numpy_array_fn,
    (numpy.bool_, numpy.number, numpy.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring): for example
    ``[(x0, 1), (x1, 0)]`` with ``x_i`` of shape (3,) gives ``[X, tensor([1, 0])]`` with
    ``X`` of shape (2, 3)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)

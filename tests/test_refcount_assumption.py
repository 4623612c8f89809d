"""The interpreter behaviour that the engine's in-place gradient sums rest on.

The backward sweep adds a gradient into the array it already holds (instead of allocating
a sum) only when ``getrefcount(old) - BIAS`` (``autograd.refcount``) says that nothing
but the engine's buffer and one local variable hold that array (2).  ``BIAS`` is what
getrefcount adds to the true count: 1 on CPython 3.10 to 3.13 (its own argument), 0 on
an interpreter that lends the argument.  A leaf takes the gradient array itself as
``.grad`` under the same rule.  If an array that something else also holds (a list, a
dict, another name, an attribute, a view) reported no more than that, the sweep would
write into an array that others see.

Only the standard library, NumPy and the refcount module are needed: this file runs
under each supported Python on its own (python -m pytest tests/test_refcount_assumption.py).
"""
import sys

import numpy as np
import pytest

from autograd.refcount import BIAS, refs

_LOCAL = BIAS + 1       # what getrefcount reports for an object one local variable holds


def held_by_one_local():
    a = np.zeros(3)
    return sys.getrefcount(a)


def held_by_a_buffer_and_a_local():
    """The sweep's case: the array is a value of its gradient buffers and the local
    ``old``."""
    buffers = {'node': np.zeros(3)}
    old = buffers['node']
    return sys.getrefcount(old)


def count_of_an_argument(g):
    return sys.getrefcount(g)


def held_by_a_local_and_passed_on(also_kept=False):
    """The leaf's case: the sweep's local passes the array to the accumulating function
    (and, with ``also_kept``, a list holds it too)."""
    g = np.zeros(3)
    keep = [g] if also_kept else []
    count = count_of_an_argument(g)
    del keep
    return count


class Holder:
    pass


def with_another_holder(how):
    """The sweep's case, with one more holder of the array besides the buffer and local."""
    buffers = {'node': np.zeros(3)}
    old = buffers['node']
    keep = []
    if how == 'list':
        keep.append(old)
    elif how == 'dict':
        keep.append({'saved': old})
    elif how == 'name':
        keep = old                              # noqa: F841 (another name for the array)
    elif how == 'attribute':
        h = Holder()
        h.data = old
        keep.append(h)
    elif how == 'view':
        keep.append(old[1:])                    # a view's base is the array
    elif how == 'tuple':
        keep.append((old, None))
    return sys.getrefcount(old)


def test_the_calibration_is_what_a_local_reports():
    assert held_by_one_local() == _LOCAL


def test_refs_counts_the_callers_holders():
    a = np.zeros(3)
    alone = refs(a)
    kept = [a]
    with_list = refs(a)
    del kept
    # 3.10's caller keeps the argument on its stack too: counted one high, never low
    extra = 0 if sys.version_info >= (3, 11) else 1
    assert (alone, with_list) == (1 + extra, 2 + extra)


def test_the_calibration_on_the_supported_pythons():
    if sys.implementation.name == 'cpython' and sys.version_info < (3, 14):
        assert BIAS == 1                        # getrefcount's own argument
    else:
        assert BIAS in (0, 1)


def test_an_array_held_by_the_buffer_and_a_local_allows_the_in_place_sum():
    assert held_by_a_buffer_and_a_local() == _LOCAL + 1


def test_an_array_passed_on_by_the_sweep_may_become_the_leaf_grad():
    count = held_by_a_local_and_passed_on()
    if sys.version_info >= (3, 11):
        assert count <= _LOCAL + 1
    else:       # 3.10's caller keeps the argument on its stack too: the leaf copies
        assert count == _LOCAL + 2


def test_an_array_passed_on_and_held_elsewhere_is_never_taken():
    assert held_by_a_local_and_passed_on(also_kept=True) > _LOCAL + 1


@pytest.mark.parametrize('how', ['list', 'dict', 'name', 'attribute', 'view', 'tuple'])
def test_an_array_held_by_anything_else_reports_more(how):
    assert with_another_holder(how) > _LOCAL + 1

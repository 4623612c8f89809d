"""Reference counts: the one place that depends on a CPython detail.

Summing gradients in place saves an allocation per fan-in, but is safe only when nothing
else holds the array.  ``sys.getrefcount`` answers that, but what it reports for the same
situation changes between Python versions (3.14 lends the argument instead of taking a
reference; 3.10 keeps the caller's copy of an argument on its stack during a call).  So
``refs`` is calibrated at import by calling it the way its users do: on an object that
the caller holds in exactly one local variable, it answers 1.  Where a version counts
more references than exist, ``refs`` is too high and the caller copies: slower, never
wrong.  ``tests/test_refcount_assumption.py`` checks the calibration.
"""
import sys

__all__ = ['refs']

_getrefcount = sys.getrefcount
_OFFSET = 0


def refs(a):
    """How many references to ``a`` exist, counting the caller's local variable that
    holds it as one (a caller holding ``a`` in one local and one dict gets 2)."""
    return _getrefcount(a) - _OFFSET


def _calibrate():
    x = object()            # held by this one local variable, nothing else
    return refs(x) - 1


_OFFSET = _calibrate()

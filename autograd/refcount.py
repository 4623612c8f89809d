"""Reference counts: the one place that depends on a CPython detail.

Summing gradients in place saves an allocation per fan-in, but is safe only when nothing
else holds the array.  ``sys.getrefcount`` answers that, but what it reports for the same
situation changes between Python versions (up to 3.13 the call's own argument counts one
more; 3.14 lends the argument instead).  ``BIAS`` is calibrated at import by asking about
an object that one local variable holds, so that ``getrefcount(a) - BIAS`` is the number
of references to ``a``, counting the local that the caller passes as one.  Where a
version reports more references than exist (3.10 also counts a caller's argument still
on its stack during a call), the count is too high and the caller copies: slower, never
wrong.  ``tests/test_refcount_assumption.py`` checks the calibration.
"""
import sys

__all__ = ['getrefcount', 'BIAS', 'refs']

getrefcount = sys.getrefcount   # (a C function: the hot paths call it directly)


def _bias():
    x = object()                # held by this one local variable, nothing else
    return getrefcount(x) - 1


BIAS = _bias()


def refs(a):
    """How many references to ``a`` exist besides this call's own argument: a caller
    holding ``a`` in one local and one dict gets 2 (on 3.10, possibly 3: see above)."""
    return getrefcount(a) - BIAS - 1

import os
import sys
import warnings

import pytest

# the shared oracle lives one folder up (tests/oracle.py)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def no_numpy_warnings():
    """A NumPy RuntimeWarning (0/0, overflow) fails the test; PyTorch gives none."""
    with warnings.catch_warnings():
        warnings.simplefilter('error', RuntimeWarning)
        yield

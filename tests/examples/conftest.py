"""The example scripts need the examples extra (pip install -e .[examples]): a test that
stops on one of its packages missing, or on a data set that one of them ships, is skipped,
saying which."""
import importlib.util
import re

import pytest

EXTRAS = ('tqdm', 'matplotlib', 'mlxtend', 'sklearn', 'graphviz', 'statsmodels', 'gymnasium',
          'networkx')


def _missing_extra(error):
    """The examples-extra package whose absence raised ``error``, or None."""
    if isinstance(error, ModuleNotFoundError):
        name = (error.name or '').split('.')[0]
    elif type(error).__name__ == 'MissingGraphviz':    # autograd.viz drawing without it
        name = 'graphviz'
    elif isinstance(error, FileNotFoundError):     # a data set shipped inside a package
        found = re.search(r"ships inside the Python package '(\w+)'", str(error))
        name = found and found.group(1)
    else:
        return None
    if name in EXTRAS and importlib.util.find_spec(name) is None:
        return name
    return None


def _skip_if_an_extra_is_missing():
    try:
        return (yield)
    except (ImportError, FileNotFoundError) as e:
        name = _missing_extra(e)
        if name is None:
            raise
        pytest.skip(f"needs the examples extra: '{name}' is not installed "
                    '(pip install -e .[examples])')


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _skip_if_an_extra_is_missing())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _skip_if_an_extra_is_missing())

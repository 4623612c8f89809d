import os
import sys

import pytest

# One BLAS thread: the tests' matrices are small, and PyTorch (the oracle) runs its own
# threads beside NumPy's; oversubscribed OpenBLAS threads made small products 10-100x slower.
for _var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# CI has no GPU: with CUNUMPY_FAKE_CUPY=1 the `cuda` device runs on a CuPy stand-in
# (tests/cuda/stand_in), installed before anything imports cupy, here and in every child
# Python process the tests start.
if os.environ.get('CUNUMPY_FAKE_CUPY', '').strip().lower() in ('1', 'true', 'yes'):
    _STAND_IN = os.path.join(ROOT, 'tests', 'cuda', 'stand_in')
    sys.path.insert(0, _STAND_IN)
    os.environ['PYTHONPATH'] = os.pathsep.join(
        p for p in (_STAND_IN, os.environ.get('PYTHONPATH')) if p)
    import cupy_stand_in
    cupy_stand_in.install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Without PyTorch, a test whose checks were partly impossible (tests/oracle.py's
    UNCHECKED: forward values, points where the function is not differentiable, ...) is
    reported as skipped, saying what was not checked, once everything else in it passed."""
    oracle = sys.modules.get('oracle')
    if oracle is not None:
        oracle.UNCHECKED.clear()
    result = yield
    oracle = sys.modules.get('oracle')
    if oracle is not None and oracle.UNCHECKED:
        counts = {}
        for what in oracle.UNCHECKED:
            counts[what] = counts.get(what, 0) + 1
        pytest.skip(f'{oracle.NO_TORCH}; all else passed, not checked: ' + '; '.join(
            what if n == 1 else f'{what} x{n}' for what, n in counts.items()))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip for want of PyTorch is reported at the test's line, not at the line in
    tests/oracle.py or in the hook above that raised it."""
    report = yield
    oracle = sys.modules.get('oracle')
    if call.when == 'call' and report.skipped and oracle is not None and \
            report.longrepr[2].startswith('Skipped: ' + oracle.NO_TORCH):
        path, lineno, _ = item.reportinfo()
        report.longrepr = (str(path), (lineno or 0) + 1, report.longrepr[2])
    return report


@pytest.fixture(autouse=True)
def _device_checks_awaited():
    """A failed device-side check (an index out of bounds on a GPU, autograd.extend.check_data)
    is raised at the next synchronisation: a test that caused one and did not await it fails
    here, not the test after it."""
    yield
    backend = sys.modules.get('autograd.backend')
    if backend is not None and backend._deferred:
        backend.raise_deferred()

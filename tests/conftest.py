import os
import sys

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

# Child Python processes of a test run under the CuPy stand-in load it too (the test
# session puts this folder first on PYTHONPATH).
import os

if os.environ.get('CUNUMPY_FAKE_CUPY', '').strip().lower() in ('1', 'true', 'yes'):
    import cupy_stand_in
    cupy_stand_in.install()

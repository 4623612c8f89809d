"""Helpers of the device tests: child Python processes with a chosen CuPy situation
(missing, installed without a usable GPU, the stand-in) and the stand-in's detection."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAND_IN = os.path.join(ROOT, 'tests', 'cuda', 'stand_in')

# Prepended to a child's code: CuPy not installed (``import cupy`` raises ImportError).
NO_CUPY = "import sys\nsys.modules['cupy'] = None\n"

# Prepended to a child's code: CuPy installed on a machine without a usable driver or GPU,
# where ``import cupy`` succeeds and the runtime's first call fails (as the real one does).
CUPY_WITHOUT_GPU = '''import sys, types
def _no_driver():
    raise RuntimeError('cudaErrorInsufficientDriver: CUDA driver version is insufficient')
cupy = types.ModuleType('cupy')
cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
    getDeviceCount=_no_driver, getDevice=_no_driver))
sys.modules['cupy'] = cupy
'''


def stand_in_active():
    cupy = sys.modules.get('cupy')
    return bool(getattr(cupy, '__cunumpy_fake__', False))


def run_child(code, *, stand_in=False, **env):
    """Run ``code`` in a fresh Python; returns the CompletedProcess (text output).

    The child sees neither this session's device flag nor its stand-in unless asked:
    ``stand_in=True`` loads the stand-in as the test session does; ``env`` adds variables.
    """
    clean = {k: v for k, v in os.environ.items()
             if k not in ('AUTOGRAD_DEVICE', 'CUNUMPY_FAKE_CUPY', 'PYTHONPATH')}
    clean['PYTHONPATH'] = os.pathsep.join([STAND_IN, ROOT] if stand_in else [ROOT])
    if stand_in:
        clean['CUNUMPY_FAKE_CUPY'] = '1'
    clean.update(env)
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)

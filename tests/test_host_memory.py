"""autograd/devices/host_memory.py: glibc keeps freed array pages, so a step that allocates
what the previous step freed takes no page faults; the user's own malloc settings win."""
import os
import subprocess
import sys

import pytest

from autograd.devices import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLIBC = sys.platform.startswith('linux') and \
    os.confstr('CS_GNU_LIBC_VERSION').startswith('glibc')

# Eight 1 MiB arrays made, written and freed, 20 times over: glibc's defaults hand the freed
# heap top back to the kernel (it is over the trim threshold) and fault the pages in again.
PROGRAM = """
import resource, numpy, autograd
def step():
    arrays = [numpy.ones(1 << 17) for _ in range(8)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(**env):
    environ = {k: v for k, v in os.environ.items()
               if k not in host_memory._USER_SETTINGS and k != 'AUTOGRAD_HOST_MALLOC'}
    environ['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, environ.get('PYTHONPATH')) if p)
    environ.update(env)
    out = subprocess.run([sys.executable, '-c', PROGRAM], env=environ, capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1])


@pytest.mark.skipif(not GLIBC, reason='malloc tuning is for glibc only')
def test_freed_pages_are_reused_without_faults():
    assert host_memory.TUNED
    tuned, default = _page_faults(), _page_faults(AUTOGRAD_HOST_MALLOC='default')
    assert tuned < 100, tuned                   # 20 x 8 MiB of pages would be 40,960 faults
    assert default > 20 * tuned + 5000, (tuned, default)


@pytest.mark.parametrize('name', ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                                  'MALLOC_TOP_PAD_', 'GLIBC_TUNABLES'])
def test_the_users_malloc_settings_are_left_alone(name):
    assert host_memory.tune({name: '1'}) is False


def test_opt_out():
    assert host_memory.tune({'AUTOGRAD_HOST_MALLOC': 'default'}) is False

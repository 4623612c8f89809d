"""CuPy is optional: what happens without it, without a GPU, and with the device flag.

Each case runs in a child Python whose CuPy situation is set up before ``import autograd``,
so these run on every machine (with or without a GPU or the stand-in).
"""
import pytest

from device_helpers import CUPY_WITHOUT_GPU, NO_CUPY, run_child


def child_ok(code, **kw):
    r = run_child(code, **kw)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_importing_the_project_never_imports_cupy():
    out = child_ok('import sys, autograd, autograd.cuda, autograd.dlpack, nn, optim\n'
                   "print('cupy' in sys.modules)")
    assert out == 'False'


SITUATIONS = dict(argvalues=[NO_CUPY, CUPY_WITHOUT_GPU], ids=['no CuPy', 'CuPy without a GPU'])


@pytest.mark.parametrize('situation', **SITUATIONS)
def test_no_gpu_is_available(situation):
    # with CuPy, `import cupy` succeeds on machines without a driver: only the runtime knows
    out = child_ok(situation + 'import autograd.cuda\n'
                   'print(autograd.cuda.is_available(), autograd.cuda.device_count())')
    assert out == 'False 0'


@pytest.mark.parametrize('situation, statement, says', [
    (NO_CUPY, "autograd.zeros(2, device='cuda')", 'not installed'),
    (CUPY_WITHOUT_GPU, "autograd.device('cuda:0')", 'CuPy is installed but finds no usable GPU'),
], ids=SITUATIONS['ids'])
def test_cuda_raises_saying_why_and_the_install_command(situation, statement, says):
    out = child_ok(situation + f"""import autograd
try:
    {statement}
except RuntimeError as e:
    print(e)
""")
    assert says in out and 'pip install cupy-cuda12x' in out


def test_gpu_calls_without_cupy_raise_runtime_error():
    out = child_ok(NO_CUPY + """import autograd, autograd.cuda
for call in (autograd.cuda.synchronize, lambda: autograd.cuda.manual_seed(0),
             autograd.cuda.empty_cache, lambda: autograd.ones(1).cuda()):
    try:
        call()
    except RuntimeError as e:
        print('pip install cupy-cuda12x' in str(e))
""")
    assert out.split() == ['True'] * 4


def test_device_flag_without_cupy_fails_at_the_first_tensor_not_at_import():
    out = child_ok(NO_CUPY + '''import autograd
print('imported')
try:
    autograd.zeros(1)
except RuntimeError as e:
    print(e)
''', AUTOGRAD_DEVICE='cuda')
    first, second = out.splitlines()
    assert first == 'imported' and 'pip install cupy-cuda12x' in second


def test_device_flag_puts_every_new_tensor_and_layer_on_cuda():
    pytest.importorskip('cunumpy', reason='the CuPy stand-in (pip install cunumpy)')
    out = child_ok('''import autograd, nn
x = autograd.tensor([1.0, 2.0])
print(autograd.get_default_device(), x.device, autograd.randn(2).device,
      nn.Linear(2, 2).weight.device, (x * 2).device)
''', stand_in=True, AUTOGRAD_DEVICE='cuda')
    assert out.split() == ['cuda:0'] * 5


def test_device_flag_cpu_is_the_default():
    assert child_ok('import autograd\nprint(autograd.zeros(1).device)',
                    AUTOGRAD_DEVICE='cpu') == 'cpu'


def test_manual_seed_seeds_a_device_first_used_after_it():
    """As torch.manual_seed seeds every device: in a fresh process, the cuda generator made
    on first use after ``manual_seed(0)`` starts from that seed (it used a fixed default)."""
    out = child_ok("import autograd\n"
                   "autograd.manual_seed(0); a = autograd.randn(3, device='cuda').tolist()\n"
                   "autograd.manual_seed(0); b = autograd.randn(3, device='cuda').tolist()\n"
                   "print(a == b)", stand_in=True)
    assert out == 'True'


def test_stand_in_views_keep_their_base_alive():
    """As CuPy's views hold their base: views made by indexing, functions and methods keep
    the viewed array referenced (the reused scratch buffers count references), copies do
    not."""
    pytest.importorskip('cunumpy', reason='the CuPy stand-in (pip install cunumpy)')
    out = child_ok('''import sys
import cupy
a = cupy.zeros((4, 6), dtype='float32')
makers = {'index': lambda: a[1:], 'T': lambda: a.T, 'swapaxes': lambda: cupy.swapaxes(a, 0, 1),
          'reshape': lambda: a.reshape(6, 4), 'transpose': lambda: a.transpose(1, 0),
          'view': lambda: a.view(), 'ravel': lambda: a.ravel(), 'diagonal': lambda: a.diagonal(),
          'copy': lambda: a.copy(), 'reshape of a transpose': lambda: a.T.reshape(24)}
for name, make in makers.items():
    before = sys.getrefcount(a)
    v = make()
    print(name, sys.getrefcount(a) > before)
    del v
''', stand_in=True)
    kept = dict(line.rsplit(' ', 1) for line in out.splitlines())
    assert kept == {k: str(k not in ('copy', 'reshape of a transpose'))
                    for k in ('index', 'T', 'swapaxes', 'reshape', 'transpose', 'view', 'ravel',
                              'diagonal', 'copy', 'reshape of a transpose')}

"""The examples fix their BLAS threads in one place (examples/_data.py), so that their numbers
do not depend on the machine's core count: OpenBLAS splits a product's sums by thread, and
float32 results then differ in the last bits."""
import ast
import os
import subprocess
import sys

import numpy
import pytest

from example_scripts import EXAMPLES

threadpoolctl = pytest.importorskip('threadpoolctl')    # scikit-learn's, in the examples extra
if str(EXAMPLES) not in sys.path:                     # the scripts' sibling modules
    sys.path.insert(0, str(EXAMPLES))
import _data  # noqa: E402

# Examples that do not import _data (owned elsewhere; reported): their BLAS is not fixed.
WITHOUT_DATA = {'distributed_mnist', 'graph_demo', 'mnist_mlp'}


def blas_threads():
    return {lib['num_threads'] for lib in threadpoolctl.threadpool_info()
            if lib['user_api'] == 'blas'}


@pytest.fixture
def restore_threads():
    yield
    _data.set_blas_threads(_data.DEFAULT_BLAS_THREADS)


def test_the_thread_count_changes_float32_products_so_it_must_be_fixed(restore_threads):
    # the reason for the setting, shown on this machine's BLAS: a product's last bits
    rng = numpy.random.default_rng(0)
    a = rng.random((1000, 784), dtype=numpy.float32)
    b = rng.random((784, 128), dtype=numpy.float32)
    _data.set_blas_threads(1)
    one = a @ b
    _data.set_blas_threads(1)
    numpy.testing.assert_array_equal(a @ b, one)        # one thread: bit for bit again
    if os.cpu_count() > 1:
        _data.set_blas_threads(4)
        assert numpy.abs(a @ b - one).max() < 1e-3 * numpy.abs(one).max()


def test_importing_data_sets_the_loaded_blas_to_the_default():
    assert blas_threads() == {_data.DEFAULT_BLAS_THREADS}
    for var in _data.BLAS_THREAD_VARS:                  # and a BLAS loaded later reads these
        assert os.environ[var] == str(_data.DEFAULT_BLAS_THREADS)


def test_threads_option_sets_them_and_the_next_parser_restores_the_default(restore_threads):
    args = _data.parser('x', 'An example.', epochs=1).parse_args(['--threads', '2'])
    assert args.threads == 2 and blas_threads() == {2}
    assert os.environ['OPENBLAS_NUM_THREADS'] == '2'
    args = _data.parser('x', 'An example.', epochs=1).parse_args([])
    assert args.threads == _data.DEFAULT_BLAS_THREADS
    assert blas_threads() == {_data.DEFAULT_BLAS_THREADS}
    with pytest.raises(SystemExit):
        _data.parser('x', 'An example.', epochs=1).parse_args(['--threads', '0'])


@pytest.mark.parametrize('user, expected', [(None, 1), ('3', 3)])
def test_a_fresh_process_gets_one_thread_unless_the_user_set_them(user, expected):
    env = {k: v for k, v in os.environ.items() if k not in _data.BLAS_THREAD_VARS}
    if user:
        env['OPENBLAS_NUM_THREADS'] = user
    code = ('import numpy, _data, threadpoolctl; '   # numpy first, as the examples do
            'print(sorted({l["num_threads"] for l in threadpoolctl.threadpool_info() '
            'if l["user_api"] == "blas"}), _data.BLAS_THREADS)')
    env['PYTHONPATH'] = os.pathsep.join([str(EXAMPLES), str(EXAMPLES.parent)])
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [f'[{expected}]', str(expected)]


def _module_imports(path):
    """The top-level modules a script imports at module level, in order."""
    names = []
    for node in ast.parse(path.read_text()).body:
        for stmt in (node.body if isinstance(node, ast.Try) else [node]):
            if isinstance(stmt, ast.Import):
                names += [alias.name.split('.')[0] for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0:
                names.append(stmt.module.split('.')[0])
    return names


@pytest.mark.parametrize('path', sorted(p for p in EXAMPLES.glob('*.py')
                                        if not p.name.startswith('_')), ids=lambda p: p.stem)
def test_every_example_imports_data_before_it_computes(path):
    imports = _module_imports(path)
    if path.stem in WITHOUT_DATA:
        assert '_data' not in imports, f'{path.stem} imports _data now: drop it from the list'
        return
    assert '_data' in imports, f'{path.name} never imports _data: its BLAS threads are not fixed'
    # a BLAS loaded before it (numpy's, scipy's) is set at run time by threadpoolctl; the
    # project itself comes after it, as _data also makes a source checkout importable
    before = imports[:imports.index('_data')]
    assert not {'autograd', 'nn', 'optim'} & set(before), before

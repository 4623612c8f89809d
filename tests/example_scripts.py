"""The example scripts (examples/<name>.py: scripts, not a package) as modules, for the
tests that judge them by what they learn and write."""
import importlib.util
import pathlib
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / 'examples'


def load_example(name):
    """A fresh module object of examples/<name>.py on every call.  The examples folder goes
    on ``sys.path`` first: the scripts import their shared helpers (_data, _text) as
    sibling modules."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f'example_{name}', EXAMPLES / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name, out, *args):
    """``examples/<name>.py *args --out out`` run in-process; returns what its ``main``
    returns (the script's results)."""
    return load_example(name).main([*map(str, args), '--out', str(out)])

"""The project's own docs stay true: their examples run, and what they state about the code
is checked here.

- Every fenced block tagged ``python`` in docs/EXTENDING.md and docs/ARCHITECTURE.md runs,
  in order, in one fresh namespace per document (blocks tagged otherwise, ``text``, are
  excerpts and sketches).  The examples carry their own assertions (gradcheck passes, the
  optimizer reduces its loss, the state dict round trip is exact).  A failure's traceback
  names the document and its line.
- Every name of ``autograd.extend`` and ``autograd.ops.formula`` is documented.
- The layer rule of ARCHITECTURE.md holds: no module imports from a layer below its own.
"""
import ast
import pathlib
import re

import pytest

import autograd
import autograd.extend
import autograd.ops.formula

ROOT = pathlib.Path(autograd.__file__).resolve().parent.parent
DOCS = ['docs/EXTENDING.md', 'docs/ARCHITECTURE.md']
FENCE = re.compile(r'^```(.*)$')


def python_blocks(path):
    """``(first line number, code)`` of each fenced block whose info string starts with
    ``python``, in document order."""
    blocks, code, start, info = [], None, 0, ''
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fence = FENCE.match(line)
        if code is None:
            if fence:
                code, start, info = [], number + 1, fence.group(1).split()
        elif fence and not fence.group(1).strip():
            if info[:1] == ['python']:
                blocks.append((start, '\n'.join(code)))
            code = None
        else:
            code.append(line)
    assert code is None, f'{path}: a fenced block is not closed'
    return blocks


@pytest.mark.parametrize('doc', DOCS)
def test_python_blocks_run(doc):
    path = ROOT / doc
    blocks = python_blocks(path)
    assert blocks, f'{doc} has no python block'
    namespace = {'__name__': '__docs__'}
    for start, code in blocks:
        # padded so that tracebacks give the line number in the document
        exec(compile('\n' * (start - 1) + code, str(path), 'exec'), namespace)


@pytest.mark.parametrize('module', [autograd.extend, autograd.ops.formula])
def test_every_extension_name_is_documented(module):
    text = (ROOT / 'docs/EXTENDING.md').read_text()
    missing = [name for name in module.__all__ if f'`{name}' not in text]
    assert not missing, (f'{module.__name__} exports {missing}: document them in '
                         'docs/EXTENDING.md')


# ----------------------------------------------------------------------------- layers

ORDER = ['backend', 'engine', 'ops', 'nn', 'optim', 'tools']
# Top-level modules of the autograd package outside the engine layer (the rest are engine).
TOP_LEVEL = {'backend': 'backend', 'methods': 'ops', 'linalg': 'ops', 'functional': 'ops',
             'special': 'ops', 'safetensors': 'tools', 'run': 'tools'}
SUBPACKAGES = {'devices': 'backend', 'ops': 'ops', 'backends': 'engine',
               'distributed': 'ops', 'distributions': 'tools'}   # others (viz, utils): tools
ENGINE_API = {'autograd.utils.hooks'}   # torch.utils.hooks' RemovableHandle, from node.py
# Imports against the rule (deferred into a function), with the reason in ARCHITECTURE.md.
KNOWN = set()


def layer(module):
    """The layer of a project module (a dotted name); None for a module outside it."""
    parts = module.split('.')
    if parts[0] in ('nn', 'optim', 'tools'):
        return parts[0]
    if parts[0] != 'autograd':
        return None
    if len(parts) == 1:
        return 'ops'            # the package namespace re-exports the engine and the ops
    if module in ENGINE_API:
        return 'engine'
    if (ROOT / 'autograd' / parts[1]).is_dir():
        return SUBPACKAGES.get(parts[1], 'tools')
    return TOP_LEVEL.get(parts[1], 'engine')


def project_modules():
    for package in ('autograd', 'nn', 'optim', 'tools'):
        for path in sorted((ROOT / package).rglob('*.py')):
            parts = path.relative_to(ROOT).with_suffix('').parts
            if parts[-1] == '__init__':
                parts = parts[:-1]
            yield '.'.join(parts), path


def resolve(dotted):
    """``package.name`` when that is a module of the project, else ``package``."""
    path = ROOT.joinpath(*dotted.split('.'))
    if path.with_suffix('.py').exists() or (path / '__init__.py').exists():
        return dotted
    return dotted.rpartition('.')[0]


def imported_modules(module, path):
    """``(imported module, line)`` for every import in the file, at any depth."""
    package = module if path.name == '__init__.py' else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parent + ([base] if base else []))
            for alias in node.names:
                yield resolve(f'{base}.{alias.name}'), node.lineno


def test_layers_import_only_upwards():
    upward, known = [], set()
    for module, path in project_modules():
        if module == 'autograd':        # the package namespace imports every layer
            continue
        here = ORDER.index(layer(module))
        for target, line in imported_modules(module, path):
            there = layer(target)
            if there is None or ORDER.index(there) <= here:
                continue
            where = str(path.relative_to(ROOT))
            if (where, target) in KNOWN:
                known.add((where, target))
            else:
                upward.append(f'{where}:{line} ({layer(module)}) imports {target} ({there})')
    assert not upward, 'imports from a lower layer:\n' + '\n'.join(upward)
    assert known == KNOWN, f'no longer there (update docs/ARCHITECTURE.md): {KNOWN - known}'


# The engine's private fields of tensors and graph nodes (autograd/tensor.py, node.py):
# nn/ and optim/ reach them only through the extension API (docs/EXTENDING.md).
ENGINE_PRIVATE = {'_data', '_vc', '_requires_grad', '_grad_fn', '_view', '_next', '_meta',
                  '_saved', '_versions', '_out', '_seq', '_pre_hooks'}


def test_layers_above_the_engine_use_no_private_fields():
    found = []
    for module, path in project_modules():
        if layer(module) not in ('nn', 'optim'):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ENGINE_PRIVATE:
                found.append(f'{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}')
    assert not found, '\n'.join(found)

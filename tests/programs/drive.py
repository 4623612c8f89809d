"""Run one collected PyTorch program and record its losses: one process per run.

    python tests/programs/drive.py MODE OUT.json WEIGHTS.npz PROGRAM_DIR ENTRY.py [args ...]

MODE is ``torch`` (PyTorch itself), ``alias`` (``autograd.run``'s import mapping, the
program unchanged) or ``imports`` (the program's import lines changed to this project's
packages, nothing else; see ``change_imports``).  The program is not edited for the
comparison; the driver makes both libraries start from the same numbers:

- float64 is the default dtype (``PROGRAM_DTYPE=float32`` for a program whose data are
  float32 arrays);
- the first time a module is called from outside any module call, its state is written
  (``torch``) to ``WEIGHTS.npz``, or read from there into the module (the other modes):
  PyTorch's initial weights;
- the random draws a program makes itself (``randn rand randint randperm normal
  multinomial`` and dropout masks) come from one NumPy generator, seeded the same in every
  mode; NumPy's and Python's global generators are seeded.

Every scalar ``backward()`` appends the loss (a float) to the list written to OUT.json.
"""
import json
import random
import os
import re
import runpy
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# import lines as a user changes them: torch -> autograd, torch.nn -> nn, torch.optim -> optim
_SUBPACKAGES = ('nn', 'optim')


def _module(name):
    for sub in _SUBPACKAGES:
        if name == f'torch.{sub}' or name.startswith(f'torch.{sub}.'):
            return name[len('torch.'):]
    if name == 'torch' or name.startswith('torch.'):
        return 'autograd' + name[len('torch'):]
    return name


def _import_line(m):
    indent, body = m.group(1), m.group(2)
    frm = re.match(r'from\s+([\w.]+)\s+import\s+(.*)$', body)
    if frm:
        module, names = frm.group(1), frm.group(2)
        if module == 'torch':       # from torch import nn, optim, Tensor
            parts = [p.strip() for p in names.strip('()').split(',') if p.strip()]
            lines = [f'import {p}' for p in parts if p.split()[0] in _SUBPACKAGES]
            rest = [p for p in parts if p.split()[0] not in _SUBPACKAGES]
            if rest:
                lines.append(f'from autograd import {", ".join(rest)}')
            return '\n'.join(indent + line for line in lines)
        return f'{indent}from {_module(module)} import {names}'
    items = []
    for part in body[len('import'):].split(','):
        words = part.split()
        new = _module(words[0])
        if new != words[0] and len(words) == 1:
            # `import torch` binds the name torch; so must its replacement
            alias = words[0].split('.')[0]
            items.append(f'{new} as {alias}' if '.' not in words[0] else new)
        else:
            items.append(' '.join([new] + words[1:]))
    return f'{indent}import {", ".join(items)}'


def change_imports(source):
    """``source`` with its ``import torch...`` / ``from torch... import`` lines changed to
    this project's packages (the README's mapping); nothing else changes."""
    return re.sub(r'^([ \t]*)((?:import|from)\s+torch\b[^\n]*)$', _import_line, source,
                  flags=re.M)


class _Stream:
    """The random draws a program makes itself, from NumPy, the same in every mode."""

    def __init__(self, lib):
        self.lib = lib
        self.rng = np.random.default_rng(1234)

    def _t(self, a, dtype=None, device=None, requires_grad=False):
        t = self.lib.tensor(a, dtype=dtype, device=device)
        return t.requires_grad_() if requires_grad else t

    @staticmethod
    def _size(size):
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) or \
            len(size) == 1 and type(size[0]).__name__ == 'Size' else tuple(size)

    def randn(self, *size, generator=None, dtype=None, device=None, requires_grad=False,
              **kw):
        dtype = dtype or self.lib.get_default_dtype()
        return self._t(self.rng.standard_normal(self._size(size)), dtype, device,
                       requires_grad)

    def randn_like(self, x, dtype=None, device=None, requires_grad=False, **kw):
        return self.randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device,
                          requires_grad=requires_grad)

    def rand_like(self, x, dtype=None, device=None, requires_grad=False, **kw):
        return self.rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device,
                         requires_grad=requires_grad)

    def rand(self, *size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
        dtype = dtype or self.lib.get_default_dtype()
        return self._t(self.rng.random(self._size(size)), dtype, device, requires_grad)

    def randint(self, low=0, high=None, size=None, *, generator=None, dtype=None,
                device=None, **kw):
        if size is None:
            low, high, size = 0, low, high
        return self._t(self.rng.integers(low, high, tuple(size)), dtype or self.lib.int64,
                       device)

    def randperm(self, n, *, generator=None, dtype=None, device=None, **kw):
        return self._t(self.rng.permutation(n), dtype or self.lib.int64, device)

    def normal(self, mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
               **kw):
        ref = mean if isinstance(mean, self.lib.Tensor) else std
        as_np = lambda v: np.asarray(v.detach().cpu().tolist()) if isinstance(
            v, self.lib.Tensor) else np.asarray(v)
        m, s = as_np(mean), as_np(std)
        shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
        z = self.rng.standard_normal(shape) * s + m
        if isinstance(ref, self.lib.Tensor):
            return self._t(z, ref.dtype, ref.device)
        return self._t(z, dtype or self.lib.get_default_dtype(), device)

    def multinomial(self, probs, num_samples, replacement=False, *, generator=None, **kw):
        p = np.asarray(probs.detach().cpu().tolist(), dtype=np.float64)
        p2 = p.reshape(-1, p.shape[-1])
        out = [self.rng.choice(p2.shape[1], num_samples, replace=replacement,
                               p=row / row.sum()) for row in p2]
        return self._t(np.array(out).reshape(p.shape[:-1] + (num_samples,)), self.lib.int64,
                       probs.device)

    def dropout(self, input, p=0.5, training=True, inplace=False):
        if not training or p == 0.0:
            return input
        keep = self.rng.random(tuple(input.shape)) >= p
        mask = self._t(keep / (1.0 - p), input.dtype, input.device)
        if inplace:
            return input.mul_(mask)
        return input * mask


def _patch(lib, nn_functional, dropout_classes, stream, creation=None):
    for name in ('randn', 'rand', 'randint', 'randperm', 'multinomial', 'randn_like',
                 'rand_like', 'normal'):
        setattr(lib, name, getattr(stream, name))
    if creation is not None:     # this project's samplers draw through creation
        randint = creation.randint
        creation.randperm = stream.randperm
        creation.randint = stream.randint
        # ... except the seed of a sampler's generator (PyTorch's is Tensor.random_)
        sampler = sys.modules['autograd.utils.data.sampler']
        sampler._fresh_generator = lambda: creation.Generator().manual_seed(
            int(randint(0, 2 ** 63 - 1, ()).item()))
    lib.Tensor.multinomial = lambda self, *a, **k: stream.multinomial(self, *a, **k)
    nn_functional.dropout = stream.dropout
    for cls in dropout_classes:
        if '_fn' in vars(cls):                       # this project's Dropout
            cls._fn = staticmethod(stream.dropout)


def _record_losses(lib, losses):
    backward = lib.Tensor.backward

    def recording_backward(self, *args, **kwargs):
        if self.numel() == 1:
            losses.append(float(self.detach().cpu().reshape(()).item()))
        return backward(self, *args, **kwargs)

    lib.Tensor.backward = recording_backward


def _sync_initial_weights(lib, Module, path, mode):
    """PyTorch's initial state for every module called from outside a module call."""
    call = Module.__call__
    seen, depth = set(), [0]         # seen: the modules of the synced ones, by id
    saved = dict(np.load(path)) if mode != 'torch' else {}
    if mode == 'torch':
        np.savez(path)              # (a program that calls no module has no weights)
    roots = [0]

    def first_call(module):
        prefix = f'm{roots[0]}/'
        roots[0] += 1
        state = module.state_dict()
        if mode == 'torch':
            for k, v in state.items():
                saved[prefix + k] = v.detach().cpu().numpy().copy()   # not a view
            np.savez(path, **saved)
            return
        with lib.no_grad():
            for k, v in state.items():
                v.copy_(lib.tensor(saved[prefix + k], dtype=v.dtype, device=v.device))

    def synced_call(self, *args, **kwargs):
        if depth[0] == 0 and id(self) not in seen:
            seen.update(id(m) for m in self.modules())
            first_call(self)
        depth[0] += 1
        try:
            return call(self, *args, **kwargs)
        finally:
            depth[0] -= 1

    Module.__call__ = synced_call


def main(argv):
    mode, out, weights, program_dir, entry, *args = argv
    weights = os.path.abspath(weights)
    out = os.path.abspath(out)
    program_dir = os.path.abspath(program_dir)
    losses = []
    if mode == 'torch':
        import torch
        import torch.nn as tnn
        import torch.nn.functional as tF
        lib, Module, F, dropouts, creation = torch, tnn.Module, tF, (), None
    else:
        sys.path.insert(0, ROOT)
        import autograd
        import nn
        import nn.functional
        import nn.modules.dropout
        lib, Module, F = autograd, nn.Module, nn.functional
        dropouts = (nn.modules.dropout.Dropout,)
        import autograd.creation as creation
        import autograd.utils.data.sampler  # noqa: F401
        if mode == 'alias':
            import autograd.run
            autograd.run.install()
    lib.set_default_dtype(getattr(lib, os.environ.get('PROGRAM_DTYPE', 'float64')))
    lib.manual_seed(0)
    np.random.seed(0)                    # programs that draw their data with NumPy unseeded
    random.seed(0)
    _patch(lib, F, dropouts, _Stream(lib), creation)
    _record_losses(lib, losses)
    _sync_initial_weights(lib, Module, weights, mode)

    # the program runs in a fresh copy (it writes checkpoints and logs beside itself);
    # in mode `imports`, a copy with its import lines changed
    run_dir = tempfile.mkdtemp(prefix=f'{mode}-')
    for base, dirs, files in os.walk(program_dir):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        rel = os.path.relpath(base, program_dir)
        os.makedirs(os.path.join(run_dir, rel), exist_ok=True)
        for f in files:
            data = open(os.path.join(base, f), 'rb').read()
            if f.endswith('.py') and mode == 'imports':
                data = change_imports(data.decode()).encode()
            with open(os.path.join(run_dir, rel, f), 'wb') as fh:
                fh.write(data)
    if mode == 'imports':
        with open(os.path.join(run_dir, 'offline.py'), 'w') as fh:
            fh.write(change_imports(open(os.path.join(HERE, 'offline.py')).read()))
    else:
        sys.path.insert(0, HERE)         # offline.py: the downloads' stand-ins
    os.chdir(run_dir)
    sys.path.insert(0, run_dir)
    sys.argv = [entry, *args]
    try:
        runpy.run_path(os.path.join(run_dir, entry), run_name='__main__')
    finally:
        with open(out, 'w') as fh:
            json.dump(losses, fh)
        os.chdir(ROOT)
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])

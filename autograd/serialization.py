"""``save`` and ``load``: nested containers of tensors in a file that never holds code.

File layout (all integers little-endian)::

    magic   b'AUTOGRAD'            8 bytes
    version uint32, header size uint32, header CRC-32 uint32, reserved uint32
    header  JSON (UTF-8): {"format": 1, "root": <value>, "tensors": [<entry>, ...]}
    data    each tensor's raw little-endian C-order bytes, every blob 64-byte aligned
            (zero padding between blobs; the file ends with the last blob's last byte)

A ``<value>`` is JSON null/true/false/number/string, or a one-key object tagging the
other types: ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}``
(keys keep their type and order), ``{"odict": ...}`` (OrderedDict), ``{"float": "nan"}``
(non-finite floats), ``{"tensor": i}`` (entry i of "tensors"), ``{"ndarray": i}`` (entry i,
marked ``"ndarray": true``, loaded as a NumPy array), ``{"device": "cuda:0"}``,
``{"dtype": "float32"}``, ``{"set": [...]}``; and for whole objects (a saved ``nn.Module``),
``{"object": ["module.QualName", <state>]}`` (an instance, rebuilt without calling its
constructor: ``cls.__new__(cls)``, then its ``__dict__`` or ``__setstate__`` from the
state), ``{"ref": k}`` (the k-th object of the file again, in the order they appear:
shared and cyclic references survive) and ``{"global": "module.QualName"}`` (a class or
function by name).  A tensor entry of a Tensor subclass (``nn.Parameter``) names its class
in "class" and its extra slots in "slots".  A tensor entry holds dtype, shape, device,
requires_grad, the blob's offset and size, and its CRC-32.  Loading parses JSON and copies bytes into
arrays: no pickle, so a file cannot run code.  ``torch.save`` files (pickles, or zip
archives of pickles) are recognised and refused.

Classes and functions named in a file are looked up, as PyTorch's ``weights_only`` loader
does, only on an allow-list: the defaults (``OrderedDict``, ``Counter``, and what a layer
registers with ``autograd.extend.allow_by_default``: ``nn.Parameter``, ``nn.Buffer``) plus
what the user adds (``add_safe_globals``, the ``safe_globals`` context).  Anything else is
refused with PyTorch's ``pickle.UnpicklingError`` and its instructions; nothing named in
the file is imported.  Only ``load(..., weights_only=False)`` (the user's statement that
the file is trusted, as in PyTorch) imports a named module to find a class.
"""
import collections
import contextlib
import errno
import importlib
import io
import json
import math
import os
import pickle           # for its exception type only: nothing is ever unpickled
import re
import stat
import struct
import types
import zlib

import numpy

from . import backend, devices
from .tensor import Tensor, _make

__all__ = ['save', 'load', 'add_safe_globals', 'clear_safe_globals', 'get_safe_globals',
           'safe_globals', 'allow_by_default']

MAGIC = b'AUTOGRAD'
VERSION = 1
_PREFIX = struct.Struct('<8sIIII')      # magic, version, header size, header crc, reserved
_ALIGN = 64
_MAX_DIMS = 64                          # NumPy's limit
_DTYPES = {d.name: d for d in backend.ALL_DTYPES}


# ----------------------------------------------------------------------------- save

def save(obj, f):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, NumPy arrays, numbers, strings,
    bools, None, devices and dtypes) to ``f``, a path or a writable binary file object.

    A path is written atomically: the data goes to a temporary file in the same
    directory, is flushed to disk, and then renamed over ``f``, so a crash mid-save
    leaves the previous file intact (and the next save to ``f`` deletes the temporary a
    killed save left).  As with ``torch.save``, a symlink is written through (the link
    stays, its target gets the data) and an existing file keeps its permissions.  Tensors of any device are stored as host bytes
    plus their device string.
    """
    tensors = []
    encoder = _Encoder(tensors)
    root = encoder.encode(obj, 'obj')
    entries, blobs, offset = [], [], 0
    for i, t in enumerate(tensors):
        arr = _host_le(t._data)
        nbytes = arr.nbytes
        entry = {'dtype': t.dtype.name,
                 'shape': list(arr.shape), 'device': str(t._device),
                 'requires_grad': t._requires_grad, 'offset': offset,
                 'nbytes': nbytes, 'crc32': zlib.crc32(_bytes(arr))}
        if type(t) is not Tensor:           # nn.Parameter ...: its class, and extra slots
            entry['class'] = _path_of(type(t), 'tensor')
            slots = _subclass_slots(type(t))
            if slots:
                entry['slots'] = _Encoder([]).encode({s: getattr(t, s) for s in slots
                                                      if hasattr(t, s)}, 'tensor slots')
        if i in encoder.ndarrays:
            entry['ndarray'] = True
        entries.append(entry)
        blobs.append(arr)
        offset += _padded(nbytes)
    header = json.dumps({'format': VERSION, 'root': root, 'tensors': entries},
                        allow_nan=False, separators=(',', ':')).encode('utf-8')
    header += b' ' * (_padded(_PREFIX.size + len(header)) - _PREFIX.size - len(header))

    def write(out):
        out.write(_PREFIX.pack(MAGIC, VERSION, len(header), zlib.crc32(header), 0))
        out.write(header)
        at = 0
        for arr, e in zip(blobs, entries):
            out.write(b'\0' * (e['offset'] - at))   # pad between blobs, never after the last,
            out.write(_bytes(arr))                  # so any truncation cuts into data
            at = e['offset'] + arr.nbytes

    if hasattr(f, 'write'):
        write(f)
    else:
        _atomic_write(os.fspath(f), write)


def _padded(n):
    return -(-n // _ALIGN) * _ALIGN


def _host_le(data):
    """A C-contiguous little-endian host copy/view of a tensor's array (explicit transfer)."""
    arr = backend.to_numpy(data)
    if not arr.flags.c_contiguous:
        arr = arr.copy(order='C')        # not ascontiguousarray: it turns 0-d into 1-d
    if arr.dtype.byteorder == '>':
        arr = arr.astype(arr.dtype.newbyteorder('<'))
    return arr


def _bytes(arr):
    """The bytes of a C-contiguous array as a flat uint8 view (works for 0-d and empty)."""
    return arr.reshape(-1).view(numpy.uint8)


def _atomic_write(path, write):
    # Through a symlink, as torch.save's open(path, 'wb'): the link stays, its target (even
    # a missing one) gets the data; the temporary sits beside the target, on its filesystem.
    given, path = path, os.path.realpath(path)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        # torch.save's open(path, 'wb') is refused on a read-only file; a rename over it
        # would not be (it needs the folder's permission, not the file's)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), given)
    directory, base = os.path.split(path)
    _remove_stale_temporaries(directory, base)
    tmp = os.path.join(directory, f'.{base}.{os.getpid()}.{os.urandom(4).hex()}.tmp')
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)   # the replaced file keeps its permissions
    except OSError:
        mode = None
    # os.open with mode 0o666 lets the umask decide a new file's permissions, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                       # make the rename itself durable (POSIX; a no-op elsewhere)
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _remove_stale_temporaries(directory, base):
    """Delete the temporaries of saves to ``directory/base`` whose process is gone (killed
    mid-save); those of live processes (concurrent saves) stay.  POSIX only: elsewhere a
    process cannot be probed without touching it."""
    if os.name != 'posix':
        return
    pattern = re.compile(re.escape(f'.{base}.') + r'(\d+)\.[0-9a-f]{8}\.tmp')
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m is None:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue                                   # alive (or not ours to probe)
        except ProcessLookupError:
            pass
        except (OSError, OverflowError, ValueError):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


class _Encoder:
    """Turns an object tree into tagged JSON, collecting tensors (each object once)."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.index = {}            # id(tensor) -> entry number; the same object loads once
        self.active = set()        # ids of the containers being encoded (cycle check)
        self.objects = {}          # id(object) -> its number, in order of first appearance
        self.keep = []             # the objects numbered (their ids stay theirs meanwhile)
        self.ndarrays = set()      # entry numbers that hold NumPy arrays, not tensors

    def encode(self, x, where):
        if x is None or x is True or x is False or isinstance(x, str):
            return x
        if isinstance(x, Tensor):
            i = self.index.get(id(x))
            if i is None:
                i = self.index[id(x)] = len(self.tensors)
                self.tensors.append(x)
            return {'tensor': i}
        if x.__class__ is numpy.ndarray:
            return {'ndarray': self._array(x, where)}
        if isinstance(x, numpy.generic) and x.dtype.kind in 'biuf':
            x = x.item()
            if isinstance(x, bool):
                return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x) if math.isfinite(x) else {'float': repr(float(x))}
        if isinstance(x, backend.Device):
            return {'device': str(x)}
        if isinstance(x, backend.dtype):
            return {'dtype': x.name}
        if isinstance(x, (list, tuple, dict)):
            if id(x) in self.active:
                raise ValueError(f'autograd.save: {where} contains itself (a cycle)')
            self.active.add(id(x))
            try:
                if isinstance(x, dict):
                    tag = 'odict' if isinstance(x, collections.OrderedDict) else 'dict'
                    return {tag: [[self._key(k, where), self.encode(v, f'{where}[{k!r}]')]
                                  for k, v in x.items()]}
                tag = 'tuple' if isinstance(x, tuple) else 'list'
                return {tag: [self.encode(v, f'{where}[{i}]') for i, v in enumerate(x)]}
            finally:
                self.active.discard(id(x))
        if isinstance(x, (set, frozenset)):
            return {'set': [self.encode(v, f'{where}{{}}') for v in x]}
        if isinstance(x, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {'global': _path_of(x, where)}
        if hasattr(x, '__dict__') and not isinstance(x, types.ModuleType):
            return self._object(x, where)
        raise TypeError(f'autograd.save cannot store {where} of type {type(x).__name__}: '
                        'supported are tensors, NumPy arrays, dicts, lists, tuples, sets, str, '
                        'int, float, bool, None, devices, dtypes, classes and functions by '
                        'name, and objects with a __dict__ (an nn.Module)')

    def _array(self, x, where):
        """A NumPy array (``torch.save`` pickles them): stored as a tensor's bytes, loaded
        back as a NumPy array of its dtype and shape."""
        i = self.index.get(id(x))
        if i is None:
            try:
                backend.from_numpy_dtype(x.dtype)
            except TypeError:
                raise TypeError(f'autograd.save cannot store {where}: a NumPy array of dtype '
                                f'{x.dtype} (supported are bool, integer, floating and '
                                'complex arrays)') from None
            i = self.index[id(x)] = len(self.tensors)
            self.tensors.append(_make(x, backend.CPU))
            self.keep.append(x)             # (its id stays its own while we encode)
            self.ndarrays.add(i)
        return i

    def _object(self, x, where):
        """An instance, as PyTorch pickles one: its class by name and its state (the
        ``__dict__``, or what its ``__getstate__`` returns), never its constructor's
        arguments."""
        k = self.objects.get(id(x))
        if k is not None:
            return {'ref': k}
        cls = type(x)
        if any(name in klass.__dict__ for klass in cls.__mro__[:-1]
               for name in ('__reduce__', '__reduce_ex__')) or _slots(cls):
            # its state is not its __dict__ (functools.partial, a class with __slots__):
            # pickle would ask it; a file that runs nothing cannot
            raise TypeError(f'autograd.save cannot store {where} of type {cls.__qualname__}: '
                            'its state is not its __dict__ (it defines __reduce__ or '
                            '__slots__)')
        path = _path_of(cls, where)
        self.objects[id(x)] = len(self.keep)
        self.keep.append(x)
        getstate = getattr(type(x), '__getstate__', None)
        if getstate is None or getstate is getattr(object, '__getstate__', None):
            state = dict(vars(x))
        else:
            state = x.__getstate__()
        return {'object': [path, self.encode(state, f'{where}.__dict__')]}

    def _key(self, k, where):
        if k is None or isinstance(k, (bool, str, int, float)):
            return self.encode(k, where)
        raise TypeError(f'autograd.save cannot store a dict key of type {type(k).__name__} '
                        f'in {where}: keys must be str, int, float, bool or None')


def _path_of(obj, where):
    """``module.QualName`` of a class or function that can be found again by that name."""
    module, qualname = getattr(obj, '__module__', None), getattr(obj, '__qualname__', '')
    if module is None or '<locals>' in qualname or '<lambda>' in qualname:
        raise TypeError(f'autograd.save cannot store {where}: {qualname or obj!r} is a local '
                        'object (defined in a function, or a lambda), which cannot be found by '
                        'name when loading')
    return f'{module}.{qualname}'


def _slots(cls):
    """The ``__slots__`` names that classes of ``cls``'s MRO declare (not __dict__)."""
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get('__slots__', ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return [n for n in names if n not in ('__dict__', '__weakref__')]


def _subclass_slots(cls):
    """The ``__slots__`` that Tensor subclass ``cls`` adds to Tensor's."""
    names = []
    for klass in cls.__mro__:
        if klass is Tensor:
            break
        slots = klass.__dict__.get('__slots__', ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return [n for n in names if n not in ('__dict__', '__weakref__')]


# ----------------------------------------------------------------------------- the allow-list
# PyTorch's torch.serialization.add_safe_globals & co., for the classes and functions a file
# names.  An entry is a class/function, or ``(obj, 'module.QualName')`` naming it explicitly.

_DEFAULT_GLOBALS = {'collections.OrderedDict': collections.OrderedDict,
                    'collections.Counter': collections.Counter}
_user_globals = []


def allow_by_default(objs):
    """Allow classes ``objs`` in every load, as PyTorch allows ``torch.nn.Parameter``
    (for the layers that define tensor classes; not listed by ``get_safe_globals``)."""
    for obj in objs:
        _DEFAULT_GLOBALS[_path_of(obj, 'a default global')] = obj


def add_safe_globals(safe_globals):
    """Mark classes/functions (or ``(obj, 'module.QualName')`` pairs) as safe to rebuild
    in :func:`load`: a saved object of such a class is made again from its state."""
    if not isinstance(safe_globals, (list, tuple)):
        raise TypeError(f'add_safe_globals expects a list, got {type(safe_globals).__name__}')
    for g in safe_globals:
        if isinstance(g, tuple) and not (len(g) == 2 and isinstance(g[1], str)):
            raise ValueError(f'Expected tuple of length 2 (global, str of callable full path), '
                             f'but got {g}')
    _user_globals.extend(safe_globals)


def clear_safe_globals():
    """Forget every global that :func:`add_safe_globals` added."""
    _user_globals.clear()


def get_safe_globals():
    """The user-added safe globals, as added."""
    return list(_user_globals)


class safe_globals:
    """Context manager: ``safe_globals`` are allowed inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._previous = list(_user_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _user_globals[:] = self._previous
        return False


def _allowed(path):
    """The object the allow-list gives for ``path``, or None."""
    obj = _DEFAULT_GLOBALS.get(path)
    if obj is not None:
        return obj
    for g in _user_globals:
        obj, name = g if isinstance(g, tuple) else (g, None)
        if name is None:
            try:
                name = _path_of(obj, 'a safe global')
            except TypeError:
                continue
        if name == path:
            return obj
    return None


_UNSAFE = ('Weights only load failed. This file can still be loaded, to do so you have two '
           'options, do those steps only if you trust the source of the checkpoint. \n\t(1) '
           'Re-running `autograd.load` with `weights_only` set to `False` will import the '
           'module that the file names to find the class (this loader never unpickles, but '
           'importing a module runs its code). Do it only if you got the file from a trusted '
           'source.\n\t(2) Alternatively, to load with `weights_only=True` please check the '
           'recommended steps in the following error message.\n\tWeightsUnpickler error: ')


def _unsupported(path):
    return pickle.UnpicklingError(
        f'{_UNSAFE}Unsupported global: GLOBAL {path} was not an allowed global by default. '
        f'Please use `autograd.serialization.add_safe_globals([{path}])` or the '
        f'`autograd.serialization.safe_globals([{path}])` context manager to allowlist this '
        'global if you trust this class/function.')


def _import(path):
    """The class or function ``module.QualName`` names, importing its module (trusted
    files only: ``weights_only=False``)."""
    parts = path.split('.')
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            break
        return obj
    raise pickle.UnpicklingError(f'autograd.load: cannot find {path} (its module is not '
                                 'importable or no longer defines it)')


# ----------------------------------------------------------------------------- load

def load(f, map_location=None, weights_only=None, **kwargs):
    """Read what :func:`save` wrote.  ``f`` is a path or a readable binary file object.

    ``map_location`` moves tensors: None restores each to its saved device; a device or
    string sends all there; a dict maps saved device strings to new ones
    (``{'cuda:0': 'cpu'}``); a callable ``fn(tensor, saved_location)`` gets each tensor
    on the CPU and returns it moved (or None for the default).

    Classes a file names (a saved module, ``nn.Parameter``) are rebuilt only when they are
    on the allow-list (``add_safe_globals``, ``safe_globals``), else
    ``pickle.UnpicklingError`` says how to allow them, as PyTorch's ``weights_only`` loader;
    ``weights_only=False`` looks them up by importing their modules instead (a trusted
    file).  Nothing is ever unpickled.  Corrupt, truncated or pickle files raise
    RuntimeError.  Other keyword arguments of ``torch.load`` (``mmap``, ``pickle_module``
    ...) are accepted and have no effect.
    """
    trusted = weights_only is False
    if hasattr(f, 'read'):
        name = getattr(f, 'name', '<file object>')
        if not f.seekable():
            f = io.BytesIO(f.read())
        return _Reader(f, name, map_location, trusted).load()
    name = os.fspath(f)
    with open(name, 'rb') as fh:
        return _Reader(fh, name, map_location, trusted).load()


class _Reader:
    """Reads one file.  Every size the file states is checked against the bytes the file
    has before anything is allocated, so a corrupt or crafted file (a flipped size byte, a
    huge shape, deep nesting) costs at most about its own size in memory, and every kind
    of corruption raises RuntimeError naming the file."""

    def __init__(self, fh, name, map_location, trusted=False):
        self.fh = fh
        self.name = name
        self.map_location = map_location
        self.trusted = trusted
        self.objects = []          # the objects rebuilt so far, numbered as the saver did

    def fail(self, what):
        return RuntimeError(f'autograd.load: {self.name!r} {what}')

    @contextlib.contextmanager
    def malformed(self):
        """Turns what decoding a malformed header raises into the one corruption error."""
        try:
            yield
        except (KeyError, TypeError, ValueError, IndexError, OverflowError, RecursionError) as e:
            raise self.fail(f'is corrupt: malformed header ({type(e).__name__}: '
                            f'{str(e)[:200]})') from None

    def load(self):
        start = self.fh.tell()
        self.end = self.fh.seek(0, io.SEEK_END)
        self.fh.seek(start)
        head = self.fh.read(_PREFIX.size)
        if head[:len(MAGIC)] != MAGIC and not (head and MAGIC.startswith(head)):
            raise self.fail(_identify(head))
        if len(head) < _PREFIX.size:
            raise self.fail(f'is truncated: the file header needs {_PREFIX.size} bytes, only '
                            f'{len(head)} are left')
        magic, version, size, crc, _ = _PREFIX.unpack(head)
        if version != VERSION:
            raise self.fail(f'has format version {version}; this autograd reads version '
                            f'{VERSION}')
        self.data_start = start + _PREFIX.size + size
        if self.data_start > self.end:     # the size field is outside the checksum
            raise self.fail(f'is truncated or corrupt: its header size field says {size} '
                            f'bytes, only {self.end - start - _PREFIX.size} are left')
        header = self.fh.read(size)
        if len(header) != size:
            raise self.fail(f'is truncated: the header needs {size} bytes, only '
                            f'{len(header)} are left')
        if zlib.crc32(header) != crc:
            raise self.fail('is corrupt: the header checksum does not match')
        with self.malformed():
            meta = json.loads(header.decode('utf-8'))
            root, entries = meta['root'], meta['tensors']
            if type(entries) is not list:
                raise TypeError('"tensors" is not a list')
            arrays = [self.array(e) for e in entries]
        # outside ``malformed``: what a map_location callable raises is the caller's own
        self.tensors = []
        for arr, e in zip(arrays, entries):
            if e.get('ndarray') is True:        # a NumPy array: itself, on the host
                self.tensors.append(arr)
                continue
            t = self.place(_make(arr, backend.CPU), e['device'])
            if 'class' in e:
                with self.malformed():
                    t = self.tensor_of_class(t, e)
            if e['requires_grad']:
                t._requires_grad = True
            self.tensors.append(t)
        with self.malformed():
            return self.decode(root)

    def decode(self, v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, dict) and len(v) == 1:
            (tag, x), = v.items()
            if tag == 'list':
                return [self.decode(i) for i in x]
            if tag == 'tuple':
                return tuple(self.decode(i) for i in x)
            if tag == 'dict':
                return {self.decode(k): self.decode(i) for k, i in x}
            if tag == 'odict':
                return collections.OrderedDict((self.decode(k), self.decode(i)) for k, i in x)
            if tag == 'float':
                return float(x)
            if tag == 'tensor' or tag == 'ndarray':
                if type(x) is not int or x < 0:
                    raise IndexError(f'tensor number {str(x)[:80]}')
                if isinstance(self.tensors[x], Tensor) != (tag == 'tensor'):
                    raise TypeError(f'entry {x} is not a {tag}')
                return self.tensors[x]
            if tag == 'device':
                if type(x) is not str:
                    raise TypeError(f'device {str(x)[:80]}')
                try:
                    return backend.device(x)
                except RuntimeError as e:
                    raise self.fail(f'holds the device {x!r}, which cannot be made here '
                                    f'({e})') from None
            if tag == 'dtype':
                return _DTYPES[x]
            if tag == 'set':
                return {self.decode(i) for i in x}
            if tag == 'global':
                return self.find(x)
            if tag == 'ref':
                if type(x) is not int or x < 0:
                    raise IndexError(f'object number {str(x)[:80]}')
                return self.objects[x]
            if tag == 'object':
                path, state = x
                return self.rebuild(self.find(path), state)
        raise ValueError(f'unknown value {str(v)[:80]}')

    def find(self, path):
        """The class or function ``path`` names: from the allow-list (or, for a trusted
        file, by import); pickle.UnpicklingError, in PyTorch's words, otherwise."""
        if type(path) is not str:
            raise TypeError(f'global name {str(path)[:80]}')
        obj = _allowed(path)
        if obj is None:
            if not self.trusted:
                raise _unsupported(path)
            obj = _import(path)
        return obj

    def rebuild(self, cls, state):
        """An instance of ``cls`` made without its constructor, given its saved state."""
        if not isinstance(cls, type):
            raise TypeError(f'{str(cls)[:80]} is not a class')
        obj = cls.__new__(cls)
        self.objects.append(obj)        # numbered before its state: cycles come back as refs
        state = self.decode(state)
        setstate = getattr(obj, '__setstate__', None)
        if setstate is not None and getattr(cls, '__setstate__', None) is not getattr(
                object, '__setstate__', None):
            setstate(state)
        elif isinstance(state, dict):
            obj.__dict__.update(state)
        elif state is not None:
            raise TypeError(f'state of a {cls.__qualname__} is not a dict')
        return obj

    def tensor_of_class(self, t, e):
        """Loaded tensor ``t`` as an instance of the Tensor subclass its entry names."""
        cls = self.find(e['class'])
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f'{e["class"]} is not a tensor class')
        out = _make(t._data, t._device, cls=cls)
        for k, val in self.decode(e.get('slots', {'dict': []})).items():
            setattr(out, k, val)
        return out

    def array(self, e):
        """Entry ``e``'s data as a host array, checked against its sizes and checksum."""
        dtype = _DTYPES[e['dtype']]
        shape, offset = e['shape'], e['offset']
        if (type(shape) is not list or len(shape) > _MAX_DIMS
                or not all(type(s) is int and 0 <= s < 2**63 for s in shape)):
            raise ValueError(f'tensor shape {str(shape)[:80]}')
        nbytes = math.prod(shape) * dtype.np.itemsize
        if nbytes != e['nbytes'] or type(offset) is not int or offset < 0:
            raise ValueError(f'a tensor of shape {shape} and dtype {dtype.name} cannot have '
                             f'{str(e["nbytes"])[:40]} bytes at offset {str(offset)[:40]}')
        requires_grad = e['requires_grad']
        if type(requires_grad) is not bool or (requires_grad and not dtype.is_floating_point):
            raise ValueError(f'requires_grad={requires_grad!r} for dtype {dtype.name}')
        if type(e['device']) is not str:
            raise TypeError(f'device {str(e["device"])[:80]}')
        at = self.data_start + offset
        if at + nbytes > self.end:       # check before allocating: a bad header can't OOM us
            raise self.fail(f'is truncated: a tensor of shape {shape} needs {nbytes} bytes, '
                            f'only {max(self.end - at, 0)} are left')
        arr = numpy.empty(shape, dtype.np.newbyteorder('<'))
        self.fh.seek(at)
        buf = _bytes(arr)
        n = _read_into(self.fh, buf)
        if n != arr.nbytes:
            raise self.fail(f'is truncated: a tensor of shape {shape} needs '
                            f'{arr.nbytes} bytes, only {n} are left')
        if zlib.crc32(buf) != e['crc32']:
            raise self.fail(f'is corrupt: the data of a tensor of shape {shape} fails '
                            'its checksum')
        return arr.astype(arr.dtype.newbyteorder('='), copy=False)

    def place(self, t, location):
        """Move a host tensor to where ``map_location`` says (by default, where it was)."""
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, backend.Device)):
            moved = ml(t, location)
            if moved is not None:
                return moved
            ml = None
        if isinstance(ml, dict):
            ml = ml.get(location, location)
        target = location if ml is None else ml
        try:
            dev = backend.device(target)
        except RuntimeError as e:
            if str(target).partition(':')[0] in devices.registered():   # known, not usable here
                raise self.fail(
                    f'holds a tensor on {location}, which cannot be restored here ({e}). On a '
                    f"CPU-only machine, pass map_location='{backend.CPU}' to load it onto the "
                    'CPU.') from None
            if target is location:
                raise self.fail(f'is corrupt: a tensor has the unknown device '
                                f'{location[:80]!r}') from None
            raise
        if dev is backend.CPU:
            return t
        return _make(dev.asarray(t._data), dev)


def _read_into(fh, buf):
    """Fill ``buf`` from ``fh`` (which may return short reads); the number of bytes read."""
    got, n = 0, len(buf)
    while got < n:
        k = fh.readinto(buf[got:]) if hasattr(fh, 'readinto') else None
        if k is None:
            chunk = fh.read(n - got)
            k = len(chunk)
            buf[got:got + k] = numpy.frombuffer(chunk, numpy.uint8)
        if not k:
            break
        got += k
    return got


def _identify(head):
    """Say what a file that is not ours looks like (pickles are refused, never loaded)."""
    if head[:4] == b'PK\x03\x04':
        return ('is a zip archive (the torch.save format), which holds pickled Python '
                'objects; autograd.load never unpickles. Load it with PyTorch and re-save its '
                'tensors with autograd.save.')
    if head[:1] == b'\x80' or head[:1] in (b'(', b']', b'}'):
        return ('is a Python pickle (written by pickle.dump or a legacy torch.save); '
                'autograd.load refuses pickles because loading one can run arbitrary code.')
    if not head:
        return 'is empty (not an autograd.save file)'
    return 'is not an autograd.save file (bad magic number)'

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
(non-finite floats), ``{"tensor": i}`` (entry i of "tensors"), ``{"device": "cuda:0"}``,
``{"dtype": "float32"}``.  A tensor entry holds dtype, shape, device, requires_grad,
the blob's offset and size, and its CRC-32.  Loading parses JSON and copies bytes into
arrays: no pickle, so a file cannot run code.  ``torch.save`` files (pickles, or zip
archives of pickles) are recognised and refused.
"""
import collections
import contextlib
import io
import json
import math
import os
import re
import stat
import struct
import zlib

import numpy

from . import backend, devices
from .tensor import Tensor, _make

__all__ = ['save', 'load']

MAGIC = b'AUTOGRAD'
VERSION = 1
_PREFIX = struct.Struct('<8sIIII')      # magic, version, header size, header crc, reserved
_ALIGN = 64
_MAX_DIMS = 64                          # NumPy's limit
_DTYPES = {d.name: d for d in backend.ALL_DTYPES}


# ----------------------------------------------------------------------------- save

def save(obj, f):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, numbers, strings, bools, None,
    devices and dtypes) to ``f``, a path or a writable binary file object.

    A path is written atomically: the data goes to a temporary file in the same
    directory, is flushed to disk, and then renamed over ``f``, so a crash mid-save
    leaves the previous file intact (and the next save to ``f`` deletes the temporary a
    killed save left).  As with ``torch.save``, a symlink is written through (the link
    stays, its target gets the data) and an existing file keeps its permissions.  Tensors of any device are stored as host bytes
    plus their device string.
    """
    tensors = []
    root = _Encoder(tensors).encode(obj, 'obj')
    entries, blobs, offset = [], [], 0
    for t in tensors:
        arr = _host_le(t._data)
        nbytes = arr.nbytes
        entries.append({'dtype': t.dtype.name,
                        'shape': list(arr.shape), 'device': str(t._device),
                        'requires_grad': t._requires_grad, 'offset': offset,
                        'nbytes': nbytes, 'crc32': zlib.crc32(_bytes(arr))})
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
    path = os.path.realpath(path)
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

    def encode(self, x, where):
        if x is None or x is True or x is False or isinstance(x, str):
            return x
        if isinstance(x, Tensor):
            i = self.index.get(id(x))
            if i is None:
                i = self.index[id(x)] = len(self.tensors)
                self.tensors.append(x)
            return {'tensor': i}
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
        raise TypeError(f'autograd.save cannot store {where} of type {type(x).__name__}: '
                        'supported are tensors, dicts, lists, tuples, str, int, float, bool, '
                        'None, devices and dtypes')

    def _key(self, k, where):
        if k is None or isinstance(k, (bool, str, int, float)):
            return self.encode(k, where)
        raise TypeError(f'autograd.save cannot store a dict key of type {type(k).__name__} '
                        f'in {where}: keys must be str, int, float, bool or None')


# ----------------------------------------------------------------------------- load

def load(f, map_location=None, weights_only=True):
    """Read what :func:`save` wrote.  ``f`` is a path or a readable binary file object.

    ``map_location`` moves tensors: None restores each to its saved device; a device or
    string sends all there; a dict maps saved device strings to new ones
    (``{'cuda:0': 'cpu'}``); a callable ``fn(tensor, saved_location)`` gets each tensor
    on the CPU and returns it moved (or None for the default).  ``weights_only`` is
    accepted for PyTorch compatibility: this format holds data only, so it never
    changes anything.  Corrupt, truncated or pickle files raise RuntimeError.
    """
    if hasattr(f, 'read'):
        name = getattr(f, 'name', '<file object>')
        if not f.seekable():
            f = io.BytesIO(f.read())
        return _Reader(f, name, map_location).load()
    name = os.fspath(f)
    with open(name, 'rb') as fh:
        return _Reader(fh, name, map_location).load()


class _Reader:
    """Reads one file.  Every size the file states is checked against the bytes the file
    has before anything is allocated, so a corrupt or crafted file (a flipped size byte, a
    huge shape, deep nesting) costs at most about its own size in memory, and every kind
    of corruption raises RuntimeError naming the file."""

    def __init__(self, fh, name, map_location):
        self.fh = fh
        self.name = name
        self.map_location = map_location

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
            t = self.place(_make(arr, backend.CPU), e['device'])
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
            if tag == 'tensor':
                if type(x) is not int or x < 0:
                    raise IndexError(f'tensor number {str(x)[:80]}')
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
        raise ValueError(f'unknown value {str(v)[:80]}')

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

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
import io
import json
import math
import os
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


# ----------------------------------------------------------------------------- save

def save(obj, f):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, numbers, strings, bools, None,
    devices and dtypes) to ``f``, a path or a writable binary file object.

    A path is written atomically: the data goes to a temporary file in the same
    directory, is flushed to disk, and then renamed over ``f``, so a crash mid-save
    leaves the previous file intact.  Tensors of any device are stored as host bytes
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
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f'.{os.path.basename(path)}.{os.getpid()}.'
                                  f'{os.urandom(4).hex()}.tmp')
    # os.open with mode 0o666 lets the umask decide the final permissions, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
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
    def __init__(self, fh, name, map_location):
        self.fh = fh
        self.name = name
        self.map_location = map_location
        self.loaded = {}

    def fail(self, what):
        return RuntimeError(f'autograd.load: {self.name!r} {what}')

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
        header = self._read(size, 'the header')
        if zlib.crc32(header) != crc:
            raise self.fail('is corrupt: the header checksum does not match')
        try:
            meta = json.loads(header.decode('utf-8'))
            root, entries = meta['root'], meta['tensors']
        except (ValueError, KeyError, TypeError) as e:
            raise self.fail(f'is corrupt: unreadable header ({e})') from None
        self.data_start = start + _PREFIX.size + size
        self.entries = entries
        try:
            return self.decode(root)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise self.fail(f'is corrupt: malformed header ({type(e).__name__}: {e})') from None

    def _read(self, n, what):
        data = self.fh.read(n)
        if len(data) != n:
            raise self.fail(f'is truncated: {what} needs {n} bytes, only {len(data)} are left')
        return data

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
                t = self.loaded.get(x)
                if t is None:
                    t = self.loaded[x] = self.tensor(self.entries[x])
                return t
            if tag == 'device':
                return backend.device(x)
            if tag == 'dtype':
                return backend.as_dtype(x)
        raise ValueError(f'unknown value {str(v)[:80]}')

    def tensor(self, e):
        np_dtype = backend.as_dtype(e['dtype']).np.newbyteorder('<')   # TypeError if unknown
        shape = tuple(int(s) for s in e['shape'])
        nbytes = math.prod(shape) * np_dtype.itemsize
        if nbytes != e['nbytes'] or min(shape, default=0) < 0:
            raise ValueError(f'tensor of shape {list(shape)} and dtype {e["dtype"]} cannot '
                             f'have {e["nbytes"]} bytes')
        at = self.data_start + int(e['offset'])
        if at + nbytes > self.end:       # check before allocating: a bad header can't OOM us
            raise self.fail(f'is truncated: a tensor of shape {list(shape)} needs '
                            f'{nbytes} bytes, only {max(self.end - at, 0)} are left')
        arr = numpy.empty(shape, np_dtype)
        self.fh.seek(at)
        buf = _bytes(arr)
        n = _read_into(self.fh, buf)
        if n != arr.nbytes:
            raise self.fail(f'is truncated: a tensor of shape {list(shape)} needs '
                            f'{arr.nbytes} bytes, only {n} are left')
        if zlib.crc32(buf) != e['crc32']:
            raise self.fail(f'is corrupt: the data of a tensor of shape {list(shape)} fails '
                            'its checksum')
        arr = arr.astype(arr.dtype.newbyteorder('='), copy=False)
        t = self.place(_make(arr, backend.CPU), e['device'])
        if e['requires_grad']:
            t._requires_grad = True
        return t

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
                raise RuntimeError(
                    f'autograd.load: {self.name!r} holds a tensor on {location}, which cannot '
                    f'be restored here ({e}). On a CPU-only machine, pass '
                    f"map_location='{backend.CPU}' to load it onto the CPU.") from None
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

"""A corruption campaign against autograd.load: every truncation of a small checkpoint,
seeded random byte flips, and crafted headers (with valid checksums).  Each file must
either load the original data exactly or raise the one corruption error (RuntimeError
naming the file); never another exception type, never a hang, never an allocation much
larger than the file (measured with tracemalloc, which sees NumPy's and Python's memory).
PyTorch's torch.load raises RuntimeError for a corrupt checkpoint too."""
import json
import math
import os
import random
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib

import numpy as np
import pytest

import autograd

PREFIX = struct.Struct('<8sIIII')


def checkpoint():
    return {'w': autograd.arange(6, dtype=autograd.float32).reshape(2, 3),
            'b': autograd.tensor([1.5, -2.0], dtype=autograd.float64, requires_grad=True),
            'i': autograd.tensor([[7]], dtype=autograd.int64),
            'meta': (3, 'adam', [0.9, 0.999], {'lr': 1e-3, 1: None}),
            'dev': autograd.device('cpu'), 'dt': autograd.float16}


def same(a, b):
    """``a`` and ``b`` hold the same data: types, order, tensor dtypes/shapes/values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, autograd.Tensor):
        return (a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
                and a.requires_grad == b.requires_grad
                and np.array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy()))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.fixture(scope='module')
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'good.pt'
    autograd.save(checkpoint(), path)
    return path.read_bytes()


class Campaign:
    """Loads each variant from one path and checks the outcome."""

    def __init__(self, path):
        self.path = path
        self.loaded = self.failed = 0

    def __call__(self, data, must_fail=False):
        self.path.write_bytes(data)
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        began = time.perf_counter()
        try:
            out = autograd.load(self.path)
        except RuntimeError as e:
            assert str(self.path) in str(e), e
            self.failed += 1
        else:
            assert not must_fail, 'a crafted header loaded'
            assert same(out, checkpoint()), 'loaded different data'
            self.loaded += 1
        peak = tracemalloc.get_traced_memory()[1] - base
        assert peak < 2**20 + 16 * len(data), f'{peak} bytes allocated for a {len(data)}-byte file'
        assert time.perf_counter() - began < 2, 'load took too long'


@pytest.fixture
def campaign(tmp_path):
    tracemalloc.start()
    try:
        yield Campaign(tmp_path / 'bad.pt')
    finally:
        tracemalloc.stop()


def test_every_truncation(original, campaign):
    for n in range(len(original)):
        campaign(original[:n], must_fail=True)
    campaign(original)
    assert campaign.loaded == 1


def test_every_bit_of_the_fixed_header(original, campaign):
    """The 24-byte prefix (magic, version, header size, checksum, reserved), bit by bit:
    the header size is outside the checksum, so these reach the size checks."""
    for i in range(PREFIX.size):
        for bit in range(8):
            data = bytearray(original)
            data[i] ^= 1 << bit
            campaign(bytes(data))


def test_random_byte_flips(original, campaign):
    rng = random.Random(1234)
    for _ in range(800):
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 2, 5))):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        campaign(bytes(data))
    assert campaign.failed > 500 and campaign.loaded > 0   # padding bytes are not checked


def test_header_size_field_of_four_gigabytes(original, campaign):
    for size in (0xFFFFFFFF, 0x80000000, len(original)):
        campaign(original[:12] + struct.pack('<I', size) + original[16:], must_fail=True)


def resigned(data, header):
    """``data`` with its JSON header replaced (``header``: bytes, or an object to dump),
    the checksum made to match."""
    _, _, size, _, _ = PREFIX.unpack_from(data)
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (data[:12] + struct.pack('<II', len(raw), zlib.crc32(raw)) + data[20:24] + raw
            + data[24 + size:])


def header_of(data):
    size = PREFIX.unpack_from(data)[2]
    return json.loads(data[24:24 + size])


ENTRY_EDITS = [
    ('shape', [2**40, 2**40]), ('shape', [10**30]), ('shape', [math.inf]), ('shape', [-1, -6]),
    ('shape', [1] * 65), ('shape', [2] * 20000), ('shape', 'abc'), ('shape', None),
    ('shape', [2.0, 3.0]), ('shape', [True, 6]),
    ('nbytes', math.inf), ('nbytes', 2**70), ('nbytes', None), ('nbytes', 4 * 10**9),
    ('offset', -64), ('offset', -10**6), ('offset', math.inf), ('offset', '0'),
    ('offset', 2**62), ('offset', 1),
    ('dtype', 'object'), ('dtype', None), ('dtype', ['float32']), ('dtype', 'float128'),
    ('device', 'xpu'), ('device', 'cpu:5'), ('device', 5), ('device', None),
    ('device', 'cuda:99999999999999999999'), ('device', 'cpu:x'),
    ('requires_grad', 'yes'), ('requires_grad', None), ('crc32', None), ('crc32', -1),
]


@pytest.mark.parametrize('key, value', ENTRY_EDITS, ids=lambda v: str(v)[:20])
def test_crafted_tensor_entries(original, campaign, key, value):
    for which in range(3):
        header = header_of(original)
        header['tensors'][which][key] = value
        campaign(resigned(original, header), must_fail=True)
    header = header_of(original)
    del header['tensors'][0][key]
    campaign(resigned(original, header), must_fail=True)


def test_requires_grad_on_an_integer_tensor_is_corrupt(original, campaign):
    header = header_of(original)
    entry = next(e for e in header['tensors'] if e['dtype'] == 'int64')
    entry['requires_grad'] = True
    campaign(resigned(original, header), must_fail=True)


DEEP = 100000
CRAFTED = [
    b'', b'\xff\xfe', b'{', b'[]', b'5', b'null', b'{"root": 1}', b'{"tensors": []}',
    b'{"root": 1, "tensors": {}}', b'{"root": 1, "tensors": [5]}',
    b'{"root": 1, "tensors": [{}]}', b'{"root": 1e999999, "tensors": [[]]}',
    b'{"root": ' + b'[' * DEEP + b']' * DEEP + b', "tensors": []}',
    b'{"root": ' + b'{"list": [' * DEEP + b']}' * DEEP + b', "tensors": []}',
    b'{"root": ' + b'{"list": [' * DEEP + b'{"tensor": 0}' + b']}' * DEEP + b', "tensors": []}',
    b'{"root": {"tensor": 99}, "tensors": []}', b'{"root": {"tensor": -1}, "tensors": []}',
    b'{"root": {"tensor": true}, "tensors": []}', b'{"root": {"tensor": 0.0}, "tensors": []}',
    b'{"root": {"float": [1]}, "tensors": []}', b'{"root": {"float": "zz"}, "tensors": []}',
    b'{"root": {"float": 1' + b'0' * 400 + b'}, "tensors": []}',
    b'{"root": ' + b'1' * 5000 + b', "tensors": []}',
    b'{"root": {"dtype": "object"}, "tensors": []}', b'{"root": {"dtype": 5}, "tensors": []}',
    b'{"root": {"dtype": []}, "tensors": []}', b'{"root": {"device": "xpu"}, "tensors": []}',
    b'{"root": {"device": 3}, "tensors": []}', b'{"root": {"device": "cpu:7"}, "tensors": []}',
    b'{"root": {"dict": [[[1], 2]]}, "tensors": []}',
    b'{"root": {"dict": [[{"list": []}, 2]]}, "tensors": []}',
    b'{"root": {"dict": [[1, 2, 3]]}, "tensors": []}', b'{"root": {"dict": 5}, "tensors": []}',
    b'{"root": {"odict": [1]}, "tensors": []}', b'{"root": {"list": 5}, "tensors": []}',
    b'{"root": {"tuple": null}, "tensors": []}', b'{"root": {"a": 1, "b": 2}, "tensors": []}',
    b'{"root": {"set": 5}, "tensors": []}', b'{"root": [1, 2], "tensors": []}',
    # the whole-object tags (a saved module), malformed
    b'{"root": {"set": [{"list": []}]}, "tensors": []}', b'{"root": {"ref": 0}, "tensors": []}',
    b'{"root": {"ref": -1}, "tensors": []}', b'{"root": {"object": 5}, "tensors": []}',
    b'{"root": {"object": ["collections.OrderedDict"]}, "tensors": []}',
    b'{"root": {"object": [7, {"dict": []}]}, "tensors": []}',
    b'{"root": {"object": ["collections.OrderedDict", 5]}, "tensors": []}',
    b'{"root": {"global": 5}, "tensors": []}',
]


@pytest.mark.parametrize('header', CRAFTED, ids=lambda h: h[:40].decode('latin-1'))
def test_crafted_headers(original, campaign, header):
    campaign(resigned(original, header), must_fail=True)


def test_crafted_header_error_is_the_corruption_error(original, tmp_path):
    path = tmp_path / 'deep.pt'
    path.write_bytes(resigned(original, b'{"root": ' + b'[' * DEEP + b']' * DEEP
                              + b', "tensors": []}'))
    with pytest.raises(RuntimeError, match=r"deep\.pt' is corrupt: malformed header"):
        autograd.load(path)


def test_header_size_flip_is_refused_before_reading_under_a_memory_limit(original, tmp_path):
    """In a child process whose address space is limited, a header size of 4 GB gets the
    corruption error, not MemoryError (the size is checked before anything is read)."""
    resource = pytest.importorskip('resource')
    path = tmp_path / 'huge.pt'
    path.write_bytes(original[:12] + struct.pack('<I', 0xFFFFFFFF) + original[16:])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = (
        'import resource, sys, autograd\n'
        'soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n'
        'used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()\n'
        'resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, hard))\n'
        'try:\n'
        '    autograd.load(sys.argv[1])\n'
        'except RuntimeError as e:\n'
        '    print("RuntimeError", e)\n')
    if not os.path.exists('/proc/self/statm'):
        pytest.skip('needs /proc to size the memory limit')
    proc = subprocess.run([sys.executable, '-c', script, str(path)], cwd=root,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('RuntimeError') and 'huge.pt' in proc.stdout
    assert 'header size field' in proc.stdout

"""autograd.save / autograd.load: round trips, atomic writes, and refusal of bad files."""
import collections
import io
import json
import math
import os
import pickle
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import autograd
from oracle import each_library, torch

DTYPES = ['float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']
SHAPES = [(), (0,), (3, 0), (5,), (2, 3, 4)]


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    autograd.save(obj, buf)
    buf.seek(0)
    return autograd.load(buf, **load_kwargs)


def host(t):
    return t.detach().cpu().numpy()


def cuda_device_or_skip():
    try:
        return autograd.device('cuda')
    except RuntimeError:
        pytest.skip('no usable GPU')


# ----------------------------------------------------------------------------- round trips

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', SHAPES)
def test_tensor_roundtrip_keeps_values_dtype_and_shape(dtype, shape):
    arr = np.asarray(np.random.default_rng(0).standard_normal(shape) * 50).astype(dtype)
    out = roundtrip(autograd.tensor(arr))
    assert out.dtype == getattr(autograd, dtype)
    assert out.shape == shape
    np.testing.assert_array_equal(host(out), arr)


def test_non_contiguous_tensor_is_saved_in_logical_order():
    base = np.arange(12.0).reshape(3, 4)
    t = autograd.from_numpy(base.T)      # shares the transposed (strided) array
    assert not t.is_contiguous()
    np.testing.assert_array_equal(host(roundtrip(t)), base.T)


def test_nested_containers_keep_their_types_and_order():
    obj = collections.OrderedDict([
        ('b', [1, 2.5, -0.0, True, None, 'text', (3, 'x')]),
        ('a', {0: 'int key', '0': 'str key', 1.5: 'float key', None: False}),
        ('empty', ([], {}, ())),
    ])
    out = roundtrip(obj)
    assert type(out) is collections.OrderedDict and list(out) == ['b', 'a', 'empty']
    assert out == obj
    assert type(out['b'][3]) is bool and type(out['b'][0]) is int
    assert type(out['b'][6]) is tuple and type(out['empty'][0]) is list
    assert math.copysign(1.0, out['b'][2]) == -1.0


def test_plain_dict_stays_a_plain_dict():
    out = roundtrip({'z': 1, 'a': 2})
    assert type(out) is dict and list(out) == ['z', 'a']


def test_special_numbers():
    out = roundtrip([float('inf'), float('-inf'), float('nan'), 2**70, -2**63, 1e-310])
    assert out[0] == math.inf and out[1] == -math.inf and math.isnan(out[2])
    assert out[3:] == [2**70, -2**63, 1e-310]


def test_numpy_scalars_are_stored_as_python_numbers():
    out = roundtrip([np.float32(0.5), np.int64(7), np.bool_(True)])
    assert out == [0.5, 7, True] and type(out[1]) is int and type(out[2]) is bool


@pytest.mark.parametrize('dtype', DTYPES + ['complex128'])
@pytest.mark.parametrize('shape', SHAPES)
def test_numpy_arrays_round_trip_as_numpy_arrays(dtype, shape):
    """torch.save pickles NumPy arrays (pytorch/examples' time_sequence_prediction saves its
    data so): here they are stored as bytes and come back as arrays, whatever
    weights_only or map_location say, shared where they were shared."""
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal(shape) * 50).astype(dtype)
    f = np.asfortranarray(a.reshape(shape[::-1]) if len(shape) > 1 else a)
    obj = {'a': a, 'again': a, 'fortran': f, 'view': a[..., ::2] if a.ndim else a[...],
           't': autograd.ones(2)}
    for kwargs in ({}, {'weights_only': False}, {'map_location': 'cpu'}):
        back = roundtrip(obj, **kwargs)
        for k in ('a', 'fortran', 'view'):
            assert type(back[k]) is np.ndarray and back[k].dtype == obj[k].dtype
            np.testing.assert_array_equal(back[k], obj[k])
        assert back['again'] is back['a'] and isinstance(back['t'], autograd.Tensor)
        back['a'][...] = 1 if a.size else 0          # writable, its own memory
        np.testing.assert_array_equal(back['view'], obj['view'])


def test_numpy_arrays_of_other_dtypes_are_refused_naming_where():
    for bad in (np.array(['x']), np.array([None, 1]), np.zeros(2, 'datetime64[s]')):
        with pytest.raises(TypeError, match=r"obj\['data'\]\[0\]: a NumPy array of dtype"):
            autograd.save({'data': [bad]}, io.BytesIO())


def test_an_ndarray_entry_cannot_be_read_as_a_tensor():
    """A corrupt header that points a tensor reference at an array entry (or back) is a
    corrupt file, not a wrong object."""
    buf = io.BytesIO()
    autograd.save([np.arange(3.0), autograd.ones(2)], buf)
    data = buf.getvalue()
    size = struct.unpack_from('<I', data, 12)[0]
    header = data[24:24 + size]
    for a, b in ((b'{"ndarray":0}', b'{"tensor":0}'), (b'{"tensor":1}', b'{"ndarray":1}')):
        assert a in header
        with pytest.raises(RuntimeError, match='corrupt'):
            autograd.load(io.BytesIO(_with_header(data, header.replace(a, b))))


def test_devices_and_dtypes():
    out = roundtrip({'dev': autograd.device('cpu'), 'dt': autograd.float16, 'i': autograd.int64})
    assert out['dev'] == autograd.device('cpu')
    assert out['dt'] is autograd.float16 and out['i'] is autograd.int64


def test_requires_grad_is_kept_and_loaded_tensors_are_leaves():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    out = roundtrip({'x': x, 'y': y, 'c': autograd.tensor([3.0])})
    assert out['x'].requires_grad and out['x'].is_leaf
    assert out['y'].is_leaf and out['y'].grad_fn is None
    assert not out['c'].requires_grad
    np.testing.assert_array_equal(host(out['y']), [2.0, 4.0])


def test_the_same_tensor_saved_twice_loads_as_one_object():
    w = autograd.ones(3)
    out = roundtrip({'a': w, 'b': [w], 'c': w.clone()})
    assert out['a'] is out['b'][0]
    assert out['a'] is not out['c']


def test_loaded_tensors_share_no_memory_with_each_other_or_the_originals():
    base = autograd.zeros(4)
    view = base.view(2, 2)               # shares base's storage
    out = roundtrip([base, view])
    out[0]._data[...] = 7         # writing into one loaded tensor
    assert host(out[1]).sum() == 0 and host(base).sum() == 0
    assert autograd.backend.is_writeable(out[0]._data) and out[0]._data.flags.owndata


def test_path_str_and_pathlib(tmp_path):
    t = autograd.arange(6).reshape(2, 3)
    autograd.save({'t': t}, str(tmp_path / 'a.pt'))
    autograd.save({'t': t}, tmp_path / 'b.pt')
    for name in ('a.pt', 'b.pt'):
        np.testing.assert_array_equal(host(autograd.load(tmp_path / name)['t']), host(t))


def test_file_object_at_an_offset():
    buf = io.BytesIO()
    buf.write(b'prefix')
    autograd.save([autograd.tensor([1.0, 2.0])], buf)
    buf.write(b'suffix')
    buf.seek(len(b'prefix'))
    out = autograd.load(buf)
    np.testing.assert_array_equal(host(out[0]), [1.0, 2.0])


def test_non_seekable_file_object(tmp_path):
    autograd.save({'a': autograd.ones(2, 2)}, tmp_path / 'f.pt')

    class Stream(io.RawIOBase):
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.inner.readinto(b)

    out = autograd.load(io.BufferedReader(Stream((tmp_path / 'f.pt').read_bytes())))
    np.testing.assert_array_equal(host(out['a']), np.ones((2, 2), np.float32))


def test_file_object_returning_short_reads():
    class Trickle(io.BytesIO):
        def readinto(self, b):
            return super().readinto(memoryview(b)[:7])     # at most 7 bytes a call

    buf = io.BytesIO()
    t = autograd.arange(100, dtype=autograd.float64)
    autograd.save(t, buf)
    np.testing.assert_array_equal(host(autograd.load(Trickle(buf.getvalue()))), host(t))


def test_unsupported_object_raises_type_error_naming_where():
    with pytest.raises(TypeError, match=r"obj\['opt'\]\[1\].*object"):
        autograd.save({'opt': [1, object()]}, io.BytesIO())


def test_unsupported_dict_key_raises_type_error():
    with pytest.raises(TypeError, match='key of type tuple'):
        autograd.save({(1, 2): 3}, io.BytesIO())


def test_a_cycle_raises_value_error():
    a = []
    a.append(a)
    with pytest.raises(ValueError, match='cycle'):
        autograd.save(a, io.BytesIO())


# ----------------------------------------------------------------------------- map_location

def _rewrite_devices(data, new_device):
    """The same file with every tensor's device entry replaced (header checksum redone)."""
    magic, version, size, _, reserved = struct.unpack_from('<8sIIII', data)
    header = json.loads(data[24:24 + size])
    for e in header['tensors']:
        e['device'] = new_device
    return _with_header(data, json.dumps(header).encode())


def _with_header(data, raw):
    """``data`` with its JSON header replaced by ``raw`` (tensor offsets are relative to the
    end of the header, so they stay valid)."""
    magic, version, size, _, reserved = struct.unpack_from('<8sIIII', data)
    return (struct.pack('<8sIIII', magic, version, len(raw), zlib.crc32(raw), reserved) + raw
            + data[24 + size:])


def _cuda_file():
    buf = io.BytesIO()
    autograd.save({'w': autograd.tensor([1.0, 2.0])}, buf)
    return io.BytesIO(_rewrite_devices(buf.getvalue(), 'cuda:0'))


@pytest.mark.parametrize('where', ['cpu', autograd.device('cpu'), {'cuda:0': 'cpu'}])
def test_map_location_moves_cuda_tensors_to_the_cpu(where):
    out = autograd.load(_cuda_file(), map_location=where)
    assert out['w'].device == autograd.device('cpu')
    np.testing.assert_array_equal(host(out['w']), [1.0, 2.0])


def test_map_location_callable_gets_each_tensor_and_its_saved_location():
    seen = []

    def move(t, location):
        seen.append(location)
        return t * 10

    out = autograd.load(_cuda_file(), map_location=move)
    assert seen == ['cuda:0']
    np.testing.assert_array_equal(host(out['w']), [10.0, 20.0])


def test_cuda_tensor_without_a_gpu_raises_and_suggests_map_location():
    try:
        autograd.device('cuda')
    except RuntimeError:
        pass
    else:
        pytest.skip('a GPU is present: the tensor loads onto it')
    with pytest.raises(RuntimeError, match="cuda:0.*map_location='cpu'"):
        autograd.load(_cuda_file())


def test_cuda_roundtrip_restores_the_device():
    dev = cuda_device_or_skip()
    t = autograd.tensor([[1.5, 2.5]], device=dev)
    out = roundtrip({'t': t, 'i': autograd.tensor([3], device=dev)})
    assert out['t'].device == dev and out['i'].device == dev
    np.testing.assert_array_equal(host(out['t'].cpu()), [[1.5, 2.5]])
    cpu = roundtrip({'t': t}, map_location='cpu')['t']
    assert cpu.device == autograd.device('cpu')
    moved = roundtrip({'t': autograd.ones(2)}, map_location='cuda')['t']
    assert moved.device == dev


# ----------------------------------------------------------------------------- atomic writes

def test_save_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'ckpt.pt'
    autograd.save({'v': 1}, path)
    autograd.save({'v': 2}, path)
    assert autograd.load(path) == {'v': 2}
    assert os.listdir(tmp_path) == ['ckpt.pt']


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pt'
    autograd.save({'v': autograd.ones(3)}, path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        autograd.save({'v': autograd.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['ckpt.pt']


def _kill_mid_save(path):
    """Start a save to ``path`` in a child that dies after writing part of the new file,
    without any cleanup; the child's process id."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = (
        'import os, sys, autograd\n'
        'real_fdopen = os.fdopen\n'
        'class Dying:\n'
        '    def __init__(self, f): self.f = f\n'
        '    def __enter__(self): return self\n'
        '    def __exit__(self, *exc): self.f.close()\n'
        '    def write(self, b): self.f.write(b); self.f.flush(); os._exit(9)\n'
        'os.fdopen = lambda *a, **k: Dying(real_fdopen(*a, **k))\n'
        'autograd.save({"v": autograd.zeros(100000, device="cpu")}, sys.argv[1])\n')
    proc = subprocess.Popen([sys.executable, '-c', script, str(path)], cwd=root,
                            env=dict(os.environ, PYTHONPATH=root))
    assert proc.wait() == 9
    return proc.pid


def test_process_killed_mid_save_leaves_the_old_file(tmp_path):
    path = tmp_path / 'ckpt.pt'
    autograd.save({'v': autograd.ones(3)}, path)
    before = path.read_bytes()
    _kill_mid_save(path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(host(autograd.load(path)['v']), np.ones(3, np.float32))


def _values(lib, path):
    return lib.load(path)['w'].tolist()


@pytest.mark.skipif(not hasattr(os, 'symlink'), reason='needs symlinks')
def test_save_through_a_symlink_writes_its_target_as_torch_save(tmp_path):
    for lib in each_library(torch, autograd):
        d = tmp_path / lib.__name__
        (d / 'real').mkdir(parents=True)
        target, link = d / 'real' / 'ckpt.pt', d / 'link.pt'
        lib.save({'w': lib.ones(2)}, target)
        os.symlink(os.path.join('real', 'ckpt.pt'), link)          # relative, another dir
        lib.save({'w': lib.zeros(3)}, link)
        assert os.path.islink(link) and os.readlink(link) == os.path.join('real', 'ckpt.pt')
        assert _values(lib, target) == [0.0, 0.0, 0.0], lib.__name__
        assert sorted(os.listdir(d / 'real')) == ['ckpt.pt'] and sorted(os.listdir(d)) == [
            'link.pt', 'real']
        os.symlink('made.pt', d / 'dangling.pt')                   # a missing target is made
        lib.save({'w': lib.ones(1)}, d / 'dangling.pt')
        assert os.path.islink(d / 'dangling.pt') and _values(lib, d / 'made.pt') == [1.0]


@pytest.mark.skipif(os.name != 'posix', reason='POSIX permissions')
def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    for lib in each_library(torch, autograd):
        path = tmp_path / f'{lib.__name__}.pt'
        lib.save({'w': lib.ones(2)}, path)
        os.chmod(path, 0o640)
        lib.save({'w': lib.zeros(2)}, path)
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o640), lib.__name__
        assert _values(lib, path) == [0.0, 0.0]
    umask = os.umask(0)
    os.umask(umask)
    autograd.save([1], tmp_path / 'new.pt')                     # a new file: the umask decides
    assert os.stat(tmp_path / 'new.pt').st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(os.name != 'posix', reason='stale temporaries are found by process id')
def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    path = tmp_path / 'ckpt.pt'
    pid = _kill_mid_save(path)
    stale = [n for n in os.listdir(tmp_path) if n != 'ckpt.pt']
    assert stale and all(n.startswith(f'.ckpt.pt.{pid}.') for n in stale)
    live = tmp_path / f'.ckpt.pt.{os.getpid()}.0123abcd.tmp'    # a save still under way
    live.write_bytes(b'partial')
    other = tmp_path / f'.other.pt.{pid}.0123abcd.tmp'          # another file's
    other.write_bytes(b'partial')
    autograd.save({'v': 2}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(['ckpt.pt', live.name, other.name])
    assert autograd.load(path) == {'v': 2}


def test_type_error_in_save_does_not_touch_the_file(tmp_path):
    path = tmp_path / 'ckpt.pt'
    autograd.save([1], path)
    with pytest.raises(TypeError):
        autograd.save([object()], path)
    assert autograd.load(path) == [1]


# ----------------------------------------------------------------------------- bad files

class _Evil:
    """Unpickling this would create a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_is_refused_and_never_run(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'evil.pt'
    path.write_bytes(pickle.dumps(_Evil(marker)))
    for weights_only in (True, False):
        with pytest.raises(RuntimeError, match=r'evil\.pt.*pickle'):
            autograd.load(path, weights_only=weights_only)
    assert not os.path.exists(marker)


def test_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip('torch')
    path = tmp_path / 'model.pt'
    torch.save({'w': torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match=r'model\.pt.*torch\.save.*never unpickles'):
        autograd.load(path)


def test_legacy_torch_save_pickle_is_refused(tmp_path):
    torch = pytest.importorskip('torch')
    path = tmp_path / 'legacy.pt'
    torch.save({'w': torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match=r'legacy\.pt.*pickle'):
        autograd.load(path)


def test_empty_and_foreign_files(tmp_path):
    (tmp_path / 'empty').write_bytes(b'')
    (tmp_path / 'text').write_bytes(b'hello world, this is not a checkpoint')
    with pytest.raises(RuntimeError, match='empty'):
        autograd.load(tmp_path / 'empty')
    with pytest.raises(RuntimeError, match=r"'.*text' is not an autograd.save file"):
        autograd.load(tmp_path / 'text')


def _saved_bytes():
    buf = io.BytesIO()
    autograd.save({'w': autograd.arange(40, dtype=autograd.float32).reshape(4, 10),
                   'b': autograd.ones(3, dtype=autograd.float64), 'step': 3}, buf)
    return buf.getvalue()


def test_every_truncation_raises_a_clear_error(tmp_path):
    data = _saved_bytes()
    path = tmp_path / 'cut.pt'
    for n in sorted({1, 8, 12, 23, 24, 30, len(data) // 2, len(data) - 70, len(data) - 1}):
        path.write_bytes(data[:n])
        with pytest.raises(RuntimeError, match=r'cut\.pt.* is truncated'):
            autograd.load(path)


def test_flipped_data_byte_fails_the_checksum(tmp_path):
    data = bytearray(_saved_bytes())
    data[-24] ^= 0xFF                   # the first byte of the last tensor (3 float64s)
    path = tmp_path / 'flip.pt'
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r'flip\.pt.*corrupt.*checksum'):
        autograd.load(path)


def test_flipped_header_byte_fails_the_checksum(tmp_path):
    data = bytearray(_saved_bytes())
    data[40] ^= 0x01
    path = tmp_path / 'flip.pt'
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r'flip\.pt.*corrupt.*header checksum'):
        autograd.load(path)


def test_a_header_asking_for_an_unknown_dtype_is_corrupt():
    data = _saved_bytes()
    size = struct.unpack_from('<I', data, 12)[0]
    header = data[24:24 + size].replace(b'"float64"', b'"object"')
    with pytest.raises(RuntimeError, match='corrupt'):
        autograd.load(io.BytesIO(_with_header(data, header)))


def test_a_flipped_header_size_byte_is_refused_before_anything_is_read(tmp_path):
    data = _saved_bytes()
    path = tmp_path / 'size.pt'
    path.write_bytes(data[:12] + struct.pack('<I', 0xFFFFFFFF) + data[16:])
    with pytest.raises(RuntimeError, match=r"size\.pt' is truncated or corrupt: its header size"):
        autograd.load(path)


@pytest.mark.parametrize('key, value', [('shape', [2**40, 2**40]), ('shape', [1e999]),
                                        ('shape', [2] * 10000), ('offset', -64),
                                        ('offset', 1e999), ('device', 'xpu'), ('dtype', None),
                                        ('requires_grad', 'yes')])
def test_a_crafted_tensor_entry_is_corrupt(tmp_path, key, value):
    data = _saved_bytes()
    size = struct.unpack_from('<I', data, 12)[0]
    header = json.loads(data[24:24 + size])
    header['tensors'][0][key] = value
    path = tmp_path / 'crafted.pt'
    path.write_bytes(_with_header(data, json.dumps(header).encode()))
    with pytest.raises(RuntimeError, match=r"crafted\.pt' is (corrupt|truncated)"):
        autograd.load(path)


def test_a_deeply_nested_header_is_corrupt(tmp_path):
    path = tmp_path / 'deep.pt'
    path.write_bytes(_with_header(_saved_bytes(), b'{"root": ' + b'[' * 100000 + b']' * 100000
                                  + b', "tensors": []}'))
    with pytest.raises(RuntimeError, match=r"deep\.pt' is corrupt: malformed header"):
        autograd.load(path)


def test_an_error_of_a_map_location_callable_is_not_called_corruption():
    def move(t, location):
        raise ValueError('my own error')

    with pytest.raises(ValueError, match='my own error'):
        autograd.load(_cuda_file(), map_location=move)


def test_load_of_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        autograd.load(tmp_path / 'nope.pt')


# ----------------------------------------------------------------------------- checkpoints

def test_model_and_optimizer_checkpoint_resumes_identically(tmp_path):
    nn = pytest.importorskip('nn')
    optim = pytest.importorskip('optim')

    def make():
        autograd.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        return model, optim.Adam(model.parameters(), lr=0.01)

    def step(model, opt, x):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()

    x = autograd.randn(5, 3)
    model, opt = make()
    step(model, opt, x)
    autograd.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'epoch': 1},
                  tmp_path / 'ckpt.pt')
    model2, opt2 = make()
    ckpt = autograd.load(tmp_path / 'ckpt.pt')
    model2.load_state_dict(ckpt['model'])
    opt2.load_state_dict(ckpt['opt'])
    step(model, opt, x)
    step(model2, opt2, x)
    assert ckpt['epoch'] == 1
    for (name, p), (_, q) in zip(model.named_parameters(), model2.named_parameters()):
        np.testing.assert_array_equal(host(p), host(q), err_msg=name)

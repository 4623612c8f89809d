"""safetensors files both ways against ``safetensors.torch``: ours open there, theirs here,
by PyTorch's state-dict keys; the byte-level API; the same refusals."""
import numpy as np
import pytest

import autograd
import nn
from oracle import torch

safetensors = pytest.importorskip('safetensors')
st_torch = pytest.importorskip('safetensors.torch')
from autograd import safetensors as ours        # noqa: E402

DTYPES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool']


def sample(lib, dtype, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 10
    return lib.tensor(x).to(getattr(lib, dtype))


def host(t):
    return t.detach().cpu().numpy()


def test_our_file_loads_in_safetensors_torch(tmp_path):
    tensors = {f'{d}.w': sample(autograd, d, (2, 3), i) for i, d in enumerate(DTYPES)}
    tensors['scalar'] = autograd.tensor(3.5)
    tensors['empty'] = autograd.zeros(0, 4)
    ours.save_file(tensors, tmp_path / 'ours.safetensors', metadata={'format': 'pt'})
    theirs = st_torch.load_file(tmp_path / 'ours.safetensors')
    assert set(theirs) == set(tensors)
    for k, t in tensors.items():
        assert str(theirs[k].dtype) == 'torch.' + t.dtype.name and tuple(theirs[k].shape) == t.shape
        np.testing.assert_array_equal(theirs[k].numpy(), host(t))
    with safetensors.safe_open(tmp_path / 'ours.safetensors', framework='pt') as f:
        assert f.metadata() == {'format': 'pt'}


def test_their_file_loads_here_in_their_order(tmp_path):
    tensors = {f'layer.{d}': sample(torch, d, (3, 2), i) for i, d in enumerate(DTYPES)}
    st_torch.save_file(tensors, tmp_path / 'theirs.safetensors')
    loaded = ours.load_file(tmp_path / 'theirs.safetensors')
    assert list(loaded) == list(st_torch.load_file(tmp_path / 'theirs.safetensors'))
    for k, t in tensors.items():
        assert loaded[k].dtype.name == str(t.dtype)[6:] and loaded[k].device.type == 'cpu'
        np.testing.assert_array_equal(host(loaded[k]), t.numpy())


def test_bytes_round_trip_both_ways():
    t = {'a': torch.arange(6.0).reshape(2, 3), 'b': torch.tensor([1, 2], dtype=torch.int64)}
    loaded = ours.load(st_torch.save(t))
    for k in t:
        np.testing.assert_array_equal(host(loaded[k]), t[k].numpy())
    back = st_torch.load(ours.save(loaded))
    for k in t:
        assert torch.equal(back[k], t[k])


def test_pytorch_weights_load_into_a_model_by_name(tmp_path):
    t_model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))
    t_model.train()(torch.randn(4, 1, 6, 6))           # batch-norm statistics move
    t_model.eval()
    st_torch.save_model(t_model, tmp_path / 'model.safetensors')
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3)).eval()
    missing, unexpected = ours.load_model(model, tmp_path / 'model.safetensors',
                                          device=autograd.ones(1).device)
    assert missing == [] and unexpected == []
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(host(model(autograd.tensor(x))),
                               t_model(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_our_model_loads_into_pytorch_by_name(tmp_path):
    model = nn.Sequential(nn.Linear(4, 5), nn.LayerNorm(5), nn.Linear(5, 2))
    ours.save_model(model, tmp_path / 'm.safetensors')
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.LayerNorm(5),
                                  torch.nn.Linear(5, 2))
    missing, unexpected = st_torch.load_model(t_model, tmp_path / 'm.safetensors')
    assert not missing and not unexpected
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(t_model(torch.tensor(x)).detach().numpy(),
                               host(model(autograd.tensor(x))), rtol=1e-5, atol=1e-6)


def test_tied_weights_as_safetensors_torch(tmp_path):
    emb, out = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    out.weight = emb.weight
    model = nn.ModuleDict({'emb': emb, 'out': out})
    t_emb, t_out = torch.nn.Embedding(5, 3), torch.nn.Linear(3, 5, bias=False)
    t_out.weight = t_emb.weight
    t_model = torch.nn.ModuleDict({'emb': t_emb, 'out': t_out})
    for save_file, m in ((ours.save_file, model), (st_torch.save_file, t_model)):
        with pytest.raises(RuntimeError, match='Some tensors share memory'):
            save_file(m.state_dict(), tmp_path / 'x.safetensors')
    ours.save_model(model, tmp_path / 'ours.safetensors')
    st_torch.save_model(t_model, tmp_path / 'theirs.safetensors')
    assert set(ours.load_file(tmp_path / 'ours.safetensors')) == set(
        st_torch.load_file(tmp_path / 'theirs.safetensors'))
    fresh = nn.ModuleDict({'emb': nn.Embedding(5, 3), 'out': nn.Linear(3, 5, bias=False)})
    fresh['out'].weight = fresh['emb'].weight
    assert ours.load_model(fresh, tmp_path / 'theirs.safetensors') == ([], [])
    np.testing.assert_array_equal(host(fresh['out'].weight), t_out.weight.detach().numpy())


def test_refusals_as_safetensors_torch(tmp_path):
    with pytest.raises(ValueError, match='non contiguous tensor: `a`'):
        ours.save_file({'a': autograd.ones(3, 4).t()}, tmp_path / 'x')
    with pytest.raises(ValueError, match='non contiguous tensor: `a`'):
        st_torch.save_file({'a': torch.ones(3, 4).t()}, tmp_path / 'x')
    with pytest.raises(ValueError, match='Key `a` is invalid'):
        ours.save_file({'a': 1}, tmp_path / 'x')
    with pytest.raises(ValueError, match='Key `a` is invalid'):
        st_torch.save_file({'a': 1}, tmp_path / 'x')


def test_load_onto_the_device_of_the_run(tmp_path):
    dev = autograd.ones(1).device
    ours.save_file({'w': autograd.arange(4.0)}, tmp_path / 'w.safetensors')
    loaded = ours.load_file(tmp_path / 'w.safetensors', device=str(dev))
    assert loaded['w'].device == dev
    np.testing.assert_array_equal(host(loaded['w']), [0, 1, 2, 3])

"""Whole-model saving, compared with PyTorch's ``torch.save(model)`` and its ``weights_only``
loader: classes stored by name, rebuilt only from an allow-list, refused otherwise with
PyTorch's exception type and instructions; never unpickled, still atomic."""
import os
import pickle
import re
import sys

import numpy as np
import pytest

import autograd
import nn
from oracle import torch

serialization = autograd.serialization


def host(t):
    return t.detach().cpu().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
        self.scale = 0.5
        self.names = {'a', 'b'}

    def forward(self, x):
        return self.head(self.bn(self.fc(x))) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.bn = torch.nn.BatchNorm1d(4)
        self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))
        self.scale = 0.5
        self.names = {'a', 'b'}

    def forward(self, x):
        return self.head(self.bn(self.fc(x))) * self.scale


OURS = [Net, nn.Linear, nn.BatchNorm1d, nn.Sequential, nn.ReLU]
THEIRS = [TorchNet, torch.nn.Linear, torch.nn.BatchNorm1d, torch.nn.Sequential, torch.nn.ReLU]


@pytest.fixture(autouse=True)
def no_user_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def trained(model, lib):
    """A model whose batch-norm statistics and weights differ from a fresh one's."""
    x = lib.tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    model.train()
    model(x).sum().backward()
    model.eval()
    return model


def unsupported(message):
    return re.search(r'Unsupported global: GLOBAL (\S+) was not an allowed global', message)


def test_unlisted_class_is_refused_as_pytorch(tmp_path):
    autograd.save(trained(Net(), autograd), tmp_path / 'ours.pt')
    torch.save(trained(TorchNet(), torch), tmp_path / 'theirs.pt')
    errors = []
    for load, path in ((autograd.load, 'ours.pt'), (torch.load, 'theirs.pt')):
        with pytest.raises(pickle.UnpicklingError) as info:
            load(tmp_path / path)
        errors.append(str(info.value))
    ours, theirs = errors
    assert ours.startswith('Weights only load failed.') and theirs.startswith(
        'Weights only load failed.')
    assert unsupported(ours).group(1) == f'{__name__}.Net'
    assert unsupported(theirs).group(1) == f'{__name__}.TorchNet'
    # the same instructions, with this project's module names
    assert ours.split('WeightsUnpickler error: ')[1] == theirs.split(
        'WeightsUnpickler error: ')[1].split('\n\n')[0].replace('torch.', 'autograd.').replace(
        'TorchNet', 'Net')
    assert f'`autograd.serialization.add_safe_globals([{__name__}.Net])`' in ours
    assert f'`autograd.serialization.safe_globals([{__name__}.Net])` context manager' in ours


def test_each_class_must_be_allowed_as_pytorch(tmp_path):
    # allowing only the outer class: both loaders next stop at a layer class
    autograd.save(Net(), tmp_path / 'ours.pt')
    torch.save(TorchNet(), tmp_path / 'theirs.pt')
    with serialization.safe_globals([Net]), pytest.raises(pickle.UnpicklingError) as ours:
        autograd.load(tmp_path / 'ours.pt')
    with torch.serialization.safe_globals([TorchNet]), \
            pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / 'theirs.pt')
    name = unsupported(str(ours.value)).group(1)
    assert name.startswith('nn.modules.')
    assert 'torch.' + name == unsupported(str(theirs.value)).group(1)


def test_allowed_model_loads_with_its_state_as_pytorch(tmp_path):
    model = trained(Net(), autograd)
    t_model = trained(TorchNet(), torch)
    t_model.load_state_dict({k: torch.tensor(host(v)) for k, v in model.state_dict().items()})
    autograd.save(model, tmp_path / 'ours.pt')
    torch.save(t_model, tmp_path / 'theirs.pt')
    with serialization.safe_globals(OURS):
        loaded = autograd.load(tmp_path / 'ours.pt')
    with torch.serialization.safe_globals(THEIRS):
        t_loaded = torch.load(tmp_path / 'theirs.pt')
    assert serialization.get_safe_globals() == []
    assert type(loaded) is Net and loaded is not model
    assert loaded.training == t_loaded.training is False
    assert loaded.scale == t_loaded.scale and loaded.names == t_loaded.names
    assert list(loaded.state_dict()) == list(t_loaded.state_dict())
    for (k, v), tv in zip(loaded.state_dict().items(), t_loaded.state_dict().values()):
        np.testing.assert_array_equal(host(v), tv.numpy(), err_msg=k)
        assert v.device == model.state_dict()[k].device
    for p, tp in zip(loaded.parameters(), t_loaded.parameters()):
        assert type(p) is nn.Parameter and p.requires_grad == tp.requires_grad
        assert p.is_leaf and p.grad is None
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    ours = loaded(autograd.tensor(x))
    np.testing.assert_allclose(host(ours), t_loaded(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(host(ours), host(model(autograd.tensor(x))))
    ours.sum().backward()                 # the loaded model trains
    assert loaded.fc.weight.grad is not None


def test_add_clear_and_get_safe_globals_as_pytorch():
    for ser in (serialization, torch.serialization):
        ser.clear_safe_globals()
        assert ser.get_safe_globals() == []
        ser.add_safe_globals([Net, (nn.Linear, 'my.Linear')])
        assert set(ser.get_safe_globals()) == {Net, (nn.Linear, 'my.Linear')}   # torch: a set
        with ser.safe_globals([nn.ReLU]):
            assert set(ser.get_safe_globals()) == {Net, (nn.Linear, 'my.Linear'), nn.ReLU}
        assert set(ser.get_safe_globals()) == {Net, (nn.Linear, 'my.Linear')}
        ser.clear_safe_globals()
        assert ser.get_safe_globals() == []


def test_a_global_named_explicitly(tmp_path):
    autograd.save({'layer': nn.ReLU()}, tmp_path / 'a.pt')
    with serialization.safe_globals([(nn.ReLU, 'nn.modules.activation.ReLU')]):
        assert type(autograd.load(tmp_path / 'a.pt')['layer']) is nn.ReLU
    with serialization.safe_globals([(nn.ReLU, 'somewhere.else.ReLU')]):
        with pytest.raises(pickle.UnpicklingError, match='nn.modules.activation.ReLU'):
            autograd.load(tmp_path / 'a.pt')


def test_shared_submodules_and_tied_weights_stay_shared(tmp_path):
    emb = nn.Embedding(5, 3)
    out = nn.Linear(3, 5, bias=False)
    out.weight = emb.weight               # weight tying, as language models do
    model = nn.ModuleDict({'emb': emb, 'out': out, 'again': emb})
    autograd.save(model, tmp_path / 'tied.pt')
    with serialization.safe_globals([nn.ModuleDict, nn.Embedding, nn.Linear]):
        loaded = autograd.load(tmp_path / 'tied.pt')
    assert loaded['out'].weight is loaded['emb'].weight
    assert loaded['again'] is loaded['emb']
    assert len(list(loaded.parameters())) == len(list(model.parameters())) == 1


def test_a_cyclic_object_graph_round_trips(tmp_path):
    model = nn.Linear(2, 2)
    model.myself = [model]                # a plain attribute pointing back
    object.__setattr__(model, 'note', 'hi')
    autograd.save(model, tmp_path / 'cycle.pt')
    with serialization.safe_globals([nn.Linear]):
        loaded = autograd.load(tmp_path / 'cycle.pt')
    assert loaded.myself[0] is loaded and loaded.note == 'hi'


def test_weights_only_false_trusts_the_file_and_imports(tmp_path):
    autograd.save(Net(), tmp_path / 'm.pt')
    loaded = autograd.load(tmp_path / 'm.pt', weights_only=False)
    assert type(loaded) is Net and type(loaded.fc) is nn.Linear


def test_nothing_named_in_a_file_is_imported(tmp_path, monkeypatch):
    """A file naming a class of a module not yet imported: refused before any import (the
    module's top level would leave a marker)."""
    package = tmp_path / 'pkg'
    package.mkdir()
    marker = tmp_path / 'imported'
    (package / 'sneaky.py').write_text(
        f'open({str(marker)!r}, "w").close()\nclass Thing:\n    pass\n')
    monkeypatch.syspath_prepend(str(package))
    import importlib
    thing = importlib.import_module('sneaky').Thing()
    os.unlink(marker)
    autograd.save({'x': thing}, tmp_path / 't.pt')
    del sys.modules['sneaky']
    with pytest.raises(pickle.UnpicklingError, match='GLOBAL sneaky.Thing'):
        autograd.load(tmp_path / 't.pt')
    assert not marker.exists() and 'sneaky' not in sys.modules


def test_saving_a_module_is_atomic(tmp_path):
    path = tmp_path / 'm.pt'
    autograd.save({'v': 1}, path)
    before = path.read_bytes()
    model = nn.Linear(2, 2)
    model.activation = lambda x: x        # a lambda cannot be found by name again
    with pytest.raises(TypeError, match='lambda'):
        autograd.save(model, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['m.pt']


def test_parameters_are_allowed_by_default_as_in_pytorch(tmp_path):
    p = nn.Parameter(autograd.tensor([1.0, 2.0]))
    autograd.save({'p': p}, tmp_path / 'p.pt')
    loaded = autograd.load(tmp_path / 'p.pt')['p']
    torch.save({'p': torch.nn.Parameter(torch.tensor([1.0, 2.0]))}, tmp_path / 'tp.pt')
    t_loaded = torch.load(tmp_path / 'tp.pt')['p']
    assert type(loaded) is nn.Parameter and type(t_loaded) is torch.nn.Parameter
    assert loaded.requires_grad == t_loaded.requires_grad is True
    assert loaded.device == p.device
    b = nn.Buffer(autograd.ones(2), persistent=False)
    autograd.save(b, tmp_path / 'b.pt')
    loaded = autograd.load(tmp_path / 'b.pt')
    assert type(loaded) is nn.Buffer and loaded.persistent is False


def test_plain_state_dicts_are_unchanged(tmp_path):
    model = Net()
    autograd.save(model.state_dict(), tmp_path / 'sd.pt')
    sd = autograd.load(tmp_path / 'sd.pt')
    fresh = Net()
    fresh.load_state_dict(sd)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(host(v), host(model.state_dict()[k]))


def test_objects_whose_state_is_not_their_dict_are_refused(tmp_path):
    import functools

    class Slotted:
        __slots__ = ('a', '__dict__')      # a __dict__, and a slot beside it

    for obj in (functools.partial(max, 1), Slotted()):
        with pytest.raises(TypeError, match=r"obj\['x'\].*its state is not its __dict__"):
            autograd.save({'x': obj}, tmp_path / 'x.pt')
    assert not os.listdir(tmp_path)

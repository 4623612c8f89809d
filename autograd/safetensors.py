"""safetensors files (Hugging Face's format for sharing weights) as ``safetensors.torch``
reads and writes them: ``save_file``/``load_file``, ``save``/``load`` (bytes),
``save_model``/``load_model``.

Built on the ``safetensors`` package's NumPy API (an optional dependency:
``pip install autograd-engine[safetensors]``), so a file written here opens in PyTorch,
JAX or NumPy, and weights published as ``.safetensors`` load here by name: a module's
``state_dict`` keys are PyTorch's.  Like ``safetensors.torch``, saving refuses tensors
that share memory (tied weights: use ``save_model``) and non-contiguous ones.  The format
holds data only: loading never runs code.
"""
import os

import autograd

__all__ = ['save_file', 'load_file', 'save', 'load', 'save_model', 'load_model']


def _numpy_api():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError('autograd.safetensors needs the `safetensors` package: pip install '
                          'safetensors (or autograd-engine[safetensors])') from e
    return safetensors.numpy


def _arrays(tensors):
    """``{name: host NumPy array}``, with safetensors.torch's checks."""
    if not isinstance(tensors, dict):
        raise ValueError(f'Expected a dict of [str, Tensor] but received {type(tensors)}')
    for k, v in tensors.items():
        if not isinstance(v, autograd.Tensor):
            raise ValueError(f'Key `{k}` is invalid, expected autograd.Tensor but received '
                             f'{type(v)}')
    shared = _shared(tensors)
    if shared:
        raise RuntimeError(
            'Some tensors share memory, this will lead to duplicate memory on disk and '
            f'potential differences when loading them again: {shared}. A potential way to '
            'correctly save your model is to use `save_model`.')
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(f'You are trying to save a non contiguous tensor: `{k}` which is '
                             'not allowed. Call `.contiguous()` on your tensor to pack it '
                             'before saving.')
    return {k: v.detach().cpu().numpy() for k, v in tensors.items()}


def _shared(tensors):
    """Groups of names whose tensors overlap in memory (on one device), as sets."""
    spans = sorted((v.device.type, v.device.index or 0, v.data_ptr(), v.data_ptr() + v.nbytes,
                    k) for k, v in tensors.items() if v.nbytes)
    groups, current, end = [], None, None
    for kind, index, start, stop, name in spans:
        if current is not None and (kind, index) == current[0] and start < end:
            current[1].add(name)
            end = max(end, stop)
            continue
        if current is not None and len(current[1]) > 1:
            groups.append(current[1])
        current, end = ((kind, index), {name}), stop
    if current is not None and len(current[1]) > 1:
        groups.append(current[1])
    return groups


def _tensors(arrays, device):
    dev = autograd.device(device if not isinstance(device, int) else f'cuda:{device}')
    return {k: autograd.tensor(a, device=dev) for k, a in arrays.items()}


def save(tensors, metadata=None):
    """The safetensors bytes of ``{name: tensor}`` (``metadata``: ``{str: str}``)."""
    return _numpy_api().save(_arrays(tensors), metadata=metadata)


def load(data, device='cpu'):
    """``{name: tensor}`` from safetensors bytes."""
    return _tensors(_numpy_api().load(data), device)


def save_file(tensors, filename, metadata=None):
    """Write ``{name: tensor}`` to ``filename`` atomically (a crash leaves the old file)."""
    data = save(tensors, metadata)
    path = os.path.realpath(os.fspath(filename))
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_file(filename, device='cpu'):
    """``{name: tensor}`` from a .safetensors file, on ``device``."""
    return _tensors(_numpy_api().load_file(os.fspath(filename)), device)


def save_model(model, filename, metadata=None, force_contiguous=True):
    """Save ``model.state_dict()``, keeping one name of each group of tied tensors (as
    ``safetensors.torch.save_model``: ``load_model`` restores the others)."""
    state = model.state_dict()
    for group in _shared(state):
        keep = sorted(group)[0]
        for name in group - {keep}:
            del state[name]
    if force_contiguous:
        state = {k: v.contiguous() for k, v in state.items()}
    save_file(state, filename, metadata)


def load_model(model, filename, strict=True, device='cpu'):
    """Load a file into ``model`` by name; returns ``(missing, unexpected)`` keys (names
    left out by ``save_model`` because they are tied to a saved one count as present)."""
    state = load_file(filename, device)
    own = model.state_dict()
    tied = set()
    for group in _shared(own):
        present = [n for n in group if n in state]
        if present:
            tied |= group - set(present)
    missing = [k for k in own if k not in state and k not in tied]
    unexpected = [k for k in state if k not in own]
    if strict and (missing or unexpected):
        raise RuntimeError(f'Error(s) in loading state_dict for {type(model).__name__}: '
                           f'missing keys {missing}, unexpected keys {unexpected}')
    model.load_state_dict(state, strict=False)
    return missing, unexpected

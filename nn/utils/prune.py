"""Pruning (PyTorch's ``torch.nn.utils.prune``): zero parts of a module's tensors by a mask.

Pruning parameter ``name`` of a module moves it to the parameter ``name + '_orig'``, adds
the buffer ``name + '_mask'`` and makes ``name`` a plain attribute, ``mask * orig``,
recomputed before every forward by the pruning method itself, registered as a forward
pre-hook.  Pruning the same tensor again composes the masks through a
:class:`PruningContainer` (the new method sees only what is still unpruned); ``remove``
makes the pruned tensor a parameter again.  The state-dict keys (``weight_orig``,
``weight_mask``) are PyTorch's, so pruned checkpoints load by name.

The magnitude methods choose what to prune as PyTorch's ``topk`` does, equal magnitudes
included: :func:`_topk_positions` reproduces its selection.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

import autograd

from .convert_parameters import parameters_to_vector

__all__ = ['BasePruningMethod', 'PruningContainer', 'Identity', 'RandomUnstructured',
           'L1Unstructured', 'RandomStructured', 'LnStructured', 'CustomFromMask', 'identity',
           'random_unstructured', 'l1_unstructured', 'random_structured', 'ln_structured',
           'global_unstructured', 'custom_from_mask', 'remove', 'is_pruned']


class BasePruningMethod(ABC):
    """A way to compute a pruning mask; an instance is also the forward pre-hook that
    recomputes ``module.<name> = mask * orig`` before each forward."""
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask (of ``t``'s shape) for tensor ``t``, given the mask of earlier pruning
        ``default_mask`` (ones where nothing is pruned yet)."""

    def apply_mask(self, module):
        """``module.<name>_mask * module.<name>_orig``: the pruned tensor (differentiable in
        the original)."""
        if self._tensor_name is None:
            raise AssertionError(f'Module {module} has to be pruned')
        mask = getattr(module, self._tensor_name + '_mask')
        orig = getattr(module, self._tensor_name + '_orig')
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` (composed with the
        pruning already there); ``importance_scores`` (``name``'s shape) rank the entries
        instead of the tensor itself.  Returns the method (or container) now hooked."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(
                    f'importance_scores should have the same shape as parameter {name} of '
                    f'{module}, got {importance_scores.shape} vs {orig.shape}')
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            # first pruning of this tensor: the parameter becomes <name>_orig
            module.register_parameter(name + '_orig', orig)
            del module._parameters[name]
            default_mask = autograd.ones_like(orig)
        else:
            default_mask = getattr(module, name + '_mask').detach().clone()
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + '_mask', mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):
                orig = getattr(module, name + '_orig')
                module.register_parameter(name, orig)
                del module._parameters[name + '_orig']
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times its mask (computed from ``importance_scores`` when given)."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError('importance_scores should have the same shape as tensor t, '
                                     f'got {importance_scores.shape} vs {t.shape}')
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else autograd.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` becomes a parameter again holding
        ``mask * orig``; ``<name>_orig`` and ``<name>_mask`` go."""
        if self._tensor_name is None:
            raise AssertionError(f'Module {module} has to be pruned before pruning can be '
                                 'removed')
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + '_orig']
        orig.data = weight.data
        del module._parameters[self._tensor_name + '_orig']
        del module._buffers[self._tensor_name + '_mask']
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """A new ``cls`` method for ``module.<name>``, put into a container with the pruning
    hook already on that tensor (whose hook is taken off the module)."""
    old_method = None
    found = 0
    hooks_to_remove = []
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old_method = hook
            hooks_to_remove.append(k)
            found += 1
    if found > 1:
        raise AssertionError(f'Avoid adding multiple pruning hooks to the same tensor {name} '
                             f'of module {module}. Use a PruningContainer.')
    for k in hooks_to_remove:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """The sequence of methods applied to one tensor (iterative pruning): the newest one
    prunes only the entries (or, structured, the channels) the earlier ones kept."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f'{type(method)} is not a BasePruningMethod subclass')
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError('Can only add pruning methods acting on the parameter named '
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """``default_mask`` with the newest method's mask written over the part still
        unpruned: the kept entries (unstructured), the kept channels along the method's
        ``dim`` (structured), or everything (global)."""
        method = self._pruning_methods[-1]
        new_mask = default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == 'unstructured':
            slc = default_mask == 1
        elif method.PRUNING_TYPE == 'structured':
            if not hasattr(method, 'dim'):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     'the attribute `dim` defined.')
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f'Index is out of bounds for tensor with dimensions {n_dims}')
            keep_channel = default_mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            slc = [slice(None)] * n_dims
            slc[dim] = keep_channel
            slc = tuple(slc)
        elif method.PRUNING_TYPE == 'global':
            slc = (slice(None),) * len(t.shape)
        else:
            raise ValueError(f'Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}')
        partial_mask = method.compute_mask(t[slc], default_mask=default_mask[slc])
        new_mask[slc] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones."""
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries (an int, or a fraction of the entries) chosen at random."""
    PRUNING_TYPE = 'unstructured'

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        tensor_size = t.nelement()
        nparams_toprune = _compute_nparams_toprune(self.amount, tensor_size)
        _validate_pruning_amount(nparams_toprune, tensor_size)
        mask = default_mask.clone()
        if nparams_toprune != 0:
            prob = autograd.rand_like(t.detach())
            mask.view(-1)[_topk_positions(prob.view(-1), nparams_toprune, largest=True)] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude (ties as PyTorch's ``topk``)."""
    PRUNING_TYPE = 'unstructured'

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        tensor_size = t.nelement()
        nparams_toprune = _compute_nparams_toprune(self.amount, tensor_size)
        _validate_pruning_amount(nparams_toprune, tensor_size)
        mask = default_mask.clone()
        if nparams_toprune != 0:
            scores = t.detach().abs().reshape(-1)
            mask.view(-1)[_topk_positions(scores, nparams_toprune, largest=False)] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, keep):
    """Zeros of ``t``'s shape with ones in the channels ``keep`` (a bool or index tensor)
    along ``dim``."""
    mask = autograd.zeros_like(t.detach())
    slc = [slice(None)] * t.dim()
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim`` chosen at random."""
    PRUNING_TYPE = 'structured'

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        nchannels = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, nchannels)
        _validate_pruning_amount(nparams_toprune, nchannels)
        if nparams_toprune == 0:
            return default_mask
        prob = autograd.rand(nchannels, device=t.device)
        # PyTorch's kthvalue: the channels above the k-th smallest draw are kept
        threshold = autograd.sort(prob).values[nparams_toprune - 1]
        mask = _channel_mask(t, self.dim, prob > threshold)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm (``n`` as
    ``autograd.norm``'s ``p``: a number, ``inf``, ``-inf`` or ``'fro'``)."""
    PRUNING_TYPE = 'structured'

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        nchannels = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, nchannels)
        nparams_tokeep = nchannels - nparams_toprune
        _validate_pruning_amount(nparams_toprune, nchannels)
        if nparams_toprune == 0:
            return default_mask
        norm = _compute_norm(t.detach(), self.n, self.dim)
        mask = _channel_mask(t, self.dim, _topk_positions(norm, nparams_tokeep, largest=True))
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` (the tensor's shape) is zero."""
    PRUNING_TYPE = 'global'

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f'default_mask shape {default_mask.shape} must match '
                                 f'self.mask shape {self.mask.shape}')
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Prune ``module.<name>`` with an all-ones mask (adds ``<name>_orig``/``<name>_mask``)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` random entries of ``module.<name>``; returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest magnitude."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest
    ``n``-norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the ``(module, name)`` tensors of ``parameters`` together, as one vector:
    ``pruning_method(**kwargs)`` (unstructured) picks the entries over all of them, each
    tensor then gets its part of the mask (as ``CustomFromMask``)."""
    if not isinstance(parameters, Iterable):
        raise TypeError('global_unstructured(): parameters is not an Iterable')
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError('global_unstructured(): importance_scores must be of type dict')
    relevant_importance_scores = parameters_to_vector(
        [importance_scores.get((module, name), getattr(module, name))
         for module, name in parameters])
    default_mask = parameters_to_vector(
        [getattr(module, name + '_mask', autograd.ones_like(getattr(module, name)))
         for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = 'temp'
    method = pruning_method(**kwargs)
    method._tensor_name = 'temp'
    if method.PRUNING_TYPE != 'unstructured':
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f'Found method {pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    final_mask = container.compute_mask(relevant_importance_scores, default_mask)
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        num_param = param.numel()
        custom_from_mask(module, name, mask=final_mask[pointer:pointer + num_param].view_as(param))
        pointer += num_param


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is zero."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent (it becomes a plain parameter)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     'can be removed')


def is_pruned(module):
    """Whether ``module`` or any submodule has a pruning hook."""
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


def _validate_pruning_amount_init(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f'Invalid type for amount: {amount}. Must be int or float.')
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and
            (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f'amount={amount} should either be a float in the range [0, 1] or a '
                         'non-negative integer')


def _validate_pruning_amount(amount, tensor_size):
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f'amount={amount} should be smaller than the number of parameters to '
                         f'prune={tensor_size}')


def _validate_structured_pruning(t):
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError('Structured pruning can only be applied to multidimensional tensors. '
                         f'Found tensor of shape {shape} with {len(shape)} dims')


def _compute_nparams_toprune(amount, tensor_size):
    # a float is a fraction, rounded half to even (Python's round, as PyTorch)
    return amount if isinstance(amount, numbers.Integral) else round(amount * tensor_size)


def _validate_pruning_dim(t, dim):
    if dim >= t.dim():
        raise IndexError(f'Invalid index {dim} for tensor of size {t.shape}')


def _compute_norm(t, n, dim):
    """The ``n``-norm of each channel of ``t`` along ``dim`` (over all other dims)."""
    dims = list(range(t.dim()))
    dims.remove(dims[dim])
    return autograd.norm(t, p=n, dim=dims)


# ---------------------------------------------------------------- PyTorch's topk selection
def _topk_positions(scores, k, largest):
    """The positions of the ``k`` largest (or smallest) entries of the 1-D tensor
    ``scores``, chosen among equal values as PyTorch's CPU ``topk`` chooses them.

    Without ties at the k-th value the set is fixed by the values.  With ties it depends on
    the selection algorithm: PyTorch's ``topk`` runs libstdc++'s ``std::partial_sort``
    (heap select) when ``64 k <= n`` and ``std::nth_element`` (introselect) otherwise, on
    (value, index) pairs compared by value, NaN counted largest; the ``_std_*`` functions
    replay those algorithms step by step.  The scores come to the host explicitly (this
    runs once per pruning call, not per step); the result is an index tensor on their
    device.
    """
    host = scores.detach().cpu().numpy().astype(np.float64)
    chosen = None
    if not np.isnan(host).any():
        keyed = -host if largest else host
        kth = np.partition(keyed, k - 1)[k - 1]
        better, equal = keyed < kth, keyed == kth
        if int(better.sum()) + int(equal.sum()) == k:     # no tie across the boundary
            chosen = np.flatnonzero(better | equal)
    if chosen is None:
        chosen = np.array(_std_select(host.tolist(), k, largest), dtype=np.int64)
    return autograd.tensor(chosen, dtype=autograd.int64, device=scores.device)


def _std_select(values, k, largest):
    """The indices that libstdc++'s selection leaves in the first ``k`` places."""
    n = len(values)
    if largest:
        def comp(x, y):
            return (x != x and y == y) or x > y
    else:
        def comp(x, y):
            return (x == x and y != y) or x < y
    a = [(v, i) for i, v in enumerate(values)]
    if k * 64 <= n:
        _std_heap_select(a, 0, k, n, comp)
    else:
        _std_introselect(a, 0, k - 1, n, 2 * (n.bit_length() - 1), comp)
    return [i for _, i in a[:k]]


def _std_adjust_heap(a, first, hole, length, value, comp):
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if comp(a[first + child][0], a[first + child - 1][0]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2                       # std::__push_heap
    while hole > top and comp(a[first + parent][0], value[0]):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _std_heap_select(a, first, middle, last, comp):
    length = middle - first
    if length >= 2:                                # std::__make_heap
        parent = (length - 2) // 2
        while True:
            _std_adjust_heap(a, first, parent, length, a[first + parent], comp)
            if parent == 0:
                break
            parent -= 1
    for i in range(middle, last):
        if comp(a[i][0], a[first][0]):             # std::__pop_heap into position i
            value = a[i]
            a[i] = a[first]
            _std_adjust_heap(a, first, 0, length, value, comp)


def _std_introselect(a, first, nth, last, depth, comp):
    while last - first > 3:
        if depth == 0:
            _std_heap_select(a, first, nth + 1, last, comp)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        _std_median_to_first(a, first, first + 1, first + (last - first) // 2, last - 1, comp)
        cut = _std_partition(a, first + 1, last, a[first][0], comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    for i in range(first + 1, last):               # std::__insertion_sort
        value = a[i]
        if comp(value[0], a[first][0]):
            a[first + 1:i + 1] = a[first:i]
            a[first] = value
        else:
            j = i
            while comp(value[0], a[j - 1][0]):
                a[j] = a[j - 1]
                j -= 1
            a[j] = value


def _std_median_to_first(a, result, x, y, z, comp):
    if comp(a[x][0], a[y][0]):
        m = y if comp(a[y][0], a[z][0]) else z if comp(a[x][0], a[z][0]) else x
    else:
        m = x if comp(a[x][0], a[z][0]) else z if comp(a[y][0], a[z][0]) else y
    a[result], a[m] = a[m], a[result]


def _std_partition(a, first, last, pivot, comp):
    while True:
        while comp(a[first][0], pivot):
            first += 1
        last -= 1
        while comp(pivot, a[last][0]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1

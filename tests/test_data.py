"""autograd.utils.data against torch.utils.data: datasets, samplers, collation, loading.
Without PyTorch, the tests that compare with it skip, and ours alone is held to the written
expectations (errors, sizes) that both libraries meet."""
import collections

import numpy as np
import pytest

import autograd
from autograd.utils import data

from oracle import each_library, is_torch_tensor, torch, torch_module

tdata = torch_module('torch.utils.data')


def as_numpy(x):
    if isinstance(x, autograd.Tensor) or is_torch_tensor(x):
        return x.detach().cpu().numpy()
    return x


def same_structure(ours, theirs):
    """Equal batch structure: container types, tensor dtypes, shapes and values."""
    if is_torch_tensor(theirs):
        assert isinstance(ours, autograd.Tensor), type(ours)
        assert str(ours.dtype).split('.')[-1] == str(theirs.dtype).split('.')[-1]
        np.testing.assert_array_equal(as_numpy(ours), as_numpy(theirs))
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            same_structure(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same_structure(a, b)
    else:
        assert ours == theirs


X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


def tensor_dataset(mod=data, lib=autograd):
    return mod.TensorDataset(lib.tensor(X), lib.tensor(Y))


# ----------------------------------------------------------------------------- datasets

def test_tensor_dataset_items_and_length():
    ds = tensor_dataset()
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(as_numpy(x), X[3])
    assert y.item() == Y[3]


def test_tensor_dataset_size_mismatch_raises():
    for mod, lib in each_library((tdata, torch), (data, autograd)):
        with pytest.raises(AssertionError, match='Size mismatch'):
            mod.TensorDataset(lib.zeros(3), lib.zeros(4))


def test_concat_dataset_and_add():
    a, b = data.Subset(range(5), [0, 1]), data.TensorDataset(autograd.arange(3))
    ds = data.ConcatDataset([list(range(4)), [10, 11]])
    assert len(ds) == 6 and [ds[i] for i in range(6)] == [0, 1, 2, 3, 10, 11]
    assert ds[-1] == 11 and ds.cumulative_sizes == [4, 6]
    both = a + b
    assert isinstance(both, data.ConcatDataset) and len(both) == 5
    with pytest.raises(ValueError):
        ds[-7]


def test_subset_selects_indices_in_order():
    sub = data.Subset([10, 11, 12, 13, 14], [4, 0, 2])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [14, 10, 12]
    assert sub.__getitems__([0, 2]) == [14, 12]


def test_stack_dataset_zips_as_tuples_or_dicts():
    ds = data.StackDataset([1, 2, 3], ['a', 'b', 'c'])
    assert ds[1] == (2, 'b') and len(ds) == 3
    assert data.StackDataset(x=[1, 2], y=[3, 4])[0] == {'x': 1, 'y': 3}
    with pytest.raises(ValueError, match='Size mismatch'):
        data.StackDataset([1, 2], [1])


class Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_chain_dataset_via_add():
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]


# ----------------------------------------------------------------------------- random_split

# fractions: floor(fraction * 10) each, the remainder handed out one by one from the first
@pytest.mark.parametrize('lengths,sizes', [([3, 7], [3, 7]), ([0.3, 0.7], [3, 7]),
                                           ([0.34, 0.33, 0.33], [4, 3, 3]),
                                           ([0.5, 0.5, 0.0], [5, 5, 0]), ([1, 1, 8], [1, 1, 8])])
def test_random_split_sizes_match_pytorch_and_parts_are_disjoint(lengths, sizes):
    for mod, lib in each_library((tdata, torch), (data, autograd)):
        with pytest.warns(UserWarning) if 0.0 in lengths else _nothing():
            parts = mod.random_split(range(10), lengths, generator=lib.Generator())
        assert [len(p) for p in parts] == sizes
        items = [x for p in parts for x in (p[i] for i in range(len(p)))]
        assert sorted(items) == list(range(10))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_random_split_is_deterministic_with_a_seeded_generator():
    def split(seed):
        parts = data.random_split(range(20), [5, 15],
                                  generator=autograd.Generator().manual_seed(seed))
        return [list(p.indices) for p in parts]
    assert split(3) == split(3)
    assert split(3) != split(4)


def test_random_split_uses_the_global_generator_by_default():
    autograd.manual_seed(7)
    a = [list(p.indices) for p in data.random_split(range(20), [0.5, 0.5])]
    autograd.manual_seed(7)
    b = [list(p.indices) for p in data.random_split(range(20), [0.5, 0.5])]
    assert a == b


@pytest.mark.parametrize('lengths', [[3, 3], [0.5, 0.6], [-0.1, 1.1]])
def test_random_split_bad_lengths_raise(lengths):
    for mod in each_library(tdata, data):
        with pytest.raises(ValueError):
            mod.random_split(range(10), lengths)


# ----------------------------------------------------------------------------- collation

Point = collections.namedtuple('Point', 'x y')

BATCHES = {
    'tensors': lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    'tuples': lambda lib: [(lib.tensor([1, 2]), 0.5, 3), (lib.tensor([3, 4]), 1.5, 4)],
    'dicts': lambda lib: [{'a': lib.zeros(2, 2), 'b': 'x', 'c': True},
                          {'a': lib.ones(2, 2), 'b': 'y', 'c': False}],
    'nested': lambda lib: [{'p': Point(1, [2.0, 3.0])}, {'p': Point(4, [5.0, 6.0])}],
    'lists': lambda lib: [[1, 2], [3, 4], [5, 6]],
    'numpy': lambda lib: [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
    'numpy-scalars': lambda lib: [np.float32(1.5), np.float32(2.5)],
    'floats': lambda lib: [0.1, 0.2, 0.3],
    'strings': lambda lib: ['a', 'b'],
}


@pytest.mark.parametrize('name', sorted(BATCHES))
def test_default_collate_matches_pytorch(name):
    ours = data.default_collate(BATCHES[name](autograd))
    theirs = tdata.default_collate(BATCHES[name](torch))
    same_structure(ours, theirs)


def test_default_collate_stacks_along_a_new_first_dimension():
    batch = data.default_collate([autograd.zeros(2, 3), autograd.ones(2, 3)])
    assert batch.shape == (2, 2, 3)


def test_default_collate_unequal_sequences_raise():
    for mod in each_library(tdata, data):
        with pytest.raises(RuntimeError, match='equal size'):
            mod.default_collate([[1, 2], [3]])


def test_default_collate_unknown_type_raises():
    for mod in each_library(tdata, data):
        with pytest.raises(TypeError, match='default_collate'):
            mod.default_collate([object(), object()])


def test_default_convert_matches_pytorch():
    sample = {'a': np.arange(3), 'b': (np.float64(2.0), 'x'), 'c': [np.ones(2)]}
    same_structure(data.default_convert(sample), tdata.default_convert(sample))


# ----------------------------------------------------------------------------- loading

def batches(loader):
    return [b for b in loader]


@pytest.mark.parametrize('batch_size,drop_last', [(1, False), (3, False), (3, True), (4, True),
                                                  (10, False), (12, True)])
def test_sequential_batches_match_pytorch(batch_size, drop_last):
    ours, theirs = tensor_dataset(), tensor_dataset(tdata, torch)
    a = data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    same_structure(batches(a), batches(b))


def test_batch_size_none_yields_samples_without_collating():
    ours, theirs = tensor_dataset(), tensor_dataset(tdata, torch)
    same_structure(batches(data.DataLoader(ours, batch_size=None)),
                   batches(tdata.DataLoader(theirs, batch_size=None)))


def test_shuffle_with_a_seeded_generator_is_deterministic_and_a_permutation():
    ours = tensor_dataset()

    def order(seed, epochs=2):
        """The sample indices (first feature // 3) visited in each epoch."""
        loader = data.DataLoader(ours, batch_size=4, shuffle=True,
                                 generator=autograd.Generator().manual_seed(seed))
        return [[int(v) for b in loader for v in as_numpy(b[0])[:, 0] // 3]
                for _ in range(epochs)]
    first, second = order(0)
    assert sorted(first) == list(range(10))
    assert first != list(range(10)) and first != second        # epochs reshuffle
    assert order(0) == order(0) and order(0) != order(1)


def test_shuffle_without_generator_follows_manual_seed():
    ours = tensor_dataset()
    loader = data.DataLoader(ours, batch_size=3, shuffle=True)
    autograd.manual_seed(5)
    a = [as_numpy(b[0]).tolist() for b in loader]
    autograd.manual_seed(5)
    b = [as_numpy(b[0]).tolist() for b in loader]
    assert a == b


def test_custom_collate_fn_receives_the_list_of_samples():
    loader = data.DataLoader(list(range(7)), batch_size=3, collate_fn=lambda b: sum(b))
    assert batches(loader) == [3, 12, 6]


def test_custom_sampler_and_batch_sampler():
    assert batches(data.DataLoader(list('abcde'), batch_size=2, sampler=[4, 3, 2, 1, 0],
                                   collate_fn=list)) == [['e', 'd'], ['c', 'b'], ['a']]
    loader = data.DataLoader(list('abcde'), batch_sampler=[[0, 4], [2]], collate_fn=list)
    assert batches(loader) == [['a', 'e'], ['c']] and len(loader) == 2


def test_dataset_getitems_is_used_for_batches():
    class Batched(data.Dataset):
        calls = []

        def __len__(self):
            return 5

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [i * 10 for i in indices]
    ds = Batched()
    out = batches(data.DataLoader(ds, batch_size=2))
    assert Batched.calls == [[0, 1], [2, 3], [4]]
    assert [as_numpy(b).tolist() for b in out] == [[0, 10], [20, 30], [40]]


@pytest.mark.parametrize('batch_size,drop_last', [(2, False), (2, True), (5, False), (None, False)])
def test_iterable_dataset_batches_match_pytorch(batch_size, drop_last):
    class TStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7
    a = data.DataLoader(Stream(7), batch_size=batch_size, drop_last=drop_last)
    b = tdata.DataLoader(TStream(), batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    same_structure(batches(a), batches(b))


def test_num_workers_is_accepted_and_gives_the_same_batches():
    ours = tensor_dataset()
    a = batches(data.DataLoader(ours, batch_size=4, num_workers=2))
    b = batches(data.DataLoader(ours, batch_size=4))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(as_numpy(x[0]), as_numpy(y[0]))


@pytest.mark.parametrize('kwargs', [
    dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(persistent_workers=True),
], ids=str)
def test_invalid_loader_options_raise_value_error(kwargs):
    for mod in each_library(tdata, data):
        with pytest.raises(ValueError):
            mod.DataLoader(list(range(5)), **kwargs)


def test_iterable_dataset_rejects_shuffle_and_samplers():
    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match='IterableDataset'):
            data.DataLoader(Stream(3), **kwargs)


def test_loader_attributes_are_frozen_after_init():
    loader = data.DataLoader(list(range(5)), batch_size=2)
    with pytest.raises(ValueError, match='batch_size attribute should not be set'):
        loader.batch_size = 3


# ----------------------------------------------------------------------------- samplers

@pytest.mark.parametrize('n,size,drop_last', [(10, 3, False), (10, 3, True), (9, 3, True),
                                              (2, 5, False)])
def test_batch_sampler_matches_pytorch(n, size, drop_last):
    ours = data.BatchSampler(data.SequentialSampler(range(n)), size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize('kwargs', [dict(batch_size=0, drop_last=False),
                                    dict(batch_size=2, drop_last=1),
                                    dict(batch_size=True, drop_last=False)])
def test_batch_sampler_bad_arguments(kwargs):
    for mod in each_library(tdata, data):
        with pytest.raises(ValueError):
            mod.BatchSampler(range(3), **kwargs)


def test_random_sampler_num_samples_and_replacement():
    g = autograd.Generator().manual_seed(0)
    s = list(data.RandomSampler(range(4), num_samples=10, generator=g))
    assert len(s) == 10 and sorted(s[:4]) == [0, 1, 2, 3] and sorted(s[4:8]) == [0, 1, 2, 3]
    r = list(data.RandomSampler(range(3), replacement=True, num_samples=70, generator=g))
    assert len(r) == 70 and set(r) == {0, 1, 2}
    for mod in each_library(tdata, data):
        with pytest.raises(ValueError, match='num_samples'):
            mod.RandomSampler(range(3), num_samples=0)
        with pytest.raises(TypeError, match='replacement'):
            mod.RandomSampler(range(3), replacement=1)


def test_subset_and_weighted_random_samplers():
    g = autograd.Generator().manual_seed(1)
    assert sorted(data.SubsetRandomSampler([5, 7, 9], generator=g)) == [5, 7, 9]
    w = list(data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=g))
    assert len(w) == 50 and set(w) <= {1, 3}
    assert sorted(data.WeightedRandomSampler([1, 1, 1], 3, replacement=False,
                                             generator=g)) == [0, 1, 2]
    for mod in each_library(tdata, data):
        with pytest.raises(ValueError):
            mod.WeightedRandomSampler([[1.0, 2.0]], 2)

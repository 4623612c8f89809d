"""DataLoader: batches from a dataset, in the order a sampler gives
(as ``torch.utils.data.DataLoader``, single-process)."""
import math

from .collate import default_collate, default_convert
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ['DataLoader', 'get_worker_info']


def get_worker_info():
    """Always None: data is loaded in the calling process."""
    return None


class _InfiniteConstantSampler(Sampler):
    """The "index" stream of an iterable dataset: None forever."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args follow PyTorch: ``batch_size`` (None: no batching), ``shuffle`` (a
    :class:`RandomSampler` drawing from ``generator``), ``sampler`` / ``batch_sampler``
    (custom orders), ``drop_last``, ``collate_fn`` (default: :func:`default_collate`).
    ``num_workers`` and the other multiprocessing options are accepted and validated, but
    loading always happens in the calling process (same batches, same order).
    """
    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device='',
                 in_order=True):
        if num_workers < 0:
            raise ValueError('num_workers option should be non-negative; use num_workers=0 to '
                             'disable multiprocessing.')
        if timeout < 0:
            raise ValueError('timeout option should be non-negative')
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError('prefetch_factor option could only be specified in '
                             'multiprocessing.let num_workers > 0 to enable multiprocessing, '
                             'otherwise set prefetch_factor to None.')
        if persistent_workers and num_workers == 0:
            raise ValueError('persistent_workers option needs num_workers > 0')
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError('DataLoader with IterableDataset: expected unspecified shuffle '
                                 f'option, but got shuffle={shuffle}')
            if sampler is not None:
                raise ValueError('DataLoader with IterableDataset: expected unspecified sampler '
                                 f'option, but got sampler={sampler}')
            if batch_sampler is not None:
                raise ValueError('DataLoader with IterableDataset: expected unspecified '
                                 f'batch_sampler option, but got batch_sampler={batch_sampler}')
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError('sampler option is mutually exclusive with shuffle')
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError('batch_sampler option is mutually exclusive with batch_size, '
                                 'shuffle, sampler, and drop_last')
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError('batch_size=None option disables auto-batching and is mutually '
                             'exclusive with drop_last')
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last',
                                          'dataset', 'persistent_workers'):
            raise ValueError(f'{attr} attribute should not be set after '
                             f'{type(self).__name__} is initialized')
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self._iterable:
            return _IterableLoaderIter(self)
        return _MapLoaderIter(self)

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _LoaderIter:
    def __init__(self, loader):
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        self._collate = loader.collate_fn
        self._auto_collation = loader._auto_collation

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)


class _MapLoaderIter(_LoaderIter):
    """Fetch ``dataset[i]`` for each index of the next batch (``__getitems__`` if the dataset
    has it), then collate.  A plain TensorDataset with the default collation takes each
    tensor's rows with one index instead: the same batch as stacking the samples, without a
    tensor per sample."""

    def __next__(self):
        index = next(self._indices)
        dataset = self._loader.dataset
        if not self._auto_collation:
            return self._collate(dataset[index])
        if self._collate is default_collate and type(dataset) is TensorDataset:
            return [t[index] for t in dataset.tensors]
        getitems = getattr(dataset, '__getitems__', None)
        data = getitems(index) if getitems else [dataset[i] for i in index]
        return self._collate(data)


class _IterableLoaderIter(_LoaderIter):
    """Take the next ``batch_size`` items of the stream (fewer at its end unless
    ``drop_last``)."""

    def __init__(self, loader):
        super().__init__(loader)
        self._stream = iter(loader.dataset)
        self._ended = False

    def __next__(self):
        if self._ended:
            raise StopIteration
        index = next(self._indices)
        if not self._auto_collation:
            return self._collate(next(self._stream))
        data = []
        for _ in index:
            try:
                data.append(next(self._stream))
            except StopIteration:
                self._ended = True
                break
        if not data or (self._loader.drop_last and len(data) < len(index)):
            raise StopIteration
        return self._collate(data)

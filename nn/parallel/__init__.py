"""``nn.parallel`` = ``torch.nn.parallel``."""
from .data_parallel import *       # noqa: F401,F403
from .distributed import DistributedDataParallel

__all__ = ['DataParallel', 'data_parallel', 'DistributedDataParallel']

"""nn.parallel (PyTorch's ``torch.nn.parallel``)."""
from .data_parallel import *       # noqa: F401,F403

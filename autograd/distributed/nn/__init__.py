"""``autograd.distributed.nn`` = ``torch.distributed.nn``: collectives that are part of the
graph."""
from . import functional  # noqa: F401
from .functional import all_reduce  # noqa: F401

"""``nn.utils``: gradient clipping, parameter/vector conversion and sequence padding."""
from . import rnn                                   # noqa: F401
from .clip_grad import *                            # noqa: F401,F403
from .convert_parameters import *                   # noqa: F401,F403
from . import prune                                 # noqa: F401

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'parameters_to_vector',
           'vector_to_parameters', 'rnn', 'prune']

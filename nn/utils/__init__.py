"""``nn.utils``: gradient clipping, parameter/vector conversion and sequence padding."""
from . import rnn                                   # noqa: F401
from .clip_grad import *                            # noqa: F401,F403
from .convert_parameters import *                   # noqa: F401,F403
from . import prune                                 # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm        # noqa: F401
# parametrize and parametrizations need nn.modules, which imports nn.utils: nn/__init__.py
# binds them once both are loaded

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'parameters_to_vector',
           'vector_to_parameters', 'rnn']
__all__ += ['prune', 'parametrize', 'parametrizations', 'weight_norm', 'remove_weight_norm',
            'spectral_norm', 'remove_spectral_norm']

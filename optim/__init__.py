"""optim: optimizers and learning-rate schedulers (PyTorch's ``torch.optim``)."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from . import swa_utils

__all__ = ['Optimizer', 'SGD', 'Adagrad', 'RMSprop', 'Adadelta', 'Adam', 'AdamW', 'Adamax',
           'NAdam', 'Rprop', 'LBFGS', 'lr_scheduler']
__all__ += ['swa_utils']

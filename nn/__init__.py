"""nn: modules, layers, activations, losses and initialisers (PyTorch's ``torch.nn``)."""
from .parameter import *       # noqa: F401,F403
from .modules import *         # noqa: F401,F403
from . import functional, init, utils, parallel   # noqa: F401
# parametrize needs nn.modules, which imports nn.utils: bound here, once both are loaded
from .utils import parametrize, parametrizations   # noqa: F401,E402
del parametrize, parametrizations                 # nn.utils.<name>, not nn.<name>
from .parallel import DataParallel      # noqa: F401,E402

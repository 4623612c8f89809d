"""Hook handles (PyTorch's ``torch.utils.hooks``): ``RemovableHandle``, what every
``register_*_hook`` returns, for tensors, graph nodes and modules alike."""
from ..node import RemovableHandle

__all__ = ['RemovableHandle']

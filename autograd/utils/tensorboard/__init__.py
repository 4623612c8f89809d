"""TensorBoard logging (= ``torch.utils.tensorboard``): :class:`SummaryWriter` writes
event files with TensorBoard's own event writer and protocol buffers (the ``tensorboard``
package, an optional dependency: the extra ``tensorboard``)."""
from .writer import FileWriter, SummaryWriter

__all__ = ['SummaryWriter', 'FileWriter']

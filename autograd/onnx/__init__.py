"""Export to ONNX (= ``torch.onnx``): :func:`export` writes the ops a model's forward
records as an ONNX model (the ``onnx`` package, an optional dependency: the extra
``onnx``).  Covered: MLPs, CNNs (conv, pooling, batch norm), LSTM/GRU/RNN modules (as
ONNX's LSTM/GRU/RNN ops), attention and transformer encoder layers; any other op raises
:class:`~autograd.onnx.errors.UnsupportedOperatorError` naming it.
"""
from . import errors
from ._export import TrainingMode, export, is_in_onnx_export
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ['export', 'is_in_onnx_export', 'TrainingMode', 'errors', 'OnnxExporterError',
           'UnsupportedOperatorError']

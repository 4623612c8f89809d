"""The exporter's exceptions, as ``torch.onnx.errors``."""

__all__ = ['OnnxExporterError', 'UnsupportedOperatorError']


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """Raised when an op has no ONNX translation (at ``version``)."""

    def __init__(self, name, version, supported_version=None):
        if supported_version is not None:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                   f"supported. Support for this operator was added in version "
                   f"{supported_version}, try exporting with this version")
        else:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                   'supported')
        super().__init__(msg)
        self.name, self.version = name, version

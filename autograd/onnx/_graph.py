"""The ONNX graph being built: values, nodes, initializers (with the ``onnx`` package)."""
import numpy as np

__all__ = ['GraphBuilder', 'host']


def host(array):
    """A NumPy copy-free view (CPU) or host copy (a device array) of ``array``."""
    if hasattr(array, 'get') and not isinstance(array, np.ndarray):
        return np.asarray(array.get())
    return np.asarray(array)


class GraphBuilder:
    """Collects ONNX nodes and initializers; names every value it creates uniquely."""

    def __init__(self, opset):
        import onnx
        from onnx import helper, numpy_helper
        self.onnx, self.helper, self.numpy_helper = onnx, helper, numpy_helper
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self._init_names = set()
        self._count = {}
        self._consts = {}           # (dtype, shape, bytes) -> name of a small constant

    def fresh(self, hint):
        k = self._count.get(hint, 0)
        self._count[hint] = k + 1
        return f'{hint}_{k}'

    def op(self, op_type, inputs, outputs=None, n_out=1, **attrs):
        """Append node ``op_type``; returns its output name (or names, ``n_out > 1``)."""
        if outputs is None:
            outputs = [self.fresh(f'/{op_type}_output') for _ in range(n_out)]
        elif isinstance(outputs, str):
            outputs = [outputs]
        name = self.fresh(f'/{op_type}')
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), list(outputs),
                                                name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def initializer(self, array, name):
        """A named initializer (a parameter or buffer) holding ``array``."""
        if name not in self._init_names:
            self._init_names.add(name)
            self.initializers.append(self.numpy_helper.from_array(
                np.ascontiguousarray(host(array)), name))
        return name

    def const(self, array, dtype=None):
        """An anonymous constant initializer; equal small constants share one name."""
        a = np.asarray(host(array))
        if dtype is not None:
            a = a.astype(dtype)
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.initializer(a, self.fresh('onnx::Constant'))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64))

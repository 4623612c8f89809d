"""``backends.cpu``: what the CPU kernels use.  NumPy picks its SIMD paths itself; the
capability reported is the best one NumPy found on this CPU, in PyTorch's words."""
__all__ = ['get_cpu_capability']


def get_cpu_capability():
    """'AVX512', 'AVX2', 'VSX' or 'DEFAULT', as PyTorch names them, from the CPU features
    NumPy detected."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as found
        except ImportError:
            return 'DEFAULT'
    for feature, name in (('AVX512F', 'AVX512'), ('AVX2', 'AVX2'), ('VSX', 'VSX')):
        if found.get(feature):
            return name
    return 'DEFAULT'

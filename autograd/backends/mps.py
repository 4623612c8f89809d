"""``backends.mps``: Apple's Metal backend, which this project does not have."""
__all__ = ['is_available', 'is_built', 'is_macos13_or_newer', 'is_macos_or_newer']


def is_available():
    """False: there is no MPS backend here."""
    return False


def is_built():
    """False: there is no MPS backend here."""
    return False


def is_macos_or_newer(major, minor):
    return False


def is_macos13_or_newer(minor=0):
    return False

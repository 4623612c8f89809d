"""``backends.mkldnn``: oneDNN's switches; this project does not use oneDNN (the flags are
remembered and change nothing)."""
__all__ = ['is_available', 'enabled', 'deterministic']

enabled = True
deterministic = False


def is_available():
    """False: no op here runs through oneDNN."""
    return False

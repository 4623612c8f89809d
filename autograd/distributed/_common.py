"""What the backends share: the reduction ops, the backend error, waiting with a timeout."""
import enum
import time


class DistBackendError(RuntimeError):
    """A collective failed in the communication library, or timed out."""


class ReduceOp(enum.Enum):
    SUM = 'sum'
    AVG = 'avg'
    PRODUCT = 'product'
    MIN = 'min'
    MAX = 'max'
    BAND = 'band'
    BOR = 'bor'
    BXOR = 'bxor'

    def __repr__(self):
        return f'<RedOpType.{self.name}>'


def poll(test, timeout, what):
    """Wait until ``test()`` is true, sleeping a little longer each round (never more than a
    millisecond, so a waiting rank leaves its core to a computing one); past ``timeout``
    (a timedelta) raise ``DistBackendError`` naming ``what``."""
    if test():
        return
    deadline = time.monotonic() + timeout.total_seconds()
    delay = 1e-6
    while not test():
        if time.monotonic() > deadline:
            raise DistBackendError(f'{what} timed out after {timeout} (a peer rank is gone, '
                                   'stalled, or called a different collective)')
        time.sleep(delay)
        delay = min(delay * 2, 1e-3)

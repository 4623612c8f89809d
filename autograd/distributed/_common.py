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
    """Wait until ``test()`` is true: spinning for the first millisecond (most waits are
    shorter, and even ``time.sleep(0)`` costs tens of microseconds of timer slack on Linux),
    then sleeping a little longer each round, never more than a millisecond, so that a
    waiting rank leaves its core to computing ones.  Past ``timeout`` (a timedelta) raise
    ``DistBackendError`` naming ``what``."""
    if test():
        return
    now = time.monotonic()
    deadline, spin = now + timeout.total_seconds(), now + 1e-3
    while now < spin:
        if test():
            return
        now = time.monotonic()
    delay = 1e-5
    while not test():
        if time.monotonic() > deadline:
            raise DistBackendError(f'{what} timed out after {timeout} (a peer rank is gone, '
                                   'stalled, or called a different collective)')
        time.sleep(delay)
        delay = min(delay * 2, 1e-3)

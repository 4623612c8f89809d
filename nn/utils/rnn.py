"""Utilities for variable-length sequences."""
import autograd

__all__ = ['pad_sequence']


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack sequences of shapes ``(L_i, *)`` into ``(L_max, B, *)`` (or ``(B, L_max, *)``
    with ``batch_first``), filling with ``padding_value`` on ``padding_side``."""
    from ..functional.misc import pad
    if padding_side not in ('left', 'right'):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, autograd.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError('received an empty list of sequences')
    for i, s in enumerate(sequences):
        if not isinstance(s, autograd.Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(s).__name__}')
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        tail = [0, 0] * (s.ndim - 1)
        spec = tail + ([0, extra] if padding_side == 'right' else [extra, 0])
        padded.append(pad(s, spec, value=padding_value) if extra else s)
    return autograd.stack(padded, 0 if batch_first else 1)

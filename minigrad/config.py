"""Whether operations record a graph for backpropagation.

The switch is thread-local: ``no_grad()`` in one thread never changes what
another thread records.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Return ``True`` when new operations are recorded for backward (the default)."""
    return getattr(_state, "grad_enabled", True)


@contextlib.contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Record operations (``mode=True``) or not (``mode=False``) inside the block.

    The previous setting comes back when the block ends, even on an exception.
    """
    previous = is_grad_enabled()
    _state.grad_enabled = bool(mode)
    try:
        yield
    finally:
        _state.grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager in which operations build no graph.

    Examples
    --------
    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> with mg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return set_grad_enabled(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns recording back on inside a ``no_grad`` block."""
    return set_grad_enabled(True)

"""Whether operations record a graph for backpropagation.

The switch is thread-local: turning recording off in one thread never changes
what another thread records, and a new thread starts with recording on. As in
PyTorch, there are three ways to set it:

* a plain call, ``mg.set_grad_enabled(False)``, switches recording off in the
  current thread until it is switched back;
* a block, ``with mg.no_grad():``, ``with mg.enable_grad():`` or
  ``with mg.set_grad_enabled(mode):``, sets it inside the block and restores
  the previous mode on exit, also when the block raises;
* a decorator, ``@mg.no_grad()`` (or ``@mg.no_grad``), ``@mg.enable_grad()``
  or ``@mg.set_grad_enabled(mode)``, runs every call of the function in that
  mode and restores the caller's mode when the call returns. A decorated
  generator runs in the mode each time it resumes, and leaves the caller's
  mode alone between items. Async functions are refused: their body runs
  after the call returns, so a decorator could not set its mode.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

from minigrad.checks import check_flag

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Return ``True`` when new operations are recorded for backward (the default).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.is_grad_enabled()
    True
    >>> with mg.no_grad():
    ...     print(mg.is_grad_enabled())
    False
    """
    return getattr(_state, "grad_enabled", True)


def swap_grad_enabled(mode: bool) -> bool:
    """Set whether the current thread records (``mode``, a bool) and return the setting before.

    For the engine's hot path (the backward pass), which restores the returned
    setting in a ``finally``; code outside the engine writes
    ``with set_grad_enabled(mode):``, which checks ``mode`` and does the same.

    >>> import minigrad as mg
    >>> from minigrad.config import swap_grad_enabled
    >>> before = swap_grad_enabled(False)
    >>> mg.is_grad_enabled(), swap_grad_enabled(before), mg.is_grad_enabled()
    (False, False, True)
    """
    previous = getattr(_state, "grad_enabled", True)
    _state.grad_enabled = mode
    return previous


@contextlib.contextmanager
def _recording(mode: bool) -> Iterator[None]:
    """Set the mode of the current thread for the block, then restore the one before it."""
    previous = swap_grad_enabled(mode)
    try:
        yield
    finally:
        swap_grad_enabled(previous)


def _run_in_mode(function: Callable[..., Any], mode: bool) -> Callable[..., Any]:
    """``function`` wrapped so that each call runs with recording set to ``mode``."""
    if not callable(function):
        raise TypeError(f"function: expected a function to decorate, got {function!r}")
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        raise TypeError(
            f"function: {function.__qualname__} is async, so its body would run after the call returns, outside "
            "the mode; open a block (with mg.no_grad(): ...) inside it instead"
        )
    if inspect.isgeneratorfunction(function):
        return _run_generator_in_mode(function, mode)

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _recording(mode):
            return function(*args, **kwargs)

    return run


def _run_generator_in_mode(function: Callable[..., Any], mode: bool) -> Callable[..., Any]:
    """A generator function whose body runs in ``mode`` each time it resumes, and never in between."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        generator = function(*args, **kwargs)
        try:
            with _recording(mode):
                item = generator.send(None)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with _recording(mode):
                        generator.close()
                    raise
                except BaseException as error:  # thrown into this generator: pass it on to the body
                    with _recording(mode):
                        item = generator.throw(error)
                else:
                    with _recording(mode):
                        item = generator.send(sent)
        except StopIteration as finished:
            return finished.value

    return run


class _GradMode:
    """A context manager and decorator that sets recording to :attr:`mode`.

    Each thread keeps its own stack of modes to restore, so one instance can be
    entered in several threads, or nested, and still restore the right mode.
    """

    mode: bool

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._saved = threading.local()

    def _mode_to_restore(self) -> bool:
        """The mode that leaving the block brings back: the one in force on entering it."""
        return is_grad_enabled()

    def _saved_modes(self) -> list[bool]:
        if not hasattr(self._saved, "modes"):
            self._saved.modes = []
        return self._saved.modes

    def __enter__(self) -> None:
        self._saved_modes().append(self._mode_to_restore())
        _state.grad_enabled = self.mode

    def __exit__(self, *exc_info: Any) -> None:
        _state.grad_enabled = self._saved_modes().pop()

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``function``: each call runs with recording set to :attr:`mode`."""
        return _run_in_mode(function, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class no_grad(_GradMode):  # noqa: N801 - the PyTorch name
    """Context manager and decorator in which operations build no graph.

    Usable as ``with mg.no_grad():``, as ``@mg.no_grad()`` and, as in
    PyTorch, as ``@mg.no_grad`` without parentheses. The previous mode comes
    back when the block or the decorated call ends, even on an exception.

    Examples
    --------
    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> with mg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        if function is None:
            return super().__new__(cls)
        return cls()(function)  # ``@mg.no_grad`` without parentheses: the decorated function

    def __init__(self, function: None = None) -> None:
        super().__init__(False)


class enable_grad(_GradMode):  # noqa: N801 - the PyTorch name
    """Context manager and decorator that turns recording back on, e.g. inside a ``no_grad`` block.

    Usable as ``with mg.enable_grad():``, ``@mg.enable_grad()`` and ``@mg.enable_grad``.

    Examples
    --------
    >>> import minigrad as mg
    >>> with mg.no_grad():
    ...     with mg.enable_grad():
    ...         print(mg.is_grad_enabled())
    True
    """

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        if function is None:
            return super().__new__(cls)
        return cls()(function)  # ``@mg.enable_grad`` without parentheses: the decorated function

    def __init__(self, function: None = None) -> None:
        super().__init__(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - the PyTorch name
    """Switch recording on (``mode=True``) or off (``mode=False``) in the current thread.

    The call itself switches the mode, as ``torch.set_grad_enabled`` does:

    * ``mg.set_grad_enabled(False)`` alone keeps recording off until
      ``mg.set_grad_enabled(True)``;
    * ``with mg.set_grad_enabled(False):`` restores, when the block ends (even
      on an exception), the mode from before the call;
    * ``@mg.set_grad_enabled(False)`` leaves the mode as it was and runs each
      call of the decorated function in ``mode``.

    Parameters
    ----------
    mode : bool
        Whether to record. Only ``True`` or ``False`` (a Python or NumPy bool).

    Raises
    ------
    TypeError
        When ``mode`` is not a bool; the mode is then unchanged.

    Examples
    --------
    >>> import minigrad as mg
    >>> with mg.set_grad_enabled(False):
    ...     print(mg.is_grad_enabled())
    False
    >>> mg.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(check_flag("mode", mode))
        self._mode_before_call = is_grad_enabled()
        _state.grad_enabled = self.mode

    def _mode_to_restore(self) -> bool:
        return self._mode_before_call

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``function``: undo this call's switch, and run each call of ``function`` in :attr:`mode`."""
        _state.grad_enabled = self._mode_before_call
        return _run_in_mode(function, self.mode)

    def __repr__(self) -> str:
        return f"set_grad_enabled(mode={self.mode})"

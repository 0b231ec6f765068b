"""A progress bar for the long experiments: tqdm's when it is installed (the ``demo`` extra), else none.

The library does not depend on tqdm: without it, or when the bar is hidden,
:func:`progress` yields the items unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["Progress", "progress"]

Item = TypeVar("Item")


class Progress:
    """The items of ``iterable``, shown as a tqdm bar on a terminal's standard error when ``show`` is true.

    Parameters
    ----------
    iterable : iterable
        What to go through.
    label : str
        The bar's description (the optimizer's name).
    unit : str
        What one item is ("epoch", "round").
    show : bool
        Whether a bar is wanted; it also needs tqdm and a terminal.

    >>> [k for k in Progress(range(3), "adam", "round", show=False)]
    [0, 1, 2]
    """

    def __init__(self, iterable: Iterable[Item], label: str, unit: str, show: bool) -> None:
        self._bar: Any = None
        self._iterable = iterable
        if show and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:  # optional: the 'demo' extra installs it
                return
            self._bar = tqdm(iterable, desc=f"{label:>8}", unit=unit)

    def __iter__(self) -> Iterator[Item]:
        return iter(self._iterable if self._bar is None else self._bar)

    def note(self, **values: str) -> None:
        """Show ``values`` beside the bar (tqdm's postfix); nothing without a bar."""
        if self._bar is not None:
            self._bar.set_postfix(**values)

    def close(self) -> None:
        """Finish the bar's line."""
        if self._bar is not None:
            self._bar.close()


def progress(iterable: Iterable[Item], label: str, unit: str, show: bool) -> Progress:
    """:class:`Progress` over ``iterable`` (see there)."""
    return Progress(iterable, label, unit, show)

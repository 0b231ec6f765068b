"""Splitting a data set in two and walking through it in mini-batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.backend import Device
from minigrad.checks import check_flag
from minigrad.nn.init import RngLike, as_generator
from minigrad.tensor import Tensor

__all__ = ["batches", "train_test_split"]


def _as_samples(name: str, value: Any) -> Any:
    """A NumPy or CuPy array with at least one axis, the first indexing the samples."""
    if isinstance(value, Tensor):
        value = value.data
    if not backend.is_array(value):
        value = np.asarray(value)
    if value.ndim == 0:
        raise ValueError(f"{name}: expected an array with one row per sample, got a 0-d value {value!r}")
    return value


def _check_same_length(x: Any, y: Any) -> int:
    if len(x) != len(y):
        raise ValueError(f"y: expected {len(x)} samples to match x, got {len(y)}")
    return len(x)


def _take(array: Any, index: np.ndarray) -> Any:
    """``array[index]`` along the first axis, with the index moved to the array's device."""
    return array[backend.to_device(index, backend.device_of(array))]


def train_test_split(
    x: Any, y: Any, test_fraction: float = 0.2, rng: RngLike = None
) -> tuple[Any, Any, Any, Any]:
    """Split samples and their targets at random into a training and a test part.

    Parameters
    ----------
    x : array_like
        The samples, one per row (first axis).
    y : array_like
        The targets, one per sample: ``len(y) == len(x)``.
    test_fraction : float, default 0.2
        The share of the samples that goes to the test part, strictly between
        0 and 1. The test part gets ``round(test_fraction * len(x))`` samples;
        both parts must end up with at least one.
    rng : numpy.random.Generator or int, optional
        The source of the random permutation: an integer seed gives the same
        split on every run; ``None`` draws fresh entropy.

    Returns
    -------
    x_train, x_test, y_train, y_test : array
        New arrays (never views of the inputs), in this order, on the device
        of the inputs. Every sample lands in exactly one part, and each part
        keeps the pairing of ``x`` and ``y``.

    Raises
    ------
    ValueError
        When ``x`` and ``y`` differ in length, or ``test_fraction`` is not in
        ``(0, 1)`` or leaves a part empty.

    Examples
    --------
    >>> from minigrad.datasets import load_digits, train_test_split
    >>> images, labels = load_digits()
    >>> x_train, x_test, y_train, y_test = train_test_split(images, labels, test_fraction=0.2, rng=0)
    >>> len(x_train), len(x_test)
    (1438, 359)
    """
    x = _as_samples("x", x)
    y = _as_samples("y", y)
    n = _check_same_length(x, y)
    if (
        isinstance(test_fraction, (bool, np.bool_))
        or not isinstance(test_fraction, (int, float, np.integer, np.floating))
        or not 0.0 < test_fraction < 1.0
    ):
        raise ValueError(f"test_fraction: expected a number strictly between 0 and 1, got {test_fraction!r}")
    n_test = round(float(test_fraction) * n)
    if n_test == 0 or n_test == n:
        raise ValueError(
            f"test_fraction: {test_fraction!r} of {n} samples leaves "
            f"{'the test' if n_test == 0 else 'the training'} part empty"
        )
    order = as_generator(rng).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return _take(x, train), _take(x, test), _take(y, train), _take(y, test)


def batches(
    x: Any, y: Any, batch_size: int, shuffle: bool = True, rng: RngLike = None,
    drop_last: bool = False, device: str | Device | None = None,
) -> Iterator[tuple[Tensor, Any]]:
    """Walk once through a data set (one epoch) in mini-batches.

    Parameters
    ----------
    x : array_like
        The samples, one per row (first axis).
    y : array_like
        The targets, one per sample: ``len(y) == len(x)``.
    batch_size : int
        The number of samples per batch. The last batch is smaller when
        ``batch_size`` does not divide ``len(x)``, unless ``drop_last``.
    shuffle : bool, default True
        Visit the samples in a random order; otherwise in their stored order.
    rng : numpy.random.Generator or int, optional
        The source of the shuffling order. An integer seed gives the same
        order on every call; to get a new, reproducible order in every epoch,
        create one generator before the training loop and pass it to every
        call. ``None`` draws fresh entropy. Ignored when ``shuffle`` is false.
    drop_last : bool, default False
        Leave out the last batch when it has fewer than ``batch_size`` samples.
    device : str or Device, optional
        Where the batches go: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. By
        default they stay on the device of ``x`` (and ``y``).

    Returns
    -------
    iterator of (Tensor, array)
        Pairs ``(inputs, targets)``: ``inputs`` a :class:`~minigrad.tensor.Tensor`
        (no gradient required) holding the rows of ``x``; ``targets`` a NumPy
        or CuPy array, on the same device, holding the matching entries of
        ``y`` with their dtype, ready for :func:`minigrad.cross_entropy`.
        Each batch is a new copy of its rows. Every sample appears exactly
        once per call (once in a full batch, when ``drop_last`` is true).

    Raises
    ------
    ValueError
        When ``x`` and ``y`` differ in length, or ``batch_size`` is not a
        positive integer.
    TypeError
        When ``shuffle`` or ``drop_last`` is not a bool.

    All of it is checked when ``batches`` is called, before the first batch.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.datasets import batches
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [targets.tolist() for _, targets in batches(x, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    x = _as_samples("x", x)
    y = _as_samples("y", y)
    n = _check_same_length(x, y)
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    shuffle = check_flag("shuffle", shuffle)
    drop_last = check_flag("drop_last", drop_last)
    target = backend.device_of(x) if device is None else backend.as_device(device)
    order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
    return _iterate(x, y, order, int(batch_size), drop_last, target)


def _iterate(
    x: Any, y: Any, order: np.ndarray, batch_size: int, drop_last: bool, device: Device
) -> Iterator[tuple[Tensor, Any]]:
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        inputs = backend.to_device(_take(x, index), device)
        targets = backend.to_device(_take(y, index), device)
        yield Tensor(inputs), targets

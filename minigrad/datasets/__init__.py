"""Small data sets bundled with minigrad, and helpers to split and batch them.

>>> from minigrad.datasets import batches, load_digits, train_test_split
>>> images, labels = load_digits()
>>> x_train, x_test, y_train, y_test = train_test_split(images, labels, rng=0)
>>> inputs, targets = next(iter(batches(x_train, y_train, batch_size=64, rng=0)))
>>> inputs.shape, targets.shape
((64, 64), (64,))
"""

from minigrad.datasets.batching import batches, train_test_split
from minigrad.datasets.digits import load_digits

__all__ = ["batches", "load_digits", "train_test_split"]

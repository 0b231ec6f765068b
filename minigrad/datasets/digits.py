"""The bundled handwritten-digits data set: 1797 images of 8 by 8 pixels, ten classes.

The file ``digits.npz`` beside this module holds two arrays:

``images``
    ``uint8``, shape ``(1797, 8, 8)``, pixel counts from 0 to 16.
``labels``
    ``uint8``, shape ``(1797,)``, the digit shown, from 0 to 9.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np

from minigrad.checks import check_flag

__all__ = ["N_CLASSES", "N_SAMPLES", "load_digits"]

N_SAMPLES = 1797
N_CLASSES = 10
_IMAGE_SHAPE = (8, 8)
_MAX_PIXEL = 16


@functools.lru_cache(maxsize=1)
def _read_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Read ``digits.npz`` once; callers must copy before handing arrays out."""
    resource = resources.files(__package__).joinpath("digits.npz")
    with resource.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
        images = archive["images"]
        labels = archive["labels"]
    if images.shape != (N_SAMPLES, *_IMAGE_SHAPE) or labels.shape != (N_SAMPLES,):
        raise RuntimeError(
            f"digits.npz: expected images of shape {(N_SAMPLES, *_IMAGE_SHAPE)} and labels of shape "
            f"{(N_SAMPLES,)}, got {images.shape} and {labels.shape}; the installed file is damaged"
        )
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _as_dtype(dtype: Any, normalize: bool) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype: expected a NumPy dtype such as numpy.float32, got {dtype!r}") from error
    if normalize and dtype.kind != "f":
        raise ValueError(f"dtype: normalized pixels lie in [0, 1] and need a floating-point dtype, got {dtype}")
    if dtype.kind not in "fiu":
        raise ValueError(f"dtype: expected a real numeric dtype, got {dtype}")
    return dtype


def load_digits(dtype: Any = np.float32, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load the 8x8 handwritten digits bundled with minigrad.

    The data are the test set of the UCI *Optical Recognition of Handwritten
    Digits* data set by E. Alpaydin and C. Kaynak (1998), released under the
    Creative Commons Attribution 4.0 licence (CC BY 4.0). Each image is a 32x32
    bitmap of a handwritten digit, divided into 4x4 blocks; a pixel counts the
    set bits of its block, from 0 to 16. The ten classes are nearly balanced
    (174 to 183 images each).

    Parameters
    ----------
    dtype : dtype, default numpy.float32
        The dtype of the returned images. Must be a floating-point dtype when
        ``normalize`` is true.
    normalize : bool, default True
        Divide the pixel counts by 16, so that the values lie in ``[0, 1]``.
        With ``False`` the raw counts 0 to 16 are returned.

    Returns
    -------
    images : numpy.ndarray
        Shape ``(1797, 64)``: one flattened image per row, row-major
        (pixel ``(r, c)`` is column ``8 * r + c``).
    labels : numpy.ndarray
        Shape ``(1797,)``, dtype ``int64``: the digit of each row, 0 to 9.

    Raises
    ------
    ValueError
        When ``dtype`` is not a real numeric dtype, or is not a floating-point
        dtype while ``normalize`` is true.
    TypeError
        When ``normalize`` is not a bool.

    Notes
    -----
    Every call returns new arrays, which the caller may modify freely.

    References
    ----------
    E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository, 1998.
    https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits

    Examples
    --------
    >>> from minigrad.datasets import load_digits
    >>> images, labels = load_digits()
    >>> images.shape, labels.shape
    ((1797, 64), (1797,))
    >>> float(images.max()), int(labels.max())
    (1.0, 9)
    """
    normalize = check_flag("normalize", normalize)
    dtype = _as_dtype(dtype, normalize)
    raw_images, raw_labels = _read_arrays()
    images = raw_images.reshape(N_SAMPLES, -1).astype(dtype)
    if normalize:
        images /= dtype.type(_MAX_PIXEL)
    return images, raw_labels.astype(np.int64)

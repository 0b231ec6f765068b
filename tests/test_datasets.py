"""The bundled digits data and the split and batching helpers of ``minigrad.datasets``."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from minigrad.datasets import batches, load_digits, train_test_split

# ----------------------------------------------------------------------------- load_digits


def test_digits_shapes_and_dtypes() -> None:
    images, labels = load_digits()
    assert images.shape == (1797, 64)
    assert images.dtype == np.float32
    assert labels.shape == (1797,)
    assert labels.dtype == np.int64


def test_digits_values_are_scaled_to_unit_interval() -> None:
    images, _ = load_digits()
    assert images.min() == 0.0
    assert images.max() == 1.0
    raw, _ = load_digits(normalize=False)
    np.testing.assert_array_equal(images, raw / np.float32(16))


def test_digits_raw_counts_are_integers_from_0_to_16() -> None:
    raw, _ = load_digits(dtype=np.int64, normalize=False)
    assert raw.dtype == np.int64
    assert raw.min() == 0 and raw.max() == 16


def test_digits_label_range_and_class_counts() -> None:
    _, labels = load_digits()
    assert set(np.unique(labels).tolist()) == set(range(10))
    counts = np.bincount(labels, minlength=10)
    assert counts.shape == (10,)
    assert counts.sum() == 1797
    # The UCI test set is nearly balanced: 174 to 183 images per digit.
    assert counts.min() >= 174 and counts.max() <= 183


def test_digits_float64_and_fresh_copies() -> None:
    images, labels = load_digits(dtype=np.float64)
    assert images.dtype == np.float64
    images[...] = -1.0
    labels[...] = -1
    again, again_labels = load_digits()
    assert again.min() == 0.0 and again_labels.min() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": np.int32}, "dtype"),
        ({"dtype": "not-a-dtype"}, "dtype"),
        ({"dtype": np.complex64, "normalize": False}, "dtype"),
    ],
)
def test_digits_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_digits(**kwargs)


@pytest.mark.parametrize("normalize", ["yes", 1, None])
def test_digits_normalize_must_be_a_bool(normalize) -> None:
    """Like every flag of the engine, a non-bool ``normalize`` is a TypeError naming it and the value."""
    with pytest.raises(TypeError, match=f"normalize: expected True or False, got {normalize!r}"):
        load_digits(normalize=normalize)


# ----------------------------------------------------------------------------- train_test_split


def test_split_sizes_and_partition() -> None:
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.2, rng=0)
    assert x_train.shape == (40, 2) and x_test.shape == (10, 2)
    assert y_train.shape == (40,) and y_test.shape == (10,)
    # Every sample in exactly one part, and x stays paired with y.
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))
    np.testing.assert_array_equal(x_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(x_test[:, 0], 2 * y_test)


def test_split_digits_default_fraction() -> None:
    images, labels = load_digits()
    x_train, x_test, _, y_test = train_test_split(images, labels, rng=1)
    assert len(x_test) == round(0.2 * 1797) == len(y_test)
    assert len(x_train) + len(x_test) == 1797


def test_split_is_reproducible_from_a_seed() -> None:
    x, y = np.arange(30.0).reshape(30, 1), np.arange(30)
    first = train_test_split(x, y, rng=7)
    second = train_test_split(x, y, rng=7)
    other = train_test_split(x, y, rng=8)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], other[3])


def test_split_returns_copies() -> None:
    x, y = np.zeros((10, 3)), np.zeros(10, dtype=np.int64)
    x_train, _, y_train, _ = train_test_split(x, y, rng=0)
    x_train[...] = 1.0
    y_train[...] = 1
    assert x.sum() == 0 and y.sum() == 0


@pytest.mark.parametrize(
    ("x", "y", "fraction", "match"),
    [
        (np.zeros((10, 2)), np.zeros(9), 0.2, "y"),
        (np.zeros((10, 2)), np.zeros(10), 0.0, "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), 1.0, "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), -0.5, "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), True, "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), "0.2", "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), 0.01, "test_fraction"),
        (np.zeros((10, 2)), np.zeros(10), 0.99, "test_fraction"),
        (np.float64(3.0), np.zeros(10), 0.2, "x"),
    ],
)
def test_split_bad_arguments(x: object, y: object, fraction: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        train_test_split(x, y, test_fraction=fraction, rng=0)


# ----------------------------------------------------------------------------- batches


def _labels_seen(x: np.ndarray, y: np.ndarray, **kwargs: object) -> list[list[int]]:
    return [backend.to_numpy(targets).tolist() for _, targets in batches(x, y, **kwargs)]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7, 64, 1797, 5000])
def test_batches_cover_every_sample_once(batch_size: int, shuffle: bool) -> None:
    images, labels = load_digits()
    ids = np.arange(len(labels))
    seen = []
    sizes = []
    for inputs, targets in batches(images, ids, batch_size=batch_size, shuffle=shuffle, rng=3):
        assert isinstance(inputs, mg.Tensor)
        assert not inputs.requires_grad
        assert inputs.dtype == np.float32
        # Each batch pairs the rows of x with the matching targets.
        np.testing.assert_array_equal(inputs.numpy(), images[targets])
        seen.extend(targets.tolist())
        sizes.append(len(targets))
    assert sorted(seen) == ids.tolist()
    assert all(size == batch_size for size in sizes[:-1])
    assert sizes[-1] == (1797 % batch_size or min(batch_size, 1797))
    if not shuffle:
        assert seen == ids.tolist()


def test_batches_drop_last() -> None:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    seen = _labels_seen(x, y, batch_size=4, shuffle=True, rng=0, drop_last=True)
    assert [len(b) for b in seen] == [4, 4]
    assert len({label for batch in seen for label in batch}) == 8
    assert _labels_seen(x, y, batch_size=5, shuffle=False, drop_last=True) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert _labels_seen(x, y, batch_size=11, shuffle=False, drop_last=True) == []


def test_batches_shuffling_is_reproducible() -> None:
    x, y = np.zeros((100, 1)), np.arange(100)
    assert _labels_seen(x, y, batch_size=16, rng=5) == _labels_seen(x, y, batch_size=16, rng=5)
    assert _labels_seen(x, y, batch_size=16, rng=5) != _labels_seen(x, y, batch_size=16, rng=6)
    # One generator across epochs: a new order each epoch, the same sequence of orders on every run.
    runs = []
    for _ in range(2):
        generator = np.random.default_rng(11)
        runs.append([_labels_seen(x, y, batch_size=16, rng=generator) for _ in range(3)])
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[0][1]


def test_batches_keep_target_dtype_and_trailing_axes() -> None:
    x = np.ones((6, 2, 3), dtype=np.float64)
    y = np.arange(6, dtype=np.int32)
    inputs, targets = next(iter(batches(x, y, batch_size=4, shuffle=False)))
    assert inputs.shape == (4, 2, 3) and inputs.dtype == np.float64
    assert targets.dtype == np.int32


def test_batches_are_copies() -> None:
    x, y = np.zeros((4, 2)), np.arange(4)
    for inputs, targets in batches(x, y, batch_size=2, shuffle=False):
        inputs.data[...] = 1.0
        targets[...] = -1
    assert x.sum() == 0 and y.tolist() == [0, 1, 2, 3]


def test_batches_on_device(device: str) -> None:
    images, labels = load_digits()
    total = 0
    for inputs, targets in batches(images, labels, batch_size=100, rng=0, device=device):
        assert inputs.device == device
        assert backend.device_of(targets) == device
        loss = mg.cross_entropy(inputs[:, :10], targets)
        assert np.isfinite(loss.item())
        total += len(targets)
    assert total == 1797


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
    ],
)
def test_batches_bad_arguments_raise_at_call(kwargs: dict, match: str) -> None:
    x, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match=match):
        batches(x, y, **kwargs)  # no iteration needed: the checks run at the call


@pytest.mark.parametrize(("flag", "value"), [("shuffle", "no"), ("drop_last", 1), ("shuffle", None)])
def test_batches_flags_must_be_bools(flag: str, value) -> None:
    """Like every flag of the engine, a non-bool ``shuffle`` or ``drop_last`` is a TypeError naming it."""
    x, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(TypeError, match=f"{flag}: expected True or False, got {value!r}"):
        batches(x, y, batch_size=4, **{flag: value})


def test_batches_length_mismatch() -> None:
    with pytest.raises(ValueError, match="y"):
        batches(np.zeros((10, 2)), np.zeros(11), batch_size=2)


def test_batches_bad_device() -> None:
    with pytest.raises(ValueError, match="device"):
        batches(np.zeros((10, 2)), np.zeros(10), batch_size=2, device="tpu")

"""Properties of the clipping transforms (optim.transforms) for every positive finite threshold and dtype.

Keras 3.15.1 (keras/src/optimizers/base_optimizer.py ``_clip_by_norm``) computes g c / max(||g||, c) in the
gradient's dtype; a threshold that rounds to 0 there (0 / 0) or to infinity, or a product g c beyond the dtype's
range, gives NaN or infinity. The library keeps Keras's formula, bit for bit, where it holds and otherwise computes
the same clipping in double precision. The gradients drawn here are finite and small enough that their squared
norm fits the dtype (beyond that the norm itself overflows, and below it the squares underflow, as in Keras: a
matter of the gradient, not of the threshold).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optim import transforms

DTYPES = [np.float16, np.float32, np.float64]
THRESHOLDS = st.floats(min_value=5e-324, max_value=1.7976931348623157e308, allow_nan=False, allow_infinity=False)


@st.composite
def gradients(draw, count=1):
    """``count`` finite gradients of one dtype, of at most 6 elements each, whose squared norm fits the dtype:
    each element 0 or with a square between the dtype's smallest normal number and its largest."""
    dtype = draw(st.sampled_from(DTYPES))
    info = np.finfo(dtype)
    bound = float(np.sqrt(info.max)) / 8
    floor = float(np.sqrt(info.tiny)) * 8  # a square below tiny underflows: the norm, as in Keras, loses it
    width = info.bits
    elements = st.one_of(st.just(0.0), st.floats(floor, bound, width=width), st.floats(-bound, -floor, width=width))
    return [draw(hnp.arrays(dtype, st.integers(1, 6), elements=elements)) for _ in range(count)]


def _norm(array):
    """The L2 norm in double precision, scaled by the largest magnitude so that squares of tiny values
    (thresholds near the subnormal range) do not underflow and lose the digits being checked."""
    wide = np.asarray(array, dtype=np.float64).ravel()
    peak = float(np.abs(wide).max()) if wide.size else 0.0
    if peak == 0:
        return 0.0
    return peak * math.sqrt(float(((wide / peak) ** 2).sum()))


def _bound(dtype, threshold, size):
    """The most a clipped norm may exceed ``threshold`` by: the rounding of c into the dtype, a few ulps, subnormals."""
    info = np.finfo(dtype)
    with np.errstate(over="ignore", under="ignore"):
        rounded = float(np.asarray(threshold, dtype=dtype))
    return max(threshold, rounded) * (1 + 8 * float(info.eps)) + 4 * size * float(info.smallest_subnormal)


@settings(max_examples=400, deadline=None)
@given(gradients(), THRESHOLDS)
def test_clip_by_norm_is_finite_and_never_grows_the_norm_past_the_threshold(grads, threshold):
    """clip_by_norm of a finite gradient: finite, of its dtype and shape, no element larger in magnitude or of
    the other sign, and a norm at most the threshold (up to rounding)."""
    (grad,) = grads
    clipped = transforms.clip_by_norm(grad, threshold)
    assert clipped.dtype == grad.dtype and clipped.shape == grad.shape
    assert np.isfinite(clipped).all()
    wide, wide_clipped = grad.astype(np.float64), clipped.astype(np.float64)
    assert (np.abs(wide_clipped) <= np.abs(wide) * (1 + 4 * float(np.finfo(grad.dtype).eps))).all()
    assert (wide_clipped * wide >= 0).all()
    assert _norm(clipped) <= _bound(grad.dtype, threshold, grad.size)


@settings(max_examples=300, deadline=None)
@given(gradients(count=3), THRESHOLDS)
def test_clip_by_global_norm_is_finite_and_bounded(grads, threshold):
    """clip_by_global_norm of finite gradients: finite, dtypes kept, a joint norm at most the threshold (rounding).

    As in Keras, one scale c / ||g|| multiplies every gradient in their dtype; when that scale is subnormal there
    (a tiny threshold against a large norm) it keeps fewer digits, and each product may be off by |g| times half
    the dtype's smallest subnormal: the bound adds that.
    """
    clipped = transforms.clip_by_global_norm(grads, threshold)
    assert all(c.dtype == g.dtype and np.isfinite(c).all() for c, g in zip(clipped, grads))
    joint = _norm(np.concatenate([c.ravel() for c in clipped]))
    dtype = grads[0].dtype
    scale_rounding = _norm(np.concatenate([g.ravel() for g in grads])) * float(np.finfo(dtype).smallest_subnormal)
    assert joint <= _bound(dtype, threshold, sum(g.size for g in grads)) + scale_rounding


@settings(max_examples=300, deadline=None)
@given(gradients(), THRESHOLDS)
def test_clip_by_value_is_finite_and_within_the_threshold(grads, threshold):
    """clip_by_value: every element in [-c, c] (c rounded to the dtype), finite, dtype kept, without a warning
    for a c beyond the dtype's range."""
    (grad,) = grads
    with np.errstate(over="raise"):
        clipped = transforms.clip_by_value(grad, threshold)
    assert clipped.dtype == grad.dtype and np.isfinite(clipped).all()
    assert (np.abs(clipped.astype(np.float64)) <= _bound(grad.dtype, threshold, 0)).all()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([np.float32, np.float64]), st.data(), st.floats(1e-6, 1e6))
def test_ordinary_thresholds_give_keras_results_bit_for_bit(dtype, data, threshold):
    """For ordinary thresholds and gradients the result is Keras's formula g c / max(||g||, c) in the gradient's
    dtype, bit for bit (the trajectories recorded from Keras depend on it)."""
    grad = data.draw(hnp.arrays(dtype, st.integers(1, 6), elements=st.floats(-1e3, 1e3, width=np.finfo(dtype).bits)))
    norm = np.sqrt((grad * grad).sum())
    np.testing.assert_array_equal(transforms.clip_by_norm(grad, threshold),
                                  grad * threshold / np.maximum(norm, threshold))

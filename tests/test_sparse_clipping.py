"""sparse_clipping: tf.keras legacy (and Keras 3) clip a row-sparse gradient as listed, then sum its repeated rows.

tf_keras 2.21.0's ``OptimizerV2._transform_gradients`` clips the ``IndexedSlices`` it is given (``clipvalue`` per
listed value, ``clipnorm`` and ``global_clipnorm`` over the listed values' norm); ``_deduplicate_indexed_slices``
sums the repeated rows later. Keras 3.15.1 (TensorFlow backend) clips the listed values too. The issue's row,
listed as (0.3, -0.4) and (0.3, 0.4): clipvalue 0.2 gives (0.4, 0), clipnorm 0.5 gives (0.3, 0) * 2 * 0.5 /
sqrt(0.5) = (0.4243, 0), where summing first gives (0.2, 0) and (0.5, 0). The first moment after one step is
(1 - beta1) times the gradient the rule received, which shows it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim

INDICES = np.array([0, 0, 2])
VALUES = np.array([[0.3, -0.4], [0.3, 0.4], [0.1, 0.05]])
LISTED = {  # the gradient the rule receives when the listed values are clipped first
    "clipvalue": np.array([[0.4, 0.0], [0.0, 0.0], [0.1, 0.05]]),
    "clipnorm": np.array([[0.6, 0.0], [0.0, 0.0], [0.1, 0.05]]) * 0.5 / math.sqrt(0.5 + 0.0125),
    "global_clipnorm": np.array([[0.6, 0.0], [0.0, 0.0], [0.1, 0.05]]) * 0.5 / math.sqrt(0.5 + 0.0125),
}
SUMMED = {  # summed first, then clipped
    "clipvalue": np.array([[0.2, 0.0], [0.0, 0.0], [0.1, 0.05]]),
    "clipnorm": np.array([[0.6, 0.0], [0.0, 0.0], [0.1, 0.05]]) * 0.5 / math.sqrt(0.36 + 0.0125),
    "global_clipnorm": np.array([[0.6, 0.0], [0.0, 0.0], [0.1, 0.05]]) * 0.5 / math.sqrt(0.36 + 0.0125),
}
THRESHOLDS = {"clipvalue": 0.2, "clipnorm": 0.5, "global_clipnorm": 0.5}


def first_gradient(option, **kwargs):
    """The gradient the rule received at the first step: m / (1 - beta1), for the repeated-row gradient above."""
    x = mg.tensor(np.ones((3, 2)), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, **{option: THRESHOLDS[option]}, **kwargs)
    opt.apply_gradients([(mg.RowSparseGrad(INDICES, VALUES, (3, 2)), x)])
    return opt.state[x]["m"] / 0.1


@pytest.mark.parametrize("option", sorted(THRESHOLDS))
@pytest.mark.parametrize("convention", ["tensorflow", "keras", "capreolus"])
def test_tf_keras_legacy_and_keras_clip_the_listed_values(convention, option):
    """Under the tensorflow, keras and capreolus conventions the rule receives the clipped listed values, summed:
    the issue's 0.4 for clipvalue and 0.424 for clipnorm."""
    np.testing.assert_allclose(first_gradient(option, convention=convention), LISTED[option], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("option", sorted(THRESHOLDS))
@pytest.mark.parametrize("convention", ["paper", "pytorch", "optax", "mindspore"])
def test_the_others_clip_the_summed_gradient(convention, option):
    """Elsewhere a row-sparse gradient is the dense gradient it stands for, clipped as such."""
    np.testing.assert_allclose(first_gradient(option, convention=convention), SUMMED[option], rtol=1e-6, atol=1e-12)


def test_the_keyword_overrides_the_convention():
    """sparse_clipping="summed_rows" under tensorflow, and "listed_values" under pytorch, swap the results."""
    np.testing.assert_allclose(first_gradient("clipvalue", convention="tensorflow", sparse_clipping="summed_rows"),
                               SUMMED["clipvalue"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(first_gradient("clipvalue", convention="pytorch", sparse_clipping="listed_values"),
                               LISTED["clipvalue"], rtol=1e-6, atol=1e-12)


def test_lazy_updates_clip_the_listed_values_too():
    """tf.keras legacy Adamax is lazy: the listed values are clipped, then the repeated rows summed for the rows'
    update (u of row 0 is |0.2 + 0.2| = 0.4, not the summed-then-clipped 0.2); untouched row 1 keeps its state."""
    x = mg.tensor(np.ones((3, 2)), requires_grad=True)
    opt = optim.Adamax([x], lr=0.1, convention="tensorflow", clipvalue=0.2)
    assert opt.lazy
    opt.apply_gradients([(mg.RowSparseGrad(INDICES, VALUES, (3, 2)), x)])
    np.testing.assert_allclose(opt.state[x]["u"], np.abs(LISTED["clipvalue"]), rtol=1e-12)
    np.testing.assert_array_equal(x.data[1], [1.0, 1.0])


def test_accumulation_sums_first_whatever_the_choice():
    """With gradient_accumulation_steps the accumulated gradient is dense (summed), so it is clipped as the sum."""
    x = mg.tensor(np.ones((3, 2)), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, convention="tensorflow", clipvalue=0.2, gradient_accumulation_steps=2)
    for _ in range(2):
        opt.apply_gradients([(mg.RowSparseGrad(INDICES, VALUES, (3, 2)), x)])
    np.testing.assert_allclose(opt.state[x]["m"] / 0.1, SUMMED["clipvalue"], rtol=1e-12)


def test_fused_clips_the_listed_values_as_the_reference_path_does():
    """fused=True takes the same pipeline: the same bits as the reference path."""
    results = []
    for fused in (False, True):
        x = mg.tensor(np.ones((3, 2)), requires_grad=True)
        opt = optim.Adam([x], lr=0.1, convention="tensorflow", clipnorm=0.5, fused=fused)
        opt.apply_gradients([(mg.RowSparseGrad(INDICES, VALUES, (3, 2)), x)])
        results.append((x.data.copy(), opt.state[x]["m"].copy(), opt.state[x]["v"].copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_without_clipping_the_rows_are_summed_first_as_before():
    """sparse_clipping only acts with a clipping threshold: a loss-scaled sparse gradient without clipping is summed,
    then divided, under either choice (the bits of the dense gradient it stands for). The two values of row 0 are
    such that a/3 + b/3 is not (a + b)/3 in float32."""
    values = np.array([[0.1257302165031433, 1.0], [-0.13210485875606537, 1.0]], np.float32)
    summed = (values[0] + values[1]) / np.float32(3)
    for choice in ("summed_rows", "listed_values"):
        x = mg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
        opt = optim.Adam([x], lr=0.1, convention="pytorch", sparse_clipping=choice, loss_scale_factor=3.0)
        opt.apply_gradients([(mg.RowSparseGrad(np.array([0, 0]), values, (3, 2)), x)])
        np.testing.assert_array_equal(opt.state[x]["m"][0], summed * np.float32(1 - 0.9))

"""capreolus cases: ``AdamMultilr`` (the port in :mod:`reference.capreolus_adam`; library convention ``"capreolus"``).

Dense gradients go through tf.keras legacy's ``ResourceApplyAdam`` / ``ResourceApplyAdamWithAmsgrad`` kernels
with each variable's pattern rate; ``tf.IndexedSlices`` through capreolus's sparse branch (every row, the raw
rate, no bias correction). The variables are named ``p0``, ``p1``, ... (``p0:0`` in TensorFlow), and the library
gets the same names, so that the same patterns match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.common import Spec, indexed_slices, library, run_specs
from reference.scenarios import scenario_arrays
from reference.slots import slot_trajectories, tf_legacy_slots

FRAMEWORK = "capreolus"
CONVENTION = "capreolus"
PATTERNS = [{"patterns": ["^p1"], "lr": 0.02}]
SPARSE_PATTERNS = [{"patterns": ["^p0"], "lr": 0.05}]
CALL = "AdamMultilr(learning_rate=0.1, pattern_lrs={patterns}{extra})"


def _spec(name: str, extra: str, patterns: list[dict[str, Any]], scenarios: tuple[str, ...], sparse: bool = False,
          **kwargs: Any) -> Spec:
    algorithm = "AMSGrad" if kwargs.get("amsgrad") else "Adam"
    notes = ("tf.IndexedSlices: capreolus's sparse branch updates every row with the pattern's raw learning rate "
             "(no bias correction)." if sparse else "Dense gradients: tf.keras legacy Adam with the pattern's rate.")
    return Spec(name, algorithm, CALL.format(patterns=patterns, extra=extra),
                library("Adam", CONVENTION, 0.1, pattern_lrs=patterns, **kwargs), scenarios, notes,
                {"sparse": True} if sparse else {})


def specs() -> list[Spec]:
    """The AdamMultilr configurations and their scenarios."""
    dense = ("random",)
    sparse = ("sparse", "sparse_clip")
    return [
        _spec("adam_pattern_lrs", "", PATTERNS, dense),
        _spec("adam_amsgrad_pattern_lrs", ", amsgrad=True", PATTERNS, dense, amsgrad=True),
        _spec("adam_pattern_lrs_decay0.5", ", decay=0.5", PATTERNS, dense, decay=0.5),
        _spec("adam_indexed_slices", "", SPARSE_PATTERNS, sparse, sparse=True),
        _spec("adam_amsgrad_indexed_slices", ", amsgrad=True", SPARSE_PATTERNS, sparse, sparse=True, amsgrad=True),
        _spec("adam_clipnorm0.5_indexed_slices", ", clipnorm=0.5", SPARSE_PATTERNS, ("sparse_clip",), sparse=True,
              clipnorm=0.5),
    ]


def _runner(spec: Spec, scenario: dict[str, Any]) -> dict[str, Any]:
    """Evaluate ``spec.call`` and apply every step eagerly with ``apply_gradients``."""
    import tensorflow as tf

    from reference.capreolus_adam import AdamMultilr

    init, grads = scenario_arrays(scenario)
    variables = [tf.Variable(p, name=f"p{i}") for i, p in enumerate(init)]
    opt = eval(spec.call, {"AdamMultilr": AdamMultilr})  # the recorded call, verbatim
    trajectory, slots = [], []
    for s, step in enumerate(grads):
        gradients = indexed_slices(step, scenario, s) if spec.options.get("sparse") else [tf.constant(g) for g in step]
        opt.apply_gradients(zip(gradients, variables))
        trajectory.append([v.numpy().copy() for v in variables])
        slots.append(tf_legacy_slots(opt, variables, spec.algorithm))
    return {"trajectory": trajectory, **slot_trajectories(slots)}


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; the facts say how large the uncorrected sparse step is."""
    import tensorflow as tf
    import tf_keras

    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    ratio = (1 - 0.9) / (1 - 0.999) ** 0.5  # (1 - b1^t) / sqrt(1 - b2^t) at t = 1
    facts = [f"AdamMultilr (capreolus-ir/capreolus, capreolus/utils/keras_support.py) ported onto tf_keras "
             f"{tf_keras.__version__}'s legacy OptimizerV2: its sparse branch steps by lr * m / (sqrt(v) + eps) "
             f"with the raw rate, (1 - b1^t) / sqrt(1 - b2^t) = {ratio:.3g} times the bias-corrected step at step 1."]
    return {"versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "numpy": np.__version__},
            "facts": facts, "cases": cases, "failures": failures}

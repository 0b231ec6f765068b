"""TF2 legacy Keras cases: ``tf_keras.optimizers.legacy.Adam`` / ``Adamax`` (library convention ``"tensorflow"``).

Dense gradients go through the ``ResourceApplyAdam`` / ``ResourceApplyAdamWithAmsgrad`` /
``ResourceApplyAdaMax`` kernels; ``tf.IndexedSlices`` gradients through the optimizers' sparse paths
(dense-equivalent for Adam, lazy for Adamax), which are compared here with the dense runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.common import (
    Spec,
    compare_sparse,
    describe_sparse,
    epsilon_form,
    indexed_slices,
    library,
    power_precision,
    run_specs,
)
from reference.scenarios import scenario_arrays
from reference.slots import slot_trajectories, tf_legacy_slots

FRAMEWORK = "tf_keras_legacy"
CONVENTION = "tensorflow"
DENSE = ("discriminating", "random", "tf_fixture")
ADAM = "tf_keras.optimizers.legacy.Adam(learning_rate=0.1"
ADAMAX = "tf_keras.optimizers.legacy.Adamax(learning_rate=0.1"


def _lib(cls: str, lr: Any, **kwargs: Any) -> dict[str, Any]:
    return library(cls, CONVENTION, lr, **kwargs)


def specs() -> list[Spec]:
    """The legacy-optimizer configurations and their scenarios."""
    sparse = {"sparse": True}
    return [
        Spec("adam", "Adam", ADAM + ")", _lib("Adam", 0.1), DENSE),
        Spec("adam_amsgrad", "AMSGrad", ADAM + ", amsgrad=True)", _lib("Adam", 0.1, amsgrad=True), DENSE),
        Spec("adam_eps0.1", "Adam", ADAM + ", epsilon=0.1)", _lib("Adam", 0.1, eps=0.1), DENSE),
        Spec("adam_amsgrad_eps0.1", "AMSGrad", ADAM + ", epsilon=0.1, amsgrad=True)",
             _lib("Adam", 0.1, eps=0.1, amsgrad=True), ("discriminating", "random")),
        Spec("adam_decay0.5", "Adam", ADAM + ", decay=0.5)", _lib("Adam", 0.1, decay=0.5), DENSE,
             notes="Legacy decay: lr_t = lr / (1 + decay * iterations), iterations = 0 at the first update."),
        Spec("adam_clipvalue0.05_clipnorm0.5", "Adam", ADAM + ", clipvalue=0.05, clipnorm=0.5)",
             _lib("Adam", 0.1, clipnorm=0.5, clipvalue=0.05), ("discriminating", "random"),
             notes="The legacy optimizers allow clipvalue with clipnorm: clipvalue first, then clipnorm per tensor."),
        Spec("adamax", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), DENSE),
        Spec("adamax_eps0.1", "Adamax", ADAMAX + ", epsilon=0.1)", _lib("Adamax", 0.1, eps=0.1), DENSE),
        Spec("adam_fixture", "Adam", "tf_keras.optimizers.legacy.Adam()", _lib("Adam", 0.001), ("tf_fixture",),
             notes="Settings of the legacy adam_test doTestBasic (all defaults)."),
        Spec("adam_decay0.5_fixture", "Adam", "tf_keras.optimizers.legacy.Adam(learning_rate=0.001, decay=0.5)",
             _lib("Adam", 0.001, decay=0.5), ("tf_fixture",),
             notes="Settings of the legacy adam_test testBasicWithLearningRateDecay."),
        Spec("adamax_fixture", "Adamax", "tf_keras.optimizers.legacy.Adamax()", _lib("Adamax", 0.001),
             ("tf_fixture",), notes="Settings of the legacy adamax_test testBasic (all defaults)."),
        Spec("adam_indexed_slices", "Adam", ADAM + ")", _lib("Adam", 0.1), ("sparse",),
             "Gradients passed as tf.IndexedSlices (repeated rows are summed first).", sparse),
        Spec("adam_amsgrad_indexed_slices", "AMSGrad", ADAM + ", amsgrad=True)", _lib("Adam", 0.1, amsgrad=True),
             ("sparse",), "Gradients passed as tf.IndexedSlices (repeated rows are summed first).", sparse),
        Spec("adamax_indexed_slices", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), ("sparse",),
             "Gradients passed as tf.IndexedSlices: LAZY update, only the rows in a step's indices change "
             "(their m, u and values); the bias correction uses the global step. Repeated rows are summed first. "
             "The library's tensorflow convention is lazy by default for Adamax with sparse gradients.", sparse),
        Spec("adamax_dense_on_sparse", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), ("sparse",),
             "The sparse scenario's dense gradients (not IndexedSlices): every row is updated; compare with "
             "adamax_indexed_slices."),
        *_sparse_clipping_specs(),
    ]


def _sparse_clipping_specs() -> list[Spec]:
    """IndexedSlices with repeated rows under clipping: ``_transform_gradients`` clips the values as listed,
    ``_deduplicate_indexed_slices`` sums the repeated rows afterwards (library: ``sparse_clipping="listed_values"``,
    the tensorflow convention's)."""
    sparse, scenarios = {"sparse": True}, ("sparse_clip",)
    notes = ("Gradients passed as tf.IndexedSlices with repeated rows: clipped as listed (clipvalue per listed "
             "value; clipnorm and global_clipnorm over the listed values' norm), then the repeated rows summed.")
    return [
        Spec("adam_clipvalue0.2_indexed_slices", "Adam", ADAM + ", clipvalue=0.2)", _lib("Adam", 0.1, clipvalue=0.2),
             scenarios, notes, sparse),
        Spec("adam_clipnorm0.5_indexed_slices", "Adam", ADAM + ", clipnorm=0.5)", _lib("Adam", 0.1, clipnorm=0.5),
             scenarios, notes, sparse),
        Spec("adam_global_clipnorm0.5_indexed_slices", "Adam", ADAM + ", global_clipnorm=0.5)",
             _lib("Adam", 0.1, global_clipnorm=0.5), scenarios, notes, sparse),
        Spec("adam_amsgrad_clipnorm0.5_indexed_slices", "AMSGrad", ADAM + ", amsgrad=True, clipnorm=0.5)",
             _lib("Adam", 0.1, amsgrad=True, clipnorm=0.5), scenarios, notes, sparse),
        Spec("adamax_clipvalue0.2_indexed_slices", "Adamax", ADAMAX + ", clipvalue=0.2)",
             _lib("Adamax", 0.1, clipvalue=0.2), scenarios, notes + " Adamax is lazy.", sparse),
    ]


def _gradients(step: list[np.ndarray], scenario: dict[str, Any], s: int, sparse: bool) -> list[Any]:
    """The gradients of step ``s`` as tensors, or ``tf.IndexedSlices`` when ``sparse``."""
    import tensorflow as tf

    if not sparse:
        return [tf.constant(g) for g in step]
    return indexed_slices(step, scenario, s)


def _runner(spec: Spec, scenario: dict[str, Any], sparse: bool | None = None) -> dict[str, Any]:
    """Evaluate ``spec.call`` and apply every step eagerly with ``apply_gradients``."""
    import tensorflow as tf
    import tf_keras

    init, grads = scenario_arrays(scenario)
    variables = [tf.Variable(p, name=f"p{i}") for i, p in enumerate(init)]
    opt = eval(spec.call, {"tf_keras": tf_keras})  # the recorded call, verbatim
    sparse = spec.options.get("sparse", False) if sparse is None else sparse
    trajectory, slots = [], []
    for s, step in enumerate(grads):
        opt.apply_gradients(zip(_gradients(step, scenario, s, sparse), variables))
        trajectory.append([v.numpy().copy() for v in variables])
        slots.append(tf_legacy_slots(opt, variables, spec.algorithm))
    return {"trajectory": trajectory, **slot_trajectories(slots)}


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; the sparse cases are also compared with the same configuration on dense gradients."""
    import tensorflow as tf
    import tf_keras

    by_name = {spec.name: spec for spec in specs()}
    cases, failures = run_specs(FRAMEWORK, list(by_name.values()), scenarios, _runner)
    by_id = {case["id"]: case for case in cases}
    disc = scenarios["discriminating"]
    facts = [epsilon_form(by_id[f"{FRAMEWORK}/{name}/discriminating"], disc, 0.1, 0.1)[1]
             for name in ("adam_eps0.1", "adamax_eps0.1")]
    facts.append(power_precision(by_id[f"{FRAMEWORK}/adam/random"], scenarios["random"], 0.1, 1e-07, "epsilon_hat"))
    for case in cases:
        spec = by_name[case["id"].split("/")[1]]
        if not spec.options.get("sparse"):
            continue
        scenario = scenarios[case["scenario"]]
        case.update(compare_sparse(case, _runner(spec, scenario, sparse=False)["trajectory"], scenario))
        text, lazy = describe_sparse(case)
        facts.append(f"{spec.call} fed tf.IndexedSlices: {text}; {lazy}.")
    return {
        "versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "numpy": np.__version__},
        "facts": facts,
        "cases": cases,
        "failures": failures,
    }

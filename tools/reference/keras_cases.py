"""Keras 3 cases: ``keras.optimizers.Adam`` / ``AdamW`` / ``Adamax`` / ``SGD`` (library convention ``"keras"``).

Three entry points, each run in its own process by ``tools/generate_reference.py``:

* :func:`generate_jax` -- ``KERAS_BACKEND=jax``: the dense cases (every base-optimizer feature,
  the learning-rate schedules, the golden-test inputs);
* :func:`generate_tensorflow_sparse` -- ``KERAS_BACKEND=tensorflow``: the ``sparse`` scenario fed as
  ``tf.IndexedSlices`` (Keras 3 applies them like the dense gradient);
* :func:`generate_jax_x64` -- ``KERAS_BACKEND=jax`` with ``JAX_ENABLE_X64=1``: float64 variables.
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
from reference.slots import keras_slots, slot_trajectories

FRAMEWORK = "keras"
CONVENTION = "keras"
DENSE = ("discriminating", "random")
ADAM = "keras.optimizers.Adam(learning_rate=0.1"
ADAMAX = "keras.optimizers.Adamax(learning_rate=0.1"
SCHEDULES = {
    "inverse_time": "InverseTimeDecay(0.1, 1.0, 0.5)",
    "exponential": "ExponentialDecay(0.1, 2, 0.5)",
    "piecewise": "PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])",
    "polynomial": "PolynomialDecay(0.1, 4, 0.01, power=2.0)",
    "cosine_warmup": "CosineDecay(0.05, 4, alpha=0.1, warmup_target=0.1, warmup_steps=2)",
}


def _lib(cls: str, lr: Any, **kwargs: Any) -> dict[str, Any]:
    return library(cls, CONVENTION, lr, **kwargs)


def _schedule(expr: str) -> dict[str, Any]:
    """Our ``lr`` value for a Keras schedule expression: its class name and ``get_config()`` (minus name)."""
    import keras

    sched = eval("keras.optimizers.schedules." + expr, {"keras": keras})
    config = {k: v for k, v in sched.get_config().items() if k != "name"}
    return {"schedule": {"class_name": type(sched).__name__, "config": config}}


def dense_specs() -> list[Spec]:
    """The JAX-backend configurations."""
    s = [
        Spec("adam", "Adam", ADAM + ")", _lib("Adam", 0.1), DENSE),
        Spec("adam_amsgrad", "AMSGrad", ADAM + ", amsgrad=True)", _lib("Adam", 0.1, amsgrad=True), DENSE),
        Spec("adam_eps0.1", "Adam", ADAM + ", epsilon=0.1)", _lib("Adam", 0.1, eps=0.1), DENSE),
        Spec("adam_amsgrad_eps0.1", "AMSGrad", ADAM + ", epsilon=0.1, amsgrad=True)",
             _lib("Adam", 0.1, eps=0.1, amsgrad=True), DENSE),
        Spec("adam_wd0.1", "Adam", ADAM + ", weight_decay=0.1)", _lib("Adam", 0.1, weight_decay=0.1), DENSE,
             notes="Keras weight_decay is decoupled: var -= var * weight_decay * lr before the update."),
        Spec("adamw_wd0.1", "Adam", "keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.1)",
             _lib("Adam", 0.1, weight_decay=0.1), ("discriminating",), notes="AdamW is Adam with weight_decay."),
        Spec("adam_clipnorm0.5", "Adam", ADAM + ", clipnorm=0.5)", _lib("Adam", 0.1, clipnorm=0.5), DENSE,
             notes="clipnorm clips each gradient tensor to L2 norm 0.5."),
        Spec("adam_clipvalue0.05", "Adam", ADAM + ", clipvalue=0.05)", _lib("Adam", 0.1, clipvalue=0.05), DENSE),
        Spec("adam_global_clipnorm0.5", "Adam", ADAM + ", global_clipnorm=0.5)",
             _lib("Adam", 0.1, global_clipnorm=0.5), DENSE),
        Spec("adam_ema", "Adam", ADAM + ", use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)",
             _lib("Adam", 0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2), DENSE,
             notes="ema_trajectory holds optimizer._model_variables_moving_average after every step; every 2nd "
                   "step the variables are overwritten with the averages."),
        Spec("adam_accum2", "Adam", ADAM + ", gradient_accumulation_steps=2)",
             _lib("Adam", 0.1, gradient_accumulation_steps=2), DENSE,
             notes="Updates on steps 2, 4, ... with the mean of the two accumulated gradients; the trajectory "
                   "has one row per apply_gradients call."),
        Spec("adam_loss_scale4", "Adam", ADAM + ", loss_scale_factor=4.0)",
             _lib("Adam", 0.1, loss_scale_factor=4.0), DENSE,
             notes="The scenario gradients are passed unchanged; Keras divides them by loss_scale_factor."),
    ]
    for key, expr in SCHEDULES.items():
        call = f"keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.{expr})"
        s.append(Spec(f"adam_{key}", "Adam", call, _lib("Adam", _schedule(expr)), DENSE,
                      notes="The schedule is evaluated at the 0-based iteration count."))
    s += [
        Spec("adam_wd0.1_exponential", "Adam",
             "keras.optimizers.Adam(learning_rate=keras.optimizers.schedules." + SCHEDULES["exponential"]
             + ", weight_decay=0.1)", _lib("Adam", _schedule(SCHEDULES["exponential"]), weight_decay=0.1), DENSE,
             notes="Decoupled weight decay uses the current (scheduled) learning rate."),
        Spec("adamax", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), DENSE),
        Spec("adamax_eps0.1", "Adamax", ADAMAX + ", epsilon=0.1)", _lib("Adamax", 0.1, eps=0.1), DENSE),
        Spec("adamax_wd0.1", "Adamax", ADAMAX + ", weight_decay=0.1)", _lib("Adamax", 0.1, weight_decay=0.1),
             DENSE, notes="Decoupled weight decay, as for Adam."),
        Spec("adamax_golden", "Adamax",
             "keras.optimizers.Adamax(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6)",
             _lib("Adamax", 0.2, betas=[0.85, 0.95], eps=1e-6), ("keras_golden",),
             notes="Settings of Keras's adamax_test.test_correctness_with_golden."),
        Spec("adam_amsgrad_golden", "AMSGrad", "keras.optimizers.Adam(amsgrad=True)",
             _lib("Adam", 0.001, amsgrad=True), ("keras_golden",),
             notes="Settings of Keras's adam_test.test_correctness_with_golden (default learning rate 0.001)."),
        Spec("adam_golden", "Adam", "keras.optimizers.Adam()", _lib("Adam", 0.001), ("keras_golden",),
             notes="Same as adam_amsgrad_golden: the golden gradients never activate the AMSGrad maximum."),
    ]
    return s + sgd_specs()


def sgd_specs() -> list[Spec]:
    """``keras.optimizers.SGD``: plain, with momentum (a velocity), Nesterov, decoupled weight decay, a schedule
    (where the velocity keeps the old learning rates) and clipnorm."""
    sgd = "keras.optimizers.SGD(learning_rate=0.1"
    exponential = SCHEDULES["exponential"]
    return [
        Spec("sgd", "SGD", sgd + ")", _lib("SGD", 0.1), DENSE),
        Spec("sgd_momentum0.9", "SGD", sgd + ", momentum=0.9)", _lib("SGD", 0.1, momentum=0.9), DENSE,
             notes="v = v * momentum - g * lr; w += v."),
        Spec("sgd_nesterov", "SGD", sgd + ", momentum=0.9, nesterov=True)",
             _lib("SGD", 0.1, momentum=0.9, nesterov=True), DENSE, notes="w += v * momentum - g * lr."),
        Spec("sgd_momentum0.9_wd0.1", "SGD", sgd + ", momentum=0.9, weight_decay=0.1)",
             _lib("SGD", 0.1, momentum=0.9, weight_decay=0.1), DENSE,
             notes="Decoupled weight decay first: w -= w * weight_decay * lr."),
        Spec("sgd_momentum0.9_exponential", "SGD",
             "keras.optimizers.SGD(learning_rate=keras.optimizers.schedules." + exponential + ", momentum=0.9)",
             _lib("SGD", _schedule(exponential), momentum=0.9), DENSE,
             notes="The velocity holds the earlier steps at their own learning rates."),
        Spec("sgd_momentum0.9_clipnorm0.5", "SGD", sgd + ", momentum=0.9, clipnorm=0.5)",
             _lib("SGD", 0.1, momentum=0.9, clipnorm=0.5), DENSE),
    ]


def sparse_specs() -> list[Spec]:
    """The TensorFlow-backend configurations fed with ``tf.IndexedSlices``."""
    notes = "Gradients passed as tf.IndexedSlices (TensorFlow backend)."
    sparse = {"sparse": True}
    return [
        Spec("adam_indexed_slices", "Adam", ADAM + ")", _lib("Adam", 0.1), ("sparse",), notes, sparse),
        Spec("adam_amsgrad_indexed_slices", "AMSGrad", ADAM + ", amsgrad=True)", _lib("Adam", 0.1, amsgrad=True),
             ("sparse",), notes, sparse),
        Spec("adamax_indexed_slices", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), ("sparse",), notes, sparse),
        Spec("adam_clipvalue0.2_indexed_slices", "Adam", ADAM + ", clipvalue=0.2)", _lib("Adam", 0.1, clipvalue=0.2),
             ("sparse_clip",), notes, sparse),
        Spec("adam_clipnorm0.5_indexed_slices", "Adam", ADAM + ", clipnorm=0.5)", _lib("Adam", 0.1, clipnorm=0.5),
             ("sparse_clip",), notes, sparse),
    ]


def x64_specs() -> list[Spec]:
    """Float64 configurations (JAX with x64 enabled).

    Keras keeps the learning rate in a floatx (float32) variable even for float64 models (checked in
    :func:`generate_jax_x64`); the library's keras convention does the same (``lr_dtype="float32"``), so the
    library reproduces these runs with the learning rate the user typed.
    """
    f64, lr = ("random_f64",), 0.1
    notes = ("JAX backend with JAX_ENABLE_X64=1: float64 variables and arithmetic, but the learning rate lives in a "
             "floatx (float32) variable, so the effective lr is float32(0.1) = 0.10000000149011612; the library's "
             "keras convention rounds it so too (lr_dtype='float32').")
    return [
        Spec("adam_x64", "Adam", ADAM + ")", _lib("Adam", lr), f64, notes),
        Spec("adam_amsgrad_x64", "AMSGrad", ADAM + ", amsgrad=True)", _lib("Adam", lr, amsgrad=True), f64, notes),
        Spec("adamax_x64", "Adamax", ADAMAX + ")", _lib("Adamax", lr), f64, notes),
        Spec("sgd_nesterov_x64", "SGD", "keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)",
             _lib("SGD", lr, momentum=0.9, nesterov=True), f64, notes),
    ]


def _gradients(step: list[np.ndarray], scenario: dict[str, Any], s: int, sparse: bool) -> list[Any]:
    """The gradients of step ``s`` as backend tensors, or ``tf.IndexedSlices`` when ``sparse``."""
    import keras

    if not sparse:
        return [keras.ops.convert_to_tensor(g, dtype=scenario["dtype"]) for g in step]
    return indexed_slices(step, scenario, s)


def _runner(spec: Spec, scenario: dict[str, Any], sparse: bool | None = None) -> dict[str, Any]:
    """Evaluate ``spec.call``, apply every step with ``apply_gradients``, record variables (and EMA)."""
    import keras

    init, grads = scenario_arrays(scenario)
    variables = [keras.Variable(p, dtype=scenario["dtype"], name=f"p{i}") for i, p in enumerate(init)]
    if any(v.dtype != scenario["dtype"] for v in variables):
        raise TypeError(f"variables were created as {variables[0].dtype}, not {scenario['dtype']}")
    opt = eval(spec.call, {"keras": keras})  # the recorded call, verbatim
    sparse = spec.options.get("sparse", False) if sparse is None else sparse
    trajectory, ema, slots = [], [], []
    for s, step in enumerate(grads):
        opt.apply_gradients(zip(_gradients(step, scenario, s, sparse), variables))
        trajectory.append([np.array(keras.ops.convert_to_numpy(v)) for v in variables])
        slots.append(keras_slots(opt, variables, spec.algorithm))
        if opt.use_ema:
            ema.append([np.array(keras.ops.convert_to_numpy(a)) for a in opt._model_variables_moving_average])
    result = {"trajectory": trajectory, **slot_trajectories(slots)}
    if ema:
        result["ema_trajectory"] = ema
    return result


def _duplicate_rule_model(algorithm: str, scenario: dict[str, Any]) -> np.ndarray:
    """NumPy float32 model of Keras's lr=0.1 update fed IndexedSlices: ``g*g`` and ``|g|`` summed per value.

    Returns the trajectory of parameter 0 (steps, *shape); used only to check the explanation in the facts.
    """
    f = np.float32
    x = np.asarray(scenario["params"][0], f)
    m, v, vhat = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    out = []
    for t, (g, rows) in enumerate(zip(scenario["grads"], scenario["sparse"]), start=1):
        g = np.asarray(g[0], f)
        values = np.asarray(rows[0]["values"], f).reshape((-1, *x.shape[1:]))
        square, absolute = np.zeros_like(x), np.zeros_like(x)
        np.add.at(square, rows[0]["indices"], values * values)
        np.add.at(absolute, rows[0]["indices"], np.abs(values))
        m = m + (g - m) * f(0.1)
        if algorithm == "Adamax":
            v = np.maximum(f(0.999) * v, absolute)
            x = x - (f(0.1) * m) / ((f(1) - f(0.9) ** f(t)) * (v + f(1e-7)))
        else:
            v = v + (square - v) * f(1 - 0.999)
            vhat = np.maximum(vhat, v) if algorithm == "AMSGrad" else v
            alpha = f(0.1) * np.sqrt(f(1) - f(0.999) ** f(t)) / (f(1) - f(0.9) ** f(t))
            x = x - (m * alpha) / (np.sqrt(vhat) + f(1e-7))
        out.append(x)
    return np.asarray(out)


def _versions() -> dict[str, Any]:
    import keras

    versions = {"keras": keras.__version__, "keras_backend": keras.backend.backend(), "numpy": np.__version__}
    if keras.backend.backend() == "jax":
        import jax

        versions["jax"] = jax.__version__
    return versions


def _same(a: dict[str, Any], b: dict[str, Any]) -> str:
    """``"bit-identical"`` or the largest difference between two cases' trajectories."""
    diff = float(np.max(np.abs(np.asarray(a["trajectory"]) - np.asarray(b["trajectory"]))))
    return "bit-identical" if diff == 0.0 else f"different (max |difference| {diff:.3g})"


def generate_jax(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Dense cases on the JAX backend."""
    cases, failures = run_specs(FRAMEWORK, dense_specs(), scenarios, _runner)
    by_id = {case["id"]: case for case in cases}
    disc = scenarios["discriminating"]
    facts = [epsilon_form(by_id[f"keras/{name}/discriminating"], disc, 0.1, 0.1)[1]
             for name in ("adam_eps0.1", "adamax_eps0.1")]
    facts.append(power_precision(by_id["keras/adam/random"], scenarios["random"], 0.1, 1e-07, "epsilon_hat"))
    facts.append("On the golden-test inputs Adam(amsgrad=True) and Adam() are "
                 + _same(by_id["keras/adam_amsgrad_golden/keras_golden"], by_id["keras/adam_golden/keras_golden"])
                 + " (the gradients only grow, so the AMSGrad maximum is never active).")
    facts.append("AdamW(learning_rate=0.1, weight_decay=0.1) and Adam(learning_rate=0.1, weight_decay=0.1) are "
                 + _same(by_id["keras/adamw_wd0.1/discriminating"], by_id["keras/adam_wd0.1/discriminating"]) + ".")
    facts.append("With one parameter, global_clipnorm=0.5 and clipnorm=0.5 are "
                 + _same(by_id["keras/adam_global_clipnorm0.5/discriminating"],
                         by_id["keras/adam_clipnorm0.5/discriminating"]) + " on 'discriminating'.")
    return {"versions": _versions(), "facts": facts, "cases": cases, "failures": failures}


def generate_tensorflow_sparse(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``tf.IndexedSlices`` cases on the TensorFlow backend, compared with the same run on dense gradients."""
    import tensorflow as tf

    specs = {spec.name: spec for spec in sparse_specs()}
    cases, failures = run_specs(FRAMEWORK, list(specs.values()), scenarios, _runner)
    facts = []
    for case in cases:
        spec, scenario = specs[case["id"].split("/")[1]], scenarios[case["scenario"]]
        dense = _runner(spec, scenario, sparse=False)["trajectory"]
        case.update(compare_sparse(case, dense, scenario))
        text, lazy = describe_sparse(case)
        if case["max_abs_difference_from_dense"] >= 1e-6:
            op = ("ops.abs to each value, so u sees |a| + |b| instead of |a + b|" if spec.algorithm == "Adamax"
                  else "ops.square to each value, so v sees a**2 + b**2 instead of (a + b)**2")
            model = _duplicate_rule_model(spec.algorithm, scenario)
            deviation = float(np.max(np.abs(model - np.asarray([step[0] for step in case["trajectory"]]))))
            text += (f": for a row given twice in one step (values a, b) Keras applies {op}; a NumPy model of "
                     "that rule " + ("reproduces the run bit for bit" if deviation == 0.0
                                     else f"deviates from the run by up to {deviation:.3g}"))
        facts.append(f"Keras 3 (TensorFlow backend) {spec.call} fed tf.IndexedSlices: {text}; {lazy}.")
        case["notes"] = f"{spec.notes} Result: {text}; {lazy}."
    versions = {**_versions(), "tensorflow": tf.__version__}
    versions["keras_backend_sparse_cases"] = versions.pop("keras_backend")
    return {"versions": versions, "facts": facts, "cases": cases, "failures": failures}


def generate_jax_x64(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Float64 cases (JAX backend with ``JAX_ENABLE_X64=1``)."""
    import keras

    cases, failures = run_specs(FRAMEWORK, x64_specs(), scenarios, _runner)
    opt = keras.optimizers.Adam(learning_rate=0.1)
    opt.build([keras.Variable(np.zeros(2), dtype="float64")])
    lr = opt.learning_rate
    facts = [f"With JAX_ENABLE_X64=1, Keras 3 (JAX backend) keeps float64 variables and updates them in float64, but "
             f"Adam(learning_rate=0.1).learning_rate is a {keras.backend.standardize_dtype(lr.dtype)} value equal to "
             f"{float(np.asarray(lr))!r}: the float64 runs use that learning rate."]
    return {"versions": {}, "facts": facts, "cases": cases, "failures": failures}

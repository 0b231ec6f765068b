"""The optimizer slots (moments, maxima) of each framework, under the library's state names.

``python -m optim verify`` compares them with the library's state after every step, where a framework
exposes them. Each ``*_slots`` function returns ``{name: [array per parameter]}`` for one step, with
``name`` among ``"m"``, ``"v"``, ``"v_max"`` (AMSGrad) and ``"u"`` (AdaMax), the keys of
``optimizer.state[param]``, and ``"accumulator"`` (Keras 3's gradient accumulators,
``optimizer.accumulators``); :func:`slot_trajectories` turns the steps into the case's
``"<name>_trajectory"`` entries.

The frameworks' names: PyTorch ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``, ``exp_inf``; Keras 3
``_momentums``, ``_velocities``, ``_velocity_hats``, ``_m``, ``_u``; tf.keras legacy slots ``m``,
``v``, ``vhat`` (AdaMax keeps u in ``v``); Optax ``mu``, ``nu``, ``nu_max`` (AdaMax keeps u in ``nu``);
MindSpore ``exp_avg``, ``exp_avg_sq``, ``exp_inf``, ``max_exp_avg_sq``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["keras_slots", "mindspore_slots", "optax_slots", "slot_trajectories", "tf_legacy_slots", "torch_slots"]


def slot_trajectories(steps: list[dict[str, list[np.ndarray]]]) -> dict[str, list[list[np.ndarray]]]:
    """``{"m_trajectory": [[array per parameter] per step], ...}`` from one slot dictionary per step."""
    if not steps or not steps[0]:
        return {}
    return {f"{name}_trajectory": [step[name] for step in steps] for name in steps[0]}


def torch_slots(optimizer: Any, params: list[Any], algorithm: str) -> dict[str, list[np.ndarray]]:
    """``torch.optim.Adam`` / ``AdamW`` / ``Adamax`` / ``SGD`` state (SGD: the momentum buffer, if any)."""
    if algorithm == "SGD":
        buffers = [optimizer.state[p].get("momentum_buffer") for p in params]
        if any(buffer is None for buffer in buffers):
            return {}
        return {"momentum_buffer": [buffer.detach().numpy().copy() for buffer in buffers]}
    names = {"m": "exp_avg", "u": "exp_inf"} if algorithm == "Adamax" else {"m": "exp_avg", "v": "exp_avg_sq"}
    if algorithm == "AMSGrad":
        names["v_max"] = "max_exp_avg_sq"
    return {ours: [optimizer.state[p][theirs].detach().numpy().copy() for p in params]
            for ours, theirs in names.items()}


def keras_slots(optimizer: Any, variables: list[Any], algorithm: str) -> dict[str, list[np.ndarray]]:
    """Keras 3 ``Adam`` / ``AdamW`` / ``Adamax`` / ``SGD`` variables, by each variable's index in the optimizer
    (SGD: its ``momentums``, which exist with a momentum only)."""
    import keras

    if algorithm == "SGD":
        names = {"momentum": "momentums"} if optimizer.momentum != 0 else {}
    elif algorithm == "Adamax":
        names = {"m": "_m", "u": "_u"}
    else:
        names = {"m": "_momentums", "v": "_velocities"}
        if algorithm == "AMSGrad":
            names["v_max"] = "_velocity_hats"
    if optimizer.gradient_accumulation_steps:
        names["accumulator"] = "_accumulated_gradients"
    indices = [optimizer._get_variable_index(v) for v in variables]
    return {ours: [np.array(keras.ops.convert_to_numpy(getattr(optimizer, theirs)[i])) for i in indices]
            for ours, theirs in names.items()}


def tf_legacy_slots(optimizer: Any, variables: list[Any], algorithm: str) -> dict[str, list[np.ndarray]]:
    """tf.keras legacy (``optimizer_v2``) slots."""
    names = {"m": "m", "u": "v"} if algorithm == "Adamax" else {"m": "m", "v": "v"}
    if algorithm == "AMSGrad":
        names["v_max"] = "vhat"
    return {ours: [optimizer.get_slot(v, theirs).numpy().copy() for v in variables]
            for ours, theirs in names.items()}


def optax_slots(state: Any, algorithm: str) -> dict[str, list[np.ndarray]]:
    """The moments in an Optax state (a chain's ``ScaleByAdamState`` or ``ScaleByAmsgradState``)."""
    found = _optax_moments(state)
    if found is None:
        return {}
    names = {"m": "mu", "u": "nu"} if algorithm == "Adamax" else {"m": "mu", "v": "nu"}
    if algorithm == "AMSGrad" and hasattr(found, "nu_max"):
        names["v_max"] = "nu_max"
    return {ours: [np.asarray(value).copy() for value in getattr(found, theirs)] for ours, theirs in names.items()}


def _optax_moments(state: Any) -> Any:
    """The first state in ``state`` (searched depth first through tuples) that holds ``mu`` and ``nu``."""
    if hasattr(state, "mu") and hasattr(state, "nu"):
        return state
    if isinstance(state, tuple):
        for item in state:
            found = _optax_moments(item)
            if found is not None:
                return found
    return None


def mindspore_slots(optimizer: Any, algorithm: str) -> dict[str, list[np.ndarray]]:
    """``mindspore.experimental.optim.Adam`` / ``Adamax`` state (its ``max_exp_avg_sq`` is never updated: the
    experimental Adam ignores ``amsgrad``, and the library reproduces those runs as plain Adam)."""
    names = {"m": "exp_avg", "u": "exp_inf"} if algorithm == "Adamax" else {"m": "exp_avg", "v": "exp_avg_sq"}
    return {ours: [p.asnumpy().copy() for p in getattr(optimizer, theirs)] for ours, theirs in names.items()}

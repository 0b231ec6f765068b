"""Saving and restoring optimizers: ``state_dict`` / ``load_state_dict`` and ``get_config`` / ``from_config``.

A state dict refers to parameters by their position (counted across groups in
order), as PyTorch's does, and copies every array, so later steps never change
a saved state. Loading validates everything before it changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigrad import backend
from optim import schedules
from optim.groups import SCHEDULER_KEYS
from optim.validation import check_nonnegative, plain_number

if TYPE_CHECKING:
    from optim.optimizer import Optimizer, ParamsLike

__all__ = ["load_optimizer_state_dict", "optimizer_config", "optimizer_from_config", "optimizer_state_dict"]


def _copy(value: Any) -> Any:
    if backend.is_array(value):
        return value.copy()
    if isinstance(value, list):
        return list(value)
    return value


def _saved_hyperparameters(group: dict[str, Any]) -> dict[str, Any]:
    """A group's hyperparameters as JSON-friendly values.

    A schedule from :mod:`optim.schedules` is stored as its serialised form; a
    plain callable cannot be stored, so it is left out and the loading
    optimizer keeps its own.
    """
    saved = {}
    for key, value in group.items():
        if key == "params" or (callable(value) and not isinstance(value, schedules.LearningRateSchedule)):
            continue
        saved[key] = schedules.serialize(value) if callable(value) else _copy(value)
    return saved


def optimizer_state_dict(optimizer: Optimizer) -> dict[str, Any]:
    """Counters, hyperparameters and copies of every state array, parameters referred to by position.

    Everything but the arrays is JSON-serialisable (a plain-callable learning
    rate is left out: see :func:`_saved_hyperparameters`).
    """
    groups, state, position = [], {}, 0
    for group in optimizer.param_groups:
        entry = _saved_hyperparameters(group)
        entry["params"] = []
        for param in group["params"]:
            entry["params"].append(position)
            if param in optimizer.state:
                state[position] = {key: _copy(value) for key, value in optimizer.state[param].items()}
            position += 1
        groups.append(entry)
    positions = {id(param): i for i, param in enumerate(optimizer.parameters())}
    return {
        "algorithm": type(optimizer).__name__,
        "iterations": optimizer.iterations,
        "calls": optimizer.calls,
        "skipped_steps": optimizer.skipped_steps,
        "param_groups": groups,
        "state": state,
        "averages": {positions[id(p)]: a.copy() for p, a in optimizer.averages.items()},
        "accumulators": {positions[id(p)]: a.copy() for p, a in optimizer.accumulators.items()},
    }


def load_optimizer_state_dict(optimizer: Optimizer, state_dict: dict[str, Any]) -> None:
    """Restore ``state_dict`` into ``optimizer`` after checking every part of it against the parameters."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
    missing = {"algorithm", "iterations", "param_groups", "state"} - set(state_dict)
    if missing:
        raise ValueError(f"state_dict: missing entries {sorted(missing)}")
    algorithm = type(optimizer).__name__
    if state_dict["algorithm"] != algorithm:
        raise ValueError(f"state_dict['algorithm']: saved by {state_dict['algorithm']!r}, cannot load into {algorithm}")
    iterations = _counter(state_dict, "iterations")
    calls = _counter(state_dict, "calls") if "calls" in state_dict else iterations
    skipped_steps = _counter(state_dict, "skipped_steps") if "skipped_steps" in state_dict else 0

    saved_groups = state_dict["param_groups"]
    if not isinstance(saved_groups, list) or len(saved_groups) != len(optimizer.param_groups):
        count = len(saved_groups) if isinstance(saved_groups, list) else saved_groups
        raise ValueError(
            f"state_dict['param_groups']: {count} group(s) saved, the optimizer has {len(optimizer.param_groups)}"
        )
    new_groups, params, group_of = [], [], []
    for index, (saved, own) in enumerate(zip(saved_groups, optimizer.param_groups)):
        saved_count = len(saved.get("params", ())) if isinstance(saved, dict) else None
        if saved_count != len(own["params"]):
            raise ValueError(
                f"state_dict['param_groups'][{index}]: holds {saved_count} parameter(s), "
                f"the optimizer's group has {len(own['params'])}"
            )
        unknown = sorted(set(saved) - {"params", *optimizer.defaults, *SCHEDULER_KEYS})
        if unknown:
            raise ValueError(f"state_dict['param_groups'][{index}]: unknown hyperparameter(s) {unknown}")
        hyperparameters = {key: _copy(value) for key, value in saved.items() if key != "params"}
        for key in SCHEDULER_KEYS:
            if key in hyperparameters:
                where = f"state_dict['param_groups'][{index}][{key!r}]"
                hyperparameters[key] = check_nonnegative(hyperparameters[key], where)
        if isinstance(hyperparameters.get("lr"), dict):
            hyperparameters["lr"] = schedules.deserialize(hyperparameters["lr"])
        current = {key: value for key, value in own.items() if key != "params"}
        group = optimizer.validate_group({**current, **hyperparameters})
        group["params"] = own["params"]
        new_groups.append(group)
        params.extend(own["params"])
        group_of.extend([group] * len(own["params"]))

    saved_state = state_dict["state"]
    if not isinstance(saved_state, dict):
        raise ValueError(f"state_dict['state']: expected a dict, got {type(saved_state).__name__}")
    new_state = {}
    for position, entry in saved_state.items():
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(params):
            raise ValueError(f"state_dict['state']: key {position!r} is not a parameter position in [0, {len(params)})")
        param, group = params[position], group_of[position]
        new_state[param] = _checked_entry(optimizer, param, group, entry, position)

    extras = {key: _checked_arrays(state_dict.get(key, {}), params, key) for key in ("averages", "accumulators")}

    for own, group in zip(optimizer.param_groups, new_groups):
        own.clear()
        own.update(group)
    optimizer.state = new_state
    optimizer.iterations = iterations
    optimizer.calls = calls
    optimizer.skipped_steps = skipped_steps
    optimizer.averages = extras["averages"]
    optimizer.accumulators = extras["accumulators"]


def _count(value: Any, where: str) -> int:
    """An integer >= 0 (a NumPy integer or 0-d integer array too), as a Python ``int``."""
    count = plain_number(value)
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"{where}: expected an integer >= 0, got {value!r}")
    return count


def _counter(state_dict: dict[str, Any], key: str) -> int:
    return _count(state_dict[key], f"state_dict[{key!r}]")


def _checked_arrays(saved: Any, params: list[Any], key: str) -> dict[Any, Any]:
    """Per-parameter arrays (EMA averages, accumulated gradients), checked and moved to the parameters' devices."""
    if not isinstance(saved, dict):
        raise ValueError(f"state_dict[{key!r}]: expected a dict, got {type(saved).__name__}")
    checked = {}
    for position, value in saved.items():
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(params):
            raise ValueError(f"state_dict[{key!r}]: key {position!r} is not a parameter position in [0, {len(params)})")
        param = params[position]
        if not backend.is_array(value) or value.shape != param.shape or value.dtype != param.dtype:
            raise ValueError(
                f"state_dict[{key!r}][{position}]: expected an array of shape {param.shape} and dtype {param.dtype}, "
                f"got {getattr(value, 'shape', type(value).__name__)} {getattr(value, 'dtype', '')}"
            )
        moved = backend.to_device(value, param.device)
        checked[param] = moved.copy() if moved is value else moved
    return checked


def _checked_entry(
    optimizer: Optimizer, param: Any, group: dict[str, Any], entry: Any, position: int
) -> dict[str, Any]:
    """One parameter's saved state, checked against what the algorithm needs, moved to the parameter's device."""
    where = f"state_dict['state'][{position}]"
    expected = optimizer.init_state(param, group)
    if not isinstance(entry, dict) or set(entry) != set(expected):
        keys = sorted(entry) if isinstance(entry, dict) else entry
        raise ValueError(f"{where}: expected the entries {sorted(expected)}, got {keys}")
    checked = {}
    for key, value in entry.items():
        if key == "step":
            checked[key] = _count(value, f"{where}['step']")
            continue
        if not backend.is_array(value):
            raise ValueError(f"{where}[{key!r}]: expected an array, got {type(value).__name__}")
        if value.shape != param.shape:
            raise ValueError(f"{where}[{key!r}]: shape {value.shape} does not match the parameter's {param.shape}")
        if value.dtype != param.dtype:
            raise ValueError(f"{where}[{key!r}]: dtype {value.dtype} does not match the parameter's {param.dtype}")
        _check_moment_values(value, f"{where}[{key!r}]", nonnegative=key in NONNEGATIVE_STATE)
        moved = backend.to_device(value, param.device)
        checked[key] = moved.copy() if moved is value else moved
    return checked


#: The state arrays that are never negative: the second moment ``v`` (an average of squares), AMSGrad's
#: maximum ``v_max`` of it, and Adamax's ``u`` (a maximum of absolute values).
NONNEGATIVE_STATE = ("v", "v_max", "u")


def _check_moment_values(array: Any, where: str, nonnegative: bool) -> None:
    """Refuse values no run can resume from: NaN anywhere; a negative ``v``, ``v_max`` or ``u``; an infinite ``m``.

    ``+inf`` stays allowed in ``v``, ``v_max`` and ``u``: a finite gradient beyond about
    :math:`\\sqrt{\\text{max}}` of the dtype overflows :math:`g^2` into it (see the Numerics page).
    """
    xp = backend.get_array_module(array)
    nans = int(xp.isnan(array).sum())
    if nans:
        raise ValueError(f"{where}: holds {nans} NaN value(s); an optimizer state with NaN cannot resume training")
    if nonnegative:
        negatives = int((array < 0).sum())
        if negatives:
            raise ValueError(f"{where}: holds {negatives} negative value(s) (the smallest is {float(array.min())!r}); "
                             "it is never negative")
    else:
        infinite = int(xp.isinf(array).sum())
        if infinite:
            raise ValueError(f"{where}: holds {infinite} infinite value(s); a first moment is finite when the "
                             "gradients are")


def optimizer_config(optimizer: Optimizer) -> dict[str, Any]:
    """The hyperparameters as JSON-friendly values (tuples become lists)."""
    config: dict[str, Any] = {"name": type(optimizer).__name__}
    for key, value in optimizer.defaults.items():
        if callable(value):
            if not isinstance(value, schedules.LearningRateSchedule):
                raise TypeError(
                    f"get_config: {key} is a plain callable ({value!r}), which cannot be serialised; "
                    "use a schedule from optim.schedules"
                )
            value = schedules.serialize(value)
        elif isinstance(value, tuple):
            value = list(value)
        config[key] = value
    config.update(optimizer.options.config())
    return config


def optimizer_from_config(cls: type[Optimizer], config: dict[str, Any], params: ParamsLike = None) -> Optimizer:
    """``cls(params, **config)`` after undoing :func:`optimizer_config`'s conversions."""
    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    kwargs = dict(config)
    name = kwargs.pop("name", cls.__name__)
    if name != cls.__name__:
        raise ValueError(f"config['name']: {name!r} cannot be loaded by {cls.__name__}")
    if isinstance(kwargs.get("lr"), dict):
        kwargs["lr"] = schedules.deserialize(kwargs["lr"])
    if isinstance(kwargs.get("betas"), list):
        kwargs["betas"] = tuple(kwargs["betas"])
    return cls(params, **kwargs)

"""What a checkpoint's metadata holds, and the checks that must pass before a checkpoint is loaded.

:mod:`optim.checkpoint` reads and writes the file; this module turns a model and
an optimizer into JSON plus numbered arrays and back:

* :func:`encode` / :func:`decode`: a state dict as JSON in which every array is
  replaced by ``{"array": key}`` and every dict with non-string keys (parameter
  positions) by ``{"items": [[key, value], ...]}``;
* :func:`optimizer_settings` / :func:`settings_differences`: what must agree for a
  resumed run to be the same run (class, convention, options, parameter order);
* :func:`model_arrays`: the saved parameters, checked against a model.

Every check raises ``ValueError`` with a message naming what differs;
:func:`optim.checkpoint.load_checkpoint` adds the path and refuses the file.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from optim import schedules
from optim.options import Options

if TYPE_CHECKING:
    from minigrad.nn.module import Module
    from optim.optimizer import Optimizer

__all__ = ["NUMERIC_KINDS", "add_array", "decode", "encode", "json_copy", "model_arrays", "optimizer_settings",
           "settings_differences"]

#: The dtype kinds a checkpoint stores: bool, integers, floats, complex (never objects, so never pickles).
NUMERIC_KINDS = "biufc"


def json_copy(value: Any, where: str) -> Any:
    """``value`` through JSON and back (tuples become lists); ``TypeError`` naming ``where`` if it cannot be."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: cannot be stored as JSON ({error})") from None


def add_array(arrays: dict[str, np.ndarray], table: list[dict[str, Any]], value: Any) -> str:
    """Store ``value`` as a contiguous NumPy array under the next key ``a<n>`` and list it in ``table``."""
    array = np.ascontiguousarray(backend.to_numpy(value))
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"checkpoint: cannot save an array of dtype {array.dtype}; only numeric arrays are stored")
    key = f"a{len(table)}"
    arrays[key] = array
    table.append({"key": key, "dtype": array.dtype.str, "shape": list(array.shape)})
    return key


def encode(value: Any, arrays: dict[str, np.ndarray], table: list[dict[str, Any]], where: str) -> Any:
    """JSON for a state dict, its arrays moved to ``arrays`` (see the module docstring)."""
    if backend.is_array(value):
        return {"array": add_array(arrays, table, value)}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {"dict": {key: encode(item, arrays, table, f"{where}[{key!r}]") for key, item in value.items()}}
        return {"items": [[key, encode(item, arrays, table, f"{where}[{key!r}]")] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [encode(item, arrays, table, f"{where}[{i}]") for i, item in enumerate(value)]
    return json_copy(value.item() if isinstance(value, np.generic) else value, where)


def decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Undo :func:`encode`; every array reference must name an array of the file."""
    if isinstance(value, list):
        return [decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"array"}:
        if value["array"] not in arrays:
            raise ValueError(f"the state refers to a missing array {value['array']!r}")
        return arrays[value["array"]].copy()
    if set(value) == {"dict"} and isinstance(value["dict"], dict):
        return {key: decode(item, arrays) for key, item in value["dict"].items()}
    if set(value) == {"items"} and isinstance(value["items"], list):
        return {key: decode(item, arrays) for key, item in value["items"]}
    raise ValueError(f"unknown entry {sorted(value)!r} in the state")


def model_arrays(metadata: dict[str, Any], arrays: dict[str, np.ndarray], model: Module) -> dict[str, np.ndarray]:
    """The saved parameters by name, checked against ``model`` as ``Module.load_state_dict`` checks them."""
    saved = {entry["name"]: arrays[entry["array"]] for entry in metadata["model"]["parameters"]}
    own = dict(model.named_parameters())
    missing, unexpected = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    if missing or unexpected:
        raise ValueError(f"the model does not match: missing parameters {missing}, unexpected parameters {unexpected}")
    for name, array in saved.items():
        if array.shape != own[name].shape or array.dtype != own[name].dtype:
            raise ValueError(
                f"parameter {name!r} is saved with shape {array.shape} and dtype {array.dtype}, the model's "
                f"has shape {own[name].shape} and dtype {own[name].dtype}"
            )
    return saved


def optimizer_settings(optimizer: Optimizer, model: Module) -> dict[str, Any]:
    """What must agree for a resumed run to be the same run, as JSON.

    The class, the convention, every option (``pattern_lrs`` with schedules
    serialised; a plain callable is recorded only as such), and for each
    parameter position: the model's name for it, the optimizer's name for it,
    and whether weight decay is excluded.
    """
    params = list(optimizer.parameters())
    model_names = {id(param): name for name, param in model.named_parameters()}
    options = {}
    for field in dataclasses.fields(optimizer.options):
        value = getattr(optimizer.options, field.name)
        if field.name == "pattern_lrs":
            value = [{"patterns": list(patterns), "lr": _lr_record(lr)} for patterns, lr in value]
        options[field.name] = value
    return json_copy({
        "class": type(optimizer).__name__,
        "convention": optimizer.convention,
        "options": options,
        "parameters": [model_names.get(id(param)) for param in params],
        "names": [optimizer.names.get(id(param)) for param in params],
        "excluded_from_weight_decay": [
            i for i, param in enumerate(params) if id(param) in optimizer.excluded_from_weight_decay
        ],
        "weight_decay_exclusion_patterns": list(getattr(optimizer, "weight_decay_exclusion_patterns", [])),
    }, "optimizer settings")


def _lr_record(lr: Any) -> Any:
    if isinstance(lr, schedules.LearningRateSchedule):
        return schedules.serialize(lr)
    return "a plain callable" if callable(lr) else lr


def settings_differences(saved: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Each way the saved :func:`optimizer_settings` differ from ``ours``, in words (empty when they agree)."""
    if saved.get("class") != ours["class"]:
        return [f"saved by a {saved.get('class')} optimizer, cannot load into {ours['class']}"]
    differences = [f"{key} saved {saved.get(key)!r}, here {value!r}"
                   for key, value in ours.items() if key != "options" and saved.get(key) != value]
    saved_options = saved.get("options") if isinstance(saved.get("options"), dict) else {}
    defaults = json_copy({field.name: field.default for field in dataclasses.fields(Options)}, "option defaults")
    for key, value in ours["options"].items():
        before = saved_options.get(key, defaults.get(key))  # an option newer than the file had its default
        if before != value:
            differences.append(f"option {key} saved {before!r}, here {value!r}")
    differences += [f"option {key} saved, unknown here" for key in sorted(set(saved_options) - set(ours["options"]))]
    return differences

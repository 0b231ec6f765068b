"""What a checkpoint's metadata holds, and the checks that must pass before a checkpoint is loaded.

:mod:`optim.saving.checkpoint` reads and writes the file; this module turns a model and
an optimizer into JSON plus numbered arrays and back:

* :func:`encode` / :func:`decode`: a state dict as JSON in which every array is
  replaced by ``{"array": key}`` and every dict with non-string keys (parameter
  positions) by ``{"items": [[key, value], ...]}``;
* :func:`optimizer_settings` / :func:`settings_differences`: what must agree for a
  resumed run to be the same run (class, convention, options, parameter order);
* :func:`model_arrays`: the saved parameters, checked against a model;
* :func:`encode_optimizer_only` / :func:`optimizer_only_values`: the values of the
  optimizer's parameters that the model does not hold (all of them without a
  model), by position in the optimizer's parameter order, and their check.

Every check raises ``ValueError`` with a message naming what differs;
:func:`optim.saving.checkpoint.load_checkpoint` adds the path and refuses the file.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from optim import schedules
from optim.options import Options

if TYPE_CHECKING:
    from minigrad.nn.module import Module
    from minigrad.tensor import Tensor
    from optim.optimizer import Optimizer

__all__ = ["NUMERIC_KINDS", "add_array", "check_structure", "decode", "encode", "encode_model", "encode_optimizer_only",
           "json_copy", "model_arrays", "optimizer_only_parameters", "optimizer_only_values", "optimizer_settings",
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


def encode_model(model: Module, arrays: dict[str, np.ndarray], table: list[dict[str, Any]]) -> dict[str, Any]:
    """The model's class and, for each parameter, its dotted name and array key; the arrays moved to ``arrays``."""
    parameters = [{"name": name, "array": add_array(arrays, table, param.data)}
                  for name, param in model.named_parameters()]
    return {"class": type(model).__name__, "parameters": parameters}


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


def check_structure(metadata: dict[str, Any], members: dict[str, np.ndarray]) -> None:
    """The entries that :func:`optim.saving.checkpoint.load_checkpoint` reads have the types it expects.

    ``metadata["model"]`` is ``None`` for a file saved without a model; from
    format version 2 on, the optimizer entry lists its parameters outside the
    model, each with an array of the file whose dtype and shape it repeats.
    """
    saved_model = metadata["model"]
    if saved_model is not None and not (isinstance(saved_model.get("parameters"), list) and all(
        isinstance(entry["name"], str) and entry["array"] in members for entry in saved_model["parameters"]
    )):
        raise ValueError("the model entry of the metadata is malformed")
    if not isinstance(metadata["extra"], dict):
        raise ValueError("the extra entry of the metadata is not a dict")
    saved = metadata["optimizer"]
    if saved is None:
        return
    if not (isinstance(saved, dict) and isinstance(saved["settings"], dict) and "state_dict" in saved):
        raise ValueError("the optimizer entry of the metadata is malformed")
    if metadata["version"] >= 2 and not _optimizer_only_entries_fit(saved["optimizer_only_parameters"], members):
        raise ValueError("the optimizer_only_parameters entry of the metadata is malformed")


def _optimizer_only_entries_fit(entries: Any, members: dict[str, np.ndarray]) -> bool:
    """Whether ``entries`` lists increasing positions, each with an array of the file of the stated dtype and shape."""
    if not isinstance(entries, list):
        return False
    positions = []
    for entry in entries:
        array = members.get(entry["array"])
        if array is None or array.dtype.str != entry["dtype"] or list(array.shape) != entry["shape"]:
            return False
        positions.append(entry["position"])
    ints = all(isinstance(position, int) and not isinstance(position, bool) for position in positions)
    return ints and positions == sorted(set(positions))


def model_arrays(metadata: dict[str, Any], arrays: dict[str, np.ndarray],
                 model: Module | None) -> dict[str, np.ndarray]:
    """The saved parameters by name, checked against ``model`` as ``Module.load_state_dict`` checks them.

    A file saved without a model loads only without one, and the other way round.
    """
    saved_model = metadata["model"]
    if saved_model is None:
        if model is not None:
            raise ValueError("the checkpoint holds no model (it was saved with model=None); load it with model=None")
        return {}
    saved = {entry["name"]: arrays[entry["array"]] for entry in saved_model["parameters"]}
    if model is None:
        if saved:
            raise ValueError(f"the checkpoint holds the parameters {sorted(saved)} of a model; pass that model to "
                             "load them (model=None would leave them out)")
        return {}
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


def optimizer_only_parameters(optimizer: Optimizer, model: Module | None) -> list[tuple[int, Tensor]]:
    """The optimizer's parameters that ``model`` does not hold (all of them when ``model`` is None).

    Each comes with its position in the optimizer's parameter order (group by group).
    """
    in_model = set() if model is None else {id(param) for param in model.parameters()}
    return [(position, param) for position, param in enumerate(optimizer.parameters()) if id(param) not in in_model]


def encode_optimizer_only(optimizer: Optimizer, model: Module | None, arrays: dict[str, np.ndarray],
                          table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The values of :func:`optimizer_only_parameters` moved to ``arrays``, as JSON entries.

    Each entry gives the position, the array's key, its dtype and its shape.
    """
    entries = []
    for position, param in optimizer_only_parameters(optimizer, model):
        key = add_array(arrays, table, param.data)
        entries.append({"position": position, "array": key, "dtype": arrays[key].dtype.str,
                        "shape": list(arrays[key].shape)})
    return entries


def optimizer_only_values(metadata: dict[str, Any], arrays: dict[str, np.ndarray], optimizer: Optimizer,
                          model: Module | None, path: str) -> list[tuple[Tensor, np.ndarray]]:
    """Each of ``optimizer``'s parameters outside ``model`` with its value saved in the checkpoint at ``path``.

    The saved and the present parameters outside the model must sit at the same
    positions and have the same shapes and dtypes; ``ValueError`` says which do
    not. A file of format version 1 saved no such values: it gives none, with a
    warning when the optimizer has such parameters (they keep their values).
    """
    ours = optimizer_only_parameters(optimizer, model)
    our_positions = [position for position, _ in ours]
    if metadata["version"] == 1:
        if ours:
            warnings.warn(f"{path}: a checkpoint of format version 1 holds no values for the optimizer's parameters "
                          f"outside the model (positions {our_positions}); they keep their current values, so the "
                          "run does not resume exactly", UserWarning, stacklevel=3)
        return []
    entries = metadata["optimizer"]["optimizer_only_parameters"]
    saved_positions = [entry["position"] for entry in entries]
    if saved_positions != our_positions:
        raise ValueError(f"the optimizer's parameters outside the model are at positions {saved_positions} in "
                         f"the checkpoint, at {our_positions} in this optimizer")
    values = []
    for entry, (position, param) in zip(entries, ours):
        array = arrays[entry["array"]]
        if array.shape != param.shape or array.dtype != param.dtype:
            raise ValueError(
                f"the optimizer's parameter at position {position} (outside the model) is saved with shape "
                f"{array.shape} and dtype {array.dtype}, this optimizer's has shape {param.shape} and dtype "
                f"{param.dtype}"
            )
        values.append((param, array))
    return values


def optimizer_settings(optimizer: Optimizer, model: Module | None) -> dict[str, Any]:
    """What must agree for a resumed run to be the same run, as JSON.

    The class, the convention, every option (``pattern_lrs`` with schedules
    serialised; a plain callable is recorded only as such), and for each
    parameter position: the model's name for it, the optimizer's name for it,
    and whether weight decay is excluded.
    """
    params = list(optimizer.parameters())
    model_names = {} if model is None else {id(param): name for name, param in model.named_parameters()}
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

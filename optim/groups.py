"""Parameter groups: checking the ``params`` argument of an optimizer, and the groups again at each step.

A group is a dict with a ``"params"`` list and the hyperparameters that
differ from the optimizer's defaults (PyTorch style). Parameters may come as
``(name, tensor)`` pairs (``model.named_parameters()``), which gives them the
names that ``pattern_lrs`` and ``exclude_from_weight_decay`` match. The
hyperparameters of a built group can still be changed through
``optimizer.param_groups``; :func:`check_groups` refuses invalid ones at the
next step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from minigrad.tensor import Tensor

__all__ = ["SCHEDULER_KEYS", "build_groups", "check_groups"]

#: The numbers a learning-rate scheduler (:mod:`optim.lr_scheduler`) keeps in a group besides its hyperparameters,
#: as PyTorch's do; an optimizer's state dict saves them and loads them back.
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def build_groups(
    groups: Sequence[Any],
    existing: list[dict[str, Any]],
    defaults: dict[str, Any],
    validate_group: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Check new groups against each other and the ``existing`` ones; return them and the names found.

    Every parameter must be a floating-point leaf Tensor listed once across
    all groups; unknown hyperparameters are refused. Nothing is changed when
    an error is raised.
    """
    seen = {id(p) for group in existing for p in group["params"]}
    built, names = [], {}
    for g_index, raw in enumerate(groups):
        if not isinstance(raw, dict) or "params" not in raw:
            raise TypeError(f"params[{g_index}]: expected a dict with a 'params' entry, got {raw!r}")
        unknown = sorted(set(raw) - {"params", *defaults})
        if unknown:
            raise ValueError(f"params[{g_index}]: unknown hyperparameter(s) {unknown}")
        members = raw["params"]
        members = [members] if isinstance(members, Tensor) else list(members)
        if not members:
            raise ValueError(f"params[{g_index}]['params']: got an empty list; expected at least one tensor")
        tensors = []
        for p_index, p in enumerate(members):
            where = f"params[{g_index}]['params'][{p_index}]"
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names[id(p[1])], p = p[0], p[1]
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: expected a minigrad Tensor, got {p!r}")
            if p.dtype.kind != "f" or not p.is_leaf:
                kind = "a tensor" if p.is_leaf else "a non-leaf tensor"
                raise ValueError(
                    f"{where}: expected a floating-point leaf tensor, got {kind} of dtype {p.dtype} "
                    f"and shape {p.shape}"
                )
            if id(p) in seen:
                raise ValueError(f"{where}: parameter of shape {p.shape} is listed twice")
            seen.add(id(p))
            tensors.append(p)
        group = validate_group({**defaults, **{k: v for k, v in raw.items() if k != "params"}})
        group["params"] = tensors
        built.append(group)
    return built, names


def check_groups(
    groups: Iterable[dict[str, Any]],
    param_groups: list[dict[str, Any]],
    defaults: dict[str, Any],
    validate_group: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Refuse a group whose hyperparameters were changed to invalid values after it was built.

    ``opt.param_groups[0]["lr"] = float("nan")``, or ``maximize = "no"``: the
    same ``validate_group`` that checked the group when it was built runs on a
    copy of it (the group itself is left as it is), and a removed
    hyperparameter is refused. The message names the group by its index in
    ``param_groups``. Each group is checked once, however often it appears in
    ``groups``.

    Raises
    ------
    TypeError, ValueError
        ``validate_group``'s error, prefixed with ``param_groups[i]: ``.
    """
    checked: set[int] = set()
    for group in groups:
        if id(group) in checked:
            continue
        checked.add(id(group))
        missing = sorted(defaults.keys() - group.keys())
        if missing:
            raise ValueError(f"{_label(group, param_groups)}: the hyperparameter(s) {missing} are missing")
        try:
            validate_group(dict(group))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{_label(group, param_groups)}: {error}") from None


def _label(group: dict[str, Any], param_groups: list[dict[str, Any]]) -> str:
    """``param_groups[i]``, where ``group`` is the i-th group (for error messages)."""
    index = next((i for i, candidate in enumerate(param_groups) if candidate is group), None)
    return "a parameter group" if index is None else f"param_groups[{index}]"

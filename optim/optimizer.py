"""The optimizer base class: parameter groups, state, and the ways to apply gradients.

The update rules themselves live in :mod:`optim.functional`; a subclass only
says which hyperparameters it has, which state arrays a parameter needs, and
which rule to call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from minigrad import backend
from minigrad.tensor import Tensor
from optim import persistence
from optim.validation import check_lr

__all__ = ["Optimizer"]

ParamsLike = Iterable[Tensor] | Iterable[dict[str, Any]] | None


class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    params : iterable of Tensor, or of dict, or None
        The tensors to optimise, or parameter groups: dictionaries with a
        ``"params"`` list and any hyperparameters that differ from the
        defaults (PyTorch style). ``None`` defers binding to the first
        :meth:`apply_gradients` call (Keras style).
    defaults : dict
        Hyperparameters of every group that does not override them, already
        validated by the subclass.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``"params"`` and hyperparameters.
    state : dict
        Per-parameter state, keyed by the parameter itself: ``"step"`` (the
        number of updates this parameter received) and the algorithm's arrays,
        on the parameter's device.
    iterations : int
        Number of updates applied by this optimizer; a schedule ``lr(k)`` is
        called with this count (0 at the first update).
    """

    def __init__(self, params: ParamsLike, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.iterations = 0
        if params is not None:
            groups = list(params)
            if not groups:
                raise ValueError("params: got an empty list; expected at least one tensor")
            if not isinstance(groups[0], dict):
                groups = [{"params": groups}]
            for group in self._build_groups(groups):
                self.param_groups.append(group)

    # ----------------------------------------------------------------- subclass hooks
    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise one group's hyperparameters (subclasses extend it)."""
        group["lr"] = check_lr(group["lr"])
        return group

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The zero state of a parameter (subclasses add their arrays)."""
        return {"step": 0}

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any], lr: float, step: int) -> None:
        """Apply one update in place (subclasses call their rule from :mod:`optim.functional`)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- groups
    def _build_groups(self, groups: Sequence[Any]) -> list[dict[str, Any]]:
        """Validate new groups against each other and the existing ones, changing nothing."""
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        built = []
        for g_index, raw in enumerate(groups):
            if not isinstance(raw, dict) or "params" not in raw:
                raise TypeError(f"params[{g_index}]: expected a dict with a 'params' entry, got {raw!r}")
            unknown = sorted(set(raw) - {"params", *self.defaults})
            if unknown:
                raise ValueError(f"params[{g_index}]: unknown hyperparameter(s) {unknown}")
            members = raw["params"]
            members = [members] if isinstance(members, Tensor) else list(members)
            if not members:
                raise ValueError(f"params[{g_index}]['params']: got an empty list; expected at least one tensor")
            for p_index, p in enumerate(members):
                if not isinstance(p, Tensor):
                    raise TypeError(f"params[{g_index}]['params'][{p_index}]: expected a minigrad Tensor, got {p!r}")
                if id(p) in seen:
                    raise ValueError(
                        f"params[{g_index}]['params'][{p_index}]: parameter of shape {p.shape} is listed twice"
                    )
                seen.add(id(p))
            group = {**self.defaults, **{k: v for k, v in raw.items() if k != "params"}}
            group = self.validate_group(group)
            group["params"] = members
            built.append(group)
        return built

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from the defaults)."""
        self.param_groups.extend(self._build_groups([group]))

    def _group_of(self) -> dict[int, tuple[Tensor, dict[str, Any]]]:
        return {id(p): (p, group) for group in self.param_groups for p in group["params"]}

    # ----------------------------------------------------------------- stepping
    def zero_grad(self) -> None:
        """Set the gradient of every parameter to ``None``."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (``p.grad is not None``)."""
        pairs = [(p, p.grad) for group in self.param_groups for p in group["params"] if p.grad is not None]
        self._apply(pairs)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> None:
        """Keras style: update with explicit ``(gradient, parameter)`` pairs.

        Gradients may be arrays or Tensors, on the parameter's device, with its
        shape. An optimizer built with ``params=None`` adopts the parameters of
        its first call as one group.
        """
        pairs = [(var, grad) for grad, var in grads_and_vars]
        if not self.param_groups and pairs:
            self.param_groups.extend(self._build_groups([{"params": [var for var, _ in pairs]}]))
        self._apply(pairs)

    def minimize(self, loss_fn: Callable[[], Tensor], var_list: Sequence[Tensor] | None = None) -> Tensor:
        """Keras style: reset gradients, compute ``loss_fn()``, backpropagate, apply; return the loss.

        ``var_list`` defaults to every parameter of the optimizer.
        """
        if var_list is None:
            var_list = [p for group in self.param_groups for p in group["params"]]
        var_list = list(var_list)
        for var in var_list:
            if not isinstance(var, Tensor):
                raise TypeError(f"var_list: expected minigrad Tensors, got {var!r}")
            var.grad = None
        loss = loss_fn()
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss_fn: expected it to return a Tensor, got {type(loss).__name__}")
        loss.backward()
        self.apply_gradients([(var.grad, var) for var in var_list if var.grad is not None])
        return loss

    def _apply(self, pairs: list[tuple[Tensor, Any]]) -> None:
        """Check every gradient, then update; an error leaves everything unchanged."""
        if not pairs:
            return
        owner = self._group_of()
        checked = []
        for param, grad in pairs:
            if id(param) not in owner:
                raise ValueError(f"grads_and_vars: a parameter of shape {getattr(param, 'shape', '?')} is not optimised by this optimizer")
            checked.append((param, owner[id(param)][1], _gradient_array(grad, param)))
        learning_rates = {id(group): self._current_lr(group) for group in self.param_groups}
        for param, group, grad in checked:
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = self.init_state(param, group)
            _follow_device(state, param)
            state["step"] += 1
            step = state["step"] if group.get("step_counting") == "per_parameter" else self.iterations + 1
            self.update(param, grad, state, group, learning_rates[id(group)], step)
        self.iterations += 1

    def _current_lr(self, group: dict[str, Any]) -> float:
        lr = group["lr"]
        if callable(lr):
            value = lr(self.iterations)
            return check_lr(float(value), name=f"lr({self.iterations})")
        return lr

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: hyperparameters, per-parameter state (copied), iteration count."""
        return persistence.optimizer_state_dict(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; everything is validated first and nothing changes on refusal."""
        persistence.load_optimizer_state_dict(self, state_dict)

    def get_config(self) -> dict[str, Any]:
        """The constructor's hyperparameters as a JSON-serialisable dictionary."""
        return persistence.optimizer_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], params: ParamsLike = None) -> Optimizer:
        """Build an optimizer from :meth:`get_config`'s output (and, optionally, parameters)."""
        return persistence.optimizer_from_config(cls, config, params)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        n = sum(len(group["params"]) for group in self.param_groups)
        return f"{type(self).__name__}({n} parameter(s) in {len(self.param_groups)} group(s), {settings})"


def _gradient_array(grad: Any, param: Tensor) -> Any:
    """The gradient as a backend array, checked against its parameter."""
    array = grad.data if isinstance(grad, Tensor) else grad
    if not backend.is_array(array):
        raise TypeError(f"grad: expected an array or a Tensor for the parameter of shape {param.shape}, got {grad!r}")
    if array.shape != param.shape:
        raise ValueError(f"grad: shape {array.shape} does not match the parameter's {param.shape}")
    if backend.device_of(array) != param.device:
        raise ValueError(f"grad: on {backend.device_of(array)}, but the parameter is on {param.device}")
    if array.dtype != param.dtype:
        raise ValueError(f"grad: dtype {array.dtype} does not match the parameter's {param.dtype}")
    return array


def _follow_device(state: dict[str, Any], param: Tensor) -> None:
    """Move a parameter's state arrays to the parameter's device (after ``Module.to``)."""
    for key, value in state.items():
        if backend.is_array(value) and backend.device_of(value) != param.device:
            state[key] = backend.to_device(value, param.device)

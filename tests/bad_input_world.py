"""The state that tests/test_bad_inputs.py tries to damage, and the shape of one catalogue row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import minigrad as mg
import optim
from minigrad import nn


class World:
    """State that a bad call must leave untouched."""

    def __init__(self, device: str, folder: Any) -> None:
        self.device = device
        self.folder = folder
        self.model = nn.MLP([3, 4, 2], rng=0, device=device)
        self.opt = optim.Adam(self.model.named_parameters(), lr=0.01, use_ema=True)
        self.inputs = mg.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), device=device)
        self.targets = mg.backend.to_device(np.array([0, 1, 1, 0, 1]), self.inputs.device)
        mg.cross_entropy(self.model(self.inputs), self.targets).backward()
        self.opt.step()
        self.x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, device=device)
        (self.x * self.x).sum().backward()
        self.table = mg.tensor(np.ones((4, 2)), requires_grad=True, device=device)
        xp = self.x.xp
        self.arrays = {name: xp.full(3, value) for name, value in
                       (("param", 1.0), ("grad", 0.5), ("m", 0.1), ("v", 0.2), ("u", 0.3), ("v_max", 0.4))}

    @property
    def weight(self) -> nn.Parameter:
        return self.model[0].weight

    def adam_kwargs(self, **changes: Any) -> dict[str, Any]:
        """A valid functional.adam_update call on the world's arrays, with ``changes``."""
        a = self.arrays
        return {"param": a["param"], "grad": a["grad"], "m": a["m"], "v": a["v"], "v_max": a["v_max"], "step": 3,
                "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, **changes}

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def put(key: str, value: Any) -> None:
            if mg.backend.is_array(value):
                array = mg.backend.to_numpy(value)
                out[key] = (array.dtype.str, array.shape, array.tobytes())
            elif isinstance(value, dict):
                for k, v in value.items():
                    put(f"{key}.{k}", v)
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    put(f"{key}[{i}]", v)
            else:
                out[key] = repr(value)

        for name, p in self.model.named_parameters():
            put(f"model.{name}", p.data)
            put(f"model.{name}.grad", p.grad.data if isinstance(p.grad, mg.Tensor) else p.grad)
        put("opt", self.opt.state_dict())
        put("x", self.x.data)
        put("x.grad", self.x.grad.data)
        put("arrays", self.arrays)
        return out


class Case(NamedTuple):
    id: str
    call: Callable[[World], Any]
    error: type[BaseException]
    needles: tuple[str, ...]
    setup: Callable[[World], Any] | None = None


def case(name: str, call: Callable[[World], Any], error: type[BaseException], *needles: str,
         setup: Callable[[World], Any] | None = None) -> Case:
    """One row: ``name``, the bad call, the exception type, and the substrings its message must contain."""
    return Case(name, call, error, needles, setup)


def set_grad(w: World, array: Any) -> None:
    """Attach ``array`` to the world's weight as its gradient (a Tensor, or the raw value when it is a string)."""
    w.weight.grad = mg.tensor(array, device=w.device) if not isinstance(array, str) else array


def edited_state_dict(w: World, edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The world optimizer's state dict after ``edit`` changed it in place."""
    state = w.opt.state_dict()
    edit(state)
    return state


def plain_callable_config(w: World) -> Any:
    """The config of an optimizer whose learning rate is a plain callable (not serialisable)."""
    return optim.Adam(w.model.parameters(), lr=lambda k: 0.1).get_config()

"""``Module`` and ``Parameter``: the containers that models are built from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.autograd import zeroed_gradient
from minigrad.backend import Device
from minigrad.checks import check_flag
from minigrad.tensor import Tensor

__all__ = ["Module", "Parameter", "StateDictKeyError"]


class StateDictKeyError(KeyError):
    """Raised by :meth:`Module.load_state_dict` when ``state`` lacks parameters or names unknown ones.

    A ``KeyError``, so that code catching ``KeyError`` keeps working, whose
    message prints as written (a plain ``KeyError`` would show it in quotes).

    Attributes
    ----------
    missing_keys : list of str
        Parameters of the module that ``state`` does not name, sorted.
    unexpected_keys : list
        Names in ``state`` that are no parameter of the module, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> layer = mg.nn.Linear(2, 2, rng=0)
    >>> try:
    ...     layer.load_state_dict({'weight': np.zeros((2, 2))})
    ... except mg.nn.StateDictKeyError as error:
    ...     print(type(error).__name__)
    StateDictKeyError
    """

    def __init__(self, missing_keys: list[str], unexpected_keys: list[Any]) -> None:
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        super().__init__(
            f"state: missing keys {missing_keys}, unexpected keys {unexpected_keys}; nothing was loaded "
            "(strict=False loads the names that match)"
        )

    def __str__(self) -> str:
        return str(self.args[0])


def _sorted_names(names: set[Any]) -> list[Any]:
    """The strings sorted, then names of other types (which do not compare with strings) sorted by ``repr``."""
    strings = sorted(name for name in names if isinstance(name, str))
    others = sorted((name for name in names if not isinstance(name, str)), key=repr)
    return strings + others


class Parameter(Tensor):
    """A leaf Tensor that a :class:`Module` registers as trainable (``requires_grad=True``).

    Parameters
    ----------
    data : numpy.ndarray, cupy.ndarray or Tensor
        The initial values (a Tensor's array is shared, not copied).
    requires_grad : bool, default True
        Whether backward computes a gradient for it.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> p = mg.nn.Parameter(np.zeros(2))
    >>> p.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a :class:`Module` to an attribute
    registers it, so :meth:`parameters`, :meth:`to` and :meth:`state_dict`
    find it. Subclasses implement ``forward``; calling the module calls it.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> class Affine(mg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = mg.nn.Parameter(np.ones(2))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> [name for name, _ in Affine().named_parameters()]
    ['scale']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the module; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module and every submodule, depth first."""
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` pairs, each parameter once, in registration order."""
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> Iterator[Parameter]:
        """Yield every parameter once, in registration order."""
        for _, parameter in self.named_parameters():
            yield parameter

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter, as PyTorch's ``Module.zero_grad``.

        ``set_to_none=True`` (the default): every ``grad`` becomes ``None``.
        ``False``: :func:`minigrad.autograd.zeroed_gradient`: a gradient that
        exists is zeroed in place (so that a buffer an optimizer registered stays
        the gradient), or replaced by zeros when its array may not be written or
        it belongs to a graph (``create_graph=True``); a ``None`` stays ``None``.

        >>> import numpy as np, minigrad as mg
        >>> layer = mg.nn.Linear(2, 1, rng=0)
        >>> layer(mg.tensor(np.ones((1, 2)))).sum().backward()
        >>> layer.zero_grad(set_to_none=False)
        >>> layer.weight.grad
        tensor([[0., 0.]], dtype=float32)
        """
        set_to_none = check_flag("set_to_none", set_to_none)
        for parameter in self.parameters():
            parameter.grad = None if set_to_none else zeroed_gradient(parameter.grad, parameter)

    def train(self, mode: bool = True) -> Module:
        """Put this module and its submodules in training mode (or evaluation mode with ``False``)."""
        mode = check_flag("mode", mode)
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Put this module and its submodules in evaluation mode."""
        return self.train(False)

    def to(self, device: str | Device) -> Module:
        """Move every parameter, and its gradient, to ``device`` in place; return ``self``.

        The parameters stay the same objects, so an optimizer that holds them
        keeps working (its state follows them to the new device at its next step).
        """
        device = backend.as_device(device)
        for parameter in self.parameters():
            parameter.data = backend.to_device(parameter.data, device)
            if parameter.grad is not None:
                parameter.grad = Tensor(backend.to_device(parameter.grad.data, device))
        return self

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter as a NumPy array, keyed by dotted name."""
        return {name: backend.to_numpy(p.data).copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters, in place.

        Everything is checked before anything is written: with ``strict``, the
        names must match exactly; every value must have its parameter's shape
        and dtype. On any mismatch no parameter changes, and the error names it:
        :class:`StateDictKeyError` (a ``KeyError``) lists every missing and every
        unexpected name; a ``ValueError`` names a wrong shape or dtype; a
        ``TypeError`` a ``state`` that is no mapping or a ``strict`` that is no bool.
        """
        strict = check_flag("strict", strict)
        if not isinstance(state, Mapping):
            raise TypeError(f"state: expected a mapping of names to arrays, got {type(state).__name__}")
        own = dict(self.named_parameters())
        if strict:
            missing = sorted(set(own) - set(state))
            unexpected = _sorted_names(set(state) - set(own))
            if missing or unexpected:
                raise StateDictKeyError(missing, unexpected)
        updates = []
        for name, value in state.items():
            if name not in own:
                continue
            array = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
            parameter = own[name]
            if array.shape != parameter.shape:
                raise ValueError(
                    f"state[{name!r}]: shape {array.shape} does not match the parameter's {parameter.shape}"
                )
            if array.dtype != parameter.dtype:
                raise ValueError(
                    f"state[{name!r}]: dtype {array.dtype} does not match the parameter's {parameter.dtype}"
                )
            updates.append((parameter, array))
        for parameter, array in updates:
            parameter.data[...] = backend.to_device(array, parameter.device)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        """Text shown between the parentheses of ``repr``; layers override it."""
        return ""

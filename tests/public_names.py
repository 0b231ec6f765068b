"""The public names of minigrad and optim: their ``__all__``, followed into the modules it names."""

from __future__ import annotations

import importlib
import types

TOP_PACKAGES = ["minigrad", "optim"]


def public_modules() -> list[types.ModuleType]:
    """minigrad and optim, and every module that their ``__all__`` (followed recursively) names."""
    found, pending = [], [importlib.import_module(name) for name in TOP_PACKAGES]
    while pending:
        module = pending.pop(0)
        found.append(module)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if isinstance(value, types.ModuleType) and value not in found and value not in pending:
                pending.append(value)
    return found


def public_names() -> list[tuple[str, object]]:
    """(``module.name``, object) for every name in the ``__all__`` of a public module."""
    return [(f"{module.__name__}.{name}", getattr(module, name)) for module in public_modules()
            for name in module.__all__]

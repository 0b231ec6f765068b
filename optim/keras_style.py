"""The Keras-facing methods of every optimizer: explicit gradients, ``minimize``, the moving
average of the weights, weight-decay exclusions and configs.

:class:`KerasStyleMethods` is mixed into :class:`optim.optimizer.Optimizer`: the
methods here use its groups, pipeline and moving averages, and end in its
``_apply``, the one place where gradients become updates (PyTorch's ``step``
ends there too). They mirror ``keras.optimizers.Optimizer``'s names and meanings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from minigrad.tensor import Tensor
from optim import call_checks, parameter_numbers
from optim.saving import state_dict as persistence

__all__ = ["KerasStyleMethods"]


class KerasStyleMethods:
    """``apply_gradients``, ``minimize``, ``scale_loss``, ``exclude_from_weight_decay``, the EMA methods,
    ``accumulators`` / ``averages`` and ``get_config`` / ``from_config`` of :class:`~optim.optimizer.Optimizer`."""

    def exclude_from_weight_decay(self, var_list: Iterable[Tensor] = (), var_names: Iterable[str] = ()) -> None:
        """Keras style: no weight decay for these parameters, nor for those whose name matches a regex in ``var_names``.

        Names come from ``(name, tensor)`` pairs (``model.named_parameters()``);
        the patterns are kept and also apply to parameters added later. A
        parameter without a name never matches (a warning says so once).
        """
        parameter_numbers.exclude_from_weight_decay(self, var_list, var_names)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> None:
        """Keras style: update with explicit ``(gradient, parameter)`` pairs.

        Gradients may be arrays, Tensors or :class:`~minigrad.sparse.RowSparseGrad`,
        on the parameter's device, with its shape and dtype. An optimizer built
        with ``params=None`` adopts the parameters of its first call as one group.

        A gradient of ``None``: under ``convention="keras"`` and ``"tensorflow"``
        the pair is skipped with a warning and the others are applied, as Keras 3
        and tf.keras do (``ValueError`` if every gradient is None); under the
        other conventions it is refused (``TypeError``) before anything changes.
        See :mod:`optim.call_checks`.
        """
        pairs, skipped = call_checks.split_pairs(self, grads_and_vars)
        if not self.param_groups and pairs:
            variables = [var for var, _ in pairs] + skipped
            self.param_groups.extend(self._build_groups([{"params": variables}]))
        if not (pairs and self._direct_step(pairs)):  # fused=True: straight to the kernels when it can
            self._apply(pairs)

    def minimize(self, loss_fn: Callable[[], Tensor], var_list: Sequence[Tensor] | None = None) -> Tensor:
        """Keras style: compute ``loss_fn()``, reset the gradients, backpropagate, apply; return the loss.

        ``var_list`` defaults to every parameter of the optimizer. The arguments
        and the loss are checked before any gradient is reset.
        """
        variables = call_checks.checked_var_list(self, loss_fn, var_list)
        loss = call_checks.checked_loss(loss_fn())
        for var in variables:
            var.grad = None
        loss.backward()
        self.apply_gradients([(var.grad, var) for var in variables if var.grad is not None])
        return loss

    def scale_loss(self, loss: Tensor) -> Tensor:
        """``loss * loss_scale_factor`` (the gradients are divided back by it before the update)."""
        factor = self.options.loss_scale_factor
        return loss if factor is None else loss * factor

    @property
    def accumulators(self) -> dict[Tensor, Any]:
        """The gradient sums of the open accumulation window (kept by :attr:`pipeline`)."""
        return self.pipeline.accumulators

    @accumulators.setter
    def accumulators(self, value: dict[Tensor, Any]) -> None:
        self.pipeline.accumulators = value

    @property
    def averages(self) -> dict[Tensor, Any]:
        """The moving averages of the weights (kept by :attr:`weight_averages`)."""
        return self.weight_averages.averages

    @averages.setter
    def averages(self, value: dict[Tensor, Any]) -> None:
        self.weight_averages.averages = value

    def finalize_variable_values(self) -> None:
        """Keras style: copy the moving averages into the parameters (with ``use_ema``)."""
        self.weight_averages.finalize()

    def swap_ema_weights(self) -> contextlib.AbstractContextManager[None]:
        """Use the averaged weights inside the block (to evaluate), the trained ones again after it."""
        return self.weight_averages.swapped()

    def get_config(self) -> dict[str, Any]:
        """The constructor's hyperparameters and options as a JSON-serialisable dictionary."""
        config = persistence.optimizer_config(self)
        if self.fused:  # only when set: the configs of the reference path stay as they were
            config["fused"] = True
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], params: Any = None) -> Any:
        """Build an optimizer from :meth:`get_config`'s output (and, optionally, parameters)."""
        return persistence.optimizer_from_config(cls, config, params)

"""The base of the PyTorch-style learning-rate schedulers of :mod:`optim.lr_scheduler`.

A scheduler holds an optimizer and rewrites each of its groups' ``"lr"`` when
:meth:`LRScheduler.step` is called, as ``torch.optim.lr_scheduler`` (2.13.0)
does: the constructor stores ``group["initial_lr"]`` (kept if already there),
remembers it in ``base_lrs``, and takes an initial step that sets
``last_epoch`` to 0; each later ``step()`` adds 1 to ``last_epoch`` and asks
:meth:`~LRScheduler.get_lr` for the new rates. The arithmetic, the order of the
operations and the counters (``last_epoch``, ``_step_count``) are PyTorch's,
so the rates are the same Python floats, bit for bit.

What differs from PyTorch, all on bad input: every argument is checked and a
bad one refused with its name and value before anything changes (PyTorch
accepts, for example, ``step_size=0`` and then divides by zero);
:meth:`~LRScheduler.load_state_dict` checks the whole dict before it changes
anything; the optimizer's ``step`` is not wrapped (PyTorch replaces it with a
wrapper that records the call): the warning about calling ``scheduler.step()``
before ``optimizer.step()`` reads the optimizer's call counter instead.
"""

from __future__ import annotations

import warnings
from typing import Any

from optim.optimizer import Optimizer
from optim.validation import check_bool, check_nonnegative, plain_number

__all__ = ["EPOCH_DEPRECATION_WARNING", "LRScheduler", "check_count", "check_group_lrs", "group_values"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available."
)
STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call them in this order: "
    "`optimizer.step()` before `lr_scheduler.step()`. Failure to do this will result in skipping the first "
    "value of the learning rate schedule."
)
GET_LR_WARNING = "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."


def check_count(value: Any, name: str, minimum: int) -> int:
    """An integer >= ``minimum`` (a Python ``int`` or a NumPy integer; not a bool, not a float)."""
    number = plain_number(value)
    if not isinstance(number, int):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    if number < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return number


def check_group_lrs(optimizer: Any) -> None:
    """Refuse an optimizer that is not an :class:`~optim.Optimizer`, or a group whose ``lr`` is a schedule."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected an optim.Optimizer, got {optimizer!r}")
    for index, group in enumerate(optimizer.param_groups):
        if callable(group["lr"]):
            raise TypeError(
                f"param_groups[{index}]['lr']: a scheduler needs a number, got the schedule {group['lr']!r}; "
                "use either a schedule (Keras style) or a scheduler (PyTorch style)"
            )


def group_values(value: Any, name: str, optimizer: Optimizer) -> list[Any]:
    """One value per group: ``value`` repeated, or a list or tuple with as many entries as there are groups."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name}: expected one value per parameter group ({len(optimizer.param_groups)}), "
                f"got {len(value)}: {list(value)!r}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: the counters, ``step``, ``get_last_lr`` and the state dict (PyTorch's ``LRScheduler``).

    Parameters
    ----------
    optimizer : Optimizer
        Any optimizer of this library; every group's ``"lr"`` must be a number.
    last_epoch : int, default -1
        The index of the last epoch; -1 starts afresh. A value >= 0 resumes,
        and needs ``"initial_lr"`` in every group (saved with the optimizer's
        state dict).

    Attributes
    ----------
    base_lrs : list of float
        Each group's ``"initial_lr"``.
    last_epoch : int
        The number of ``step()`` calls since the start (0 after construction).

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)   # a subclass
    >>> rates = []
    >>> for _ in range(2):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.05, 0.025]
    """

    #: The constructor's arguments that the state dict holds, besides the counters (subclasses extend it).
    hyperparameters: tuple[str, ...] = ()
    #: Those of :attr:`hyperparameters` that the state dict leaves out while they are None, as PyTorch's does.
    optional_hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_group_lrs(optimizer)
        last_epoch = check_count(last_epoch, "last_epoch", -1)
        if last_epoch >= 0:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{index}]: no 'initial_lr', which resuming with last_epoch={last_epoch} "
                        "needs; load the optimizer's state dict saved with the scheduler first"
                    )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._calls_at_start = optimizer.calls
        self._get_lr_called_within_step = False
        self._step_count = 0
        self._is_initial = True
        self._step()
        self._is_initial = False

    # ----------------------------------------------------------------- the rates
    def get_lr(self) -> list[float]:
        """The rates of the step being taken, computed from the groups' current ones (chainable form).

        Called by :meth:`step`; called directly it warns, as PyTorch does, and
        :meth:`get_last_lr` is what gives the current rates.
        """
        if not self._get_lr_called_within_step:
            warnings.warn(GET_LR_WARNING, UserWarning, stacklevel=2)
        return self._chainable_lr()

    def _chainable_lr(self) -> list[float]:
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float] | None:
        """The rates at ``last_epoch`` from ``base_lrs`` alone (None: the scheduler has no closed form)."""
        return None

    def get_last_lr(self) -> list[float]:
        """The rates the last :meth:`step` gave each group (a new list)."""
        return list(self._last_lr)

    def _check_step(self, epoch: int | None) -> None:
        """Refuse a step to ``epoch`` (None: the next one) that cannot be taken, before any counter changes
        (subclasses extend it): a group that is a schedule, or groups added since the scheduler was built."""
        check_group_lrs(self.optimizer)
        if len(self.optimizer.param_groups) != len(self.base_lrs):
            raise ValueError(
                f"param_groups: the optimizer has {len(self.optimizer.param_groups)} group(s), the scheduler was "
                f"built for {len(self.base_lrs)}; build a new scheduler after add_param_group"
            )

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch (or batch) and write the new rates into the optimizer's groups.

        Parameters
        ----------
        epoch : int, optional
            Deprecated in PyTorch and kept for its users: jump to ``epoch`` and
            use the closed form where the scheduler has one (a warning says so).
        """
        if epoch is not None:
            epoch = check_count(epoch, "epoch", 0)
        self._check_step(epoch)
        if self._step_count == 1 and self.optimizer.calls == self._calls_at_start:
            warnings.warn(STEP_ORDER_WARNING, UserWarning, stacklevel=2)
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._step(epoch)

    def _step(self, epoch: int | None = None) -> None:
        self._step_count += 1
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self._chainable_lr()
            else:
                self.last_epoch = epoch
                closed = self._closed_form_lr()
                values = self._chainable_lr() if closed is None else closed
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # ----------------------------------------------------------------- saving
    def state_dict(self) -> dict[str, Any]:
        """The hyperparameters and counters, under PyTorch's names (JSON-serialisable; no optimizer)."""
        counters = {"base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch, "_step_count": self._step_count,
                    "_is_initial": False, "_get_lr_called_within_step": False, "_last_lr": list(self._last_lr)}
        saved = {name: _copied(getattr(self, name)) for name in self.hyperparameters
                 if getattr(self, name) is not None or name not in self.optional_hyperparameters}
        return {**saved, **counters}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (ours or PyTorch's), after checking all of it."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
        expected = {"base_lrs", "last_epoch", "_step_count", "_last_lr", *self.hyperparameters}
        missing = sorted(expected - state_dict.keys() - set(self.optional_hyperparameters))
        unknown = sorted(state_dict.keys() - expected - {"_is_initial", "_get_lr_called_within_step"})
        if missing or unknown:
            raise ValueError(f"state_dict: missing entries {missing}, unknown entries {unknown}")
        checked = self._checked_hyperparameters(state_dict)
        count = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr"):
            values = state_dict[key]
            if not isinstance(values, list) or len(values) != count:
                raise ValueError(f"state_dict[{key!r}]: expected a list of {count} rate(s), got {values!r}")
            checked[key] = [check_nonnegative(v, f"state_dict[{key!r}][{i}]") for i, v in enumerate(values)]
        checked["last_epoch"] = check_count(state_dict["last_epoch"], "state_dict['last_epoch']", -1)
        checked["_step_count"] = check_count(state_dict["_step_count"], "state_dict['_step_count']", 0)
        for flag in ("_is_initial", "_get_lr_called_within_step"):
            if flag in state_dict and check_bool(state_dict[flag], f"state_dict[{flag!r}]"):
                raise ValueError(f"state_dict[{flag!r}]: expected False (saved outside a step), got True")
        for key, value in checked.items():
            setattr(self, key, value)

    def _checked_hyperparameters(self, state_dict: dict[str, Any]) -> dict[str, Any]:
        """The saved hyperparameters, each checked by the subclass's ``check_arguments`` as in the constructor."""
        try:
            return self.check_arguments(**{name: state_dict[name] for name in self.hyperparameters
                                           if name in state_dict})
        except (TypeError, ValueError) as error:
            raise type(error)(f"state_dict: {error}") from None

    @staticmethod
    def check_arguments(**arguments: Any) -> dict[str, Any]:
        """The subclass's hyperparameters, checked (each subclass defines it)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({shown}, last_epoch={self.last_epoch})"


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return [dict(item) if isinstance(item, dict) else item for item in value]
    return value


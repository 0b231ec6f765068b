"""What a convention is: the :class:`Convention` record of a framework's defaults and formula choices, and
:meth:`Convention.settings`, the one path from a convention to an optimizer's defaults.

The conventions themselves (``optim.CONVENTIONS``) and the choice lists are in :mod:`optim.conventions`,
which re-exports :class:`Convention` and :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["CONVENTION_ADAM_OPTIONS", "Convention", "Settings"]

#: The optimizer-wide choices a convention sets unless given (``None`` is a value of its own for each).
_OPTIMIZER_WIDE = ("power_dtype", "sparse_clipping", "lr_dtype", "sparse_update")
#: The keywords whose ``None`` means "the convention's value" (the others are taken as given).
_FROM_CONVENTION_WHEN_NONE = ("lr", "betas", "eps", "decoupled_weight_decay", "step_counting", "epsilon_mode",
                              "amsgrad_mode", "adamax_epsilon", "slot_arithmetic", "eps_root", "nesterov")
#: Adam keywords that only some conventions define, with their defaults there: Optax's ``eps_root``
#: (:math:`\sqrt{\hat v_t + \epsilon_\text{root}}`) and ``nesterov`` (``optax.adam(nesterov=True)``).
CONVENTION_ADAM_OPTIONS = {"optax": {"eps_root": 0.0, "nesterov": False}}


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a convention and the user's keywords give an optimizer (see :meth:`Convention.settings`).

    Attributes
    ----------
    group : dict
        The hyperparameters every parameter group starts from (not yet validated).
    power_dtype : str or None
        The optimizer-wide precision of :math:`\\beta^t`.
    lazy : bool
        Whether row-sparse gradients update lazily when the ``lazy`` option is not given.
    sparse_clipping : str
        Whether a row-sparse gradient is clipped before or after its repeated rows are summed.
    lr_dtype : str or None
        The precision the learning rate is rounded to first (Keras's floatx), or None.
    sparse_update : str
        ``"as_dense"``, or ``"uncorrected"`` (capreolus's sparse path) for a non-lazy row-sparse gradient.

    Examples
    --------
    >>> from optim import CONVENTIONS
    >>> settings = CONVENTIONS['pytorch'].settings('adam', lr=0.01)
    >>> settings.group['lr'], settings.group['eps']
    (0.01, 1e-08)
    """

    group: dict[str, Any]
    power_dtype: str | None
    lazy: bool
    sparse_clipping: str = "summed_rows"
    lr_dtype: str | None = None
    sparse_update: str = "as_dense"


@dataclasses.dataclass(frozen=True)
class Convention:
    """Defaults and formula choices of one reference implementation.

    Attributes
    ----------
    name : str
        The value of the optimizers' ``convention`` keyword.
    source : str
        Where the rules come from (paper, or framework and version).
    adam_lr, adamax_lr : float or None
        Default learning rates of Adam/AMSGrad and of Adamax (None: no default, ``lr`` is required).
    betas : tuple of float
        Default :math:`(\\beta_1, \\beta_2)`.
    adam_eps, adamax_eps : float
        Default :math:`\\epsilon` of Adam/AMSGrad and of Adamax.
    epsilon_mode, amsgrad_mode, adamax_epsilon, step_counting : str
        The formula choices (see the module docstring).
    decoupled_weight_decay : bool
        Whether ``weight_decay`` means decoupled decay (True) or an L2 term in the gradient (False).
    power_dtype : str or None
        Precision of :math:`\\beta^t`: None (double), ``"float32"``, ``"param"`` (the parameter's dtype), or
        ``"float32_or_wider"`` (float32, the parameter's dtype where it is wider).
    adam_slot_arithmetic, adamax_slot_arithmetic : str
        How Adam/AMSGrad and AdaMax update their moments and numbers: ``"double"`` or ``"in_dtype"``.
    adam_lazy, adamax_lazy : bool
        Whether row-sparse gradients update lazily by default.
    sparse_clipping : str
        ``"summed_rows"`` or ``"listed_values"``: clipping after or before repeated rows are summed.
    lr_dtype : str or None
        The dtype the learning rate is kept in (Keras's floatx), or None (as given).
    sparse_update : str
        ``"as_dense"`` or ``"uncorrected"``: the rule a row-sparse gradient takes when the update is not lazy.
    algorithms : tuple of str
        The algorithms the reference implementation has (``"adam"`` covers AMSGrad).
    notes : str
        Quirks worth knowing, in one sentence.

    Examples
    --------
    >>> from optim import CONVENTIONS
    >>> keras = CONVENTIONS['keras']
    >>> keras.adam_eps, keras.epsilon_mode, keras.decoupled_weight_decay
    (1e-07, 'epsilon_hat', True)
    """

    name: str
    source: str
    adam_lr: float | None
    adamax_lr: float | None
    betas: tuple[float, float]
    adam_eps: float
    adamax_eps: float
    epsilon_mode: str
    amsgrad_mode: str
    adamax_epsilon: str
    step_counting: str
    decoupled_weight_decay: bool = False
    power_dtype: str | None = None
    adam_slot_arithmetic: str = "double"
    adamax_slot_arithmetic: str = "double"
    adam_lazy: bool = False
    adamax_lazy: bool = False
    sparse_clipping: str = "summed_rows"
    lr_dtype: str | None = None
    sparse_update: str = "as_dense"
    algorithms: tuple[str, ...] = ("adam", "adamax")
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dictionary (for tables and configs)."""
        return dataclasses.asdict(self)

    def _without_undefined_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` without the convention-only Adam keywords this convention does not define, which must be None
        (not given); a value is refused, naming the keyword and the conventions that define it."""
        own = CONVENTION_ADAM_OPTIONS.get(self.name, {})
        kept = dict(given)
        for key in {key for options in CONVENTION_ADAM_OPTIONS.values() for key in options} - own.keys():
            value = kept.pop(key, None)
            if value is not None:
                defined_by = sorted(name for name, options in CONVENTION_ADAM_OPTIONS.items() if key in options)
                raise ValueError(f"{key}: only convention={defined_by[0]!r} defines it, got {key}={value!r} under "
                                 f"convention={self.name!r}")
        return kept

    def settings(self, algorithm: str, **given: Any) -> Settings:
        """The one way from this convention and the user's keywords to an optimizer's hyperparameters.

        Parameters
        ----------
        algorithm : {"adam", "adamax"}
            Adam (AMSGrad too) or AdaMax: they differ in their default learning
            rate and :math:`\\epsilon`, and in their formula choices.
        **given
            The constructor's keywords. For ``lr``, ``betas``, ``eps``,
            ``decoupled_weight_decay``, ``step_counting`` and the formula choices,
            ``None`` means the convention's value; ``power_dtype`` is the
            convention's unless given (``None`` is a value of its own: double precision), and so are
            ``sparse_clipping`` and ``lr_dtype``.

        Returns
        -------
        Settings
            The group hyperparameters, ``power_dtype`` and the ``lazy`` default.

        >>> from optim import CONVENTIONS
        >>> settings = CONVENTIONS["keras"].settings("adam", lr=0.01)
        >>> settings.group["eps"], settings.group["epsilon_mode"], settings.power_dtype
        (1e-07, 'epsilon_hat', 'param')
        """
        if algorithm == "adam":
            defaults = {"lr": self.adam_lr, "eps": self.adam_eps, "amsgrad": False,
                        "epsilon_mode": self.epsilon_mode, "amsgrad_mode": self.amsgrad_mode,
                        "slot_arithmetic": self.adam_slot_arithmetic,
                        **CONVENTION_ADAM_OPTIONS.get(self.name, {})}
            given = self._without_undefined_options(given)
            lazy = self.adam_lazy
        elif algorithm == "adamax":
            defaults = {"lr": self.adamax_lr, "eps": self.adamax_eps, "adamax_epsilon": self.adamax_epsilon,
                        "slot_arithmetic": self.adamax_slot_arithmetic}
            lazy = self.adamax_lazy
        else:
            raise ValueError(f"algorithm: expected 'adam' or 'adamax', got {algorithm!r}")
        if algorithm not in self.algorithms:
            raise ValueError(f"convention: {self.name!r} has no {algorithm} (its source, {self.source}, "
                             f"implements only {', '.join(self.algorithms)}); choose another convention")
        defaults.update(betas=self.betas, weight_decay=0.0, maximize=False,
                        decoupled_weight_decay=self.decoupled_weight_decay, step_counting=self.step_counting)
        unknown = sorted(set(given) - set(defaults) - set(_OPTIMIZER_WIDE))
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {unknown} for {algorithm}")
        if given.get("lr") is None and defaults["lr"] is None:
            raise ValueError(f"lr: the {self.name} convention has no default learning rate; pass lr=, got None")
        group = {}
        for key, default in defaults.items():
            value = given.get(key, default)
            group[key] = default if value is None and key in _FROM_CONVENTION_WHEN_NONE else value
        wide = {name: given[name] if name in given else getattr(self, name) for name in _OPTIMIZER_WIDE}
        return Settings(group, lazy=lazy, **wide)

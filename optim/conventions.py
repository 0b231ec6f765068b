"""Named conventions: the defaults and formula choices of the papers and of each framework.

Adam, Adamax and AMSGrad are specified by their papers, but every framework
makes a few small choices of its own: where :math:`\\epsilon` goes, what
AMSGrad takes the maximum of, whether weight decay is L2 or decoupled, whether
the step :math:`t` is counted per parameter or once per optimizer. A
:class:`Convention` fixes all of them; each choice is also a keyword of the
optimizers, so a user can start from one convention and change one choice.

=================  =======================================================================
choice             values
=================  =======================================================================
epsilon_mode       ``"algorithm1"``: :math:`\\alpha\\hat m_t/(\\sqrt{\\hat v_t}+\\epsilon)`;
                   ``"epsilon_hat"``: :math:`\\alpha_t m_t/(\\sqrt{v_t}+\\hat\\epsilon)`
amsgrad_mode       ``"max_raw_v"``, ``"max_corrected_v"``, ``"no_bias_correction"``;
                   ``"ignored"`` (MindSpore 2.10's experimental Adam ignores ``amsgrad``)
adamax_epsilon     ``"denominator"``: :math:`m_t/(u_t+\\epsilon)`;
                   ``"inside_max"``: :math:`u_t=\\max(\\beta_2u_{t-1},|g_t|+\\epsilon)`
step_counting      ``"global"``: one :math:`t` per optimizer; ``"per_parameter"``: one per parameter
power_dtype        ``None``: :math:`\\beta^t` in double precision; ``"float32"``; ``"param"``: the parameter's dtype;
                   ``"float32_or_wider"``: float32, or the parameter's dtype where it is wider (float64)
slot_arithmetic    ``"double"``: :math:`m_t=\\beta_1m_{t-1}+(1-\\beta_1)g_t`, :math:`1-\\beta` from double precision;
                   ``"in_dtype"``: :math:`m_t=m_{t-1}+(g_t-m_{t-1})(1-\\beta_1)`, every number in the parameter's dtype;
                   ``"in_dtype_sum"``: :math:`\\beta_1m_{t-1}+(1-\\beta_1)g_t`, every number in the parameter's dtype
lazy               row-sparse gradients update only the touched rows (True) or all rows (False)
sparse_clipping    ``"summed_rows"``: a row-sparse gradient is clipped after its repeated rows are summed;
                   ``"listed_values"``: before, value by value as listed (tf.keras legacy, Keras 3)
sparse_update      ``"as_dense"``: a row-sparse gradient takes the dense rule; ``"uncorrected"``: every row, moments
                   as ``"in_dtype_sum"``, no bias correction (capreolus's AdamMultilr)
lr_dtype           ``None``: the learning rate as given; ``"float32"`` (or ``"float16"``, ``"float64"``): rounded to it
                   first where the parameter is wider (Keras keeps it in a floatx variable)
=================  =======================================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = [
    "ADAMAX_EPSILON_CHOICES",
    "AMSGRAD_MODE_CHOICES",
    "CONVENTIONS",
    "CONVENTION_ADAM_OPTIONS",
    "EPSILON_MODE_CHOICES",
    "POWER_DTYPE_CHOICES",
    "IN_DTYPE_ARITHMETICS",
    "LR_DTYPE_CHOICES",
    "RULE_AMSGRAD_MODES",
    "SLOT_ARITHMETIC_CHOICES",
    "SPARSE_CLIPPING_CHOICES",
    "SPARSE_UPDATE_CHOICES",
    "STEP_COUNTING_CHOICES",
    "Convention",
    "Settings",
    "get_convention",
    "rule_amsgrad_mode",
]

EPSILON_MODE_CHOICES = ("algorithm1", "epsilon_hat")
AMSGRAD_MODE_CHOICES = ("max_raw_v", "max_corrected_v", "no_bias_correction", "ignored")
ADAMAX_EPSILON_CHOICES = ("denominator", "inside_max")
STEP_COUNTING_CHOICES = ("global", "per_parameter")
POWER_DTYPE_CHOICES = (None, "float32", "param", "float32_or_wider")
SLOT_ARITHMETIC_CHOICES = ("double", "in_dtype", "in_dtype_sum")
#: The slot arithmetics whose numbers (1 - beta, the step sizes) are computed in the parameter's dtype.
IN_DTYPE_ARITHMETICS = ("in_dtype", "in_dtype_sum")
SPARSE_CLIPPING_CHOICES = ("summed_rows", "listed_values")
SPARSE_UPDATE_CHOICES = ("as_dense", "uncorrected")
#: The precisions the learning rate may be rounded to before it meets the parameter's dtype (Keras's floatx).
LR_DTYPE_CHOICES = (None, "float16", "float32", "float64")
#: The ``amsgrad_mode`` values :func:`optim.functional.adam_update` takes (None: plain Adam).
RULE_AMSGRAD_MODES = (None, "max_raw_v", "max_corrected_v", "no_bias_correction")

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


CONVENTIONS: dict[str, Convention] = {
    "paper": Convention(
        name="paper",
        source="Kingma & Ba, ICLR 2015 (arXiv:1412.6980v9), Algorithms 1 and 2; "
        "Reddi, Kale & Kumar, ICLR 2018, Algorithm 2 (AMSGrad)",
        adam_lr=1e-3,
        adamax_lr=2e-3,
        betas=(0.9, 0.999),
        adam_eps=1e-8,
        adamax_eps=1e-8,
        epsilon_mode="algorithm1",
        amsgrad_mode="no_bias_correction",
        adamax_epsilon="denominator",
        step_counting="global",
    ),
    "pytorch": Convention(
        name="pytorch",
        source="torch.optim.Adam / AdamW / Adamax, PyTorch 2.13.0 (torch/optim/adam.py, adamax.py)",
        adam_lr=1e-3,
        adamax_lr=2e-3,
        betas=(0.9, 0.999),
        adam_eps=1e-8,
        adamax_eps=1e-8,
        epsilon_mode="algorithm1",
        amsgrad_mode="max_raw_v",
        adamax_epsilon="inside_max",
        step_counting="per_parameter",
        notes="weight_decay is L2 unless decoupled_weight_decay=True (torch.optim.AdamW); "
        "torch.optim.Adamax has no decoupled option.",
    ),
    "keras": Convention(
        name="keras",
        source="keras.optimizers.Adam / Adamax, Keras 3.15.1 (keras/src/optimizers/adam.py, adamax.py, "
        "base_optimizer.py)",
        adam_lr=1e-3,
        adamax_lr=1e-3,
        betas=(0.9, 0.999),
        adam_eps=1e-7,
        adamax_eps=1e-7,
        epsilon_mode="epsilon_hat",
        amsgrad_mode="max_raw_v",
        adamax_epsilon="denominator",
        step_counting="global",
        decoupled_weight_decay=True,
        power_dtype="param",
        sparse_clipping="listed_values",
        lr_dtype="float32",
        notes="weight_decay is decoupled (x -= x*wd*lr with the current lr); sparse gradients are densified, "
        "after clipping their values as listed; the learning rate is a floatx (float32) variable.",
    ),
    "tensorflow": Convention(
        name="tensorflow",
        source="tf.keras.optimizers.legacy.Adam / Adamax (optimizer_v2), tf_keras 2.21.0; kernels ApplyAdam, "
        "ApplyAdamWithAmsgrad, ApplyAdaMax in tensorflow/core/kernels/training_ops.cc",
        adam_lr=1e-3,
        adamax_lr=1e-3,
        betas=(0.9, 0.999),
        adam_eps=1e-7,
        adamax_eps=1e-7,
        epsilon_mode="epsilon_hat",
        amsgrad_mode="max_raw_v",
        adamax_epsilon="denominator",
        step_counting="global",
        decoupled_weight_decay=True,
        power_dtype="param",
        adam_slot_arithmetic="in_dtype",
        adamax_slot_arithmetic="in_dtype",
        adamax_lazy=True,
        sparse_clipping="listed_values",
        notes="legacy decay keyword lr/(1+decay*iterations); clipvalue may be combined with clipnorm; "
        "Adamax updates sparse gradients lazily (only touched rows); the kernels compute in the variable's dtype; "
        "a sparse gradient is clipped before its repeated rows are summed.",
    ),
    "optax": Convention(
        name="optax",
        source="optax.adam / amsgrad / adamax / adamw, Optax 0.2.8 (optax/_src/transform.py, alias.py)",
        adam_lr=None,
        adamax_lr=None,
        betas=(0.9, 0.999),
        adam_eps=1e-8,
        adamax_eps=1e-8,
        epsilon_mode="algorithm1",
        amsgrad_mode="max_corrected_v",
        adamax_epsilon="inside_max",
        step_counting="global",
        decoupled_weight_decay=True,
        power_dtype="float32_or_wider",
        notes="no default learning rate; AMSGrad takes the max of the bias-corrected v; "
        "weight_decay means adamw/adamaxw; bias corrections in float32 (float64 with float64 parameters).",
    ),
    "mindspore": Convention(
        name="mindspore",
        source="mindspore.experimental.optim.Adam / Adamax, MindSpore 2.10.0 (ops.Adam kernel)",
        adam_lr=1e-3,
        adamax_lr=2e-3,
        betas=(0.9, 0.999),
        adam_eps=1e-8,
        adamax_eps=1e-8,
        epsilon_mode="epsilon_hat",
        amsgrad_mode="ignored",
        adamax_epsilon="inside_max",
        step_counting="global",
        power_dtype="float32",
        adam_slot_arithmetic="in_dtype",
        notes="Adam computes the epsilon-hat form although its docstring shows Algorithm 1, and ignores "
        "amsgrad=True; weight_decay is L2; beta^t in float32; Adam's kernel computes in the parameter's dtype.",
    ),
    "capreolus": Convention(
        name="capreolus",
        source="capreolus.utils.keras_support.AdamMultilr (capreolus-ir/capreolus), an optimizer_v2 Adam with "
        "per-name learning rates, on tf.keras legacy's kernels ApplyAdam and ApplyAdamWithAmsgrad",
        adam_lr=1e-3,
        adamax_lr=None,
        betas=(0.9, 0.999),
        adam_eps=1e-7,
        adamax_eps=1e-7,
        epsilon_mode="epsilon_hat",
        amsgrad_mode="max_raw_v",
        adamax_epsilon="denominator",
        step_counting="global",
        decoupled_weight_decay=True,
        power_dtype="param",
        adam_slot_arithmetic="in_dtype",
        sparse_clipping="listed_values",
        sparse_update="uncorrected",
        algorithms=("adam",),
        notes="dense: tf.keras legacy Adam with pattern_lrs (first matching regex wins); a sparse gradient updates "
        "every row with the pattern's raw learning rate, without bias correction.",
    ),
}


def get_convention(name: str) -> Convention:
    """The :class:`Convention` called ``name``; ``ValueError`` naming the known ones otherwise.

    Examples
    --------
    >>> from optim.conventions import get_convention
    >>> get_convention('optax').amsgrad_mode
    'max_corrected_v'
    """
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise ValueError(f"convention: unknown value {name!r}; expected one of {sorted(CONVENTIONS)}")
    return CONVENTIONS[name]


def rule_amsgrad_mode(group: dict[str, Any]) -> str | None:
    """The ``amsgrad_mode`` that :func:`~optim.functional.adam_update` gets for an Adam group: ``None`` (plain
    Adam) without ``amsgrad`` or with ``amsgrad_mode="ignored"``, else the group's mode.

    Examples
    --------
    >>> from optim.conventions import rule_amsgrad_mode
    >>> rule_amsgrad_mode({'amsgrad': True, 'amsgrad_mode': 'max_raw_v'})
    'max_raw_v'
    >>> print(rule_amsgrad_mode({'amsgrad': False, 'amsgrad_mode': 'max_raw_v'}))
    None
    """
    if not group["amsgrad"] or group["amsgrad_mode"] == "ignored":
        return None
    return group["amsgrad_mode"]

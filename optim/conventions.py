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

from typing import Any

from optim.convention_settings import CONVENTION_ADAM_OPTIONS, Convention, Settings

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

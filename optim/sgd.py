"""Stochastic gradient descent, plain or with momentum: PyTorch's and Keras's formulas, and the paper's baseline."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor
from optim.conventions import get_convention
from optim.fused import FusedEngine
from optim.optimizer import Optimizer, ParamsLike
from optim.rules import SGD_FORMS
from optim.validation import check_bool, check_choice, check_nonnegative, check_sgd_momentum

__all__ = ["SGD", "SGD_CONVENTIONS"]

#: Per convention: the default learning rate (None: ``lr`` is required), the formula, whether momentum,
#: Nesterov and weight decay are offered, and the name of the momentum buffer in the state.
SGD_CONVENTIONS: dict[str, dict[str, Any]] = {
    "paper": {"lr": 0.01, "form": "velocity", "momentum": False, "buffer": "momentum"},
    "pytorch": {"lr": 1e-3, "form": "dampened", "momentum": True, "buffer": "momentum_buffer"},
    "keras": {"lr": 0.01, "form": "velocity", "momentum": True, "buffer": "momentum"},
    "tensorflow": {"lr": 0.01, "form": "velocity", "momentum": True, "buffer": "momentum"},
    "optax": {"lr": None, "form": "velocity", "momentum": False, "buffer": "momentum"},
    "mindspore": {"lr": None, "form": "velocity", "momentum": False, "buffer": "momentum"},
}
_WITH_MOMENTUM = sorted(name for name, entry in SGD_CONVENTIONS.items() if entry["momentum"])


class SGD(Optimizer):
    r"""Gradient descent, plain (:math:`\theta_t = \theta_{t-1} - \alpha g_t`) or with momentum.

    ``convention="pytorch"`` is ``torch.optim.SGD`` (2.13.0), bit for bit in float32 and float64 (in float16
    PyTorch computes each operation in float32 and rounds it to half, which the library does not reproduce;
    it computes in float16): weight decay as an L2 term
    :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}`, then a dampened buffer
    :math:`b_1 = g_1`, :math:`b_t = \mu b_{t-1} + (1-\tau) g_t` and
    :math:`\theta_t = \theta_{t-1} - \alpha b_t` (Nesterov: :math:`- \alpha(g_t + \mu b_t)`), each
    ``x + a y`` rounded once as PyTorch's fused multiply-add. ``"keras"`` is ``keras.optimizers.SGD``
    (3.15.1), and ``"tensorflow"`` tf.keras's legacy SGD, which has the same formula: decoupled weight
    decay :math:`\theta \leftarrow \theta - \theta\lambda\alpha` first, then a velocity
    :math:`v_t = \mu v_{t-1} - g_t\alpha`, :math:`\theta_t = \theta_{t-1} + v_t` (Nesterov:
    :math:`+ \mu v_t - g_t\alpha`). The other conventions (``"paper"``, the default, ``"optax"``,
    ``"mindspore"``) offer plain gradient descent only, :math:`\theta_{t-1} - g_t\alpha`; they refuse
    momentum, Nesterov, dampening and weight decay. See :func:`optim.functional.sgd_update`.

    Parameters
    ----------
    params : iterable of Tensor, or of dict, or None
        As for :class:`~optim.Adam`.
    lr : float or callable, optional
        :math:`\alpha`, or a schedule. Default: the convention's (paper, Keras, TensorFlow 0.01; PyTorch
        1e-3; Optax and MindSpore have none: ``lr`` is required).
    momentum : float, default 0
        :math:`\mu \ge 0` (at most 1 under Keras and TensorFlow, as Keras checks); 0 is plain SGD.
    dampening : float, default 0
        :math:`\tau \in [0, 1]`, PyTorch's only.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: L2 under PyTorch, decoupled under Keras and TensorFlow.
    nesterov : bool, default False
        Nesterov momentum: needs ``momentum > 0`` and no dampening.
    maximize : bool, default False
        Ascend: use :math:`-g_t`.
    convention : str, default "paper"
        See above and :mod:`optim.conventions`.
    form : {"dampened", "velocity"}, optional
        The formula (PyTorch's or Keras's); default: the convention's.
    fused : bool or None, default False
        Flat buffers and one kernel per step, with the reference path's bits (see :mod:`optim.fused`).
    **options
        Optimizer-wide options (clipping, EMA, accumulation...) under the convention's rules: see
        :func:`optim.options.make_options`.

    Notes
    -----
    State per parameter: ``step``, and with momentum the buffer, named ``momentum_buffer`` under
    PyTorch (as in ``torch.optim.SGD``'s state) and ``momentum`` otherwise (Keras's variable).

    Examples
    --------
    Keras's velocity: :math:`v_1 = -0.1`, :math:`v_2 = 0.9 v_1 - 0.1 = -0.19`.

    >>> import numpy as np, minigrad as mg
    >>> w = mg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9, convention="keras")
    >>> for _ in range(2):
    ...     opt.apply_gradients([(np.array([1.0, 1.0]), w)])
    >>> w.numpy()
    array([ 0.71, -2.29])
    >>> opt.state[w]["momentum"]
    array([-0.19, -0.19])
    """

    algorithm = "sgd"

    def __init__(self, params: ParamsLike = None, lr: Any = None, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False,
                 convention: str = "paper", *, form: str | None = None, fused: bool | None = False,
                 **options: Any) -> None:
        known = get_convention(convention)  # an unknown name is refused first, naming the known ones
        if convention not in SGD_CONVENTIONS:
            raise ValueError(f"convention: {convention!r} has no SGD; expected one of {sorted(SGD_CONVENTIONS)}")
        self.sgd_convention = SGD_CONVENTIONS[convention]
        for name in ("sparse_clipping", "lr_dtype"):  # the convention's optimizer-wide choices, unless given
            options.setdefault(name, getattr(known, name))
        if lr is None:
            lr = self.sgd_convention["lr"]
            if lr is None:
                raise ValueError(f"lr: the {convention} convention has no default learning rate; pass lr=, got None")
        if "power_dtype" in options:
            raise TypeError(f"power_dtype: SGD computes no power of a beta, got {options['power_dtype']!r}")
        self.convention = convention
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize,
                    "form": self.sgd_convention["form"] if form is None else form, "step_counting": "per_parameter"}
        super().__init__(params, self.validate_group(defaults), convention, fused=fused, **options)

    def _make_fused_engine(self) -> FusedEngine:
        """``fused=True``: the flat buffers and kernels of :mod:`optim.fused`, running the SGD rule."""
        return FusedEngine(self)

    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check every hyperparameter of a group against the convention (names the argument and value)."""
        group = super().validate_group(group)
        for name in ("momentum", "dampening", "weight_decay"):
            group[name] = check_nonnegative(group[name], name)
        for name in ("nesterov", "maximize"):
            group[name] = check_bool(group[name], name)
        check_choice(group["form"], "form", SGD_FORMS)
        check_choice(group["step_counting"], "step_counting", ("per_parameter",))
        if not self.sgd_convention["momentum"]:
            for name, off in (("momentum", 0), ("dampening", 0), ("weight_decay", 0), ("nesterov", False)):
                if group[name] != off:
                    raise ValueError(
                        f"{name}: the {self.convention} convention offers plain gradient descent only, got "
                        f"{group[name]!r}; momentum, Nesterov, dampening and weight decay need convention= one of "
                        f"{_WITH_MOMENTUM}"
                    )
        check_sgd_momentum(group["momentum"], group["dampening"], group["nesterov"], group["form"])
        return group

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The momentum buffer's name with momentum, else nothing."""
        return (self.sgd_convention["buffer"],) if group["momentum"] != 0 else ()

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``step``, and the momentum buffer as zeros like the parameter."""
        state: dict[str, Any] = {"step": 0}
        for name in self.state_names(group):
            state[name] = param.xp.zeros_like(param.data)
        return state

    def check_call(self, triples: list[tuple[Tensor, dict[str, Any], Any]]) -> None:
        """Refuse, before anything changes, a parameter whose state lacks the momentum buffer its group needs
        (momentum switched on through ``param_groups`` after its first update, or the buffer deleted)."""
        for param, group, _ in triples:
            state = self.state.get(param)
            missing = [name for name in self.state_names(group) if state is not None and name not in state]
            if missing:
                raise ValueError(
                    f"state: the state of the parameter of shape {param.shape} has no {missing}, which the rule "
                    "of its group needs (momentum switched on after its first update?); del optimizer.state[param] "
                    "starts it afresh"
                )

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters, options and convention, JSON-serialisable."""
        config = super().get_config()
        del config["step_counting"]  # always "per_parameter": not a keyword of the constructor
        return {**config, "convention": self.convention}

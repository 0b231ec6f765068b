"""What Adam and Adamax share: hyperparameters taken from a convention, their checks, and the fused path.

The fast path is chosen here, in the one place that knows both sides: the
optimizer base (:mod:`optim.optimizer`) does not import :mod:`optim.fused`, and
:mod:`optim.fused` does not know the optimizer classes.
"""

from __future__ import annotations

from typing import Any

from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor
from optim.conventions import SLOT_ARITHMETIC_CHOICES, STEP_COUNTING_CHOICES, get_convention
from optim.functional import bias_correction
from optim.fused import FusedEngine
from optim.optimizer import Optimizer, ParamsLike
from optim.validation import check_betas, check_bool, check_choice, check_nonnegative

__all__ = ["AdaptiveOptimizer"]


class AdaptiveOptimizer(Optimizer):
    """Base of :class:`~optim.Adam` and :class:`~optim.Adamax`: the checks and config they share."""

    #: The betas whose bias correction 1 - beta^t the rule divides by (Adamax: only beta1).
    corrected_betas: tuple[str, ...] = ("beta1", "beta2")

    def __init__(self, params: ParamsLike, convention: str, fused: bool | None, options: dict[str, Any],
                 **hyperparameters: Any) -> None:
        """Take every default from the convention (:meth:`~optim.conventions.Convention.settings`), then build."""
        for name in ("power_dtype", "sparse_clipping", "lr_dtype", "sparse_update"):
            if name in options:  # given, even None (power_dtype: double precision): it overrides the convention's
                hyperparameters[name] = options.pop(name)
        settings = get_convention(convention).settings(self.algorithm, **hyperparameters)
        self.lazy_default = settings.lazy
        super().__init__(params, self.validate_group(settings.group), convention, fused=fused,
                         power_dtype=settings.power_dtype, sparse_clipping=settings.sparse_clipping,
                         lr_dtype=settings.lr_dtype, sparse_update=settings.sparse_update, **options)

    def _make_fused_engine(self) -> FusedEngine:
        """``fused=True``: the flat buffers and kernels of :mod:`optim.fused`, running this optimizer's rule."""
        return FusedEngine(self)

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state arrays a parameter of ``group`` needs, as :meth:`init_state` creates them."""
        raise NotImplementedError

    def check_call(self, triples: list[tuple[Tensor, dict[str, Any], Any]]) -> None:
        """Refuse, before anything changes, a parameter whose state lacks an array its group's rule needs
        (``amsgrad`` switched on through ``param_groups`` after its first update, an array deleted by hand),
        and a beta that rounds to 1 where ``power_dtype`` corrects the bias
        (:func:`~optim.functional.bias_correction` at :math:`t = 1`), once per group and parameter dtype."""
        needed: dict[int, frozenset[str]] = {}  # per group: its state_names
        for param, group, _ in triples:
            state = self.state.get(param)
            if state is None:
                continue
            names = needed.get(id(group))
            if names is None:
                names = needed[id(group)] = frozenset(self.state_names(group))
            if not state.keys() >= names:
                missing = sorted(names - state.keys())
                cause = " (amsgrad switched on after its first update?)" if "v_max" in missing else ""
                raise ValueError(
                    f"state: the state of the parameter of shape {param.shape} has no {missing}, which the rule "
                    f"of its group needs{cause}; del optimizer.state[param] starts it afresh"
                )
        if self.fused and self.options.sparse_update == "uncorrected" and not self.lazy:
            for param, _, grad in triples:
                if isinstance(grad, RowSparseGrad):
                    raise ValueError(
                        f"sparse_update: the row-sparse gradient of the parameter of shape {param.shape} takes "
                        "sparse_update='uncorrected' (capreolus's sparse path), which the fused path does not run; "
                        "use fused=False, or sparse_update='as_dense'"
                    )
        power_dtype = self.options.power_dtype
        if power_dtype is None:
            return
        seen = set()
        for param, group, _ in triples:
            key = (id(group), param.dtype)
            if key in seen:
                continue
            seen.add(key)
            betas = dict(zip(("beta1", "beta2"), group["betas"]))
            for name in self.corrected_betas:
                bias_correction(betas[name], 1, power_dtype, param.dtype, name)  # raises if it is 0

    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check the shared hyperparameters (names the argument and value on failure)."""
        group = super().validate_group(group)
        group["betas"] = check_betas(group["betas"])
        group["eps"] = check_nonnegative(group["eps"], "eps")
        group["weight_decay"] = check_nonnegative(group["weight_decay"], "weight_decay")
        for flag in ("maximize", "decoupled_weight_decay"):
            group[flag] = check_bool(group[flag], flag)
        check_choice(group["step_counting"], "step_counting", STEP_COUNTING_CHOICES)
        check_choice(group["slot_arithmetic"], "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)
        return group

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters, options and convention, JSON-serialisable."""
        return {**super().get_config(), "convention": self.convention}

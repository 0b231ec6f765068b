"""The optimizer base class: parameter groups, state, and the ways to apply gradients.

The update rules themselves live in :mod:`optim.functional`; a subclass only
says which hyperparameters it has, which state arrays a parameter needs, and
which rule to run (its ``algorithm``). What happens to the gradients before the rule (loss
scaling, accumulation, clipping) and to the weights after it (moving average)
lives in :mod:`optim.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from minigrad.autograd import zeroed_gradient
from minigrad.config import enable_grad
from minigrad.tensor import Tensor
from optim import functional, parameter_numbers, pipeline
from optim.averages import WeightAverages
from optim.groups import build_groups, check_groups
from optim.keras_style import KerasStyleMethods
from optim.options import Options, make_options
from optim.parameter_numbers import ParameterScalars
from optim.saving import state_dict as persistence
from optim.validation import check_bool, check_lr

__all__ = ["Optimizer"]

ParamsLike = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]] | None


class Optimizer(KerasStyleMethods):
    """Base class of the optimizers.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict, or None
        The tensors to optimise (``model.parameters()``, or
        ``model.named_parameters()`` to give them names for ``pattern_lrs``
        and ``exclude_from_weight_decay``), or parameter groups: dictionaries
        with a ``"params"`` list and the hyperparameters that differ from the
        defaults (PyTorch style). ``None`` defers binding to the first
        :meth:`apply_gradients` call (Keras style).
    defaults : dict
        Hyperparameters of every group that does not override them, already
        validated by the subclass.
    convention : str
        Name of the convention, for the rules that depend on it.
    fused : bool or None, default False
        Keep parameters, gradients and state in flat buffers and update them
        all at once (PyTorch's keyword); same results, see :mod:`optim.fused`.
        None (PyTorch's default) means False.
    **options
        Optimizer-wide options (clipping, EMA, accumulation...): see
        :func:`optim.options.make_options`.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``"params"`` and hyperparameters.
    state : dict
        Per-parameter state, keyed by the parameter itself: ``"step"`` (the
        number of updates this parameter received) and the algorithm's arrays,
        on the parameter's device.
    iterations : int
        Number of updates applied. A schedule ``lr(k)`` is called with the
        number of calls so far (0 at the first), which equals ``iterations``
        unless gradients are accumulated.
    skipped_steps : int
        Number of calls dropped by ``nonfinite="skip"`` (they change nothing else).

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import Adam
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = mg.tensor(np.array([1.0, -1.0]))
    >>> opt.step()
    >>> opt.iterations, sorted(opt.state[w])
    (1, ['m', 'step', 'v'])
    """

    #: The rule that :func:`optim.functional.update_parameter` runs: "adam", "adamax" or "sgd" (set by subclasses).
    algorithm: str = ""
    #: Whether row-sparse gradients update lazily when ``lazy`` is not given (subclasses set it from the convention).
    lazy_default = False
    #: Whether :meth:`update_sparse` has a rule for ``sparse_update="uncorrected"`` (capreolus's; Adam's only).
    has_uncorrected_sparse_rule = False

    def __init__(self, params: ParamsLike, defaults: dict[str, Any], convention: str = "paper", /, *,
                 fused: bool | None = False, **options: Any) -> None:
        self.defaults = dict(defaults)
        self.convention = convention
        self.options: Options = make_options(convention, **options)
        if self.options.sparse_update == "uncorrected" and not self.has_uncorrected_sparse_rule:
            raise ValueError("sparse_update: 'uncorrected' (capreolus's AdamMultilr) is a rule of Adam and AMSGrad, "
                             f"not of {type(self).__name__}; use sparse_update='as_dense'")
        self.fused = False if fused is None else check_bool(fused, "fused")
        self._fused_engine = self._make_fused_engine() if self.fused else None
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.iterations = 0
        self.calls = 0
        self.skipped_steps = 0
        self.names: dict[int, str] = {}
        self.excluded_from_weight_decay: set[int] = set()
        self.weight_decay_exclusion_patterns: list[str] = []
        self._warned_unnamed = False
        self._warned_unnamed_for_patterns = False
        self.pipeline = pipeline.GradientPipeline(self.options)  # steps 1-3, with the accumulators
        self.weight_averages = WeightAverages(self.options)  # step 5, with the averages
        if params is not None:
            if isinstance(params, Tensor) or not isinstance(params, Iterable):
                got = f"a single Tensor of shape {params.shape}" if isinstance(params, Tensor) else repr(params)
                raise TypeError(f"params: expected an iterable of Tensors, (name, Tensor) pairs or dicts, got {got}")
            groups = list(params)
            if not groups:
                raise ValueError("params: got an empty list; expected at least one tensor")
            if not isinstance(groups[0], dict):
                groups = [{"params": groups}]
            self.param_groups.extend(self._build_groups(groups))

    # ----------------------------------------------------------------- subclass hooks
    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise one group's hyperparameters (subclasses extend it)."""
        group["lr"] = check_lr(group["lr"])
        return group

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The zero state of a parameter (subclasses add their arrays)."""
        return {"step": 0}

    def _make_fused_engine(self) -> Any:
        """The engine of ``fused=True`` (subclasses with a fused rule return :class:`optim.fused.FusedEngine`).

        The base class knows nothing of the fast path: this default refuses.
        """
        raise TypeError(
            f"fused: {type(self).__name__} has no fused path; fused=True is supported by Adam, AMSGrad, Adamax and SGD"
        )

    def check_call(self, triples: list[tuple[Tensor, dict[str, Any], Any]]) -> None:
        """Refuse, before anything changes, a call the rule would refuse for a reason of its own
        (``(param, group, gradient)`` triples; subclasses extend it)."""

    def check_groups(self, groups: Iterable[dict[str, Any]]) -> None:
        """Refuse, before anything changes, a group whose hyperparameters were made invalid through
        ``param_groups`` (:func:`optim.groups.check_groups`); every ``step`` and ``apply_gradients`` call
        checks the groups of its parameters, on both paths."""
        check_groups(groups, self.param_groups, self.defaults, self.validate_group)

    # ----------------------------------------------------------------- groups
    def _build_groups(self, groups: Sequence[Any]) -> list[dict[str, Any]]:
        """Validate new groups against each other and the existing ones, changing nothing."""
        built, names = build_groups(groups, self.param_groups, self.defaults, self.validate_group)
        self.names.update(names)
        return built

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from the defaults)."""
        self.param_groups.extend(self._build_groups([group]))

    def parameters(self) -> Iterator[Tensor]:
        """Every parameter, group by group."""
        for group in self.param_groups:
            yield from group["params"]

    def label(self, param: Tensor) -> str:
        """``parameter 3 ('0.weight')``: where ``param`` stands in the optimizer, and its name if it has one."""
        return parameter_numbers.label(self, param)

    def _decays(self, param: Tensor) -> bool:
        """Whether weight decay applies to ``param`` (see :func:`optim.parameter_numbers.decays`)."""
        return parameter_numbers.decays(self, param)

    def parameter_scalars(self, param: Tensor, group: dict[str, Any]) -> ParameterScalars:
        """The learning rate, step :math:`t` and weight decay of ``param`` for this call, on every path
        (see :func:`optim.parameter_numbers.parameter_scalars`)."""
        return parameter_numbers.parameter_scalars(self, param, group)

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter, as PyTorch's ``zero_grad`` does.

        Parameters
        ----------
        set_to_none : bool, default True
            ``True``: every ``p.grad`` becomes ``None``, so that a parameter the
            next loss leaves out gets no gradient and is not updated. ``False``:
            a gradient that exists is zeroed and a ``None`` stays ``None``. The
            reference path zeroes a Tensor or array in place when it may be
            written (see :func:`minigrad.autograd.zeroed_gradient`); with
            ``fused=True`` the gradient becomes the zero view of the parameter's
            slot of the flat gradient buffer, which the direct step reads in
            place (see :mod:`optim.fused.engine`). With ``fused=True`` and either
            value, ``backward`` adds the next gradients into that slot.
        """
        set_to_none = check_bool(set_to_none, "set_to_none")
        if self._fused_engine is not None:
            self._fused_engine.zero_grad(set_to_none)
            return
        for param in self.parameters():
            param.grad = None if set_to_none else zeroed_gradient(param.grad, param)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (``p.grad is not None``); return ``closure()``'s loss.

        With ``fused=True``, and every gradient still the view of the flat
        buffer that ``backward`` writes into (or that ``zero_grad(set_to_none=False)``
        handed out), the step goes straight to the kernels
        (:meth:`optim.fused.engine.FusedEngine.direct_step`); the result is the same.

        Parameters
        ----------
        closure : callable, optional
            As in PyTorch: called first, with gradient recording on (even inside
            ``no_grad``), to recompute the loss and its gradients; its value is
            returned. Without it, ``step`` returns None.
        """
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(f"closure: expected a callable that returns the loss, got {closure!r}")
            with enable_grad():
                loss = closure()
        if not self._direct_step():
            self._apply([(p, p.grad) for p in self.parameters() if p.grad is not None])
        return loss

    def _direct_step(self, pairs: list[tuple[Tensor, Any]] | None = None) -> bool:
        """With ``fused=True``: the engine's direct step, when every gradient lies in the flat buffer (``pairs``, if
        given, must pair every parameter with it); ``False``, having changed nothing, when it does not apply."""
        if self._fused_engine is None or not self._fused_engine.direct_step(pairs):
            return False
        self.iterations += 1
        self._after_update()
        return True

    def _apply(self, pairs: list[tuple[Tensor, Any]]) -> None:
        """Check every gradient, then run the pipeline; an error leaves everything unchanged."""
        if not pairs:
            return
        owner = {id(p): group for group in self.param_groups for p in group["params"]}
        checked = []
        for param, grad in pairs:
            if id(param) not in owner:
                shape = getattr(param, "shape", "?")
                raise ValueError(f"grads_and_vars: a parameter of shape {shape} is not optimised by this optimizer")
            checked.append((param, owner[id(param)], pipeline.gradient_array(grad, param)))
        self.check_groups(group for _, group, _ in checked)
        scalars = {id(param): self.parameter_scalars(param, group) for param, group, _ in checked}
        self.check_call(checked)
        keep_rows = self.lazy or self.options.sparse_update == "uncorrected"
        ready = self.pipeline.prepare(checked, self.calls, keep_rows, self.label)
        if ready is pipeline.SKIPPED:  # nonfinite="skip": the call changes nothing but this count
            self.skipped_steps += 1
            return
        if ready is not None:
            if self._fused_engine is not None:  # fused=True: all the parameters at once
                self._fused_engine.step(ready, scalars)
            else:
                for param, group, grad in ready:
                    self._update_one(param, group, grad, scalars[id(param)])
            self.iterations += 1
        self._after_update()

    def _after_update(self) -> None:
        """The end of every call that was not skipped: the moving averages, then the call count."""
        self.weight_averages.update(self.parameters(), self.calls)
        self.calls += 1

    def _update_one(self, param: Tensor, group: dict[str, Any], grad: Any, scalars: ParameterScalars) -> None:
        """Step 4 on the reference path: :func:`optim.functional.update_parameter` with the parameter's
        state, created at its first update (whole arrays, or the rows of a row-sparse gradient)."""
        state = self.state.get(param)
        if state is None:
            state = self.state[param] = self.init_state(param, group)
        pipeline.follow_device(state, param)
        state["step"] += 1
        functional.update_parameter(self.algorithm, param.data, grad, state, group, *scalars,
                                    power_dtype=self.options.power_dtype, lazy=self.lazy,
                                    sparse_update=self.options.sparse_update)

    @property
    def lazy(self) -> bool:
        """Whether row-sparse gradients update only their rows: the ``lazy`` option, else the convention's."""
        return self.lazy_default if self.options.lazy is None else self.options.lazy

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: hyperparameters, per-parameter state (copied), counters."""
        return persistence.optimizer_state_dict(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; everything is validated first and nothing changes on refusal."""
        persistence.load_optimizer_state_dict(self, state_dict)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        n = sum(len(group["params"]) for group in self.param_groups)
        return f"{type(self).__name__}({n} parameter(s) in {len(self.param_groups)} group(s), {settings})"

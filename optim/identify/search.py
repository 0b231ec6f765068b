"""Finding the candidates that reproduce a trajectory, in bounded memory and reasonable time.

The steps are streamed: each candidate keeps only its moments and the parameter of the step at
hand, never a trajectory. Candidates that compute the same numbers (``paper`` and ``pytorch`` for
plain Adam, say) share one replay. On a large parameter the candidates are first replayed on a
fixed random sample of coordinates (:data:`SAMPLE_SIZE`); a candidate stops at its first mismatch.
The survivors, and the closest of the others, are then replayed on every coordinate (again stopping
at the first mismatch), so a match is always confirmed on all of them, and the closest near misses
get the exact step where they part.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from optim.identify.candidates import ALGORITHMS, CandidateSet, Hyperparameters, RuleSettings, build_candidates
from optim.identify.replay import Replay, Tracker
from optim.identify.report import CandidateResult, IdentifyReport
from optim.identify.trajectory import Trajectory, check_trajectory
from optim.validation import check_betas, check_bool, check_choice, check_nonnegative

__all__ = ["NEAR_MISSES", "SAMPLE_SIZE", "Request", "identify", "prepare", "run"]

#: The coordinates replayed first, when the parameter has more.
SAMPLE_SIZE = 4096
#: The closest non-matching candidates located exactly on every coordinate.
NEAR_MISSES = 3

ProgressCallback = Callable[[str, int, int], None]
"""``progress(phase, step, steps)``: called after every step of every pass."""


@dataclasses.dataclass(frozen=True)
class Request:
    """A checked call: the trajectory, the algorithm, what was given, and the candidates to replay."""

    trajectory: Trajectory
    algorithm: str
    given: Hyperparameters
    candidates: CandidateSet


def prepare(initial: Any, grads: Any, params: Any, algorithm: str = "adam", lr: float | None = None,
            betas: tuple[float, float] | None = None, eps: float | None = None, weight_decay: float = 0.0,
            maximize: bool = False) -> Request:
    """Check every argument (see :func:`optim.identify`) and list the candidates; nothing is replayed yet."""
    check_choice(algorithm, "algorithm", tuple(ALGORITHMS))
    given = Hyperparameters(
        lr=None if lr is None else check_nonnegative(lr, "lr"),
        betas=None if betas is None else check_betas(betas),
        eps=None if eps is None else check_nonnegative(eps, "eps"),
        weight_decay=check_nonnegative(weight_decay, "weight_decay"),
        maximize=check_bool(maximize, "maximize"),
    )
    trajectory = check_trajectory(initial, grads, params)
    candidates = build_candidates(algorithm, given, trajectory.dtype)
    if not candidates.candidates:
        reasons = "; ".join(f"{name}: {why}" for name, why in candidates.skipped)
        raise ValueError(f"no candidate can run: {reasons}")
    return Request(trajectory, algorithm, given, candidates)


def run(request: Request, progress: ProgressCallback | None = None, sample_size: int = SAMPLE_SIZE) -> IdentifyReport:
    """Replay every candidate of ``request`` and rank them (see the module docstring)."""
    trajectory = request.trajectory
    settings: dict[tuple[Any, ...], RuleSettings] = {}
    for candidate in request.candidates.candidates:
        settings.setdefault(candidate.settings.key(trajectory.dtype), candidate.settings)
    sampled: set[tuple[Any, ...]] = set()
    if trajectory.size > sample_size:
        columns = np.sort(np.random.default_rng(0).choice(trajectory.size, size=sample_size, replace=False))
        phase = f"screening {len(settings)} replays on {sample_size} of {trajectory.size} coordinates"
        trackers = _run_pass(trajectory, settings, columns, progress, phase)
        closest = sorted((key for key in settings if trackers[key].parted_at is not None),
                         key=lambda key: (-trackers[key].parted_at, trackers[key].parting_ratio))[:NEAR_MISSES]
        again = [key for key in settings if trackers[key].parted_at is None] + closest
        phase = f"confirming {len(again)} replays on all {trajectory.size} coordinates"
        confirmed = _run_pass(trajectory, {key: settings[key] for key in again}, None, progress, phase)
        sampled = set(settings) - set(again)
        for key in sampled:
            trackers[key].parting_index = int(columns[trackers[key].parting_index])
        trackers.update(confirmed)
    else:
        phase = f"replaying {len(settings)} candidates"
        trackers = _run_pass(trajectory, settings, None, progress, phase)
    return _report(request, trackers, sampled, sample_size)


def identify(initial: Any, grads: Any, params: Any, algorithm: str = "adam", lr: float | None = None,
             betas: tuple[float, float] | None = None, eps: float | None = None, weight_decay: float = 0.0,
             maximize: bool = False, *, progress: ProgressCallback | None = None,
             sample_size: int = SAMPLE_SIZE) -> IdentifyReport:
    """Which convention, and which choices, reproduce a recorded trajectory.

    Parameters
    ----------
    initial : array
        The parameter before the first step (any shape), float32 or float64, finite.
    grads, params : array or StepRows
        Shape ``(T, *initial.shape)``, ``initial``'s dtype: the gradient fed at each step and the
        parameter after it. A memory-mapped array, or the rows of a run file
        (:func:`optim.identify.npz.load_run`), is read one step at a time.
    algorithm : {"adam", "amsgrad", "adamax"}
        What the framework ran.
    lr, betas, eps : optional
        The hyperparameters used; each one not given is taken from every candidate convention's
        defaults (and the report says so).
    weight_decay : float, default 0
        :math:`\\lambda` (L2 or decoupled, as each candidate says).
    maximize : bool, default False
        Whether the run ascended.
    progress : callable, optional
        ``progress(phase, step, steps)``, called after every step; the function itself prints nothing.
    sample_size : int
        How many coordinates the first pass replays when the parameter has more.

    Returns
    -------
    IdentifyReport
        ``report.matches``, ``report.best``, ``print(report)`` for the ranked table, ``report.to_dict()``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (named in the message), raised before anything is replayed.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import Adam, identify
    >>> rng = np.random.default_rng(0)
    >>> grads = rng.standard_normal((6, 3))
    >>> x = mg.tensor(np.zeros(3), requires_grad=True)
    >>> opt = Adam([x], lr=0.01, convention='keras')
    >>> params = []
    >>> for g in grads:
    ...     x.grad = mg.tensor(g)
    ...     opt.step()
    ...     params.append(x.numpy().copy())
    >>> report = identify(np.zeros(3), grads, np.array(params), lr=0.01)
    >>> report.best.convention in {c.convention for c in report.matches}, report.best.matched
    (True, True)
    """
    request = prepare(initial, grads, params, algorithm, lr, betas, eps, weight_decay, maximize)
    return run(request, progress, sample_size)


def _run_pass(trajectory: Trajectory, settings: dict[tuple[Any, ...], RuleSettings], columns: np.ndarray | None,
              progress: ProgressCallback | None, phase: str) -> dict[tuple[Any, ...], Tracker]:
    """Replay ``settings`` on ``columns`` (all coordinates when None), each until its first mismatch."""
    size = trajectory.size if columns is None else len(columns)
    replays = {key: Replay(rule, size, trajectory.dtype) for key, rule in settings.items()}
    active = list(replays)
    before = trajectory.initial if columns is None else trajectory.initial[columns]
    for step, grad, param in trajectory.iter_steps():
        if not active:
            break
        if columns is not None:
            grad, param = grad[columns], param[columns]
        active = [key for key in active if replays[key].advance(step, before, grad, param)]
        before = param
        if progress is not None:
            progress(phase, step, trajectory.steps)
    return {key: replay.tracker for key, replay in replays.items()}


def _tolerance_words(dtype: np.dtype) -> str:
    tau = "16 x 2^-23 (16 units in the last place)" if dtype == np.float32 else "1e-12"
    return (f"|replayed - recorded| <= {tau} x max(|before|, |after|, lr) at every coordinate, "
            "each step replayed from the recorded parameter before it")


def _report(request: Request, trackers: dict[tuple[Any, ...], Tracker], sampled: set[tuple[Any, ...]],
            sample_size: int) -> IdentifyReport:
    trajectory = request.trajectory
    results = []
    for candidate in request.candidates.candidates:
        key = candidate.settings.key(trajectory.dtype)
        tracker = trackers[key]
        parted = tracker.parted_at is not None
        results.append((candidate.order, CandidateResult(
            candidate.convention, candidate.overrides, candidate.description, candidate.defaults,
            candidate.keywords, matched=not parted, steps_compared=tracker.steps,
            coordinates=sample_size if key in sampled else trajectory.size, sampled=key in sampled,
            max_abs_diff=tracker.max_abs, max_rel_diff=tracker.max_rel, max_ratio=tracker.max_ratio,
            parted_at=tracker.parted_at,
            parting_index=tuple(int(i) for i in np.unravel_index(tracker.parting_index, trajectory.shape))
            if parted else None,
            parting_abs_diff=tracker.parting_abs if parted else None,
            parting_ratio=tracker.parting_ratio if parted else None,
        )))
    results.sort(key=lambda item: _rank(*item))
    given = request.given
    shown = {"lr": given.lr, "betas": given.betas, "eps": given.eps}
    shown = {name: value for name, value in shown.items() if value is not None}
    shown.update(weight_decay=given.weight_decay, maximize=given.maximize)
    return IdentifyReport(
        algorithm=request.algorithm, dtype=str(trajectory.dtype), shape=trajectory.shape, steps=trajectory.steps,
        given=shown, tolerance=_tolerance_words(trajectory.dtype), results=tuple(result for _, result in results),
        unobservable=_unobservable_words(request.candidates), skipped=tuple(
            f"{name} ({why})" for name, why in request.candidates.skipped),
    )


def _rank(order: int, result: CandidateResult) -> tuple[Any, ...]:
    """Matches first, the closest first and, at equal distance, the one with fewest changes to its convention (a
    convention as it is before a convention with an override); then the near misses, the latest parting first."""
    if result.matched:
        return (0, result.max_ratio, len(result.overrides), order)
    return (1, -result.parted_at, result.parting_ratio, order)


def _unobservable_words(candidates: CandidateSet) -> tuple[str, ...]:
    by_choice: dict[str, list[str]] = defaultdict(list)
    for convention, choice, value in candidates.unobservable:
        by_choice[f"{choice}={value!r}"].append(convention)
    return tuple(f"{choice} ({', '.join(conventions)})" for choice, conventions in by_choice.items())

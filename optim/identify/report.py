"""The answer of :func:`optim.identify`: every candidate's result, ranked, as a table and as JSON.

Candidates that match come first (the smallest difference first; candidates that compute the same
numbers tie and are all listed), then the others, the one that agrees longest first (then the one
that parts by the least). For each, the report gives the largest differences seen and, for those
that part, the step and the coordinate where they part and by how much.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["CandidateResult", "IdentifyReport"]


@dataclasses.dataclass(frozen=True)
class CandidateResult:
    """One candidate against the trajectory.

    Attributes
    ----------
    convention, overrides, description, defaults, keywords
        The candidate (see :class:`optim.identify.candidates.Candidate`).
    matched : bool
        Whether it agrees with every parameter of every step, to the data's rounding.
    steps_compared : int
        The steps compared (up to the step where it parts).
    coordinates : int
        The coordinates compared: all of them, or the sample that ruled the candidate out.
    sampled : bool
        Whether ``coordinates`` is a sample; then the candidate may part earlier on the others.
    max_abs_diff, max_rel_diff : float
        The largest :math:`|\\tilde\\theta_t - \\theta_t|`, absolute and relative to
        :math:`\\max(|\\theta_{t-1}|, |\\theta_t|, \\alpha)`, over the steps compared.
    max_ratio : float
        ``max_rel_diff`` in units of the tolerance (a match has at most 1).
    parted_at : int or None
        The first step (counting from 1) where it disagrees; None for a match.
    parting_index : tuple of int or None
        The coordinate of ``initial`` where it disagrees most at that step.
    parting_abs_diff, parting_ratio : float or None
        The difference there, absolute and in units of the tolerance.
    """

    convention: str
    overrides: dict[str, Any]
    description: str
    defaults: tuple[str, ...]
    keywords: dict[str, Any]
    matched: bool
    steps_compared: int
    coordinates: int
    sampled: bool
    max_abs_diff: float
    max_rel_diff: float
    max_ratio: float
    parted_at: int | None = None
    parting_index: tuple[int, ...] | None = None
    parting_abs_diff: float | None = None
    parting_ratio: float | None = None

    def summary(self, name: str | None = None) -> str:
        """One line: the candidate (or ``name``), and whether it matches or where it parts."""
        name = self.description if name is None else name
        if self.matched:
            return f"{name}: matches (largest difference {self.max_ratio:.2g} x tolerance)"
        sample = f" (on a sample of {self.coordinates} coordinates)" if self.sampled else ""
        agreed = self.parted_at - 1
        agrees = "" if agreed == 0 else f"agrees for {agreed} step{'s' if agreed > 1 else ''}, "
        return (f"{name}: {agrees}parts at step {self.parted_at} at coordinate {self.parting_index} by "
                f"{self.parting_abs_diff:.3g} ({self.parting_ratio:.3g} x tolerance){sample}")

    def parting(self) -> tuple[Any, ...]:
        """Where and by how much it parts: equal for candidates that part identically."""
        return (self.parted_at, self.parting_index, self.parting_abs_diff, self.parting_ratio, self.sampled)

    def to_dict(self) -> dict[str, Any]:
        """The fields, JSON-serialisable (non-finite numbers as the strings ``"inf"`` and ``"nan"``)."""
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class IdentifyReport:
    """Which convention and choices reproduce a trajectory (see :func:`optim.identify`).

    Attributes
    ----------
    algorithm, dtype : str
        What was replayed, on what data.
    shape : tuple of int
        The parameter's shape.
    steps : int
        The number of steps recorded.
    given : dict
        The hyperparameters the caller gave; the others came from each convention's defaults.
    tolerance : str
        The test of agreement, in words.
    results : tuple of CandidateResult
        Every candidate, ranked.
    unobservable : tuple of str
        The changed choices that compute exactly as their convention on this data (not candidates).
    skipped : tuple of str
        Candidates that could not run, and why.
    """

    algorithm: str
    dtype: str
    shape: tuple[int, ...]
    steps: int
    given: dict[str, Any]
    tolerance: str
    results: tuple[CandidateResult, ...]
    unobservable: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def best(self) -> CandidateResult:
        """The first-ranked candidate: the closest match, or, when none matches, the closest near miss."""
        return self.results[0]

    @property
    def matches(self) -> tuple[CandidateResult, ...]:
        """Every candidate that reproduces the trajectory to the data's rounding (ties included)."""
        return tuple(result for result in self.results if result.matched)

    @property
    def near_misses(self) -> tuple[CandidateResult, ...]:
        """The three closest candidates that do not match."""
        return tuple(result for result in self.results if not result.matched)[:3]

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report, JSON-serialisable."""
        return {
            "algorithm": self.algorithm, "dtype": self.dtype, "shape": list(self.shape), "steps": self.steps,
            "given": _plain(self.given), "tolerance": self.tolerance,
            "matches": [result.description for result in self.matches],
            "best": self.best.to_dict(),
            "results": [result.to_dict() for result in self.results],
            "unobservable": list(self.unobservable), "skipped": list(self.skipped),
        }

    def __str__(self) -> str:
        return "\n".join(self._header() + self._table() + self._footer())

    def _header(self) -> list[str]:
        given = ", ".join(f"{name} {value!r}" for name, value in self.given.items())
        missing = [name for name in ("lr", "betas", "eps") if name not in self.given]
        lines = [f"{self.algorithm}, {self.steps} steps of a {self.dtype} parameter of shape {self.shape}; "
                 f"given: {given or 'nothing'}"]
        if missing:
            lines.append(f"not given, so each candidate uses its convention's default: {', '.join(missing)}")
        lines.append(f"a match agrees at every step: {self.tolerance}")
        return lines + [""]

    def _table(self) -> list[str]:
        width = max(len(result.description) for result in self.results)
        header = f"{'rank':>4}  {'candidate':<{width}}  {'result':<15} {'max |diff|':>10} {'x tol':>8}"
        lines = [header, "-" * len(header)]
        for rank, result in enumerate(self.results, start=1):
            verdict = "MATCH" if result.matched else f"parts at {result.parted_at}"
            ratio = result.max_ratio if result.matched else result.parting_ratio
            lines.append(f"{rank:>4}  {result.description:<{width}}  {verdict:<15} {result.max_abs_diff:>10.3g} "
                         f"{ratio:>8.3g}")
        return lines

    def _near_miss_lines(self, count: int = 3) -> list[str]:
        """The closest non-matching candidates, those that part identically on one line, ``count`` lines."""
        groups: list[list[CandidateResult]] = []
        for result in self.results:
            if result.matched:
                continue
            if groups and groups[-1][0].parting() == result.parting():
                groups[-1].append(result)
            elif len(groups) == count:
                break
            else:
                groups.append([result])
        return [_group_line(group) for group in groups]

    def _footer(self) -> list[str]:
        lines = [""]
        if self.matches:
            names = [result.description for result in self.matches]
            lines.append(f"matches ({len(names)}): " + "; ".join(names))
            keywords = dict(self.best.keywords)
            lines.append(f"reproduce with optim.{keywords.pop('class')}(params, "
                         + ", ".join(f"{name}={value!r}" for name, value in keywords.items()) + ")")
        lines.append("the closest that do not match:" if self.matches else "no candidate matches; the closest:")
        lines += [f"  {line}" for line in self._near_miss_lines()]
        if self.unobservable:
            lines.append("not observable here (each computes exactly as its convention): "
                         + "; ".join(self.unobservable))
        if self.skipped:
            lines.append("not run: " + "; ".join(self.skipped))
        return lines


def _group_line(group: list[CandidateResult]) -> str:
    names = "; ".join(result.description for result in group[:2])
    if len(group) > 2:
        names += f" (and {len(group) - 2} more that part identically)"
    return group[0].summary(names)


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and non-finite floats as strings, for JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value

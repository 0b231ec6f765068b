"""The fused CPU kernels as NumPy ufuncs: the traced rules of :mod:`optim.rules`, one in-place ufunc per operation.

:mod:`optim.fused.cpu` runs a kernel on chunks of the flat buffers of the
fused path, a few hundred kilobytes per array. The kernels execute the
program that :func:`optim.rule_trace.trace` records from the rule (the same
function the reference path runs on whole arrays): each operation is a ufunc
with ``out=``, in the rule's order, in the parameter's dtype, with the numbers
of :func:`optim.step_scalars.step_scalars`, so the fused path gives the same
bits as the reference. :func:`compile_program` assigns each intermediate
value a place: the array it updates when it is that array's new value, an
array whose old value is no longer needed, or one of a few scratch buffers.
The first pass over a chunk brings it from memory, the next ones find it in
the cache, and it goes back to memory once. About a dozen passes per chunk
still cost more than one pass over memory; the compiled kernels of
:mod:`optim.fused.jit` do the same in one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from optim import rule_trace
from optim.fma import fma
from optim.rules import AdamaxChoices, AdamChoices, SgdChoices
from optim.step_scalars import RuleStep, Scalars

__all__ = ["UFUNCS", "UfuncProgram", "adam_chunk", "adamax_chunk", "compile_program", "run_program", "sgd_chunk"]

def _fma_into(a: Any, b: Any, c: Any, out: np.ndarray) -> None:
    """:func:`optim.fma.fma` written into ``out`` (NumPy has no fma ufunc)."""
    np.copyto(out, fma(a, b, c))


#: The ufunc of each operation of :data:`optim.rule_trace.OPERATIONS` (for fma, a function that takes ``out=``).
UFUNCS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
          "negative": np.negative, "absolute": np.absolute, "sqrt": np.sqrt, "maximum": np.maximum,
          "fma": _fma_into}


@dataclasses.dataclass(frozen=True)
class UfuncProgram:
    """A traced rule as ufunc calls on places: the first ``arrays`` arrays of the rule (in its order), then
    ``scratch`` scratch buffers, then the fields of a :class:`~optim.step_scalars.Scalars`. Each step is
    ``(ufunc, operand places, out place)``; ``copies`` move a new value that could not be computed in its array
    (or that is the gradient's, as SGD's first momentum buffer), ``(from place, to place)``, at the end."""

    steps: tuple[tuple[Callable[..., Any], tuple[int, ...], int], ...]
    copies: tuple[tuple[int, int], ...]
    arrays: int
    scratch: int


def compile_program(program: rule_trace.Program) -> UfuncProgram:
    """Assign every value of ``program`` a place, reusing places whose value is no longer needed.

    An array's new value is computed in the array itself when the array's old
    value (and whatever else was put there) is no longer needed; otherwise in a
    scratch buffer, and copied at the end. Other values go where an operand
    that is not needed afterwards was (an in-place ufunc), else to a free
    scratch buffer. The gradient is never written.
    """
    arrays = program.arrays
    target = dict(zip(program.results, (arrays.index(name) for name in program.updated)))
    produced = {operation.result for operation in program.operations}
    read_only = set(arrays) - set(program.updated)  # the gradient: SGD's first buffer may be a copy of it
    for name, result in zip(program.updated, program.results):
        computed_or_unchanged = result in produced or result == name or result in read_only
        if not computed_or_unchanged or program.results.count(result) > 1:
            raise ValueError(f"the program must give {name} a value of its own, got {result!r}")
    kept = set(program.results)  # needed at the end, in their array or for the copy there
    last_use = {}
    for index, operation in enumerate(program.operations):
        for operand in operation.operands:
            last_use[operand] = index
    place = {name: index for index, name in enumerate(arrays)}
    holder: list[str | None] = list(arrays)  # the value each place holds; None when free
    writable = {arrays.index(name) for name in program.updated}
    scratch: list[int] = []  # the scratch places, beyond the arrays
    steps = []
    for index, operation in enumerate(program.operations):
        dying = [place[name] for name in operation.operands
                 if name in place and last_use[name] == index and name not in kept]
        for freed in dying:
            holder[freed] = None
        out = _choose_place(target.get(operation.result), dying, holder, writable, scratch)
        holder[out] = operation.result
        place[operation.result] = out
        steps.append((operation, out))
        if operation.result not in last_use and operation.result not in kept:
            holder[out] = None  # a value nothing reads
    copies = tuple((place[result], target[result]) for result in program.results
                   if (result in produced or result in read_only) and place[result] != target[result])
    scalar_place = {name: len(holder) + index for index, name in enumerate(Scalars._fields)}
    resolved = []
    for operation, out in steps:
        operands = tuple(place[name] if name in place else scalar_place[name] for name in operation.operands)
        resolved.append((UFUNCS[operation.name], operands, out))
    return UfuncProgram(tuple(resolved), copies, len(arrays), len(scratch))


def _choose_place(target: int | None, dying: list[int], holder: list[str | None], writable: set[int],
                  scratch: list[int]) -> int:
    """The place for a new value: its array if it is an array's new value and the array is free, else a
    writable place of a dying operand (not for an array's new value: it must not take another array's
    place), else a free scratch buffer, else a new one."""
    if target is not None and holder[target] is None:
        return target
    if target is None:
        for candidate in dying:
            if candidate in writable or candidate in scratch:
                return candidate
    for candidate in scratch:
        if holder[candidate] is None:
            return candidate
    holder.append(None)
    scratch.append(len(holder) - 1)
    return scratch[-1]


def run_program(program: UfuncProgram, arrays: tuple[np.ndarray | None, ...], scalars: Scalars,
                scratch: tuple[np.ndarray, ...]) -> None:
    """Run ``program`` in place on the first ``program.arrays`` of ``arrays`` (the rule's, in its order), with
    ``scratch`` buffers of their length and the numbers ``scalars``."""
    if len(scratch) < program.scratch:
        raise ValueError(f"scratch: the program needs {program.scratch} buffers, got {len(scratch)}")
    places = (*arrays[:program.arrays], *scratch[:program.scratch], *scalars)
    for ufunc, operands, out in program.steps:
        ufunc(*(places[operand] for operand in operands), out=places[out])
    for source, destination in program.copies:
        np.copyto(places[destination], places[source])


@functools.cache
def _program(choices: AdamChoices | AdamaxChoices | SgdChoices) -> UfuncProgram:
    """The ufunc program of the rule of ``choices``, compiled once per process."""
    return compile_program(rule_trace.trace(choices))


def adam_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None,
               step: RuleStep, *scratch: np.ndarray) -> None:
    """The Adam or AMSGrad rule of ``step.choices`` on one chunk, in place; ``scratch`` are scratch buffers
    (three suffice for every rule). ``v_max`` is ignored without AMSGrad."""
    run_program(_program(step.choices), (param, grad, m, v, v_max), step.scalars, scratch)


def adamax_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, u: np.ndarray, step: RuleStep,
                 *scratch: np.ndarray) -> None:
    """The AdaMax rule of ``step.choices`` on one chunk, in place; ``scratch`` are scratch buffers."""
    run_program(_program(step.choices), (param, grad, m, u), step.scalars, scratch)


def sgd_chunk(param: np.ndarray, grad: np.ndarray, buffer: np.ndarray | None, step: RuleStep,
              *scratch: np.ndarray) -> None:
    """The SGD rule of ``step.choices`` on one chunk, in place; ``buffer`` (the momentum) is None without momentum."""
    run_program(_program(step.choices), (param, grad, buffer), step.scalars, scratch)

"""A rule of :mod:`optim.rules` as a straight-line program, recorded by running it on symbolic values.

:func:`trace` calls the rule once with a :class:`Value` for each array and
each number it reads; every operation on a Value (``+ - * /``, unary ``-``,
``abs``, and ``sqrt``, ``maximum`` and ``fma`` through the tracer's
:class:`~optim.rules.Ops`) appends an :class:`Operation` to the record and
returns a new Value. The result is the rule's arithmetic for one element, in
the order the rule computes it, with nothing added: :mod:`optim.fused.ufunc`
runs it as ufuncs over chunks and :mod:`optim.fused.gpu` writes it as CUDA C.
A rule may not branch on a value, nor use a number that does not come from
its scalars: the tracer refuses both.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from optim import rules

__all__ = ["OPERATIONS", "Operation", "Program", "Value", "trace"]

#: The operations a rule may use: name -> number of operands.
OPERATIONS = {"add": 2, "subtract": 2, "multiply": 2, "divide": 2, "negative": 1, "absolute": 1, "sqrt": 1,
              "maximum": 2, "fma": 3}


@dataclasses.dataclass(frozen=True)
class Operation:
    """``result = name(*operands)``; operands and result are the names of values."""

    name: str
    operands: tuple[str, ...]
    result: str


@dataclasses.dataclass(frozen=True)
class Program:
    """The record of one rule.

    ``arrays`` are the rule's array arguments in order (``"param"``, ``"grad"``,
    then the state); ``updated`` those it returns new values for (all but
    ``"grad"``), and ``results`` the name of each new value. ``scalars`` are the
    numbers it reads, in the order of first use; ``operations`` produce the
    values ``t0``, ``t1``... in order.
    """

    arrays: tuple[str, ...]
    updated: tuple[str, ...]
    scalars: tuple[str, ...]
    operations: tuple[Operation, ...]
    results: tuple[str, ...]


class _Tape:
    """The operations recorded so far and the numbers read."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.scalars: list[str] = []

    def record(self, name: str, *operands: Any) -> Value:
        for operand in operands:
            if not isinstance(operand, Value):
                raise TypeError(f"a rule takes its numbers from its scalars, got the constant {operand!r} in {name}")
        result = Value(f"t{len(self.operations)}", self)
        self.operations.append(Operation(name, tuple(operand.name for operand in operands), result.name))
        return result


class Value:
    """A symbolic element: an array's element, a number of the scalars, or the result of an operation."""

    __slots__ = ("name", "tape")

    def __init__(self, name: str, tape: _Tape) -> None:
        self.name = name
        self.tape = tape

    def __add__(self, other: Any) -> Value:
        return self.tape.record("add", self, other)

    def __radd__(self, other: Any) -> Value:
        return self.tape.record("add", other, self)

    def __sub__(self, other: Any) -> Value:
        return self.tape.record("subtract", self, other)

    def __rsub__(self, other: Any) -> Value:
        return self.tape.record("subtract", other, self)

    def __mul__(self, other: Any) -> Value:
        return self.tape.record("multiply", self, other)

    def __rmul__(self, other: Any) -> Value:
        return self.tape.record("multiply", other, self)

    def __truediv__(self, other: Any) -> Value:
        return self.tape.record("divide", self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return self.tape.record("divide", other, self)

    def __neg__(self) -> Value:
        return self.tape.record("negative", self)

    def __abs__(self) -> Value:
        return self.tape.record("absolute", self)

    def __bool__(self) -> bool:
        raise TypeError(f"a rule may not branch on a value ({self.name}): only on its formula choices")


class _Scalars:
    """The rule's ``s``: each attribute read is a named number, recorded once."""

    def __init__(self, tape: _Tape, arrays: tuple[str, ...]) -> None:
        self._tape = tape
        self._arrays = arrays

    def __getattr__(self, name: str) -> Value:
        if name.startswith("_") or name in self._arrays:
            raise AttributeError(f"a rule's scalars have no {name!r}")
        if name not in self._tape.scalars:
            self._tape.scalars.append(name)
        return Value(name, self._tape)


def _trace_maximum(a: Value, b: Value) -> Value:
    return a.tape.record("maximum", a, b)


def _trace_sqrt(a: Value) -> Value:
    return a.tape.record("sqrt", a)


def _trace_fma(a: Value, b: Value, c: Value) -> Value:
    return a.tape.record("fma", a, b, c)


def _as_is(function: Any) -> Any:
    return function


#: The operations of :class:`~optim.rules.Ops` on Values: each records itself.
TRACE_OPS = rules.Ops(sqrt=_trace_sqrt, maximum=_trace_maximum, inline=_as_is, fma=_trace_fma)


@functools.cache
def trace(choices: rules.AdamChoices | rules.AdamaxChoices | rules.SgdChoices) -> Program:
    """The program of the rule of ``choices`` (built once per set of choices)."""
    rule = rules.make_rule(choices, TRACE_OPS)
    updated = ("param", *rules.state_names(choices))
    arrays = ("param", "grad", *updated[1:])
    tape = _Tape()
    outputs = rule(_Scalars(tape, arrays), *(Value(name, tape) for name in arrays))
    if len(outputs) != len(updated) or not all(isinstance(output, Value) for output in outputs):
        raise TypeError(f"the rule of {choices} must return a value for each of {updated}, got {outputs!r}")
    return Program(arrays, updated, tuple(tape.scalars), tuple(tape.operations),
                   tuple(output.name for output in outputs))

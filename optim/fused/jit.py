"""The fused CPU step in one pass: the rules of :mod:`optim.rules` compiled by Numba, element by element.

The ufunc kernels of :mod:`optim.fused.ufunc` make about a dozen passes over a
cache-sized chunk, one per operation, because a NumPy ufunc does one
operation. This module has `Numba <https://numba.readthedocs.io>`_ compile
the rule itself, the function that the reference path
(:mod:`optim.functional`) runs on whole arrays, into one loop over the
elements, in vectorised machine code: each element of the parameter, the
gradient and the state is read once and written once, so a step streams
memory once and runs close to the machine's memory bandwidth. The module has
no arithmetic of its own: it provides the rule's operations on numbers
(``np.sqrt``, and ``np.maximum``'s rule for NaN and ties) and the loop.

The rule's formula choices are constants of the compiled code and its numbers
(:func:`optim.step_scalars.step_scalars`) are scalars of the parameter's
dtype: IEEE arithmetic rounds each operation the same way in a loop as in a
ufunc, and Numba (without ``fastmath``) neither reorders nor fuses operations,
so the kernels give the same bits as the reference path
(``tests/test_fused_kernels.py`` checks it). The loops are compiled for
float32 and float64 on first use; float16 stays on the ufunc kernels.

Numba is optional (the ``fast`` extra). :func:`available` says whether it is
installed; :mod:`optim.fused.cpu` picks these kernels when it is. A compiled
loop does not report floating-point errors (an overflow gives inf, 0/0 gives
NaN, silently, as in PyTorch); under ``np.errstate`` set to ``"raise"`` or
``"call"``, :func:`optim.fused.cpu.kernel` therefore hands out the ufunc
kernels, which raise as the reference path does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from optim import rule_trace, rules
from optim.step_scalars import RuleStep

try:
    import numba
except ImportError:  # Numba is optional: the 'fast' extra
    numba = None

__all__ = ["DTYPES", "adam_chunk", "adamax_chunk", "available", "sgd_chunk"]

#: The dtypes the compiled kernels handle; others use the ufunc kernels.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def available() -> bool:
    """Whether Numba is installed, so that the one-pass kernels can run."""
    return numba is not None


def _nan_maximum(a: Any, b: Any) -> Any:
    """``np.maximum(a, b)`` for two float32 or float64 numbers: the larger one, NaN if either is NaN, and on a
    tie (``-0.0`` and ``+0.0``) the second, as NumPy keeps it for these dtypes."""
    if a != a or a > b:
        return a
    return b


def _fused_multiply_add(a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` rounded once: LLVM's ``llvm.fma`` intrinsic in compiled code (defined below)."""
    raise NotImplementedError("compiled by Numba only")


if numba is not None:
    from numba.extending import intrinsic

    _nan_maximum = numba.njit(inline="always")(_nan_maximum)

    @intrinsic
    def _fused_multiply_add(typing_context, a, b, c):  # the compiled form of the function above
        def codegen(context, builder, signature, arguments):
            return builder.fma(*arguments)

        return a(a, b, c), codegen


def _ops() -> rules.Ops:
    """The rules' operations on one element: ``np.sqrt`` (float32 stays float32), ``np.maximum``'s rule, LLVM's
    fused multiply-add (correctly rounded, as :func:`optim.fma.fma`), and helpers compiled to be inlined into the
    loop."""
    return rules.Ops(sqrt=np.sqrt, maximum=_nan_maximum, inline=numba.njit(inline="always"), fma=_fused_multiply_add)


def _loop_over_none(rule: Callable[..., tuple[Any, ...]]) -> Callable[..., None]:
    """The compiled one-pass loop of a rule without state arrays (plain SGD)."""

    def loop(s, param, grad):  # pragma: no cover - compiled by Numba
        for i in range(param.size):
            param[i] = rule(s, param[i], grad[i])[0]

    return _compile(loop)


def _loop_over_one(rule: Callable[..., tuple[Any, ...]]) -> Callable[..., None]:
    """The compiled one-pass loop of a rule with one state array (SGD with momentum: the buffer)."""

    def loop(s, param, grad, a):  # pragma: no cover - compiled by Numba
        for i in range(param.size):
            param[i], a[i] = rule(s, param[i], grad[i], a[i])

    return _compile(loop)


def _loop_over_two(rule: Callable[..., tuple[Any, ...]]) -> Callable[..., None]:
    """The compiled one-pass loop of a rule with two state arrays (Adam: m, v; AdaMax: m, u)."""

    def loop(s, param, grad, a, b):  # pragma: no cover - compiled by Numba
        for i in range(param.size):
            param[i], a[i], b[i] = rule(s, param[i], grad[i], a[i], b[i])

    return _compile(loop)


def _loop_over_three(rule: Callable[..., tuple[Any, ...]]) -> Callable[..., None]:
    """The compiled one-pass loop of a rule with three state arrays (AMSGrad: m, v, v_max)."""

    def loop(s, param, grad, a, b, c):  # pragma: no cover - compiled by Numba
        for i in range(param.size):
            param[i], a[i], b[i], c[i] = rule(s, param[i], grad[i], a[i], b[i], c[i])

    return _compile(loop)


def _compile(function: Callable[..., None]) -> Callable[..., None]:
    """Numba's ``njit``: without the GIL (the threads of ``fused_cpu.run_pieces`` run chunks at the same time),
    cached on disk, with NumPy's error model (a division by zero gives inf or nan instead of raising) and
    without ``fastmath``: the arithmetic stays IEEE, operation by operation, in order."""
    return numba.njit(nogil=True, cache=True, error_model="numpy")(function)


_loops: dict[rule_trace.Program, Callable[..., None]] = {}


@functools.cache
def _loop(choices: rules.AdamChoices | rules.AdamaxChoices | rules.SgdChoices) -> Callable[..., None]:
    """The compiled loop of the rule of ``choices``, built once per process (Numba compiles it per dtype on first
    use). Choice sets whose rules trace to the same program (AMSGrad's "max_corrected_v" ignores
    ``epsilon_mode``, for one) do the same arithmetic, and share one loop."""
    program = rule_trace.trace(choices)
    loop = _loops.get(program)
    if loop is None:
        rule = rules.make_rule(choices, _ops())
        loops = (_loop_over_none, _loop_over_one, _loop_over_two, _loop_over_three)
        loop = loops[len(rules.state_names(choices))](rule)
        _loops[program] = loop
    return loop


def adam_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None,
               step: RuleStep, *unused_scratch: Any) -> None:
    """:func:`optim.fused.ufunc.adam_chunk` in one compiled pass (the same arguments; it needs no scratch arrays)."""
    state = (m, v, v_max)[:len(rules.state_names(step.choices))]
    _loop(step.choices)(step.scalars, param, grad, *state)


def adamax_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, u: np.ndarray, step: RuleStep,
                 *unused_scratch: Any) -> None:
    """:func:`optim.fused.ufunc.adamax_chunk` in one compiled pass (the same arguments; it needs no scratch arrays)."""
    _loop(step.choices)(step.scalars, param, grad, m, u)


def sgd_chunk(param: np.ndarray, grad: np.ndarray, buffer: np.ndarray | None, step: RuleStep,
              *unused_scratch: Any) -> None:
    """:func:`optim.fused.ufunc.sgd_chunk` in one compiled pass (the same arguments; it needs no scratch arrays)."""
    state = (buffer,)[:len(rules.state_names(step.choices))]
    _loop(step.choices)(step.scalars, param, grad, *state)

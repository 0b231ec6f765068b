"""The fused GPU step: one CuPy kernel per flat buffer, generated from the rules of :mod:`optim.rules`.

Each element is independent, so a step is one :class:`cupy.ElementwiseKernel`
launch over the whole flat buffers of a :class:`~optim.fused.store.FlatStore`
(one per run of parameters that share their scalars; usually one). Every
element is read once and written once: the step moves the minimum number of
bytes. The kernel's source is not written by hand: :func:`kernel_source`
generates it from the program that :func:`optim.rule_trace.trace` records
from the rule (the function the reference path runs on whole arrays), one C
statement per operation, in the rule's order and in the parameter's
precision, with the formula choices fixed and the numbers of
:func:`optim.step_scalars.step_scalars` computed on the host. The kernels are
compiled with ``--fmad=false``, so that ``a * b + c`` is rounded twice, as the
separate CuPy operations of the reference path round it, and ``max``
propagates NaN as ``numpy.maximum`` does (:data:`PREAMBLE`). Supported dtypes:
float32 and float64. Without a GPU, ``tests/test_rule_codegen.py`` compiles
the same source as C++ and checks it bit for bit against the reference.

CuPy is optional: without it this module imports, and has nothing to do
(no parameter can live on a GPU).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import backend
from optim import rule_trace
from optim.rules import AdamaxChoices, AdamChoices, SgdChoices, state_names
from optim.step_scalars import RuleStep

__all__ = ["KERNELS", "PREAMBLE", "KernelSource", "adam_launch", "adamax_launch", "kernel_source", "run_pieces",
           "sgd_launch", "zeros"]

_OPTIONS = ("--fmad=false",)

#: Defined before every kernel: ``numpy.maximum`` for float32 and float64 (NaN wins; on a tie of -0.0 and +0.0
#: the second operand, as NumPy keeps it for these dtypes).
PREAMBLE = """
template <typename T> __device__ T nan_max(T a, T b) {
    return (a != a || a > b) ? a : b;
}
"""

#: The C form of each operation of :data:`optim.rule_trace.OPERATIONS`; the operands are names.
_C_FORMS = {"add": "{} + {}", "subtract": "{} - {}", "multiply": "{} * {}", "divide": "{} / {}",
            "negative": "-{}", "absolute": "fabs({})", "sqrt": "sqrt({})", "maximum": "nan_max({}, {})",
            "fma": "fma({}, {}, {})"}


@dataclasses.dataclass(frozen=True)
class KernelSource:
    """The parts of the :class:`cupy.ElementwiseKernel` of one rule, generated from its traced program.

    ``in_params`` are the gradient and then the numbers the rule reads, in the
    order of ``scalars``; ``out_params`` the arrays it updates, read and
    written in place; ``body`` one statement per operation, each rounded to
    ``T`` (float or double), then the new values stored.
    """

    name: str
    in_params: str
    out_params: str
    body: str
    scalars: tuple[str, ...]


@functools.cache
def kernel_source(choices: AdamChoices | AdamaxChoices | SgdChoices) -> KernelSource:
    """The CUDA C of the rule of ``choices``: its traced program (:func:`optim.rule_trace.trace`), one
    operation per line, in order."""
    program = rule_trace.trace(choices)
    lines = [f"T {operation.result} = {_C_FORMS[operation.name].format(*operation.operands)};"
             for operation in program.operations]
    lines += [f"{name} = {result};" for name, result in zip(program.updated, program.results) if result != name]
    read_only = [name for name in program.arrays if name not in program.updated]
    return KernelSource(
        name="_".join(str(value).lower() for value in ("optim", _rule_name(choices), *choices)),
        in_params=", ".join(f"T {name}" for name in (*read_only, *program.scalars)),
        out_params=", ".join(f"T {name}" for name in program.updated),
        body="\n".join(lines),
        scalars=program.scalars,
    )


def _rule_name(choices: AdamChoices | AdamaxChoices | SgdChoices) -> str:
    if isinstance(choices, SgdChoices):
        return "sgd"
    return "adamax" if isinstance(choices, AdamaxChoices) else "adam"


_kernels: dict[Any, Any] = {}


def _kernel(choices: AdamChoices | AdamaxChoices | SgdChoices) -> Any:
    """The :class:`cupy.ElementwiseKernel` of the rule of ``choices``, built on first use (CuPy compiles it
    for each dtype on its first launch), with ``--fmad=false``: ``a * b + c`` is rounded twice, as the
    separate CuPy operations of the reference path round it."""
    kernel = _kernels.get(choices)
    if kernel is not None:
        return kernel
    cupy = backend._cupy
    if cupy is None:
        raise RuntimeError("fused=True on a GPU needs CuPy; install the 'gpu' extra")
    source = kernel_source(choices)
    kernel = cupy.ElementwiseKernel(source.in_params, source.out_params, source.body, source.name,
                                    preamble=PREAMBLE, options=_OPTIONS, no_return=True)
    _kernels[choices] = kernel
    return kernel


def _launch(step: RuleStep, grad: Any, arrays: tuple[Any, ...]) -> None:
    """One launch of the kernel of ``step.choices`` over the flat slices ``arrays`` (the parameter, then the
    state), with the numbers of ``step`` as NumPy scalars of the parameter's dtype (the kernel's ``T``)."""
    numbers = [getattr(step.scalars, name) for name in kernel_source(step.choices).scalars]
    _kernel(step.choices)(grad, *numbers, *arrays)


def adam_launch(param: Any, grad: Any, m: Any, v: Any, v_max: Any | None, step: RuleStep) -> None:
    """One Adam/AMSGrad kernel launch over the flat slices (``v_max`` is ignored without AMSGrad)."""
    _launch(step, grad, (param, m, v, v_max)[:1 + len(state_names(step.choices))])


def adamax_launch(param: Any, grad: Any, m: Any, u: Any, step: RuleStep) -> None:
    """One AdaMax kernel launch over the flat slices."""
    _launch(step, grad, (param, m, u))


def sgd_launch(param: Any, grad: Any, buffer: Any | None, step: RuleStep) -> None:
    """One SGD kernel launch over the flat slices (``buffer``, the momentum, is None without momentum)."""
    _launch(step, grad, (param, buffer)[:1 + len(state_names(step.choices))])


KERNELS = {"adam": adam_launch, "adamax": adamax_launch, "sgd": sgd_launch}


def zeros(device: Any, size: int, dtype: Any) -> Any:
    """A flat zero buffer on the GPU ``device``; refuses the dtypes the kernels do not take (at binding)."""
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"fused=True on a GPU: supports float32 and float64 parameters, got dtype {np.dtype(dtype)}")
    cupy = backend._cupy
    with cupy.cuda.Device(device.index):
        return cupy.zeros(size, dtype)


def run_pieces(pieces: Sequence[Any]) -> None:
    """Launch the kernel of every piece (:class:`~optim.fused.cpu.Piece`) on its slice of the flat buffers."""
    for piece in pieces:
        if piece.stop <= piece.start:
            continue
        views = [None if array is None else array[piece.start:piece.stop] for array in piece.arrays]
        with backend._cupy.cuda.Device(views[0].device.id):
            piece.kernel(*views, piece.scalars)

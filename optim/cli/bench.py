"""``python -m optim bench``: time one optimizer step against the memory floor and PyTorch.

A step of Adam reads the parameter, gradient, :math:`m` and :math:`v` and
writes the parameter, :math:`m` and :math:`v`: 7 arrays, 28 bytes per float32
element (AMSGrad also reads and writes :math:`v^{\\max}`: 36 bytes; AdaMax has
:math:`u` for :math:`v`: 28 bytes). No implementation can beat those bytes over
the memory bandwidth of in-place streams. The command measures, in one run,
for each algorithm and shape (``ROWS x COLS``: ROWS parameters of COLS
elements):

* ``floor``: the bytes of the step at the best read-modify-write bandwidth of
  the machine (``a *= 1`` and, with Numba, the triad ``a += s * b``, in place,
  chunked over all the cores; bytes read plus bytes written), and
  ``floor (copy)``: the same bytes at the bandwidth of ``copyto``, which also
  reads its destination (write-allocate) without counting it; both streams
  are timed in the same rounds as the methods, so that they meet the same load;
* in the **plain loop** (``zero_grad()``, ``backward``, ``step()``; only the
  step is timed), the default rows: ``reference`` (minigrad, ``fused=False``),
  ``fused`` (``fused=True``: ``backward`` writes into the flat buffer and the
  step is direct; compiled kernels when Numba is installed), ``fused (ufunc
  kernels)`` (the NumPy kernels that run without Numba), and ``torch
  for-loop``, ``torch foreach``, ``torch fused`` (``torch.optim`` with
  ``foreach=False``, ``foreach=True``, ``fused=True``, when PyTorch is installed);
* with the **gradients kept** between steps (``--loops kept``), the rows of
  the earlier benchmark: the same methods with gradients set once (minigrad's
  fused rows written into the views ``zero_grad(set_to_none=False)`` hands
  out), and ``fused (general path)``, with a new gradient Tensor per parameter
  at every step, which the step checks and copies into the flat buffer.

See :mod:`optim.cli.bench_methods` for the loops. Every timing is the median of
the timed steps, taken in rounds that visit every method in turn, so that a
change in the machine's load hits all of them. Both libraries use the
``"pytorch"`` convention's rules, float32 by default.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
from typing import Any

import numpy as np

from minigrad import backend
from optim.cli import bench_methods
from optim.cli.bench_methods import ALGORITHMS, TORCH_MODES, Method, fastest_stream, measure, nothing
from optim.cli.types import nonnegative_int, positive_int
from optim.fused import cpu as fused_cpu
from optim.fused import jit as fused_jit

torch = bench_methods.torch

__all__ = ["DESCRIPTION", "add_arguments", "format_table", "goals", "main", "run_benchmark"]

DESCRIPTION = """\
Time one optimizer step in one run: the memory floor (the step's bytes at the measured in-place
read-modify-write bandwidth, and at the copy bandwidth), minigrad's reference path (fused=False),
its fused path (fused=True), and PyTorch's for-loop, foreach and fused implementations when torch
is installed, in the plain loop (zero_grad, backward, step; only step timed) and with the
gradients kept between steps. Shapes are ROWSxCOLS: ROWS parameters of COLS elements. The table
gives median milliseconds, effective GB/s, and the ratios to the floor and to torch fused; the
performance goals follow, each marked met or NOT met."""
ARRAYS_PER_STEP = {"adam": 7, "adamax": 7, "amsgrad": 9}  # arrays read + arrays written per element
CPU_SHAPES = ((1, 10_000_000), (1000, 10_000), (10_000, 1000))
GPU_SHAPES = ((1, 100_000_000),)
LOOPS = ("plain", "kept")
ARITHMETIC = "ufunc arithmetic (in cache)"


def _shape(text: str) -> tuple[int, int]:
    rows, _, cols = text.lower().partition("x")
    try:
        shape = (int(rows), int(cols))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS such as 1000x10000, got {text!r}") from None
    if min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected positive ROWS and COLS, got {text!r}")
    return shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m optim bench``."""
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to run (default cpu)")
    parser.add_argument("--shapes", type=_shape, nargs="+", metavar="ROWSxCOLS",
                        help="default: 1x10000000 1000x10000 10000x1000 on the CPU, 1x100000000 on a GPU")
    parser.add_argument("--algorithms", nargs="+", choices=sorted(ALGORITHMS), default=["adam", "adamax", "amsgrad"])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--steps", type=positive_int, default=5, help="timed steps per method and round (default 5)")
    parser.add_argument("--rounds", type=positive_int, default=3, help="rounds over all the methods (default 3)")
    parser.add_argument("--warmup", type=nonnegative_int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--loops", nargs="+", choices=LOOPS, default=list(LOOPS),
                        help="plain: zero_grad, backward, step (only step timed); kept: the gradients kept between "
                             "steps (default both)")


# ----------------------------------------------------------------------------- the methods
def _methods(algorithm: str, shape: tuple[int, int], loop: str, args: argparse.Namespace) -> dict[str, Method]:
    dtype, device = args.dtype, args.device
    methods = {
        "reference": bench_methods.minigrad_method(algorithm, shape, dtype, device, fused=False, loop=loop),
        "fused": bench_methods.minigrad_method(algorithm, shape, dtype, device, fused=True, loop=loop),
    }
    if device == "cpu" and fused_jit.available():  # "fused" runs the compiled kernels; show the ufuncs too
        prepare, step = bench_methods.minigrad_method(algorithm, shape, dtype, device, fused=True, loop=loop)
        methods["fused (ufunc kernels)"] = (prepare, bench_methods.with_kernels("ufunc", step))
    if loop == "kept":
        methods["fused (general path)"] = bench_methods.minigrad_method(algorithm, shape, dtype, device, fused=True,
                                                                        loop=loop, new_grads=True)
    torch_ready = torch is not None and not args.no_torch and (device == "cpu" or torch.cuda.is_available())
    for mode in TORCH_MODES if torch_ready else ():
        method = bench_methods.torch_method(algorithm, shape, dtype, device, mode, loop=loop)
        if method is not None:
            methods[mode] = method
    return methods


def _time(methods: dict[Any, Method], args: argparse.Namespace) -> dict[Any, float]:
    """The median seconds of each method's step, over rounds that visit every method in turn."""
    times: dict[Any, list[float]] = {key: [] for key in methods}
    for prepare, step in methods.values():
        measure(step, args.warmup, args.device, prepare)
    for _ in range(args.rounds):
        for key, (prepare, step) in methods.items():
            times[key] += measure(step, args.steps, args.device, prepare)
    return {key: statistics.median(values) for key, values in times.items()}


def run_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time every method for every algorithm, shape and loop; one row per (algorithm, shape, loop, method).

    The floors are memory streams over the step's elements (:func:`~optim.cli.bench_methods.fastest_stream`),
    timed in the same rounds as the methods, their times scaled to the step's bytes.
    """
    shapes = args.shapes or (GPU_SHAPES if args.device == "cuda" else CPU_SHAPES)
    itemsize = np.dtype(args.dtype).itemsize
    rows = []
    for algorithm in args.algorithms:
        for shape in shapes:
            size = shape[0] * shape[1]
            streams = {name: fastest_stream(size, args.dtype, args.device, max(5, args.steps), kind)
                       for name, kind in (("floor", "update"), ("floor (copy)", "copy"))}
            methods: dict[tuple[str, str], Method] = {("-", name): (nothing, run) for name, (run, _) in streams.items()}
            if args.device == "cpu":
                methods["-", ARITHMETIC] = (nothing, bench_methods.ufunc_arithmetic(algorithm, size, args.dtype))
            for loop in args.loops:
                for name, method in _methods(algorithm, shape, loop, args).items():
                    methods[loop, name] = method
            medians = _time(methods, args)
            step_bytes = ARRAYS_PER_STEP[algorithm] * itemsize * size
            for name, (_, stream_bytes) in streams.items():
                medians["-", name] *= step_bytes / stream_bytes
            floor = medians["-", "floor"]
            for (loop, name), seconds in medians.items():
                same_loop = {other: value for (where, other), value in medians.items() if where == loop}
                rows.append({"algorithm": algorithm, "shape": shape, "floor": floor, "bytes": step_bytes,
                             "loop": loop, "method": name, "seconds": seconds, "reference": same_loop,
                             "arithmetic": medians.get(("-", ARITHMETIC))})
            del methods
    return rows


# ----------------------------------------------------------------------------- report
def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table: median ms, effective GB/s, and the ratios to the floor and to torch fused
    (of the same loop)."""
    lines = ["| algorithm | shape | loop | method | median ms | GB/s | x floor | x torch fused |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    for row in rows:
        seconds, fused = row["seconds"], row["reference"].get("torch fused")
        versus_torch = f"{seconds / fused:.2f}" if fused else "n/a"
        lines.append(
            f"| {row['algorithm']} | {row['shape'][0]} x {row['shape'][1]} | {row['loop']} | {row['method']} "
            f"| {seconds * 1e3:.1f} | {row['bytes'] / seconds / 1e9:.1f} | {seconds / row['floor']:.2f} "
            f"| {versus_torch} |"
        )
    return "\n".join(lines)


def _checks(row: dict[str, Any], device: str) -> list[tuple[str, float, str, float]]:
    """The goals of one row of the plain loop: (what, measured ratio, sense, limit)."""
    seconds, reference, method = row["seconds"], row["reference"], row["method"]
    if device == "cuda":
        return [("of the floor's bandwidth", row["floor"] / seconds, ">=", 0.8)] if method == "fused" else []
    compiled = fused_jit.available()
    many = row["shape"][0] >= 10_000
    checks = []
    if method == "fused":
        if reference.get("torch fused"):
            checks.append(("x torch fused", seconds / reference["torch fused"], "<=", 0.5 if many else 1.0))
        elif row["algorithm"] == "adamax" and reference.get("torch foreach"):
            checks.append(("x torch foreach", seconds / reference["torch foreach"], "<=", 1.0))
        if compiled and not many:
            checks.append(("x floor", seconds / row["floor"], "<=", 1.25))
    if method == ("fused (ufunc kernels)" if compiled else "fused"):
        arithmetic = row.get("arithmetic")
        bound = f" (their arithmetic alone: {arithmetic / row['floor']:.2f} x floor)" if arithmetic else ""
        checks.append((f"x floor, ufunc kernels{bound}", seconds / row["floor"], "<=", 2.0))
    return checks


def goals(rows: list[dict[str, Any]], device: str) -> list[str]:
    """The performance goals (docs/benchmarks-optimizer.md) in the plain loop, each with its measured ratio and
    whether it is met."""
    lines = []
    for row in rows:
        if row["loop"] != "plain":
            continue
        label = f"{row['algorithm']} {row['shape'][0]} x {row['shape'][1]}"
        for what, value, sense, limit in _checks(row, device):
            met = value <= limit if sense == "<=" else value >= limit
            lines.append(f"{label}: fused {value:.2f} {what} (goal {sense} {limit}): {'met' if met else 'NOT met'}")
    return lines


def _header(args: argparse.Namespace) -> str:
    parts = [f"date {datetime.date.today()}", f"{platform.machine()}, {fused_cpu.num_threads()} core(s)",
             f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    if fused_jit.available():
        parts.append(f"Numba {fused_jit.numba.__version__} (fused: compiled kernels)")
    elif args.device == "cpu":
        parts.append("no Numba (fused: ufunc kernels)")
    if torch is not None:
        parts.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    if args.device == "cuda":
        parts.append(f"CuPy {backend._cupy.__version__}")
    return "; ".join(parts) + f"; {args.dtype}; median of {args.rounds} x {args.steps} steps"


def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print the bandwidths, the table and the goals; 0 on success, 1 when the device is
    missing."""
    if args.device == "cuda" and not backend.cuda_available():
        print("bench: --device cuda needs CuPy and a visible GPU; none was found")
        return 1
    print(_header(args))
    rows = run_benchmark(args)
    floors = {(row["algorithm"], row["shape"], row["method"]): row for row in rows if row["loop"] == "-"}
    for (algorithm, shape, method), row in floors.items():
        if method == "floor":
            copy_row = floors[algorithm, shape, "floor (copy)"]
            print(f"{algorithm} {shape[0]} x {shape[1]}: read-modify-write bandwidth "
                  f"{row['bytes'] / row['seconds'] / 1e9:.1f} GB/s (in place, the floor), copy bandwidth "
                  f"{copy_row['bytes'] / copy_row['seconds'] / 1e9:.1f} GB/s (write-allocate not counted), "
                  "timed in the rounds of the methods")
    print(format_table(rows))
    print("\n".join(goals(rows, args.device)))
    return 0

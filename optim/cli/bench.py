"""``python -m optim bench``: time one optimizer step against the memory floor and PyTorch.

A step of Adam reads the parameter, gradient, :math:`m` and :math:`v` and
writes the parameter, :math:`m` and :math:`v`: 7 arrays, 28 bytes per float32
element (AMSGrad also reads and writes :math:`v^{\\max}`: 36 bytes; AdaMax has
:math:`u` for :math:`v`: 28 bytes). No implementation can beat those bytes over
the memory bandwidth, measured here as the bandwidth of a copy (bytes read
plus bytes written, as STREAM counts them; the best of one thread and all the
cores). The command measures, in one run, for each algorithm and shape
(``ROWS x COLS``: ROWS parameters of COLS elements):

* ``floor``: the bytes of the step at the copy bandwidth;
* ``reference``: minigrad with ``fused=False`` (one parameter at a time);
* ``fused``: minigrad with ``fused=True``, gradients already in the flat buffer
  (written into the views that ``zero_grad(set_to_none=False)`` hands out; the
  direct step of :mod:`optim.fused.direct`), with the compiled kernels
  when Numba is installed; then ``fused (ufunc kernels)``, the same with the
  NumPy ufunc kernels, and ``fused (general path)``, with a new gradient
  Tensor per parameter at every step (as minigrad's ``backward`` leaves them),
  which the step checks and copies into the flat buffer;
* ``torch for-loop``, ``torch foreach``, ``torch fused``: ``torch.optim`` with
  ``foreach=False``, ``foreach=True``, ``fused=True``, when PyTorch is installed.

Every timing is the median of the timed steps, taken in rounds that visit
every method in turn, so that a change in the machine's load hits all of them.
Both libraries use the ``"pytorch"`` convention's rules, float32 by default.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import backend
from optim.adam import Adam
from optim.adamax import Adamax
from optim.amsgrad import AMSGrad
from optim.cli.types import nonnegative_int, positive_int
from optim.fused import cpu as fused_cpu
from optim.fused import jit as fused_jit

try:
    import torch
except ImportError:  # PyTorch is optional: the 'torch' extra
    torch = None

__all__ = ["DESCRIPTION", "add_arguments", "bandwidth", "format_table", "goals", "main", "measure", "run_benchmark"]

DESCRIPTION = """\
Time one optimizer step in one run: the memory floor (the step's bytes at the measured copy
bandwidth), minigrad's reference path (fused=False), its fused path (fused=True), and PyTorch's
for-loop, foreach and fused implementations when torch is installed. Shapes are ROWSxCOLS: ROWS
parameters of COLS elements. The table gives median milliseconds, effective GB/s, and the ratios
to the floor and to torch fused; the performance goals follow, each marked met or NOT met."""
ALGORITHMS = {"adam": Adam, "adamax": Adamax, "amsgrad": AMSGrad}
ARRAYS_PER_STEP = {"adam": 7, "adamax": 7, "amsgrad": 9}  # arrays read + arrays written per element
CPU_SHAPES = ((1, 10_000_000), (1000, 10_000), (10_000, 1000))
GPU_SHAPES = ((1, 100_000_000),)
TORCH_MODES = {"torch for-loop": {"foreach": False}, "torch foreach": {"foreach": True}, "torch fused": {"fused": True}}


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


# ----------------------------------------------------------------------------- timing
def _synchronize(device: str) -> None:
    if device == "cuda":
        backend._cupy.cuda.Device().synchronize()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.synchronize()


def measure(step: Callable[[], Any], steps: int, device: str = "cpu") -> list[float]:
    """Seconds of each of ``steps`` calls of ``step`` (the device synchronised around each)."""
    times = []
    for _ in range(steps):
        _synchronize(device)
        start = time.perf_counter()
        step()
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def _copy_chunk(dst: np.ndarray, src: np.ndarray, scalars: None, *scratch: np.ndarray) -> None:
    np.copyto(dst, src)


def _scale_chunk(array: np.ndarray, scalars: None, *scratch: np.ndarray) -> None:
    np.multiply(array, 1, out=array)


def bandwidth(size: int, dtype: str, device: str, steps: int, in_place: bool = False) -> float:
    """Bytes per second, read + written, of a copy of ``size`` elements (``in_place``: of ``a *= 1``).

    The best of one thread and, on the CPU, all the cores in the chunks of
    both kinds of fused kernels (:mod:`optim.fused.cpu`). A copy also reads
    its destination before writing it (write-allocate), which it does not
    count, as STREAM does not; an in-place pass has no such hidden traffic.
    """
    xp = backend.as_device(device).xp
    src, dst = xp.ones(size, dtype), xp.zeros(size, dtype)
    if in_place:
        candidates = [lambda: xp.multiply(dst, 1, out=dst)]
        kernel, arrays = _scale_chunk, (dst,)
    else:
        candidates = [lambda: xp.copyto(dst, src)]
        kernel, arrays = _copy_chunk, (dst, src)
    if device == "cpu":
        for chunk_bytes in (fused_cpu.CHUNK_BYTES, fused_cpu.COMPILED_CHUNK_BYTES):  # the fused path's chunks
            piece = fused_cpu.Piece(kernel, arrays, None, 0, size, chunk_bytes)
            candidates.append(lambda piece=piece: fused_cpu.run_pieces([piece]))
    best = min(statistics.median(measure(copy, steps + 2, device)[2:]) for copy in candidates)
    return 2 * size * np.dtype(dtype).itemsize / best


# ----------------------------------------------------------------------------- the methods
def _arrays(shape: tuple[int, int], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20151222)
    size = shape[0] * shape[1]
    return rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)


def _minigrad(algorithm: str, shape: tuple[int, int], dtype: str, device: str, fused: bool,
              new_grads: bool = False) -> Callable[[], None]:
    """The step of a minigrad optimizer over ``shape``; ``new_grads``: assign new gradient Tensors before it."""
    values, grads = _arrays(shape, dtype)
    rows, cols = shape
    params = [mg.Tensor(backend.to_device(values[i * cols:(i + 1) * cols].copy(), device), requires_grad=True)
              for i in range(rows)]
    optimizer = ALGORITHMS[algorithm](params, lr=1e-3, convention="pytorch", fused=fused)
    row_grads = [backend.to_device(grads[i * cols:(i + 1) * cols].copy(), device) for i in range(rows)]
    for param, grad in zip(params, row_grads):
        param.grad = mg.Tensor(grad)
    if fused:  # every parameter has a gradient, so each gets the zero view of its slot of the flat buffer
        optimizer.zero_grad(set_to_none=False)
        for param, grad in zip(params, row_grads):
            param.grad.data[...] = grad  # the gradient written into the flat buffer, as an in-place backward would
    if not new_grads:
        return optimizer.step

    def step() -> None:
        for param, grad in zip(params, row_grads):
            param.grad = mg.Tensor(grad)
        optimizer.step()

    return step


def _torch(algorithm: str, shape: tuple[int, int], dtype: str, device: str, mode: str) -> Callable[[], None] | None:
    if algorithm == "adamax" and mode == "torch fused":
        return None  # torch.optim.Adamax has no fused implementation
    values, grads = _arrays(shape, dtype)
    rows, cols = shape
    where = "cuda" if device == "cuda" else "cpu"
    params = []
    for i in range(rows):
        param = torch.from_numpy(values[i * cols:(i + 1) * cols].copy()).to(where).requires_grad_(True)
        param.grad = torch.from_numpy(grads[i * cols:(i + 1) * cols].copy()).to(where)
        params.append(param)
    cls = torch.optim.Adamax if algorithm == "adamax" else torch.optim.Adam
    extra = {"amsgrad": True} if algorithm == "amsgrad" else {}
    return cls(params, lr=1e-3, **extra, **TORCH_MODES[mode]).step


def _with_kernels(kind: str, step: Callable[[], None]) -> Callable[[], None]:
    """``step`` run with the fused CPU kernels of ``kind`` (:func:`optim.fused.cpu.set_kernels`)."""

    def run() -> None:
        with fused_cpu.using_kernels(kind):
            step()

    return run


def _methods(algorithm: str, shape: tuple[int, int], args: argparse.Namespace) -> dict[str, Callable[[], None]]:
    methods = {
        "reference": _minigrad(algorithm, shape, args.dtype, args.device, fused=False),
        "fused": _minigrad(algorithm, shape, args.dtype, args.device, fused=True),
    }
    if args.device == "cpu" and fused_jit.available():  # "fused" runs the compiled kernels; show the ufuncs too
        ufunc_step = _minigrad(algorithm, shape, args.dtype, args.device, fused=True)
        methods["fused (ufunc kernels)"] = _with_kernels("ufunc", ufunc_step)
    methods["fused (general path)"] = _minigrad(algorithm, shape, args.dtype, args.device, fused=True, new_grads=True)
    torch_ready = torch is not None and not args.no_torch and (args.device == "cpu" or torch.cuda.is_available())
    for mode in TORCH_MODES if torch_ready else ():
        step = _torch(algorithm, shape, args.dtype, args.device, mode)
        if step is not None:
            methods[mode] = step
    return methods


def run_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time every method for every algorithm and shape; one row per (algorithm, shape, method)."""
    shapes = args.shapes or (GPU_SHAPES if args.device == "cuda" else CPU_SHAPES)
    itemsize = np.dtype(args.dtype).itemsize
    bandwidths: dict[int, float] = {}
    rows = []
    for algorithm in args.algorithms:
        for shape in shapes:
            size = shape[0] * shape[1]
            if size not in bandwidths:
                bandwidths[size] = bandwidth(size, args.dtype, args.device, max(5, args.steps))
            floor = ARRAYS_PER_STEP[algorithm] * itemsize * size / bandwidths[size]
            methods = _methods(algorithm, shape, args)
            times: dict[str, list[float]] = {name: [] for name in methods}
            for step in methods.values():
                measure(step, args.warmup, args.device)
            for _ in range(args.rounds):
                for name, step in methods.items():
                    times[name] += measure(step, args.steps, args.device)
            medians = {"floor": floor, **{name: statistics.median(values) for name, values in times.items()}}
            for name, seconds in medians.items():
                rows.append({"algorithm": algorithm, "shape": shape, "method": name, "seconds": seconds,
                             "floor": floor, "torch_fused": medians.get("torch fused"),
                             "bandwidth": bandwidths[size]})
            del methods
    return rows


# ----------------------------------------------------------------------------- report
def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table: median ms, effective GB/s, and the ratios to the floor and to torch fused."""
    lines = ["| algorithm | shape | method | median ms | GB/s | x floor | x torch fused |",
             "|---|---|---|---:|---:|---:|---:|"]
    for row in rows:
        seconds, fused = row["seconds"], row["torch_fused"]
        moved = row["floor"] * row["bandwidth"]
        versus_torch = f"{seconds / fused:.2f}" if fused else "n/a"
        lines.append(
            f"| {row['algorithm']} | {row['shape'][0]} x {row['shape'][1]} | {row['method']} | {seconds * 1e3:.1f} "
            f"| {moved / seconds / 1e9:.1f} | {seconds / row['floor']:.2f} | {versus_torch} |"
        )
    return "\n".join(lines)


def goals(rows: list[dict[str, Any]], device: str) -> list[str]:
    """The performance goals (docs/benchmarks-optimizer.md), each with its measured ratio and whether it is met."""
    lines = []
    for row in rows:
        if row["method"] != "fused":
            continue
        label = f"{row['algorithm']} {row['shape'][0]} x {row['shape'][1]}"
        checks = []
        if device == "cuda":
            checks.append(("of the copy bandwidth", row["floor"] / row["seconds"], ">=", 0.8))
        else:
            checks.append(("x floor", row["seconds"] / row["floor"], "<=", 1.5))
        if row["torch_fused"]:
            limit = 0.5 if device == "cpu" and row["shape"][0] >= 10_000 else 1.0
            checks.append(("x torch fused", row["seconds"] / row["torch_fused"], "<=", limit))
        for what, value, sense, limit in checks:
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
    """Run the benchmark, print the table and the goals; 0 on success, 1 when the device is missing."""
    if args.device == "cuda" and not backend.cuda_available():
        print("bench: --device cuda needs CuPy and a visible GPU; none was found")
        return 1
    print(_header(args))
    rows = run_benchmark(args)
    sizes = {row["shape"][0] * row["shape"][1]: row["bandwidth"] for row in rows}
    for elements, copy in sizes.items():
        in_place = bandwidth(elements, args.dtype, args.device, max(5, args.steps), in_place=True)
        print(f"{elements} elements: copy bandwidth {copy / 1e9:.1f} GB/s (read + write; the floor below), "
              f"in-place bandwidth {in_place / 1e9:.1f} GB/s (a *= 1, no write-allocate)")
    print(format_table(rows))
    print("\n".join(goals(rows, args.device)))
    return 0

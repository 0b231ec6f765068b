"""Time one training step of a small MLP in minigrad and, when it is installed, in PyTorch.

The model is an MLP 64-128-128-10 with ReLU (float32) on the bundled digits,
trained with cross-entropy and SGD (or Adam, ``--optimizer adam``). One step
is: forward, loss, backward, the optimizer's update of every parameter
(``optim.SGD`` / ``optim.Adam`` against ``torch.optim.SGD`` / ``torch.optim.Adam``),
and resetting the gradients. Both frameworks start from the same weights and
see the same batches, on one CPU thread. A third row, "NumPy floor", runs
the same step written out by hand in NumPy (``mlp_numpy.py``: no autograd,
no optimizer object, the update in place on flat buffers): the part of the
time that no Python framework built on NumPy can remove.

Run from the repository root::

    python benchmarks/mlp_step.py                 # the table
    python benchmarks/mlp_step.py --profile 2000  # and a cProfile of minigrad's step

The thread limits are set before NumPy (and its BLAS) is imported, so that
both frameworks run single-threaded.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

try:
    import minigrad as mg
except ImportError:  # run from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import minigrad as mg
from mlp_numpy import make_numpy  # noqa: E402

import optim  # noqa: E402
from minigrad.datasets import batches, load_digits  # noqa: E402
from optim.cli.types import nonnegative_int, positive_int  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: the 'torch' extra
    torch = None

SIZES = (64, 128, 128, 10)
LEARNING_RATE = 0.05
ADAM_LEARNING_RATE = 1e-3
SEED = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=positive_int, default=3000, help="timed steps per framework (default 3000)")
    parser.add_argument("--warmup", type=nonnegative_int, default=300, help="untimed steps first (default 300)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="samples per step (default 64)")
    parser.add_argument("--rounds", type=positive_int, default=5,
                        help="the timed steps alternate between the frameworks in this many blocks (default 5)")
    parser.add_argument("--profile", type=nonnegative_int, default=0, metavar="STEPS",
                        help="also profile this many minigrad steps with cProfile (default 0: no profile)")
    parser.add_argument("--top", type=positive_int, default=25, help="functions listed by the profile (default 25)")
    parser.add_argument("--no-torch", action="store_true", help="time minigrad only")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="the update: SGD (default) or Adam, in both frameworks")
    parser.add_argument("--fused", action="store_true",
                        help="minigrad's optimizer with fused=True (PyTorch keeps its default)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- the two steps


def make_minigrad(
    data: list[tuple[np.ndarray, np.ndarray]], optimizer_name: str = "sgd", fused: bool = False
) -> tuple[mg.nn.MLP, Callable[[int], Any]]:
    """The model and a function running training step ``i`` on batch ``i % len(data)``; it returns the loss.

    The update is ``optim.SGD`` (its default convention, ``"paper"``: :math:`\\theta - \\alpha g`, as
    ``torch.optim.SGD`` but rounded twice) or ``optim.Adam`` under the ``"pytorch"`` convention; ``fused``: with
    ``fused=True``.
    """
    model = mg.nn.MLP(SIZES, rng=SEED, dtype=np.float32)
    if optimizer_name == "adam":
        optimizer = optim.Adam(model.parameters(), lr=ADAM_LEARNING_RATE, convention="pytorch", fused=fused)
    else:
        optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE, fused=fused)
    inputs = [(mg.Tensor(x), t) for x, t in data]

    def step(i: int) -> Any:
        x, t = inputs[i % len(inputs)]
        loss = mg.cross_entropy(model(x), t)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return model, step


def make_torch(
    model: mg.nn.MLP, data: list[tuple[np.ndarray, np.ndarray]], optimizer_name: str = "sgd"
) -> tuple[object, Callable[[int], Any]]:
    """The same model in PyTorch, with ``model``'s weights, and its training step (``torch.optim.SGD`` or ``Adam``)."""
    layers: list[object] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    # Both Sequentials name their parameters "0.weight", "0.bias", "2.weight", ...
    net.load_state_dict({name: torch.from_numpy(value) for name, value in model.state_dict().items()})
    if optimizer_name == "adam":
        optimizer = torch.optim.Adam(net.parameters(), lr=ADAM_LEARNING_RATE)
    else:
        optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    inputs = [(torch.from_numpy(x.copy()), torch.from_numpy(t.copy())) for x, t in data]
    loss_fn = torch.nn.functional.cross_entropy

    def step(i: int) -> Any:
        x, t = inputs[i % len(inputs)]
        loss = loss_fn(net(x), t)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return net, step


def learning_rate(optimizer_name: str) -> float:
    """The learning rate of ``optimizer_name`` ("sgd" or "adam") in every row of the benchmark."""
    return ADAM_LEARNING_RATE if optimizer_name == "adam" else LEARNING_RATE


def largest_relative_difference(first: Callable[[int], Any], second: Callable[[int], Any], steps: int) -> float:
    """Largest relative difference of the losses the two step functions return over steps 0 .. ``steps`` - 1."""
    worst = 0.0
    for i in range(steps):
        a, b = float(first(i).item()), float(second(i).item())
        worst = max(worst, abs(a - b) / abs(b))
    return worst


def check_agreement(data: list[tuple[np.ndarray, np.ndarray]], optimizer_name: str, fused: bool = False,
                    steps: int = 20) -> float:
    """Largest relative difference of the losses of the two frameworks over ``steps`` steps from the same weights."""
    model, mg_step = make_minigrad(data, optimizer_name, fused)
    _, torch_step = make_torch(model, data, optimizer_name)
    return largest_relative_difference(mg_step, torch_step, steps)


def check_floor_agreement(data: list[tuple[np.ndarray, np.ndarray]], optimizer_name: str, fused: bool = False,
                          steps: int = 20) -> float:
    """Largest relative difference of the losses of minigrad and of the NumPy floor over ``steps`` steps."""
    model, mg_step = make_minigrad(data, optimizer_name, fused)
    floor_step = make_numpy([p.data for p in model.parameters()], data, optimizer_name, learning_rate(optimizer_name))
    return largest_relative_difference(mg_step, floor_step, steps)


# ----------------------------------------------------------------------------- timing


def time_steps(step: Callable[[int], object], start: int, count: int) -> list[float]:
    """Wall time of each of ``count`` steps, in microseconds."""
    times = []
    clock = time.perf_counter_ns
    for i in range(start, start + count):
        t0 = clock()
        step(i)
        times.append((clock() - t0) / 1000.0)
    return times


def summarize(times: list[float]) -> tuple[float, float, float]:
    p10, median, p90 = np.percentile(np.asarray(times), [10, 50, 90])
    return float(median), float(p10), float(p90)


def profile_minigrad(step: Callable[[int], object], steps: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        step(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_torch = torch is not None and not args.no_torch
    if use_torch:
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)

    images, labels = load_digits(dtype=np.float32)
    data = [(x.numpy(), t) for x, t in batches(images, labels, args.batch_size, rng=SEED, drop_last=True)]
    if not data:
        raise SystemExit(f"--batch-size {args.batch_size} is larger than the data set ({len(labels)} samples)")

    steps: dict[str, Callable[[int], object]] = {}
    model, steps["minigrad"] = make_minigrad(data, args.optimizer, args.fused)
    if use_torch:
        _, steps["PyTorch"] = make_torch(model, data, args.optimizer)
    weights = [p.data for p in model.parameters()]
    steps["NumPy floor"] = make_numpy(weights, data, args.optimizer, learning_rate(args.optimizer))

    for step in steps.values():
        time_steps(step, 0, args.warmup)
    times: dict[str, list[float]] = {name: [] for name in steps}
    per_round = [args.steps // args.rounds + (r < args.steps % args.rounds) for r in range(args.rounds)]
    done = args.warmup
    for count in per_round:
        for name, step in steps.items():
            gc.collect()
            times[name].extend(time_steps(step, done, count))
        done += count

    print(f"MLP {'-'.join(map(str, SIZES))} (ReLU, float32), cross-entropy + {args.optimizer}"
          f"{' (minigrad: fused=True)' if args.fused else ''}, "
          f"batch {args.batch_size}, digits ({len(data)} batches per epoch)")
    versions = f"Python {platform.python_version()}, NumPy {np.__version__}"
    if use_torch:
        versions += f", PyTorch {torch.__version__}"
    print(f"{versions}; {platform.machine()}, {os.cpu_count()} CPU(s) visible, 1 thread")
    print(f"{args.warmup} warm-up steps, then {args.steps} timed steps per framework "
          f"in {args.rounds} alternating blocks")
    if use_torch:
        print(f"loss agreement over 20 steps from the same weights: max relative difference "
              f"{check_agreement(data, args.optimizer, args.fused):.1e}")
    print(f"NumPy floor against minigrad, the same: max relative difference "
          f"{check_floor_agreement(data, args.optimizer, args.fused):.1e}")
    print()
    print(f"| {'framework':<11} | {'median (us)':>11} | {'p10 (us)':>9} | {'p90 (us)':>9} |")
    print(f"|{'-' * 13}|{'-' * 12}:|{'-' * 10}:|{'-' * 10}:|")
    summaries = {name: summarize(values) for name, values in times.items()}
    for name, (median, p10, p90) in summaries.items():
        print(f"| {name:<11} | {median:>11.1f} | {p10:>9.1f} | {p90:>9.1f} |")
    if use_torch:
        ratio = summaries["minigrad"][0] / summaries["PyTorch"][0]
        floor = summaries["NumPy floor"][0] / summaries["PyTorch"][0]
        print(f"\nratio minigrad / PyTorch (medians): {ratio:.2f}x; NumPy floor / PyTorch: {floor:.2f}x")
    elif torch is None:
        print("\nPyTorch is not installed (pip install -e \".[torch]\"): minigrad only.")

    if args.profile:
        print(f"\ncProfile of {args.profile} minigrad steps, top {args.top} functions by own time:")
        print(profile_minigrad(steps["minigrad"], args.profile, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

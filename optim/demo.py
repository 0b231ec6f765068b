"""``python -m optim demo``: Adam, Adamax, AMSGrad and SGD side by side.

Two experiments:

1. An MLP with layer sizes 64-128-128-10 learns the bundled 8x8 digits, once per optimizer, from the
   same initial weights and with the same order of mini-batches. Adam, Adamax and AMSGrad use the
   defaults of convention ``"paper"``; plain SGD is the baseline.
2. Adam and AMSGrad play the online problem of Reddi et al. (see :mod:`optim.online`), where Adam
   drifts to the worst point ``x = +1`` and AMSGrad heads for the optimum ``x = -1``.

The results are printed as two tables and drawn in one PNG (see :mod:`optim.demo_plot`).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad import backend
from minigrad.datasets import batches, load_digits, train_test_split
from optim import SGD, AMSGrad, Adam, Adamax
from optim.online import BETAS, OnlineResult, make_online_optimizers, run_online_problem

__all__ = [
    "DEFAULT_OUT", "DemoConfig", "DemoResult", "TrainResult", "add_arguments", "config_from_args",
    "format_online_table", "format_training_table", "main", "run_demo", "run_training",
]

LAYER_SIZES = (64, 128, 128, 10)
"""Input (8x8 pixels), two hidden layers, ten classes."""
DEFAULT_OUT = Path("demo-output") / "optim-demo.png"
FAST_EPOCHS = 3
FAST_ONLINE_STEPS = 20_000


@dataclass
class DemoConfig:
    """The settings of one demo run; :func:`config_from_args` builds it from the command line.

    Attributes
    ----------
    epochs : int
        Passes over the training set, per optimizer.
    batch_size : int
        Samples per mini-batch.
    seed : int
        Fixes the train/test split, the initial weights and the batch order.
    device : str
        ``"cpu"`` or ``"cuda"``: where the MLP trains. The online problem always runs on the CPU.
    sgd_lr : float
        The learning rate of the SGD baseline.
    online_steps : int
        The number of rounds :math:`T` of the online problem.
    online_alpha : float
        Its step size :math:`\\alpha` in :math:`\\alpha_t = \\alpha/\\sqrt t`.
    quiet : bool
        Hide the progress bars.
    out : pathlib.Path or None
        Where to write the PNG; ``None`` draws nothing.
    """

    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    device: str = "cpu"
    sgd_lr: float = 0.1
    online_steps: int = 100_000
    online_alpha: float = 0.5
    quiet: bool = False
    out: Path | None = DEFAULT_OUT


@dataclass
class TrainResult:
    """The record of one optimizer's training run.

    Attributes
    ----------
    name : str
        The optimizer's label.
    losses : list of float
        Mean cross-entropy on the whole training set before training (index 0) and after each epoch.
    test_accuracy : float
        The share of test images classified correctly at the end, in ``[0, 1]``.
    seconds_per_epoch : float
        Mean wall time of one epoch of updates (evaluation excluded).
    """

    name: str
    losses: list[float]
    test_accuracy: float
    seconds_per_epoch: float

    @property
    def final_loss(self) -> float:
        """The training loss after the last epoch."""
        return self.losses[-1]


@dataclass
class DemoResult:
    """Everything a demo run produced: both experiments and the figure's path (or ``None``)."""

    training: list[TrainResult]
    online: list[OnlineResult]
    figure: Path | None


@dataclass
class Digits:
    """The digits split in two; arrays on the CPU, inputs ``float32`` in ``[0, 1]``."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_data(seed: int) -> Digits:
    """Load the digits and split off a fifth of them, at random but fixed by ``seed``, for testing."""
    images, labels = load_digits(dtype=np.float32)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_fraction=0.2, rng=seed)
    return Digits(x_train, x_test, y_train, y_test)


def training_optimizers(sgd_lr: float) -> dict[str, Callable[..., Any]]:
    """The optimizers of the comparison, each a callable that takes the parameters.

    Adam, Adamax and AMSGrad keep every default of convention ``"paper"`` (learning rates
    ``1e-3``, ``2e-3`` and ``1e-3``); SGD gets ``sgd_lr``.
    """
    return {
        "Adam": Adam,
        "Adamax": Adamax,
        "AMSGrad": AMSGrad,
        "SGD": functools.partial(SGD, lr=sgd_lr),
    }


def evaluate(model: mg.nn.Module, x: mg.Tensor, y: Any) -> tuple[float, float]:
    """The mean cross-entropy and the accuracy of ``model`` on inputs ``x`` with labels ``y``."""
    with mg.no_grad():
        logits = model(x)
        loss = mg.cross_entropy(logits, y).item()
    predictions = logits.data.argmax(axis=1)
    accuracy = float((predictions == y).mean())
    return float(loss), accuracy


def train_one(
    name: str, make_optimizer: Callable[..., Any], initial_weights: dict[str, np.ndarray],
    data: Digits, config: DemoConfig,
) -> TrainResult:
    """Train a fresh MLP, starting from ``initial_weights``, with one optimizer.

    Each step is ``opt.zero_grad(); loss.backward(); opt.step()``. The batch order depends only on
    ``config.seed``, so every optimizer sees the same batches in the same order.
    """
    model = mg.nn.MLP(LAYER_SIZES, rng=config.seed, device=config.device)
    model.load_state_dict(initial_weights)
    optimizer = make_optimizer(model.parameters())
    x_train = mg.tensor(data.x_train, device=config.device)
    y_train = backend.to_device(data.y_train, config.device)
    x_test = mg.tensor(data.x_test, device=config.device)
    y_test = backend.to_device(data.y_test, config.device)
    batch_rng = np.random.default_rng(config.seed)
    losses = [evaluate(model, x_train, y_train)[0]]
    seconds = 0.0
    hide = config.quiet or not sys.stderr.isatty()
    progress = tqdm(range(config.epochs), desc=f"{name:>8}", unit="epoch", disable=hide, leave=True)
    for _ in progress:
        start = time.perf_counter()
        loss = None
        for inputs, targets in batches(data.x_train, data.y_train, config.batch_size, rng=batch_rng,
                                       device=config.device):
            optimizer.zero_grad()
            loss = mg.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
        if loss is not None:
            loss.item()  # wait for the GPU, so the timer measures the work itself
        seconds += time.perf_counter() - start
        losses.append(evaluate(model, x_train, y_train)[0])
        progress.set_postfix(loss=f"{losses[-1]:.4f}")
    progress.close()
    accuracy = evaluate(model, x_test, y_test)[1]
    return TrainResult(name, losses, accuracy, seconds / max(config.epochs, 1))


def run_training(config: DemoConfig, data: Digits | None = None) -> list[TrainResult]:
    """Train the MLP once per optimizer of :func:`training_optimizers`, all from the same weights."""
    if data is None:
        data = load_data(config.seed)
    initial_weights = mg.nn.MLP(LAYER_SIZES, rng=config.seed).state_dict()
    results = []
    for name, make_optimizer in training_optimizers(config.sgd_lr).items():
        results.append(train_one(name, make_optimizer, initial_weights, data, config))
    return results


def run_online(config: DemoConfig) -> list[OnlineResult]:
    """Play Reddi et al.'s online problem with Adam and AMSGrad."""
    results = []
    for name, factory in make_online_optimizers(config.online_alpha).items():
        results.append(run_online_problem(factory, config.online_steps, name=name))
    return results


def format_training_table(results: list[TrainResult]) -> str:
    """A plain-text table: optimizer, final training loss, test accuracy, seconds per epoch."""
    lines = [f"{'optimizer':<10} {'train loss':>10} {'test acc':>9} {'s/epoch':>8}"]
    for result in results:
        lines.append(
            f"{result.name:<10} {result.final_loss:>10.4f} {result.test_accuracy:>9.2%} "
            f"{result.seconds_per_epoch:>8.3f}"
        )
    return "\n".join(lines)


def format_online_table(results: list[OnlineResult]) -> str:
    """A plain-text table: optimizer, final iterate, average regret :math:`R_T/T`."""
    lines = [f"{'optimizer':<10} {'final x':>8} {'R_T/T':>8}"]
    for result in results:
        lines.append(f"{result.name:<10} {result.final_x:>+8.4f} {result.average_regret:>8.4f}")
    return "\n".join(lines)


def run_demo(config: DemoConfig, stream: TextIO | None = None) -> DemoResult:
    """Run both experiments, print their tables to ``stream`` and draw the figure.

    Parameters
    ----------
    config : DemoConfig
        The settings.
    stream : text file, optional
        Where the tables go; standard output by default.

    Returns
    -------
    DemoResult
        The numbers behind the tables and the path of the PNG (``None`` when ``config.out`` is).
    """
    stream = sys.stdout if stream is None else stream
    data = load_data(config.seed)
    sizes = "-".join(str(size) for size in LAYER_SIZES)
    print(f"MLP {sizes} on the digits ({len(data.x_train)} training / {len(data.x_test)} test images), "
          f"{config.epochs} epochs, batch size {config.batch_size}, seed {config.seed}, "
          f"device {config.device}", file=stream, flush=True)
    training = run_training(config, data)
    print(format_training_table(training), file=stream)
    print(file=stream)
    print(f"Reddi et al. online problem: T = {config.online_steps}, step size {config.online_alpha}/sqrt(t), "
          f"betas = {BETAS}, x_1 = 0, optimum x* = -1", file=stream, flush=True)
    online = run_online(config)
    print(format_online_table(online), file=stream)
    figure = None
    if config.out is not None:
        from optim.demo_plot import save_figure

        figure = save_figure(training, online, config.out)
        print(f"\nFigure written to {figure}", file=stream)
    return DemoResult(training, online, figure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the ``demo`` subcommand to ``parser``."""
    defaults = DemoConfig()
    parser.add_argument("--fast", action="store_true",
                        help=f"a run of a few seconds: {FAST_EPOCHS} epochs and T = {FAST_ONLINE_STEPS} rounds "
                             "(--epochs and --online-steps still win)")
    parser.add_argument("--epochs", type=_positive_int, default=None,
                        help=f"passes over the training set per optimizer (default {defaults.epochs})")
    parser.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size,
                        help=f"samples per mini-batch (default {defaults.batch_size})")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help=f"fixes the split, the initial weights and the batch order (default {defaults.seed})")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=defaults.device,
                        help="where the MLP trains; cuda needs CuPy and a GPU (default cpu)")
    parser.add_argument("--sgd-lr", type=float, default=defaults.sgd_lr,
                        help=f"learning rate of the SGD baseline (default {defaults.sgd_lr})")
    parser.add_argument("--online-steps", type=_positive_int, default=None,
                        help=f"rounds T of the online problem (default {defaults.online_steps})")
    parser.add_argument("--online-alpha", type=float, default=defaults.online_alpha,
                        help=f"step size alpha/sqrt(t) of the online problem (default {defaults.online_alpha})")
    parser.add_argument("--out", type=Path, default=defaults.out,
                        help=f"where to write the PNG (default {defaults.out})")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure (matplotlib is then not needed)")
    parser.add_argument("--quiet", action="store_true",
                        help="hide the progress bars (they are hidden anyway when stderr is not a terminal)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    """Turn parsed options into a :class:`DemoConfig`; explicit values beat ``--fast``."""
    config = DemoConfig(
        batch_size=args.batch_size, seed=args.seed, device=args.device, sgd_lr=args.sgd_lr,
        online_alpha=args.online_alpha, quiet=args.quiet, out=None if args.no_plot else args.out,
    )
    if args.fast:
        config = dataclasses.replace(config, epochs=FAST_EPOCHS, online_steps=FAST_ONLINE_STEPS)
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    if args.online_steps is not None:
        config = dataclasses.replace(config, online_steps=args.online_steps)
    return config


def main(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand: run the demo and return the exit status."""
    config = config_from_args(args)
    if config.device == "cuda" and not mg.cuda_available():
        print("error: --device cuda needs CuPy and a visible GPU", file=sys.stderr)
        return 2
    run_demo(config)
    return 0

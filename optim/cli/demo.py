"""``python -m optim demo``: Adam, Adamax, AMSGrad and SGD side by side.

Two experiments:

1. An MLP with layer sizes 64-128-128-10 learns the bundled 8x8 digits, once per optimizer, from the
   same initial weights and with the same order of mini-batches. Adam, Adamax and AMSGrad use the
   defaults of convention ``"paper"``; plain SGD is the baseline.
2. Adam and AMSGrad play the online problem of Reddi et al. (see :mod:`optim.experiments.online`), where Adam
   drifts to the worst point ``x = +1`` and AMSGrad heads for the optimum ``x = -1``.

The experiments live in :mod:`optim.experiments.digits` and :mod:`optim.experiments.online`; the results are printed
as two tables and drawn in one PNG (see :mod:`optim.cli.demo_report`). This module holds the settings and
the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import minigrad as mg
from optim.cli.demo_report import format_online_table, format_training_table, save_figure
from optim.cli.types import OptionError, nonnegative_int, positive_float, positive_int, unwritable_file_reason
from optim.experiments.digits import LAYER_SIZES, TrainResult, load_data, run_training
from optim.experiments.online import BETAS, OnlineResult, make_online_optimizers, run_online_problem

__all__ = [
    "DEFAULT_OUT", "DESCRIPTION", "EPILOG", "DemoConfig", "DemoResult", "add_arguments", "config_from_args", "main",
    "run_demo", "run_online",
]

DEFAULT_OUT = Path("demo-output") / "optim-demo.png"
DESCRIPTION = """\
Compare Adam, Adamax and AMSGrad (defaults of convention "paper") with plain SGD.

1. An MLP 64-128-128-10 learns the 8x8 digits once per optimizer, from the same initial
   weights and with the same batches; a table gives the final training loss, the test
   accuracy and the time per epoch.
2. Adam and AMSGrad play the online problem of Reddi et al. (2018), Figure 1:
   f_t(x) = 1010 x when t mod 101 == 1, else -10 x, on [-1, 1], with betas (0.9, 0.99)
   and step size alpha/sqrt(t). The best point is x = -1; Adam drifts to x = +1 while
   AMSGrad heads for -1. A table gives the final x and the average regret R_T/T.

A PNG shows the loss curves and the trajectories x_t.
"""
EPILOG = """\
examples:
  python -m optim demo                 the full run (about ten seconds on a 2-core CPU)
  python -m optim demo --fast          a smoke run of a few seconds
  python -m optim demo --epochs 50 --out results/demo.png
"""
AMSGRAD_NOTE = """\
AMSGrad here is Reddi et al.'s Algorithm 2 (convention "paper"), which corrects no bias: its
early steps are larger than Adam's by (1 - beta1^t) / sqrt(1 - beta2^t), 3.2 at t = 1, 6.5 at
t = 10, 1.3 at t = 1000. That, not the running maximum, is most of any lead it has in this
short run: with bias correction (convention "pytorch") it ends within about 1% of Adam
(tutorial 08)."""
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
class DemoResult:
    """Everything a demo run produced: both experiments and the figure's path (or ``None``)."""

    training: list[TrainResult]
    online: list[OnlineResult]
    figure: Path | None


def run_online(config: DemoConfig) -> list[OnlineResult]:
    """Play Reddi et al.'s online problem with Adam and AMSGrad, from ``x_1 = 0``."""
    results = []
    for name, factory in make_online_optimizers(config.online_alpha).items():
        results.append(run_online_problem(factory, config.online_steps, name=name, progress=not config.quiet))
    return results


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
    training = run_training(
        data, epochs=config.epochs, batch_size=config.batch_size, seed=config.seed, device=config.device,
        sgd_lr=config.sgd_lr, progress=not config.quiet,
    )
    print(format_training_table(training), file=stream)
    print(AMSGRAD_NOTE, file=stream)
    print(file=stream)
    print(f"Reddi et al. online problem: T = {config.online_steps}, step size {config.online_alpha}/sqrt(t), "
          f"betas = {BETAS}, x_1 = 0, optimum x* = -1", file=stream, flush=True)
    online = run_online(config)
    print(format_online_table(online), file=stream)
    figure = None
    if config.out is not None:
        figure = save_figure(training, online, config.out)
        print(f"\nFigure written to {figure}", file=stream)
    return DemoResult(training, online, figure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the ``demo`` subcommand to ``parser``."""
    defaults = DemoConfig()
    add = parser.add_argument
    add("--fast", action="store_true",
        help=f"a run of a few seconds: {FAST_EPOCHS} epochs and T = {FAST_ONLINE_STEPS} rounds "
             "(an explicit --epochs or --online-steps still wins)")
    add("--epochs", type=positive_int, help=f"passes over the training set per optimizer (default {defaults.epochs})")
    add("--batch-size", type=positive_int, default=defaults.batch_size,
        help=f"samples per mini-batch (default {defaults.batch_size})")
    add("--seed", type=nonnegative_int, default=defaults.seed,
        help=f"fixes the data split, the initial weights and the batch order (default {defaults.seed})")
    add("--device", choices=["cpu", "cuda"], default=defaults.device,
        help="where the MLP trains; cuda needs CuPy and a GPU; the online problem always runs on the CPU "
             f"(default {defaults.device})")
    add("--sgd-lr", type=positive_float, default=defaults.sgd_lr,
        help=f"learning rate of the SGD baseline (default {defaults.sgd_lr})")
    add("--online-steps", type=positive_int, help=f"rounds T of the online problem (default {defaults.online_steps})")
    add("--online-alpha", type=positive_float, default=defaults.online_alpha,
        help=f"step size alpha in alpha/sqrt(t) of the online problem (default {defaults.online_alpha})")
    figure = parser.add_mutually_exclusive_group()
    figure.add_argument("--out", type=Path, default=defaults.out,
                        help=f"where to write the PNG (default {defaults.out})")
    figure.add_argument("--no-plot", action="store_true", help="write no figure (Matplotlib is then not needed)")
    add("--quiet", action="store_true",
        help="hide the progress bars (they are hidden anyway when stderr is not a terminal)")


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
    """The ``demo`` subcommand: run the demo and return the exit status.

    Raises
    ------
    OptionError
        When the figure cannot be written to ``--out`` (a folder, a path under
        a file, no permission, no Matplotlib): found before the training runs.
    """
    config = config_from_args(args)
    if config.device == "cuda" and not mg.cuda_available():
        print("error: --device cuda needs CuPy and a visible GPU", file=sys.stderr)
        return 2
    if config.out is not None:
        problem = unwritable_file_reason(config.out)
        if problem:
            raise OptionError("--out", f"cannot write the figure to {config.out}: {problem}")
        if importlib.util.find_spec("matplotlib") is None:
            raise OptionError("--out", "drawing the figure needs Matplotlib (the 'demo' extra); install it, "
                              "or pass --no-plot")
    run_demo(config)
    return 0

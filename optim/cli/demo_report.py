"""What ``python -m optim demo`` shows: two plain-text tables and a PNG with two panels.

The figure is drawn with Matplotlib's Agg canvas directly (no ``pyplot``), so it needs no display and
leaves the global Matplotlib backend of the calling program alone. Matplotlib is imported only when a
figure is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optim.experiments.online import OPTIMUM, OnlineResult

if TYPE_CHECKING:
    from optim.experiments.digits import TrainResult

__all__ = ["draw_online", "draw_training", "format_online_table", "format_training_table", "save_figure"]

_MAX_POINTS = 5000
"""The trajectories are thinned to about this many points per line; the PNG looks the same."""


def format_training_table(results: Sequence[TrainResult]) -> str:
    """A plain-text table: optimizer, final training loss, test accuracy, seconds per epoch."""
    lines = [f"{'optimizer':<10} {'train loss':>10} {'test acc':>9} {'s/epoch':>8}"]
    for result in results:
        lines.append(
            f"{result.name:<10} {result.final_loss:>10.4f} {result.test_accuracy:>9.2%} "
            f"{result.seconds_per_epoch:>8.3f}"
        )
    return "\n".join(lines)


def format_online_table(results: Sequence[OnlineResult]) -> str:
    """A plain-text table: optimizer, final iterate :math:`x_{T+1}`, average regret :math:`R_T/T`."""
    lines = [f"{'optimizer':<10} {'final x':>8} {'R_T/T':>8}"]
    for result in results:
        lines.append(f"{result.name:<10} {result.final_x:>+8.4f} {result.average_regret:>8.4f}")
    return "\n".join(lines)


def _thin(length: int) -> slice:
    """A slice that keeps about :data:`_MAX_POINTS` evenly spaced entries of a sequence of ``length``."""
    stride = max(1, length // _MAX_POINTS)
    return slice(0, length, stride)


def draw_training(axes: Any, training: Sequence[TrainResult]) -> None:
    """Left panel: the training loss after each epoch, one line per optimizer, on a log scale."""
    from matplotlib.ticker import MaxNLocator

    for result in training:
        epochs = range(len(result.losses))
        axes.plot(epochs, result.losses, marker="o", markersize=3, label=result.name)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("training loss (mean cross-entropy)")
    axes.set_title("MLP 64-128-128-10 on the digits")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()


def draw_online(axes: Any, online: Sequence[OnlineResult]) -> None:
    """Right panel: the iterate :math:`x_t` against the round :math:`t`, with the optimum marked."""
    for result in online:
        keep = _thin(len(result.iterates))
        rounds = range(1, len(result.iterates) + 1)[keep]
        axes.plot(rounds, result.iterates[keep], linewidth=1.0, label=result.name)
    axes.axhline(OPTIMUM, color="black", linestyle="--", linewidth=0.8, label="optimum $x^* = -1$")
    axes.set_ylim(-1.1, 1.1)
    axes.set_xlabel("round $t$")
    axes.set_ylabel("iterate $x_t$")
    axes.set_title("Reddi et al. online problem ($\\beta_1=0.9$, $\\beta_2=0.99$)")
    axes.grid(True, alpha=0.3)
    axes.legend()


def save_figure(training: Sequence[TrainResult], online: Sequence[OnlineResult], path: str | Path) -> Path:
    """Draw both panels and write them to ``path`` as a PNG, creating missing folders.

    Parameters
    ----------
    training : sequence of TrainResult
        The loss curves of the left panel.
    online : sequence of OnlineResult
        The trajectories of the right panel.
    path : str or pathlib.Path
        The output file.

    Returns
    -------
    pathlib.Path
        ``path``, as written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    draw_training(left, training)
    draw_online(right, online)
    figure.suptitle("Adam, Adamax, AMSGrad and SGD (python -m optim demo)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=110)
    return path

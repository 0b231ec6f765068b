"""The training half of ``python -m optim demo``: one MLP, four optimizers, the same start.

An MLP with layer sizes 64-128-128-10 (``float32``) learns the bundled 8x8 digits once per optimizer,
from the same initial weights and with the same order of mini-batches, so that the optimizer is the only
difference between the runs. Adam, Adamax and AMSGrad keep every default of convention ``"paper"``;
plain SGD is the baseline.

>>> data = load_data(seed=0)
>>> [result.name for result in run_training(data, epochs=1, batch_size=64, seed=0, progress=False)]
['Adam', 'Adamax', 'AMSGrad', 'SGD']
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import backend
from minigrad.datasets import batches, load_digits, train_test_split
from optim import SGD, Adam, Adamax, AMSGrad
from optim.experiments.progress import Progress

__all__ = ["LAYER_SIZES", "Digits", "TrainResult", "load_data", "run_training", "train_one", "training_optimizers"]

LAYER_SIZES = (64, 128, 128, 10)
"""Input (8x8 pixels), two hidden layers, ten classes."""


@dataclass
class Digits:
    """The digits split in two; NumPy arrays, inputs ``float32`` in ``[0, 1]``, labels ``int64``."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


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


def load_data(seed: int) -> Digits:
    """Load the digits and set a fifth of them aside for testing, at random but fixed by ``seed``."""
    images, labels = load_digits(dtype=np.float32)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_fraction=0.2, rng=seed)
    return Digits(x_train, x_test, y_train, y_test)


def training_optimizers(sgd_lr: float = 0.1) -> dict[str, Callable[..., Any]]:
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


def train_epoch(
    model: mg.nn.Module, optimizer: Any, data: Digits, batch_size: int, rng: np.random.Generator, device: str,
) -> float:
    """One pass over the training set in shuffled mini-batches; returns its wall time in seconds.

    Each step is ``opt.zero_grad(); loss.backward(); opt.step()``.
    """
    start = time.perf_counter()
    loss = None
    for inputs, targets in batches(data.x_train, data.y_train, batch_size, rng=rng, device=device):
        optimizer.zero_grad()
        loss = mg.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
    if loss is not None:
        loss.item()  # waits for the GPU, so that the time covers the work itself
    return time.perf_counter() - start


def train_one(
    name: str, make_optimizer: Callable[..., Any], initial_weights: dict[str, np.ndarray], data: Digits, *,
    epochs: int, batch_size: int, seed: int, device: str = "cpu", progress: bool = True,
) -> TrainResult:
    """Train a fresh MLP, starting from ``initial_weights``, with one optimizer.

    Parameters
    ----------
    name : str
        The optimizer's label (shown on the progress bar and stored in the result).
    make_optimizer : callable
        Called with the model's parameters; returns the optimizer.
    initial_weights : dict of str to numpy.ndarray
        A :meth:`~minigrad.nn.Module.state_dict` of an MLP with :data:`LAYER_SIZES`.
    data : Digits
        The training and test sets.
    epochs, batch_size : int
        Passes over the training set, and samples per mini-batch.
    seed : int
        Fixes the batch order, which is then the same for every optimizer.
    device : str, default "cpu"
        Where the model and the batches live.
    progress : bool, default True
        Show a progress bar on stderr (only when it is a terminal).

    Returns
    -------
    TrainResult
    """
    model = mg.nn.MLP(LAYER_SIZES, rng=seed, device=device)
    model.load_state_dict(initial_weights)
    optimizer = make_optimizer(model.parameters())
    x_train = mg.tensor(data.x_train, device=device)
    y_train = backend.to_device(data.y_train, device)
    batch_rng = np.random.default_rng(seed)
    losses = [evaluate(model, x_train, y_train)[0]]
    seconds = 0.0
    bar = Progress(range(epochs), name, "epoch", show=progress)
    for _ in bar:
        seconds += train_epoch(model, optimizer, data, batch_size, batch_rng, device)
        losses.append(evaluate(model, x_train, y_train)[0])
        bar.note(loss=f"{losses[-1]:.4f}")
    bar.close()
    x_test = mg.tensor(data.x_test, device=device)
    accuracy = evaluate(model, x_test, backend.to_device(data.y_test, device))[1]
    return TrainResult(name, losses, accuracy, seconds / max(epochs, 1))


def run_training(
    data: Digits, *, epochs: int, batch_size: int, seed: int, device: str = "cpu", sgd_lr: float = 0.1,
    progress: bool = True,
) -> list[TrainResult]:
    """Train the MLP once per optimizer of :func:`training_optimizers`, all from the same weights.

    The initial weights are drawn once, from ``seed``; the other arguments are those of :func:`train_one`.
    """
    initial_weights = mg.nn.MLP(LAYER_SIZES, rng=seed).state_dict()
    results = []
    for name, make_optimizer in training_optimizers(sgd_lr).items():
        result = train_one(
            name, make_optimizer, initial_weights, data,
            epochs=epochs, batch_size=batch_size, seed=seed, device=device, progress=progress,
        )
        results.append(result)
    return results

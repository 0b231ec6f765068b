"""``cross_entropy`` with PyTorch's options, and ``nll_loss``: values and gradients against PyTorch for every
combination of reduction, class weights, ignored targets, label smoothing and layout, central differences, the
default path kept bit for bit, and the edges (every target ignored, huge logits).

.. math::

    \\ell_n = -w_{t_n} \\log \\operatorname{softmax}(x_n)_{t_n}, \\qquad
    \\bar x_n = \\bar\\ell_n\\, w_{t_n} (p_n - \\operatorname{onehot}(t_n)).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from ops_gradcheck_helpers import leaf
from torch_helpers import compare

import minigrad as mg

CLASSES = 4
LAYOUTS = [(CLASSES,), (5, CLASSES), (3, CLASSES, 2), (2, CLASSES, 2, 3)]
OPTIONS = list(itertools.product(["mean", "sum", "none"], [False, True], [False, True], [0.0, 0.2]))
OPTION_IDS = [f"{r}-{'w' if w else 'no_w'}-{'ignore' if i else 'all'}-ls{s}" for r, w, i, s in OPTIONS]
WEIGHTS = np.array([0.5, 2.0, 1.0, 0.25])


def _targets(rng: np.random.Generator, layout: tuple[int, ...], ignore: bool) -> np.ndarray:
    shape = () if len(layout) == 1 else layout[:1] + layout[2:]
    targets = rng.integers(0, CLASSES, size=shape)
    if ignore:
        targets = np.where(rng.random(shape) < 0.3, -100, targets)
        targets.reshape(-1)[0] = -100  # at least one ignored
        if targets.size > 1:
            targets.reshape(-1)[-1] = 1  # and at least one counted
    return np.asarray(targets)


@pytest.mark.torch
@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize(("reduction", "weighted", "ignore", "smoothing"), OPTIONS, ids=OPTION_IDS)
def test_cross_entropy_of_classes_against_torch(device, rng, layout, reduction, weighted, ignore, smoothing):
    """Every option and layout ``(C,)``, ``(N, C)``, ``(N, C, d1[, d2])``: values and :math:`\\bar x` equal
    ``torch.nn.functional.cross_entropy``'s."""
    torch = pytest.importorskip("torch")
    targets = _targets(rng, layout, ignore)
    weight = WEIGHTS if weighted else None
    t_weight = torch.tensor(WEIGHTS) if weighted else None
    compare(device,
            lambda x: mg.cross_entropy(x, targets, weight=weight, reduction=reduction, label_smoothing=smoothing),
            lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(targets), weight=t_weight,
                                                        reduction=reduction, label_smoothing=smoothing),
            rng.standard_normal(layout) * 3, rng=rng)


@pytest.mark.torch
@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize(("reduction", "weighted", "smoothing"),
                         list(itertools.product(["mean", "sum", "none"], [False, True], [0.0, 0.2])), ids=str)
def test_cross_entropy_of_probabilities_against_torch(device, rng, layout, reduction, weighted, smoothing):
    """Class-probability targets: values and the gradients of both the logits and the targets equal torch's."""
    torch = pytest.importorskip("torch")
    weight = WEIGHTS if weighted else None
    t_weight = torch.tensor(WEIGHTS) if weighted else None
    class_axis = 0 if len(layout) == 1 else 1
    probabilities = rng.dirichlet(np.ones(CLASSES), size=int(np.prod(layout)) // CLASSES)
    probabilities = np.moveaxis(probabilities.reshape(*np.delete(layout, class_axis), CLASSES), -1, class_axis)
    compare(device,
            lambda x, q: mg.cross_entropy(x, q, weight=weight, reduction=reduction, label_smoothing=smoothing),
            lambda x, q: torch.nn.functional.cross_entropy(x, q, weight=t_weight, reduction=reduction,
                                                           label_smoothing=smoothing),
            rng.standard_normal(layout) * 3, probabilities, rng=rng)


@pytest.mark.torch
@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize(("reduction", "weighted", "ignore"),
                         list(itertools.product(["mean", "sum", "none"], [False, True], [False, True])), ids=str)
def test_nll_loss_against_torch(device, rng, layout, reduction, weighted, ignore):
    """``nll_loss`` of log-probabilities: values and :math:`\\bar X` equal ``torch.nn.functional.nll_loss``'s."""
    torch = pytest.importorskip("torch")
    targets = _targets(rng, layout, ignore)
    weight = WEIGHTS if weighted else None
    t_weight = torch.tensor(WEIGHTS) if weighted else None
    class_axis = 0 if len(layout) == 1 else 1
    compare(device,
            lambda x: mg.nll_loss(mg.log_softmax(x, axis=class_axis), targets, weight=weight, reduction=reduction),
            lambda x: torch.nn.functional.nll_loss(torch.log_softmax(x, dim=class_axis), torch.tensor(targets),
                                                   weight=t_weight, reduction=reduction),
            rng.standard_normal(layout), rng=rng)


@pytest.mark.torch
def test_every_target_ignored_gives_nan_and_a_zero_gradient_as_torch(device, rng):
    """With nothing counted the mean is :math:`0/0` = NaN, silently; the gradient is 0, as in PyTorch."""
    torch = pytest.importorskip("torch")
    targets = np.full(3, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for smoothing in (0.0, 0.1):
            compare(device, lambda x, s=smoothing: mg.cross_entropy(x, targets, ignore_index=7, label_smoothing=s),
                    lambda x, s=smoothing: torch.nn.functional.cross_entropy(
                        x, torch.tensor(targets), ignore_index=7, label_smoothing=s),
                    rng.standard_normal((3, CLASSES)))


@pytest.mark.torch
def test_huge_logits_stay_finite_without_warnings(device):
    """Logits of :math:`\\pm 10^4`: finite losses and gradients equal to torch's, no floating-point warning."""
    torch = pytest.importorskip("torch")
    logits = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, 1e4]])
    targets = np.array([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for smoothing in (0.0, 0.3):
            compare(device, lambda x, s=smoothing: mg.cross_entropy(x, targets, reduction="sum", label_smoothing=s),
                    lambda x, s=smoothing: torch.nn.functional.cross_entropy(
                        x, torch.tensor(targets), reduction="sum", label_smoothing=s), logits)


def test_the_default_call_is_bit_for_bit_the_one_pass_form(device, rng):
    """``cross_entropy(logits, targets)`` on ``(N, C)`` is still :math:`-\\frac1N\\sum_n \\log p_{n,t_n}` with
    :math:`\\bar X = (p - \\operatorname{onehot}(t))\\, \\bar L / N`, computed as before the options existed."""
    logits_np = rng.standard_normal((6, CLASSES)).astype(np.float32) * 4
    targets = np.array([0, 3, 3, 1, 2, 0])
    logits = mg.tensor(logits_np, requires_grad=True, device=device)
    loss = mg.cross_entropy(logits, targets)
    loss.backward()
    shifted = logits_np - logits_np.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss.numpy().tobytes() == np.asarray(-log_p[np.arange(6), targets].mean()).tobytes()
    onehot = np.zeros_like(logits_np)
    onehot[np.arange(6), targets] = 1
    expected_grad = (np.exp(log_p) - onehot) * (np.ones((), np.float32) / 6)
    assert logits.grad.numpy().tobytes() == expected_grad.astype(np.float32).tobytes()


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_cross_entropy_and_nll_gradcheck_with_options(device, rng, layout):
    """Central differences for weights, ignored targets, smoothing and each reduction, and for probability
    targets (both arguments)."""
    x = leaf(rng.standard_normal(layout) * 2, device)
    targets = _targets(rng, layout, ignore=len(layout) > 1)  # one sample ignored would make the loss NaN
    for reduction in ("mean", "sum", "none"):
        assert mg.gradcheck(lambda t, r=reduction: mg.cross_entropy(
            t, targets, weight=WEIGHTS, reduction=r, label_smoothing=0.15), x)
        assert mg.gradcheck(lambda t, r=reduction: mg.nll_loss(t, targets, weight=WEIGHTS, reduction=r), x)
    q = leaf(rng.random(layout), device)
    assert mg.gradcheck(lambda t, p: mg.cross_entropy(t, p, label_smoothing=0.1), x, q)


def test_float32_logits_keep_their_dtype_with_every_option(device, rng):
    """float32 logits give float32 losses and gradients, whatever the options."""
    x = mg.tensor(rng.standard_normal((3, CLASSES)).astype(np.float32), requires_grad=True, device=device)
    for loss in (mg.cross_entropy(x, [0, -100, 2], weight=WEIGHTS, label_smoothing=0.1),
                 mg.cross_entropy(x, rng.random((3, CLASSES))), mg.nll_loss(x, [1, 2, 3], reduction="sum")):
        x.grad = None
        loss.sum().backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32

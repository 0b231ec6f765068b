"""Values and gradients against PyTorch (the pinned 2.13.0 CPU wheel) in float64.

Each check runs the same function in both libraries on the same float64 inputs,
compares the outputs, then back-propagates the same random upstream gradient
:math:`G` and compares every vector-Jacobian product
:math:`\\bar x = G^\\top \\partial y / \\partial x`.
Unlike central differences, this also pins down the conventions at kinks
(ties of ``max``, ``relu``/``abs`` at 0, ``0 ** c``), where both libraries
promise the same subgradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from torch_helpers import ATOL, RTOL, compare

import minigrad as mg

torch = pytest.importorskip("torch")
tnn = torch.nn.functional

pytestmark = pytest.mark.torch

SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1), (2, 3, 4)]
SHAPE_PAIRS = []
for _a in SHAPES:
    for _b in SHAPES:
        try:
            np.broadcast_shapes(_a, _b)
        except ValueError:
            continue
        SHAPE_PAIRS.append((_a, _b))

# ----------------------------------------------------------------- arithmetic and broadcasting
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (mg.maximum, torch.maximum),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=str)
def test_binary_broadcasting(device, rng, name, sa, sb):
    """Broadcast binary ops: :math:`\\bar a = \\operatorname{sum\\_to}(G\\, \\partial y/\\partial a)` equals
    torch's, for every shape pairing."""
    a = rng.uniform(0.5, 2.0, size=sa)  # positive: a valid base for pow
    b = rng.uniform(0.5, 2.0, size=sb) * rng.choice([-1.0, 1.0], size=sb)
    compare(device, *BINARY[name], a, b, rng=rng)


@pytest.mark.parametrize(
    "form",
    [
        (lambda x: 2.0 - x, "2 - x"), (lambda x: 2.0 / x, "2 / x"), (lambda x: 2.0**x, "2 ** x"),
        (lambda x: 3.0 + x, "3 + x"), (lambda x: 3.0 * x, "3 * x"), (lambda x: x**3, "x ** 3"),
        (lambda x: x**-0.5, "x ** -0.5"), (lambda x: -x, "-x"), (lambda x: x / 4.0 - 1.0, "x / 4 - 1"),
    ],
    ids=lambda f: f[1],
)
def test_scalar_forms(device, rng, form):
    """Reflected forms: :math:`\\partial(c - x) = -1`, :math:`\\partial(c/x) = -c/x^2`,
    :math:`\\partial(c^x) = c^x \\ln c`."""
    fn = form[0]
    compare(device, fn, fn, rng.uniform(0.5, 2.0, size=(3, 4)), rng=rng)


def test_kinks_follow_torch(device):
    """Subgradients at kinks match torch: :math:`|x|'(0) = 0`, :math:`\\operatorname{relu}'(0) = 0`,
    :math:`\\partial_c 0^c = 0` and :math:`\\partial_x 0^0 = 0` for :math:`c \\ge 0`.
    """
    x = np.array([0.0, -1.5, 2.0, 0.0, 3.0])
    c = np.array([0.0, 2.0, 1.5, 2.0, 0.0])
    compare(device, lambda t: mg.abs(t) + mg.relu(t), lambda t: t.abs() + t.relu(), x)
    compare(device, lambda t, e: t**e, lambda t, e: t**e, np.abs(x), c)
    compare(device, lambda t: t**0, lambda t: t**0, x)


def test_ties_share_the_gradient_like_torch(device):
    """Ties: :math:`\\bar x_i = G [x_i = \\max] / \\#\\text{ties}` as ``torch.amax``; ``maximum`` gives each side
    :math:`G/2`."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    compare(device, lambda t: t.max(axis=1), lambda t: torch.amax(t, dim=1), x)
    compare(device, lambda t: t.max(), lambda t: torch.amax(t), x)
    compare(device, mg.maximum, torch.maximum, x, np.array([3.0, 2.0, 1.0]))


UNARY = {
    "exp": (mg.exp, torch.exp), "log": (mg.log, torch.log), "sqrt": (mg.sqrt, torch.sqrt),
    "abs": (mg.abs, torch.abs), "tanh": (mg.tanh, torch.tanh), "sigmoid": (mg.sigmoid, torch.sigmoid),
    "relu": (mg.relu, torch.relu), "neg": (mg.neg, torch.neg),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (3, 4), (2, 3, 4)], ids=str)
def test_unary(device, rng, name, shape):
    """Elementwise :math:`f(x)`: :math:`\\bar x = G f'(x)` equals torch's for exp, log, sqrt, abs, tanh, sigmoid,
    relu, neg."""
    values = rng.uniform(0.1, 3.0, size=shape)
    if name not in ("log", "sqrt"):
        values = values * rng.choice([-1.0, 1.0], size=shape)
    compare(device, *UNARY[name], values, rng=rng)


def test_sigmoid_extremes(device):
    """:math:`\\sigma(x)` stays finite and equals torch at :math:`|x| = 800`, where :math:`e^{|x|}` overflows."""
    compare(device, mg.sigmoid, torch.sigmoid, np.array([-800.0, -30.0, 0.0, 30.0, 800.0]))


# ----------------------------------------------------------------- reductions
def _torch_reduce(name, axis, keepdims):
    fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[name]

    def reduce(t):
        if axis is None:
            out = fn(t)
            return out.reshape((1,) * t.ndim) if keepdims else out
        return fn(t, dim=axis, keepdim=keepdims)

    return reduce


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(device, rng, name, axis, keepdims):
    """:math:`\\bar x = G` broadcast back (sum), :math:`G/n` (mean), :math:`G [x = \\max]` (max, and min) over
    ``axis``."""
    x = rng.permutation(24).reshape(2, 3, 4) * 0.25
    compare(device, lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), _torch_reduce(name, axis, keepdims), x)


# ----------------------------------------------------------------- linear algebra
@pytest.mark.parametrize(("sa", "sb"), [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((3, 4), (4, 5)),
                                        ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2))], ids=str)
def test_matmul(device, rng, sa, sb):
    """:math:`\\bar A = G B^\\top`, :math:`\\bar B = A^\\top G` with torch.matmul's 1-D and batch rules."""
    compare(device, lambda a, b: a @ b, torch.matmul, rng.standard_normal(sa), rng.standard_normal(sb), rng=rng)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)], ids=str)
def test_linear(device, rng, x_shape):
    """:math:`Y = XW^\\top + b` equals ``torch.nn.functional.linear``, with and without the bias."""
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(2)
    compare(device, mg.linear, tnn.linear, x, w, b, rng=rng)
    compare(device, mg.linear, tnn.linear, x, w, rng=rng)


# ----------------------------------------------------------------- shapes and indexing
@pytest.mark.parametrize(
    "case",
    [
        (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6), "reshape"),
        (lambda t: t.T, lambda t: t.permute(2, 1, 0), ".T"),
        (lambda t: t.transpose(1, 2, 0), lambda t: t.permute(1, 2, 0), "transpose"),
        (lambda t: t[1, :, ::2], lambda t: t[1, :, ::2], "slices"),
        (lambda t: t[[0, 0, 1, 0]], lambda t: t[[0, 0, 1, 0]], "repeated rows"),
        (lambda t: t[:, [2, 2, 0]], lambda t: t[:, [2, 2, 0]], "repeated columns"),
        (lambda t: t[[1, 1], [2, 2], [3, 0]], lambda t: t[[1, 1], [2, 2], [3, 0]], "repeated points"),
        (lambda t: t[t.numpy() > 0], lambda t: t[t.detach() > 0], "boolean mask"),
        (lambda t: mg.broadcast_to(t[:, :1], (5, 2, 3, 4)), lambda t: torch.broadcast_to(t[:, :1], (5, 2, 3, 4)),
         "broadcast_to"),
        (lambda t: mg.sum_to(t, (3, 1)), lambda t: t.sum_to_size(3, 1), "sum_to"),
        (lambda t: t.astype(np.float32).astype(np.float64), lambda t: t.float().double(), "astype"),
    ],
    ids=lambda c: c[2],
)
def test_shape_ops(device, rng, case):
    """Shape ops move values: :math:`\\bar x` is :math:`G` moved back, with :math:`\\bar x[i] \\mathrel{+}= G` for
    repeated indices."""
    compare(device, case[0], case[1], rng.standard_normal((2, 3, 4)), rng=rng)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(device, rng, axis):
    """:math:`\\bar x_k` is the slice of :math:`G` that came from :math:`x_k` (torch.cat / torch.stack)."""
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    compare(device, lambda p, q: mg.concatenate([p, q, p], axis=axis), lambda p, q: torch.cat([p, q, p], dim=axis),
            a, b, rng=rng)
    compare(device, lambda p, q: mg.stack([p, q, p], axis=axis), lambda p, q: torch.stack([p, q, p], dim=axis),
            a, b, rng=rng)


# ----------------------------------------------------------------- softmax and losses
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family(device, rng, axis):
    """Softmax and log-softmax along ``axis`` (values and :math:`\\bar x`) equal torch's, also for large logits."""
    x = rng.standard_normal((3, 4, 5)) * 50
    compare(device, lambda t: mg.softmax(t, axis=axis), lambda t: torch.softmax(t, dim=axis), x, rng=rng)
    compare(device, lambda t: mg.log_softmax(t, axis=axis), lambda t: torch.log_softmax(t, dim=axis), x, rng=rng)


def test_cross_entropy(device, rng):
    """:math:`L = -\\frac1N\\sum_n \\log\\operatorname{softmax}(X_n)_{t_n}` and
    :math:`\\bar X = (p - \\operatorname{onehot}(t))/N`."""
    targets = np.array([0, 2, 2, 1, 3, 0])
    logits = rng.standard_normal((6, 4)) * 5
    compare(device, lambda t: mg.cross_entropy(t, targets), lambda t: tnn.cross_entropy(t, torch.tensor(targets)),
            logits)


def test_mse_loss(device, rng):
    """:math:`L = \\frac1n\\sum_i (p_i - t_i)^2` with gradients for both arguments equals ``F.mse_loss``."""
    compare(device, mg.mse_loss, tnn.mse_loss, rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))


# ----------------------------------------------------------------- a whole model
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_forward_backward(device, rng, activation):
    """An MLP with the same weights gives the same loss and the same :math:`\\partial L/\\partial W`,
    :math:`\\partial L/\\partial b`, :math:`\\partial L/\\partial x` as ``torch.nn.Linear`` layers.
    """
    sizes = [5, 8, 7, 3]
    model = mg.nn.MLP(sizes, activation=activation, rng=3, dtype=np.float64, device=device)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(model[2 * i].weight.numpy()))
            linear.bias.copy_(torch.from_numpy(model[2 * i].bias.numpy()))
        layers += [linear, act()] if i < len(sizes) - 2 else [linear]
    reference = torch.nn.Sequential(*layers)

    x_np, targets = rng.standard_normal((10, 5)), rng.integers(0, 3, size=10)
    x = mg.tensor(x_np, requires_grad=True, device=device)
    tx = torch.tensor(x_np, requires_grad=True)
    loss = mg.cross_entropy(model(x), targets)
    t_loss = tnn.cross_entropy(reference(tx), torch.tensor(targets))
    loss.backward()
    t_loss.backward()

    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=RTOL)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=ATOL)
    t_params = dict(reference.named_parameters())
    names = [name for name, _ in model.named_parameters()]
    assert names == list(t_params)  # "0.weight", "0.bias", "2.weight", ... in both
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)

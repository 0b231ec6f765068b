"""Every differentiable operation against float64 central differences (``mg.gradcheck``).

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.

Values are drawn away from kinks (``abs``/``relu`` at 0, ties of ``max`` and
``maximum``) and from the edges of domains (``log``, ``sqrt``, division, a
tensor exponent), where central differences are not the derivative.
The last section differentiates twice: the gradient computed with
``create_graph=True`` is itself gradchecked, which checks that every
``backward`` is built from differentiable operations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg

SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1), (2, 3, 4)]


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


SHAPE_PAIRS = [(a, b) for a, b in itertools.product(SHAPES, SHAPES) if _broadcastable(a, b)]
PAIR_IDS = [f"{a}-{b}" for a, b in SHAPE_PAIRS]


def leaf(array: np.ndarray, device: str, requires_grad: bool = True) -> mg.Tensor:
    """A float64 leaf on ``device``."""
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad, device=device)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.3, high: float = 2.0) -> np.ndarray:
    """Values with :math:`|v| \\in [low, high]` and a random sign."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random permutation of well separated values (no ties, gaps of 0.1 >> eps)."""
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


def untied_pair(rng: np.random.Generator, sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` whose broadcast elements differ by at least 0.05 everywhere."""
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    while np.min(np.abs(np.subtract(a, b))) < 0.05:
        b = rng.standard_normal(sb)
    return a, b


# ----------------------------------------------------------------- binary ops, every broadcast pairing
BINARY = {
    "add": (lambda a, b: a + b, "standard"),
    "sub": (lambda a, b: a - b, "standard"),
    "mul": (lambda a, b: a * b, "standard"),
    "div": (lambda a, b: a / b, "nonzero_b"),
    "pow": (lambda a, b: a**b, "positive_a"),
    "maximum": (mg.maximum, "untied"),
}


def _binary_values(kind: str, rng: np.random.Generator, sa: tuple, sb: tuple) -> tuple[np.ndarray, np.ndarray]:
    if kind == "nonzero_b":
        return rng.standard_normal(sa), away_from_zero(rng, sb, 0.5, 2.0)
    if kind == "positive_a":
        return rng.uniform(0.5, 2.0, size=sa), rng.uniform(-1.5, 1.5, size=sb)
    if kind == "untied":
        return untied_pair(rng, sa, sb)
    return rng.standard_normal(sa), rng.standard_normal(sb)


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_binary_op_broadcasting(device, rng, name, sa, sb):
    """Broadcast binary ops:
    :math:`\\bar a = \\operatorname{sum\\_to}(\\bar y\\, \\partial y/\\partial a, \\operatorname{shape}(a))`.

    With :math:`\\partial(a+b) = (1, 1)`, :math:`\\partial(a-b) = (1, -1)`, :math:`\\partial(ab) = (b, a)`,
    :math:`\\partial(a/b) = (1/b, -a/b^2)`, :math:`\\partial(a^b) = (b a^{b-1}, a^b \\ln a)`,
    :math:`\\partial \\max(a, b) = ([a > b], [b > a])`.
    """
    fn, kind = BINARY[name]
    a, b = _binary_values(kind, rng, sa, sb)
    assert mg.gradcheck(fn, leaf(a, device), leaf(b, device))


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("which", [0, 1])
def test_binary_op_one_constant_operand(device, rng, name, which):
    """Only one operand requires a gradient: :math:`\\bar a` is still right and the constant gets none."""
    fn, kind = BINARY[name]
    a, b = _binary_values(kind, rng, (3, 1), (2, 3, 4))
    ta, tb = leaf(a, device, which == 0), leaf(b, device, which == 1)
    assert mg.gradcheck(fn, ta, tb)
    fn(ta, tb).sum().backward()
    assert (ta.grad is None) == (which == 1) and (tb.grad is None) == (which == 0)


SCALAR_FORMS = {
    "x + 2": (lambda x: x + 2.0, "any"),
    "2 + x": (lambda x: 2.0 + x, "any"),
    "x - 2": (lambda x: x - 2.0, "any"),
    "2 - x": (lambda x: 2.0 - x, "any"),
    "x * 2": (lambda x: x * 2.0, "any"),
    "2 * x": (lambda x: 2.0 * x, "any"),
    "x / 2": (lambda x: x / 2.0, "any"),
    "2 / x": (lambda x: 2.0 / x, "nonzero"),
    "x ** 2": (lambda x: x**2, "any"),
    "x ** 3.0": (lambda x: x**3.0, "any"),
    "x ** -1": (lambda x: x**-1, "nonzero"),
    "x ** 0.5": (lambda x: x**0.5, "positive"),
    "x ** -1.5": (lambda x: x**-1.5, "positive"),
    "2 ** x": (lambda x: 2.0**x, "any"),
    "0.5 ** x": (lambda x: 0.5**x, "any"),
    "-x": (lambda x: -x, "any"),
    "+x": (lambda x: +x * 1.0, "any"),
}


@pytest.mark.parametrize("form", list(SCALAR_FORMS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_scalar_and_reflected_forms(device, rng, form, shape):
    """Python-number operands on either side: :math:`\\partial(c - x) = -1`, :math:`\\partial(c/x) = -c/x^2`,
    :math:`\\partial(x^c) = c x^{c-1}`, :math:`\\partial(c^x) = c^x \\ln c`, :math:`\\partial(-x) = -1`.
    """
    fn, domain = SCALAR_FORMS[form]
    values = {"any": rng.standard_normal(shape), "nonzero": away_from_zero(rng, shape, 0.5, 2.0),
              "positive": rng.uniform(0.5, 2.0, size=shape)}[domain]
    assert mg.gradcheck(fn, leaf(values, device))


# ----------------------------------------------------------------- unary elementwise
UNARY = {
    "exp": (mg.exp, "any"),
    "log": (mg.log, "positive"),
    "sqrt": (mg.sqrt, "positive"),
    "abs": (mg.abs, "nonzero"),
    "tanh": (mg.tanh, "any"),
    "sigmoid": (mg.sigmoid, "wide"),
    "relu": (mg.relu, "nonzero"),
    "neg": (mg.neg, "any"),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_elementwise(device, rng, name, shape):
    """:math:`(e^x)' = e^x`, :math:`(\\ln x)' = 1/x`, :math:`(\\sqrt x)' = 1/(2\\sqrt x)`,
    :math:`|x|' = \\operatorname{sign} x`,
    :math:`\\tanh' = 1 - \\tanh^2`, :math:`\\sigma' = \\sigma(1-\\sigma)`, :math:`\\operatorname{relu}'(x) = [x > 0]`.
    """
    fn, domain = UNARY[name]
    values = {"any": rng.standard_normal(shape), "positive": rng.uniform(0.2, 3.0, size=shape),
              "nonzero": away_from_zero(rng, shape), "wide": rng.uniform(-8.0, 8.0, size=shape)}[domain]
    assert mg.gradcheck(fn, leaf(values, device))


# ----------------------------------------------------------------- reductions
def _axis_cases(shape: tuple[int, ...]) -> list:
    if not shape:
        return [None]
    cases = [None, 0, -1]
    if len(shape) >= 2:
        cases.append((0, len(shape) - 1))
    return cases


REDUCTION_CASES = [
    (shape, axis, keepdims)
    for shape in SHAPES
    for axis in _axis_cases(shape)
    for keepdims in (False, True)
]


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize(("shape", "axis", "keepdims"), REDUCTION_CASES, ids=str)
def test_reductions(device, rng, name, shape, axis, keepdims):
    """:math:`\\partial \\sum_i x_i / \\partial x_j = 1`, :math:`\\partial \\bar{x} / \\partial x_j = 1/n`,
    :math:`\\partial \\max_i x_i / \\partial x_j = [x_j = \\max]` (values are distinct: no ties).
    """
    fn = {"sum": mg.sum, "mean": mg.mean, "max": mg.max}[name]
    x = leaf(distinct(rng, shape), device)
    assert mg.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)
    method = getattr(x, name)(axis=axis, keepdims=keepdims)
    assert method.shape == getattr(np, name if name != "max" else "amax")(x.numpy(), axis=axis, keepdims=keepdims).shape


# ----------------------------------------------------------------- matmul and linear
MATMUL_SHAPES = [
    ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((3, 4), (4, 5)), ((1, 4), (4, 1)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((1, 3, 4), (2, 4, 2)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=str)
def test_matmul(device, rng, sa, sb):
    """:math:`Y = AB`: :math:`\\bar A = \\bar Y B^\\top`, :math:`\\bar B = A^\\top \\bar Y` (1-D operands as
    vectors, batch dims summed)."""
    a, b = leaf(rng.standard_normal(sa), device), leaf(rng.standard_normal(sb), device)
    assert mg.gradcheck(lambda p, q: p @ q, a, b)
    assert mg.gradcheck(mg.matmul, a, b)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(device, rng, x_shape, bias):
    """:math:`Y = XW^\\top + b`: :math:`\\bar X = \\bar Y W`, :math:`\\bar W = \\bar Y^\\top X`,
    :math:`\\bar b = \\sum_{rows} \\bar Y`."""
    x, w = leaf(rng.standard_normal(x_shape), device), leaf(rng.standard_normal((2, 3)), device)
    if bias:
        assert mg.gradcheck(mg.linear, x, w, leaf(rng.standard_normal(2), device))
    else:
        assert mg.gradcheck(mg.linear, x, w)


# ----------------------------------------------------------------- shape operations
RESHAPES = [((3, 4), (4, 3)), ((3, 4), (2, 6)), ((3, 4), (-1,)), ((2, 3, 4), (6, 4)), ((), (1, 1)), ((4,), (2, 1, 2))]


@pytest.mark.parametrize(("shape", "new"), RESHAPES, ids=str)
def test_reshape(device, rng, shape, new):
    """Reshape moves values only: :math:`\\bar x = \\operatorname{reshape}(\\bar y, \\operatorname{shape}(x))`."""
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(lambda t: t.reshape(new), x)
    assert mg.gradcheck(lambda t: mg.reshape(t, new) * 2.0, x)


@pytest.mark.parametrize(("shape", "axes"), [((3, 4), None), ((2, 3, 4), None), ((2, 3, 4), (1, 2, 0)),
                                             ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (0, 2, 1)), ((4,), None)], ids=str)
def test_transpose(device, rng, shape, axes):
    """Transpose by permutation :math:`p`: :math:`\\bar x = \\operatorname{transpose}(\\bar y, p^{-1})`."""
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(lambda t: mg.transpose(t, axes), x)
    if axes is None:
        assert mg.gradcheck(lambda t: t.T, x)
    else:
        assert mg.gradcheck(lambda t: t.transpose(*axes), x)


GETITEM_CASES = {
    "int": (lambda t: t[1], (3, 4)),
    "slice": (lambda t: t[1:, ::2], (3, 4)),
    "negative step": (lambda t: t[::-1], (3, 4)),
    "ellipsis": (lambda t: t[..., 1], (2, 3, 4)),
    "new axis": (lambda t: t[None, :, 2], (3, 4)),
    "repeated ints": (lambda t: t[[0, 2, 0, 0]], (3, 4)),
    "repeated 2-D ints": (lambda t: t[np.array([[0, 1], [1, 1]])], (3, 4)),
    "repeated pairs": (lambda t: t[[0, 0, 2], [1, 1, 3]], (3, 4)),
    "int then repeated": (lambda t: t[:, [3, 3, 0]], (3, 4)),
    "bool mask": (lambda t: t[t.numpy() > 0], (3, 4)),
    "bool rows": (lambda t: t[np.array([True, False, True])], (3, 4)),
    "bool list": (lambda t: t[[False, True, True, False]], (4,)),
    "int tensor": (lambda t: t[mg.tensor(np.array([1, 1, 0]), device=t.device)], (2, 3, 4)),
}


@pytest.mark.parametrize("case", list(GETITEM_CASES))
def test_getitem(device, rng, case):
    """Indexing scatters back: :math:`\\bar x = 0;\\ \\bar x[\\text{index}] \\mathrel{+}= \\bar y`, repeated indices
    add up."""
    fn, shape = GETITEM_CASES[case]
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(fn, x)


def test_getitem_repeated_index_sums(device):
    """:math:`y = x[[0, 0, 0, 2]]` gives :math:`\\bar x_0 = 3`, :math:`\\bar x_2 = 1`, others 0 (summed scatter)."""
    x = leaf(np.arange(4.0), device)
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(device, rng, axis):
    """Concatenation splits the gradient: :math:`\\bar x_k = \\bar y[\\ldots, \\text{slice}_k]`."""
    base = [2, 3, 4]
    shapes = []
    for size in (1, 2, 3):
        shape = list(base)
        shape[axis] = size
        shapes.append(tuple(shape))
    xs = [leaf(rng.standard_normal(s), device) for s in shapes]
    assert mg.gradcheck(lambda *ts: mg.concatenate(ts, axis=axis), *xs)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(device, rng, axis):
    """Stacking along a new axis: :math:`\\bar x_k = \\bar y[\\ldots, k]` on that axis."""
    xs = [leaf(rng.standard_normal((3, 4)), device) for _ in range(3)]
    assert mg.gradcheck(lambda *ts: mg.stack(ts, axis=axis), *xs)


@pytest.mark.parametrize(("shape", "target"), [((4,), (3, 4)), ((3, 1), (2, 3, 4)), ((), (2, 3)), ((1, 4), (3, 4))],
                         ids=str)
def test_broadcast_to(device, rng, shape, target):
    """:math:`y = \\operatorname{broadcast\\_to}(x, s)`:
    :math:`\\bar x = \\operatorname{sum\\_to}(\\bar y, \\operatorname{shape}(x))`."""
    assert mg.gradcheck(lambda t: mg.broadcast_to(t, target), leaf(rng.standard_normal(shape), device))


@pytest.mark.parametrize("target", [(3, 4), (3, 1), (1, 4), (4,), (), (2, 1, 4), (2, 3, 4)], ids=str)
def test_sum_to(device, rng, target):
    """:math:`y = \\operatorname{sum\\_to}(x, s)`:
    :math:`\\bar x = \\operatorname{broadcast\\_to}(\\bar y, \\operatorname{shape}(x))`."""
    x = leaf(rng.standard_normal((2, 3, 4)), device)
    assert mg.gradcheck(lambda t: mg.sum_to(t, target), x)
    assert mg.sum_to(x, target).shape == target


def test_astype(device, rng):
    """A cast is the identity on values up to rounding:
    :math:`\\bar x = \\operatorname{cast}(\\bar y, \\operatorname{dtype}(x))`.

    Through float32 the function is rounded to about 6e-8, so the step and the tolerance are wider.
    """
    x = leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(lambda t: (t.astype(np.float32) * 3.0).astype(np.float64), x, eps=1e-3, atol=1e-4, rtol=1e-3)
    assert mg.gradcheck(lambda t: mg.astype(t, np.float64) * t, x)


# ----------------------------------------------------------------- softmax family and losses
@pytest.mark.parametrize(("shape", "axis"), [((4,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((1, 4), -1)],
                         ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(device, rng, shape, axis, name):
    """:math:`\\bar x = y \\odot (\\bar y - \\langle \\bar y, y \\rangle)` for softmax and
    :math:`\\bar x = \\bar y - e^{y} \\sum_j \\bar y_j` for log-softmax, along ``axis``.
    """
    fn = getattr(mg, name)
    assert mg.gradcheck(lambda t: fn(t, axis=axis), leaf(rng.standard_normal(shape) * 3, device))


@pytest.mark.parametrize("n", [1, 5])
def test_cross_entropy(device, rng, n):
    """:math:`L = -\\frac1N \\sum_n \\log\\operatorname{softmax}(X_n)_{t_n}`:
    :math:`\\bar X = (\\operatorname{softmax}(X) - \\operatorname{onehot}(t))/N`."""
    logits = leaf(rng.standard_normal((n, 4)) * 2, device)
    targets = np.array([0, 3, 3, 1, 0][:n])
    assert mg.gradcheck(lambda t: mg.cross_entropy(t, targets), logits)


def test_mse_loss(device, rng):
    """:math:`L = \\frac1n \\sum_i (p_i - t_i)^2`: :math:`\\bar p = 2(p - t)/n = -\\bar t`."""
    p, t = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(mg.mse_loss, p, t)
    assert mg.gradcheck(lambda q: mg.mse_loss(q, t.numpy()), p)


# ----------------------------------------------------------------- second order: gradcheck the gradient
def grad_of(fn):
    """The map :math:`x \\mapsto \\nabla_x \\sum_i f(x)_i w_i`, built with ``create_graph=True`` so it is
    differentiable."""

    def gradient(*xs: mg.Tensor) -> mg.Tensor:
        saved = [x.grad for x in xs]  # gradcheck's own gradients must survive this call
        for x in xs:
            x.grad = None
        with mg.enable_grad():
            out = fn(*xs)
            weights = np.linspace(-1.0, 1.5, out.size).reshape(out.shape)
            (out * mg.tensor(weights, device=out.device)).sum().backward(create_graph=True)
        grads = [x.grad for x in xs]
        for x, g in zip(xs, saved):
            x.grad = g
        total = grads[0]
        for g in grads[1:]:
            total = total + g.sum()
        return total

    return gradient


SECOND_ORDER = {
    "mul": (lambda a, b: a * b * a, "standard"),
    "div": (lambda a, b: a / b, "nonzero_b"),
    "pow": (lambda a, b: a**b, "positive_a"),
    "add/sub": (lambda a, b: (a - b) * (a + b), "standard"),
    "exp": (lambda a, b: mg.exp(a) * b, "standard"),
    "log": (lambda a, b: mg.log(a) * b, "positive_a"),
    "sqrt": (lambda a, b: mg.sqrt(a) * b, "positive_a"),
    "tanh": (lambda a, b: mg.tanh(a * b), "standard"),
    "sigmoid": (lambda a, b: mg.sigmoid(a * b), "standard"),
    "matmul": (lambda a, b: (a @ b.T) ** 2, "standard"),
    "linear": (lambda a, b: mg.linear(a, b) ** 2, "standard"),
    "softmax": (lambda a, b: mg.softmax(a * b, axis=-1), "standard"),
    "log_softmax": (lambda a, b: mg.log_softmax(a * b, axis=0), "standard"),
    "cross_entropy": (lambda a, b: mg.cross_entropy(a * b, np.array([0, 3, 3])), "standard"),
    "reductions": (lambda a, b: a.sum(axis=0, keepdims=True) * b.mean(axis=1, keepdims=True) * a, "standard"),
    "max": (lambda a, b: a.max(axis=1) * b.sum(), "untied"),
    "getitem": (lambda a, b: a[[0, 0, 2]] * b[[1, 1, 1]], "standard"),
    "shape ops": (lambda a, b: mg.concatenate([a.T, b.T], axis=1).reshape(-1) ** 2, "standard"),
    "stack": (lambda a, b: mg.stack([a, b]) ** 3, "standard"),
    "broadcast": (lambda a, b: mg.broadcast_to(a[0], (2, 3, 4)) * mg.sum_to(b * b, (1, 4)), "standard"),
    "astype": (lambda a, b: a.astype(np.float64) ** 2 * b, "standard"),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order(device, rng, name):
    """The gradient :math:`g(x) = \\nabla_x f` built by ``backward(create_graph=True)`` is itself
    checked against central differences, i.e. the Hessian-vector products :math:`\\nabla_x \\langle g(x), R \\rangle`.
    """
    fn, kind = SECOND_ORDER[name]
    a, b = _binary_values(kind, rng, (3, 4), (3, 4))
    if kind == "untied":
        a = distinct(rng, (3, 4))
    assert mg.gradcheck(grad_of(fn), leaf(a, device), leaf(b, device))

"""Property tests: random expression graphs against finite differences (hypothesis).

A graph is a random program over 1-3 inputs. Each step applies an operation to
nodes picked from *all* nodes so far, so intermediate results feed several
consumers, and the output sums a few nodes. The chain rule over such a DAG,

.. math::

    \\bar v = \\sum_{c \\,\\in\\, \\text{consumers}(v)} \\bar c \\, \\frac{\\partial c}{\\partial v},

is exactly where engines that walk the graph in the wrong order, or overwrite
instead of add, go wrong. Only smooth operations are used (no kinks), with
domains kept safe (``log(1 + a^2)``, ``a / (1 + b^2)``), so central differences
are a valid oracle. Shapes broadcast to ``(3, 4)``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg

INPUT_SHAPES = [(3, 4), (1, 4), (3, 1), (4,), ()]

UNARY = {
    "neg": lambda a: -a,
    "tanh": mg.tanh,
    "sigmoid": mg.sigmoid,
    "exp_tanh": lambda a: mg.exp(mg.tanh(a)),
    "log1p_sq": lambda a: mg.log(1.0 + a * a),
    "sqrt1p_sq": lambda a: mg.sqrt(1.0 + a * a),
    "square": lambda a: a**2,
    "cube": lambda a: a * a * a,
    "scale": lambda a: 0.5 * a - 1.0,
    "rsub": lambda a: 2.0 - a,
    "sum_rows": lambda a: a.sum(axis=0, keepdims=True) if a.ndim == 2 else a.sum(),
    "mean_cols": lambda a: a.mean(axis=-1, keepdims=True) if a.ndim == 2 else a.mean(),
    "sum_all": lambda a: a.sum(),
    "softmax": lambda a: mg.softmax(a, axis=-1) if a.ndim >= 1 else a,
    "transpose_twice": lambda a: a.T.T,
    "reshape_back": lambda a: a.reshape(-1).reshape(a.shape),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "safe_div": lambda a, b: a / (1.0 + b * b),
    "pos_pow": lambda a, b: (1.0 + a * a) ** mg.tanh(b),
}


@st.composite
def programs(draw):
    """``(input shapes, steps, output node indices, seed)``; a step is ``(op name, operand indices)``."""
    n_inputs = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(INPUT_SHAPES)) for _ in range(n_inputs)]
    steps = []
    for k in range(draw(st.integers(1, 8))):
        n_nodes = n_inputs + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, n_nodes - 1)),)))
        else:
            pair = (draw(st.integers(0, n_nodes - 1)), draw(st.integers(0, n_nodes - 1)))
            steps.append((draw(st.sampled_from(sorted(BINARY))), pair))
    n_nodes = n_inputs + len(steps)
    outputs = [n_nodes - 1, *draw(st.lists(st.integers(0, n_nodes - 1), max_size=2))]
    return shapes, steps, outputs, draw(st.integers(0, 2**32 - 1))


def build(steps, outputs):
    """The function the program computes: every node once, results summed as
    :math:`\\sum_k \\operatorname{sum}(v_k)`."""

    def fn(*inputs):
        nodes = list(inputs)
        for name, operands in steps:
            op = UNARY.get(name) or BINARY[name]
            nodes.append(op(*(nodes[i] for i in operands)))
        total = nodes[outputs[0]].sum()
        for i in outputs[1:]:
            total = total + nodes[i].sum() * 0.5
        return total

    return fn


# ``device`` is a plain string, so sharing the fixture across generated examples is safe.
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def make_inputs(shapes, seed, device):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.uniform(-1.5, 1.5, size=s), requires_grad=True, device=device) for s in shapes]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(program=programs())
def test_random_graph_matches_finite_differences(device, program):
    """The gradient of a random DAG with shared nodes equals central differences:
    :math:`\\partial s/\\partial x_i \\approx (s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)) / 2\\varepsilon`.
    """
    shapes, steps, outputs, seed = program
    assert mg.gradcheck(build(steps, outputs), *make_inputs(shapes, seed, device))


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(program=programs())
def test_random_graph_backward_is_deterministic_and_additive(device, program):
    """Backward is deterministic (bitwise equal on a rebuilt graph) and linear in the seed:
    :math:`\\nabla (2 s) = 2 \\nabla s` and two backward passes through a retained graph add up, :math:`2\\nabla s`.
    """
    shapes, steps, outputs, seed = program
    fn = build(steps, outputs)
    xs = make_inputs(shapes, seed, device)
    fn(*xs).backward()
    first = [x.grad.numpy().copy() if x.grad is not None else np.zeros(x.shape) for x in xs]
    for x in xs:
        x.grad = None
    out = fn(*xs)
    out.backward(retain_graph=True)
    for x, g in zip(xs, first):
        np.testing.assert_array_equal(x.grad.numpy() if x.grad is not None else np.zeros(x.shape), g)
    out.backward(mg.tensor(np.array(2.0), device=device))
    for x, g in zip(xs, first):
        np.testing.assert_allclose(x.grad.numpy() if x.grad is not None else 0.0, 3 * g, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(program=programs())
def test_random_graph_second_order(device, program):
    """Differentiating the ``create_graph=True`` gradient of a random DAG matches central differences
    of that gradient (Hessian-vector products :math:`\\nabla_x \\langle \\nabla_x s, R\\rangle`).
    """
    shapes, steps, outputs, seed = program
    fn = build(steps, outputs)

    def gradient(*xs):
        saved = [x.grad for x in xs]
        for x in xs:
            x.grad = None
        with mg.enable_grad():
            fn(*xs).backward(create_graph=True)
        grads = [x.grad if x.grad is not None else x * 0.0 for x in xs]
        for x, g in zip(xs, saved):
            x.grad = g
        return mg.concatenate([g.reshape(-1) for g in grads])

    assert mg.gradcheck(gradient, *make_inputs(shapes, seed, device), atol=1e-5, rtol=1e-4)

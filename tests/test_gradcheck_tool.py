"""``mg.gradcheck`` itself: it must pass correct gradients and catch wrong ones.

It compares backward with :math:`(s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)) / 2\\varepsilon`
for :math:`s = \\langle R, f(x) \\rangle`, accepting :math:`|a - n| \\le \\text{atol} + \\text{rtol}\\,|n|`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg


class Square(mg.Function):
    """:math:`y = x^2` with the correct :math:`\\bar x = 2 x \\bar y`."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 2.0 * self.inputs[0]


class SquareMissingFactor(mg.Function):
    """:math:`y = x^2` with a wrong backward :math:`\\bar x = x \\bar y` (the factor 2 is missing)."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0]


class MulWrongAtOneElement(mg.Function):
    """:math:`y = a b` whose :math:`\\bar b` is off by 10 at the single element ``(1, 2)``."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        error = np.zeros(b.shape)
        error[1, 2] = 10.0
        return gy * b, gy * a + mg.tensor(error, device=b.device)


def leaf(values, device) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True, device=device)


def test_passes_on_correct_functions(device, rng):
    """Correct gradients pass: a custom :math:`x^2`, and :math:`\\tanh(ab) + a/b` over two inputs."""
    x = leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(lambda t: Square()(t), x)
    a, b = leaf(rng.standard_normal((3, 4)), device), leaf(rng.uniform(1.0, 2.0, size=(3, 4)), device)
    assert mg.gradcheck(lambda p, q: mg.tanh(p * q) + p / q, a, b)


def test_raises_on_a_wrong_backward(device, rng):
    """A backward missing the factor 2 of :math:`(x^2)' = 2x` raises GradcheckError, or returns False on request."""
    x = leaf(rng.uniform(0.5, 1.5, size=(2, 3)), device)
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradcheck(lambda t: SquareMissingFactor()(t), x)
    assert mg.gradcheck(lambda t: SquareMissingFactor()(t), x, raise_exception=False) is False
    assert issubclass(mg.GradcheckError, AssertionError)


def test_message_names_the_input_and_the_worst_index(device, rng):
    """The report names the failing input (1, not 0) and the index of its worst element, ``(1, 2)``."""
    a, b = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda p, q: MulWrongAtOneElement()(p, q), a, b)
    message = str(info.value)
    assert "input 1" in message and "input 0" not in message
    assert "index (1, 2)" in message
    assert "1 of 12 element(s) fail" in message


def test_message_prints_the_two_gradients_as_plain_numbers(device):
    """The report shows backward's and the central differences' values as plain numbers (``0.8``, not NumPy 2's
    ``np.float64(0.8)``) that read back exactly: at :math:`x = 0.8` with weight :math:`R`, :math:`xR` and
    :math:`\approx 2xR`."""
    x = leaf([0.8], device)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: SquareMissingFactor()(t), x)
    message = str(info.value)
    found = re.search(r"backward gives (\S+), central differences give (\S+), error", message)
    assert found is not None, message
    weight = np.random.default_rng(0).standard_normal((1,))[0]  # gradcheck's default seed
    assert float(found[1]) == 0.8 * weight
    assert float(found[2]) == pytest.approx(2 * 0.8 * weight, rel=1e-8)
    assert "np." not in message


def test_reports_the_worst_of_several_failing_inputs(device, rng):
    """When two inputs fail, the report is about the one whose error is larger (relative to the tolerance)."""
    a = leaf(rng.uniform(0.5, 1.5, size=(2, 2)), device)
    b = leaf(rng.uniform(5.0, 6.0, size=(3,)), device)
    with pytest.raises(mg.GradcheckError, match=r"input 1 \(shape \(3,\)\)"):
        mg.gradcheck(lambda p, q: SquareMissingFactor()(p).sum() + SquareMissingFactor()(q).sum(), a, b)


def test_leaves_the_inputs_untouched(device, rng):
    """The check works on float64 copies: the caller's values, dtype and ``grad`` do not change."""
    values = rng.standard_normal((2, 3)).astype(np.float32)
    x = mg.tensor(values, requires_grad=True, device=device)
    assert mg.gradcheck(lambda t: mg.exp(t) * 2.0, x)
    assert x.grad is None and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), values)


def test_non_contiguous_inputs(device, rng):
    """Inputs stored in Fortran order or as strided views are perturbed element by element all the same."""
    x = mg.tensor(rng.standard_normal((3, 4)), device=device).T  # a transposed (Fortran-ordered) array
    x = mg.tensor(x.data, requires_grad=True)
    assert mg.gradcheck(lambda t: t * t * 3.0, x)
    strided = mg.tensor(rng.standard_normal((4, 6)), device=device)[::2, ::3]
    assert mg.gradcheck(lambda t: mg.tanh(t), mg.tensor(strided.data, requires_grad=True))


def test_constants_and_unchecked_inputs(device, rng):
    """Arrays, numbers and tensors without ``requires_grad`` are passed through as constants."""
    x = leaf(rng.standard_normal(3), device)
    const = mg.tensor(rng.standard_normal(3), device=device)
    targets = np.array([0, 1])
    assert mg.gradcheck(lambda t, c, k: t * c + k, x, const, 2.0)
    assert mg.gradcheck(lambda t, ts: mg.cross_entropy(t.reshape(1, 3) * mg.tensor(np.ones((2, 1)), device=device),
                                                       ts), x, targets)


def test_output_independent_of_the_inputs(device):
    """A function whose output does not depend on :math:`x` has :math:`\\partial f/\\partial x = 0`, which passes."""
    x = leaf([1.0, 2.0], device)
    assert mg.gradcheck(lambda t: mg.tensor(np.array([3.0, 4.0]), device=device), x)
    assert mg.gradcheck(lambda t: t * 0.0, x)


def test_argument_validation(device):
    """No checkable input, a non-Tensor result or a bad step is refused with a clear error."""
    x = leaf([1.0], device)
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t, mg.tensor(np.ones(1), device=device))
    with pytest.raises(TypeError, match="Tensor"):
        mg.gradcheck(lambda t: 1.0, x)
    for eps in (0.0, -1e-6, float("nan")):
        with pytest.raises(ValueError, match="eps"):
            mg.gradcheck(lambda t: t, x, eps=eps)


def test_tolerances_are_applied(device):
    """A relative error of 1e-3 (:math:`\\bar x = 1.001\\, \\bar y`) fails at rtol 1e-5 and passes at rtol 1e-2."""

    class SlightlyOff(mg.Function):
        def forward(self, x):
            return 2.0 * x

        def backward(self, gy):
            return gy * 2.002

    x = leaf([1.0, -2.0, 0.5], device)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: SlightlyOff()(t), x)
    assert mg.gradcheck(lambda t: SlightlyOff()(t), x, rtol=1e-2)

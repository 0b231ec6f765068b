"""Check backward against float64 central differences.

For a function :math:`f` with inputs :math:`x^{(k)}`, the check draws a fixed
random weight :math:`R` with the shape of the output, forms the scalar
:math:`s(x) = \\langle R, f(x) \\rangle` (so every output element matters), and
compares the gradient that backward computes with

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2 \\varepsilon},

element by element, accepting :math:`|a - n| \\le \\text{atol} + \\text{rtol}\\,|n|`.
The central difference has error :math:`O(\\varepsilon^2)`; in float64 with
:math:`\\varepsilon = 10^{-6}` it is accurate to about :math:`10^{-9}` for
smooth functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.checks import check_flag
from minigrad.config import no_grad
from minigrad.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with finite differences.

    Examples
    --------
    >>> import minigrad as mg
    >>> class Wrong(mg.Function):
    ...     def forward(self, x):
    ...         return x * x
    ...     def backward(self, gy):
    ...         return gy
    >>> try:
    ...     mg.gradcheck(lambda t: Wrong()(t), mg.tensor([1.5], requires_grad=True))
    ... except mg.GradcheckError:
    ...     print('backward disagrees with the finite differences')
    backward disagrees with the finite differences
    """


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradients of ``fn`` from backward with float64 central differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs (as Tensors) and returns a Tensor of any shape.
    *inputs : Tensor or array_like
        The point at which to check. Every floating-point Tensor with
        ``requires_grad=True`` is checked; the others are passed as constants.
        All are copied to float64 first, so the check never changes them.
    eps : float, default 1e-6
        The finite-difference step.
    atol, rtol : float
        Tolerances: an element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    seed : int, default 0
        Seed of the random output weights :math:`R`.
    raise_exception : bool, default True
        Raise :class:`GradcheckError` on failure (else return ``False``).

    Returns
    -------
    bool
        ``True`` when every element passes.

    Raises
    ------
    GradcheckError
        With a report of the worst element: which input, which index, both
        values and the error.

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.tensor([0.5, -1.0], requires_grad=True)
    >>> mg.gradcheck(lambda t: (mg.tanh(t) * t).sum(), x)
    True
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable returning a Tensor, got {fn!r}")
    for name, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: expected a number, got {value!r}")
        if not np.isfinite(value) or value < 0 or (name == "eps" and value == 0):
            raise ValueError(f"{name}: expected a finite number {'> 0' if name == 'eps' else '>= 0'}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an integer, got {seed!r}")
    raise_exception = check_flag("raise_exception", raise_exception)
    copies = [_float64_copy(x) for x in inputs]
    checked = [i for i, x in enumerate(copies) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("inputs: no Tensor with requires_grad=True to check")

    out = fn(*copies)
    if not isinstance(out, Tensor):
        raise TypeError(f"fn: expected it to return a Tensor, got {type(out).__name__}")
    weights = out.xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    if out.requires_grad:  # else no input reaches the output and every gradient is 0
        (out * weights).sum().backward()
    # Read the gradients now: the calls of ``fn`` below must not be able to change them.
    analytics = {
        i: backend.to_numpy(copies[i].grad.data) if copies[i].grad is not None else np.zeros(copies[i].shape)
        for i in checked
    }

    def weighted_output() -> float:
        with no_grad():
            return float((fn(*copies).data * weights).sum())

    worst: tuple[float, str] | None = None
    for i in checked:
        x = copies[i]
        analytic = analytics[i]
        numeric = np.zeros(x.shape)
        flat = x.data.reshape(-1)  # a view: writing it perturbs x
        for j in range(flat.size):
            original = float(flat[j])
            flat[j] = original + eps
            plus = weighted_output()
            flat[j] = original - eps
            minus = weighted_output()
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric)
        ratio = error / (atol + rtol * np.abs(numeric))
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        if ratio.size and ratio.max() > 1:
            k = np.unravel_index(int(np.argmax(ratio)), x.shape)
            report = (
                f"gradcheck failed for input {i} (shape {x.shape}) at index {tuple(int(v) for v in k)}: "
                f"backward gives {analytic[k].item()!r}, central differences give {numeric[k].item()!r}, "
                f"error {error[k]:.3e} > atol + rtol*|numeric| = {atol + rtol * abs(numeric[k]):.3e}; "
                f"{int((ratio > 1).sum())} of {ratio.size} element(s) fail"
            )
            if worst is None or ratio.max() > worst[0]:
                worst = (float(ratio.max()), report)
    if worst is not None:
        if raise_exception:
            raise GradcheckError(worst[1])
        return False
    return True


def _float64_copy(x: Any) -> Any:
    if isinstance(x, Tensor):
        if x.dtype.kind == "f":
            # C order, so that ``reshape(-1)`` in gradcheck is a view through which x is perturbed.
            return Tensor(x.data.astype(np.float64, order="C", copy=True), requires_grad=x.requires_grad)
        return Tensor(x.data.copy())
    return x

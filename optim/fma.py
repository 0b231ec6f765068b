"""The fused multiply-add :math:`\\operatorname{fma}(a, b, c) = a b + c`, rounded once, on NumPy arrays.

PyTorch's CPU kernel for ``x.add(y, alpha=a)`` computes ``x + a * y`` as one
fused multiply-add per element (``vec::fmadd`` in the vectorised loop, and the
compiler contracts the scalar tail the same way), so ``torch.optim.SGD``
rounds ``param - lr * grad`` once, not twice. NumPy has no fma ufunc; this
module computes the correctly rounded result with ordinary operations:

* float16 and float32: the product of two such numbers is exact in float64;
  the sum is rounded in float64 and then to the dtype, which is the correctly
  rounded result except for the few sums that land on a halfway point of the
  dtype or below its smallest normal (:func:`_fma_narrow`); those are added
  again rounded to odd in float64 (:func:`_add_round_to_odd`), which rounds
  correctly because float64 has more than :math:`p + 2` bits (Boldo &
  Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
  using rounding to odd", IEEE Trans. Computers 57(4), 2008, Theorem 2).
* float64: Dekker's exact product :math:`a b = u_h + u_l`, Knuth's exact sum
  :math:`c + u_h = t_h + t_l`, then :math:`\\operatorname{RN}(t_h +
  \\operatorname{RO}(t_l + u_l))` (the same paper, Algorithm 5), which holds
  when the product neither underflows (:math:`|a b| \\ge 2^{-969}`) nor
  comes near overflow, nor do the operands (:data:`FLOAT64_EXACT_RANGE`).
  The rare elements outside that range are computed exactly with Python's
  :class:`fractions.Fraction` and rounded once by ``float()``; finite factors
  and an infinite ``c`` give ``c``; with an infinite or NaN factor, a NaN
  ``c`` or a zero factor, ``a * b + c`` is already rounded once.

The compiled kernels (:mod:`optim.fused.jit`: LLVM's ``llvm.fma``; CUDA's
``fma``) round once in hardware, so every path gives the same bits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["FLOAT64_EXACT_RANGE", "fma", "fma_of"]

#: ``(smallest |a*b|, bound on |a*b|, |a|, |b|, |c|)`` within which the float64 emulation is correctly rounded.
FLOAT64_EXACT_RANGE = (2.0**-969, 2.0**995)

_SPLITTER = 2.0**27 + 1.0  # Dekker's constant for 53-bit numbers


def fma(a: Any, b: Any, c: Any) -> Any:
    """:math:`a b + c` rounded once to the dtype of the operands (NumPy arrays or scalars of one float dtype).

    Parameters
    ----------
    a, b, c : array or NumPy scalar
        Of one floating dtype (float16, float32 or float64); they broadcast.

    Returns
    -------
    array or NumPy scalar
        The correctly rounded :math:`a b + c`, in that dtype (see the module docstring for float64's range).
    """
    dtype = np.result_type(a, b, c)
    if dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"fma: expected float16, float32 or float64 operands, got dtype {dtype}")
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    plain = a * b + c  # rounded twice; under the caller's np.errstate, so that overflow and NaN are reported
    with np.errstate(all="ignore"):  # the steps below meet inf - inf for infinite operands: not the caller's
        result = _fma_float64(a, b, c, plain) if dtype == np.float64 else _fma_narrow(a, b, c, dtype)
    return result[()]


def fma_of(xp: Any) -> Callable[[Any, Any, Any], Any]:
    """The fused multiply-add on arrays of the module ``xp``: :func:`fma` for NumPy, CUDA's ``fma`` for CuPy."""
    if xp is np:
        return fma
    return _cupy_fma(xp)


@functools.cache
def _cupy_fma(cupy: Any) -> Callable[[Any, Any, Any], Any]:
    """An elementwise CuPy kernel that calls CUDA's correctly rounded ``fma``."""
    return cupy.ElementwiseKernel("T a, T b, T c", "T out", "out = fma(a, b, c)", "optim_fma")


def _two_sum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = RN(x + y)`` and the exact error ``x + y - s``."""
    s = x + y
    y_part = s - x
    error = (x - (s - y_part)) + (y - y_part)
    return s, error


def _add_round_to_odd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x + y`` in float64 rounded to odd: when inexact, the neighbour whose last significand bit is 1."""
    s, error = _two_sum(x, y)
    even = (s.view(np.uint64) & np.uint64(1)) == 0
    toward = np.where(error > 0, np.inf, -np.inf)
    return np.where((error != 0) & even & np.isfinite(s), np.nextafter(s, toward), s)


def _fma_narrow(a: np.ndarray, b: np.ndarray, c: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float16 and float32: the product exactly in float64 (2 x 24 bits < 53), the sum rounded in float64, then
    to ``dtype``.

    Rounding twice gives the correctly rounded sum except, possibly, where the
    float64 rounding was inexact and landed exactly halfway between two
    neighbours in ``dtype`` (the second rounding then breaks a tie the exact
    sum did not have), or on a nonzero sum below ``dtype``'s smallest normal,
    whose halfway points lie elsewhere: the float64 rounding is monotonic and
    keeps every halfway point of ``dtype``, so it cannot move a sum across one.
    Those few elements are computed again with the sum rounded to odd, which
    is correct everywhere. A float64 sum is exact when
    subtracting either term gives back the other (its error would be a nonzero
    multiple of the finer spacing of the two terms, too large to vanish in both
    subtractions).
    """
    wide = np.float64
    product = np.multiply(a, b, dtype=wide)
    total = np.asarray(np.add(product, c, dtype=wide))
    result = total.astype(dtype)
    info = np.finfo(dtype)
    dropped = 52 - info.nmant  # the float64 significand bits that the rounding to dtype drops
    doubtful = (total.view(np.uint64) & np.uint64((1 << dropped) - 1)) == np.uint64(1 << (dropped - 1))
    doubtful |= (np.abs(total) < info.tiny) & (total != 0)
    if doubtful.any():  # wrong only where the float64 sum was rounded
        doubtful &= (np.subtract(total, c, dtype=wide) != product) | (np.subtract(total, product) != c)
    if doubtful.any():
        a_, b_, c_ = (np.broadcast_to(x, total.shape)[doubtful].astype(wide) for x in (a, b, c))
        result[doubtful] = _add_round_to_odd(a_ * b_, c_).astype(dtype)
    return result


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's split of a float64 into two halves of at most 26 bits, ``x = high + low`` exactly."""
    scaled = x * _SPLITTER
    high = scaled - (scaled - x)
    return high, x - high


def _fma_float64(a: np.ndarray, b: np.ndarray, c: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Boldo & Melquiond's emulated fma for float64; ``plain`` (``a * b + c``) outside its range."""
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    high, low = _two_sum(c, product)
    emulated = high + _add_round_to_odd(low, product_error)
    tiny, huge = FLOAT64_EXACT_RANGE
    in_range = ((np.abs(product) >= tiny) & (np.abs(product) < huge) & (np.abs(a) < huge) & (np.abs(b) < huge)
                & (np.abs(c) < huge))
    finite_factors = np.isfinite(a) & np.isfinite(b)
    # a * b may overflow to inf where the exact product is finite: an infinite c is then the result, not NaN
    result = np.where(in_range, emulated, np.where(finite_factors & np.isinf(c), c, plain))
    outside = ~in_range & finite_factors & np.isfinite(c) & (a != 0) & (b != 0)
    if outside.any():
        a, b, c = np.broadcast_arrays(a, b, c)
        for index in zip(*np.nonzero(outside)):
            result[index] = _exact_fma(float(a[index]), float(b[index]), float(c[index]))
    return result


def _exact_fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` for finite floats, computed exactly and rounded once (``int / int`` rounds correctly)."""
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        return 0.0  # an exact zero sum of nonzero terms is +0 when rounding to nearest
    try:
        return float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf

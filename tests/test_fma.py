"""optim.fma.fma, the fused multiply-add on NumPy arrays that PyTorch's SGD needs: a * b + c rounded once, checked
against the C library's fma and fmaf (correctly rounded by the C standard) on random, extreme and special values."""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import assert_same_bits

from optim.fma import fma

LIBM_NAME = ctypes.util.find_library("m")
needs_libm = pytest.mark.skipif(LIBM_NAME is None, reason="no C math library to compare with")


def c_fma(dtype):
    """The C library's fma (float64) or fmaf (float32), elementwise over three arrays."""
    libm = ctypes.CDLL(LIBM_NAME)
    function, c_type = (libm.fmaf, ctypes.c_float) if dtype == np.float32 else (libm.fma, ctypes.c_double)
    function.restype, function.argtypes = c_type, [c_type] * 3

    def elementwise(a, b, c):
        return np.array([function(float(x), float(y), float(z)) for x, y, z in zip(a, b, c)], dtype)

    return elementwise


@needs_libm
@settings(max_examples=200, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fma_is_the_c_librarys_on_any_floats(data, dtype):
    """Any floats of the dtype (subnormals, huge values, infinities, NaN, signed zeros): C's bits, NaN where NaN."""
    arrays = hnp.arrays(dtype, 16, elements=st.floats(width=np.finfo(dtype).bits))
    a, b, c = data.draw(arrays), data.draw(arrays), data.draw(arrays)
    with np.errstate(all="ignore"):
        assert_same_bits(fma(a, b, c), c_fma(dtype)(a, b, c), f"fma of {dtype.__name__}")


@needs_libm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_on_cancellations_and_far_apart_magnitudes(dtype):
    """Where rounding twice goes wrong most often: c close to -a*b, and c many binades from a*b; for float64 also
    products that underflow or overflow (the exact fallback)."""
    rng = np.random.default_rng(2008)
    a, b = rng.standard_normal(20_000).astype(dtype), rng.standard_normal(20_000).astype(dtype)
    near = (-(a.astype(np.float64) * b) * (1 + 1e-7 * rng.standard_normal(20_000))).astype(dtype)
    far = (rng.standard_normal(20_000) * 10.0 ** rng.integers(-30, 30, 20_000)).astype(dtype)
    cases = [(a, b, near), (a, b, far)]
    if dtype == np.float64:
        scale = 2.0 ** rng.integers(-540, 520, (2, 20_000))
        cases.append((a * scale[0], b * scale[1], rng.standard_normal(20_000) * 2.0 ** rng.integers(-1074, 1023,
                                                                                                     20_000)))
    with np.errstate(all="ignore"):
        for x, y, z in cases:
            assert_same_bits(fma(x, y, z), c_fma(dtype)(x, y, z), f"fma of {dtype.__name__}")
        assert (fma(a, b, near) != a * b + near).any()  # these numbers do tell once from twice


@needs_libm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_on_every_triple_of_special_values(dtype):
    """+-0, +-inf, NaN, +-1 and a large value in every position: the C library's signed zeros and infinities."""
    values = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 1e30]
    a, b, c = (np.array(column, dtype) for column in zip(*itertools.product(values, repeat=3)))
    with np.errstate(all="ignore"):
        assert_same_bits(fma(a, b, c), c_fma(dtype)(a, b, c), f"fma of {dtype.__name__}")


def test_fma_broadcasts_scalars_and_keeps_the_dtype():
    """A NumPy scalar of the dtype broadcasts against the arrays, as in the rules; the result has the dtype."""
    result = fma(np.arange(3, dtype=np.float32), np.float32(0.5), np.ones(3, np.float32))
    assert result.dtype == np.float32 and result.tolist() == [1.0, 1.5, 2.0]


def test_fma_reports_an_overflow_under_the_callers_errstate():
    """np.errstate(over="raise") raises for a result that overflows, as the separate operations would."""
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        fma(np.array([1e300]), np.array([1e300]), np.array([0.0]))


def test_fma_refuses_integers_by_name():
    with pytest.raises(TypeError, match=r"^fma: expected float16, float32 or float64 operands, got dtype int64"):
        fma(np.arange(2), np.arange(2), np.arange(2))


@needs_libm
def test_fma_of_an_overflowing_product_and_an_infinite_addend():
    """a * b overflows to +inf for finite a and b, but the exact product is finite: with c = -inf the fma is
    -inf, not the NaN of inf + -inf."""
    a, b, c = np.array([8e272, -8e272]), np.array([2.25e35, 2.25e35]), np.array([-np.inf, np.inf])
    with np.errstate(all="ignore"):
        assert_same_bits(fma(a, b, c), c_fma(np.float64)(a, b, c), "fma")


#: ``8392705 * 8384513 == 2**46 + 1``: two float32 significands whose product lies just above a power of two.
_JUST_ABOVE = (8392705, 8384513)


@needs_libm
@pytest.mark.parametrize("scale", [0, -20, 30, -100])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_fma_float32_where_rounding_twice_breaks_a_tie_the_wrong_way(scale, sign):
    """c = 2^e and a b = 2^(e-24) (1 + 2^-46): the exact sum lies just above the float32 halfway point between
    2^e and its upper neighbour, but rounds in float64 onto it, and the tie then goes to the even 2^e. The
    float32 path must notice the tie and give C's fmaf (the upper neighbour)."""
    ma, mb = _JUST_ABOVE
    a = np.array([sign * math.ldexp(ma, scale - 35)], np.float32)
    b = np.array([math.ldexp(mb, -35)], np.float32)
    c = np.array([sign * math.ldexp(1.0, scale)], np.float32)
    expected = c_fma(np.float32)(a, b, c)
    twice = (a.astype(np.float64) * b + c).astype(np.float32)
    assert expected[0] != twice[0]  # the case does tell once from twice
    assert_same_bits(fma(a, b, c), expected, "fma of float32 at a tie")
    assert_same_bits(fma(a[0], b[0], c), expected, "a scalar factor")  # broadcasting, as the rules call it


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_fma_float16_is_the_exact_sum_rounded_once(data):
    """float16 (no C function to compare with): the exact a b + c, as a fraction, rounded once to float16. The
    exact sum of float16 numbers always fits in float64, so ``float()`` of the fraction is exact."""
    arrays = hnp.arrays(np.float16, 8, elements=st.floats(width=16, allow_nan=False, allow_infinity=False))
    a, b, c = data.draw(arrays), data.draw(arrays), data.draw(arrays)
    exact = [Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)) for x, y, z in zip(a, b, c)]
    with np.errstate(all="ignore"):
        expected = np.array([float(value) if value != 0 else float(x) * float(y) + float(z)
                             for value, x, y, z in zip(exact, a, b, c)], np.float64).astype(np.float16)
        assert_same_bits(fma(a, b, c), expected, "fma of float16")

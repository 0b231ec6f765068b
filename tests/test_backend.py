"""The backend helpers that hide NumPy/CuPy (and NumPy 1/2) differences."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import backend

# NEP 50 (NumPy 2): a Python number takes the array's dtype unless its kind is wider.
EXPECTED = {
    "float32": ["float32", "float32", "float32", "complex64"],
    "float64": ["float64", "float64", "float64", "complex128"],
    "float16": ["float16", "float16", "float16", "complex64"],
    "int32": ["int32", "int32", "float64", "complex128"],
    "uint8": ["uint8", "uint8", "float64", "complex128"],
    "bool": ["bool", "int64", "float64", "complex128"],
    "complex64": ["complex64", "complex64", "complex64", "complex64"],
}


@pytest.mark.parametrize("dtype", sorted(EXPECTED))
def test_python_scalar_dtype_follows_nep50(dtype: str) -> None:
    """``array op value`` for value in (True, 2, 2.0, 2j) has NumPy 2's result dtype, whatever NumPy is installed."""
    got = [str(backend.python_scalar_dtype(dtype, value)) for value in (True, 2, 2.0, 2j)]
    assert got == EXPECTED[dtype]
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        assert got == [str(np.result_type(np.zeros(3, dtype), v)) for v in (True, 2, 2.0, 2j)]


def test_same_device_for_numpy_arrays() -> None:
    """Two NumPy arrays are always on one device."""
    assert backend.same_device(np.zeros(2), np.ones(3))


def test_erf_is_the_c_library_erf_in_the_array_dtype(device, xp) -> None:
    """``erf`` gives ``math.erf`` elementwise (exactly in float64), keeps a float dtype, gives float64 for integers,
    and refuses complex numbers naming the dtype."""
    import math

    values = [-3.0, -0.5, 0.0, 1e-8, 0.75, 2.0, float("inf"), float("nan")]
    result = backend.to_numpy(backend.erf(xp.asarray(values)))
    expected = [math.erf(v) for v in values]
    rtol = 0.0 if device == "cpu" else 1e-15  # CuPy has its own implementation
    np.testing.assert_allclose(result, expected, rtol=rtol, atol=0.0)
    assert backend.erf(xp.asarray(values, dtype=np.float32)).dtype == np.float32
    assert backend.erf(xp.asarray([1, 2])).dtype == np.float64
    with pytest.raises(TypeError, match="erf: expected real numbers, got dtype complex128"):
        backend.erf(xp.asarray([1j]))

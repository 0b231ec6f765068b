"""GELU (exact and tanh forms) and the ``Sigmoid`` and ``GELU`` layers: values and gradients against PyTorch,
stability at large :math:`|x|`, and dtypes.

.. math::

    \\operatorname{gelu}'(x) = \\Phi(x) + x\\, \\varphi(x), \\qquad \\sigma'(x) = \\sigma(x) (1 - \\sigma(x)).

Central differences for ``gelu`` in every shape are in tests/test_ops_gradcheck_elementwise.py, second order in
tests/test_ops_gradcheck_second_order.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_helpers import compare

import minigrad as mg
from minigrad import nn

WIDE = np.array([-50.0, -12.0, -10.5, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 3.0, 10.5, 12.0, 50.0])


@pytest.mark.torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_against_torch(device, rng, approximate):
    """Values and :math:`\\bar x` equal ``torch.nn.functional.gelu`` on a wide range, both forms, and as a layer."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn.functional
    compare(device, lambda t: mg.gelu(t, approximate=approximate),
            lambda t: tnn.gelu(t, approximate=approximate), WIDE)
    compare(device, lambda t: mg.gelu(t, approximate=approximate),
            lambda t: tnn.gelu(t, approximate=approximate), rng.standard_normal((3, 4)) * 3, rng=rng)
    compare(device, nn.GELU(approximate), torch.nn.GELU(approximate), rng.standard_normal((2, 5)), rng=rng)


@pytest.mark.torch
def test_sigmoid_layer_against_torch(device, rng):
    """``nn.Sigmoid`` gives ``torch.nn.Sigmoid``'s values and gradients, also where :math:`e^{|x|}` overflows."""
    torch = pytest.importorskip("torch")
    compare(device, nn.Sigmoid(), torch.nn.Sigmoid(), rng.standard_normal((3, 4)) * 5, rng=rng)
    compare(device, nn.Sigmoid(), torch.nn.Sigmoid(), np.array([-800.0, -40.0, 0.0, 40.0, 800.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.GELU(), nn.GELU("tanh")], ids=["sigmoid", "gelu", "gelu_tanh"])
def test_no_warning_and_finite_at_huge_inputs(device, dtype, layer):
    """At :math:`|x|` up to the dtype's largest value the layers give finite values and gradients without a
    floating-point warning: :math:`\\sigma \\to 0, 1`, :math:`\\operatorname{gelu}(x) \\to 0, x`."""
    big = float(np.finfo(dtype).max)
    x = mg.tensor(np.array([-big, -1e4, 1e4, big], dtype=dtype), requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer(x)
        y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    expected = [0.0, 0.0, 1.0, 1.0] if isinstance(layer, nn.Sigmoid) else [0.0, 0.0, 1e4, big]
    np.testing.assert_allclose(y.numpy(), np.array(expected, dtype=dtype), rtol=1e-6)


def test_gelu_float32_stays_float32(device):
    """float32 in, float32 out and float32 gradients, in both forms."""
    x = mg.tensor(np.array([-1.0, 0.5, 2.0], dtype=np.float32), requires_grad=True, device=device)
    for approximate in ("none", "tanh"):
        x.grad = None
        y = mg.gelu(x, approximate=approximate)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_gelu_layer_repr_and_refusals():
    """The layer shows its form; an unknown form or a complex input is refused, naming the argument."""
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    with pytest.raises(ValueError, match=r"approximate.*'exact'"):
        nn.GELU("exact")
    with pytest.raises(TypeError, match=r"x: .*complex"):
        mg.gelu(mg.tensor(np.array([1j])))

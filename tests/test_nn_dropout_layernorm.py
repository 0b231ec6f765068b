"""``nn.Dropout`` and ``nn.LayerNorm``: PyTorch's definitions (inverted dropout, biased variance), seeded masks,
train/eval, gradients against central differences and PyTorch.

.. math::

    \\text{dropout: } y = x \\odot m / (1 - p), \\quad m_i \\sim \\operatorname{Bernoulli}(1 - p); \\qquad
    \\text{layer norm: } y = \\gamma \\odot \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta .
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_gradcheck_helpers import leaf

import minigrad as mg
from minigrad import nn


# ----------------------------------------------------------------- Dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_zeroes_and_rescales_with_the_gradient_of_its_mask(device, p):
    """Each element is 0 or :math:`x / (1 - p)` (the mask scaled first, as PyTorch), about a fraction :math:`p`
    of them 0; :math:`\\bar x = \\bar y \\odot m / (1 - p)`; float32 stays float32."""
    x = mg.tensor(np.full(20000, 3.0, dtype=np.float32), requires_grad=True, device=device)
    y = nn.Dropout(p, rng=0)(x)
    y.sum().backward()
    kept = y.numpy() != 0
    scale = np.float32(1) / np.float32(1 - p)
    assert y.dtype == np.float32 and abs(1 - kept.mean() - p) < 0.02
    np.testing.assert_array_equal(y.numpy()[kept], np.float32(3.0) * scale)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, scale, np.float32(0)))


def test_dropout_masks_follow_the_seed_and_change_between_calls(device):
    """One seed (or a generator) gives the same sequence of masks; successive calls draw new ones."""
    x = mg.tensor(np.ones((4, 8)), device=device)
    first, second = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=np.random.default_rng(7))
    a1, a2 = first(x).numpy(), first(x).numpy()
    np.testing.assert_array_equal(a1, second(x).numpy())
    np.testing.assert_array_equal(a2, second(x).numpy())
    assert not np.array_equal(a1, a2)


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero(device):
    """``eval()`` and ``p = 0`` return the input itself, as PyTorch; ``train()`` turns dropping back on."""
    x = mg.tensor(np.ones(100), requires_grad=True, device=device)
    layer = nn.Sequential(nn.Dropout(0.5, rng=0))
    assert layer.eval()(x) is x and nn.Dropout(0.0, rng=0)(x) is x
    assert (layer.train()(x).numpy() == 0).any()


@pytest.mark.torch
def test_dropout_with_p_one_is_torchs_x_times_zero(device):
    """``p = 1``: :math:`x \\cdot 0` (NaN stays NaN) and a zero gradient, exactly ``torch.nn.functional.dropout``."""
    torch = pytest.importorskip("torch")
    values = np.array([np.nan, -2.0, 3.0])
    x = mg.tensor(values, requires_grad=True, device=device)
    t = torch.tensor(values, requires_grad=True)
    y, t_y = nn.Dropout(1.0)(x), torch.nn.functional.dropout(t, p=1.0)
    np.testing.assert_array_equal(y.numpy(), t_y.detach().numpy())
    y.sum().backward()
    t_y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ----------------------------------------------------------------- LayerNorm
def _layer(shape, device, affine=True, bias=True, eps=1e-5, rng=None):
    layer = nn.LayerNorm(shape, eps=eps, elementwise_affine=affine, bias=bias, dtype=np.float64, device=device)
    for parameter in layer.parameters():
        parameter.data[...] = layer.weight.xp.asarray(rng.standard_normal(parameter.shape))
    return layer


@pytest.mark.torch
@pytest.mark.parametrize(("x_shape", "normalized"), [((5, 4), 4), ((2, 3, 4), (3, 4)), ((4,), [4]), ((2, 3, 1), 1)],
                         ids=str)
@pytest.mark.parametrize(("affine", "bias"), [(True, True), (True, False), (False, True)], ids=str)
def test_layer_norm_against_torch(device, rng, x_shape, normalized, affine, bias):
    """Values and the gradients of :math:`x`, :math:`\\gamma`, :math:`\\beta` equal ``torch.nn.LayerNorm``'s."""
    torch = pytest.importorskip("torch")
    layer = _layer(normalized, device, affine, bias, eps=1e-3, rng=rng)
    reference = torch.nn.LayerNorm(normalized, eps=1e-3, elementwise_affine=affine, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        for name, parameter in layer.named_parameters():
            getattr(reference, name).copy_(torch.from_numpy(parameter.numpy()))
    x_np, upstream = rng.standard_normal(x_shape) * 3, rng.standard_normal(x_shape)
    x, tx = leaf(x_np, device), torch.tensor(x_np, requires_grad=True)
    y, ty = layer(x), reference(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(mg.tensor(upstream, device=device))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    t_params = dict(reference.named_parameters())
    assert sorted(name for name, _ in layer.named_parameters()) == sorted(t_params)
    for name, parameter in layer.named_parameters():
        np.testing.assert_allclose(parameter.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def _normalize_with(layer: nn.LayerNorm):
    """``(x, weight, bias) -> layer(x)`` with the given weight and bias, for gradcheck's float64 copies."""

    def normalize(x: mg.Tensor, weight: mg.Tensor, bias: mg.Tensor) -> mg.Tensor:
        layer.weight, layer.bias = weight, bias
        return layer(x)

    return normalize


def test_layer_norm_gradcheck(device, rng):
    """Central differences for :math:`x`, :math:`\\gamma`, :math:`\\beta` (second order: in
    tests/test_ops_gradcheck_second_order.py)."""
    layer = _layer((3, 4), device, rng=rng)
    x = leaf(rng.standard_normal((2, 3, 4)), device)
    weight, bias = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(_normalize_with(layer), x, weight, bias)


def test_layer_norm_defaults_and_shape_check(device):
    """:math:`\\gamma = 1`, :math:`\\beta = 0` in float32; an input whose trailing shape differs is refused naming
    ``x``; ``elementwise_affine=False`` has no parameters."""
    layer = nn.LayerNorm([2, 3], device=device)
    assert layer.weight.tolist() == [[1.0] * 3] * 2 and layer.bias.tolist() == [[0.0] * 3] * 2
    assert layer.weight.dtype == np.float32 and repr(layer) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)"
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    with pytest.raises(ValueError, match=r"x: expected a shape ending in \(2, 3\), got \(3, 2\)"):
        layer(mg.tensor(np.ones((3, 2), dtype=np.float32), device=device))


def test_a_tutorial_block_trains(device):
    """``Linear -> LayerNorm -> GELU -> Dropout -> Linear`` with Adam lowers the cross-entropy of a toy task."""
    import optim

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 16, rng=0, device=device), nn.LayerNorm(16, device=device), nn.GELU(),
                          nn.Dropout(0.1, rng=1), nn.Linear(16, 3, rng=2, device=device), nn.Sigmoid())
    x = mg.tensor(rng.standard_normal((32, 4)).astype(np.float32), device=device)
    targets = np.argmax(x.numpy()[:, :3], axis=1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        loss = mg.cross_entropy(model(x), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.9 * losses[0]

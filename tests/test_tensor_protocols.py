"""Tensor and Python's protocols: ``float``/``int``/``format``, hashing by identity next to an elementwise ``==``.

``==`` compares values, so the engine and the optimizers must find tensors by identity (dictionaries and sets,
``id``, ``is``), never with ``x in list`` or ``list.index``; the optimizer round trips below run on parameters
whose shapes do not even broadcast, where any ``==`` between them would raise.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import nn


# ----------------------------------------------------------------- Python numbers
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=str)
def test_float_int_and_format_of_one_element(device, shape):
    """``float``, ``int`` (truncating toward 0) and ``format`` with a spec read the one value, any shape."""
    x = mg.tensor(np.full(shape, -2.75), requires_grad=True, device=device)
    assert float(x) == -2.75 and type(float(x)) is float
    assert int(x) == -2 and type(int(x)) is int
    assert format(x, ".3f") == "-2.750" and f"{x:+.1e}" == "-2.8e+00"
    assert int(mg.tensor(np.array([7], dtype=np.int32), device=device)) == 7
    assert float(mg.tensor([True], device=device)) == 1.0


def test_format_without_spec_is_the_value_of_a_0d_tensor_and_the_str_of_others(device):
    """As PyTorch: ``f"{x}"`` of a 0-d tensor is its value, of any other tensor its ``str``."""
    assert f"{mg.tensor(2.5, device=device)}" == "2.5"
    x = mg.tensor([1.0, 2.0], device=device)
    assert f"{x}" == str(x) and f"{x[:1]}" == str(x[:1])


@pytest.mark.parametrize("convert", [float, int, lambda t: format(t, ".2f")], ids=["float", "int", "format"])
def test_several_values_do_not_convert_to_one_number(device, convert):
    """Two or zero values: a ``ValueError`` (``TypeError`` for ``format``, Python's rule) naming the shape."""
    for shape in [(2,), (0,), (2, 1)]:
        with pytest.raises((ValueError, TypeError), match=str(shape).replace("(", r"\(").replace(")", r"\)")):
            convert(mg.tensor(np.ones(shape), device=device))


def test_a_complex_value_is_no_float_or_int(device):
    """``float(1+2j)`` would drop the imaginary part: refused, naming the value."""
    x = mg.tensor(np.array([1 + 2j]), device=device)
    for convert in (float, int):
        with pytest.raises(TypeError, match=r"complex tensor.*\(1\+2j\)"):
            convert(x)


# ----------------------------------------------------------------- identity: hashing, membership
def test_tensors_hash_by_identity_and_stay_dictionary_keys(device):
    """``hash`` is ``object``'s; equal-valued tensors are distinct keys; a set holds each object once."""
    a, b = mg.tensor([1.0, 2.0], device=device), mg.tensor([1.0, 2.0], device=device)
    assert hash(a) == object.__hash__(a) and hash(a) != hash(b)
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len({a, b, a}) == 2
    assert (a == b).tolist() == [True, True]


def test_equality_with_something_that_is_no_number_falls_back_to_identity(device):
    """``x == None`` is ``False`` and ``x != "a"`` is ``True`` (PyTorch's answers), so ``None in [x]`` works;
    ``x in [x]`` is found by identity first."""
    x = mg.tensor([1.0, 2.0], device=device)
    assert (x == None) is False and (x != "a") is True  # noqa: E711 - the operator is what is tested
    assert None not in [x] and x in [x] and [None, x].index(x) == 1


def test_list_membership_compares_values_as_in_pytorch(device):
    """``x in [y]`` for another tensor asks ``bool(y == x)``: ambiguous for several values, as in PyTorch."""
    x, y = mg.tensor([1.0, 2.0], device=device), mg.tensor([1.0, 3.0], device=device)
    with pytest.raises(ValueError, match="ambiguous"):
        _ = x in [y]
    assert mg.tensor([2.0], device=device) in [mg.tensor([2.0], device=device)]


# ----------------------------------------------------------------- the engine and the optimizers use identity
class Unbroadcastable(nn.Module):
    """Parameters whose shapes broadcast with none of the others: ``==`` between any two of them raises."""

    def __init__(self, device: str) -> None:
        super().__init__()
        self.a = nn.Parameter(mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), device=device))
        self.b = nn.Parameter(mg.tensor(np.linspace(-1, 1, 20).reshape(4, 5), device=device))
        self.c = nn.Parameter(mg.tensor(np.linspace(-1, 1, 7), device=device))
        self.shared = self.a  # the same parameter under two names: listed once

    def forward(self) -> mg.Tensor:
        return (self.a * self.a).sum() + (self.b**2).mean() + (self.c * self.a.sum()).sum()


@pytest.mark.parametrize("fused", [False, True])
def test_optimizer_round_trips_never_compare_tensors_by_value(device, tmp_path, fused):
    """Training steps, weight-decay exclusion, ``apply_gradients``, state dicts and a checkpoint round trip on
    parameters that no ``==`` could compare: the library finds tensors by identity only."""
    model = Unbroadcastable(device)
    opt = optim.Adam(model.named_parameters(), lr=0.01, weight_decay=0.1, decoupled_weight_decay=True,
                     use_ema=True, fused=fused)
    opt.exclude_from_weight_decay(var_list=[model.c])
    for _ in range(3):
        opt.zero_grad()
        model().backward()
        opt.step()
    opt.apply_gradients([(mg.tensor(np.ones((4, 5)), device=device), model.b)])
    state = opt.state_dict()
    optim.save_checkpoint(tmp_path / "run.npz", model, opt)
    twin = Unbroadcastable(device)
    twin_opt = optim.Adam(twin.named_parameters(), lr=0.01, weight_decay=0.1, decoupled_weight_decay=True,
                          use_ema=True, fused=fused)
    twin_opt.exclude_from_weight_decay(var_list=[twin.c])
    optim.load_checkpoint(tmp_path / "run.npz", twin, twin_opt)
    twin_opt.load_state_dict(state)
    assert [name for name, _ in twin.named_parameters()] == ["a", "b", "c"]
    for (_, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for module_opt in (opt, twin_opt):
        module_opt.zero_grad()
    model().backward()
    twin().backward()
    opt.step()
    twin_opt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())

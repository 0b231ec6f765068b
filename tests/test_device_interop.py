"""Devices and exchange with NumPy, PyTorch and CuPy.

Rules checked here: one operation never mixes devices; ``to`` is the identity
when the tensor is already there and otherwise a differentiable copy with
:math:`\\bar x = \\operatorname{to}(\\bar y, \\operatorname{device}(x))`; NumPy and
DLPack exchange share memory instead of copying.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def other_device(device: str) -> str:
    """The other backend, or skip: mixing devices needs a GPU."""
    if not mg.cuda_available():
        pytest.skip("mixing devices needs a GPU (CuPy with a visible GPU)")
    return "cpu" if device == "cuda" else "cuda"


# ----------------------------------------------------------------- device mismatch
def test_mixed_devices_raise_naming_both(device):
    """``a + b`` with ``a`` and ``b`` on different devices raises DeviceMismatchError naming both devices."""
    other = other_device(device)
    a = mg.tensor(np.ones(3), requires_grad=True, device=device)
    b = mg.tensor(np.ones(3), device=other)
    names = {str(mg.Device(device)), str(mg.Device(other))}
    for op in (lambda: a + b, lambda: b * a, lambda: a @ b, lambda: mg.concatenate([a, b]), lambda: mg.maximum(a, b)):
        with pytest.raises(mg.DeviceMismatchError) as info:
            op()
        assert all(name in str(info.value) for name in names)
    # an array of the other backend is refused the same way
    with pytest.raises(mg.DeviceMismatchError):
        a * b.data


def test_move_between_devices_is_differentiable(device):
    """:math:`y = \\operatorname{to}(x, d)`, :math:`s = \\sum 3y`: :math:`\\bar x = 3` back on :math:`x`'s device."""
    other = other_device(device)
    x = mg.tensor(np.arange(3.0), requires_grad=True, device=device)
    y = x.to(other)
    assert y.device == other and y is not x
    (3.0 * y).sum().backward()
    assert x.grad.device == device
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


# ----------------------------------------------------------------- to()
def test_to_same_device_returns_the_same_tensor(device):
    """``x.to(x.device)`` is ``x`` itself (no copy, no graph node), for every spelling of the device."""
    x = mg.tensor(np.ones(2), requires_grad=True, device=device)
    assert x.to(device) is x
    assert x.to(mg.Device(device)) is x
    assert x.to(str(x.device)) is x
    assert mg.to_device(x, device) is x
    if device == "cpu":
        assert x.to("cpu") is x
        assert x.device == "cpu" and x.device.type == "cpu"


def test_to_cuda_without_gpu_raises_clearly(device):
    """Without a GPU, moving to ``cuda`` fails with a RuntimeError that says what is missing."""
    if mg.cuda_available():
        pytest.skip("a GPU is available")
    x = mg.tensor(np.ones(2), device=device)
    with pytest.raises(RuntimeError, match="cuda:0"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="cuda:0"):
        mg.tensor(np.ones(2), device="cuda")


# ----------------------------------------------------------------- Device parsing
@pytest.mark.parametrize(
    ("spec", "kind", "index", "text"),
    [("cpu", "cpu", None, "cpu"), ("cuda", "cuda", 0, "cuda:0"), ("cuda:0", "cuda", 0, "cuda:0"),
     ("cuda:1", "cuda", 1, "cuda:1"), (" CUDA:12 ", "cuda", 12, "cuda:12"), ("gpu", "cuda", 0, "cuda:0")],
)
def test_device_parsing(spec, kind, index, text):
    """``Device(spec)`` parses type and index; it prints as ``cpu``/``cuda:N`` and equals that string."""
    d = mg.Device(spec)
    assert (d.type, d.index, str(d)) == (kind, index, text)
    assert d == text and d == mg.Device(text) and hash(d) == hash(mg.Device(text))
    assert mg.Device(d) == d
    assert repr(d) == f"Device('{text}')"


def test_device_equality():
    """``cuda`` means ``cuda:0``; different types or indices differ; a malformed string is simply unequal."""
    assert mg.Device("cuda") == "cuda:0"
    assert mg.Device("cuda:1") != "cuda:0"
    assert mg.Device("cpu") != mg.Device("cuda")
    assert mg.Device("cpu") != "not a device"
    assert len({mg.Device("cuda"), mg.Device("cuda:0"), mg.Device("cpu")}) == 2


@pytest.mark.parametrize("spec", ["tpu", "", "cuda:", "cuda:x", "cuda:-1", "cuda:1:2", "cpu:0", "cuda 1", "cuda:²"])
def test_bad_device_strings_raise_value_error_naming_the_value(spec):
    """A malformed device string raises ValueError whose message quotes the string."""
    with pytest.raises(ValueError) as info:
        mg.Device(spec)
    assert repr(spec) in str(info.value)


def test_device_of_wrong_type_raises_type_error():
    """Only strings and Device objects describe a device."""
    with pytest.raises(TypeError, match="0"):
        mg.Device(0)


# ----------------------------------------------------------------- NumPy
def test_np_asarray_shares_memory_on_cpu(device):
    """``np.asarray(t)`` is a view of a CPU tensor's array (writes show on both sides); a GPU tensor refuses."""
    t = mg.tensor(np.arange(4.0), device=device)
    if device != "cpu":
        with pytest.raises(TypeError, match="cpu"):
            np.asarray(t)
        return
    view = np.asarray(t)
    assert np.shares_memory(view, t.data)
    view[0] = 42.0
    assert t.data[0] == 42.0
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t, copy=True)
    copied[1] = -1.0
    assert t.data[1] == 1.0


@pytest.mark.parametrize("op", ["*", "+", "-", "/", "@"])
def test_ndarray_op_tensor_returns_tensor(device, xp, op):
    """``ndarray op Tensor`` defers to the Tensor's reflected operator: a Tensor, differentiable in the Tensor."""
    array = xp.asarray(np.array([1.0, 2.0, 4.0]))
    t = mg.tensor(np.array([2.0, 3.0, 5.0]), requires_grad=True, device=device)
    result = {"*": lambda: array * t, "+": lambda: array + t, "-": lambda: array - t,
              "/": lambda: array / t, "@": lambda: array @ t}[op]()
    assert isinstance(result, mg.Tensor)
    assert result.requires_grad and result.device == device
    expected = {"*": [1.0, 2.0, 4.0], "+": [1.0, 1.0, 1.0], "-": [-1.0, -1.0, -1.0],
                "/": [-1.0 / 4, -2.0 / 9, -4.0 / 25], "@": [1.0, 2.0, 4.0]}[op]
    result.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), expected)


# ----------------------------------------------------------------- DLPack
def _torch_for(device):
    torch = pytest.importorskip("torch")
    if device != "cpu" and not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA: DLPack exchange with a GPU tensor needs one")
    return torch, ("cuda" if device != "cpu" else "cpu")


@pytest.mark.torch
def test_from_dlpack_shares_memory_with_torch(device):
    """``mg.from_dlpack(torch_tensor)`` views torch's memory: a write on either side shows on the other."""
    torch, torch_device = _torch_for(device)
    source = torch.arange(4, dtype=torch.float64, device=torch_device)
    t = mg.from_dlpack(source, requires_grad=True)
    assert t.device == device and t.requires_grad and t.dtype == np.float64
    source[0] = 10.0
    assert float(t.data[0]) == 10.0
    t.data[1] = -3.0
    assert source[1].item() == -3.0


@pytest.mark.torch
def test_torch_from_dlpack_shares_memory_with_minigrad(device):
    """``torch.from_dlpack(tensor)`` views a minigrad tensor's memory, both ways."""
    torch, _ = _torch_for(device)
    t = mg.tensor(np.arange(6.0).reshape(2, 3), device=device)
    view = torch.from_dlpack(t)
    assert tuple(view.shape) == (2, 3)
    view[1, 2] = 99.0
    assert float(t.data[1, 2]) == 99.0
    t.data[0, 0] = -7.0
    assert view[0, 0].item() == -7.0


def test_from_dlpack_with_an_array_of_the_same_backend(device, xp):
    """A NumPy (CPU) or CuPy (GPU) array round-trips through DLPack without a copy."""
    array = xp.arange(5.0)
    t = mg.from_dlpack(array)
    assert t.device == device
    array[2] = 7.0
    assert float(t.data[2]) == 7.0


def test_from_dlpack_rejects_objects_without_dlpack(device):
    """Objects that do not implement DLPack are refused with a TypeError naming their type."""
    with pytest.raises(TypeError, match="list"):
        mg.from_dlpack([1.0, 2.0])
    assert mg.tensor([1.0], device=device).__dlpack_device__()[0] in (1, 2)

"""``nn``: Module bookkeeping, state dicts, devices, initialisation and the layers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class TwoLayer(nn.Module):
    def __init__(self, device, tied: bool = False) -> None:
        super().__init__()
        self.scale = nn.Parameter(mg.tensor(np.ones(3), device=device))
        self.encoder = nn.Sequential(nn.Linear(3, 4, rng=0, device=device), nn.Tanh())
        self.decoder = nn.Linear(4, 3, rng=1, device=device)
        if tied:
            self.again = self.decoder  # the same module registered twice

    def forward(self, x):
        return self.decoder(self.encoder(x * self.scale))


# ----------------------------------------------------------------- registration and traversal
def test_assignment_registers_parameters_and_modules(device):
    """Assigning a Parameter or a Module registers it; assigning something else or deleting unregisters it."""
    model = TwoLayer(device)
    assert list(model._parameters) == ["scale"]
    assert list(model._modules) == ["encoder", "decoder"]
    model.scale = mg.tensor(np.ones(3), device=device)  # a plain Tensor is not a parameter
    assert "scale" not in model._parameters
    del model.decoder
    assert "decoder" not in model._modules
    assert [name for name, _ in model.named_parameters()] == ["encoder.0.weight", "encoder.0.bias"]


def test_module_without_super_init_fails_clearly():
    """Forgetting ``super().__init__()`` raises at the first assignment, naming the class."""

    class Broken(nn.Module):
        def __init__(self) -> None:
            self.weight = 1

    with pytest.raises(AttributeError, match="Broken"):
        Broken()


def test_named_parameters_order_and_names(device):
    """Names are dotted paths in registration order: own parameters first, then submodules depth first."""
    model = TwoLayer(device)
    assert [name for name, _ in model.named_parameters()] == [
        "scale", "encoder.0.weight", "encoder.0.bias", "decoder.weight", "decoder.bias",
    ]
    mlp = nn.MLP([2, 3, 3, 1], rng=0, device=device)
    assert [name for name, _ in mlp.named_parameters()] == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
    ]
    assert [p.shape for p in mlp.parameters()] == [(3, 2), (3,), (3, 3), (3,), (1, 3), (1,)]


def test_parameters_are_listed_once_when_shared(device):
    """A module or parameter registered under two names is yielded once."""
    model = TwoLayer(device, tied=True)
    params = list(model.parameters())
    assert len(params) == len({id(p) for p in params}) == 5
    layer = nn.Linear(2, 2, rng=0, device=device)
    seq = nn.Sequential(layer, nn.ReLU(), layer)
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_zero_grad_resets_every_gradient(device):
    """After backward every parameter has a gradient; ``zero_grad`` sets each back to None."""
    model = TwoLayer(device)
    x = mg.tensor(np.ones((2, 3), dtype=np.float32), device=device)
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_without_set_to_none_zeroes_in_place_as_pytorch(device):
    """``zero_grad(set_to_none=False)``, PyTorch's other mode: each existing gradient becomes zeros in the same
    array (a buffer registered for it stays the gradient); a read-only one, or one with a graph (create_graph),
    is replaced by zeros with no graph; ``None`` stays ``None``; the next backward accumulates onto the zeros."""
    model = TwoLayer(device)
    x = mg.tensor(np.ones((2, 3), dtype=np.float32), device=device)
    model(x).sum().backward()
    first, second = list(model.parameters())[:2]
    kept = first.grad
    kept_array = kept.data
    second.grad = mg.tensor(np.ones(second.shape, dtype=np.float32), device=device)
    if device == "cpu":
        second.grad.data.flags.writeable = False
    params = list(model.parameters())
    params[-1].grad = None
    model.zero_grad(set_to_none=False)
    assert first.grad is kept and first.grad.data is kept_array
    assert not np.any(mg.backend.to_numpy(first.grad.data))
    assert not np.any(mg.backend.to_numpy(second.grad.data)) and second.grad.shape == second.shape
    assert params[-1].grad is None
    model(x).sum().backward()
    reference = TwoLayer(device)
    reference.load_state_dict(model.state_dict())
    reference(x).sum().backward()
    for mine, fresh in zip(model.parameters(), reference.parameters()):
        if mine is not params[-1]:
            np.testing.assert_array_equal(mg.backend.to_numpy(mine.grad.data), mg.backend.to_numpy(fresh.grad.data))


def test_zero_grad_replaces_a_gradient_that_has_a_graph():
    """A gradient made with ``create_graph=True`` belongs to a graph: ``set_to_none=False`` gives zeros without it."""
    module = nn.Module()
    module.w = nn.Parameter(np.array([1.0, 2.0]))
    (module.w * module.w).sum().backward(create_graph=True)
    assert module.w.grad.creator is not None
    module.zero_grad(set_to_none=False)
    assert module.w.grad.creator is None and not np.any(module.w.grad.data)


def test_train_and_eval_recurse(device):
    """``eval()`` clears and ``train()`` sets the ``training`` flag of every submodule; both return the module."""
    model = TwoLayer(device)
    assert model.eval() is model
    assert all(not m.training for _, m in model.named_modules())
    assert model.train() is model
    assert all(m.training for _, m in model.named_modules())
    model.train(False)
    assert not model.encoder[1].training


# ----------------------------------------------------------------- state dicts
def test_state_dict_round_trip(device):
    """``load_state_dict(state_dict())`` of one model makes another identical; the dict holds copies."""
    source, target = nn.MLP([3, 4, 2], rng=0, device=device), nn.MLP([3, 4, 2], rng=1, device=device)
    state = source.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["0.weight"][0, 0] = 123.0  # a copy: the source does not change
    assert float(source[0].weight.data[0, 0]) != 123.0
    kept = [id(p) for p in target.parameters()]
    target.load_state_dict(source.state_dict())
    assert [id(p) for p in target.parameters()] == kept  # loaded in place
    for (name, p), q in zip(source.named_parameters(), target.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    x = mg.tensor(np.ones((1, 3), dtype=np.float32), device=device)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda s: s.update({"2.bias": np.zeros(3, dtype=np.float32)}), ValueError, r"2\.bias.*shape"),
        (lambda s: s.update({"2.bias": np.zeros(2, dtype=np.float64)}), ValueError, r"2\.bias.*dtype"),
        (lambda s: s.pop("2.bias"), KeyError, r"missing.*2\.bias"),
        (lambda s: s.update({"9.weight": np.zeros(1)}), KeyError, r"unexpected.*9\.weight"),
    ],
    ids=["shape", "dtype", "missing", "unexpected"],
)
def test_load_state_dict_refuses_and_changes_nothing(device, change, error, match):
    """A bad entry is refused before anything is written, even when good entries come first."""
    model = nn.MLP([3, 4, 2], rng=0, device=device)
    before = model.state_dict()
    state = {name: np.full_like(value, 7.0) for name, value in before.items()}
    change(state)
    with pytest.raises(error, match=match):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_load_state_dict_non_strict_loads_what_matches(device):
    """With ``strict=False`` missing and unexpected keys are ignored and the rest is loaded."""
    model = nn.Linear(2, 2, rng=0, device=device)
    model.load_state_dict({"weight": np.eye(2, dtype=np.float32), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model.weight.numpy(), np.eye(2))


def test_module_to_moves_parameters_and_gradients(device):
    """``Module.to(d)`` moves every parameter and its gradient to ``d`` in place (same Parameter objects)."""
    if not mg.cuda_available():
        pytest.skip("moving a module between devices needs a GPU")
    other = "cpu" if device == "cuda" else "cuda"
    model = nn.MLP([3, 4, 2], rng=0, device=device)
    model(mg.tensor(np.ones((2, 3), dtype=np.float32), device=device)).sum().backward()
    params = list(model.parameters())
    values = [p.numpy().copy() for p in params]
    grads = [p.grad.numpy().copy() for p in params]
    assert model.to(other) is model
    assert list(model.parameters()) == params
    for p, v, g in zip(params, values, grads):
        assert p.device == other and p.grad.device == other
        np.testing.assert_array_equal(p.numpy(), v)
        np.testing.assert_array_equal(p.grad.numpy(), g)
    out = model(mg.tensor(np.ones((2, 3), dtype=np.float32), device=other))
    assert out.device == other


# ----------------------------------------------------------------- initialisation
def test_linear_init_is_reproducible(device):
    """The same int seed, or a fresh Generator with that seed, gives the same weights; a used generator does not."""
    a = nn.Linear(5, 3, rng=42, device=device)
    b = nn.Linear(5, 3, rng=42, device=device)
    c = nn.Linear(5, 3, rng=np.random.default_rng(42), device=device)
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_array_equal(p.numpy(), r.numpy())
    generator = np.random.default_rng(42)
    first, second = nn.Linear(5, 3, rng=generator, device=device), nn.Linear(5, 3, rng=generator, device=device)
    assert not np.array_equal(first.weight.numpy(), second.weight.numpy())
    np.testing.assert_array_equal(first.weight.numpy(), a.weight.numpy())


def test_mlp_init_is_reproducible(device):
    """One seed fixes every layer of an MLP: equal seeds give equal models, different seeds different ones."""
    a, b = nn.MLP([4, 8, 2], rng=7, device=device), nn.MLP([4, 8, 2], rng=np.random.default_rng(7), device=device)
    c = nn.MLP([4, 8, 2], rng=8, device=device)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert not np.array_equal(a[0].weight.numpy(), c[0].weight.numpy())
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(2, 2, rng="seed", device=device)


def test_linear_init_bound_is_one_over_sqrt_fan_in(device):
    """Weights and bias are :math:`\\mathcal U(-1/\\sqrt{n_{in}}, 1/\\sqrt{n_{in}})`: inside the bound, filling it,
    with variance :math:`1/(3 n_{in})`.
    """
    layer = nn.Linear(400, 300, rng=0, device=device)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound and np.abs(b).max() > 0.9 * bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    assert layer.weight.device == device
    assert nn.Linear(3, 2, bias=False, device=device).bias is None


# ----------------------------------------------------------------- layers
def test_linear_forward(device, rng):
    """``Linear(x)`` is :math:`x W^\\top + b`."""
    layer = nn.Linear(3, 2, rng=0, dtype=np.float64, device=device)
    x = rng.standard_normal((4, 3))
    out = layer(mg.tensor(x, device=device))
    np.testing.assert_allclose(out.numpy(), x @ layer.weight.numpy().T + layer.bias.numpy())


def test_embedding_forward_and_backward_with_repeated_indices(device):
    """:math:`y_k = W_{i_k}`; :math:`\\bar W_r = \\sum_{k: i_k = r} \\bar y_k`, so a row used 3 times gets 3
    gradients."""
    emb = nn.Embedding(5, 3, rng=0, dtype=np.float64, device=device)
    indices = [[1, 3], [1, 1]]
    out = emb(indices)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[np.array(indices)])
    upstream = np.arange(12.0).reshape(2, 2, 3)
    out.backward(mg.tensor(upstream, device=device))
    expected = np.zeros((5, 3))
    expected[1] = upstream[0, 0] + upstream[1, 0] + upstream[1, 1]
    expected[3] = upstream[0, 1]
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)
    assert mg.gradcheck(lambda w: mg.getitem(w, np.array([4, 4, 0])) ** 2, emb.weight)


def test_sequential_indexing_and_iteration(device):
    """``Sequential`` supports ``len``, indexing (negative too), iteration, and applies its modules in order."""
    first, second = nn.Linear(2, 3, rng=0, device=device), nn.ReLU()
    seq = nn.Sequential(first, second)
    assert len(seq) == 2 and seq[0] is first and seq[-1] is second and list(seq) == [first, second]
    x = mg.tensor(np.array([[1.0, -1.0]], dtype=np.float32), device=device)
    np.testing.assert_array_equal(seq(x).numpy(), np.maximum(first(x).numpy(), 0))
    with pytest.raises(TypeError, match=r"modules\[1\]"):
        nn.Sequential(first, "relu")


def test_mlp_structure_and_validation(device):
    """``MLP([4, 8, 2])`` is Linear, activation, Linear (no activation on the logits); bad arguments are refused."""
    mlp = nn.MLP([4, 8, 2], activation="tanh", rng=0, device=device)
    assert [type(m).__name__ for m in mlp] == ["Linear", "Tanh", "Linear"]
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(mlp)
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP([4], device=device)
    with pytest.raises(ValueError, match="activation"):
        nn.MLP([4, 2], activation="gelu", device=device)
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2, device=device)


def test_zero_grad_keeps_a_row_sparse_gradient_as_one_with_no_rows():
    """A sparse embedding's gradient zeroed without set_to_none: a RowSparseGrad with no rows, as the optimizers'
    zero_grad leaves it (one rule, minigrad.autograd.zeroed_gradient)."""
    embedding = nn.Embedding(5, 3, sparse=True, rng=0)
    embedding(mg.tensor(np.array([1, 3, 1]))).sum().backward()
    assert isinstance(embedding.weight.grad, mg.RowSparseGrad)
    embedding.zero_grad(set_to_none=False)
    grad = embedding.weight.grad
    assert isinstance(grad, mg.RowSparseGrad) and grad.indices.size == 0 and grad.dense_shape == (5, 3)

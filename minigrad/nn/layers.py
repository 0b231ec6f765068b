"""Layers: ``Linear``, ``Embedding``, ``ReLU``, ``Tanh``, ``Sequential`` and ``MLP``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from minigrad import backend, functions
from minigrad.backend import Device
from minigrad.checks import check_flag
from minigrad.nn.init import RngLike, as_generator, normal, uniform_fan_in
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor

__all__ = ["MLP", "Embedding", "Linear", "ReLU", "Sequential", "Tanh"]


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _check_float_dtype(dtype: Any) -> np.dtype:
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked is None or checked.kind != "f":
        shown = repr(dtype) if checked is None else checked.name
        raise ValueError(f"dtype: expected a floating-point dtype such as numpy.float32, got {shown}")
    return checked


def _parameter(values: np.ndarray, device: str | Device | None) -> Parameter:
    return Parameter(backend.to_device(values, backend.as_device(device)))


class Linear(Module):
    """Fully connected layer :math:`y = x W^\\top + b`.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output.
    bias : bool, default True
        Whether to add the learnt bias :math:`b`.
    rng : numpy.random.Generator or int, optional
        Source of the initial values, both drawn from
        :math:`\\mathcal U(-1/\\sqrt{\\text{in}}, 1/\\sqrt{\\text{in}})` (PyTorch's default).
    dtype : dtype, default float32
    device : str, default "cpu"

    Attributes
    ----------
    weight : Parameter
        Shape ``(out_features, in_features)``.
    bias : Parameter or None
        Shape ``(out_features,)``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> layer = mg.nn.Linear(3, 2, rng=0)
    >>> layer(mg.tensor(np.ones((4, 3)))).shape
    (4, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: RngLike = None,
        dtype: Any = np.float32, device: str | Device | None = None,
    ) -> None:
        super().__init__()
        self.in_features = _check_positive_int("in_features", in_features)
        self.out_features = _check_positive_int("out_features", out_features)
        bias, dtype = check_flag("bias", bias), _check_float_dtype(dtype)
        generator = as_generator(rng)
        self.weight = _parameter(uniform_fan_in((out_features, in_features), in_features, generator, dtype), device)
        self.bias = _parameter(uniform_fan_in((out_features,), in_features, generator, dtype), device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return functions.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` is the vector of token ``i``.

    Parameters
    ----------
    num_embeddings : int
        Number of rows (the vocabulary size).
    embedding_dim : int
        Length of each vector.
    rng : numpy.random.Generator or int, optional
        Source of the initial values, :math:`\\mathcal N(0, 1)` (PyTorch's default).
    dtype : dtype, default float32
    device : str, default "cpu"
    sparse : bool, default False
        Give ``weight`` a row-sparse gradient (:class:`~minigrad.sparse.RowSparseGrad`)
        holding only the rows looked up, which optimizers can apply lazily.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> table = mg.nn.Embedding(10, 3, rng=0)
    >>> table(np.array([1, 1, 4])).shape
    (3, 3)
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, rng: RngLike = None,
        dtype: Any = np.float32, device: str | Device | None = None, sparse: bool = False,
    ) -> None:
        super().__init__()
        self.num_embeddings = _check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = _check_positive_int("embedding_dim", embedding_dim)
        sparse, dtype = check_flag("sparse", sparse), _check_float_dtype(dtype)
        self.weight = _parameter(normal((num_embeddings, embedding_dim), as_generator(rng), dtype), device)
        self.sparse = bool(sparse)

    def forward(self, indices: Any) -> Tensor:
        return functions.embedding(self.weight, indices, sparse=self.sparse)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (", sparse=True" if self.sparse else "")


class ReLU(Module):
    """Elementwise :math:`\\max(x, 0)` as a layer.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.nn.ReLU()(mg.tensor([-1.0, 2.0]))
    tensor([0., 2.], dtype=float64)
    """

    def forward(self, x: Tensor) -> Tensor:
        return functions.relu(x)


class Tanh(Module):
    """Elementwise :math:`\\tanh x` as a layer.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.nn.Tanh()(mg.tensor([0.0]))
    tensor([0.], dtype=float64)
    """

    def forward(self, x: Tensor) -> Tensor:
        return functions.tanh(x)


class Sequential(Module):
    """Apply modules one after the other: ``Sequential(a, b)(x) == b(a(x))``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> model = mg.nn.Sequential(mg.nn.Linear(2, 4, rng=0), mg.nn.Tanh(), mg.nn.Linear(4, 1, rng=1))
    >>> model(mg.tensor(np.zeros((3, 2)))).shape
    (3, 1)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"modules[{i}]: expected a Module, got {type(module).__name__}")
            setattr(self, str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class MLP(Sequential):
    """A multilayer perceptron: ``Linear`` layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[64, 128, 128, 10]``.
    activation : {"relu", "tanh"}, default "relu"
        Applied after every layer but the last (which gives logits).
    rng : numpy.random.Generator or int, optional
        One generator initialises all layers in order, so one seed fixes the model.
    dtype : dtype, default float32
    device : str, default "cpu"

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> model = mg.nn.MLP([4, 8, 3], rng=0)
    >>> model(mg.tensor(np.zeros((2, 4)))).shape
    (2, 3)
    >>> sum(p.data.size for p in model.parameters())
    67
    """

    def __init__(
        self, sizes: Sequence[int], activation: str = "relu", rng: RngLike = None,
        dtype: Any = np.float32, device: str | Device | None = None,
    ) -> None:
        if isinstance(sizes, str) or not isinstance(sizes, Sequence):
            raise TypeError(f"sizes: expected a sequence of layer widths such as [64, 128, 10], got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"sizes: expected at least an input and an output size, got {list(sizes)!r}")
        activations = {"relu": ReLU, "tanh": Tanh}
        if activation not in activations:
            raise ValueError(f"activation: expected one of {sorted(activations)}, got {activation!r}")
        generator = as_generator(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, rng=generator, dtype=dtype, device=device))
            if i < len(sizes) - 2:
                layers.append(activations[activation]())
        super().__init__(*layers)

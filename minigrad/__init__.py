"""minigrad: a small, readable reverse-mode autodiff engine on NumPy (CPU) and CuPy (GPU).

>>> import numpy as np
>>> import minigrad as mg
>>> x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

# The subpackages and the backward pass, so that ``mg.nn``, ``mg.datasets`` and ``mg.autograd`` work after
# ``import minigrad`` alone. They import the modules they need, never a name defined in this file, so importing
# them here first creates no circular import.
from minigrad import autograd, datasets, nn
from minigrad.backend import Device, cuda_available
from minigrad.config import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.creation import tensor
from minigrad.function import DeviceMismatchError, Function
from minigrad.functions import (
    abs,
    add,
    argmax,
    astype,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    broadcast_to,
    clip,
    concatenate,
    cross_entropy,
    div,
    embedding,
    equal,
    exp,
    gelu,
    getitem,
    greater,
    greater_equal,
    less,
    less_equal,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse_loss,
    mul,
    neg,
    nll_loss,
    not_equal,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    stack,
    std,
    sub,
    sum,
    sum_to,
    tanh,
    to_device,
    transpose,
    var,
    where,
)
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.interop import from_dlpack
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Device", "DeviceMismatchError", "RowSparseGrad", "Function", "GradcheckError", "Tensor", "abs", "add", "argmax",
    "astype", "autograd", "binary_cross_entropy", "binary_cross_entropy_with_logits", "broadcast_to", "clip",
    "concatenate", "cross_entropy", "cuda_available", "datasets", "div", "embedding", "enable_grad", "equal", "exp",
    "from_dlpack", "gelu", "getitem", "gradcheck", "greater", "greater_equal", "is_grad_enabled", "less", "less_equal",
    "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mse_loss",
    "mul", "neg", "nll_loss", "nn", "no_grad", "not_equal", "pow", "relu", "reshape", "set_grad_enabled", "sigmoid",
    "softmax", "sqrt", "stack", "std", "sub", "sum", "sum_to", "tanh", "tensor", "to_device", "transpose", "var",
    "where",
]

"""Differentiable operations, one family per module.

Each operation is a :class:`~minigrad.function.Function` subclass (the math,
forward and backward) plus a lower-case function that applies it.
"""

from minigrad.functions.activation import gelu
from minigrad.functions.arithmetic import add, div, mul, neg, pow, sub
from minigrad.functions.binary_loss import binary_cross_entropy, binary_cross_entropy_with_logits
from minigrad.functions.conversion import astype, to_device
from minigrad.functions.elementwise import abs, exp, log, maximum, minimum, relu, sigmoid, sqrt, tanh
from minigrad.functions.embedding import embedding
from minigrad.functions.linalg import linear, matmul
from minigrad.functions.loss import cross_entropy, log_softmax, mse_loss, softmax
from minigrad.functions.nll import nll_loss
from minigrad.functions.reduction import argmax, broadcast_to, logsumexp, max, mean, min, sum, sum_to
from minigrad.functions.selection import (
    clip,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    not_equal,
    where,
)
from minigrad.functions.shape import concatenate, getitem, reshape, stack, transpose
from minigrad.functions.statistics import std, var

__all__ = [
    "abs", "add", "argmax", "astype", "binary_cross_entropy", "binary_cross_entropy_with_logits", "broadcast_to",
    "clip", "concatenate", "cross_entropy", "div", "embedding", "equal", "exp", "gelu", "getitem", "greater",
    "greater_equal", "less", "less_equal", "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mse_loss", "mul", "neg", "nll_loss", "not_equal", "pow", "relu", "reshape", "sigmoid",
    "softmax", "sqrt", "stack", "std", "sub", "sum", "sum_to", "tanh", "to_device", "transpose", "var", "where",
]

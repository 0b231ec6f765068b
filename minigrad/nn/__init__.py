"""Neural-network building blocks: ``Module``, ``Parameter`` and common layers."""

from minigrad.nn import init
from minigrad.nn.activations import GELU, Sigmoid
from minigrad.nn.dropout import Dropout
from minigrad.nn.layers import MLP, Embedding, Linear, ReLU, Sequential, Tanh
from minigrad.nn.module import Module, Parameter, StateDictKeyError
from minigrad.nn.normalization import LayerNorm

__all__ = ["GELU", "MLP", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "Parameter", "ReLU",
           "Sequential", "Sigmoid", "StateDictKeyError", "Tanh", "init"]

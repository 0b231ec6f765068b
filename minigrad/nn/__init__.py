"""Neural-network building blocks: ``Module``, ``Parameter`` and common layers."""

from minigrad.nn import init
from minigrad.nn.layers import MLP, Embedding, Linear, ReLU, Sequential, Tanh
from minigrad.nn.module import Module, Parameter, StateDictKeyError

__all__ = ["MLP", "Embedding", "Linear", "Module", "Parameter", "ReLU", "Sequential", "StateDictKeyError", "Tanh",
           "init"]

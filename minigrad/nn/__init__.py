"""Neural-network building blocks: ``Module``, ``Parameter`` and common layers."""

from minigrad.nn import init
from minigrad.nn.layers import MLP, Embedding, Linear, ReLU, Sequential, Tanh
from minigrad.nn.module import Module, Parameter

__all__ = ["MLP", "Embedding", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Tanh", "init"]

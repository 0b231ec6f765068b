"""``Dropout``: zero random elements while training, seeded like the initialisation."""

from __future__ import annotations

import math

import numpy as np

from minigrad import backend
from minigrad.nn.init import RngLike, as_generator
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout, as ``torch.nn.Dropout``: in training mode each element is zeroed with probability
    ``p`` and the others are scaled by :math:`1/(1-p)`; in evaluation mode (``eval()``) it is the identity.

    .. math::

        y = x \\odot \\frac{m}{1 - p}, \\quad m_i \\sim \\operatorname{Bernoulli}(1 - p), \\qquad
        \\bar x = \\bar y \\odot \\frac{m}{1 - p},

    so :math:`\\mathbb E[y] = x` and nothing needs rescaling at evaluation. As in PyTorch, ``p = 0`` returns
    the input itself and ``p = 1`` gives :math:`x \\cdot 0` (zeros, NaN where :math:`x` is NaN) and a zero
    gradient.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
        The probability of zeroing an element.
    rng : numpy.random.Generator or int, optional
        Source of the masks: each training call draws the next one from it, on the CPU (as the
        initialisation does), so a seed fixes every mask on every device.

    >>> import minigrad as mg
    >>> layer = mg.nn.Dropout(0.5, rng=0)
    >>> layer(mg.tensor([1.0, 1.0, 1.0, 1.0])).tolist()
    [2.0, 0.0, 0.0, 0.0]
    >>> layer.eval()(mg.tensor([1.0, 1.0])).tolist()
    [1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"p: expected a probability in [0, 1], got {p!r}")
        if not (math.isfinite(p) and 0 <= p <= 1):
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = as_generator(rng)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0
        keep = self.generator.random(x.shape) >= self.p
        scale = keep.astype(x.dtype if x.dtype.kind in "fc" else np.float64) / (1 - self.p)
        return x * backend.to_device(scale, x.device)

    def extra_repr(self) -> str:
        return f"p={self.p}"

"""The moving average of the weights (Keras's ``use_ema``): step 5 of a call, after the update.

:class:`WeightAverages` owns the averages, one array per parameter, and is
updated after every call that was not skipped. With
``ema_overwrite_frequency`` :math:`f` it copies them into the weights every
:math:`f` updates; :meth:`WeightAverages.finalize` copies them at the end of
training, and :meth:`WeightAverages.swapped` evaluates with them for a while.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from minigrad.tensor import Tensor
from optim import transforms
from optim.options import Options

__all__ = ["WeightAverages"]


class WeightAverages:
    """:math:`\\bar\\theta \\leftarrow \\mu\\bar\\theta + (1-\\mu)\\theta` for every parameter, after each call.

    Parameters
    ----------
    options : Options
        ``use_ema``, ``ema_momentum`` :math:`\\mu`, ``ema_overwrite_frequency`` and
        ``gradient_accumulation_steps`` (the averages follow updates, not calls).

    Attributes
    ----------
    averages : dict
        The average of each parameter, on its device and in its dtype; empty without ``use_ema``.

    >>> import numpy as np, minigrad as mg
    >>> from optim.options import make_options
    >>> w = mg.tensor(np.array([1.0]), requires_grad=True)
    >>> ema = WeightAverages(make_options("paper", use_ema=True, ema_momentum=0.5))
    >>> ema.update([w], calls=0); w.data[0] = 3.0; ema.update([w], calls=1)
    >>> float(ema.averages[w][0])   # the first update copies, then 0.5 * 1 + 0.5 * 3
    2.0
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.averages: dict[Tensor, Any] = {}

    def update(self, params: Iterable[Tensor], calls: int) -> None:
        """Average every parameter in, after the call numbered ``calls`` (0 for the first); nothing without
        ``use_ema``. The first update copies the weights (:math:`\\mu = 0`)."""
        options = self.options
        if not options.use_ema:
            return
        params = list(params)
        steps = options.gradient_accumulation_steps
        updates_before = calls // steps if steps else calls
        for param in params:
            average = self.averages.get(param)
            if average is None:
                average = self.averages[param] = param.xp.zeros_like(param.data)
            transforms.ema_update(average, param.data, options.ema_momentum, first=updates_before == 0)
        frequency = options.ema_overwrite_frequency
        if frequency and (updates_before + 1) % frequency == 0:
            for param in params:
                param.data[...] = self.averages[param]

    def finalize(self) -> None:
        """Copy the averages into the parameters."""
        for param, average in self.averages.items():
            param.data[...] = average

    @contextlib.contextmanager
    def swapped(self) -> Iterator[None]:
        """The averaged weights inside the block, the trained ones again after it."""
        saved = {param: param.data.copy() for param in self.averages}
        self.finalize()
        try:
            yield
        finally:
            for param, data in saved.items():
                param.data[...] = data

"""optim: Adam, Adamax and AMSGrad, exact to the papers' equations and to each framework's conventions.

>>> import numpy as np
>>> import minigrad as mg
>>> from optim import Adam
>>> x = mg.tensor(np.array([10.0]), requires_grad=True)
>>> opt = Adam([x], lr=0.1)
>>> loss = (x * x).sum()
>>> loss.backward()
>>> opt.step()
>>> round(float(x.data[0]), 6)   # the first step is lr * sign(g)
9.9
"""

from optim import conventions, functional, lr_scheduler, schedules
from optim.adam import Adam
from optim.adamax import Adamax
from optim.amsgrad import AMSGrad
from optim.conventions import CONVENTIONS, Convention
from optim.identify import identify
from optim.optimizer import Optimizer
from optim.saving.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from optim.sgd import SGD

__all__ = [
    "CONVENTIONS", "SGD", "AMSGrad", "Adam", "Adamax", "CheckpointError", "Convention", "Optimizer", "conventions",
    "functional", "identify", "load_checkpoint", "lr_scheduler", "save_checkpoint", "schedules",
]

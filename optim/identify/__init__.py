"""Which convention made these numbers? :func:`identify` replays a recorded trajectory with every candidate.

Give it a parameter's trajectory recorded in any framework (the parameter before the first step,
the gradient fed at each step, the parameter after it) and it says which convention of
:mod:`optim.conventions`, with which choices, reproduces it, how closely, and, when none does, which
single difference comes closest and where the trajectories part.

>>> import numpy as np
>>> import minigrad as mg
>>> import optim
>>> rng = np.random.default_rng(0)
>>> grads = rng.standard_normal((20, 5)).astype(np.float32) * 1e-7    # small next to epsilon
>>> x = mg.tensor(np.ones(5, np.float32), requires_grad=True)
>>> opt = optim.Adam([x], lr=0.1, convention="keras")
>>> params = []
>>> for grad in grads:
...     opt.apply_gradients([(grad, x)])
...     params.append(x.data.copy())
>>> report = optim.identify(np.ones(5, np.float32), grads, np.array(params), lr=0.1)
>>> report.best.description
'keras'

Modules: :mod:`~optim.identify.candidates` (what is tried), :mod:`~optim.identify.replay` (one
candidate, step by step, and the test of agreement), :mod:`~optim.identify.search` (all of them, in
bounded memory), :mod:`~optim.identify.report` (the answer), :mod:`~optim.identify.trajectory` and
:mod:`~optim.identify.npz` (the input), :mod:`~optim.cli.identify` (``python -m optim identify``).

Note that ``optim.identify`` is the function: ``import optim`` binds the name to it, and the
modules of this package are imported by their full names (``from optim.identify.npz import load_run``).
"""

from optim.identify.candidates import ALGORITHMS
from optim.identify.npz import load_run
from optim.identify.report import CandidateResult, IdentifyReport
from optim.identify.search import identify

__all__ = ["ALGORITHMS", "CandidateResult", "IdentifyReport", "identify", "load_run"]

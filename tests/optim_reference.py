"""Float64 scalar transcriptions of the Adam / AdaMax / AMSGrad algorithm boxes, for the optim tests.

Everything here works on ONE scalar parameter with Python floats (IEEE double) and
``math.sqrt``; it never imports ``optim``, so the tests compare the library with an
independent, line-by-line reading of the papers and of the framework conventions.
The tests use it as ``import optim_reference as ref``; the code lives, by topic, in
``tests/reference_algorithms/``:

* literal boxes (``paper.py``; names follow the papers: alpha, beta1, beta2, epsilon,
  theta / x, m, v, u): :func:`kingma_ba_algorithm1` (Kingma & Ba, ICLR 2015,
  Algorithm 1), :func:`kingma_ba_efficient_form` (same paper, end of Section 2, with
  "epsilon hat"), :func:`kingma_ba_adamax` (Algorithm 2, AdaMax) and
  :func:`reddi_amsgrad` (Reddi, Kale & Kumar, ICLR 2018, Algorithm 2);
* framework variants (``frameworks.py``): :func:`pytorch_adam`, :func:`pytorch_adamax`
  (torch.optim 2.13.0) and :func:`optax_amsgrad` (optax @2edbcbe2);
* the contract (``contract.py``): :data:`CONVENTION_DEFAULTS`, :func:`resolve` and the
  generic drivers :func:`adam_reference` / :func:`adamax_reference`, which implement
  every choice of the library's contract (epsilon_mode, amsgrad_mode, step_counting,
  adamax_epsilon, weight decay, maximize, lr schedules, skipped steps);
* worst-case steps with eps = 0 (``bounds.py``): :func:`adam_worst_case_step`,
  :func:`adamax_worst_case_step`;
* arrays (``arrays.py``): :func:`run_elementwise` applies any scalar routine to every
  element of an array-valued gradient sequence, :func:`run_elementwise_with_state`
  also returns the final state, :func:`make_gradient_sequence` draws test sequences.

A gradient sequence is a list whose entry s (0-based call index) is the gradient of
the s-th optimizer call, or ``None`` when the parameter had no gradient at that call
(the parameter is then left untouched, as torch.optim and the contract do).
"""

from __future__ import annotations

from reference_algorithms.arrays import make_gradient_sequence, run_elementwise, run_elementwise_with_state
from reference_algorithms.bounds import adam_worst_case_step, adamax_worst_case_step
from reference_algorithms.contract import (
    ADAM_CHOICES,
    ADAMAX_CHOICES,
    CONVENTION_DEFAULTS,
    adam_reference,
    adamax_reference,
    resolve,
)
from reference_algorithms.frameworks import optax_amsgrad, pytorch_adam, pytorch_adamax
from reference_algorithms.paper import (
    kingma_ba_adamax,
    kingma_ba_algorithm1,
    kingma_ba_efficient_form,
    reddi_amsgrad,
)

__all__ = [
    "ADAM_CHOICES",
    "ADAMAX_CHOICES",
    "CONVENTION_DEFAULTS",
    "adam_reference",
    "adam_worst_case_step",
    "adamax_reference",
    "adamax_worst_case_step",
    "kingma_ba_adamax",
    "kingma_ba_algorithm1",
    "kingma_ba_efficient_form",
    "make_gradient_sequence",
    "optax_amsgrad",
    "pytorch_adam",
    "pytorch_adamax",
    "reddi_amsgrad",
    "resolve",
    "run_elementwise",
    "run_elementwise_with_state",
]

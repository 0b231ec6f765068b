"""Float64 scalar transcriptions of the Adam / AdaMax / AMSGrad algorithm boxes, by topic.

* :mod:`.paper` -- the literal boxes of Kingma & Ba (2015) and Reddi et al. (2018);
* :mod:`.frameworks` -- torch.optim.Adam / Adamax 2.13.0 and optax.amsgrad;
* :mod:`.contract` -- the library contract's conventions and the generic drivers
  :func:`~.contract.adam_reference` / :func:`~.contract.adamax_reference`;
* :mod:`.bounds` -- the worst-case step sizes (eps = 0);
* :mod:`.arrays` -- element-wise application to arrays and random gradient sequences.

Nothing here imports ``optim``.  The tests import all of it through ``tests/optim_reference.py``.
"""

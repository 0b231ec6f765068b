"""Saving and restoring: state dicts, configs, and checkpoint files without pickle.

* :mod:`optim.saving.state_dict`: :meth:`~optim.Optimizer.state_dict`,
  :meth:`~optim.Optimizer.load_state_dict` (validated before anything changes),
  ``get_config`` / ``from_config``;
* :mod:`optim.saving.checkpoint`: :func:`optim.save_checkpoint` and :func:`optim.load_checkpoint`,
  a model and an optimizer in one ``.npz`` archive with JSON metadata, written atomically;
* :mod:`optim.saving.contents`: what goes into the archive, and the checks of what comes out.
"""

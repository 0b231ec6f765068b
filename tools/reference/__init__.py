"""Generators of the reference trajectories in ``optim/reference``.

The entry point is ``tools/generate_reference.py``. This package holds one module
per framework (``torch_cases``, ``keras_cases``, ``tf_legacy_cases``,
``optax_cases``, ``mindspore_cases``, ``capreolus_cases`` with the port ``capreolus_adam``), the input
scenarios (``scenarios``), the optimizers' slots under the library's names (``slots``) and the
helpers they share (``common``). Every framework runs in its own subprocess, so
each module imports its framework at call time only.
"""

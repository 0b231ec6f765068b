"""Recorded framework outputs, shipped with the package, and their replay.

The JSON files beside this module were written by ``tools/generate_reference.py``
from real runs of PyTorch, Keras 3, tf.keras (legacy optimizers), Optax and
MindSpore (the versions are in each file and in ``README.md`` here):
``scenarios.json`` holds the inputs, each ``<framework>.json`` the cases.
:mod:`optim.reference.cases` reads and checks them; :mod:`optim.reference.replay`
runs the library on them and compares. They are package data, so
``python -m optim verify`` works from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR"]

#: The folder holding ``scenarios.json`` and the frameworks' files.
DATA_DIR = Path(__file__).resolve().parent

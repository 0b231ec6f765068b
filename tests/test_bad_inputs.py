"""The bad-input catalogue: every public function and constructor refuses bad arguments clearly.

Each row of ``CATALOGUE`` is one bad call: an id, the call (a function of the
:class:`World`), the exception type, and substrings the message must contain, at
least the argument's name and the offending value (or its type, shape or dtype).
Every call runs against a world holding state that a careless implementation could
damage (a trained model and optimizer with moments and an EMA, a tensor with a
gradient, raw arrays for :mod:`optim.functional`); the test checks that after the
refusal every bit of that state is as it was. A row's optional ``setup`` runs before
the snapshot (e.g. to attach a wrong gradient that ``step`` must then refuse).

Categories: tensor creation; tensor methods and operators; functions and losses;
gradcheck; nn layers and modules; data sets; optimizer construction (types, ranges,
NaN/inf hyperparameters, unknown keywords, choices); optimizer calls (gradients of
the wrong shape, dtype or type, foreign parameters, non-finite gradients under
``nonfinite="raise"``); mismatched state (load_state_dict, from_config); the
functional update rules; schedules; learning-rate schedulers; checkpoints; optim.identify and its run files.
docs/reliability.md summarises it.
The rows live by topic in tests/bad_input_rows_*.py; the world and the row type in tests/bad_input_world.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import bad_input_rows_calls
import bad_input_rows_construction
import bad_input_rows_engine
import bad_input_rows_identify
import bad_input_rows_saving
import bad_input_rows_schedulers
import pytest
from bad_input_world import World

CATALOGUE = [
    *bad_input_rows_engine.ROWS,
    *bad_input_rows_construction.ROWS,
    *bad_input_rows_calls.ROWS,
    *bad_input_rows_saving.ROWS,
    *bad_input_rows_identify.ROWS,
    *bad_input_rows_schedulers.ROWS,
]


def test_the_reliability_page_counts_the_catalogue():
    """docs/reliability.md states the catalogue's size, and its table's categories add up to it."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    stated = {int(n) for n in re.findall(r"test_bad_inputs.py` \((\d+) cases\)|a table of (\d+) bad calls", page)
              for n in n if n}
    categories = [int(n) for n in re.findall(r"^\| [a-z][^|]* \| (\d+) \|", page, flags=re.M)]
    assert stated == {len(CATALOGUE)} and sum(categories) == len(CATALOGUE)


def test_the_catalogue_is_large_and_unique():
    ids = [c.id for c in CATALOGUE]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("entry", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_bad_input_is_refused_clearly_and_changes_nothing(device, tmp_path, entry):
    world = World(device, tmp_path)
    if entry.setup is not None:
        entry.setup(world)
    before = world.snapshot()
    with pytest.raises(entry.error) as caught:
        entry.call(world)
    message = str(caught.value)
    for needle in entry.needles:
        assert needle in message, f"{needle!r} not in the message {message!r}"
    assert world.snapshot() == before

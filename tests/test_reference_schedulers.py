"""The recorded PyTorch scheduler cases (optim/reference/torch_schedulers.json, written by
tools/reference/torch_scheduler_cases.py): the replay steps optim.lr_scheduler after every call and requires the
recorded rates bit for bit, besides the trajectory within the usual tolerance."""

from __future__ import annotations

import copy
import json
import math

import pytest

from optim.reference import DATA_DIR as REFERENCE
from optim.reference import replay
from optim.reference.cases import SCHEDULERS, ReferenceFileError, load_reference

SCENARIOS, _ = load_reference(REFERENCE)
DOCUMENT = json.loads((REFERENCE / "torch_schedulers.json").read_text())
CASES = DOCUMENT["cases"]


def test_every_scheduler_is_recorded_in_both_dtypes():
    """Each scheduler class has cases on float32 and float64 scenarios; OneCycleLR's cycle_momentum has beta1s."""
    assert DOCUMENT["framework"] == "torch" and DOCUMENT["versions"]["torch"].startswith("2.13.0")
    recorded = {(case["library"]["scheduler"]["class"], case["dtype"]) for case in CASES}
    assert recorded == {(name, dtype) for name in SCHEDULERS for dtype in ("float32", "float64")}
    cycling = [case for case in CASES if case["library"]["scheduler"]["kwargs"].get("cycle_momentum", True)
               and case["library"]["scheduler"]["class"] == "OneCycleLR"]
    assert cycling and all("beta1s" in case for case in cycling)


@pytest.mark.parametrize("key", ["lrs", "beta1s"])
def test_a_rate_one_ulp_off_fails_the_case(key):
    """Changing one recorded rate by one unit in the last place fails the comparison, though the trajectory is
    unchanged: the rates are compared exactly."""
    case = copy.deepcopy(next(c for c in CASES if key in c))
    scenario = SCENARIOS[case["scenario"]]
    assert replay.compare(case, scenario).passed
    value = case[key][7][0]
    case[key][7][0] = math.nextafter(value, math.inf)
    assert not replay.compare(case, scenario).passed


def test_a_scheduler_case_without_its_rates_is_refused(tmp_path):
    """A case with a scheduler but no 'lrs' cannot be checked: the folder is refused, naming the case."""
    (tmp_path / "scenarios.json").write_text((REFERENCE / "scenarios.json").read_text())
    document = copy.deepcopy(DOCUMENT)
    del document["cases"][0]["lrs"]
    (tmp_path / "torch_schedulers.json").write_text(json.dumps(document))
    with pytest.raises(ReferenceFileError, match=r"torch/adam_steplr/random: a case with a scheduler needs 'lrs'"):
        load_reference(tmp_path)

"""``python -m optim identify RUN.npz``: the table, ``--json``, options over the file's values, exit status 0 / 1 /
2, bad files and arguments refused with a message naming the array or option, nothing written, progress on
stderr only."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from identify_helpers import ROOT, library_trajectory, probe, write_run

import optim
from optim.cli.identify import ProgressLine, main

KERAS = {"class": "Adamax", "convention": "keras", "lr": 0.1}


@pytest.fixture
def run_arrays():
    initial, grads = probe(np.float32, steps=20, size=24)
    return initial, grads, library_trajectory(KERAS, initial, grads)


def test_the_table_names_the_match_and_the_exit_status_is_0(tmp_path, capsys, run_arrays):
    path = write_run(tmp_path / "run.npz", *run_arrays, algorithm="adamax", lr=0.1)
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "MATCH" in out and "reproduce with optim.Adamax(params, convention='keras'" in out


@pytest.mark.parametrize("compressed", [False, True])
def test_json_is_the_reports_dictionary_and_progress_never_reaches_stdout(tmp_path, capsys, run_arrays, compressed):
    """--json prints report.to_dict(), from a plain or a compressed run file alike."""
    path = write_run(tmp_path / "run.npz", *run_arrays, compressed=compressed, algorithm="adamax", lr=0.1)
    assert main([str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = optim.identify(*run_arrays, "adamax", lr=0.1).to_dict()
    assert printed == json.loads(json.dumps(expected))
    assert printed["best"]["convention"] == "keras" and "keras" in printed["matches"]


def test_options_override_the_files_values(tmp_path, capsys, run_arrays):
    """A file saying adam with lr 0.5 matches nothing; --algorithm adamax --lr 0.1 fixes both."""
    path = write_run(tmp_path / "run.npz", *run_arrays, algorithm="adam", lr=0.5, beta1=0.9, beta2=0.999)
    assert main([str(path)]) == 1
    assert main([str(path), "--algorithm", "adamax", "--lr", "0.1", "--betas", "0.9", "0.999", "--eps", "1e-7",
                 "--weight-decay", "0", "--no-maximize"]) == 0
    assert "given: lr 0.1, betas (0.9, 0.999), eps 1e-07" in capsys.readouterr().out


def test_the_files_settings_are_used(tmp_path, capsys, run_arrays):
    path = write_run(tmp_path / "run.npz", *run_arrays, algorithm="adamax", lr=0.1, beta1=0.9, beta2=0.999,
                     eps=1e-7, weight_decay=0.0, maximize=False)
    assert main([str(path), "--json"]) == 0
    given = json.loads(capsys.readouterr().out)["given"]
    assert given == {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-7, "weight_decay": 0.0, "maximize": False}


def test_a_run_file_in_fortran_order_is_read_whole(tmp_path, capsys, run_arrays):
    initial, grads, params = run_arrays
    path = write_run(tmp_path / "run.npz", initial, np.asfortranarray(grads), np.asfortranarray(params),
                     algorithm="adamax", lr=0.1)
    assert main([str(path)]) == 0


def bad_file(tmp_path, arrays, **changes):
    """A run file from the valid arrays with ``changes`` (None removes an entry)."""
    initial, grads, params = arrays
    entries = {"initial": initial, "grads": grads, "params": params, "algorithm": "adamax", "lr": 0.1, **changes}
    path = tmp_path / "run.npz"
    np.savez(path, **{name: value for name, value in entries.items() if value is not None})
    return path


BAD_FILES = [
    ("missing-grads", {"grads": None}, "grads: missing from"),
    ("missing-initial", {"initial": None}, "initial: missing from"),
    ("shapes-disagree", {"params": np.zeros((20, 23), np.float32)}, "params: expected shape (T, *initial.shape)"),
    ("steps-disagree", {"params": np.zeros((19, 24), np.float32)}, "params: 19 steps, but grads has 20"),
    ("nan-initial", {"initial": np.full(24, np.nan, np.float32)}, "initial: 24 value(s) that are NaN"),
    ("unknown-algorithm", {"algorithm": "adamw"}, "algorithm: unknown value 'adamw'"),
    ("unknown-array", {"momentum": np.zeros(3)}, "unknown array(s) ['momentum']"),
    ("integer-grads", {"grads": np.zeros((20, 24), np.int64)}, "grads: expected float32 or float64"),
    ("dtypes-disagree", {"grads": np.zeros((20, 24))}, "grads: dtype float64 differs from initial's float32"),
    ("lr-not-a-scalar", {"lr": np.array([0.1, 0.2])}, "lr: expected a single value"),
    ("lr-nan", {"lr": np.nan}, "lr: expected a finite value >= 0, got nan"),
    ("algorithm-not-text", {"algorithm": 3}, "algorithm: expected a string"),
    ("maximize-not-bool", {"maximize": 1}, "maximize: expected True or False"),
    ("beta1-alone", {"beta1": 0.9}, "beta2: the file gives beta1 but not beta2"),
    ("object-array", {"initial": np.array([None, 1.0], dtype=object)}, "initial: an array of Python objects"),
    ("no-steps", {"grads": np.zeros((0, 24), np.float32), "params": np.zeros((0, 24), np.float32)},
     "grads: no steps"),
]


@pytest.mark.parametrize(("changes", "needle"), [row[1:] for row in BAD_FILES], ids=[row[0] for row in BAD_FILES])
def test_a_bad_run_file_is_refused_with_status_2_naming_the_array_and_nothing_is_written(tmp_path, capsys,
                                                                                        run_arrays, changes, needle):
    path = bad_file(tmp_path, run_arrays, **changes)
    before = sorted(tmp_path.iterdir())
    assert main([str(path)]) == 2
    captured = capsys.readouterr()
    assert needle in captured.err and captured.out == ""
    assert sorted(tmp_path.iterdir()) == before


BAD_COMMANDS = [
    ("no-file", ["missing.npz"], "missing.npz: no such file"),
    ("bad-algorithm-option", ["run.npz", "--algorithm", "adamw"], "argument --algorithm: invalid choice: 'adamw'"),
    ("bad-lr-option", ["run.npz", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    ("negative-eps", ["run.npz", "--eps", "-1"], "eps: expected a finite value >= 0, got -1.0"),
    ("beta-one", ["run.npz", "--betas", "0.9", "1"], "betas[1]: expected a value in [0, 1), got 1.0"),
    ("one-beta", ["run.npz", "--betas", "0.9"], "argument --betas: expected 2 arguments"),
    ("bad-sample-size", ["run.npz", "--sample-size", "0"], "argument --sample-size"),
]


@pytest.mark.parametrize(("argv", "needle"), [row[1:] for row in BAD_COMMANDS], ids=[row[0] for row in BAD_COMMANDS])
def test_a_bad_option_is_refused_with_status_2_naming_it(tmp_path, capsys, run_arrays, argv, needle):
    write_run(tmp_path / "run.npz", *run_arrays, algorithm="adamax", lr=0.1)
    argv = [str(tmp_path / argv[0]), *argv[1:]]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert needle in captured.err and captured.out == ""


def test_files_that_are_not_run_files_are_refused(tmp_path, capsys, run_arrays):
    """A text file, and an archive whose grads member was cut short, are refused with status 2."""
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    assert main([str(text)]) == 2
    assert "not an .npz archive" in capsys.readouterr().err
    whole = write_run(tmp_path / "run.npz", *run_arrays, lr=0.1)
    cut = tmp_path / "cut.npz"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[:-8] if name == "grads.npy" else data)
    assert main([str(cut)]) == 2
    assert "grads: holds" in capsys.readouterr().err


def flip_byte(path, member: str, offset_from_end: int) -> None:
    """Change one byte of a stored member's data in place, leaving its recorded CRC-32 as it was."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    with path.open("rb") as stream:
        stream.seek(info.header_offset + 26)
        name_length, extra_length = np.frombuffer(stream.read(4), "<u2")
    start = info.header_offset + 30 + int(name_length) + int(extra_length)
    data[start + info.compress_size - offset_from_end] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member", ["initial.npy", "params.npy"])
def test_a_damaged_archive_is_refused_with_status_2(tmp_path, capsys, run_arrays, member):
    """A byte changed in a member (its CRC-32 no longer agrees) is refused: when initial is loaded, or when the
    last step of params is read during the replay."""
    path = write_run(tmp_path / "run.npz", *run_arrays, algorithm="adamax", lr=0.1)
    flip_byte(path, member, offset_from_end=4)  # the low byte of the last float32
    assert main([str(path)]) == 2
    captured = capsys.readouterr()
    assert "Bad CRC-32" in captured.err and member in captured.err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "exit status" in capsys.readouterr().out.lower()


def test_progress_line_waits_then_reports_on_its_stream():
    """Nothing before the delay; after it, one line per interval, naming the phase and the step."""
    stream = io.StringIO()
    quiet = ProgressLine(stream, delay=3600.0)
    quiet("replaying", 1, 10)
    assert stream.getvalue() == ""
    talking = ProgressLine(stream, delay=0.0, interval=0.0)
    talking("screening 4 replays", 7, 10)
    assert stream.getvalue().startswith("identify: screening 4 replays: step 7/10")


def test_identify_reports_progress_after_every_step(run_arrays):
    calls = []
    optim.identify(*run_arrays, "adamax", lr=0.1, progress=lambda phase, step, steps: calls.append((step, steps)))
    assert calls == [(step, 20) for step in range(1, 21)]


def test_python_dash_m_optim_identify_runs_the_command(tmp_path, run_arrays):
    """Through the package's __main__, in a fresh interpreter: status 0, the table on stdout, nothing on stderr."""
    path = write_run(tmp_path / "run.npz", *run_arrays, algorithm="adamax", lr=0.1)
    done = subprocess.run([sys.executable, "-m", "optim", "identify", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "MATCH" in done.stdout and done.stderr == ""

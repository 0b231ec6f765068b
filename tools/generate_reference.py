"""Generate the reference trajectories in ``optim/reference`` by running the real frameworks.

Usage::

    python tools/generate_reference.py [--frameworks torch,torch_schedulers,keras,keras_schedules,tf_keras_legacy,
                                                     optax,mindspore,capreolus]
                                       [--out optim/reference]

Writes ``<out>/scenarios.json`` (the inputs) and, for every selected framework that can be imported,
``<out>/<framework>.json``: the framework versions, the date, the facts checked while running, and
one case per (configuration, scenario) with the parameter values after every step. A framework that
fails to import is skipped with a message and its previous file, if any, is left alone.

Each framework runs in its own subprocess (``--worker``) so that their global settings cannot
interfere: the Keras backend is fixed at import time (JAX for the dense cases, TensorFlow for the
``tf.IndexedSlices`` cases) and JAX's 64-bit mode is process-wide. The script is deterministic
(seeded scenarios, CPU only); it is not run by the tests.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from reference.scenarios import build_scenarios  # noqa: E402

SCRIPT = "tools/generate_reference.py"
FRAMEWORKS = ("torch", "torch_schedulers", "keras", "keras_schedules", "tf_keras_legacy", "optax", "mindspore",
              "capreolus")
# file name -> the framework its document names, where they differ (the replay groups the cases by framework)
DOCUMENT_FRAMEWORK = {"torch_schedulers": "torch", "keras_schedules": "keras"}

# framework -> worker processes: (module in tools/reference, function, required imports, extra environment)
WORKERS: dict[str, list[tuple[str, str, tuple[str, ...], dict[str, str]]]] = {
    "torch": [("torch_cases", "generate", ("torch",), {})],
    "torch_schedulers": [("torch_scheduler_cases", "generate", ("torch",), {})],
    "keras": [
        ("keras_cases", "generate_jax", ("keras", "jax"), {"KERAS_BACKEND": "jax"}),
        ("keras_cases", "generate_tensorflow_sparse", ("keras", "tensorflow"), {"KERAS_BACKEND": "tensorflow"}),
        ("keras_cases", "generate_jax_x64", ("keras", "jax"), {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1"}),
    ],
    "keras_schedules": [("keras_schedule_cases", "generate", ("keras", "jax"), {"KERAS_BACKEND": "jax"})],
    "tf_keras_legacy": [("tf_legacy_cases", "generate", ("tensorflow", "tf_keras"), {})],
    "optax": [
        ("optax_cases", "generate", ("optax", "jax"), {}),
        ("optax_cases", "generate_x64", ("optax", "jax"), {"JAX_ENABLE_X64": "1"}),
    ],
    "mindspore": [("mindspore_cases", "generate", ("mindspore",), {})],
    "capreolus": [("capreolus_cases", "generate", ("tensorflow", "tf_keras"), {})],
}

# Every worker runs on CPU, with TensorFlow's oneDNN rewrites off (they may reorder float operations).
COMMON_ENV = {
    "CUDA_VISIBLE_DEVICES": "",
    "JAX_PLATFORMS": "cpu",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONHASHSEED": "0",
}


def dumps(obj: Any, indent: int = 0, width: int = 110) -> str:
    """JSON text with dictionaries broken over lines and short lists kept on one line.

    A list is written on one line when that fits in ``width`` characters (counting the
    indentation), otherwise one element per line; floats keep Python's round-trip ``repr``.
    """
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 2, width).lstrip()}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        flat = json.dumps(obj, separators=(", ", ": "), allow_nan=False)
        if not obj or (len(flat) + indent <= width and not any(isinstance(v, dict) for v in obj)):
            return flat
        return "[\n" + ",\n".join(inner + dumps(v, indent + 2, width).lstrip() for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def run_worker(worker: tuple[str, str, tuple[str, ...], dict[str, str]], out: Path, result: Path) -> int:
    """Body of a ``--worker`` subprocess: run one framework module and write its result as JSON."""
    module_name, function, requires, _ = worker
    for name in requires:
        try:
            importlib.import_module(name)
        except Exception as exc:  # ImportError, or a broken installation
            result.write_text(json.dumps({"skipped": f"cannot import {name}: {type(exc).__name__}: {exc}"}))
            return 0
    scenarios = {s["name"]: s for s in json.loads((out / "scenarios.json").read_text())["scenarios"]}
    module = importlib.import_module(f"reference.{module_name}")
    payload = getattr(module, function)(scenarios)
    result.write_text(json.dumps(payload, allow_nan=False))
    return 0


def run_framework(framework: str, out: Path) -> dict[str, Any] | None:
    """Run the workers of ``framework`` in subprocesses and merge their results (None if skipped)."""
    merged: dict[str, Any] = {"versions": {}, "facts": [], "cases": [], "failures": []}
    produced = False
    for index, worker in enumerate(WORKERS[framework]):
        env = {**os.environ, **COMMON_ENV, **worker[3]}
        with tempfile.TemporaryDirectory() as tmp:
            result = Path(tmp) / "result.json"
            cmd = [sys.executable, __file__, "--worker", f"{framework}:{index}", "--out", str(out),
                   "--result", str(result)]
            proc = subprocess.run(cmd, env=env, check=False)
            if proc.returncode != 0 or not result.exists():
                print(f"[{framework}] worker {worker[1]} failed with exit status {proc.returncode}; skipped")
                merged["failures"].append({"id": f"{framework}/{worker[1]}", "reason": "worker process failed"})
                continue
            payload = json.loads(result.read_text())
        if "skipped" in payload:
            print(f"[{framework}] {worker[1]} skipped: {payload['skipped']}")
            if index == 0:
                return None
            merged["failures"].append({"id": f"{framework}/{worker[1]}", "reason": payload["skipped"]})
            continue
        produced = True
        for key, value in payload["versions"].items():
            merged["versions"].setdefault(key, value)
        for key in ("facts", "cases", "failures"):
            merged[key].extend(payload[key])
    return merged if produced else None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated subset of " + ",".join(FRAMEWORKS))
    parser.add_argument("--out", default="optim/reference", help="output folder (default optim/reference)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = Path(args.out)

    if args.worker:
        framework, index = args.worker.split(":")
        return run_worker(WORKERS[framework][int(index)], out, Path(args.result))

    selected = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = sorted(set(selected) - set(FRAMEWORKS))
    if unknown:
        parser.error(f"unknown framework(s) {unknown}; expected a subset of {list(FRAMEWORKS)}")
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    header = {"generated": today, "script": SCRIPT}
    scenarios = {**header, "scenarios": build_scenarios()}
    (out / "scenarios.json").write_text(dumps(scenarios) + "\n")
    print(f"wrote {out / 'scenarios.json'}")

    for framework in selected:
        print(f"[{framework}] running")
        merged = run_framework(framework, out)
        if merged is None:
            print(f"[{framework}] skipped (not importable); {framework}.json left unchanged")
            continue
        doc = {
            "framework": DOCUMENT_FRAMEWORK.get(framework, framework),
            "versions": merged["versions"],
            **header,
            "command": f"python {SCRIPT} --frameworks {framework}",
            "scenarios_file": "scenarios.json",
            "environment": {"python": platform.python_version(), "platform": platform.platform(terse=True),
                            "device": "cpu"},
            "facts": merged["facts"],
            "not_produced": merged["failures"],
            "cases": merged["cases"],
        }
        path = out / f"{framework}.json"
        path.write_text(dumps(doc) + "\n")
        print(f"[{framework}] wrote {path}: {len(merged['cases'])} cases, {len(merged['failures'])} not produced")
    return 0


if __name__ == "__main__":
    sys.exit(main())

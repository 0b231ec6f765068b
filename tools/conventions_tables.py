"""Write ``docs/generated/conventions-*.md``: the conventions side by side, and the size of each difference.

Usage::

    python tools/conventions_tables.py [--out docs/generated]

Every number comes from running the library (whose conventions are checked
against the real frameworks by ``python -m optim verify``) on the small
scenario of the conventions page. ``tests/test_docs_conventions.py`` checks
that the committed file is what this script writes today.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.sparse import RowSparseGrad
from optim import CONVENTIONS, Adam, Adamax
from optim.functional import bias_correction

X0 = np.array([1.0, -0.5, 2.0, 0.0])
GRADIENTS = np.array([
    [1.0, 0.01, -0.5, 0.0],
    [0.01, 1.0, 0.0, 0.0],
    [0.01, 0.01, 0.0, 0.3],
    [-0.5, 0.01, 0.2, 0.0],
    [0.0, 0.0, 0.0, 0.0],
])
FIELDS = [
    ("Adam, AMSGrad default lr", "adam_lr"), ("Adamax default lr", "adamax_lr"), ("betas", "betas"),
    ("Adam eps", "adam_eps"), ("Adamax eps", "adamax_eps"), ("epsilon_mode", "epsilon_mode"),
    ("amsgrad_mode", "amsgrad_mode"), ("adamax_epsilon", "adamax_epsilon"), ("step_counting", "step_counting"),
    ("weight decay", "decoupled_weight_decay"), ("power_dtype", "power_dtype"),
    ("Adam slot_arithmetic", "adam_slot_arithmetic"), ("Adamax slot_arithmetic", "adamax_slot_arithmetic"),
    ("sparse Adam", "adam_lazy"), ("sparse Adamax", "adamax_lazy"), ("sparse_update", "sparse_update"),
    ("sparse_clipping", "sparse_clipping"),
    ("lr_dtype", "lr_dtype"),
]


def _cell(field: str, value: object) -> str:
    if field == "decoupled_weight_decay":
        return "decoupled" if value else "L2"
    if field in ("adam_lazy", "adamax_lazy"):
        return "lazy" if value else "dense-equivalent"
    if value is None:
        return {"power_dtype": "double", "lr_dtype": "as given"}.get(field, "required")
    return f"`{value}`"


def side_by_side() -> str:
    """The Markdown table of every convention's defaults and choices."""
    names = list(CONVENTIONS)
    lines = ["| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, field in FIELDS:
        cells = [_cell(field, getattr(CONVENTIONS[n], field))
                 if "adamax" in CONVENTIONS[n].algorithms or not field.startswith("adamax") else "no AdaMax"
                 for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def trajectory(cls: type, steps: int = 5, **kwargs: object) -> np.ndarray:
    """Parameter values after each step of the scenario, float64."""
    x = mg.tensor(X0.copy(), requires_grad=True)
    opt = cls([x], **kwargs)
    rows = []
    with np.errstate(invalid="ignore"):  # eps = 0 divides 0 by 0 on coordinate 3, as the paper's box does
        for g in GRADIENTS[:steps]:
            opt.apply_gradients([(g.copy(), x)])
            rows.append(x.data.copy())
    return np.array(rows)


def _row(label: str, values: np.ndarray) -> str:
    return f"| {label} | " + " | ".join(f"{v:.7f}" for v in values) + " |"


def epsilon_table() -> str:
    """Coordinate 1 after step 1 (gradient 0.01) for both epsilon forms and several eps."""
    lines = ["| eps | `algorithm1` | `epsilon_hat` | difference |", "|---|---|---|---|"]
    for eps in (1e-8, 1e-7, 1e-4, 1e-1):
        a = trajectory(Adam, 1, lr=0.1, eps=eps, epsilon_mode="algorithm1")[0, 1]
        b = trajectory(Adam, 1, lr=0.1, eps=eps, epsilon_mode="epsilon_hat")[0, 1]
        lines.append(f"| {eps:g} | {a:.7f} | {b:.7f} | {b - a:+.2e} |")
    ratio = ["| t | " + " | ".join(str(t) for t in (1, 10, 100, 1000, 10000)) + " |", "|---" * 6 + "|"]
    ratio.append("| effective eps / eps-hat | " + " | ".join(
        f"{1 / math.sqrt(1 - 0.999**t):.2f}" for t in (1, 10, 100, 1000, 10000)) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(ratio)


def amsgrad_table() -> str:
    """The whole trajectory of coordinate 0 under the three AMSGrad modes (and plain Adam)."""
    lines = ["| | t = 1 | t = 2 | t = 3 | t = 4 | t = 5 |", "|---|---|---|---|---|---|"]
    lines.append(_row("Adam (no max)", trajectory(Adam, lr=0.1)[:, 0]))
    for mode in ("max_raw_v", "max_corrected_v", "no_bias_correction"):
        lines.append(_row(f"`{mode}`", trajectory(Adam, lr=0.1, amsgrad=True, amsgrad_mode=mode)[:, 0]))
    return "\n".join(lines)


def adamax_table() -> str:
    """Coordinate 1 under both Adamax epsilon placements, eps = 0.1, and eps = 0 (the paper's box)."""
    lines = ["| | t = 1 | t = 2 | t = 3 | t = 4 | t = 5 |", "|---|---|---|---|---|---|"]
    for eps in (0.1, 0.0):
        for where in ("denominator", "inside_max"):
            values = trajectory(Adamax, lr=0.1, eps=eps, adamax_epsilon=where)[:, 1]
            lines.append(_row(f"eps = {eps:g}, `{where}`", values))
    return "\n".join(lines)


def weight_decay_table() -> str:
    """Coordinate 2 with weight decay 0.1, L2 against decoupled."""
    lines = ["| | t = 1 | t = 2 | t = 3 | t = 4 | t = 5 |", "|---|---|---|---|---|---|"]
    lines.append(_row("no decay", trajectory(Adam, lr=0.1)[:, 2]))
    for decoupled in (False, True):
        values = trajectory(Adam, lr=0.1, weight_decay=0.1, decoupled_weight_decay=decoupled)[:, 2]
        lines.append(_row("decoupled" if decoupled else "L2", values))
    return "\n".join(lines)


def step_counting_table() -> str:
    """A parameter that first receives a gradient at step 4, under both step countings."""
    lines = ["| | after step 4 | after step 5 |", "|---|---|---|"]
    for counting in ("global", "per_parameter"):
        a, b = mg.tensor(np.zeros(1), requires_grad=True), mg.tensor(np.zeros(1), requires_grad=True)
        opt = Adam([a, b], lr=0.1, step_counting=counting)
        values = []
        for t in range(1, 6):
            pairs = [(np.ones(1), a)] + ([(np.ones(1), b)] if t >= 4 else [])
            opt.apply_gradients(pairs)
            if t >= 4:
                values.append(float(b.data[0]))
        lines.append(f"| `{counting}` | {values[0]:.7f} | {values[1]:.7f} |")
    return "\n".join(lines)


def power_table() -> str:
    """Relative error of :math:`1 - 0.999^t` computed in float32."""
    lines = ["| t | 1 | 10 | 100 | 1000 |", "|---|---|---|---|---|"]
    errors = [abs(bias_correction(0.999, t, "float32") / bias_correction(0.999, t) - 1) for t in (1, 10, 100, 1000)]
    lines.append("| relative error of 1 - 0.999^t | " + " | ".join(f"{e:.1e}" for e in errors) + " |")
    return "\n".join(lines)


def sparse_table() -> str:
    """Adamax on a (3, 1) table whose row 2 is touched at steps 1 and 4 only: lazy against dense."""
    lines = ["| | t = 1 | t = 2 | t = 3 | t = 4 |", "|---|---|---|---|---|"]
    for lazy in (False, True):
        w = mg.tensor(np.zeros((3, 1)), requires_grad=True)
        opt = Adamax([w], lr=0.1, lazy=lazy)
        values = []
        for t in range(1, 5):
            rows = [0, 2] if t in (1, 4) else [0]
            grad = RowSparseGrad(np.array(rows), np.ones((len(rows), 1)), (3, 1))
            opt.apply_gradients([(grad, w)])
            values.append(w.data[2, 0])
        lines.append(_row("lazy" if lazy else "dense-equivalent", np.array(values)))
    return "\n".join(lines)


SECTIONS = [
    ("side-by-side", side_by_side),
    ("epsilon", epsilon_table),
    ("amsgrad", amsgrad_table),
    ("adamax", adamax_table),
    ("weight-decay", weight_decay_table),
    ("step-counting", step_counting_table),
    ("power", power_table),
    ("sparse", sparse_table),
]


def render() -> dict[str, str]:
    """File name -> content of every generated table."""
    header = "<!-- Generated by tools/conventions_tables.py; do not edit by hand. -->\n\n"
    return {f"conventions-{name}.md": header + function() + "\n" for name, function in SECTIONS}


def main() -> None:
    """Write the tables (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/generated"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (args.out / name).write_text(text)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()

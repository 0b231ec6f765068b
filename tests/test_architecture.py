"""The shape of the code: one direction of dependency, folders by role, small files.

The import graph is read from the source (every ``import`` statement, at module
level or inside a function, except those under ``if TYPE_CHECKING:``, which
exist only for type hints), so that the checks hold whatever a test happens to
import first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("minigrad", "optim")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules ``module`` imports, skipping ``if TYPE_CHECKING:`` blocks.

    ``from package import submodule`` depends on the submodule (the package's
    ``__init__`` runs first as its parent, whatever it holds); ``from module
    import name`` depends on the module.
    """
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = _imports(tree, module, path.name == "__init__.py", set(files))
        graph[module] = {target for target in targets if target in files and target != module}
    return graph


GRAPH = _graph()


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in GRAPH[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycle(package: str) -> list[str] | None:
    """A cycle of the import graph among the modules of ``package``, or None (depth-first search, colours)."""
    graph = {module: {t for t in targets if t.split(".")[0] == package}
             for module, targets in GRAPH.items() if module.split(".")[0] == package}
    colour = dict.fromkeys(graph, 0)
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if colour[target] == 1:
                return path[path.index(target):] + [target]
            if colour[target] == 0 and (found := visit(target)):
                return found
        colour[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if colour[node] == 0 and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_from_every_module() -> None:
    assert {"optim.optimizer", "optim.fused.engine", "optim.cli", "minigrad.tensor"} <= set(GRAPH)
    assert "optim.fused" in GRAPH["optim.adaptive"]  # the one place that chooses the fast path


def test_the_import_graph_of_optim_has_no_cycle() -> None:
    """(minigrad's Tensor and its backward pass refer to each other, as in DeZero and PyTorch.)"""
    assert _cycle("optim") is None, " -> ".join(_cycle("optim") or [])


def test_minigrad_knows_nothing_of_optim() -> None:
    assert not {target for module in GRAPH if module.startswith("minigrad") for target in GRAPH[module]
                if target.startswith("optim")}


def test_the_optimizer_base_does_not_reach_the_fast_path() -> None:
    assert not {m for m in _reachable("optim.optimizer") if m.startswith("optim.fused")}


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("optim.fused")))
def test_the_fast_path_does_not_know_the_optimizer_classes(module: str) -> None:
    classes = {"optim.adam", "optim.adamax", "optim.amsgrad", "optim.sgd", "optim.adaptive"}
    assert not (GRAPH[module] & classes)


def test_only_the_command_line_imports_the_command_line() -> None:
    importers = {module for module, targets in GRAPH.items() for target in targets
                 if target.startswith("optim.cli") and not module.startswith(("optim.cli", "optim.__main__"))}
    assert not importers


def test_the_equations_depend_on_nothing_but_checks_and_conventions() -> None:
    """The rules, their numbers and the reference path: nothing of the optimizers, the fast path or saving
    (of the engine, only the arrays and the row-sparse gradient type; optim.fma is the fused multiply-add of
    PyTorch's SGD, on NumPy arrays)."""
    equations = {"optim.rules", "optim.rule_choices", "optim.step_scalars", "optim.rule_trace", "optim.fma",
                 "optim.functional_sgd"}
    engine_types = {"minigrad.backend", "minigrad.sparse"}
    checks = {"optim.conventions", "optim.convention_settings", "optim.validation"}
    assert _reachable("optim.functional") <= equations | checks | engine_types


def test_one_direct_fused_step_reads_top_to_bottom_in_five_files() -> None:
    """optimizer.py -> fused/engine.py (the direct step) -> fused/cpu.py (chunks on threads) -> fused/jit.py (the
    compiled loop) -> rules.py: each file imports the next, and the step launches the kernels from the engine."""
    import inspect

    from optim.fused.engine import FusedEngine

    chain = ["optim.fused.engine", "optim.fused.cpu", "optim.fused.jit", "optim.rules"]
    assert all(following in GRAPH[module] for module, following in zip(chain, chain[1:]))
    assert "fused_cpu.launch(" in inspect.getsource(FusedEngine.direct_step)

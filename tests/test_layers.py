"""The architecture as the tree shows it: one package a layer, imports that only go down.

commands -> sweep -> study -> fit -> measures -> the ground floor (the modules at the package's
top); anything may use tracking, which uses only the ground floor; nothing imports a console
script; MLflow is imported only inside tracking/; measures/ and fit/ read only tracking's tag
names (no MLflow); no module is over the size a reader takes in at once. Read from the source
(every import, those inside functions too), so an import added anywhere is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ebm_study

SRC = Path(ebm_study.__file__).parent
PLUGIN = SRC.parent / "hydra_plugins" / "ebm_study_sweepers"
# Lower imports nothing higher. tracking sits beside the ground floor: anything may use it.
RANKS = {"": 0, "tracking": 0, "measures": 1, "fit": 2, "study": 3, "sweep": 4, "commands": 5}
SHARED_BY_COMMANDS = {"ebm_study.commands", "ebm_study.commands.cli"}
MAX_LINES = 360  # "about 350": a module a reader takes in at once


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in RANKS:  # ebm_study, ebm_study.config, ...
        return "" if parts[-1] != "__main__" else "commands"  # `python -m ebm_study`
    return parts[1]


def imports(path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for every import in the file; `from a import b` counts as the
    module a.b when that is one of ours, else as a."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.append((sub if sub in MODULES else node.module, node.lineno))
    return out


def ours(path: Path) -> list[tuple[str, int]]:
    return [(m, line) for m, line in imports(path) if m.split(".")[0] == "ebm_study"]


def test_imports_only_go_down():
    wrong = []
    for name, path in MODULES.items():
        here = layer(name)
        for target, line in ours(path):
            there = layer(target)
            if RANKS[there] > RANKS[here]:
                wrong.append(f"{name}:{line} ({here or 'ground floor'}) imports {target} ({there})")
            if here == "tracking" and there not in ("", "tracking"):
                wrong.append(f"{name}:{line}: tracking imports {target}")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_a_console_script():
    wrong = [
        f"{name}:{line} imports {target}"
        for name, path in {**MODULES, "hydra_plugins": PLUGIN / "sweepers.py"}.items()
        for target, line in ours(path)
        if layer(target) == "commands"
        and target not in SHARED_BY_COMMANDS
        and not (name == "ebm_study.__main__" and target == "ebm_study.commands.train")
    ]
    assert not wrong, "\n".join(wrong)


def test_mlflow_is_called_only_inside_tracking_and_the_pure_layers_import_none_of_it():
    wrong = []
    for name, path in MODULES.items():
        for target, line in imports(path):
            if target.split(".")[0] == "mlflow" and layer(name) != "tracking":
                wrong.append(f"{name}:{line} imports {target}")
            pure = layer(name) in ("measures", "fit")
            if (
                pure
                and target.startswith("ebm_study.tracking")
                and target != "ebm_study.tracking.tags"
            ):
                wrong.append(f"{name}:{line} imports {target}: the pure layers read tags only")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_at_import_time():
    """Module-level imports form no cycle (a lazy import inside a function may close one)."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom | ast.Import)]
        graph[name] = {
            sub if (sub := f"{n.module}.{a.name}") in MODULES else n.module
            for n in top
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("ebm_study")
            for a in n.names
        } & set(MODULES)
    seen, stack = set(), []

    def visit(node: str) -> None:
        if node in stack:
            pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(node) :], node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for name in sorted(graph):
        visit(name)


def test_every_module_is_short_and_every_package_says_what_lives_there():
    long = {n: c for n, p in MODULES.items() if (c := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long
    for package in [p for p in SRC.rglob("__init__.py")]:
        assert ast.get_docstring(ast.parse(package.read_text())), package


def test_the_checks_see_a_wrong_arrow(tmp_path):
    """What the checks read: a module's layer, and its imports, lazy ones included."""
    assert layer("ebm_study.config") == "" and layer("ebm_study.tracking.runs") == "tracking"
    assert layer("ebm_study.__main__") == "commands" and layer("ebm_study.fit.data") == "fit"
    probe = tmp_path / "probe.py"
    probe.write_text("from ebm_study.study import compute\ndef f():\n    import mlflow\n")
    assert ours(probe) == [("ebm_study.study.compute", 1)]
    assert ("mlflow", 3) in imports(probe)
    assert RANKS[layer("ebm_study.study.compute")] > RANKS[layer("ebm_study.measures.pareto")]

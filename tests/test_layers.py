"""The architecture as the tree shows it: one package a layer, imports that only go down.

commands -> sweep -> study -> fit -> measures -> the ground floor (the modules at the package's
top); anything may use tracking, which uses only the ground floor; nothing imports a console
script; MLflow is imported only inside tracking/, and importing measures/ or fit/ loads none of
it; no import cycles; no module over the size a reader takes in at once. Read from the source:
every import, relative ones and those inside functions included, so an import added anywhere
is checked; `violations` is run on a small wrong tree too, to show it sees each kind.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ebm_study

SRC = Path(ebm_study.__file__).parent
PLUGIN = SRC.parent / "hydra_plugins"
# Lower imports nothing higher. tracking sits beside the ground floor: anything may use it.
RANKS = {"": 0, "tracking": 0, "measures": 1, "fit": 2, "study": 3, "sweep": 4, "commands": 5}
SHARED_BY_COMMANDS = {"commands", "commands.cli", "commands.parsers"}  # what they share
# Entries that import a command only once its arguments parse (`python -m ebm_study`,
# commands/entry.py), and the Hydra entry importing its job's work once a job runs.
ENTRIES = {
    "__main__": {"commands.train"},
    "commands.train": {"commands.job"},
    "commands.entry": {f"commands.{c}" for c in ("report", "predict", "promote", "migrate")},
}
# Old paths kept so that what users wrote keeps working, each a re-export and nothing else.
ALIASES = {"callbacks": "sweep.callbacks"}  # conf's hydra.callbacks `_target_` before the tree
MAX_LINES = 360  # "about 350": a module a reader takes in at once


def modules_of(root: Path) -> dict[str, Path]:
    """Dotted name under the package (`""` for its __init__, `fit.data`, ...) -> file."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def layer(module: str) -> str:
    """The layer of a module of the package: its subpackage, or "" for the ground floor."""
    if module == "__main__":
        return "commands"  # `python -m ebm_study` is the train command
    return module.split(".")[0] if "." in module or module in RANKS else ""


def imports(path: Path, module: str, modules: dict[str, Path], top_only: bool = False):
    """(what is imported, line) for every import in the file; ours as the package's dotted
    names (`from a import b` counts as a.b when that is one of ours, else as a; relative ones
    resolved), others as written. `top_only`: the module-level ones, run at import time."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_only else ast.walk(tree)
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(_ours(a.name) or a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                start = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                absolute = f"{ebm_study.__name__}.{start}".rstrip(".")
            else:
                absolute = node.module or ""
            for a in node.names:
                name = _ours(f"{absolute}.{a.name}")
                if name is None or name not in modules:
                    name = _ours(absolute) if _ours(absolute) is not None else absolute
                out.append((name, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__"
            )
        ):  # fmt: skip
            out.append(("<dynamic import>", node.lineno))
    return out


def _ours(name: str) -> str | None:
    """`ebm_study.fit.data` -> `fit.data`; `ebm_study` -> ""; None for another package."""
    top = ebm_study.__name__
    if name == top:
        return ""
    return name.removeprefix(top + ".") if name.startswith(top + ".") else None


def violations(root: Path, extra: dict[str, Path] | None = None) -> list[str]:
    """Every broken rule in the package at `root` (`extra`: files outside it that may import
    it, e.g. the Hydra plugin, checked for imports of console scripts)."""
    modules = modules_of(root)
    wrong = []
    for name, path in modules.items():
        folders = path.relative_to(root).parts[:-1]
        if folders and folders[0] not in RANKS:
            wrong.append(f"{name}: package {folders[0]!r} is no layer ({', '.join(RANKS)})")
    for name, path in {**modules, **(extra or {})}.items():
        here = layer(name) if name in modules else None
        for target, line in imports(path, name, modules):
            where = f"{name}:{line}"
            if target == "<dynamic import>":
                wrong.append(f"{where}: a dynamic import the checks cannot read")
                continue
            if target.split(".")[0] == "mlflow" and here != "tracking":
                wrong.append(f"{where} imports {target}: MLflow lives in tracking/")
            if target not in modules and target != "":
                continue
            there = layer(target)
            entry = target in ENTRIES.get(name, ())
            if there == "commands" and target not in SHARED_BY_COMMANDS and not entry:
                other = "another console script" if here == "commands" else "a console script"
                wrong.append(f"{where} imports {target}, {other}")
            if here is None or (name in ALIASES and target == ALIASES[name]):
                continue
            if RANKS[there] > RANKS[here]:  # tracking, beside the ground floor, included
                wrong.append(f"{where} ({here or 'ground floor'}) imports {target} ({there})")
            if here in ("measures", "fit") and there == "tracking" and target != "tracking.tags":
                wrong.append(f"{where} imports {target}: the pure layers read tags only")
    wrong += cycles(modules)
    for name, path in modules.items():
        count = len(path.read_text().splitlines())
        if count > MAX_LINES:
            wrong.append(f"{name}: {count} lines, over {MAX_LINES}")
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text())):
            wrong.append(f"{name or 'the package'}: __init__.py says nothing of what lives there")
    return wrong


def cycles(modules: dict[str, Path]) -> list[str]:
    """Import cycles among the module-level imports (what runs when a module is imported; a
    package's __init__ runs before its modules)."""
    graph = {}
    for name, path in modules.items():
        targets = {t for t, _ in imports(path, name, modules, top_only=True) if t in modules}
        parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = (targets | ({""} | parents if name else set())) - {name}
    found, done, stack = [], set(), []

    def visit(node: str) -> None:
        if node in stack:
            found.append("import cycle: " + " -> ".join([*stack[stack.index(node) :], node]))
            return
        if node in done:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)
    return found


def test_the_package_keeps_every_rule():
    plugin = {f"hydra plugin {p.name}": p for p in sorted(PLUGIN.rglob("*.py"))}
    assert violations(SRC, plugin) == []


def test_the_checks_see_every_kind_of_wrong_import(tmp_path):
    def write(relative: str, text: str = "") -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    for package in ("", "measures/", "fit/", "study/", "commands/", "tracking/", "extra/"):
        write(f"{package}__init__.py", '"""What lives here."""\n')
    write("config.py")
    write("measures/stability.py", "from ebm_study.study import compute\n")  # upward
    write("fit/data.py", "def read():\n    import mlflow\n    from ..study import words\n")
    write("study/compute.py", "from ebm_study.commands import report\n")  # a console script
    write("study/words.py", "import importlib\nimportlib.import_module('ebm_study.x')\n")
    write("tracking/runs.py", "from ebm_study.fit import data\n")  # tracking reaches up
    write("commands/report.py", "from ebm_study.commands import train\n")
    write("commands/train.py", "from ebm_study.commands import report\n" + "x = 1\n" * 400)
    found = "\n".join(violations(tmp_path))
    for expected in (
        "measures.stability:1 (measures) imports study.compute (study)",
        "fit.data:2 imports mlflow: MLflow lives in tracking/",
        "fit.data:3 (fit) imports study.words (study)",
        "study.compute:1 imports commands.report, a console script",
        "study.words:2: a dynamic import the checks cannot read",
        "tracking.runs:1 (tracking) imports fit.data (fit)",
        "commands.report:1 imports commands.train, another console script",
        "import cycle: commands.report -> commands.train -> commands.report",
        "commands.train: 401 lines, over 360",
        "extra: package 'extra' is no layer",
        "study.compute:1 (study) imports commands.report (commands)",
    ):
        assert expected in found, f"{expected!r} not in:\n{found}"


def test_importing_the_pure_layers_loads_no_mlflow():
    """Not directly, nor through a module of a lower floor (console.py would bring it)."""
    pure = [
        f"{ebm_study.__name__}.{name}"
        for name in modules_of(SRC)
        if layer(name) in ("measures", "fit") and name not in ("measures", "fit")
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {pure!r}:\n    importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')[:3])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_an_old_path_users_wrote_is_the_same_object():
    from ebm_study.callbacks import SweepRun as old
    from ebm_study.sweep.callbacks import SweepRun

    assert old is SweepRun

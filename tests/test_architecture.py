"""The package's import graph follows the data flow, and no module cycle exists.

Data flows one way: sources → faces → transfer → builders → release; loaders and metrics read releases; the
spotting benchmark trains through the loaders; ``format``, ``images``, ``distributed``, ``stages`` and
``settings`` (command-line flags from dataclass fields; standard library only) are the ground floor.
Every import counts, also one inside a function (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "samm_synth_dataset"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: What each part of the package may import (besides itself). Parts not listed here may import anything
#: (the top floor: cli, demo).
ALLOWED: dict[str, set[str]] = {
    "__init__": {"loaders"},  # lazy re-export of load/load_webdataset
    "format": set(),
    "images": set(),
    "distributed": set(),
    "faults": set(),
    "settings": set(),
    "stages": {"format", "distributed", "faults"},  # per-video stages in parallel (workers, torchrun ranks), all-or-nothing
    "sources": {"format", "images", "settings"},
    "faces": {"format", "images", "sources", "settings"},
    "transfer": {"format", "images", "sources", "faces", "settings"},
    "builders": {"format", "images", "distributed", "faults", "stages", "sources", "faces", "transfer", "settings"},
    "release": {"format", "settings", "identity"},  # the identity expectation the release checks
    "loaders": {"format", "images", "distributed", "settings"},
    "metrics": {"format", "images", "distributed", "stages", "sources", "faces", "settings"},
    # slices: one idea each (computation, report section, release check)
    "identity": {"format", "images", "distributed", "stages", "sources", "faces", "settings", "metrics"},
    "spotting": {"format", "images", "distributed", "stages", "sources", "faces", "loaders", "metrics", "settings"},
    "report": {"format", "images", "distributed", "stages", "sources", "faces", "settings", "metrics", "identity",
               "spotting"},  # assembles the sections the slices provide
}


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t.startswith(PACKAGE) and t != name:
                out.add(t)
    return out


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = _modules(root)
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _against_the_flow(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in graph.items():
        allowed = ALLOWED.get(_part(module))
        if allowed is None:
            continue
        for target in sorted(targets):
            part = _part(target)
            if part not in (_part(module), "__init__") and part not in allowed:
                bad.append(f"{module} imports {target} ({_part(module)} may import only {sorted(allowed)})")
    return bad


def test_no_import_runs_against_the_data_flow() -> None:
    bad = _against_the_flow(_graph())
    assert not bad, "imports against the data flow:\n" + "\n".join(bad)


def test_no_import_cycle_between_modules() -> None:
    graph = _graph()
    # The root package only holds ``__version__`` and lazy re-exports: importing it closes no cycle of code.
    edges = {m: ts - {PACKAGE} for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("source,forbidden", [("release", "builders"), ("metrics", "loaders"),
                                              ("sources", "faces"), ("format", "builders")])
def test_the_checker_finds_a_forbidden_edge(tmp_path: Path, source: str, forbidden: str) -> None:
    """A lazy import against the flow, in a throw-away package, is reported (the checker can fail)."""
    root = tmp_path / PACKAGE
    for part in (source, forbidden):
        (root / part).mkdir(parents=True, exist_ok=True)
        (root / part / "__init__.py").write_text("")
    (root / forbidden / "inner.py").write_text("X = 1\n")
    (root / source / "mod.py").write_text(f"def f():\n    from {PACKAGE}.{forbidden}.inner import X\n    return X\n")
    assert _against_the_flow(_graph(root)) == [
        f"{PACKAGE}.{source}.mod imports {PACKAGE}.{forbidden}.inner ({source} may import only "
        f"{sorted(ALLOWED[source])})"]

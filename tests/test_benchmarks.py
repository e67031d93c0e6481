"""The benchmark scripts keep up with the package: every name they import from it exists, every call of a package
function passes keywords it takes, and ``--help`` runs. (Running them is their job, not the tests'; this catches
a moved module or a renamed argument, which would otherwise surface only when somebody measures.)"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))
PACKAGE = "samm_synth_dataset"


def _resolve(module: str, name: str) -> Any:
    mod = importlib.import_module(module)
    if hasattr(mod, name):
        return getattr(mod, name)
    return importlib.import_module(f"{module}.{name}")  # a submodule not imported by its package


def _package_names(tree: ast.AST) -> tuple[dict[str, Any], list[str]]:
    """Names bound by ``from samm_synth_dataset... import`` (and ``import samm_synth_dataset.x as y``) anywhere in
    the script, and the problems found resolving them."""
    bound: dict[str, Any] = {}
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:
                try:
                    bound[alias.asname or alias.name] = _resolve(node.module, alias.name)
                except (ImportError, AttributeError) as exc:
                    problems.append(f"line {node.lineno}: from {node.module} import {alias.name}: {exc}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE and alias.asname:
                    try:
                        bound[alias.asname] = importlib.import_module(alias.name)
                    except ImportError as exc:
                        problems.append(f"line {node.lineno}: import {alias.name}: {exc}")
    return bound, problems


def _target(func: ast.expr, bound: dict[str, Any]) -> tuple[str, Any] | None:
    """The package object a call's ``func`` names (``f(...)`` or ``module.f(...)``), if any."""
    if isinstance(func, ast.Name) and func.id in bound:
        return func.id, bound[func.id]
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in bound:
        owner = bound[func.value.id]
        if inspect.ismodule(owner):
            return f"{func.value.id}.{func.attr}", getattr(owner, func.attr, AttributeError(func.attr))
    return None


def problems_in(script: Path) -> list[str]:
    """Imports of package names that do not exist, calls of missing package functions and keywords they do not
    take, in ``script``."""
    tree = ast.parse(script.read_text(), str(script))
    bound, problems = _package_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        found = _target(node.func, bound)
        if found is None:
            continue
        name, obj = found
        if isinstance(obj, AttributeError):
            problems.append(f"line {node.lineno}: {name} does not exist")
            continue
        if not callable(obj):
            continue
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            continue
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            continue
        for kw in node.keywords:
            if kw.arg is not None and kw.arg not in params:
                problems.append(f"line {node.lineno}: {name}() takes no argument {kw.arg!r}")
    return problems


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_uses_names_and_arguments_that_exist(script: Path) -> None:
    problems = problems_in(script)
    assert not problems, f"{script.name}:\n" + "\n".join(problems)


def test_the_checker_finds_a_moved_module_a_missing_function_and_a_renamed_argument(tmp_path: Path) -> None:
    script = tmp_path / "bench.py"
    script.write_text("def main():\n"
                      "    from samm_synth_dataset.sources.demo import make_demo_corpus\n"
                      "    from samm_synth_dataset.stages import Stage\n"
                      "    from samm_synth_dataset import format as fmt\n"
                      "    Stage('x', 'y', rerun='-', worker_count=2)\n"
                      "    fmt.no_such_function()\n"
                      "    fmt.read_manifest('x')\n")
    problems = problems_in(script)
    assert len(problems) == 3, problems
    assert "sources.demo" in problems[0]
    assert any("Stage() takes no argument 'worker_count'" in p for p in problems)
    assert any("fmt.no_such_function does not exist" in p for p in problems)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_help_runs(script: Path) -> None:
    proc = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "usage" in proc.stdout.lower(), proc.stderr[-2000:]

"""Resuming a build: refuse an output folder whose plan differs from this one, keep the units that verify."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from samm_synth_dataset.builders import manifest as mf
from samm_synth_dataset.builders.plan import Unit
from samm_synth_dataset.builders.writer import BUILD_DIR

log = logging.getLogger(__name__)


def check_output_folder(out: Path, resume: bool, plan: dict[str, Any]) -> None:
    """Raise ValueError unless ``out`` is absent or empty, or ``resume`` is set and the folder's plan has the
    same input file hashes, effective config and units as ``plan`` (different library versions only warn:
    redone parts may then differ in bytes from the kept ones). A folder holding only an empty ``.build/`` (a
    build killed before it wrote its plan) is resumed as a fresh one."""
    if not (out.exists() and any(out.iterdir())):
        return
    if not resume:
        raise ValueError(f"{out} is not empty: pass --resume to continue the build there, or choose an empty "
                         "--out folder")
    plan_path = out / mf.PLAN
    if not plan_path.is_file():
        leftovers = [p for p in out.rglob("*") if p.is_file()]
        if leftovers or not (out / BUILD_DIR).is_dir():
            raise ValueError(f"{out}: --resume, but there is no {mf.PLAN}; it was not made by `samm-synth "
                             "build`; choose an empty --out folder")
        log.info("%s: the interrupted build wrote nothing yet; starting afresh", out)
        return
    old = mf.read_json(plan_path)
    old_inputs = old.get("inputs", {})
    if old_inputs != plan["inputs"]:
        changed = sorted(k for k in set(old_inputs) | set(plan["inputs"])
                         if old_inputs.get(k) != plan["inputs"].get(k))
        raise ValueError(f"{out}: --resume, but input files changed since the interrupted build ({changed}); "
                         "restore them or build into an empty --out folder")
    if old.get("config") != plan["config"] or old.get("units") != plan["units"]:
        diff = sorted(k for k in set(old.get("config", {})) | set(plan["config"])
                      if old.get("config", {}).get(k) != plan["config"].get(k))
        raise ValueError(f"{out}: --resume with different settings or inputs than the interrupted build "
                         f"(config differs in {diff or 'its list of units'}); use the same settings or an "
                         "empty --out folder")
    if old.get("versions") != plan["versions"]:
        log.warning("%s: library versions differ from the interrupted build's; bytes of redone parts may "
                    "differ from the kept ones", out)


def split_done(release: Path, units: list[Unit], resume: bool) -> tuple[list[Unit], list[dict[str, Any]]]:
    """``(units still to build, unit markers of the units kept)``. Without ``resume`` every unit is to build;
    with it, a unit whose marker and files verify (sizes and sha256) is kept, any other has its leftovers
    removed and is built again."""
    if not resume:
        return list(units), []
    todo: list[Unit] = []
    kept: list[dict[str, Any]] = []
    for unit in units:
        ok, why = mf.unit_verifies(release, unit.video)
        if ok:
            kept.append(mf.read_json(mf.unit_marker_path(release, unit.video)))
            continue
        if why != "no unit marker":
            log.info("unit %s: redoing it (%s)", unit.video, why)
        mf.remove_unit(release, unit.video)
        todo.append(unit)
    return todo, kept

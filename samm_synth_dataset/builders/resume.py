"""Resuming a build: refuse an output folder whose plan differs from this one, keep the units that verify."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import manifest as mf
from samm_synth_dataset.builders.plan import Unit
from samm_synth_dataset.builders.writer import BUILD_DIR

log = logging.getLogger(__name__)


#: Files a build writes before its first part: a folder holding only these has nothing built yet.
_START_FILES = (fmt.MANIFEST, mf.PLAN, mf.BUILD_LOG)


def nothing_built(out: Path) -> bool:
    """True when ``out`` holds only what a build writes before its first part (a 'building' manifest, the plan,
    the build log, empty folders): e.g. a run that stopped on a bad checkpoint. Such a folder is started afresh."""
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    if not files or any(f not in _START_FILES for f in files):
        return False
    try:
        return fmt.read_manifest(out, require_complete=False).get("status") == fmt.STATUS_BUILDING
    except fmt.ReleaseError:
        return False


def _comparable_config(doc: dict[str, Any], resolved: bool) -> dict[str, Any]:
    """The plan's config, with ``resolved`` its input paths resolved (a relative and an absolute spelling are the
    same input; plans of older versions lack them)."""
    return {**doc.get("config", {}), **(doc.get("paths", {}) if resolved else {})}


def check_output_folder(out: Path, resume: bool, plan: dict[str, Any]) -> None:
    """Raise ValueError unless ``out`` is absent or empty (or holds nothing built yet, see :func:`nothing_built`),
    or ``resume`` is set and the folder's plan has the same input file hashes, effective config (input paths
    compared resolved) and units as ``plan``, and no source video whose units were built has a changed fingerprint
    (names, sizes, modification times of its frames; bytes with ``hash_sources``). Different library versions
    only warn: redone parts may then differ in bytes from the kept ones. A folder holding only an empty
    ``.build/`` (a build killed before it wrote its plan) is resumed as a fresh one."""
    if not (out.exists() and any(out.iterdir())):
        return
    if nothing_built(out):
        log.info("%s: an earlier run stopped before building anything; starting afresh", out)
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
    resolved = "paths" in old
    old_config, new_config = _comparable_config(old, resolved), _comparable_config(plan, resolved)
    if old_config != new_config or old.get("units") != plan["units"]:
        diff = sorted(k for k in set(old_config) | set(new_config) if old_config.get(k) != new_config.get(k))
        raise ValueError(f"{out}: --resume with different settings or inputs than the interrupted build "
                         f"(config differs in {diff or 'its list of units'}); use the same settings or an "
                         "empty --out folder")
    _check_sources(out, old, plan)
    if old.get("versions") != plan["versions"]:
        log.warning("%s: library versions differ from the interrupted build's; bytes of redone parts may "
                    "differ from the kept ones", out)


def _check_sources(out: Path, old: dict[str, Any], plan: dict[str, Any]) -> None:
    """Refuse when a source video whose units were built (unit markers) changed since the plan was written;
    changed videos with no built unit are simply built from the frames as they are now."""
    if "sources" not in old:
        log.warning("%s: the earlier run recorded no source fingerprints; changed source frames cannot be detected",
                    out)
        return
    old_sources, new_sources = old["sources"] or {}, plan.get("sources") or {}
    changed = sorted(v for v in set(old_sources) | set(new_sources) if old_sources.get(v) != new_sources.get(v))
    built = [v for v in changed if any(mf.unit_marker_path(out, u["video"]).is_file()
                                       for u in plan["units"] if u["source_video"] == v)]
    if built:
        modes = {s.get("mode") for s in list(old_sources.values()) + list(new_sources.values())}
        how = "file names, sizes or modification times" if modes == {"stat"} else \
            "file names, sizes, modification times or bytes" if modes == {"sha256"} else \
            "compared with and without --hash-sources; use the earlier run's setting"
        raise ValueError(f"{out}: --resume, but the source frames of {built[:10]} changed since their units were "
                         f"built ({how}); restore them, or build into an empty --out folder")
    for video in changed:
        log.info("%s: source video %s changed since the plan; its units are built from the frames as they are "
                 "now", out, video)


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

"""Planning a build: the units (source video × reference) to build, the skipped videos, ``.build/plan.json``, and
the resume rule: an output folder is resumed only with the same plan (:func:`check_output_folder`).

Each unit is a task of the build's stage (``stages``: part ``units`` of stage ``build``); a built unit is its task's
result folder ``.build/stages/build/units/done/<video>/`` (its parts and ``unit.json``)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.config import PATH_FIELDS, BuildConfig
from samm_synth_dataset.builders.references import Reference, check_reference_faces, load_references, read_subjects
from samm_synth_dataset.sources import clip_offsets, join_emotions, list_videos, read_annotations
from samm_synth_dataset.sources.provenance import read_corpus_provenance

log = logging.getLogger(__name__)

#: The build's stage and part (``stages``): the result folder of a unit is ``<part folder>/done/<video>``.
STAGE = "build"
UNITS_PART = "units"
PLAN = f"{fmt.BUILD_DIR}/plan.json"
BUILD_LOG = f"{fmt.BUILD_DIR}/build_log.json"
#: A unit's marker in its result folder: its parts, its videos row and intervals rows.
UNIT_MARKER = "unit.json"

# Input files (config fields) whose sha256 the plan records, so that a resumed build refuses changed inputs.
HASHED_INPUTS = ("annotations", "subjects", "boxes", "checkpoint", "fan_checkpoint", "align_landmarks")
#: Config fields naming a folder (every other path field names a file).
_FOLDER_INPUTS = ("source_root",)


@dataclass(frozen=True)
class Unit:
    """One synthetic video to build."""

    video: str
    source: Any  # sources.VideoSource
    reference: Reference
    glasses: bool | None

    def plan_entry(self) -> dict[str, Any]:
        """What a resumed build must find unchanged: ids, the reference's bytes, the source frame range."""
        return {"video": self.video, "source_video": self.source.video, "subject": self.source.subject,
                "reference_id": self.reference.reference_id, "reference_sha256": self.reference.sha256,
                "n_frames": self.source.n_frames, "first_frame": self.source.first_frame,
                "last_frame": self.source.last_frame}


@dataclass(frozen=True)
class Plan:
    """A build's plan: ``units`` sorted by synthetic video id, ``skipped`` ``(video, reason)`` pairs, the
    annotations DataFrame (None without annotations), ``missing_frames`` (see :func:`missing_frames`) and
    ``document``, the content of ``.build/plan.json``."""

    units: list[Unit]
    skipped: list[tuple[str, str]]
    annotations: Any
    missing_frames: dict[str, list[int]]
    document: dict[str, Any]


def plan_units(config: BuildConfig) -> tuple[list[Unit], list[tuple[str, str]], Any]:
    """The units to build (sorted by synthetic video id), the skipped ones with reasons, and the annotations
    DataFrame (clipped to the videos' last frames; None without annotations).

    The source readers get ``config.allow_gaps`` (frame gaps recorded in ``VideoSource.missing`` instead of a
    ``FrameGapError``), ``config.offset_fill`` (the CAS(ME)²/CAS(ME)³ offset-0 rule) and, for CAS(ME)³,
    ``config.casme3_rules``."""
    subjects = read_subjects(config.subjects) if config.subjects is not None else {}
    refs = load_references(config.references, config.refs_per_subject, config.seed, subjects or None)
    sources = list_videos(config.source_root, config.dataset, fps=config.fps, videos=config.videos,
                          allow_gaps=config.allow_gaps)
    skipped: list[tuple[str, str]] = []
    excluded = set(config.exclude_videos)
    annotations = None
    if config.annotations is not None:
        annotations = read_annotations(config.annotations, config.dataset, offset_fill=config.offset_fill,
                                       casme3_rules=config.casme3() if config.dataset == "casme3" else None,
                                       keep_duplicate_rows=config.keep_duplicate_rows)
        annotations = clip_offsets(annotations, sources)
        if config.emotions is not None:
            annotations = join_emotions(annotations, config.emotions)
        listed = {s.video for s in sources}
        wanted = set(config.videos) if config.videos is not None else None
        for video in sorted(set(annotations["video"]) - listed):
            if wanted is None or video in wanted:
                skipped.append((video, "annotated, but no frames found under the source root"))
    units: list[Unit] = []
    for source in sources:
        if source.video in excluded:
            skipped.append((source.video, "excluded by the config (exclude_videos)"))
            continue
        subject_refs = refs.get(source.subject, [])
        if not subject_refs:
            skipped.append((source.video, f"no reference for subject {source.subject!r} in {config.references}"))
            continue
        if len(subject_refs) < config.refs_per_subject:
            log.warning("subject %s has %d reference(s), fewer than refs_per_subject=%d", source.subject,
                        len(subject_refs), config.refs_per_subject)
        glasses = subjects[source.subject].glasses if source.subject in subjects else None
        for ref in subject_refs:
            units.append(Unit(fmt.synthetic_video_id(source.video, ref.reference_id), source, ref, glasses))
    units.sort(key=lambda u: u.video)
    ids = [u.video for u in units]
    if len(set(ids)) != len(ids):
        dupes = sorted({v for v in ids if ids.count(v) > 1})
        raise ValueError(f"synthetic video ids {dupes} occur twice: give references distinct reference_ids")
    return units, sorted(skipped), annotations


def check_inputs(config: BuildConfig) -> None:
    """Raise FileNotFoundError naming the first input path (config field and flag) that does not exist, or
    ValueError for a build without annotations that does not say ``no_labels``. Runs before any folder is made."""
    for name in PATH_FIELDS:
        path = getattr(config, name)
        if name == "out" or path is None:
            continue
        flag = f"--{name.replace('_', '-')}"
        if name in _FOLDER_INPUTS and not path.is_dir():
            raise FileNotFoundError(f"{flag} {path}: no such folder; nothing was created (fix the path and re-run)")
        if name == "references" and not path.exists():
            raise FileNotFoundError(f"{flag} {path}: no such file or folder; nothing was created (fix the path and "
                                    "re-run)")
        if name not in _FOLDER_INPUTS and name != "references" and not path.is_file():
            raise FileNotFoundError(f"{flag} {path}: no such file; nothing was created (fix the path and re-run)")
    if config.annotations is None and not config.no_labels:
        raise ValueError("no --annotations given: the release would carry no labels (every frame's me/mae False, "
                         "no intervals); give --annotations SHEET, or pass --no-labels to build an unlabelled "
                         "release on purpose")


def source_fingerprint(source: Any, content: bool = False) -> dict[str, Any]:
    """A source video's fingerprint: the sha256 of its frame files' names, sizes and modification times (ns), in
    frame order, and with ``content`` of their bytes too. ``{"files": n, "mode": "stat"|"sha256", "digest"}``."""
    files = list(source.frame_paths) if source.frame_paths is not None else [source.video_file]
    h = hashlib.sha256()
    for p in files:
        st = Path(p).stat()
        h.update(f"{Path(p).name}\t{st.st_size}\t{st.st_mtime_ns}".encode())
        if content:
            h.update(f"\t{fmt.sha256_file(p)}".encode())
        h.update(b"\n")
    return {"files": len(files), "mode": "sha256" if content else "stat", "digest": h.hexdigest()}


def missing_frames(units: list[Unit]) -> dict[str, list[int]]:
    """``{source video: its missing SOURCE frame numbers}`` for the planned units' videos that have gaps
    (only with ``allow_gaps``), sorted by video."""
    return {v: list(m) for v, m in sorted({u.source.video: u.source.missing for u in units
                                            if u.source.missing}.items())}


def make_plan(config: BuildConfig) -> Plan:
    """Plan the build of ``config``. The document holds the effective config, library versions, the units, the
    skipped videos, the missing source frames, the sha256 of every input file that is not a frame, each source
    video's fingerprint (:func:`source_fingerprint`) and the input paths resolved, so that ``--resume`` can refuse
    inputs changed since an interrupted run. Inputs are checked (:func:`check_inputs`) first; a plan without a
    unit is refused (ValueError naming why the videos were skipped), never built as an empty "complete" release."""
    check_inputs(config)
    units, skipped, annotations = plan_units(config)
    if not units:
        why = "; ".join(f"{v}: {r}" for v, r in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        raise ValueError(f"nothing to build: no source video × reference unit is left "
                         f"({len(skipped)} video(s) skipped{': ' + why if why else ''}); check --videos, "
                         "--exclude-videos and the references file (does a reference row cover each subject?); "
                         "nothing was created")
    if not config.allow_faceless_references:
        check_reference_faces((u.reference for u in units), config.references)
    missing = missing_frames(units)
    inputs = {name: fmt.sha256_file(path) for name in HASHED_INPUTS
              if (path := getattr(config, name, None)) is not None and Path(path).is_file()}
    document = {"format_version": fmt.FORMAT_VERSION, "config": config.effective(), "versions": fmt.versions(),
                "inputs": inputs, "units": [u.plan_entry() for u in units],
                "skipped": [{"video": v, "reason": r} for v, r in skipped],
                "missing_frames": missing,
                "sources": {u.source.video: source_fingerprint(u.source, config.hash_sources)
                            for u in {u.source.video: u for u in units}.values()},
                "paths": {name: str(Path(value).resolve()) for name in PATH_FIELDS
                          if name != "out" and (value := getattr(config, name)) is not None}}
    provenance = read_corpus_provenance(config.source_root)
    if provenance is not None:  # a demo corpus: the card says what the release is (two public-domain faces)
        document["source_corpus"] = provenance
    return Plan(units, skipped, annotations, missing, document)


# --------------------------------------------------------------------------------------------------------------
# Resume: the same plan, or refused


def unit_folder(release: Path, video: str) -> Path:
    """The result folder of a built unit (present only once the unit is built whole)."""
    return release / fmt.STAGES_DIR / STAGE / UNITS_PART / "done" / video


def resume_settings(plan: dict[str, Any]) -> dict[str, Any]:
    """What the build's stage keeps its finished units for: the input hashes and the effective config (input paths
    resolved). Units are checked one by one (:func:`check_output_folder`: a built unit's inputs must not have
    changed; an unbuilt one is built from the inputs as they are); library versions only warn."""
    return {"inputs": plan["inputs"], "config": _comparable_config(plan, True)}


#: Files a build writes before its first unit: a folder holding only these has nothing built yet.
_START_FILES = (fmt.MANIFEST, PLAN, BUILD_LOG, fmt.LOCK_FILE)


def nothing_built(out: Path) -> bool:
    """True when ``out`` holds only what a build writes before its first unit (a 'building' manifest, the plan,
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


def check_output_folder(out: Path, resume: bool, plan: dict[str, Any], was_empty: bool | None = None) -> None:
    """Raise ValueError unless ``out`` is absent or empty (or holds nothing built yet, see :func:`nothing_built`),
    or ``resume`` is set and the folder's plan has the same input file hashes, effective config (input paths
    compared resolved) and units as ``plan``, and no source video whose units were built has a changed fingerprint
    (names, sizes, modification times of its frames; bytes with ``hash_sources``). Different library versions
    only warn: redone units may then differ in bytes from the kept ones. A folder holding only an empty
    ``.build/`` (a build killed before it wrote its plan) is resumed as a fresh one. ``was_empty``: whether the
    folder was absent or empty before this command took its lock (``.build/lock``), when the caller knows."""
    if was_empty if was_empty is not None else not (out.exists() and any(out.iterdir())):
        return
    if nothing_built(out):
        log.info("%s: an earlier run stopped before building anything; starting afresh", out)
        return
    if not resume:
        raise ValueError(f"{out} is not empty: pass --resume to continue the build there, or choose an empty "
                         "--out folder")
    plan_path = out / PLAN
    if not plan_path.is_file():
        leftovers = [p for p in out.rglob("*") if p.is_file() and p.relative_to(out).as_posix() != fmt.LOCK_FILE]
        if leftovers or not (out / fmt.BUILD_DIR).is_dir():
            raise ValueError(f"{out}: --resume, but there is no {PLAN}; it was not made by `samm-synth "
                             "build`; choose an empty --out folder")
        log.info("%s: the interrupted build wrote nothing yet; starting afresh", out)
        return
    old = json.loads(plan_path.read_text())
    old_inputs = old.get("inputs", {})
    if old_inputs != plan["inputs"]:
        changed = sorted(k for k in set(old_inputs) | set(plan["inputs"])
                         if old_inputs.get(k) != plan["inputs"].get(k))
        raise ValueError(f"{out}: --resume, but input files changed since the interrupted build ({changed}); "
                         "restore them or build into an empty --out folder")
    resolved = "paths" in old
    old_config, new_config = _comparable_config(old, resolved), _comparable_config(plan, resolved)
    if old_config.get("allow_gaps") is False and new_config.get("allow_gaps") is True:
        # Without --allow-gaps a gap stops the build at planning, so no unit built so far has one; a source frame
        # deleted after it failed to decode is then left out as a gap (its video's units are checked below).
        log.info("%s: --allow-gaps added on resume; the units built so far have no gaps", out)
        old_config["allow_gaps"] = True
    old_units = {u["video"]: u for u in old.get("units") or []}
    new_units = {u["video"]: u for u in plan["units"]}
    if old_config != new_config or sorted(old_units) != sorted(new_units):
        diff = sorted(k for k in set(old_config) | set(new_config) if old_config.get(k) != new_config.get(k))
        raise ValueError(f"{out}: --resume with different settings or inputs than the interrupted build "
                         f"(config differs in {diff or 'its list of units'}); use the same settings or an "
                         "empty --out folder")
    changed = sorted(v for v in new_units if old_units[v] != new_units[v])
    built = _built_units(out)
    if any(v in built for v in changed):
        raise ValueError(f"{out}: --resume, but the inputs of built units changed since they were built "
                         f"({[v for v in changed if v in built][:10]}: reference image or source frame range); "
                         "restore them, or build into an empty --out folder")
    for video in changed:  # e.g. a broken reference image replaced after its unit failed
        log.info("%s: unit %s changed since the plan (not built yet); it is built from the inputs as they are now",
                 out, video)
    _check_sources(out, old, plan)
    if old.get("versions") != plan["versions"]:
        log.warning("%s: library versions differ from the interrupted build's; bytes of redone units may "
                    "differ from the kept ones", out)


def _built_units(out: Path) -> set[str]:
    """The synthetic videos built in ``out``: a task folder each, or (a finished build's, moved into the release)
    listed by its manifest."""
    try:
        finished = {str(u["video"]) for u in fmt.read_manifest(out, require_complete=False).get("units") or []}
    except fmt.ReleaseError:
        finished = set()
    folder = out / fmt.STAGES_DIR / STAGE / UNITS_PART / "done"
    return finished | ({p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set())


def _check_sources(out: Path, old: dict[str, Any], plan: dict[str, Any]) -> None:
    """Refuse when a source video whose units were built changed since the plan was written; changed videos with
    no built unit are simply built from the frames as they are now."""
    if "sources" not in old:
        log.warning("%s: the earlier run recorded no source fingerprints; changed source frames cannot be detected",
                    out)
        return
    old_sources, new_sources = old["sources"] or {}, plan.get("sources") or {}
    changed = sorted(v for v in set(old_sources) | set(new_sources) if old_sources.get(v) != new_sources.get(v))
    units = _built_units(out)
    built = [v for v in changed if any(u["video"] in units for u in plan["units"] if u["source_video"] == v)]
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

"""Build state and the release manifest.

Build state lives in ``<release>/.build/`` (not part of the release, never uploaded):
``plan.json`` (effective config, versions, every planned unit, skipped units), ``parts/<video>-<part>.json``
(per-part markers), ``units/<video>.json`` (a unit's marker: its parts, its videos row and intervals rows,
written after all its parts) or ``units/<video>.failed.json`` (why it failed), and ``build_log.json``
(timings: the only non-deterministic output).

:func:`finalize` merges the unit markers into ``data/intervals/intervals.parquet``,
``data/videos/videos.parquet``, ``README.md`` and, last, ``manifest.json`` with status ``complete``. Its content
depends only on the inputs, so identical builds give byte-identical releases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.faults import kill_point
from samm_synth_dataset.builders.writer import BUILD_DIR, PARTS_DIR, UNITS_DIR, PartRecord
from samm_synth_dataset.format import (TMP_SUFFIX, FileRecord, atomic_write_bytes, file_record, sha256_file,
                                       write_table_atomic)

PLAN = f"{BUILD_DIR}/plan.json"
BUILD_LOG = f"{BUILD_DIR}/build_log.json"
_PART_RE = re.compile(r"^(?P<video>[A-Za-z0-9_\-]+)-(?P<part>\d{5})\.(?P<suffix>parquet|tar)(?P<tmp>\.tmp)?$")

CardRenderer = Callable[[Path, dict[str, Any]], str]
#: What the card says of a release built with ``no_labels``.
NO_LABELS_SENTENCE = ("**Unlabelled**: built without annotations (`--no-labels`), so it has no intervals and every "
                      "frame's `me` and `mae` is False.")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def unit_marker_path(release: Path, video: str) -> Path:
    return release / UNITS_DIR / f"{video}.json"


def failed_marker_path(release: Path, video: str) -> Path:
    return release / UNITS_DIR / f"{video}.failed.json"


def write_building_manifest(release: Path, plan: dict[str, Any]) -> None:
    """``manifest.json`` with status ``building`` (readers refuse it until :func:`finalize` replaces it)."""
    fmt.write_building_manifest(release, plan["config"], plan["versions"])


def part_files_of(release: Path, video: str) -> list[Path]:
    """Every part file (and temp file) of ``video`` in ``data/frames`` and ``data/wds``."""
    out = []
    for d in (fmt.FRAMES_DIR, fmt.WDS_DIR):
        folder = release / d
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            m = _PART_RE.match(p.name)
            if m and m.group("video") == video:
                out.append(p)
    return sorted(out)


def remove_unit(release: Path, video: str) -> None:
    """Delete everything a (partial) unit left: its part files, temp files and markers."""
    for p in part_files_of(release, video):
        p.unlink(missing_ok=True)
    parts = release / PARTS_DIR
    if parts.is_dir():
        for p in parts.iterdir():
            if p.name.startswith(f"{video}-") and re.fullmatch(rf"{re.escape(video)}-\d{{5}}\.json(\.tmp)?",
                                                               p.name):
                p.unlink(missing_ok=True)
    for p in (unit_marker_path(release, video), failed_marker_path(release, video)):
        p.unlink(missing_ok=True)
        p.with_name(p.name + TMP_SUFFIX).unlink(missing_ok=True)


def unit_verifies(release: Path, video: str, check_sha: bool = True) -> tuple[bool, str]:
    """Whether a unit's marker exists and every file it lists has the recorded size (and sha256)."""
    path = unit_marker_path(release, video)
    if not path.is_file():
        return False, "no unit marker"
    try:
        marker = read_json(path)
        parts = [PartRecord.from_dict(p) for p in marker["parts"]]
    except (ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable unit marker ({exc})"
    for part in parts:
        for f in part.files:
            p = release / f.path
            if not p.is_file():
                return False, f"{f.path} missing"
            if p.stat().st_size != f.bytes:
                return False, f"{f.path} has {p.stat().st_size} bytes, marker says {f.bytes}"
            if check_sha and sha256_file(p) != f.sha256:
                return False, f"{f.path} sha256 differs from its marker"
    return True, "ok"


# --------------------------------------------------------------------------------------------------------------
# Dataset card


def minimal_card(release: Path, manifest: dict[str, Any]) -> str:
    """A valid minimal dataset card: YAML declaring the Parquet configs only (never the tars; see
    huggingface/datasets#7101), and a short text. The release stage renders the full card."""
    configs = manifest["summary"]["configs"]
    lines = ["---", "license: other", "license_name: samm-lv-licence", "pretty_name: SAMM-SYNTH-style synthetic "
             "long videos", "task_categories:", "- video-classification", "configs:"]
    for i, name in enumerate(configs):
        glob = fmt.CONFIGS[name][2]
        lines += [f"- config_name: {name}"]
        if i == 0:
            lines += ["  default: true"]
        lines += ["  data_files:", "  - split: train", f"    path: \"{glob}\""]
    lines += ["---", "", "# Synthetic long-video facial expression dataset", "",
              f"{manifest['summary']['videos']} synthetic videos, {manifest['summary']['frames']} frames, made by "
              f"`{manifest['config']['method']}` from source videos of `{manifest['config']['dataset']}`. "
              + (NO_LABELS_SENTENCE if manifest["config"].get("no_labels") else
                 "Labels (micro-/macro-expression intervals) are reused from the source annotations."), "",
              "```python", "from datasets import load_dataset", "",
              f"frames = load_dataset(\"<this folder or repo>\", \"{configs[0]}\", split=\"train\")", "```", ""]
    if "webdataset" in manifest["config"]["formats"]:
        lines += ["The same frames are WebDataset tars in `data/wds/` (keys `<video>/<index:06d>`, members "
                  "image + `json`): `load_dataset(\"webdataset\", data_files=\"data/wds/*.tar\")` or "
                  "`webdataset.WebDataset(...)`.", ""]
    lines += ["`manifest.json` lists every file with its size and sha256; check them with "
              "`samm-synth verify <folder>`.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Finalize


def _table(rows: list[dict[str, Any]], config: str) -> pa.Table:
    schema = fmt.schema_for(config)
    return pa.Table.from_pylist(rows, schema=schema)


class FinalizeError(fmt.ReleaseError):
    """The build is not finished: units missing or failed, or stray files in the data folders."""


def finalize(release: str | Path, card: CardRenderer | None = None) -> dict[str, Any]:
    """Merge the unit markers into the tables, the card and ``manifest.json`` (status ``complete``, written
    last). Raises FinalizeError naming missing or failed units (re-run the build with ``--resume``) or stray
    files in ``data/frames``/``data/wds``. Returns the manifest."""
    release = Path(release)
    plan_path = release / PLAN
    if not plan_path.is_file():
        raise FinalizeError(f"{plan_path}: no build plan; {release} was not made by `samm-synth build`")
    plan = read_json(plan_path)
    markers: list[dict[str, Any]] = []
    problems: list[str] = []
    for unit in plan["units"]:
        video = unit["video"]
        path = unit_marker_path(release, video)
        if path.is_file():
            markers.append(read_json(path))
        elif failed_marker_path(release, video).is_file():
            problems.append(f"{video}: failed: {read_json(failed_marker_path(release, video))['reason']}")
        else:
            problems.append(f"{video}: not built")
    if problems:
        raise FinalizeError(f"{release}: {len(problems)} of {len(plan['units'])} unit(s) are not done — "
                            + "; ".join(problems[:20]) + (" ..." if len(problems) > 20 else "")
                            + ". Re-run the build with --resume (exclude videos that cannot be built).")
    expected: set[str] = set()
    part_records: list[FileRecord] = []
    for marker in markers:
        for part in marker["parts"]:
            for f in part["files"]:
                rec = FileRecord(**f)
                p = release / rec.path
                if not p.is_file() or p.stat().st_size != rec.bytes:
                    raise FinalizeError(f"{p}: missing or not the size its marker records; re-run the build with "
                                        "--resume to redo its video")
                expected.add(rec.path)
                part_records.append(rec)
    stray = []
    for d in (fmt.FRAMES_DIR, fmt.WDS_DIR):
        folder = release / d
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                rel = p.relative_to(release).as_posix()
                if rel in expected:
                    continue
                if p.name.endswith(TMP_SUFFIX):
                    p.unlink()
                else:
                    stray.append(rel)
    if stray:
        raise FinalizeError(f"{release}: files not made by this build: {stray[:10]}; remove them (they would be "
                            "loaded with the release)")

    markers.sort(key=lambda m: m["video"])
    intervals = [row for m in markers for row in m["intervals"]]
    videos = [m["videos_row"] for m in markers]
    write_table_atomic(release / fmt.INTERVALS_PATH, _table(intervals, "intervals"))
    write_table_atomic(release / fmt.VIDEOS_PATH, _table(videos, "videos"))
    kill_point("finalize", "tables")

    records = part_records + [file_record(release, fmt.INTERVALS_PATH, len(intervals)),
                              file_record(release, fmt.VIDEOS_PATH, len(videos))]
    units = [{"video": m["video"], "source_video": m["source_video"], "reference_id": m["videos_row"]["reference_id"],
              "frames": m["frames"],
              "parts": [{"part": p["part"], "start": p["start"], "rows": p["rows"],
                         "files": [f["path"] for f in p["files"]]} for p in m["parts"]]} for m in markers]
    summary = {
        "videos": len(markers),
        "source_videos": len({m["source_video"] for m in markers}),
        "frames": sum(m["frames"] for m in markers),
        "parts": sum(len(m["parts"]) for m in markers),
        "intervals": len(intervals),
        "formats": plan["config"]["formats"],
        "configs": fmt.declared_configs(release),
        "skipped": plan["skipped"],
        "missing_frames": plan.get("missing_frames", {}),  # source video → source frame numbers absent (allow_gaps)
    }
    manifest: dict[str, Any] = {
        "format_version": fmt.FORMAT_VERSION,
        "status": fmt.STATUS_COMPLETE,
        "config": plan["config"],
        "versions": plan["versions"],
        "summary": summary,
        "units": units,
    }
    card_text = (card or minimal_card)(release, {**manifest, "files": []})
    atomic_write_bytes(release / fmt.CARD, card_text.encode())
    records.append(file_record(release, fmt.CARD, None))
    records.sort(key=lambda r: r.path)
    manifest["files"] = [r.as_dict() for r in records]
    summary["files"] = len(records)
    summary["bytes"] = sum(r.bytes for r in records)
    kill_point("finalize", "manifest")
    fmt.write_manifest(release, manifest)
    return manifest

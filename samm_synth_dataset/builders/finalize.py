"""Build state and the release manifest.

Build state lives in ``<release>/.build/`` (not part of the release, never uploaded): ``plan.json`` (effective
config, versions, every planned unit, skipped units), the build stage's task folders
``stages/build/units/done/<video>/`` (a built unit: its part files under ``data/`` and ``unit.json``, its marker
with its parts, videos row and intervals rows; ``failed/<video>.txt`` says why a unit failed) and
``build_log.json`` (timings: the only non-deterministic output).

:func:`finalize` moves the units' parts into ``data/frames`` and ``data/wds``, merges their markers into
``data/intervals/intervals.parquet``, ``data/videos/videos.parquet``, ``README.md`` and, last, ``manifest.json``
with status ``complete``, then deletes the stage's folder. Its content depends only on the inputs, so identical
builds give byte-identical releases. A finalize cut short is done again by re-running it (or ``build --resume``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.plan import PLAN, STAGE, UNIT_MARKER, unit_folder
from samm_synth_dataset.faults import kill_point

CardRenderer = Callable[[Path, dict[str, Any]], str]
#: What the card says of a release built with ``no_labels``.
NO_LABELS_SENTENCE = ("**Unlabelled**: built without annotations (`--no-labels`), so it has no intervals and every "
                      "frame's `me` and `mae` is False.")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_building_manifest(release: Path, plan: dict[str, Any]) -> None:
    """``manifest.json`` with status ``building`` (readers refuse it until :func:`finalize` replaces it)."""
    fmt.write_building_manifest(release, plan["config"], plan["versions"])


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
    """Move the built units' parts into the release and merge their markers into the tables, the card and
    ``manifest.json`` (status ``complete``, written last); a complete release is returned as it is. Raises
    FinalizeError naming missing or failed units (re-run the build with ``--resume``) or stray
    files in ``data/frames``/``data/wds``. Returns the manifest."""
    release = Path(release)
    plan_path = release / PLAN
    if not plan_path.is_file():
        raise FinalizeError(f"{plan_path}: no build plan; {release} was not made by `samm-synth build`")
    try:
        done = fmt.read_manifest(release, require_complete=False)
    except fmt.ReleaseError:
        done = {}
    if done.get("status") == fmt.STATUS_COMPLETE:
        return done  # finalized already (its units were moved into the release): nothing to do
    plan = read_json(plan_path)
    markers: list[dict[str, Any]] = []
    problems: list[str] = []
    for unit in plan["units"]:
        video = unit["video"]
        folder = unit_folder(release, video)
        failed = folder.parent.parent / "failed" / f"{video}.txt"
        if (folder / UNIT_MARKER).is_file():
            markers.append(read_json(folder / UNIT_MARKER))
        elif failed.is_file():
            problems.append(f"{video}: failed: {failed.read_text(errors='replace')}")
        else:
            problems.append(f"{video}: not built")
    if problems:
        raise FinalizeError(f"{release}: {len(problems)} of {len(plan['units'])} unit(s) are not done — "
                            + "; ".join(problems[:20]) + (" ..." if len(problems) > 20 else "")
                            + ". Re-run the build with --resume (exclude videos that cannot be built).")
    staged: dict[str, Path] = {}
    part_records: list[fmt.FileRecord] = []
    for marker in markers:
        for part in marker["parts"]:
            for f in part["files"]:
                rec = fmt.FileRecord(**f)
                p = unit_folder(release, marker["video"]) / rec.path
                if not p.is_file() or p.stat().st_size != rec.bytes:
                    raise FinalizeError(f"{p}: missing or not the size its marker records; delete "
                                        f"{unit_folder(release, marker['video'])} and re-run the build with "
                                        "--resume to redo its video")
                staged[rec.path] = p
                part_records.append(rec)
    stray = []
    for d in (fmt.FRAMES_DIR, fmt.WDS_DIR):
        folder = release / d
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                rel = p.relative_to(release).as_posix()
                if rel in staged:
                    continue
                if p.name.endswith(fmt.TMP_SUFFIX):
                    p.unlink()
                else:
                    stray.append(rel)
    if stray:
        raise FinalizeError(f"{release}: files not made by this build: {stray[:10]}; remove them (they would be "
                            "loaded with the release)")
    fmt.install_files(release, staged)

    markers.sort(key=lambda m: m["video"])
    intervals = [row for m in markers for row in m["intervals"]]
    videos = [m["videos_row"] for m in markers]
    fmt.write_table_atomic(release / fmt.INTERVALS_PATH, _table(intervals, "intervals"))
    fmt.write_table_atomic(release / fmt.VIDEOS_PATH, _table(videos, "videos"))
    kill_point(STAGE, "tables")

    records = part_records + [fmt.file_record(release, fmt.INTERVALS_PATH, len(intervals)),
                              fmt.file_record(release, fmt.VIDEOS_PATH, len(videos))]
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
    if plan.get("source_corpus"):
        manifest["source_corpus"] = plan["source_corpus"]
    card_text = (card or minimal_card)(release, {**manifest, "files": []})
    fmt.atomic_write_bytes(release / fmt.CARD, card_text.encode())
    records.append(fmt.file_record(release, fmt.CARD, None))
    records.sort(key=lambda r: r.path)
    manifest["files"] = [r.as_dict() for r in records]
    summary["files"] = len(records)
    summary["bytes"] = sum(r.bytes for r in records)
    kill_point(STAGE, "commit")
    fmt.write_manifest(release, manifest)
    shutil.rmtree(release / fmt.STAGES_DIR / STAGE, ignore_errors=True)
    return manifest

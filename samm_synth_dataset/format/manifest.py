"""``manifest.json``, both directions: read it (refusing unfinished builds), write the ``building`` placeholder,
add files to a finished release, and the library versions recorded in it.

The manifest lists every release file with its bytes, sha256 and rows, the build config, the versions of the
libraries that shape the bytes, a summary and a status: ``building`` until the build is finalized, then
``complete``. Only ``complete`` releases are read by loaders, metrics and release.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from samm_synth_dataset import __version__
from samm_synth_dataset.format.files import atomic_write_json, file_record
from samm_synth_dataset.format.layout import (AUS_DIR, FORMAT_VERSION, FRAMES_DIR, MANIFEST, PARTIAL_SUFFIX, PENDING,
                                              STATUS_BUILDING, STATUS_COMPLETE, ReleaseError)


def versions() -> dict[str, str]:
    """Versions of the package, Python and the libraries whose behaviour shapes the bytes."""
    out = {"samm-synth-dataset": __version__, "python": platform.python_version()}
    for dist in ("torch", "pyarrow", "datasets", "webdataset", "numpy", "opencv-python-headless", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def read_manifest(release: str | Path, require_complete: bool = True) -> dict[str, Any]:
    """Read ``<release>/manifest.json``; with ``require_complete`` refuse a build that did not finish.

    Raises ReleaseError naming the path and what to do.
    """
    path = Path(release) / MANIFEST
    if not path.is_file():
        staged = Path(release).with_name(Path(release).name + PARTIAL_SUFFIX)
        if staged.is_dir():
            raise ReleaseError(f"{path}: no manifest.json, but {staged} holds a release still being made (a "
                               "`samm-synth release --out` that stopped); re-run that same `samm-synth release` "
                               "command to finish it")
        raise ReleaseError(f"{path}: no manifest.json; this is not a finished release (run `samm-synth build` "
                           "or `samm-synth finalize` first)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path}: manifest is not valid JSON ({exc}); rebuild or finalize the release") from exc
    fv = str(manifest.get("format_version", ""))
    if fv.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise ReleaseError(f"{path}: format_version {fv!r} is not readable by this package (reads "
                           f"{FORMAT_VERSION}.x); install a matching samm-synth-dataset version")
    if require_complete and manifest.get("status") != STATUS_COMPLETE:
        raise ReleaseError(f"{path}: status is {manifest.get('status')!r}, not 'complete'; the build did not "
                           "finish (re-run it with --resume)")
    return manifest


def file_entries(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's files as ``{relative path: entry}`` (entries have ``bytes``, ``sha256``, maybe ``rows``;
    accepts a dict by path or a list of entries)."""
    files = manifest.get("files") or {}
    if isinstance(files, dict):
        return {str(k): dict(v) for k, v in files.items()}
    return {str(e["path"]): dict(e) for e in files}


def write_manifest(release: str | Path, manifest: dict[str, Any]) -> None:
    """Write ``<release>/manifest.json`` atomically as canonical JSON."""
    atomic_write_json(Path(release) / MANIFEST, manifest)


def write_building_manifest(release: Path, config: dict[str, Any], versions_: dict[str, str]) -> None:
    """``manifest.json`` with status ``building`` (readers refuse it until the build is finalized)."""
    write_manifest(release, {"format_version": FORMAT_VERSION, "status": STATUS_BUILDING,
                             "config": config, "versions": versions_})


def declared_configs(release: Path) -> list[str]:
    """The Parquet configs present in a release: frames (if Parquet frames exist), intervals, videos, aus."""
    out = []
    if any((release / FRAMES_DIR).glob("*.parquet")):
        out.append("frames")
    out += ["intervals", "videos"]
    if any((release / AUS_DIR).glob("*.parquet")):
        out.append("aus")
    return out


def begin_stage(release: str | Path, stage: str, rerun: str) -> None:
    """Mark ``stage`` as adding files to a complete release (``verify`` fails while marked, naming ``rerun``,
    the command that finishes it); ``add_files(..., finish_stage=stage)`` removes the mark."""
    manifest = read_manifest(release)
    manifest.setdefault(PENDING, {})[stage] = {"rerun": rerun}
    write_manifest(release, manifest)


def add_files(release: str | Path, paths: list[str], rows: dict[str, int | None] | None = None,
              remove: list[str] | tuple[str, ...] = (), finish_stage: str | None = None,
              sections: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add or refresh files (paths relative to the release) in a complete release's manifest: recompute bytes
    and sha256 (rows from ``rows``, else Parquet row counts, else None). For later stages (AU tracks, quality
    report, the full card). ``remove``: entries to drop (files no longer made); ``finish_stage``: the stage
    whose ``begin_stage`` mark this same write removes; ``sections``: top-level manifest keys set (replaced) in
    the same write (e.g. ``features``). Returns the new manifest."""
    release = Path(release)
    manifest = read_manifest(release)
    by_path = {f["path"]: f for f in manifest["files"] if f["path"] not in set(remove)}
    for rel in paths:
        p = release / rel
        if not p.is_file():
            raise FileNotFoundError(f"{p}: cannot add a missing file to the manifest")
        n = (rows or {}).get(rel)
        if n is None and rel.endswith(".parquet"):
            n = pq.ParquetFile(p).metadata.num_rows
        by_path[rel] = file_record(release, rel, n).as_dict()
    manifest["files"] = [by_path[k] for k in sorted(by_path)]
    manifest["summary"]["files"] = len(manifest["files"])
    manifest["summary"]["bytes"] = sum(f["bytes"] for f in manifest["files"])
    manifest["summary"]["configs"] = declared_configs(release)
    manifest.update(sections or {})
    if finish_stage is not None:
        pending = manifest.get(PENDING, {})
        pending.pop(finish_stage, None)
        if not pending:
            manifest.pop(PENDING, None)
    write_manifest(release, manifest)
    return manifest

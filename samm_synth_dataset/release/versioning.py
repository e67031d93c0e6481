"""Release versions with data meaning, the comparison of two releases, and release notes.

A release version is ``MAJOR.MINOR.PATCH`` (tag ``vMAJOR.MINOR.PATCH``). Its parts carry *data* meaning (as in
TFDS):

* PATCH — the same records: every row of every config is unchanged (only serialization, card or report changed).
* MINOR — added fields (columns, configs) or added videos; every existing record unchanged.
* MAJOR — changed or removed records (any cell of an existing row, a removed row or video, rows added to an
  existing video), removed fields, or changed splits (an existing video moved between folds).

``compare_releases(previous, current)`` finds the smallest level that describes the change;
``check_version`` refuses a version bump that understates it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt

_SEMVER_RE = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

#: Row keys of each Parquet config: rows with the same key are "the same record".
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "frames": ("video", "index"),
    "intervals": ("interval_id",),
    "videos": ("video",),
    "aus": ("video", "frame", "track"),
}


class VersionError(ValueError):
    """A version string is malformed, or a version bump understates the change between two releases."""


@dataclass(frozen=True, order=True)
class Version:
    """A semantic version ``major.minor.patch``."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> "Version":
        """Parse ``X.Y.Z`` (a leading ``v`` is accepted); raise VersionError otherwise."""
        match = _SEMVER_RE.match(str(text).strip())
        if not match:
            raise VersionError(f"version {text!r} is not of the form MAJOR.MINOR.PATCH (e.g. 1.0.0)")
        return cls(*(int(g) for g in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def tag(self) -> str:
        """The Hub tag of this version, ``vX.Y.Z``."""
        return f"v{self}"


class Change(enum.IntEnum):
    """How much the records changed between two releases (ordered: NONE < PATCH < MINOR < MAJOR)."""

    NONE = 0      # byte-identical data files
    PATCH = 1     # same records
    MINOR = 2     # added fields or videos
    MAJOR = 3     # changed records or splits

    @property
    def meaning(self) -> str:
        return {
            Change.NONE: "no data change",
            Change.PATCH: "same records",
            Change.MINOR: "added fields or videos; existing records unchanged",
            Change.MAJOR: "changed records or splits",
        }[self]


@dataclass
class ChangeReport:
    """The result of comparing two releases: the level and one human-readable line per finding."""

    level: Change = Change.NONE
    findings: list[tuple[Change, str]] = field(default_factory=list)

    def add(self, level: Change, text: str) -> None:
        self.findings.append((level, text))
        self.level = max(self.level, level)

    def lines(self) -> list[str]:
        return [f"{lvl.name}: {text}" for lvl, text in self.findings]


def bump_level(previous: Version, new: Version) -> Change:
    """The level of the bump ``previous -> new``; raise VersionError if ``new`` is not greater."""
    if new <= previous:
        raise VersionError(f"version {new} is not greater than the previous release's {previous}")
    if new.major != previous.major:
        return Change.MAJOR
    if new.minor != previous.minor:
        return Change.MINOR
    return Change.PATCH


def check_version(previous: Version, new: Version, report: ChangeReport) -> Change:
    """Refuse (VersionError) a bump from ``previous`` to ``new`` that understates ``report.level``.

    Returns the bump level. A bump larger than needed is allowed (e.g. a MAJOR release of a PATCH change).
    """
    bump = bump_level(previous, new)
    needed = max(report.level, Change.PATCH)
    if bump < needed:
        detail = "\n  ".join(text for lvl, text in report.findings if lvl > bump) or report.level.meaning
        raise VersionError(
            f"version {previous} -> {new} is a {bump.name} bump, but the data changed at {needed.name} level "
            f"({needed.meaning}):\n  {detail}\nuse version {suggest_version(previous, needed)} or higher"
        )
    return bump


def suggest_version(previous: Version, level: Change) -> Version:
    """The smallest version after ``previous`` for a change of ``level``."""
    if level >= Change.MAJOR:
        return Version(previous.major + 1, 0, 0)
    if level == Change.MINOR:
        return Version(previous.major, previous.minor + 1, 0)
    return Version(previous.major, previous.minor, previous.patch + 1)


# --------------------------------------------------------------------------------------------------------------
# Comparing two releases


def _config_files(release: Path, manifest: dict[str, Any], config: str) -> dict[str, str | None]:
    """``{relative path: sha256}`` of the files of one Parquet config present in a release."""
    _, _, glob = fmt.CONFIGS[config]
    entries = fmt.file_entries(manifest)
    return {p.relative_to(release).as_posix(): entries.get(p.relative_to(release).as_posix(), {}).get("sha256")
            for p in sorted(release.glob(glob)) if p.is_file()}


def _digest(values: Iterable[Any]) -> bytes:
    h = hashlib.sha256()
    for v in values:
        if isinstance(v, (bytes, bytearray)):
            h.update(b"b" + len(v).to_bytes(8, "little") + bytes(v))
        else:
            s = json.dumps(v, sort_keys=True, default=str).encode()
            h.update(b"j" + len(s).to_bytes(8, "little") + s)
    return h.digest()


def _row_digests(paths: list[Path], key: tuple[str, ...], columns: list[str]
                 ) -> dict[tuple, tuple[bytes, str | None]]:
    """``{row key: (digest of the row's values in columns, the row's video)}`` over the Parquet files ``paths``."""
    out: dict[tuple, tuple[bytes, str | None]] = {}
    for path in paths:
        names = pq.read_schema(path).names
        wanted = sorted(set(key) | set(columns) | ({"video"} & set(names)))
        data = pq.read_table(path, columns=wanted).to_pydict()
        for i in range(len(data[key[0]])):
            k = tuple(data[c][i] for c in key)
            if k in out:
                raise fmt.ReleaseError(f"{path}: duplicate record key {dict(zip(key, k))}; the release is corrupt")
            out[k] = (_digest(data[c][i] for c in columns), data["video"][i] if "video" in data else None)
    return out


def _schema_names(paths: Iterable[Path]) -> list[str]:
    for p in paths:
        return list(pq.read_schema(p).names)
    return []


def _split_assignment(release: Path) -> dict[str, str] | None:
    """``{video: the test subject of the LOSO fold whose test list holds it}`` from ``splits/loso.json``.

    None when the release has no splits file. An existing video keeps its split iff it stays in the same fold.
    """
    path = release / fmt.SPLITS_PATH
    if not path.is_file():
        return None
    try:
        folds = json.loads(path.read_text())["folds"]
        return {str(v): str(f["test_subject"]) for f in folds for v in f["test"]}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise fmt.ReleaseError(f"{path}: not a LOSO splits file ({exc}); rewrite it with write_splits") from exc


def compare_releases(previous: str | Path, current: str | Path) -> ChangeReport:
    """Compare the records of two releases (both complete) and classify the change (PATCH/MINOR/MAJOR)."""
    prev, cur = Path(previous), Path(current)
    prev_manifest = fmt.read_manifest(prev)
    cur_manifest = fmt.read_manifest(cur)
    report = ChangeReport()

    prev_videos = _videos(prev)
    cur_videos = _videos(cur)
    removed_videos = sorted(prev_videos - cur_videos)
    added_videos = sorted(cur_videos - prev_videos)
    if removed_videos:
        report.add(Change.MAJOR, f"removed videos: {_short(removed_videos)}")
    if added_videos:
        report.add(Change.MINOR, f"added videos: {_short(added_videos)}")

    for config, key in RECORD_KEYS.items():
        prev_files = _config_files(prev, prev_manifest, config)
        cur_files = _config_files(cur, cur_manifest, config)
        if not prev_files and not cur_files:
            continue
        if not cur_files:
            report.add(Change.MAJOR, f"config {config!r} removed")
            continue
        if not prev_files:
            report.add(Change.MINOR, f"config {config!r} added")
            continue
        prev_cols = _schema_names(prev / p for p in prev_files)
        cur_cols = _schema_names(cur / p for p in cur_files)
        added_cols = [c for c in cur_cols if c not in prev_cols]
        removed_cols = [c for c in prev_cols if c not in cur_cols]
        if added_cols:
            report.add(Change.MINOR, f"{config}: added fields {added_cols}")
        if removed_cols:
            report.add(Change.MAJOR, f"{config}: removed fields {removed_cols}")
        # Files identical by path and sha256 hold identical records; compare only the rest.
        same = {p for p, sha in cur_files.items() if sha and prev_files.get(p) == sha}
        columns = [c for c in prev_cols if c in cur_cols and c not in key]
        old = _row_digests([prev / p for p in prev_files if p not in same], key, columns)
        new = _row_digests([cur / p for p in cur_files if p not in same], key, columns)
        removed = [k for k in old if k not in new]
        added = [k for k in new if k not in old]
        changed = [k for k in old if k in new and old[k][0] != new[k][0]]
        new_videos = set(added_videos)
        added_existing = [k for k in added if new[k][1] not in new_videos]
        if removed:
            report.add(Change.MAJOR, f"{config}: {len(removed)} records removed (e.g. {_key_text(key, removed[0])})")
        if changed:
            report.add(Change.MAJOR, f"{config}: {len(changed)} records changed (e.g. {_key_text(key, changed[0])})")
        if added_existing:
            report.add(Change.MAJOR, f"{config}: {len(added_existing)} records added to existing videos "
                                     f"(e.g. {_key_text(key, added_existing[0])})")
        rewritten = (set(prev_files) | set(cur_files)) - same
        if not (removed or changed or added) and rewritten:
            report.add(Change.PATCH, f"{config}: {len(rewritten)} files rewritten, records unchanged")

    prev_split, cur_split = _split_assignment(prev), _split_assignment(cur)
    if prev_split is not None or cur_split is not None:
        if prev_split is None or cur_split is None:
            report.add(Change.MAJOR, "splits file added or removed")
        else:
            moved = sorted(k for k in prev_split if k in cur_split and prev_split[k] != cur_split[k])
            gone = sorted(k for k in prev_split if k not in cur_split)
            if moved or gone:
                report.add(Change.MAJOR, f"splits changed: {_short(moved + gone)} moved or removed")
            elif set(cur_split) - set(prev_split):
                report.add(Change.MINOR, "splits extended with the added videos")

    if report.level == Change.NONE and _data_shas(prev_manifest) != _data_shas(cur_manifest):
        report.add(Change.PATCH, "non-record files changed (report, tars or metadata); records unchanged")
    return report


def _data_shas(manifest: dict[str, Any]) -> dict[str, Any]:
    return {p: e.get("sha256") for p, e in fmt.file_entries(manifest).items()
            if p not in (fmt.CARD, fmt.MANIFEST)}


def _videos(release: Path) -> set[str]:
    path = release / fmt.VIDEOS_PATH
    if not path.is_file():
        raise fmt.ReleaseError(f"{path}: missing; a release needs its videos table")
    return set(pq.read_table(path, columns=["video"]).column("video").to_pylist())


def _short(items: list[str], n: int = 8) -> str:
    head = ", ".join(items[:n])
    return head + (f", … ({len(items)} in all)" if len(items) > n else "")


def _key_text(key: tuple[str, ...], value: tuple) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in zip(key, value))


# --------------------------------------------------------------------------------------------------------------
# Release notes


def release_notes_entry(version: Version, date: str, level: Change | None, report: ChangeReport | None,
                        notes: str = "") -> dict[str, Any]:
    """One entry of the release history: version, date, change level and meaning, findings, free notes."""
    return {
        "version": str(version),
        "date": date,
        "change": level.name if level is not None else "INITIAL",
        "meaning": level.meaning if level is not None else "first release",
        "findings": report.lines() if report is not None else [],
        "notes": notes.strip(),
    }

"""``verify(release)``: recompute every file's size, sha256 and row count against ``manifest.json``."""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from samm_synth_dataset.format import layout as fmt
from samm_synth_dataset.format.croissant import croissant_problems
from samm_synth_dataset.format.files import sha256_file
from samm_synth_dataset.format.manifest import read_manifest

DATA_DIR = "data"
#: Files every release lists (besides at least one frame file).
REQUIRED_FILES: tuple[str, ...] = (fmt.VIDEOS_PATH, fmt.INTERVALS_PATH)


@dataclass
class VerifyReport:
    """``problems``: one line per mismatch, each naming the file (relative to the release)."""

    release: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


#: A shard member: ``<video>/<index:06d>.<ext>`` (``format.wds_key`` plus the image or ``json`` extension).
_MEMBER = re.compile(r"(?P<video>[A-Za-z0-9][A-Za-z0-9_.-]*)/\d{6}\.(jpg|jpeg|png|json)")


def tar_member_problems(path: Path) -> list[str]:
    """What is unsafe or foreign in a WebDataset shard: a member that is not a regular file (a link, a folder, a
    device), or whose name is not ``<video>/<index:06d>.<ext>`` of the shard's own video (absolute paths and
    ``..`` included). Such a member would be extracted or yielded as it is, so the shard is refused."""
    video = path.name.rsplit("-", 1)[0]
    problems = []
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            m = _MEMBER.fullmatch(member.name)
            if not member.isfile():
                problems.append(f"member {member.name!r} is not a regular file (type {member.type!r})")
            elif m is None or m.group("video") != video:
                problems.append(f"member {member.name!r} is not <{video}>/<index:06d>.<jpg|png|json>")
            if len(problems) >= 3:
                break
    return problems


def count_rows(path: Path) -> int | None:
    """Parquet: rows from the footer; tar: number of samples (distinct keys); other files: None."""
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix == ".tar":
        keys = []
        with tarfile.open(path, mode="r:") as tar:
            for member in tar:
                if member.isfile():
                    folder, _, base = member.name.rpartition("/")
                    key = (folder + "/" if folder else "") + base.split(".", 1)[0]
                    if not keys or keys[-1] != key:
                        keys.append(key)
        return len(keys)
    return None


def verify(release: str | Path, check_rows: bool = True) -> VerifyReport:
    """Check every file the manifest lists (exists, bytes, sha256, rows), that nothing under ``data/`` is
    unlisted, and the manifest's own claims (required files listed, summary counts equal the tables' rows, the
    release version stated in the card; not a ``.partial`` staging folder). Raises ReleaseError if the manifest
    is missing or not complete."""
    release = Path(release)
    manifest = read_manifest(release)
    report = VerifyReport(release)
    for stage, info in sorted((manifest.get(fmt.PENDING) or {}).items()):
        report.problems.append(f"{fmt.MANIFEST}: the {stage} stage stopped while adding its files to the "
                               f"release; finish it: `{(info or {}).get('rerun', f'samm-synth {stage}')}`")
    stages = release / fmt.STAGES_DIR
    if stages.is_dir():
        for d in sorted(p for p in stages.iterdir() if p.is_dir()):
            report.warnings.append(f"{d.relative_to(release).as_posix()}: unfinished work of the {d.name} stage "
                                   "(not part of the release); re-run that stage to finish it, or delete it")
    listed = set()
    for entry in manifest.get("files", []):
        rel = entry["path"]
        listed.add(rel)
        p = release / rel
        report.checked += 1
        if not p.is_file():
            report.problems.append(f"{rel}: missing")
            continue
        size = p.stat().st_size
        if size != entry["bytes"]:
            report.problems.append(f"{rel}: {size} bytes, manifest says {entry['bytes']}")
            continue
        if sha256_file(p) != entry["sha256"]:
            report.problems.append(f"{rel}: sha256 differs from the manifest (file changed or corrupt)")
            continue
        if rel.endswith(".tar"):
            try:
                unsafe = tar_member_problems(p)
            except (tarfile.TarError, OSError) as exc:
                unsafe = [f"not a readable tar ({exc})"]
            if unsafe:
                report.problems.append(f"{rel}: " + "; ".join(unsafe) + " — rebuild this video's shards (samm-synth "
                                       "build into a new folder) instead of loading it")
                continue
        if check_rows and entry.get("rows") is not None:
            try:
                rows = count_rows(p)
            except Exception as exc:  # noqa: BLE001 - any reader failure is a problem with this file
                report.problems.append(f"{rel}: cannot be read ({type(exc).__name__}: {exc})")
                continue
            if rows != entry["rows"]:
                report.problems.append(f"{rel}: {rows} rows, manifest says {entry['rows']}")
    for p in sorted(release.rglob("*")):
        rel = p.relative_to(release).as_posix()
        if not p.is_file() or rel in listed or rel == fmt.MANIFEST or rel.startswith(fmt.BUILD_DIR + "/"):
            continue
        if rel.startswith(DATA_DIR + "/"):
            report.problems.append(f"{rel}: not in the manifest (it would be loaded with the release)")
        else:
            report.warnings.append(f"{rel}: not in the manifest")
    report.problems += _claims(release, manifest, listed)
    return report


def _claims(release: Path, manifest: dict[str, Any], listed: set[str]) -> list[str]:
    """The manifest's own claims: the folder is not a staged ``.partial`` copy, the format's required files are
    listed, the summary's counts equal the listed tables' rows, and the release block's version is the card's."""
    problems = []
    if release.name.endswith(fmt.PARTIAL_SUFFIX):
        problems.append(f"{release.name}: a release still being staged (`{fmt.PARTIAL_SUFFIX}` folder), not a release; "
                        "re-run `samm-synth release` to finish it")
    for rel in REQUIRED_FILES:
        if rel not in listed:
            problems.append(f"{rel}: required by the release format but not listed in the manifest")
    rows = {f["path"]: f.get("rows") for f in manifest.get("files", [])}
    frames = [n for p, n in rows.items() if p.startswith(fmt.FRAMES_DIR + "/") and p.endswith(".parquet")]
    if not frames:
        frames = [n for p, n in rows.items() if p.startswith(fmt.WDS_DIR + "/") and p.endswith(".tar")]
        if not frames:
            problems.append(f"{fmt.FRAMES_DIR}: no frame file (Parquet part or tar shard) listed in the manifest")
    summary = manifest.get("summary") or {}
    counts = {"frames": sum(n or 0 for n in frames), "videos": rows.get(fmt.VIDEOS_PATH),
              "intervals": rows.get(fmt.INTERVALS_PATH), "files": len(rows),
              "bytes": sum(int(f.get("bytes", 0)) for f in manifest.get("files", []))}
    for key, actual in counts.items():
        if key in summary and actual is not None and summary[key] != actual:
            problems.append(f"{fmt.MANIFEST}: summary says {summary[key]} {key}, the listed files hold {actual}")
    problems += _units_agree(release, manifest, rows)
    version = (manifest.get("release") or {}).get("version")
    if version and fmt.CROISSANT not in listed:
        problems.append(f"{fmt.CROISSANT}: a release lists its Croissant metadata in the manifest, this one does not; "
                        "re-run `samm-synth release` to write it")
    elif version:
        problems += croissant_problems(release, manifest)
    card = release / fmt.CARD
    if version and card.is_file():
        if not re.search(rf"\bversion {re.escape(str(version))}\b", card.read_text(encoding="utf-8")):
            problems.append(f"{fmt.CARD}: does not state version {version}, the manifest's release version "
                            "(re-run `samm-synth release` to render it)")
    return problems + _quality_agrees(release, manifest, listed) + _features_agree(release, manifest, listed)


def _features_agree(release: Path, manifest: dict[str, Any], listed: set[str]) -> list[str]:
    """Each recipe folder under ``data/features/`` has its block in the manifest (parameters, shape, dtype) with
    the number of files listed, and each file has the feature schema of that dtype with arrays of that shape."""
    blocks = manifest.get(fmt.FEATURES_KEY) or {}
    problems = []
    by_recipe: dict[str, list[str]] = {}
    for rel in sorted(listed):
        if rel.startswith(fmt.FEATURES_DIR + "/"):
            by_recipe.setdefault(rel.split("/")[2], []).append(rel)
    for recipe in sorted(set(by_recipe) | set(blocks)):
        block, files = blocks.get(recipe), by_recipe.get(recipe, [])
        fix = f"re-run `samm-synth features {release} --recipe {recipe}`"
        if block is None:
            problems.append(f"{fmt.FEATURES_DIR}/{recipe}: listed files without a features block in "
                            f"{fmt.MANIFEST}; {fix}")
            continue
        if block.get("files") != len(files):
            problems.append(f"{fmt.MANIFEST}: the {recipe} features block says {block.get('files')} files, "
                            f"{len(files)} are listed; {fix}")
            continue
        try:
            want = fmt.feature_schema(str(block.get("dtype")))
        except KeyError:
            problems.append(f"{fmt.MANIFEST}: the {recipe} features block has dtype {block.get('dtype')!r}; {fix}")
            continue
        size = 1
        for n in block.get("shape") or [0]:
            size *= int(n)
        for rel in files:
            path = release / rel
            if not path.is_file():
                continue  # already reported as missing
            try:
                schema = pq.read_schema(path)
                first = pq.ParquetFile(path).read_row_group(0, columns=["feature"]).column("feature")
            except Exception as exc:  # noqa: BLE001 - any reader failure is a problem of that file
                problems.append(f"{rel}: cannot be read ({type(exc).__name__}: {exc})")
                continue
            if not schema.equals(want, check_metadata=False):
                problems.append(f"{rel}: not the {block.get('dtype')} feature schema; {fix}")
            elif len(first) and len(first[0]) != size:
                problems.append(f"{rel}: arrays of {len(first[0])} values, the block's shape {block.get('shape')} "
                                f"has {size}; {fix}")
    return problems


def _units_agree(release: Path, manifest: dict[str, Any], rows: dict[str, int | None]) -> list[str]:
    """The manifest's units and config agree with the files and the videos table: each unit's frame count is the sum
    of its parts' rows and the videos table's ``n_frames``; ``config.method`` is the method of every video."""
    videos_path = release / fmt.VIDEOS_PATH
    if fmt.VIDEOS_PATH not in rows or not videos_path.is_file():
        return []
    try:
        table = pq.read_table(videos_path, columns=["video", "n_frames", "method"]).to_pydict()
    except Exception as exc:  # noqa: BLE001 - any reader failure is a problem of that file
        return [f"{fmt.VIDEOS_PATH}: cannot be read ({type(exc).__name__}: {exc})"]
    n_frames = dict(zip(table["video"], table["n_frames"]))
    problems = []
    for unit in manifest.get("units") or []:
        video, frames = unit.get("video"), unit.get("frames")
        files = [str(f) for part in unit.get("parts") or [] for f in part.get("files") or []]
        parquet = [f for f in files if f.endswith(".parquet")]
        parts = [rows.get(f) for f in parquet or files]  # one format's files count each frame once
        if video in n_frames and frames != n_frames[video]:
            problems.append(f"{fmt.MANIFEST}: unit {video} says {frames} frames, {fmt.VIDEOS_PATH} says "
                            f"{n_frames[video]}; re-run `samm-synth build --resume` (or finalize) to rewrite it")
        elif parts and None not in parts and frames != sum(parts):
            problems.append(f"{fmt.MANIFEST}: unit {video} says {frames} frames, its parts hold {sum(parts)}; re-run "
                            "`samm-synth build --resume` (or finalize) to rewrite it")
    method = (manifest.get("config") or {}).get("method")
    made_by = sorted(set(table["method"]))
    if method is not None and made_by and made_by != [method]:
        problems.append(f"{fmt.MANIFEST}: config says method {method!r}, {fmt.VIDEOS_PATH} says {made_by}; the "
                        "manifest was edited by hand: restore it (re-run `samm-synth build --resume`)")
    return problems


def _quality_agrees(release: Path, manifest: dict[str, Any], listed: set[str]) -> list[str]:
    """The report and the card state the numbers of the release's own files: a report with a spotting section was
    written from the ``quality/spotting.json`` listed now (the sha256 it records), and a released card states
    every claim of the listed ``quality/report.json`` word for word."""
    if fmt.REPORT_JSON not in listed or not (release / fmt.REPORT_JSON).is_file():
        return []
    try:
        report = json.loads((release / fmt.REPORT_JSON).read_text())
    except (OSError, json.JSONDecodeError):
        return []  # its sha256 against the manifest already says what is wrong
    problems = []
    spotting = report.get("spotting") or {}
    if spotting and "skipped" not in spotting:
        sha = {f["path"]: f.get("sha256") for f in manifest.get("files", [])}.get(fmt.SPOTTING_JSON)
        made_from = (spotting.get("source") or {}).get("sha256")
        if made_from is None or made_from != sha:
            problems.append(f"{fmt.REPORT_JSON}: its spotting section was written from another {fmt.SPOTTING_JSON} "
                            f"than the one listed (sha256 {str(made_from)[:12]}… vs {str(sha)[:12]}…); re-run "
                            "`samm-synth report` (and `samm-synth release`) so that they agree")
    card = release / fmt.CARD
    if manifest.get("release") and card.is_file():
        text = card.read_text(encoding="utf-8")
        stale = [name for name, claim in sorted((report.get("claims") or {}).items()) if claim not in text]
        if stale:
            problems.append(f"{fmt.CARD}: does not state the {', '.join(stale)} claim(s) of {fmt.REPORT_JSON} (it was "
                            "rendered from another report); re-run `samm-synth release`")
    return problems

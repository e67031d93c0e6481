"""``verify(release)``: recompute every file's size, sha256 and row count against ``manifest.json``."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from samm_synth_dataset.format import layout as fmt
from samm_synth_dataset.format.files import sha256_file
from samm_synth_dataset.format.manifest import read_manifest


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


def count_rows(path: Path) -> int | None:
    """Parquet: rows from the footer; tar: number of samples (distinct keys); other files: None."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

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
    """Check every file the manifest lists (exists, bytes, sha256, rows) and that ``data/frames`` and
    ``data/wds`` hold no unlisted files. Raises ReleaseError if the manifest is missing or not complete."""
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
        if check_rows and entry.get("rows") is not None:
            try:
                rows = count_rows(p)
            except Exception as exc:  # noqa: BLE001 - any reader failure is a problem with this file
                report.problems.append(f"{rel}: cannot be read ({type(exc).__name__}: {exc})")
                continue
            if rows != entry["rows"]:
                report.problems.append(f"{rel}: {rows} rows, manifest says {entry['rows']}")
    for d in (fmt.FRAMES_DIR, fmt.WDS_DIR, fmt.AUS_DIR):
        folder = release / d
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                rel = p.relative_to(release).as_posix()
                if rel not in listed:
                    report.problems.append(f"{rel}: not in the manifest (it would be loaded with the release)")
    for p in sorted(release.rglob("*")):
        rel = p.relative_to(release).as_posix()
        if p.is_file() and rel not in listed and rel != fmt.MANIFEST and not rel.startswith(fmt.BUILD_DIR + "/") \
                and not rel.startswith(tuple(f"{d}/" for d in (fmt.FRAMES_DIR, fmt.WDS_DIR, fmt.AUS_DIR))):
            report.warnings.append(f"{rel}: not in the manifest")
    return report

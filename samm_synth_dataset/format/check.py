"""``check_release``: the manifest check every reader of this package runs when it opens a local release.

Cheap by default (one ``stat`` per file): the manifest says ``complete``, every file it lists is present with the
size it records, and no file under ``data/`` is missing from it (an unlisted file would be loaded with the
release). ``full=True`` also recomputes every listed file's sha256 (``samm-synth verify`` does more: rows, counts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samm_synth_dataset.format.files import sha256_file
from samm_synth_dataset.format.layout import MANIFEST, PENDING, ReleaseError
from samm_synth_dataset.format.manifest import read_manifest

#: The folder whose every file must be listed in the manifest.
DATA_DIR = "data"


def check_release(release: str | Path, full: bool = False) -> dict[str, Any]:
    """Check ``release`` against its ``manifest.json`` and return the manifest.

    Raises ReleaseError with one line naming the first offending file and what to do: the manifest missing or
    not ``complete``, a listed file missing or of another size (or, with ``full``, another sha256), a file under
    ``data/`` that the manifest does not list. While a stage is adding its files (the manifest's ``pending``
    entry), such a problem names that stage and the command that finishes it instead.
    """
    root = Path(release)
    manifest = read_manifest(root)
    problem = _first_problem(root, manifest, full)
    if problem is None:
        return manifest
    path, what = problem
    pending = manifest.get(PENDING) or {}
    if pending:
        stage, info = sorted(pending.items())[0]
        rerun = (info or {}).get("rerun", f"samm-synth {stage}")
        what = (f"the {stage} stage is adding its files to {root} (or stopped while doing so): wait for it to "
                f"finish, or finish it with `{rerun}`; do not remove files")
    raise ReleaseError(f"{path}: {what}")


def _first_problem(root: Path, manifest: dict[str, Any], full: bool) -> tuple[Path, str] | None:
    """The first offending file and what is wrong with it (and what to do), or None."""
    entries = manifest.get("files")
    if not isinstance(entries, list) or not entries:
        return root / MANIFEST, "lists no files; the build did not finish (re-run `samm-synth build --resume`)"
    listed: set[str] = set()
    for entry in entries:
        rel = str(entry["path"])
        listed.add(rel)
        p = root / rel
        if not p.is_file():
            return p, (f"listed in manifest.json but missing; restore the file or rebuild the release "
                       f"(`samm-synth verify {root}` lists every problem)")
        size = p.stat().st_size
        if size != entry.get("bytes"):
            return p, (f"{size} bytes, manifest.json says {entry.get('bytes')}; the file changed or is truncated "
                       f"(`samm-synth verify {root}` lists every problem)")
        if full and sha256_file(p) != entry.get("sha256"):
            return p, (f"sha256 differs from manifest.json; the file changed or is corrupt (`samm-synth verify "
                       f"{root}` lists every problem)")
    data = root / DATA_DIR
    if data.is_dir():
        for p in sorted(data.rglob("*")):
            if p.is_file() and p.relative_to(root).as_posix() not in listed:
                return p, ("not listed in manifest.json, so it is not part of the release but would be loaded "
                           "with it; remove it (or re-run the stage that made it)")
    return None

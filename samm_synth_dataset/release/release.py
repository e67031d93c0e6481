"""``make_release``: turn a finished build into a versioned release.

Steps, in order (nothing is marked released unless all succeed):

1. refuse a build whose manifest is incomplete or whose files fail the builder's ``verify`` (bytes, sha256, rows
   against ``manifest.json``; no unlisted data files);
2. stage the release: **in place** when ``out`` is None or the build directory itself, otherwise a **new
   directory** ``out`` holding copies of the build's manifest files and ``quality/`` (or hard links with
   ``link=True``: no extra disk, but the build's files must then never be rewritten in place, or the release
   changes with them), made under ``<out>.partial`` and renamed to ``out`` only at the end (a partial release is
   never mistaken for one; the build's ``.build/`` state is not copied);
3. write the LOSO splits (``format.write_splits``);
4. with ``previous`` (an earlier release), compare records and refuse a version bump that understates the change
   (PATCH: same records; MINOR: added fields or videos; MAJOR: changed records or splits);
5. render the dataset card (README.md) with the real numbers and validate it locally;
6. record README.md, the splits and quality files in the manifest (bytes, sha256), then write ``croissant.json``
   (``format.croissant``: Croissant 1.0 with its RAI fields, from the files as listed) and record it, and the
   version, date, change level and notes under ``manifest["release"]`` (written last).

A released directory is immutable: re-running with the same version is a no-op refresh; another version needs a
new ``out`` directory.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from samm_synth_dataset import __version__, format as fmt
from samm_synth_dataset.format.croissant import write_croissant
from samm_synth_dataset.identity.expectation import check_identity
from samm_synth_dataset.release import card as cardmod, card_check
from samm_synth_dataset.release.versioning import (Change, ChangeReport, Version, check_version, compare_releases,
                                                   release_notes_entry)

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ReleaseSummary:
    """What ``make_release`` did: the release directory, its version, the change level against ``previous``
    (None for a first release), the findings and the files (re)recorded in the manifest."""

    release: Path
    version: Version
    change: Change | None
    findings: tuple[str, ...]
    recorded: tuple[str, ...]
    in_place: bool
    identity: tuple[str, ...] = ()


def _now_date() -> str:
    return _dt.datetime.now(_dt.timezone.utc).date().isoformat()


#: Files this stage (re)writes before it records them: an in-place release killed in between leaves them
#: differing from the manifest, and re-running the same command must finish the job.
RELEASE_OUTPUTS: tuple[str, ...] = (fmt.CARD, fmt.SPLITS_PATH, fmt.CROISSANT)


def verify_build(build: Path, own: tuple[str, ...] = ()) -> dict[str, Any]:
    """Refuse (ReleaseError) a build that is incomplete or whose files differ from its manifest.

    Uses ``format.verify`` (every listed file's bytes, sha256 and rows; no unlisted data files; the manifest's
    claims). Problems with the files in ``own`` (the ones this stage rewrites anyway) are not counted.
    Returns the manifest.
    """
    manifest = fmt.read_manifest(build, require_complete=True)
    if not fmt.file_entries(manifest):
        raise fmt.ReleaseError(f"{build / fmt.MANIFEST}: lists no files; the build did not finish")
    report = fmt.verify(build)
    problems = [p for p in report.problems if p.split(":", 1)[0] not in own]
    if problems:
        raise fmt.ReleaseError(f"{build}: verify failed ({len(problems)} problems): " + "; ".join(problems[:20])
                               + ". Rebuild (samm-synth build --resume) before releasing.")
    return manifest


def _copy(src: Path, dst: Path, link: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(src, dst)
            return
        except OSError:
            log.warning("cannot hard-link %s into %s; copying", src, dst.parent)
    shutil.copy2(src, dst)


def _stage(build: Path, dest: Path, manifest: dict[str, Any], link: bool) -> Path:
    """Make ``<dest>.partial`` holding the build's manifest files and its quality folder (copies or links)."""
    stage = dest.with_name(dest.name + fmt.PARTIAL_SUFFIX)
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    files = [rel for rel in fmt.file_entries(manifest) if rel not in (fmt.CARD, fmt.MANIFEST)]
    quality = build / fmt.QUALITY_DIR
    if quality.is_dir():
        files += [p.relative_to(build).as_posix() for p in sorted(quality.rglob("*")) if p.is_file()]
    for rel in tqdm(sorted(set(files)), desc="stage release", unit="file", disable=len(files) < 50):
        _copy(build / rel, stage / rel, link)
    if (build / fmt.CARD).is_file():
        shutil.copy2(build / fmt.CARD, stage / fmt.CARD)
    shutil.copy2(build / fmt.MANIFEST, stage / fmt.MANIFEST)  # a copy, never a link: it is rewritten
    return stage




def _entry(manifest: dict[str, Any], rel: str) -> dict[str, Any]:
    return next((dict(f) for f in manifest.get("files", []) if f["path"] == rel), {})


def make_release(build_dir: str | Path, version: str | Version, notes: str | None = None,
                 previous: str | Path | None = None, out: str | Path | None = None,
                 pretty_name: str | None = None, link: bool = False, repo_id: str | None = None,
                 require_identity_change: bool = False) -> ReleaseSummary:
    """Release the finished build ``build_dir`` as ``version`` (``X.Y.Z``); see the module docstring.

    ``notes``: free release-notes text (markdown); ``previous``: the directory of the previous release, required
    for any version after the first to be checked (when ``build_dir`` is itself a release, it is the default); ``out``: the release directory (default: in place); ``link``:
    hard-link the build's files into ``out`` instead of copying them; ``repo_id``: the Hub repo (``ORG/NAME``)
    named in the card's loading examples. The quality report's identity result is checked against the method
    (``release.identity``): a contradiction is logged as a warning and returned in ``identity``;
    ``require_identity_change`` refuses a release whose identity did not measurably change.
    Raises ReleaseError / VersionError / CardError naming what to fix.
    """
    lock = (fmt.FolderLock(Path(build_dir), f"samm-synth release {build_dir} --version {version}")
            if Path(build_dir).is_dir() else contextlib.nullcontext())  # no folder: the checks say what is wrong
    with lock:
        return _make_release(build_dir, version, notes, previous, out, pretty_name, link, repo_id,
                             require_identity_change)


def _make_release(build_dir: str | Path, version: str | Version, notes: str | None, previous: str | Path | None,
                  out: str | Path | None, pretty_name: str | None, link: bool, repo_id: str | None,
                  require_identity_change: bool) -> ReleaseSummary:
    build = Path(build_dir).resolve()
    new_version = version if isinstance(version, Version) else Version.parse(version)
    dest = Path(out).resolve() if out is not None else build
    in_place = dest == build
    manifest = verify_build(build, own=RELEASE_OUTPUTS if in_place else (fmt.CARD, fmt.CROISSANT))  # rendered anew
    identity = check_identity(build)
    for line in identity.contradictions:
        log.warning("identity check: %s", line)
    if require_identity_change and identity.refusal():
        raise fmt.ReleaseError(f"{build}: --require-identity-change: {identity.refusal()}")

    old_release = manifest.get("release") or {}
    if in_place and old_release.get("version") and old_release["version"] != str(new_version):
        raise fmt.ReleaseError(
            f"{build} is already release {old_release['version']}; a release is immutable — release "
            f"{new_version} into a new directory (--out), with --previous {build}")
    if not in_place and dest.exists() and any(dest.iterdir()):
        raise fmt.ReleaseError(f"{dest}: exists and is not empty; choose a new --out directory (releases are "
                               "never overwritten)")

    if previous is None and old_release.get("version") and not in_place:
        previous = build  # re-releasing a release: it is the previous version
    prev_manifest: dict[str, Any] | None = None
    prev_version: Version | None = None
    if previous is not None:
        prev_path = Path(previous).resolve()
        prev_manifest = fmt.read_manifest(prev_path)
        prev_rel = prev_manifest.get("release") or {}
        if not prev_rel.get("version"):
            raise fmt.ReleaseError(f"{prev_path}: has no release version in its manifest; --previous must be a "
                                   "released directory (made by `samm-synth release`)")
        prev_version = Version.parse(prev_rel["version"])
        if prev_path == dest:
            raise fmt.ReleaseError(f"--previous {prev_path} is the release being made; give the older release")

    if in_place:
        # An earlier run killed between writing the card (or splits) and the manifest: record them as they are,
        # so the folder is consistent again before they are rewritten below.
        stale = [rel for rel in RELEASE_OUTPUTS if (build / rel).is_file()
                 and fmt.file_record(build, rel, None).as_dict() != {**_entry(manifest, rel), "rows": None}]
        if stale:
            log.info("%s: finishing an interrupted release (re-recording %s)", build, ", ".join(stale))
            manifest = fmt.add_files(build, stale)
    work = build if in_place else _stage(build, dest, manifest, link)
    try:
        splits = fmt.write_splits(work)
        report: ChangeReport | None = None
        level: Change | None = None
        if previous is not None:
            assert prev_version is not None
            report = compare_releases(Path(previous).resolve(), work)
            level = check_version(prev_version, new_version, report)
            log.info("change against %s: %s", prev_version, report.level.name)
        history = list(((prev_manifest or {}).get("release") or {}).get("history") or [])
        if in_place and old_release.get("version") == str(new_version):
            history = list(old_release.get("history") or [])[1:]  # re-release: replace our own entry
        entry = release_notes_entry(new_version, _now_date(), level, report, notes or "")
        history = [entry] + [h for h in history if h.get("version") != str(new_version)]
        release_info = {
            "version": str(new_version),
            "tag": new_version.tag,
            "date": entry["date"],
            "change": entry["change"],
            "previous_version": str(prev_version) if prev_version else None,
            "pretty_name": pretty_name or old_release.get("pretty_name") or cardmod.default_pretty_name(manifest),
            "repo_id": repo_id or old_release.get("repo_id") or ((prev_manifest or {}).get("release") or {}).get(
                "repo_id"),
            "released_with": __version__,
            "history": history,
        }
        current = fmt.read_manifest(work)
        text = cardmod.render_card(work, manifest={**current, "release": release_info})
        card_check.validate_card(work, text)
        fmt.atomic_write_bytes(work / fmt.CARD, text.encode("utf-8"))
        recorded = [fmt.CARD, splits.relative_to(work).as_posix()]
        quality = work / fmt.QUALITY_DIR
        if quality.is_dir():
            recorded += [p.relative_to(work).as_posix() for p in sorted(quality.rglob("*")) if p.is_file()]
        final = fmt.add_files(work, recorded)
        write_croissant(work, {**final, "release": release_info}, cardmod.card_license(final))  # files as listed now
        recorded.append(fmt.CROISSANT)
        final = fmt.add_files(work, [fmt.CROISSANT])
        final["release"] = release_info
        fmt.write_manifest(work, final)
        card_check.validate_card(work)
    except BaseException:
        if not in_place:
            shutil.rmtree(work, ignore_errors=True)
        raise
    if not in_place:
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
    return ReleaseSummary(release=dest, version=new_version, change=level,
                          findings=tuple(report.lines()) if report else (), recorded=tuple(recorded),
                          in_place=in_place, identity=tuple(
                              [f"warning: {c}" for c in identity.contradictions] + list(identity.notes)))

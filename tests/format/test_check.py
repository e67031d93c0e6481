"""check_release: the cheap manifest check every reader runs on open (issue 14 item 2)."""

import json
import shutil
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt


def test_a_complete_release_passes_and_returns_its_manifest(small_release: Path) -> None:
    manifest = fmt.check_release(small_release, full=True)
    assert manifest["status"] == fmt.STATUS_COMPLETE and manifest["files"]


def test_missing_resized_unlisted_and_changed_files_are_named(small_release_copy: Path) -> None:
    rel = small_release_copy
    tar = sorted((rel / fmt.WDS_DIR).glob("*.tar"))[3]
    saved = tar.read_bytes()
    tar.unlink()
    with pytest.raises(fmt.ReleaseError, match=rf"^{tar}: listed in manifest.json but missing"):
        fmt.check_release(rel)
    tar.write_bytes(saved + b"\0")
    with pytest.raises(fmt.ReleaseError, match=rf"^{tar}: {len(saved) + 1} bytes, manifest.json says "
                                               rf"{len(saved)}"):
        fmt.check_release(rel)
    flipped = bytearray(saved)
    flipped[len(flipped) // 2] ^= 1
    tar.write_bytes(bytes(flipped))
    fmt.check_release(rel)  # same size: only the full check reads the bytes
    with pytest.raises(fmt.ReleaseError, match=rf"^{tar}: sha256 differs"):
        fmt.check_release(rel, full=True)
    tar.write_bytes(saved)
    stray = rel / fmt.WDS_DIR / "zz-00000.tar"
    shutil.copy(tar, stray)
    with pytest.raises(fmt.ReleaseError, match=rf"^{stray}: not listed in manifest.json"):
        fmt.check_release(rel)


def test_a_building_manifest_is_refused(small_release_copy: Path) -> None:
    path = small_release_copy / fmt.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["status"] = fmt.STATUS_BUILDING
    path.write_text(json.dumps(manifest))
    with pytest.raises(fmt.ReleaseError, match="not 'complete'"):
        fmt.check_release(small_release_copy)


def test_a_file_of_a_stage_still_committing_names_the_stage_not_remove_it(small_release_copy: Path) -> None:
    """Issue 24 item 14: while ``aus`` moves its files in (or after a kill there), a reader finds a file the
    manifest does not list yet. It must name the stage and the command that finishes it — deleting the file is
    the wrong fix."""
    fmt.begin_stage(small_release_copy, "aus", "samm-synth aus REL --source-root CORPUS")
    (small_release_copy / "data" / "aus").mkdir(parents=True)
    (small_release_copy / "data" / "aus" / "006_1-ref01.parquet").write_bytes(b"PAR1")
    with pytest.raises(fmt.ReleaseError, match=r"006_1-ref01.parquet: the aus stage is adding its files") as err:
        fmt.check_release(small_release_copy)
    assert "`samm-synth aus REL --source-root CORPUS`" in str(err.value) and "do not remove" in str(err.value)
    assert "remove it" not in str(err.value)

import json
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.manifest import PLAN, FinalizeError, finalize, unit_marker_path
from samm_synth_dataset.format import add_files
from samm_synth_dataset.format import verify
from samm_synth_dataset.cli import main


def test_finalize_is_idempotent(small_release_copy: Path) -> None:
    before = (small_release_copy / fmt.MANIFEST).read_bytes()
    assert main(["finalize", str(small_release_copy)]) == 0
    assert (small_release_copy / fmt.MANIFEST).read_bytes() == before


def test_finalize_refuses_missing_units_and_stray_files(small_release_copy: Path) -> None:
    plan = json.loads((small_release_copy / PLAN).read_text())
    video = plan["units"][3]["video"]
    marker = unit_marker_path(small_release_copy, video)
    saved = marker.read_bytes()
    marker.unlink()
    with pytest.raises(FinalizeError, match=f"{video}: not built.*--resume"):
        finalize(small_release_copy)
    marker.write_bytes(saved)
    stray = small_release_copy / fmt.FRAMES_DIR / "zzz-00000.parquet"
    stray.write_bytes(b"PAR1")
    leftover = small_release_copy / fmt.WDS_DIR / f"{video}-00009.tar.tmp"
    leftover.write_bytes(b"partial")
    with pytest.raises(FinalizeError, match="zzz-00000.parquet"):
        finalize(small_release_copy)
    assert not leftover.exists()  # temp files of dead writers are removed
    stray.unlink()
    finalize(small_release_copy)
    assert verify(small_release_copy).ok


def test_add_files_registers_later_outputs(small_release_copy: Path) -> None:
    report = small_release_copy / "quality" / "report.json"
    report.parent.mkdir()
    report.write_text('{"ok": true}\n')
    card = small_release_copy / fmt.CARD
    card.write_text(card.read_text() + "\nMore text from the release stage.\n")
    manifest = add_files(small_release_copy, ["quality/report.json", fmt.CARD])
    paths = [f["path"] for f in manifest["files"]]
    assert "quality/report.json" in paths and paths == sorted(paths)
    assert verify(small_release_copy).ok
    with pytest.raises(FileNotFoundError, match="nope"):
        add_files(small_release_copy, ["quality/nope.json"])

import json
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.finalize import FinalizeError, finalize
from samm_synth_dataset.builders.plan import PLAN
from samm_synth_dataset.cli import main
from samm_synth_dataset.format import add_files, verify


def test_finalize_is_idempotent(small_release_copy: Path) -> None:
    before = (small_release_copy / fmt.MANIFEST).read_bytes()
    assert main(["finalize", str(small_release_copy)]) == 0
    assert (small_release_copy / fmt.MANIFEST).read_bytes() == before


def test_finalize_refuses_missing_units_and_stray_files(demo_corpus, tmp_path: Path) -> None:
    """A build stopped before finalize (every unit's task folder published): ``finalize`` names a unit that is not
    built and stray files, removes dead writers' temp files, and then finishes the release."""
    from unittest import mock

    from samm_synth_dataset.builders import build, pipeline
    from samm_synth_dataset.builders.config import demo_config
    from samm_synth_dataset.builders.plan import unit_folder

    config = demo_config(demo_corpus, tmp_path / "release", videos=("006_1",), refs_per_subject=2,
                         formats=("parquet", "webdataset"), image_size=32, face_samples=3, progress=False)
    with mock.patch.object(pipeline, "_finish", lambda *args: None):
        assert not build(config).complete
    release = config.out
    plan = json.loads((release / PLAN).read_text())
    video = plan["units"][1]["video"]
    folder = unit_folder(release, video)
    folder.rename(folder.with_name("aside"))
    with pytest.raises(FinalizeError, match=f"{video}: not built.*--resume"):
        finalize(release)
    folder.with_name("aside").rename(folder)
    stray = release / fmt.FRAMES_DIR / "zzz-00000.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"PAR1")
    leftover = release / fmt.WDS_DIR / f"{video}-00009.tar.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"partial")
    with pytest.raises(FinalizeError, match="zzz-00000.parquet"):
        finalize(release)
    assert not leftover.exists()  # temp files of dead writers are removed
    stray.unlink()
    assert main(["finalize", str(release)]) == 0
    assert verify(release).ok
    assert not folder.exists()  # the units' task folders are gone once their files are in the release


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

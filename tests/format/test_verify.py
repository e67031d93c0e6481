import json
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.format import verify
from samm_synth_dataset.cli import main


def test_verify_passes_on_a_fresh_release(small_release: Path, capsys: pytest.CaptureFixture) -> None:
    report = verify(small_release)
    assert report.ok, report.problems
    assert report.checked == len(fmt.read_manifest(small_release)["files"])
    assert main(["verify", str(small_release)]) == 0
    assert "match the manifest" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".parquet", ".tar"])
def test_one_byte_flip_is_named(small_release_copy: Path, suffix: str, capsys: pytest.CaptureFixture) -> None:
    target = sorted(small_release_copy.glob(f"data/*/*{suffix}"))[1]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    rel = target.relative_to(small_release_copy).as_posix()
    report = verify(small_release_copy)
    assert [p.split(":")[0] for p in report.problems] == [rel]
    assert main(["verify", str(small_release_copy)]) == 1
    assert rel in capsys.readouterr().err


def test_missing_file_and_stray_file_are_named(small_release_copy: Path, capsys: pytest.CaptureFixture) -> None:
    (small_release_copy / fmt.VIDEOS_PATH).unlink()
    stray = small_release_copy / fmt.FRAMES_DIR / "extra-00000.parquet"
    stray.write_bytes(b"x")
    report = verify(small_release_copy)
    assert f"{fmt.VIDEOS_PATH}: missing" in report.problems
    assert any(p.startswith(f"{fmt.FRAMES_DIR}/extra-00000.parquet") for p in report.problems)
    assert main(["verify", str(small_release_copy)]) == 1
    assert fmt.VIDEOS_PATH in capsys.readouterr().err


def test_row_count_mismatch_and_unfinished_release(small_release_copy: Path) -> None:
    manifest_path = small_release_copy / fmt.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    entry = next(f for f in manifest["files"] if f["path"].endswith(".tar"))
    entry["rows"] += 1
    manifest_path.write_text(json.dumps(manifest))
    assert any(p.startswith(entry["path"]) and "rows" in p for p in verify(small_release_copy).problems)
    manifest["status"] = "building"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(fmt.ReleaseError, match="not 'complete'"):
        verify(small_release_copy)
    assert main(["verify", str(small_release_copy)]) == 1

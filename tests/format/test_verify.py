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


def _edit_manifest(release: Path, change) -> None:
    path = release / fmt.MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_an_unlisted_required_file_fails(small_release_copy: Path) -> None:
    """Issue 14 item 5: removing the videos table's entry from the manifest is a problem, not a warning."""
    _edit_manifest(small_release_copy, lambda m: m.update(
        files=[f for f in m["files"] if f["path"] != fmt.VIDEOS_PATH]))
    problems = verify(small_release_copy).problems
    assert f"{fmt.VIDEOS_PATH}: required by the release format but not listed in the manifest" in problems


def test_summary_counts_must_equal_the_tables(small_release_copy: Path) -> None:
    """Issue 14 item 5: the manifest's summary is checked against the listed tables' rows."""
    def inflate(m):
        m["summary"]["frames"] += 1
        m["summary"]["videos"] -= 1
        m["summary"]["intervals"] += 2
    frames = fmt.read_manifest(small_release_copy)["summary"]["frames"]
    _edit_manifest(small_release_copy, inflate)
    problems = verify(small_release_copy).problems
    assert f"manifest.json: summary says {frames + 1} frames, the listed files hold {frames}" in problems
    videos = fmt.count_rows(small_release_copy / fmt.VIDEOS_PATH)
    assert f"manifest.json: summary says {videos - 1} videos, the listed files hold {videos}" in problems
    assert any(p.startswith("manifest.json: summary says") and " intervals, " in p for p in problems)


def test_a_stray_file_in_any_data_folder_fails(small_release_copy: Path) -> None:
    """Issue 14 item 5: not only frames/wds/aus: an unlisted table under data/ would be loaded too."""
    stray = small_release_copy / "data" / "videos" / "old.parquet"
    stray.write_bytes(b"PAR1")
    assert "data/videos/old.parquet: not in the manifest (it would be loaded with the release)" in \
        verify(small_release_copy).problems


def test_release_version_must_be_the_cards(small_release_copy: Path) -> None:
    """Issue 14 item 5: a release block whose version the card does not state fails."""
    card = (small_release_copy / fmt.CARD).read_text()
    (small_release_copy / fmt.CARD).write_text(card + "\n# Title — version 1.0.0\n")
    _edit_manifest(small_release_copy, lambda m: m.update(release={"version": "1.0.0"}))
    fmt.add_files(small_release_copy, [fmt.CARD])
    assert not [p for p in verify(small_release_copy).problems if "version" in p]
    _edit_manifest(small_release_copy, lambda m: m.update(release={"version": "2.0.0"}))
    assert "README.md: does not state version 2.0.0, the manifest's release version (re-run `samm-synth " \
           "release` to render it)" in verify(small_release_copy).problems


def test_a_partial_staging_folder_never_passes(small_release: Path, tmp_path: Path) -> None:
    """Issue 14 item 7: a leftover ``<out>.partial`` (a complete-looking copy) is not a release."""
    import shutil

    staged = tmp_path / f"v1{fmt.PARTIAL_SUFFIX}"
    shutil.copytree(small_release, staged)
    report = verify(staged)
    assert not report.ok
    assert report.problems == [f"v1{fmt.PARTIAL_SUFFIX}: a release still being staged (`.partial` folder), not a "
                               "release; re-run `samm-synth release` to finish it"]


@pytest.mark.parametrize("member", ["../../x", "link"])
def test_unsafe_or_foreign_tar_members_fail_even_with_a_recorded_manifest(small_release_copy: Path, member: str):
    """Issue 24 item 8: a ``../../x`` member or a symlink member, with the manifest re-recorded to match the edited
    shard, used to pass; ``verify`` (and so ``release`` and ``publish``) now refuse the shard, naming the member."""
    import io
    import tarfile

    shard = sorted((small_release_copy / fmt.WDS_DIR).glob("*.tar"))[0]
    with tarfile.open(shard, mode="a") as tar:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    rel = shard.relative_to(small_release_copy).as_posix()
    fmt.add_files(small_release_copy, [rel])  # the manifest re-recorded: bytes and sha256 match the edited file
    report = fmt.verify(small_release_copy)
    assert not report.ok
    line = next(p for p in report.problems if p.startswith(rel))
    assert repr(member) in line and ("not a regular file" if member == "link" else "is not <") in line


def test_hand_edits_of_the_manifests_claims_fail(small_release_copy: Path) -> None:
    """Issue 24 item 10: ``units[0].frames = 1`` or ``config.method = "stargan-v2"`` on a colour-transfer release
    used to pass verify and release; the claims are now re-derived from the parts and the videos table."""
    path = small_release_copy / fmt.MANIFEST
    original = path.read_text()
    manifest = json.loads(original)
    manifest["units"][0]["frames"] = 1
    path.write_text(json.dumps(manifest))
    report = fmt.verify(small_release_copy)
    assert any(f"unit {manifest['units'][0]['video']} says 1 frames" in p for p in report.problems), report.problems
    manifest = json.loads(original)
    manifest["config"]["method"] = "stargan-v2"
    path.write_text(json.dumps(manifest))
    report = fmt.verify(small_release_copy)
    assert any("config says method 'stargan-v2'" in p and "color-transfer" in p for p in report.problems)
    path.write_text(original)
    assert fmt.verify(small_release_copy).ok

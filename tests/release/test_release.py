"""`make_release` and `samm-synth release`: refusals, in place vs a new directory, the manifest record, and the
version check against a previous release."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import cli
from samm_synth_dataset import format as fmt
from samm_synth_dataset.format import sha256_file
from samm_synth_dataset.release.release import make_release
from samm_synth_dataset.release.versioning import Change, VersionError


def _entries(release: Path) -> dict[str, dict]:
    return {f["path"]: f for f in fmt.read_manifest(release)["files"]}


def test_release_in_place_records_version_card_and_splits(mini_release: Path):
    summary = make_release(mini_release, "1.0.0", notes="hello")
    assert summary.in_place and summary.release == mini_release.resolve()
    manifest = fmt.read_manifest(mini_release)
    assert manifest["release"]["version"] == "1.0.0" and manifest["release"]["tag"] == "v1.0.0"
    assert manifest["release"]["history"][0]["notes"] == "hello"
    entries = _entries(mini_release)
    for rel in (fmt.CARD, fmt.SPLITS_PATH):
        assert entries[rel]["sha256"] == sha256_file(mini_release / rel), rel
        assert entries[rel]["bytes"] == (mini_release / rel).stat().st_size
    folds = json.loads((mini_release / fmt.SPLITS_PATH).read_text())["folds"]
    assert sorted(f["test_subject"] for f in folds) == ["006", "007"]
    # same version again: a no-op refresh; another version in place: refused
    make_release(mini_release, "1.0.0", notes="hello")
    assert len(fmt.read_manifest(mini_release)["release"]["history"]) == 1
    with pytest.raises(fmt.ReleaseError, match="immutable"):
        make_release(mini_release, "1.0.1")


def test_release_to_a_new_directory_leaves_the_build_untouched(mini_release: Path, tmp_path: Path):
    before = (mini_release / fmt.MANIFEST).read_bytes()
    out = tmp_path / "rel" / "release"
    summary = make_release(mini_release, "1.0.0", out=out)
    assert not summary.in_place and summary.release == out.resolve()
    assert (mini_release / fmt.MANIFEST).read_bytes() == before
    assert not (mini_release / fmt.SPLITS_PATH).exists()
    assert not out.with_name("release.partial").exists()
    assert fmt.read_manifest(out)["release"]["version"] == "1.0.0"
    frame = next((out / fmt.FRAMES_DIR).glob("*.parquet"))
    assert frame.stat().st_ino != (mini_release / fmt.FRAMES_DIR / frame.name).stat().st_ino  # a copy
    with pytest.raises(fmt.ReleaseError, match="not empty"):
        make_release(mini_release, "1.0.0", out=out)
    linked = make_release(mini_release, "1.0.0", out=tmp_path / "linked", link=True).release
    assert (linked / fmt.FRAMES_DIR / frame.name).stat().st_ino == (mini_release / fmt.FRAMES_DIR /
                                                                     frame.name).stat().st_ino
    assert (linked / fmt.MANIFEST).stat().st_ino != (mini_release / fmt.MANIFEST).stat().st_ino


def test_refuses_an_incomplete_build(mini_release: Path, tmp_path: Path):
    manifest = json.loads((mini_release / fmt.MANIFEST).read_text())
    manifest["status"] = fmt.STATUS_BUILDING
    (mini_release / fmt.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(fmt.ReleaseError, match="not 'complete'"):
        make_release(mini_release, "1.0.0", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_a_build_that_fails_verify(mini_release: Path, tmp_path: Path):
    victim = next((mini_release / fmt.FRAMES_DIR).glob("*.parquet"))
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF  # same size, other bytes
    victim.write_bytes(bytes(data))
    with pytest.raises(fmt.ReleaseError, match="(?s)verify failed.*sha256"):
        make_release(mini_release, "1.0.0", out=tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
    (mini_release / fmt.FRAMES_DIR / "stray-00000.parquet").write_bytes(b"x")
    with pytest.raises(fmt.ReleaseError, match="stray-00000.parquet"):
        make_release(mini_release, "1.0.0")


def test_previous_release_enforces_the_version_meaning(mini_release: Path, tmp_path: Path):
    v1 = tmp_path / "v1"
    make_release(mini_release, "1.0.0", out=v1)
    # Change one interval record in the build, then try to call it a patch / minor.
    path = mini_release / fmt.INTERVALS_PATH
    rows = pq.read_table(path).to_pylist()
    rows[0]["offset"] += 1
    pq.write_table(pa.Table.from_pylist(rows, schema=fmt.schema_for("intervals")), path)
    fmt.add_files(mini_release, [fmt.INTERVALS_PATH])
    for version in ("1.0.1", "1.1.0"):
        with pytest.raises(VersionError, match="MAJOR level"):
            make_release(mini_release, version, previous=v1, out=tmp_path / f"v{version}")
        assert not (tmp_path / f"v{version}").exists()
    summary = make_release(mini_release, "2.0.0", previous=v1, out=tmp_path / "v2", notes="Fixed an offset.")
    assert summary.change == Change.MAJOR
    history = fmt.read_manifest(tmp_path / "v2")["release"]["history"]
    assert [h["version"] for h in history] == ["2.0.0", "1.0.0"]
    card = (tmp_path / "v2" / fmt.CARD).read_text()
    assert "### 2.0.0" in card and "MAJOR: changed records or splits" in card and "### 1.0.0" in card
    assert "intervals: 1 records changed" in card and "Fixed an offset." in card


def test_previous_must_be_a_release(mini_release: Path, tmp_path: Path, build_mini):
    other = build_mini(tmp_path / "other")
    with pytest.raises(fmt.ReleaseError, match="no release version"):
        make_release(mini_release, "1.1.0", previous=other, out=tmp_path / "x")


def test_cli_release(mini_release: Path, tmp_path: Path, capsys):
    notes = tmp_path / "NOTES.md"
    notes.write_text("Initial release of the demo.\n")
    out = tmp_path / "release"
    assert cli.main(["release", str(mini_release), "--version", "1.0.0", "--notes", str(notes),
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "released 1.0.0 (new directory)" in printed and str(out) in printed
    assert "Initial release of the demo." in (out / fmt.CARD).read_text()
    assert cli.main(["release", str(mini_release), "--version", "1.0", "--out", str(tmp_path / "bad")]) == 1
    assert "MAJOR.MINOR.PATCH" in capsys.readouterr().err


def test_rereleasing_a_release_checks_against_it(mini_release: Path, tmp_path: Path):
    v1 = make_release(mini_release, "1.0.0", out=tmp_path / "v1").release
    with pytest.raises(VersionError, match="not greater"):
        make_release(v1, "1.0.0", out=tmp_path / "again")
    summary = make_release(v1, "1.0.1", out=tmp_path / "v101", notes="Card wording.")
    assert summary.change == Change.PATCH
    assert [h["version"] for h in fmt.read_manifest(summary.release)["release"]["history"]] == ["1.0.1", "1.0.0"]


def test_rerun_after_a_kill_between_card_and_manifest_finishes_the_release(small_release_copy: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """Issue 14 item 7: an in-place release stopped after README.md and splits were written, before the manifest
    recorded them, leaves a folder that fails verify; the same command run again finishes the job."""
    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(fmt, "add_files", killed)  # the first manifest write after the card
    with pytest.raises(Killed):
        make_release(small_release_copy, "1.0.0")
    monkeypatch.undo()
    assert "release" not in fmt.read_manifest(small_release_copy)
    assert [p.split(":")[0] for p in fmt.verify(small_release_copy).problems] == [fmt.CARD]
    summary = make_release(small_release_copy, "1.0.0")
    assert summary.version.tag == "v1.0.0" and fmt.read_manifest(small_release_copy)["release"]["version"] == "1.0.0"
    report = fmt.verify(small_release_copy)
    assert report.ok, report.problems


def test_rerun_after_a_kill_of_a_released_folder_mid_refresh(mini_release: Path, monkeypatch: pytest.MonkeyPatch):
    """Issue 14 item 7: the same for a folder already released whose card was rewritten but not recorded."""
    make_release(mini_release, "1.0.0")
    card = mini_release / fmt.CARD
    card.write_text(card.read_text() + "\nhalf-way refresh\n")  # the card of a refresh, not yet in the manifest
    assert not fmt.verify(mini_release).ok
    make_release(mini_release, "1.0.0")
    report = fmt.verify(mini_release)
    assert report.ok, report.problems


def test_verify_after_a_killed_release_out_names_release_as_the_fix(mini_release: Path, tmp_path: Path):
    """Issue 24 item 15: a `release --out` killed before its final rename leaves only `<out>.partial`; reading
    `<out>` must say to re-run `samm-synth release`, not to build or finalize."""
    import shutil

    out = tmp_path / "rel" / "release"
    out.parent.mkdir()
    shutil.copytree(mini_release, out.with_name("release.partial"))  # what a kill before the rename leaves
    with pytest.raises(fmt.ReleaseError, match=r"release\.partial holds a release still being made") as err:
        fmt.verify(out)
    assert "re-run that same `samm-synth release` command" in str(err.value) and "finalize" not in str(err.value)
    make_release(mini_release, "1.0.0", out=out)  # the same command finishes it
    assert fmt.verify(out).ok and not out.with_name("release.partial").exists()

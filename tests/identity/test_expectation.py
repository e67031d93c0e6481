"""The release's identity check: the card states the measured result; a result that contradicts the method is
warned about, and ``--require-identity-change`` refuses it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.identity.expectation import check_identity
from samm_synth_dataset.release.release import make_release


@pytest.fixture(scope="module")
def _reported_master(small_release, demo_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The builder's colour-transfer release with its quality report (2 frames per video for identity)."""
    from samm_synth_dataset.identity.descriptor import FaceDescriber, IdentityUnavailable
    from samm_synth_dataset.report.report import make_report

    try:
        FaceDescriber()
    except IdentityUnavailable as exc:
        pytest.skip(exc.reason)
    dest = tmp_path_factory.mktemp("reported") / "build"
    shutil.copytree(small_release, dest)
    make_report(dest, source_root=demo_corpus.frames_root, progress=False, identity_samples=2)
    return dest


@pytest.fixture
def reported(_reported_master: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "build"
    shutil.copytree(_reported_master, dest)
    return dest


def _as_method(release: Path, method: str) -> None:
    """Relabel the report's measured result as another method's (a StarGAN build whose faces stayed the source
    person: a mis-loaded checkpoint), and record the changed file in the manifest."""
    path = release / fmt.REPORT_JSON
    doc = json.loads(path.read_text())
    by_method = doc["identity"]["summary"]["by_method"]
    doc["identity"]["summary"]["by_method"] = {method: next(iter(by_method.values()))}
    path.write_text(json.dumps(doc))
    fmt.add_files(release, [fmt.REPORT_JSON])


def test_colour_transfer_release_states_it_stays_recognisable(reported: Path, tmp_path: Path, capsys) -> None:
    check = check_identity(reported)
    assert check.measured and check.contradictions == () and not check.changed
    assert "8 of 8 color-transfer videos still show the source person" in check.notes[0]
    assert "does not anonymise anyone" in check.notes[0]
    assert main(["release", str(reported), "--version", "1.0.0", "--out", str(tmp_path / "rel")]) == 0
    out = capsys.readouterr().out
    assert "identity: 8 of 8 color-transfer videos still show the source person" in out and "warning" not in out
    card = (tmp_path / "rel" / fmt.CARD).read_text()
    assert "- In 8 of 8 synthetic videos the source person is still recognisable in ≥ 90% of sampled frames" in card
    assert "dlib ResNet face descriptor, threshold 0.6" in card
    assert "Identity: is the source person still recognisable?" in card      # the headline table
    # publishing as "identity changed" is refused: the faces did not change
    with pytest.raises(fmt.ReleaseError, match="--require-identity-change: the measured identity did not change"):
        make_release(reported, "1.0.0", out=tmp_path / "rel2", require_identity_change=True)
    assert not (tmp_path / "rel2").exists()


def test_stargan_build_still_recognisable_is_warned_and_refused(reported: Path, tmp_path: Path, caplog,
                                                                capsys) -> None:
    _as_method(reported, "stargan-v2")
    check = check_identity(reported)
    assert len(check.contradictions) == 1
    assert "8 of 8 stargan-v2 videos still show the source person" in check.contradictions[0]
    assert "meant to give a new identity" in check.contradictions[0]
    with caplog.at_level(logging.WARNING):
        summary = make_release(reported, "1.0.0", out=tmp_path / "rel")
    assert any("identity check: 8 of 8 stargan-v2" in r.getMessage() for r in caplog.records)
    assert summary.identity[0].startswith("warning: 8 of 8 stargan-v2 videos")
    code = main(["release", str(reported), "--version", "1.0.0", "--out", str(tmp_path / "rel2"),
                 "--require-identity-change"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--require-identity-change" in err and "meant to give a new identity" in err
    assert not (tmp_path / "rel2").exists()


def test_unmeasured_identity_is_refused_when_required(small_release_copy: Path, tmp_path: Path) -> None:
    check = check_identity(small_release_copy)                                     # no quality report at all
    assert not check.measured and "quality/report.json is absent" in check.notes
    with pytest.raises(fmt.ReleaseError, match="identity change was not measured"):
        make_release(small_release_copy, "1.0.0", out=tmp_path / "rel", require_identity_change=True)
    summary = make_release(small_release_copy, "1.0.0", out=tmp_path / "rel")     # without the option: released
    assert summary.identity == ("quality/report.json is absent",)


def test_changed_identity_passes(reported: Path, tmp_path: Path) -> None:
    doc = json.loads((reported / fmt.REPORT_JSON).read_text())
    c = doc["identity"]["summary"]["by_method"]["color-transfer"]
    doc["identity"]["summary"]["by_method"] = {"stargan-v2": {**c, "recognisable": 0, "changed": c["videos"]}}
    (reported / fmt.REPORT_JSON).write_text(json.dumps(doc))
    fmt.add_files(reported, [fmt.REPORT_JSON])
    check = check_identity(reported)
    assert check.measured and check.changed and check.refusal() is None
    assert make_release(reported, "1.0.0", out=tmp_path / "rel", require_identity_change=True).identity == (
        "0 of 8 stargan-v2 videos still show the source person (dlib ResNet, threshold 0.6).",)

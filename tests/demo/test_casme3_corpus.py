"""The CAS(ME)³-layout demo corpus: frames follow the demo's ground truth, the CLI writes it, deterministic bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from samm_synth_dataset.cli import main
from samm_synth_dataset.demo import corpus
from samm_synth_dataset.sources import iter_video_frames, list_videos


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_frames_follow_the_demo_ground_truth(casme3_corpus):
    video = next(v for v in list_videos(casme3_corpus.root, "casme3") if v.video == "spNO1_a")
    assert corpus.true_displacement(casme3_corpus.root, "spNO1_a", 1).max() == 0.0  # before the MaE (10..60)
    assert abs(corpus.true_displacement(casme3_corpus.root, "spNO1_a", 35)).max() > 3.0  # its apex, ~4 px
    frames = dict(iter_video_frames(video, 0, 35))
    assert frames[1].shape == (300, 256, 3) and (frames[1] == frames[2]).all()
    assert abs(frames[35].astype(int) - frames[1].astype(int)).max() > 20


def test_make_demo_corpus_layout_casme3(casme3_corpus, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The command writes the same bytes as the generator (deterministic) and refuses a non-empty folder."""
    out = tmp_path / "c3"
    assert main(["-q", "make-demo-corpus", "--layout", "casme3", "--quirks", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "CAS(ME)³-layout demo corpus (quirks on)" in printed
    assert "spNO1_a, spNO1_j, spNO1_c, spNO216_d, spNO216_e" in printed
    assert str(out / "CAS(ME)3_part_A_v2.xlsx") in printed
    assert _tree_digest(out) == _tree_digest(casme3_corpus.root)
    assert main(["-q", "make-demo-corpus", "--layout", "casme3", "--out", str(out)]) == 1
    assert "exists and is not an empty folder" in capsys.readouterr().err

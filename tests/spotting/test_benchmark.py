"""The spotting utility benchmark on the tests' small release (built by the real builder): protocols never train
on the held-out subject, the prediction CSVs rescore to the JSON, same seed → same JSON, bad inputs get one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.loaders import ClipDataset
from samm_synth_dataset.spotting.scorer import score_spotting
from samm_synth_dataset.spotting import benchmark as B
from samm_synth_dataset.spotting.features import FeatureParams

#: Tiny and fast: flow at 32 px, 12×12 inputs, one epoch.
SETTINGS = B.BenchmarkSettings(epochs=1, seed=3, lr=0.01, batch_size=32,
                               params=FeatureParams(flow_size=32, input_size=12, nose_patch=5))


def _run(small_release: Path, demo_corpus, where: Path, workers: int | None = None) -> tuple[Path, dict]:
    release = where / "release"
    shutil.copytree(small_release, release)
    doc = B.run_benchmark(release, demo_corpus.frames_root, settings=SETTINGS,
                          progress=False, workers=workers)
    return release, doc


@pytest.fixture(scope="module")
def bench(small_release, demo_corpus, tmp_path_factory):
    return _run(small_release, demo_corpus, tmp_path_factory.mktemp("bench"), workers=2)


def test_protocols_never_train_on_the_held_out_subject(bench):
    release, doc = bench
    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    subject_of_source = dict(zip(videos["source_video"], videos["subject"]))
    assert len(doc["folds"]) == videos["subject"].nunique() >= 2
    for fold in doc["folds"]:
        held_out = fold["test_subject"]
        assert fold["test_videos"] and all(subject_of_source[v] == held_out for v in fold["test_videos"])
        for protocol, r in fold["protocols"].items():
            kinds = {v.split(":", 1)[0] for v in r["train_videos"]}
            assert kinds == {"real": {"real"}, "synthetic": {"synthetic"},
                             "real+synthetic": {"real", "synthetic"}}[protocol]
            real = [v.split(":", 1)[1] for v in r["train_videos"] if v.startswith("real:")]
            synthetic = [v.split(":", 1)[1] for v in r["train_videos"] if v.startswith("synthetic:")]
            assert all(subject_of_source[v] != held_out for v in real)
            if synthetic:  # the loaders' own view of those videos
                ds = ClipDataset(release, clip_len=1, shuffle=False, videos=synthetic)
                assert sorted(v.video for v in ds.index) == sorted(synthetic)
                assert held_out not in {v.subject for v in ds.index}
            assert held_out not in r["train_subjects"]
            trained = [k for k in ("ME", "MaE") if r["kinds"][k]["trained"]]
            assert trained, f"{protocol} fold {held_out} trained nothing: {r['kinds']}"


def test_fold_predictions_rescore_to_the_json(bench):
    release, doc = bench
    intervals = pd.read_parquet(release / fmt.INTERVALS_PATH)
    for fold in doc["folds"]:
        gt = intervals[intervals["source_video"].isin(fold["test_videos"])]
        for protocol, r in fold["protocols"].items():
            csv = release / r["predictions"]
            assert csv.is_file() and csv.read_text().splitlines()[0] == "vid,onset,offset,type"
            rescored = score_spotting(csv, gt, gt_video_column="source_video")
            assert rescored == r["scores"], (protocol, fold["test_subject"])
    manifest = {f["path"] for f in fmt.read_manifest(release)["files"]}
    assert B.SPOTTING_JSON in manifest and all(r["predictions"] in manifest
                                               for f in doc["folds"] for r in f["protocols"].values())


def test_same_seed_same_json(bench, small_release, demo_corpus, tmp_path):
    release, _ = bench
    # fresh copy, fresh feature cache, features in 1 worker instead of 2
    again, _ = _run(small_release, demo_corpus, tmp_path, workers=1)
    assert (again / B.SPOTTING_JSON).read_bytes() == (release / B.SPOTTING_JSON).read_bytes()
    assert fmt.verify(again).ok and not (again / fmt.STAGES_DIR / "spotting").exists()
    assert json.loads((release / B.SPOTTING_JSON).read_text())["timelines"]


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_inputs_get_one_clear_line(small_release_copy, demo_corpus, tmp_path, capsys):
    release = str(small_release_copy)
    err = _one_line_error(capsys, ["spotting-benchmark", release, "--source-root", str(tmp_path / "nowhere")])
    assert "--source-root" in err and "no such folder" in err
    other = tmp_path / "other"
    other.mkdir()
    err = _one_line_error(capsys, ["spotting-benchmark", release, "--source-root", str(other)])
    assert "does not match the release" in err
    err = _one_line_error(capsys, ["spotting-benchmark", release, "--source-root", str(demo_corpus.frames_root),
                                   "--protocols", "real,fake"])
    assert "unknown protocol" in err and "fake" in err
    iv_path = small_release_copy / fmt.INTERVALS_PATH
    pd.read_parquet(iv_path).iloc[:0].to_parquet(iv_path)
    err = _one_line_error(capsys, ["spotting-benchmark", release, "--source-root", str(demo_corpus.frames_root)])
    assert "no intervals" in err


def test_report_shows_the_benchmark(bench):
    from samm_synth_dataset.report.report import make_report

    release, doc = bench
    result = make_report(release, progress=False)
    sec = result["spotting"]
    assert "skipped" not in sec and sec["protocols"] == doc["protocols"]
    claim = fmt.read_quality(release).claims["spotting"]
    for protocol in doc["protocols"]:
        assert f"{protocol} {doc['pooled'][protocol]['overall']['f1']:.3f}" in claim
    head = fmt.read_quality(release).headline["spotting"]
    assert len(head.rows) == 3 * len(doc["protocols"])
    figures = release / fmt.QUALITY_DIR / "figures"
    assert (figures / "fig11_spotting_folds.png").is_file()
    assert len(list(figures.glob("fig12_spotting_timeline_*.png"))) == len(doc["timelines"]) >= 1


CODE = """
import sys
from pathlib import Path
from samm_synth_dataset.spotting import benchmark as B
from samm_synth_dataset.spotting.features import FeatureParams

settings = B.BenchmarkSettings(epochs=1, seed=3, lr=0.01, batch_size=32,
                               params=FeatureParams(flow_size=32, input_size=12, nose_patch=5))
if __name__ == "__main__":
    B.run_benchmark(Path(sys.argv[1]), Path(sys.argv[2]), settings=settings, progress=False, workers=1)
"""


def test_a_killed_benchmark_leaves_the_release_as_it_was_or_rejected_and_the_same_command_finishes_it(
        bench, small_release, demo_corpus, tmp_path):
    """kill -9 after the first feature task: release unchanged, ``verify`` passes; kill -9 inside the commit:
    ``verify`` rejects the release and names the command; both times the same run finishes byte-identically
    (with the uninterrupted run of the same settings, ``bench``)."""
    import os
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    script = tmp_path / "bench.py"
    script.write_text(CODE)
    whole, _ = bench

    def run(release: Path, kill: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(repo)}
        env.pop("SAMM_SYNTH_KILL_AT", None)
        if kill:
            env["SAMM_SYNTH_KILL_AT"] = kill
        return subprocess.run([sys.executable, str(script), str(release), str(demo_corpus.frames_root)], env=env,
                              capture_output=True, text=True, timeout=600)

    for kill in ("spotting:tasks:1", "spotting:commit"):
        release = tmp_path / kill.replace(":", "-")
        shutil.copytree(small_release, release)
        before = (release / fmt.MANIFEST).read_bytes()
        assert run(release, kill).returncode == -signal.SIGKILL
        report = fmt.verify(release)
        if kill.endswith("commit"):
            assert not report.ok and any("spotting-benchmark" in p for p in report.problems), report.problems
        else:
            assert (release / fmt.MANIFEST).read_bytes() == before and report.ok
        proc = run(release)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert fmt.verify(release).ok
        entries = [{f["path"]: f for f in fmt.read_manifest(r)["files"] if f["path"].startswith("quality/spotting")}
                   for r in (release, whole)]
        assert entries[0] == entries[1] and B.SPOTTING_JSON in entries[0], kill  # same bytes, listed alike

"""The spotting utility benchmark on the tests' small release (built by the real builder): protocols never train
on the held-out subject, every seed's prediction CSVs rescore to the JSON, the same settings give the same JSON
for any number of workers (and from the command line with ``--settings``), the JSON carries per-seed scores,
bootstrap intervals and verdicts, bad inputs get one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.loaders import ClipDataset
from samm_synth_dataset.spotting import benchmark as B
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings
from samm_synth_dataset.spotting.scorer import score_spotting

#: Tiny and fast: flow at 32 px, 12×12 inputs, one epoch, two seeds, 200 resamples.
SETTINGS = BenchmarkSettings(epochs=1, seed=3, seeds=2, lr=0.01, batch_size=32, flow_size=32, input_size=12,
                             nose_patch=5, bootstrap=200)


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
            assert sorted(r["seeds"]) == ["3", "4"]
            for run in r["seeds"].values():
                trained = [k for k in ("ME", "MaE") if run["kinds"][k]["trained"]]
                assert trained, f"{protocol} fold {held_out} trained nothing: {run['kinds']}"


def test_fold_predictions_rescore_to_the_json(bench):
    release, doc = bench
    intervals = pd.read_parquet(release / fmt.INTERVALS_PATH)
    for fold in doc["folds"]:
        gt = intervals[intervals["source_video"].isin(fold["test_videos"])]
        for protocol, r in fold["protocols"].items():
            for seed, run in r["seeds"].items():
                csv = release / run["predictions"]
                assert csv.is_file() and csv.read_text().splitlines()[0] == "vid,onset,offset,type"
                rescored = score_spotting(csv, gt, gt_video_column="source_video", videos=fold["test_videos"])
                assert rescored == run["scores"], (protocol, fold["test_subject"], seed)
    manifest = {f["path"] for f in fmt.read_manifest(release)["files"]}
    assert fmt.SPOTTING_JSON in manifest and all(run["predictions"] in manifest for f in doc["folds"]
                                               for r in f["protocols"].values() for run in r["seeds"].values())


def test_the_json_has_seeds_intervals_and_verdicts(bench):
    """Per seed F1 pooled over folds, the spread over seeds, and from the bootstrap each protocol's interval and
    each difference's verdict, with the numbers of subjects and intervals it rests on."""
    _, doc = bench
    assert doc["seeds"] == [3, 4] and doc["n_subjects"] == len(doc["folds"]) == 2
    assert doc["settings"] == SETTINGS.as_dict()
    for protocol in doc["protocols"]:
        pooled = doc["pooled"][protocol]["overall"]
        per_seed = [doc["per_seed"][protocol][s]["overall"] for s in ("3", "4")]
        assert pooled["tp"] == sum(x["tp"] for x in per_seed) and pooled["fn"] == sum(x["fn"] for x in per_seed)
        assert doc["spread"][protocol]["overall"]["n"] == 2
    boot = doc["bootstrap"]
    assert boot["resamples"] == 200 and boot["subjects"] == sorted(f["test_subject"] for f in doc["folds"])
    assert sum(doc["n_intervals"][k] for k in ("ME", "MaE")) == doc["n_intervals"]["overall"] > 0
    for kind in ("ME", "MaE", "overall"):
        assert set(boot["differences"][kind]) == {"synthetic - real", "real+synthetic - real"}
        for name, d in boot["differences"][kind].items():
            expected = ("inconclusive" if len(boot["subjects"]) < boot["min_subjects"] else
                        "helps" if d["low"] is not None and d["low"] > 0 else
                        "hurts" if d["high"] is not None and d["high"] < 0 else "inconclusive")
            assert boot["verdicts"][kind][name] == expected
        for protocol, e in boot["f1"][kind].items():
            if e["value"] is not None:
                assert e["low"] <= e["value"] + 1e-9 or e["low"] <= e["high"]


def test_same_seed_same_json(bench, small_release, demo_corpus, tmp_path):
    release, _ = bench
    # fresh copy, features exported anew, in 1 worker instead of 2
    again, _ = _run(small_release, demo_corpus, tmp_path, workers=1)
    assert (again / fmt.SPOTTING_JSON).read_bytes() == (release / fmt.SPOTTING_JSON).read_bytes()
    assert fmt.verify(again).ok and not (again / fmt.STAGES_DIR / "spotting").exists()
    assert json.loads((release / fmt.SPOTTING_JSON).read_text())["timelines"]


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


def test_report_and_card_state_the_verdicts_of_the_json(bench, tmp_path):
    """The report's section and the card's sentence are written from the verdicts, with the subjects, intervals and
    seeds they rest on; Figure 11 shows the intervals; they match the JSON."""
    from samm_synth_dataset.release.release import make_release
    from samm_synth_dataset.report.report import make_report

    release, doc = bench
    result = make_report(release, progress=False)
    sec = result["spotting"]
    assert "skipped" not in sec and sec["protocols"] == doc["protocols"]
    assert sec["source"]["sha256"] == fmt.sha256_file(release / fmt.SPOTTING_JSON)
    claim = fmt.read_quality(release).claims["spotting"]
    boot = doc["bootstrap"]
    for name, d in boot["differences"]["overall"].items():
        assert f"{name} {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]: {boot['verdicts']['overall'][name]}" \
            in claim
    for protocol in doc["protocols"]:
        e = boot["f1"]["overall"][protocol]
        assert f"{protocol} {e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}]" in claim
    assert "2 held-out subjects" in claim and "seeds 3–4" in claim and f"{boot['resamples']} resamples" in claim
    text = (release / fmt.QUALITY_DIR / "report.md").read_text()
    assert "What these numbers can support" in text and "smoke test" in text  # 2 subjects: said plainly
    head = fmt.read_quality(release).headline["spotting"]
    assert len(head.rows) == 3 * len(doc["protocols"]) and "F1_low" in head.columns
    figures = release / fmt.QUALITY_DIR / "figures"
    assert (figures / "fig11_spotting_f1.png").is_file()
    assert len(list(figures.glob("fig12_spotting_timeline_*.png"))) == len(doc["timelines"]) >= 1
    released = tmp_path / "released"
    make_release(release, "1.0.0", out=released)
    assert claim in (released / fmt.CARD).read_text() and fmt.verify(released).ok


def test_a_rerun_with_other_settings_never_leaves_a_card_or_report_that_disagrees(bench, demo_corpus, tmp_path):
    """After the benchmark runs again with other settings, the report and the card state the old numbers: verify
    rejects the release (naming the fix) and release refuses it, until report and release are re-run."""
    from samm_synth_dataset.release.release import make_release
    from samm_synth_dataset.report.report import make_report

    release = tmp_path / "release"
    shutil.copytree(bench[0], release)
    make_report(release, progress=False)
    released = tmp_path / "released"
    make_release(release, "1.0.0", out=released)
    assert fmt.verify(released).ok
    B.run_benchmark(released, demo_corpus.frames_root, settings=SETTINGS.replace(seeds=1), progress=False)
    report = fmt.verify(released)
    assert not report.ok and any("samm-synth report" in p for p in report.problems), report.problems
    with pytest.raises(Exception, match="verify|report"):
        make_release(released, "1.1.0", out=tmp_path / "again")
    make_report(released, progress=False)
    report = fmt.verify(released)
    assert not report.ok and any("samm-synth release" in p and "claim" in p for p in report.problems)
    make_release(released, "1.1.0", out=tmp_path / "fixed")
    assert fmt.verify(tmp_path / "fixed").ok


def test_the_settings_of_a_json_reproduce_it_from_the_command_line(bench, small_release, demo_corpus, tmp_path):
    """``--settings quality/spotting.json`` (every setting the run used) gives the same JSON, byte for byte."""
    release, _ = bench
    again = tmp_path / "again"
    shutil.copytree(small_release, again)
    assert main(["-q", "spotting-benchmark", str(again), "--source-root", str(demo_corpus.frames_root),
                 "--settings", str(release / fmt.SPOTTING_JSON), "--workers", "1"]) == 0
    assert (again / fmt.SPOTTING_JSON).read_bytes() == (release / fmt.SPOTTING_JSON).read_bytes()


def test_settings_files_and_flags(tmp_path):
    from samm_synth_dataset.spotting.benchmark_settings import SettingsError, demo_settings

    demo = demo_settings()
    assert (demo.epochs, demo.flow_size, demo.input_size, demo.seeds, demo.bootstrap) == (3, 64, 24, 3, 2000)
    toml = tmp_path / "s.toml"
    toml.write_text("epochs = 2\nprotocols = 'synthetic,real'\n")
    s = BenchmarkSettings.from_file(toml, seeds=5)
    assert (s.epochs, s.seeds, s.protocols) == (2, 5, ("real", "synthetic"))
    toml.write_text("epoch = 2\n")
    with pytest.raises(SettingsError, match="unknown benchmark settings \\['epoch'\\]"):
        BenchmarkSettings.from_file(toml)
    with pytest.raises(SettingsError, match="even"):
        BenchmarkSettings(input_size=13)


CODE = """
import sys
from pathlib import Path
from samm_synth_dataset.spotting import benchmark as B
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings

settings = BenchmarkSettings(epochs=1, seed=3, seeds=2, lr=0.01, batch_size=32, flow_size=32, input_size=12,
                             nose_patch=5, bootstrap=200)
if __name__ == "__main__":
    B.run_benchmark(Path(sys.argv[1]), Path(sys.argv[2]), settings=settings, progress=False, workers=1)
"""


def test_a_killed_benchmark_leaves_the_release_as_it_was_or_rejected_and_the_same_command_finishes_it(
        bench, small_release, demo_corpus, tmp_path):
    """kill -9 after the first feature task (the ``features-default`` stage: the release is left as it was), inside
    the features' commit, during training or inside the benchmark's commit: ``verify`` rejects a release changed
    half-way and names the command; every time the same run finishes it byte-identically (with the uninterrupted
    run of the same settings, ``bench``)."""
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

    kills = {"features-default:tasks:1": None, "features-default:commit": "samm-synth features",
             "spotting:tasks:1": "spotting-benchmark", "spotting:commit": "spotting-benchmark"}
    for kill, names in kills.items():
        release = tmp_path / kill.replace(":", "-")
        shutil.copytree(small_release, release)
        assert run(release, kill).returncode == -signal.SIGKILL
        report = fmt.verify(release)  # never mistaken for a finished benchmark: rejected, naming the command
        if names is None:
            assert report.ok and not (release / fmt.SPOTTING_JSON).exists(), report.problems
        else:
            assert not report.ok and any(names in p for p in report.problems), report.problems
        proc = run(release)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert fmt.verify(release).ok
        entries = [{f["path"]: f for f in fmt.read_manifest(r)["files"] if f["path"].startswith("quality/spotting")}
                   for r in (release, whole)]
        assert entries[0] == entries[1] and fmt.SPOTTING_JSON in entries[0], kill  # same bytes, listed alike


@pytest.fixture(scope="module")
def casme3_unlabelled_release(tmp_path_factory):
    """A CAS(ME)³-layout release whose corpus has two clips without any labelled interval (built like the rest)."""
    from samm_synth_dataset.builders import BuildConfig, build
    from samm_synth_dataset.demo.casme3_corpus import make_casme3_corpus

    root = tmp_path_factory.mktemp("casme3_unlabelled")
    corpus = make_casme3_corpus(root / "corpus", quirks=False, unlabelled=True)
    summary = build(BuildConfig(source_root=corpus.root, references=corpus.references_csv, out=root / "build",
                                dataset="casme3", annotations=corpus.annotations, image_size=32, face_samples=3,
                                progress=False))
    assert summary.complete, summary.format()
    return corpus, root / "build"


@pytest.mark.parametrize("test_videos", ["all", "with-kind"])
def test_clips_without_intervals_are_scored_or_left_out_as_asked(casme3_unlabelled_release, tmp_path, test_videos):
    """CAS(ME)³ Part A as laid out on disk: clips without a labelled interval are built and tested. With
    ``--test-videos all`` their predictions are false positives; with ``with-kind`` a kind is scored only on the
    clips that contain it. The choice is stated in the JSON and in the card's sentence."""
    corpus, build_dir = casme3_unlabelled_release
    release = tmp_path / "release"
    shutil.copytree(build_dir, release)
    settings = SETTINGS.replace(protocols=("real", "synthetic"), seeds=1, test_videos=test_videos, bootstrap=50)
    doc = B.run_benchmark(release, corpus.root, settings=settings, progress=False)
    assert doc["test_videos"] == test_videos and doc["settings"]["test_videos"] == test_videos
    assert [f["test_videos"] for f in doc["folds"]] == [["spNO1_a", "spNO1_c", "spNO1_f", "spNO1_j"],
                                                          ["spNO216_d", "spNO216_e", "spNO216_g"]]
    unlabelled = {"spNO1_f", "spNO216_g"}
    for fold in doc["folds"]:
        gt = B._ground_truth(B.read_inputs(release, corpus.root), fold["test_videos"])
        for protocol, r in fold["protocols"].items():
            run = next(iter(r["seeds"].values()))
            rows = pd.read_csv(release / run["predictions"])
            having = {(v, k) for v, k in zip(gt["video"], gt["kind"])}
            kinds = rows["type"].str.lower().map({"me": "ME", "mae": "MaE"})
            left_out = sum((v, t) not in having for v, t in zip(rows["vid"], kinds))
            counted = sum(run["scores"][k]["n_pred"] for k in ("ME", "MaE"))
            assert counted == len(rows) - (left_out if test_videos == "with-kind" else 0)
            on_unlabelled = rows["vid"].isin(unlabelled).sum()
            if test_videos == "all":  # every prediction on an unlabelled clip is a false positive
                assert run["scores"]["overall"]["fp"] >= on_unlabelled
    from samm_synth_dataset.spotting.section import claim

    assert f"test videos: {test_videos}" in claim(doc)
    assert fmt.verify(release).ok


def test_the_benchmark_trains_on_cuda_when_present(small_release, demo_corpus, tmp_path):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine (the benchmark's --device cuda|auto path needs one)")
    release = tmp_path / "release"
    shutil.copytree(small_release, release)
    doc = B.run_benchmark(release, demo_corpus.frames_root, settings=SETTINGS.replace(device="cuda", seeds=1),
                          progress=False)
    assert doc["settings"]["device"] == "cuda" and doc["pooled"]["real"]["overall"]["n_gt"] > 0

"""`samm-synth aus` end to end with a fake FeatureExtraction (OpenFace cannot run here) that reads the exported
images and writes AU columns in OpenFace 2.2's post-processed CSV format; and with precomputed CSVs."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.metrics.openface import split_tracks

FAKE = r'''#!{python}
"""Fake FeatureExtraction: AU k intensity = mean absolute change from the first image in horizontal band k of
the face image (×5, clipped to 0..5); AU45 constant (like an inactive AU); frame 3 fails (success 0, AUs 0). OpenFace 2.2 spacing."""
import sys, pathlib
import cv2, numpy as np
args = sys.argv[1:]
fdir = pathlib.Path(args[args.index("-fdir") + 1]); out = pathlib.Path(args[args.index("-out_dir") + 1])
name = args[args.index("-of") + 1]
images = sorted(p for p in fdir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
r = {r_cols!r}; c = {c_cols!r}
lines = [", ".join(["frame", "face_id", "timestamp", "confidence", "success"] + r + c)]
g0 = None
for i, p in enumerate(images):
    g = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).astype(float)
    g0 = g if g0 is None else g0
    bands = np.array_split(np.abs(g - g0), len(r), axis=0)
    ok = i != 2
    vals = [min(5.0, 5 * b.mean()) if ok else 0.0 for b in bands]
    vals[-1] = 0.0
    pres = [1.0 if (v > 2.0 and ok) else 0.0 for v in vals] + [0.0]
    head = ",  ".join([str(i + 1), "0", "0.000", "0.98" if ok else "0.00", "1" if ok else "0"])
    lines.append(head + "".join(", %.2f" % v for v in vals + pres))
(out / (name + ".csv")).write_text("\n".join(lines) + "\n")
'''


def _make_fake(folder: Path) -> Path:
    exe = folder / "FeatureExtraction"
    exe.write_text(FAKE.format(python=sys.executable, r_cols=list(fmt.AU_INTENSITY_COLUMNS),
                               c_cols=list(fmt.AU_PRESENCE_COLUMNS)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.fixture()
def fake_bin(tmp_path: Path) -> Path:
    return _make_fake(tmp_path)


def test_aus_with_openface(tint_release: Path, demo_corpus, fake_bin: Path, tmp_path: Path, capsys) -> None:
    rc = main(["aus", str(tint_release), "--source-root", str(demo_corpus.root), "--openface-bin", str(fake_bin),
               "--work-dir", str(tmp_path / "work")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "wrote 2 AU track files" in out and "both_success" in out
    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH)
    manifest = json.loads((tint_release / fmt.MANIFEST).read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    for video in videos["video"]:
        rel = f"{fmt.AUS_DIR}/{video}.parquet"
        table = pq.read_table(tint_release / rel)
        assert table.schema.equals(fmt.schema_for("aus"), check_metadata=False)
        assert listed[rel]["rows"] == table.num_rows
        o, s = split_tracks(table.to_pandas())
        frames = pq.read_table(next((tint_release / fmt.FRAMES_DIR).glob(f"{video}-*.parquet")),
                               columns=["frame"]).column("frame").to_pylist()
        assert o.index.tolist() == frames == s.index.tolist()          # SOURCE frame numbers (007_2 starts 9801)
        assert not o.loc[frames[2], "success"] and o["success"].sum() == len(frames) - 1
        # the fake's AUs follow the image, so the original and the colour-transferred synthetic agree closely
        from samm_synth_dataset.metrics.au import correlate_video

        c = correlate_video(o, s)
        assert c.loc["AU12_r", "pearson"] > 0.8 and np.isnan(c.loc["AU45_r", "pearson"])
    assert (tmp_path / "work").is_dir()


def test_aus_precomputed_csvs(tint_release: Path, fake_bin: Path, tmp_path: Path, demo_corpus) -> None:
    # make CSVs the way a user would elsewhere: run (fake) OpenFace on exported frames
    from samm_synth_dataset.metrics.au_export import export_original_frames, export_synthetic_frames
    from samm_synth_dataset.metrics.openface import run_openface

    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH)
    for _, row in videos.iterrows():
        frames = export_synthetic_frames(tint_release, row["video"], tmp_path / "s" / row["video"])
        run_openface(tmp_path / "s" / row["video"], tmp_path / "scsv", binary=fake_bin, name=row["video"])
        export_original_frames(demo_corpus.root, row, frames, tmp_path / "o" / row["source_video"])
        run_openface(tmp_path / "o" / row["source_video"], tmp_path / "ocsv", binary=fake_bin,
                     name=row["source_video"])
    rc = main(["aus", str(tint_release), "--original-csv-dir", str(tmp_path / "ocsv"),
               "--synthetic-csv-dir", str(tmp_path / "scsv")])
    assert rc == 0
    assert len(list((tint_release / fmt.AUS_DIR).glob("*.parquet"))) == 2
    assert fmt.read_manifest(tint_release)[fmt.AUS_RECORD] == {"source": "precomputed", "au_static": False,
                                                               "openface_args": []}
    # one directory alone is refused; a CSV too long for the video is refused with its name
    assert main(["aus", str(tint_release), "--original-csv-dir", str(tmp_path / "ocsv")]) == 1
    v = videos["video"].iloc[0]
    df = (tmp_path / "scsv" / f"{v}.csv").read_text().splitlines()
    extra = df[-1].split(",", 1)
    (tmp_path / "scsv" / f"{v}.csv").write_text("\n".join(df + [f"{len(df)}," + extra[1]]) + "\n")
    from samm_synth_dataset.stages import StageError

    with pytest.raises(StageError, match="not made from this video"):
        from samm_synth_dataset.metrics.au_export import export_aus

        export_aus(tint_release, original_csv_dir=tmp_path / "ocsv", synthetic_csv_dir=tmp_path / "scsv",
                   progress=False)


def test_aus_without_openface_says_how(tint_release: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["aus", str(tint_release)]) == 1
    err = capsys.readouterr().err
    assert "FeatureExtraction" in err and "--synthetic-csv-dir" in err


def test_openface_args_arrive_are_recorded_and_never_reuse_other_runs(tint_release: Path, demo_corpus,
                                                                       fake_bin: Path, tmp_path: Path,
                                                                       capsys) -> None:
    """Issue 25 item 5: ``--openface-args`` reaches every FeatureExtraction call (shell-split), is recorded in the
    manifest, and is part of the stage's settings: a run stopped with other arguments is redone, not reused."""
    marker, calls = tmp_path / "fail-on", tmp_path / "calls"
    wrapper = tmp_path / "openface-wrapper"
    wrapper.write_text(f"""#!/bin/sh
for a in "$@"; do printf '%s|' "$a"; done >> {calls}; echo >> {calls}
if [ -f {marker} ] && echo "$@" | grep -q "$(cat {marker})"; then echo "boom" >&2; exit 3; fi
exec {fake_bin} "$@"
""")
    wrapper.chmod(0o755)
    victim = sorted(pd.read_parquet(tint_release / fmt.VIDEOS_PATH)["video"])[-1]
    marker.write_text(f"s-{victim}")
    base = ["aus", str(tint_release), "--source-root", str(demo_corpus.root), "--openface-bin", str(wrapper),
            "--workers", "1"]
    assert main([*base, "--openface-args=-wild"]) == 1             # one video fails, three runs are kept
    assert "--openface-args=-wild" in capsys.readouterr().err      # the command that finishes the job
    assert all(line.endswith("|-wild|") for line in calls.read_text().splitlines())
    marker.unlink()
    calls.write_text("")
    assert main([*base, "--openface-args", "-mloc 'model/main clnf general.txt' -multi_view 1"]) == 0
    lines = calls.read_text().splitlines()
    assert len(lines) == 4                                         # other arguments: nothing reused
    assert all(line.endswith("|-mloc|model/main clnf general.txt|-multi_view|1|") for line in lines)
    manifest = fmt.read_manifest(tint_release)
    assert manifest[fmt.AUS_RECORD] == {"source": "openface", "au_static": False,
                                        "openface_args": ["-mloc", "model/main clnf general.txt", "-multi_view",
                                                          "1"]}
    assert fmt.verify(tint_release).ok
    # the options the command sets are refused with one line; so are quotes that do not close
    capsys.readouterr()
    assert main([*base, "--openface-args", "-mloc x -out_dir /tmp/elsewhere"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-out_dir is set by `samm-synth aus` itself" in err[0], err
    assert main([*base, "--openface-args", "-mloc 'x"]) == 1
    assert "cannot be split" in capsys.readouterr().err
    # precomputed CSVs were made elsewhere: OpenFace options cannot apply to them
    assert main(["aus", str(tint_release), "--original-csv-dir", str(tmp_path), "--synthetic-csv-dir",
                 str(tmp_path), "--openface-args=-wild"]) == 1
    assert "not to precomputed CSVs" in capsys.readouterr().err
    assert fmt.read_manifest(tint_release)[fmt.AUS_RECORD]["openface_args"][0] == "-mloc"


def test_original_key_includes_the_frames() -> None:
    from samm_synth_dataset.metrics.au_export import original_key

    row = {"source_video": "006_1", "crop": {"x": 1, "y": 2, "w": 30, "h": 30}, "width": 128, "height": 128}
    frames = np.arange(1, 271, dtype=np.int64)
    assert original_key(row, frames) == original_key(row, frames.astype(np.int32).copy())
    assert original_key(row, frames) != original_key(row, frames[20:])
    assert original_key(row, frames) != original_key(row, frames[::-1])
    assert original_key(row, frames) != original_key({**row, "width": 64}, frames)
    aligned = {**row, "crop_matrix": np.array([1.0, 0.0, -1.0, 0.0, 1.0, -2.0])}
    assert original_key(row, frames) == original_key({**row, "crop_matrix": None}, frames)
    assert original_key(row, frames) != original_key(aligned, frames)


def test_aus_same_source_and_crop_different_frames(build_release, fake_bin: Path, tmp_path: Path) -> None:
    """Two synthetic videos of one source with the same crop but different frames each get their own original
    track (the original CSV is not shared between them)."""
    import pyarrow as pa

    from samm_synth_dataset.metrics.au_export import export_aus

    release = build_release(tmp_path / "release", videos={"006_1": (1, 30)}, refs={"006": ["ref01", "ref02"]},
                            formats=("parquet",))
    source_root = fmt.read_manifest(release)["config"]["source_root"]
    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    assert videos["crop"].map(lambda c: tuple(sorted(c.items()))).nunique() == 1
    second = videos["video"].iloc[1]
    part = release / fmt.FRAMES_DIR / fmt.part_name(second, 0, "parquet")
    t = pq.read_table(part).to_pandas()
    t = t.iloc[20:].assign(index=np.arange(len(t) - 20))                    # the second video starts later
    pq.write_table(pa.Table.from_pandas(t, schema=fmt.schema_for("frames"), preserve_index=False), part,
                   row_group_size=100)
    export_aus(release, source_root=source_root, openface_bin=fake_bin, progress=False)
    o1, _ = split_tracks(pq.read_table(release / fmt.AUS_DIR / f"{videos['video'].iloc[0]}.parquet").to_pandas())
    o2, s2 = split_tracks(pq.read_table(release / fmt.AUS_DIR / f"{second}.parquet").to_pandas())
    assert o2.index.tolist() == s2.index.tolist() == t["frame"].tolist()
    # the fake fails on the 3rd image it is given: the second original was run on its own frames (the first's
    # CSV, 30 rows, would be refused as not made from this video)
    third = int(t["frame"].iloc[2])
    assert not o2.loc[third, "success"] and o1.loc[third, "success"] and o2["success"].sum() == len(t) - 1


def test_aus_then_report_end_to_end(tint_release: Path, demo_corpus, fake_bin: Path, tmp_path: Path,
                                    capsys) -> None:
    """`samm-synth aus` with the fake OpenFace, then `samm-synth report`: the AU tables and figures are there."""
    assert main(["aus", str(tint_release), "--source-root", str(demo_corpus.root), "--openface-bin",
                 str(fake_bin)]) == 0
    assert main(["report", str(tint_release), "--source-root", str(demo_corpus.root)]) == 0
    out = capsys.readouterr().out
    assert "skipped au" not in out
    q = tint_release / fmt.QUALITY_DIR
    md = (q / "report.md").read_text()
    assert "*Table 1. Per AU" in md and "*Table 2. Per participant" in md and "OpenFace coverage" in md
    for fig in ("fig3_au_curves.png", "fig4_histograms.png", "fig5_glasses.png"):
        assert (q / "figures" / fig).is_file() and f"](figures/{fig})" in md
    data = json.loads((q / "report.json").read_text())
    assert not any(k == "au" or k.startswith("au:") or k == "figure5" for k in data["skipped"])
    table1 = pd.DataFrame(data["au"]["table1"]).set_index("au")
    assert list(table1.index) == list(fmt.AU_INTENSITY_COLUMNS)
    assert table1.loc["AU12_r", "pearson"] > 0.8
    assert next(r for r in data["au"]["table1"] if r["au"] == "AU45_r")["pearson"] is None    # constant: undefined
    assert len(data["au"]["table2"]) == 2 and data["au"]["table2_summary"]["participants"] == 2
    per_video = pd.DataFrame(data["au"]["per_video"])
    assert per_video["n"].max() == 269                       # the fake's failed frame 3 is dropped
    assert data["headline"]["table1"]["rows"] and "au_agreement" in data["headline"]


# --------------------------------------------------------------------------------------------------------------
# In parallel: worker processes and torchrun ranks give the same bytes; failures and kills leave the release as it
# was (or, killed while committing, rejected by verify) and the same command finishes the job.

REPO = Path(__file__).resolve().parents[2]


def _tree(release: Path) -> dict[str, str]:
    """sha256 of every release file (the .build/ work excluded)."""
    import hashlib

    return {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*")) if p.is_file() and p.relative_to(release).parts[0] != ".build"}


def _copy(master: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(master, dest)
    return dest


def _aus_args(release: Path, corpus, exe: Path, workers: int) -> list[str]:
    return ["aus", str(release), "--source-root", str(corpus.root), "--openface-bin", str(exe),
            "--workers", str(workers)]


def _cli(args: list[str], env_extra: dict[str, str] | None = None, torchrun: bool = False):
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env_extra or {})}
    head = ([str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc-per-node", "2", "-m"]
            if torchrun else [sys.executable, "-m"])
    return subprocess.run(head + ["samm_synth_dataset.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=400)


@pytest.fixture(scope="module")
def aus_reference(tint_release_master: Path, demo_corpus, tmp_path_factory) -> dict[str, str]:
    """The release tree after `aus` in one process (workers=1)."""
    folder = tmp_path_factory.mktemp("aus-reference")
    release = _copy(tint_release_master, folder / "release")
    assert main(_aus_args(release, demo_corpus, _make_fake(folder), 1)) == 0
    tree = _tree(release)
    assert len([p for p in tree if p.startswith(fmt.AUS_DIR)]) == 2
    return tree


def test_aus_two_workers_give_the_same_bytes(tint_release: Path, demo_corpus, fake_bin: Path,
                                             aus_reference: dict[str, str]) -> None:
    assert main(_aus_args(tint_release, demo_corpus, fake_bin, 2)) == 0
    assert _tree(tint_release) == aus_reference
    assert fmt.verify(tint_release).ok and not (tint_release / fmt.STAGES_DIR / "aus").exists()


def test_aus_failed_video_leaves_the_release_unchanged_and_its_message_finishes_the_job(
        tint_release: Path, demo_corpus, fake_bin: Path, tmp_path: Path, aus_reference: dict[str, str],
        capsys) -> None:
    """OpenFace fails on one video: the release is as before (verify passes, nothing unlisted in data/aus, it
    can be released), the error names the video, OpenFace's output and the command; that command, run once the
    cause is fixed, redoes only the failed video."""
    import shlex

    marker, calls = tmp_path / "fail-on", tmp_path / "calls"
    wrapper = tmp_path / "openface-wrapper"
    wrapper.write_text(f"""#!/bin/sh
echo "$@" >> {calls}
if [ -f {marker} ] && echo "$@" | grep -q "$(cat {marker})"; then echo "boom: no face model" >&2; exit 3; fi
exec {fake_bin} "$@"
""")
    wrapper.chmod(0o755)
    stray = tint_release / fmt.AUS_DIR / "999_9-ref01.parquet"      # what a failed run of older versions left
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"PAR1 not listed")
    before = _tree(tint_release)
    victim = sorted(pd.read_parquet(tint_release / fmt.VIDEOS_PATH)["video"])[-1]
    marker.write_text(f"s-{victim}")
    capsys.readouterr()
    assert main(_aus_args(tint_release, demo_corpus, wrapper, 1)) == 1
    err = capsys.readouterr().err
    assert f"s-{victim}" in err and "boom: no face model" in err and "The release is unchanged" in err
    log_file = tint_release / fmt.STAGES_DIR / "aus" / "openface" / "logs" / f"s-{victim}.log"
    assert f"whole output: {log_file}" in err and "boom: no face model" in log_file.read_text()
    assert _tree(tint_release) == before
    assert len(calls.read_text().splitlines()) == 4                # 2 synthetic + 2 originals, one failed
    command = err.split("re-run `", 1)[1].split("`", 1)[0]
    assert shlex.split(command)[:3] == ["samm-synth", "aus", str(tint_release)]
    marker.unlink()
    calls.write_text("")
    assert main(shlex.split(command)[1:]) == 0
    assert len(calls.read_text().splitlines()) == 1                # only the failed video again
    assert not stray.exists()                                      # the aus folder holds exactly this run's files
    assert _tree(tint_release) == aus_reference and fmt.verify(tint_release).ok


@pytest.mark.slow
def test_aus_killed_worker_or_commit_then_the_same_command_finishes(tint_release: Path, demo_corpus,
                                                                    fake_bin: Path,
                                                                    aus_reference: dict[str, str]) -> None:
    before = _tree(tint_release)
    args = _aus_args(tint_release, demo_corpus, fake_bin, 2)
    # a worker SIGKILLed after its first video: the release is unchanged, the finished videos are kept
    proc = _cli(["-q", *args], {"SAMM_SYNTH_KILL_AT": "aus:tasks:1"})
    assert proc.returncode == 1 and "a worker process died" in proc.stderr, proc.stderr[-3000:]
    assert _tree(tint_release) == before and fmt.verify(tint_release).ok
    assert len(list((tint_release / fmt.STAGES_DIR / "aus" / "openface" / "done").iterdir())) >= 1
    # killed while moving the files in: verify rejects the release and names the command that finishes it
    proc = _cli(["-q", *args], {"SAMM_SYNTH_KILL_AT": "aus:commit"})
    assert proc.returncode == -9, proc.stderr[-3000:]
    report = fmt.verify(tint_release)
    assert not report.ok and any("the aus stage stopped" in p and "--workers 2" in p for p in report.problems)
    assert main(args) == 0
    assert _tree(tint_release) == aus_reference and fmt.verify(tint_release).ok


@pytest.mark.slow
def test_torchrun_two_gloo_ranks_give_the_same_bytes_for_aus_and_report(
        tint_release: Path, demo_corpus, fake_bin: Path, aus_reference: dict[str, str]) -> None:
    """aus under torchrun (2 gloo ranks) equals one process; the report's per-video sections (flow, stability)
    are equal in bytes with 1 and 2 workers and 1 and 2 ranks (the report is made on the same folder each
    time, as report.json names it)."""
    from samm_synth_dataset.report.report import make_report

    proc = _cli(_aus_args(tint_release, demo_corpus, fake_bin, 1), torchrun=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(tint_release) == aus_reference
    assert "done by rank 0/2" in proc.stderr and "done by rank 1/2" in proc.stderr
    make_report(tint_release, source_root=demo_corpus.root, progress=False, workers=1)
    one = _tree(tint_release)
    data = json.loads((tint_release / fmt.REPORT_JSON).read_text())
    assert len(data["flow"]["per_interval"]) and len(data["stability"]["per_video"])
    make_report(tint_release, source_root=demo_corpus.root, progress=False, workers=2)
    assert _tree(tint_release) == one
    proc = _cli(["-q", "report", str(tint_release), "--source-root", str(demo_corpus.root), "--workers", "1"],
                torchrun=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(tint_release) == one and fmt.verify(tint_release).ok


@pytest.mark.slow
def test_torchrun_killed_rank_then_one_process_finishes(tint_release: Path, demo_corpus, fake_bin: Path,
                                                        aus_reference: dict[str, str]) -> None:
    before = _tree(tint_release)
    args = _aus_args(tint_release, demo_corpus, fake_bin, 1)
    proc = _cli(["-q", *args], {"SAMM_SYNTH_KILL_AT": "aus:tasks:1", "SAMM_SYNTH_KILL_RANK": "1"},
                torchrun=True)
    assert proc.returncode != 0
    assert _tree(tint_release) == before and fmt.verify(tint_release).ok
    assert main(args) == 0
    assert _tree(tint_release) == aus_reference and fmt.verify(tint_release).ok

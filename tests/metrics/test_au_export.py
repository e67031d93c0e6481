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


@pytest.fixture()
def fake_bin(tmp_path: Path) -> Path:
    exe = tmp_path / "FeatureExtraction"
    exe.write_text(FAKE.format(python=sys.executable, r_cols=list(fmt.AU_INTENSITY_COLUMNS),
                               c_cols=list(fmt.AU_PRESENCE_COLUMNS)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


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
        # the fake's AUs follow the image, so the original and the tinted synthetic agree closely
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


def test_aus_same_source_and_crop_different_frames(demo_corpus, fake_bin: Path, tmp_path: Path,
                                                   tint_release_maker) -> None:
    """Two synthetic videos of one source with the same crop but different frames each get their own original
    track (the original CSV is not shared between them)."""
    import pyarrow as pa

    from samm_synth_dataset.metrics.au_export import export_aus

    release = tint_release_maker(demo_corpus, tmp_path / "release", videos=("006_1", "006_1"))
    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    assert videos["crop"].map(lambda c: tuple(sorted(c.items()))).nunique() == 1
    second = videos["video"].iloc[1]
    part = release / fmt.FRAMES_DIR / fmt.part_name(second, 0, "parquet")
    t = pq.read_table(part).to_pandas()
    t = t.iloc[20:].assign(index=np.arange(len(t) - 20))                    # the second video starts later
    pq.write_table(pa.Table.from_pandas(t, schema=fmt.schema_for("frames"), preserve_index=False), part,
                   row_group_size=100)
    export_aus(release, source_root=demo_corpus.root, openface_bin=fake_bin, progress=False)
    o1, _ = split_tracks(pq.read_table(release / fmt.AUS_DIR / f"{videos['video'].iloc[0]}.parquet").to_pandas())
    o2, s2 = split_tracks(pq.read_table(release / fmt.AUS_DIR / f"{second}.parquet").to_pandas())
    assert o2.index.tolist() == s2.index.tolist() == t["frame"].tolist()
    # the fake fails on the 3rd image it is given: the second original was run on its own frames (the first's
    # CSV, 270 rows, would be refused as not made from this video)
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

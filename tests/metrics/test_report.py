"""The quality report on a release built from the demo corpus: files, self-contained HTML, JSON numbers,
skipped parts named, manifest updated; plus the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.metrics.openface import track_table, write_aus


def _write_tracks(release: Path) -> None:
    """AU tracks that agree for the first video and not at all for the second."""
    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    for k, row in enumerate(videos.itertuples()):
        frames = pd.read_parquet(release / fmt.FRAMES_DIR, columns=["video", "frame"], filters=[("video", "==", row.video)])["frame"].to_numpy()
        rng = np.random.default_rng(k)
        n = len(frames)
        base = np.clip(np.cumsum(rng.normal(0, 0.05, (n, 17)), axis=0) + 1, 0, 5)
        other = base + rng.normal(0, 0.05, base.shape) if k == 0 else rng.uniform(0, 5, base.shape)
        tables = []
        for track, vals in (("original", base), ("synthetic", other)):
            df = pd.DataFrame(vals, columns=fmt.AU_INTENSITY_COLUMNS, index=pd.Index(np.arange(1, n + 1), name="frame"))
            for c in fmt.AU_PRESENCE_COLUMNS:
                df[c] = 0.0
            df["confidence"] = 0.98
            df["success"] = 1
            df.loc[5, "success"] = 0
            tables.append(track_table(row.video, track, df, frames))
        write_aus(release / fmt.AUS_DIR / f"{row.video}.parquet", tables)


def test_report_full(tint_release: Path, demo_corpus) -> None:
    from samm_synth_dataset.metrics.report import make_report

    _write_tracks(tint_release)
    from samm_synth_dataset.builders.manifest import add_files

    add_files(tint_release, sorted(p.relative_to(tint_release).as_posix()
                                   for p in (tint_release / fmt.AUS_DIR).glob("*.parquet")))
    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH)["video"].tolist()
    result = make_report(tint_release, progress=False, figure3_videos=videos)   # source_root from the manifest
    q = tint_release / fmt.QUALITY_DIR
    for name in ("report.md", "report.html", "report.json"):
        assert (q / name).is_file()
    figs = sorted(p.name for p in (q / "figures").glob("*.png"))
    assert figs == ["fig3_au_curves.png", "fig3_au_curves_2.png", "fig4_histograms.png", "fig5_glasses.png", "fig6_flow.png",
                    "fig7_flow_regions.png", "fig8_stability.png"]
    html = (q / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(figs)
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)       # self-contained
    md = (q / "report.md").read_text()
    assert "Table 1" in md and "Table 2" in md and "Smoothing: none" in md
    data = json.loads((q / "report.json").read_text())
    assert data["skipped"] == {}
    # numbers: video 1 tracks agree, video 2 do not
    per_video = pd.DataFrame(data["au"]["per_video"])
    v0, v1 = sorted(per_video["video"].unique())
    assert per_video[per_video.video == v0]["pearson"].min() > 0.8
    assert per_video[per_video.video == v1]["pearson"].abs().max() < 0.3
    assert per_video["n"].max() == 269                                   # one failed frame dropped
    assert len(data["au"]["table1"]) == 17 and len(data["au"]["table2"]) == 2
    # flow: the tint transfer keeps motion, so the flows agree
    summary = pd.DataFrame(data["flow"]["summary"])
    face = summary[summary.region == "face"]
    assert (face["epe_px"] < 0.05).all() and (face["cosine"] > 0.95).all()
    assert set(summary.region) == {"face", "brows", "eyes", "nose", "mouth", "jaw"}
    stab = pd.DataFrame(data["stability"]["per_region"])
    assert (stab["energy_synthetic"] - stab["energy_original"]).abs().max() < 0.01
    assert set(data["headline"]) == {"au_agreement", "table1", "flow", "stability"}
    assert data["headline"]["table1"]["columns"][0] == "au" and len(data["headline"]["table1"]["rows"]) == 17
    manifest = json.loads((tint_release / fmt.MANIFEST).read_text())
    listed = {f["path"] for f in manifest["files"]}
    assert {"quality/report.html", "quality/report.json", "quality/figures/fig6_flow.png"} <= listed
    assert set(result["paths"]) <= listed


def test_report_skips_what_it_cannot(tint_release: Path, capsys) -> None:
    # no AU tracks, and the manifest's source_root points nowhere
    manifest = json.loads((tint_release / fmt.MANIFEST).read_text())
    manifest["config"]["source_root"] = "/nonexistent/corpus"
    (tint_release / fmt.MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(tint_release)]) == 0
    out = capsys.readouterr().out
    assert "skipped au" in out and "skipped flow" in out and "--source-root" in out
    data = json.loads((tint_release / "quality" / "report.json").read_text())
    assert set(data["skipped"]) == {"au", "flow", "stability"}
    md = (tint_release / "quality" / "report.md").read_text()
    assert md.count("**Skipped**") == 3


def test_report_refuses_incomplete_release(tint_release: Path) -> None:
    manifest = json.loads((tint_release / fmt.MANIFEST).read_text())
    manifest["status"] = fmt.STATUS_BUILDING
    (tint_release / fmt.MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(tint_release)]) == 1


def test_report_on_builder_release(small_release_copy: Path) -> None:
    """The builder's real release (colour transfer keeps the geometry): flows agree, no added motion."""
    from samm_synth_dataset.metrics.report import make_report

    result = make_report(small_release_copy, progress=False)
    assert set(result["skipped"]) == {"au"}
    summary = pd.DataFrame(result["flow"]["summary"])
    face = summary[summary.region == "face"]
    assert (face["epe_px"] < 0.05).all() and (face["cosine"] > 0.9).all()
    moving = summary[summary.region.isin(["brows", "mouth"])]
    assert (moving["mag_original_px"] > 0.05).all()                   # the demo's brow and lip warps are seen
    stab = pd.DataFrame(result["stability"]["per_region"])
    assert (stab["excess_px"].abs() < 0.01).all()
    html = (small_release_copy / "quality" / "report.html").read_text()
    assert "fig6" not in html and html.count("data:image/png;base64,") == 3

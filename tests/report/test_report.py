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
    from samm_synth_dataset.report.report import make_report

    _write_tracks(tint_release)
    from samm_synth_dataset.format import add_files

    add_files(tint_release, sorted(p.relative_to(tint_release).as_posix()
                                   for p in (tint_release / fmt.AUS_DIR).glob("*.parquet")))
    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH)["video"].tolist()
    result = make_report(tint_release, progress=False, figure3_videos=videos,   # source_root from the manifest
                         identity_samples=3)
    q = tint_release / fmt.QUALITY_DIR
    for name in ("report.md", "report.html", "report.json"):
        assert (q / name).is_file()
    figs = sorted(p.name for p in (q / "figures").glob("*.png"))
    assert figs == ["fig10_identity_frames.png", "fig3_au_curves.png", "fig3_au_curves_2.png", "fig4_histograms.png",
                    "fig5_glasses.png", "fig6_flow.png", "fig7_flow_regions.png", "fig8_stability.png", "fig9_identity.png"]
    html = (q / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(figs)
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)       # self-contained
    md = (q / "report.md").read_text()
    assert "Table 1" in md and "Table 2" in md and "Smoothing: none" in md
    data = json.loads((q / "report.json").read_text())
    assert data["skipped"] == {"spotting": "no quality/spotting.json: run samm-synth spotting-benchmark"}
    # numbers: video 1 tracks agree, video 2 do not
    per_video = pd.DataFrame(data["au"]["per_video"])
    v0, v1 = sorted(per_video["video"].unique())
    assert per_video[per_video.video == v0]["pearson"].min() > 0.8
    assert per_video[per_video.video == v1]["pearson"].abs().max() < 0.3
    assert per_video["n"].max() == 269                                   # one failed frame dropped
    assert len(data["au"]["table1"]) == 17 and len(data["au"]["table2"]) == 2
    # flow: colour transfer keeps the geometry, so the flows agree
    summary = pd.DataFrame(data["flow"]["summary"])
    face = summary[summary.region == "face"]
    assert (face["epe_px"] < 0.05).all() and (face["cosine"] > 0.95).all()
    assert set(summary.region) == {"face", "brows", "eyes", "nose", "mouth", "jaw"}
    stab = pd.DataFrame(data["stability"]["per_region"])
    assert (stab["energy_synthetic"] - stab["energy_original"]).abs().max() < 0.01
    assert set(data["headline"]) == {"au_agreement", "table1", "flow", "stability", "identity"}
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
    assert set(data["skipped"]) == {"au", "flow", "stability", "identity", "spotting"}
    md = (tint_release / "quality" / "report.md").read_text()
    assert md.count("**Skipped**") == 5


def test_report_refuses_incomplete_release(tint_release: Path) -> None:
    manifest = json.loads((tint_release / fmt.MANIFEST).read_text())
    manifest["status"] = fmt.STATUS_BUILDING
    (tint_release / fmt.MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(tint_release)]) == 1


def test_report_on_builder_release(small_release_copy: Path) -> None:
    """The builder's real release (colour transfer keeps the geometry): flows agree, no added motion."""
    from samm_synth_dataset.report.report import make_report

    result = make_report(small_release_copy, progress=False, identity_samples=2)
    assert set(result["skipped"]) == {"au", "spotting"}
    summary = pd.DataFrame(result["flow"]["summary"])
    face = summary[summary.region == "face"]
    assert (face["epe_px"] < 0.05).all() and (face["cosine"] > 0.9).all()
    moving = summary[summary.region.isin(["brows", "mouth"])]
    assert (moving["mag_original_px"] > 0.05).all()                   # the demo's brow and lip warps are seen
    stab = pd.DataFrame(result["stability"]["per_region"])
    assert (stab["excess_px"].abs() < 0.01).all()
    html = (small_release_copy / "quality" / "report.html").read_text()
    assert "fig6" not in html and html.count("data:image/png;base64,") == 5      # flow 2, stability 1, identity 2


def _no_originals(release: Path) -> None:
    """Point the manifest's source_root nowhere, so the report skips flow and stability (fast)."""
    manifest = json.loads((release / fmt.MANIFEST).read_text())
    manifest["config"]["source_root"] = "/nonexistent/corpus"
    (release / fmt.MANIFEST).write_text(json.dumps(manifest))


def test_report_settings_state_default_and_used_smoothing(tint_release: Path) -> None:
    """The Settings list names the documented default (the constant) and this run's value, also without tracks."""
    from samm_synth_dataset.report.report import DEFAULT_WINDOW, make_report

    _no_originals(tint_release)
    result = make_report(tint_release, window=7, progress=False)
    md = (tint_release / fmt.QUALITY_DIR / "report.md").read_text()
    line = next(x for x in md.splitlines() if x.startswith("- AU smoothing"))
    assert f"`samm_synth_dataset.report.report_settings.DEFAULT_WINDOW` = {DEFAULT_WINDOW}" in line
    assert "Used in this run: Savitzky–Golay (window 7, order 2" in line and "not applied: no AU tracks" in line
    assert "n/a" not in line
    s = result["settings"]["au_smoothing"]
    assert s["default"]["window"] == DEFAULT_WINDOW and s["used"]["window"] == 7
    assert s["default"]["constant"] == "samm_synth_dataset.report.report_settings.DEFAULT_WINDOW"


def test_report_title_names_dataset_and_method(tint_release: Path) -> None:
    from samm_synth_dataset.report.report import make_report, report_title

    _no_originals(tint_release)
    result = make_report(tint_release, progress=False)
    title = "Quality report: demo corpus (SAMM-LV layout) synthetic videos (color-transfer)"  # the demo corpus
    assert result["title"] == title
    assert (tint_release / fmt.QUALITY_DIR / "report.md").read_text().startswith(f"# {title}\n")
    assert f"<title>{title}</title>" in (tint_release / fmt.QUALITY_DIR / "report.html").read_text()
    # a released build: its pretty name and version; nothing known: the folder's name
    released = {"release": {"pretty_name": "SAMM-SYNTH demo", "version": "1.2.0"}}
    assert report_title(tint_release, released, pd.DataFrame()) == "Quality report: SAMM-SYNTH demo 1.2.0"
    assert report_title(tint_release / "build", {}, pd.DataFrame()) == "Quality report: build"
    assert (report_title(tint_release, {"config": {"dataset": "casme2", "method": "stargan-v2"}}, pd.DataFrame())
            == "Quality report: CAS(ME)² synthetic videos (stargan-v2)")
    assert (report_title(tint_release, {"config": {"dataset": "samm-lv", "method": "stargan-v2"}}, pd.DataFrame())
            == "Quality report: SAMM-LV synthetic videos (stargan-v2)")


def test_report_names_stale_au_tracks_and_skipped_figure5(tint_release: Path, capsys) -> None:
    """An AU file of a video not in the videos table is left out and named; a skipped Figure 5 is listed."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    _no_originals(tint_release)
    _write_tracks(tint_release)
    first = sorted((tint_release / fmt.AUS_DIR).glob("*.parquet"))[0]
    shutil.copy(first, tint_release / fmt.AUS_DIR / "099_9_ref09.parquet")          # stale / extra file
    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH).assign(glasses=False)   # nobody wears glasses
    pq.write_table(pa.Table.from_pandas(videos, schema=fmt.schema_for("videos"), preserve_index=False),
                   tint_release / fmt.VIDEOS_PATH)
    assert main(["report", str(tint_release)]) == 0
    out = capsys.readouterr().out
    assert "skipped au:099_9_ref09: data/aus/099_9_ref09.parquet: video 099_9_ref09 is not in the videos" in out
    assert "skipped figure5:" in out and "glasses" in out
    data = json.loads((tint_release / fmt.QUALITY_DIR / "report.json").read_text())
    assert {"au:099_9_ref09", "figure5"} <= set(data["skipped"]) and "au" not in data["skipped"]
    assert sorted(pd.DataFrame(data["au"]["per_video"])["video"].unique()) == sorted(videos["video"])
    assert len(data["au"]["table2"]) == 2
    md = (tint_release / fmt.QUALITY_DIR / "report.md").read_text()
    assert "`data/aus/099_9_ref09.parquet`" in md and "Table 2" in md
    assert not (tint_release / fmt.QUALITY_DIR / "figures" / "fig5_glasses.png").exists()


def test_report_skips_flow_of_a_video_whose_original_is_missing(tint_release: Path, demo_corpus,
                                                                tmp_path: Path) -> None:
    """One source video's frames folder gone: that video's flow and stability are skipped, named with the
    path; the other video is still measured."""
    import shutil

    from samm_synth_dataset.report.report import make_report

    corpus = tmp_path / "corpus"
    shutil.copytree(demo_corpus.root, corpus)
    shutil.rmtree(corpus / "SAMM_longvideos" / "006_1")
    videos = pd.read_parquet(tint_release / fmt.VIDEOS_PATH)
    gone = videos.loc[videos["source_video"] == "006_1", "video"].item()
    kept = videos.loc[videos["source_video"] != "006_1", "video"].item()
    result = make_report(tint_release, source_root=corpus, progress=False, identity_samples=2)
    for part in ("flow", "stability"):
        why = result["skipped"][f"{part}:{gone}"]
        assert "006_1" in why and str(corpus / "SAMM_longvideos" / "006_1") in why
        assert part not in result["skipped"]
    assert set(pd.DataFrame(result["flow"]["per_interval"])["video"]) == {kept}
    assert set(pd.DataFrame(result["stability"]["per_video"])["video"]) == {kept}
    assert result["flow"]["videos_skipped"] == {gone: result["skipped"][f"flow:{gone}"]}
    md = (tint_release / fmt.QUALITY_DIR / "report.md").read_text()
    assert md.count("**Left out** (1 of 2 videos, original frames not found)") == 2


def test_report_wrong_source_root_skips_flow_once(tint_release: Path, tmp_path: Path) -> None:
    """No video's originals under --source-root: flow and stability are skipped as a whole, with the path."""
    from samm_synth_dataset.report.report import make_report

    result = make_report(tint_release, source_root=tmp_path / "nowhere", progress=False)
    assert set(result["skipped"]) == {"au", "flow", "stability", "identity", "spotting"}
    for part in ("flow", "stability"):
        why = result["skipped"][part]
        assert "of no video were found" in why and str(tmp_path / "nowhere") in why


def test_report_appends_a_section(tint_release: Path, monkeypatch) -> None:
    """A builder appended to SECTIONS gets the next number, its JSON entry and its skip reason."""
    from samm_synth_dataset.report import report

    def extra(ctx: report.ReportContext) -> report.Section:
        sec = report.Section("extra", "Extra measure")
        sec.doc.p(f"{len(ctx.videos)} videos.")
        return sec.skip("nothing to measure", videos=len(ctx.videos))

    _no_originals(tint_release)
    monkeypatch.setattr(report, "SECTIONS", report.SECTIONS + (extra,))
    result = report.make_report(tint_release, progress=False)
    md = (tint_release / fmt.QUALITY_DIR / "report.md").read_text()
    assert "## 6. Extra measure\n\n2 videos.\n\n**Skipped**: nothing to measure.\n\n## Settings" in md
    assert result["extra"] == {"skipped": "nothing to measure", "videos": 2}
    assert list(result["skipped"]) == ["au", "flow", "stability", "identity", "spotting", "extra"]


def _tree(release: Path) -> dict[str, bytes]:
    return {p.relative_to(release).as_posix(): p.read_bytes() for p in sorted(release.rglob("*"))
            if p.is_file() and p.relative_to(release).parts[0] != ".build"}


def test_report_per_video_sections_are_the_same_bytes_with_two_workers(tint_release: Path, demo_corpus) -> None:
    """Flow and stability run one video per worker; the report (and the manifest listing it) is byte-identical."""
    from samm_synth_dataset.report.report import make_report

    fmt.write_manifest(tint_release, fmt.read_manifest(tint_release))  # canonical JSON, as every writer leaves it
    make_report(tint_release, source_root=demo_corpus.root, progress=False, workers=1)
    one = _tree(tint_release)
    data = json.loads(one[fmt.REPORT_JSON])
    assert len(data["flow"]["per_interval"]) and len(data["stability"]["per_video"]) and "seconds" not in data
    make_report(tint_release, source_root=demo_corpus.root, progress=False, workers=2)
    assert _tree(tint_release) == one
    assert fmt.verify(tint_release).ok and not (tint_release / fmt.STAGES_DIR / "report").exists()


def test_report_killed_while_committing_is_rejected_then_finished(tint_release: Path) -> None:
    """A report killed after moving its files in, before the manifest lists them: verify names the command that
    finishes it, and that command does."""
    import os
    import shlex
    import subprocess
    import sys

    _no_originals(tint_release)
    stale = tint_release / fmt.QUALITY_DIR / "figures" / "fig9_old.png"     # a figure no longer made
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "samm_synth_dataset.cli", "-q", "report", str(tint_release)],
                          env={**os.environ, "PYTHONPATH": str(repo), "SAMM_SYNTH_KILL_AT": "report:commit"},
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    report = fmt.verify(tint_release)
    assert not report.ok and len(report.problems) == 1
    command = report.problems[0].split("finish it: `", 1)[1].rstrip("`")
    assert shlex.split(command)[:3] == ["samm-synth", "report", str(tint_release)]
    assert main(shlex.split(command)[1:]) == 0
    assert fmt.verify(tint_release).ok and not stale.exists()
    listed = {f["path"] for f in fmt.read_manifest(tint_release)["files"]}
    assert {fmt.REPORT_JSON, "quality/report.md", "quality/report.html"} <= listed

"""The quality report of a release: ``quality/report.md``, a self-contained ``quality/report.html`` (figures
embedded as base64 PNG), ``quality/report.json`` (every number) and ``quality/figures/*.png``.

It runs what the data allows: AU agreement needs ``data/aus`` (``samm-synth aus``); optical flow and temporal
stability need the original frames (``source_root``). What it skips, it says, with the reason.

The report is a title, an introduction, the numbered sections of ``SECTIONS`` in order, and a closing
"Settings and definitions" list. A section builder takes the ``ReportContext`` (release tables, run settings,
figures folder) and returns a ``Section``: its title, its blocks, its ``report.json`` entry under ``key``, and what
it skipped (``Section.skip`` for a whole section). To add a section, write such a function and append it to
``SECTIONS``; its number follows from its position::

    def identity_section(ctx: ReportContext) -> Section:
        sec = Section("identity", "Identity, original vs synthetic")   # report.json key, heading
        sec.doc.p(...); sec.doc.table(...)                              # or: return sec.skip("why")
        sec.result = {...}
        return sec

A table for the dataset card goes into ``_headline``. The document model and its renderings (Markdown, HTML,
JSON, the atomic file writes) live in ``metrics.document``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import shutil
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from samm_synth_dataset import __version__
from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import au, flow, regions, stability
from samm_synth_dataset.metrics.data import (OriginalFrames, read_intervals, read_videos, source_root_of,
                                             synthetic_frames)
from samm_synth_dataset.metrics.document import (FIGURES, Document, cell, jsonable, save_figure, table_dict,
                                                 write_report_files)
from samm_synth_dataset.metrics import identity_report
from samm_synth_dataset.metrics.motion import measure_video
from samm_synth_dataset.metrics.report_settings import DEFAULT_POLYORDER, DEFAULT_WINDOW, ReportSettings
from samm_synth_dataset.stages import Stage, Task, release_digest

log = logging.getLogger(__name__)

#: Intervals shown in Figure 6 (half ME, half MaE where possible).
FLOW_FIGURE_INTERVALS = 4
#: Display names of the ``source_dataset`` values, for the report title.
DATASET_NAMES: dict[str, str] = {"samm-lv": "SAMM-LV", "casme2": "CAS(ME)²", "casme3": "CAS(ME)³",
                                  "generic": "generic"}


def smoothing_text(window: int | None, polyorder: int = DEFAULT_POLYORDER) -> str:
    """How the AU tracks are smoothed before correlating, in words (``window`` in frames; None or <= 1 = none)."""
    if window is not None and window > 1:
        return f"Savitzky–Golay (window {window}, order {polyorder}, mode interp, no clipping)"
    return "none (the tracks as OpenFace wrote them; OpenFace already averages intensities over 3 frames)"


def report_title(release: Path, manifest: dict[str, Any], videos: pd.DataFrame) -> str:
    """``Quality report: <name>``: the release's ``pretty_name`` (and version) when it was released, else the
    source dataset(s) and transfer method(s) from the videos table (or the manifest's config); the release
    folder's name only when none of these is known."""
    rel = manifest.get("release") or {}
    if rel.get("pretty_name"):
        version = rel.get("version")
        return f"Quality report: {rel['pretty_name']}" + (f" {version}" if version else "")
    config = manifest.get("config") or {}
    datasets = (sorted(str(d) for d in videos["source_dataset"].dropna().unique())
                if "source_dataset" in videos and len(videos) else
                ([str(config["dataset"])] if config.get("dataset") else []))
    methods = (sorted(str(m) for m in videos["method"].dropna().unique()) if "method" in videos and len(videos)
               else ([str(config["method"])] if config.get("method") else []))
    if not datasets and not methods:
        return f"Quality report: {release.resolve().name}"
    what = "/".join(DATASET_NAMES.get(d, d) for d in datasets) or "synthetic"
    return f"Quality report: {what} synthetic videos" + (f" ({', '.join(methods)})" if methods else "")


# --------------------------------------------------------------------------------------------------------------
# What sections read and return


@dataclass
class Motion:
    """Onset→apex flow and temporal stability, measured in one pass over each video's frames.

    ``per_interval``: flow measures, one row per (interval, region); ``per_video``: stability, one row per
    (video, region); ``shown``: the intervals Figure 6 shows; ``intervals_skipped``: ``{interval_id, reason}``
    rows; ``videos_skipped``: ``video -> reason`` for the videos whose original frames are not under
    ``source_root``.
    """

    source_root: Path
    n_videos: int
    per_interval: pd.DataFrame
    per_video: pd.DataFrame
    shown: list[flow.IntervalFlow]
    intervals_skipped: list[dict[str, Any]]
    videos_skipped: dict[str, str]

    @property
    def none_found(self) -> bool:
        """No video's original frames were found."""
        return bool(self.videos_skipped) and len(self.videos_skipped) == self.n_videos

    def no_originals(self) -> str:
        return (f"the original frames of no video were found under {self.source_root} (pass the corpus the "
                "release was built from with --source-root; first video: "
                f"{next(iter(self.videos_skipped.values()), '')})")

    def left_out(self) -> str | None:
        """The paragraph naming the videos left out, when some (not all) are."""
        if not self.videos_skipped or self.none_found:
            return None
        return (f"**Left out** ({len(self.videos_skipped)} of {self.n_videos} videos, original frames not found): "
                + "; ".join(f"{v}: {why}" for v, why in self.videos_skipped.items()) + ".")


@dataclass
class ReportContext:
    """What every section reads: the release, its videos and intervals tables, the folder the figures go to,
    the original frames' corpus (None = unavailable) and this run's ``settings``."""

    release: Path
    manifest: dict[str, Any]
    videos: pd.DataFrame
    intervals: pd.DataFrame
    figures: Path
    source_root: Path | None
    settings: ReportSettings = field(default_factory=ReportSettings)
    stage: Stage | None = None
    #: Task folders of the per-video work, by stage part (e.g. ``results["identity"][video]``), filled by
    #: ``PER_VIDEO_WORK`` on every rank and read by the sections on the main rank.
    results: dict[str, dict[str, Path]] = field(default_factory=dict)

    @cached_property
    def motion(self) -> Motion:
        """Flow and stability of every video, measured on first use (needs ``source_root``)."""
        if self.source_root is None:
            raise ValueError("flow and stability need the original frames (source_root)")
        return measure_motion(self, self.source_root)


@dataclass
class Section:
    """One numbered section: ``title`` (numbered by its place in ``SECTIONS``), its blocks, its ``report.json``
    entry under ``key``, ``skipped`` (``report.json``'s ``skipped`` entries, ``name -> reason``), and what it
    adds to the card: ``claims`` (sentences) and ``headline`` (tables, ``format.headline_table``)."""

    key: str
    title: str
    doc: Document = field(default_factory=Document)
    result: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)

    def skip(self, reason: str, **details: Any) -> Section:
        """Skip the whole section: a "**Skipped**: <reason>." paragraph; ``{"skipped": reason, **details}``."""
        self.doc.p(f"**Skipped**: {reason}.")
        self.result = {"skipped": reason, **details}
        self.skipped[self.key] = reason
        return self


#: Why flow and stability are skipped without a corpus.
NO_SOURCE_ROOT = ("the original frames are not available: pass --source-root (the corpus the release was built "
                  "from); the manifest's source_root is absent or missing here")


# --------------------------------------------------------------------------------------------------------------
# Sections


def au_section(ctx: ReportContext) -> Section:
    """AU agreement: Tables 1-2, OpenFace coverage, Figures 3-5, from the tracks in ``data/aus``."""
    from samm_synth_dataset.metrics.openface import read_aus, split_tracks

    sec = Section("au", "AU agreement (OpenFace), original vs synthetic")
    doc, release, videos = sec.doc, ctx.release, ctx.videos
    window, polyorder = ctx.settings.window, ctx.settings.polyorder
    files = sorted((release / fmt.AUS_DIR).glob("*.parquet"))
    smoothing = smoothing_text(window, polyorder)
    if not files:
        doc.p("**Skipped**: the release has no AU tracks in `data/aus/`. Run `samm-synth aus <release> "
              "--source-root DIR` (with OpenFace, or with precomputed CSVs) and re-run the report.")
        sec.result = {"skipped": "no AU tracks in data/aus (run `samm-synth aus`)"}
        sec.skipped["au"] = sec.result["skipped"]
        return sec
    # a track file whose video is not in the videos table is left out and named, not fatal
    known = set(videos["video"].astype(str))
    tracks_skipped = {p.stem: (f"{p.relative_to(release).as_posix()}: video {p.stem} is not in the videos table "
                               "(a stale or extra file); delete it, or re-run `samm-synth aus` on this release")
                      for p in files if p.stem not in known}
    files = [p for p in files if p.stem in known]
    if tracks_skipped:
        doc.p(f"**Left out**: {len(tracks_skipped)} AU track files whose video is not in the videos table "
              "(stale or extra files; delete them or re-run `samm-synth aus`): "
              + ", ".join(f"`{fmt.AUS_DIR}/{v}.parquet`" for v in sorted(tracks_skipped)) + ".")
    if not files:
        sec.skip(f"none of the {len(tracks_skipped)} AU track files in data/aus belongs to a video of this "
                 "release (run `samm-synth aus`)", tracks_skipped=tracks_skipped)
        sec.skipped.update({f"au:{video}": why for video, why in tracks_skipped.items()})
        return sec
    sec.skipped.update({f"au:{video}": why for video, why in tracks_skipped.items()})
    tracks = {}
    coverage = []
    for p in files:
        o, s = split_tracks(read_aus(p))
        video = p.stem
        tracks[video] = (o, s)
        both = o["success"].reindex(s.index).fillna(False).astype(bool) & s["success"].astype(bool)
        coverage.append({"video": video, "frames": int(len(s)), "original_success": float(o["success"].mean()),
                         "synthetic_success": float(s["success"].mean()), "both_success": float(both.mean())})
    corr = au.correlate_videos(tracks, window=window, polyorder=polyorder)
    t1 = au.table_per_au(corr)
    t2, summary2 = au.table_per_participant(corr, videos)
    gl = au.by_glasses(corr, videos)
    overall = {"pearson": au.fisher_mean(corr["pearson"].to_numpy(), corr["n"].to_numpy()),
               "spearman": au.fisher_mean(corr["spearman"].to_numpy(), corr["n"].to_numpy())}
    doc.p(f"{len(tracks)} videos with AU tracks. Per video and AU, Pearson and Spearman r between the original's "
          f"and the synthetic's intensity track over the frames where OpenFace succeeded in both. Smoothing: "
          f"{smoothing}. A constant track has no correlation (undefined, shown as –) and is left out of the means. "
          f"Means over videos or AUs use Fisher's z weighted by n − 3. Overall: Pearson "
          f"{cell(overall['pearson'], 3)}, Spearman {cell(overall['spearman'], 3)}.")
    doc.table(t1, "Table 1. Per AU: Fisher-z mean r over videos; benchmark = OpenFace 2.0 on DISFA (Pearson).")
    doc.table(t2, f"Table 2. Per participant, over all AUs and videos. Mean ± SD over "
                  f"{summary2['participants']} participants: Pearson {cell(summary2['pearson_mean'], 3)} ± "
                  f"{cell(summary2['pearson_sd'], 3)}, Spearman {cell(summary2['spearman_mean'], 3)} ± "
                  f"{cell(summary2['spearman_sd'], 3)}.")
    cov = pd.DataFrame(coverage).set_index("video")
    doc.table(cov, "OpenFace coverage: fraction of frames tracked (success) per track.")
    # Figure 3: the chosen videos, else the one with the most frames tracked in both; its 4 most variable AUs
    if ctx.settings.figure3_videos:
        unknown = [v for v in ctx.settings.figure3_videos if v not in tracks]
        if unknown:
            raise ValueError(f"figure 3 videos {unknown} have no AU tracks in {release / fmt.AUS_DIR}")
        chosen = list(ctx.settings.figure3_videos)
    else:
        chosen = [max(coverage, key=lambda c: c["both_success"] * c["frames"])["video"]]
    fig3 = []
    for i, video in enumerate(chosen):
        o, s = tracks[video]
        var = o[list(fmt.AU_INTENSITY_COLUMNS)].where(o["success"] == 1).std().sort_values(ascending=False)
        aus = [a for a in var.index if var[a] > 0][:4] or ["AU12_r"]
        iv = ctx.intervals[ctx.intervals["video"] == video]
        spans = [(int(r.onset), int(r.offset), str(r.kind)) for r in iv.itertuples()]
        name = "fig3_au_curves.png" if i == 0 else f"fig3_au_curves_{i + 1}.png"
        doc.figure(save_figure(au.plot_au_curves(o, s, aus, title=f"{video}: AU intensity, standardised to the "
                                                 "first frame", intervals=spans), ctx.figures / name),
                   f"Figure 3. {video}: original (blue) and synthetic (orange) AU intensities, each standardised "
                   "to its first frame ((x − x[first]) / std(x)); shaded: ME (red) and MaE (green) intervals.")
        fig3.append({"video": video, "aus": aus, "figure": name})
    doc.figure(save_figure(au.plot_histograms(corr), ctx.figures / "fig4_histograms.png"),
               "Figure 4. Distribution of per-(video, AU) correlations; dashed: Fisher-z mean.")
    if gl["glasses"].isin([True]).any() and gl["glasses"].isin([False]).any():
        doc.figure(save_figure(au.plot_glasses(gl), ctx.figures / "fig5_glasses.png"),
                   f"Figure 5. Pearson r with and without glasses (Fisher-z means: with "
                   f"{cell(gl.attrs['summary']['with']['pearson'], 3)}, without "
                   f"{cell(gl.attrs['summary']['without']['pearson'], 3)}).")
        glasses_skipped = None
    else:
        glasses_skipped = ("the videos with AU tracks are not both with and without glasses (videos table's "
                           "`glasses`)")
        doc.p(f"Figure 5 (glasses) skipped: {glasses_skipped}.")
        sec.skipped["figure5"] = glasses_skipped
    sec.result = {"smoothing": {"window": window, "polyorder": polyorder, "description": smoothing},
                  "overall": overall, "per_video": corr, "table1": t1, "table2": t2, "table2_summary": summary2,
                  "glasses": gl.attrs["summary"], "glasses_skipped": glasses_skipped, "coverage": coverage,
                  "figure3": fig3, "tracks_skipped": tracks_skipped}
    return sec


def flow_section(ctx: ReportContext) -> Section:
    """Onset→apex optical flow, original vs synthetic, per interval kind and region: table, Figures 6-7.

    A video whose original frames are missing is named here for both flow and stability (one reason, both
    parts), unless no video's originals were found (then both sections are skipped as a whole).
    """
    sec = Section("flow", "Optical flow, onset → apex")
    if ctx.source_root is None:
        return sec.skip(NO_SOURCE_ROOT)
    m = ctx.motion
    if not m.none_found:
        for video, why in m.videos_skipped.items():
            sec.skipped[f"flow:{video}"] = sec.skipped[f"stability:{video}"] = why
    left_out = m.left_out()
    if left_out:
        sec.doc.p(left_out)
    if m.per_interval.empty:
        return sec.skip(m.no_originals() if m.none_found else "no interval has both an onset and a distinct apex",
                        intervals_skipped=m.intervals_skipped, videos_skipped=m.videos_skipped)
    summary = flow_summary(m.per_interval)
    scale = flow.shared_scale([f for it in m.shown for f in (it.original, it.synthetic)])
    sec.doc.p(f"Farneback flow (OpenCV, parameters {flow.FARNEBACK}) from each interval's onset to its apex, for "
              "the original (the video's crop, resized to the synthetic size, greyscale) and the synthetic "
              f"(greyscale). {m.per_interval['interval_id'].nunique()} intervals; {len(m.intervals_skipped)} "
              "skipped (no apex, apex not after onset, or frames outside the video); an onset before the first "
              "frame starts at it. Per interval and region: endpoint error ‖F_orig − F_synth‖ (px), cosine "
              f"similarity where both move more than {flow.MOVING_THRESHOLD_PX} px, Pearson r of the per-pixel "
              "magnitudes, mean magnitudes and optical strain. Regions are fixed boxes of the crop "
              "(see Settings).")
    sec.doc.table(summary, "Flow similarity per interval kind and region (means over intervals; magnitude r "
                           "as Fisher-z mean).")
    sec.doc.figure(save_figure(flow.plot_flow_grid(m.shown, scale), ctx.figures / "fig6_flow.png"),
                   f"Figure 6. Onset→apex flow of the {len(m.shown)} intervals with the strongest original "
                   f"motion; hue = direction, brightness = speed on one fixed scale (full at {scale:.2f} px) for "
                   "every panel.")
    bars = plot_region_bars(summary, ("mag_original_px", "mag_synthetic_px"), ("original", "synthetic"),
                            "mean |flow| (px)", "Onset→apex motion per region")
    sec.doc.figure(save_figure(bars, ctx.figures / "fig7_flow_regions.png"),
                   "Figure 7. Mean onset→apex flow magnitude per region, original vs synthetic.")
    sec.result = {"params": flow.FARNEBACK, "moving_threshold_px": flow.MOVING_THRESHOLD_PX,
                  "display_scale_px": scale, "per_interval": m.per_interval, "summary": summary,
                  "intervals_skipped": m.intervals_skipped, "videos_skipped": m.videos_skipped,
                  "figure_intervals": [it.interval_id for it in m.shown]}
    return sec


def stability_section(ctx: ReportContext) -> Section:
    """Motion energy between nearby frames outside every interval, per region: table, Figure 8."""
    sec = Section("stability", "Temporal stability outside the intervals")
    if ctx.source_root is None:
        return sec.skip(NO_SOURCE_ROOT)
    m = ctx.motion
    left_out = m.left_out()
    if left_out:
        sec.doc.p(left_out)
    stab = m.per_video
    if stab.empty or stab["pairs"].sum() == 0:
        return sec.skip(m.no_originals() if m.none_found else "no frame pairs outside every interval",
                        videos_skipped=m.videos_skipped)
    per_region = (stab[stab["pairs"] > 0].groupby("region", sort=False)
                  .agg(videos=("video", "nunique"), energy_original=("energy_original", "mean"),
                       energy_synthetic=("energy_synthetic", "mean")).reset_index())
    per_region["excess_px"] = per_region["energy_synthetic"] - per_region["energy_original"]
    per_region["ratio"] = per_region["energy_synthetic"] / per_region["energy_original"].where(
        per_region["energy_original"] >= stability.MIN_ENERGY_PX)
    still = sorted(stab.loc[stab["pairs"] == 0, "video"].unique())
    step, pairs = ctx.settings.stability_step, ctx.settings.stability_pairs
    sec.doc.p(f"Motion energy = mean Farneback magnitude between frames t and t + {step} (px), on "
              f"up to {pairs} pairs per video lying outside every interval (10-frame margin). Extra "
              "energy in the synthetic video is flicker or drift added by the transfer; ratio is undefined "
              f"(–) where the original's energy is below {stability.MIN_ENERGY_PX} px (it does not move)."
              + (f" {len(still)} videos have no such pairs (intervals cover them): {', '.join(still)}."
                 if still else ""))
    sec.doc.table(per_region.set_index("region"), "Temporal stability per region (means over videos).", digits=4)
    sec.doc.figure(save_figure(plot_region_bars(per_region, ("energy_original", "energy_synthetic"),
                                                ("original", "synthetic"), "motion energy (px/frame pair)",
                                                "Motion outside the intervals"), ctx.figures / "fig8_stability.png"),
                   "Figure 8. Motion energy outside the intervals per region, original vs synthetic.")
    sec.result = {"step": step, "max_pairs": pairs, "per_video": stab,
                  "per_region": per_region, "videos_skipped": m.videos_skipped}
    return sec


def identity_section(ctx: ReportContext) -> Section:
    """Is the source person still recognisable? dlib descriptors per video (``metrics.identity_report``)."""
    sec = Section("identity", "Identity: is the source person still recognisable?")
    return identity_report.fill_section(sec, ctx, NO_SOURCE_ROOT)


def spotting_section(ctx: ReportContext) -> Section:
    """Spotting utility (real / synthetic / real+synthetic training, tested on real videos), read from
    ``quality/spotting.json``: pooled table, per-fold table and F1 bars, score timelines."""
    from samm_synth_dataset.metrics import spotting_report as sr

    sec = Section("spotting", "Spotting utility: training on synthetic videos, tested on real ones")
    doc = sr.read_spotting(ctx.release)
    if doc is None:
        return sec.skip("no quality/spotting.json: run samm-synth spotting-benchmark")
    s = doc["settings"]
    sec.doc.p(f"{doc['method']}. Settings: {s['epochs']} epochs, SGD lr {s['lr']}, batch {s['batch_size']}, seed "
              f"{s['seed']}, p {s['p']}, features {s['features']['flow_size']} px flow → "
              f"{s['features']['input_size']}² input. Predictions per fold: `quality/spotting/*.csv`.")
    pooled, folds = sr.pooled_table(doc), sr.fold_table(doc)
    sec.doc.table(pooled, "Pooled over folds (MEGC rule); train_intervals: intervals in the training videos, "
                          "summed over folds (a synthetic copy counts as one more).")
    sec.doc.table(folds, "Per fold: k per kind (from the fold's training intervals), F1 and training intervals.")
    sec.doc.figure(save_figure(sr.plot_fold_f1(doc), ctx.figures / "fig11_spotting_folds.png"),
                   "Figure 11. Overall F1 per held-out subject and protocol.")
    for i, entry in enumerate(doc["timelines"]):
        name = f"fig12_spotting_timeline_{i + 1}.png"
        sec.doc.figure(save_figure(sr.plot_timeline(entry, doc["protocols"]), ctx.figures / name),
                       f"Figure 12.{i + 1}. {entry['video']}: smoothed score per protocol (dotted: its threshold), "
                       "ground truth shaded (ME red, MaE green), predicted intervals as bars below each panel.")
    sec.result = {"pooled": pooled, "folds": folds, "claim": sr.claim(doc), "protocols": doc["protocols"]}
    sec.claims["spotting"] = sr.claim(doc)
    return sec


#: The report's numbered sections, in order. Append a builder here to add a section.
SECTIONS: tuple[Callable[[ReportContext], Section], ...] = (au_section, flow_section, stability_section,
                                                            identity_section, spotting_section)


def _motion_work(ctx: ReportContext) -> None:
    if ctx.source_root is not None:
        ctx.motion


#: The report's per-video work, run first on EVERY rank (under torchrun the other ranks do only this): each
#: function computes a cached ``ReportContext`` property through ``ctx.stage.run(...)`` (see ``stages``), which
#: the sections then read on the main rank. Append one here for a section with per-video work.
PER_VIDEO_WORK: tuple[Callable[[ReportContext], None], ...] = (_motion_work, identity_report.describe_videos)


# --------------------------------------------------------------------------------------------------------------
# Flow and stability measurement


def measure_motion(ctx: ReportContext, source_root: Path) -> Motion:
    """Flow of each interval (onset → apex) and stability outside the intervals, one ``stages`` task per video
    (in ``ctx.settings.workers`` processes; under torchrun each rank takes its share, every rank gets the whole result;
    the figure's intervals are measured again on the main rank only); a video whose original frames are not under
    ``source_root`` is skipped with the reason (and logged)."""
    if ctx.stage is None:  # called on its own: a stage of its own (its results stay under .build/stages/report)
        with Stage(ctx.release, "report", rerun=f"samm-synth report {ctx.release}", workers=ctx.settings.workers,
                   progress=ctx.settings.progress) as stage:
            return _measure_motion(ctx, source_root, stage)
    return _measure_motion(ctx, source_root, ctx.stage)


def _measure_motion(ctx: ReportContext, source_root: Path, stage: Stage) -> Motion:
    settings = {"release": release_digest(ctx.manifest), "source_root": str(Path(source_root).resolve()),
                "step": ctx.settings.stability_step, "pairs": ctx.settings.stability_pairs, "farneback": flow.FARNEBACK,
                "regions": regions.FRACTIONS}
    rows = {str(r["video"]): r for _, r in ctx.videos.iterrows()}
    tasks = [Task(video, int(row["n_frames"]) if pd.notna(row.get("n_frames")) else 1,
                  {"row": row.to_dict(), "intervals": ctx.intervals[ctx.intervals["video"] == video],
                   "release": ctx.release, "source_root": Path(source_root), "step": ctx.settings.stability_step,
                   "pairs": ctx.settings.stability_pairs})
             for video, row in rows.items()]
    done = stage.run("motion", tasks, measure_video, settings)
    flows: list[pd.DataFrame] = []
    stab: list[pd.DataFrame] = []
    measured: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    videos_skipped: dict[str, str] = {}
    for video in rows:
        res = json.loads((done[video] / "motion.json").read_text())
        skipped.extend(res["intervals_skipped"])
        if res["video_skipped"] is not None:
            videos_skipped[video] = res["video_skipped"]
            log.warning("flow and stability of %s skipped: %s", video, videos_skipped[video])
            continue
        if (done[video] / "flow.parquet").is_file():
            flows.append(pd.read_parquet(done[video] / "flow.parquet"))
        stab.append(pd.read_parquet(done[video] / "stability.parquet"))
        measured.extend({**m, "video": video} for m in res["measured"])
    shown = []
    if stage.is_main:
        for m in _top_flows(measured):
            row = rows[m["video"]]
            frames = (m["onset"], m["apex"])
            orig = OriginalFrames(source_root, row).get(frames)
            synth = synthetic_frames(ctx.release, m["video"], set(frames))
            shown.append(flow.interval_flow(m["interval_id"], m["video"], m["kind"], m["onset"], m["apex"],
                                            (orig[frames[0]], orig[frames[1]]), (synth[frames[0]],
                                                                                 synth[frames[1]])))
    return Motion(source_root=source_root, n_videos=len(ctx.videos),
                  per_interval=pd.concat(flows, ignore_index=True) if flows else pd.DataFrame(),
                  per_video=pd.concat(stab, ignore_index=True) if stab else pd.DataFrame(), shown=shown,
                  intervals_skipped=skipped, videos_skipped=videos_skipped)


def _top_flows(items: list[dict[str, Any]], n: int = FLOW_FIGURE_INTERVALS) -> list[dict[str, Any]]:
    """The intervals (``interval_id``, ``kind``, ``strength``, ...) with the strongest original motion, half ME
    and half MaE where possible; one synthetic video per source interval (the refs of one source share its
    ``<video>/<source id>`` suffix); ties keep the input order."""
    best: dict[str, dict[str, Any]] = {}
    for it in items:
        key = it["interval_id"].split("/", 1)[-1]
        if key not in best or it["strength"] > best[key]["strength"]:
            best[key] = it
    kept = list(best.values())
    by_kind = {k: sorted([i for i in kept if i["kind"] == k], key=lambda i: i["strength"], reverse=True)
               for k in fmt.KINDS}
    out = by_kind["ME"][: n // 2] + by_kind["MaE"][: n // 2]
    rest = sorted([i for i in kept if i not in out], key=lambda i: i["strength"], reverse=True)
    return out + rest[: n - len(out)]


def flow_summary(per_interval: pd.DataFrame) -> pd.DataFrame:
    """Means over intervals per (kind, region) of the per-interval flow rows; magnitude r as Fisher-z mean."""
    rows = []
    for (kind, region), g in per_interval.groupby(["kind", "region"], sort=False):
        rows.append({"kind": kind, "region": region, "intervals": int(g["interval_id"].nunique()),
                     "epe_px": float(g["epe"].mean()), "cosine": float(g["cosine"].mean()),
                     "magnitude_r": au.fisher_mean(g["magnitude_r"].to_numpy()),
                     "mag_original_px": float(g["mag_ref"].mean()), "mag_synthetic_px": float(g["mag_cand"].mean()),
                     "strain_original": float(g["strain_ref"].mean()),
                     "strain_synthetic": float(g["strain_cand"].mean())})
    order = {r: i for i, r in enumerate(("face",) + regions.REGIONS)}
    out = pd.DataFrame(rows)
    return out.sort_values(["kind", "region"], key=lambda s: s.map(order) if s.name == "region" else s,
                           ignore_index=True)


def plot_region_bars(summary: pd.DataFrame, columns: tuple[str, str], labels: tuple[str, str], ylabel: str,
                     title: str) -> Any:
    """Bars of two columns (original, synthetic) per region, one panel per interval kind when ``kind`` exists."""
    plt = au._plt()
    groups: list[str | None] = ([k for k in fmt.KINDS if k in set(summary["kind"])] if "kind" in summary
                                else [None])
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.2), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], groups):
        s = summary[summary["kind"] == kind] if kind else summary
        x = np.arange(len(s))
        ax.bar(x - 0.2, s[columns[0]], 0.4, label=labels[0], color="tab:blue")
        ax.bar(x + 0.2, s[columns[1]], 0.4, label=labels[1], color="tab:orange")
        ax.set_xticks(x, s["region"], fontsize=8)
        if kind:
            ax.set_title(kind, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.margins(y=0.25)
    axes[0, 0].set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=8, loc="upper left", ncol=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# The whole report


def _introduction(ctx: ReportContext) -> str:
    intervals, videos = ctx.intervals, ctx.videos
    n_me = int((intervals["kind"] == "ME").sum())
    version = (ctx.manifest.get("release") or {}).get("version")
    source = f"release {version}" if version else f"the build in `{ctx.release.resolve().name}`"
    return (f"Computed on {source}: {len(videos)} synthetic videos of {videos['subject'].nunique()} participants "
            f"({videos['source_video'].nunique()} source videos, method "
            f"{', '.join(sorted(videos['method'].unique()))}); {len(intervals)} intervals ({n_me} ME, "
            f"{len(intervals) - n_me} MaE). Frame numbers are source frame numbers. Generated by "
            f"samm-synth-dataset {__version__}.")


def _settings(ctx: ReportContext, result: dict[str, Any], skipped: dict[str, str]) -> tuple[dict[str, Any],
                                                                                          list[str]]:
    """The ``settings`` entry of ``report.json`` and the "Settings and definitions" list."""
    au_ran = "au" in result and "skipped" not in result["au"]
    window, polyorder = ctx.settings.window, ctx.settings.polyorder
    used = smoothing_text(window, polyorder) + ("" if au_ran else " (not applied: no AU tracks)")
    settings = {"au_smoothing": {
        "default": {"constant": f"{__name__}.DEFAULT_WINDOW", "window": DEFAULT_WINDOW,
                    "polyorder": DEFAULT_POLYORDER, "description": smoothing_text(DEFAULT_WINDOW)},
        "used": {"window": window, "polyorder": polyorder, "description": used}}}
    items = [
        f"AU smoothing, report default (`{__name__}.DEFAULT_WINDOW` = {DEFAULT_WINDOW}, "
        f"`DEFAULT_POLYORDER` = {DEFAULT_POLYORDER}): {smoothing_text(DEFAULT_WINDOW)}. Used in this run: {used}. "
        "Change it with `samm-synth report --smooth-window N`.",
        "AU curves are standardised to the first frame: (x − x[first tracked frame]) / std(x).",
        f"Farneback parameters: {flow.FARNEBACK}.",
        "Facial regions (fractions of the crop, x0 x1 y0 y1): "
        + "; ".join(f"{k} {v}" for k, v in regions.FRACTIONS.items()) + "; face = the whole crop.",
        f"Skipped: {', '.join(f'{k} ({v})' for k, v in skipped.items()) if skipped else 'nothing'}.",
    ]
    return settings, items


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    """The few tables a dataset card shows (``{title, columns, rows}`` each); only parts that ran."""
    out: dict[str, Any] = {}
    au_result = result.get("au", {})
    if "overall" in au_result:
        rows = [["Pearson r (all videos and AUs)", au_result["overall"]["pearson"]],
                ["Spearman r (all videos and AUs)", au_result["overall"]["spearman"]],
                ["Pearson r, mean over participants", au_result["table2_summary"]["pearson_mean"]],
                ["Pearson r, SD over participants", au_result["table2_summary"]["pearson_sd"]]]
        out["au_agreement"] = table_dict(f"AU agreement, original vs synthetic (smoothing: "
                                         f"{au_result['smoothing']['window'] or 'none'})",
                                         pd.DataFrame(rows, columns=["measure", "value"]))
        out["table1"] = table_dict("Table 1: per AU (Fisher-z mean r over videos)",
                                   au_result["table1"][["pearson", "spearman", "videos", "benchmark"]])
    flow_result = result.get("flow", {})
    if "summary" in flow_result:
        s = flow_result["summary"]
        out["flow"] = table_dict("Onset→apex optical flow, original vs synthetic, whole face",
                                 s[s["region"] == "face"][["kind", "intervals", "epe_px", "cosine", "magnitude_r"]])
    stability_result = result.get("stability", {})
    if "per_region" in stability_result:
        out["stability"] = table_dict("Motion energy outside the intervals (px per frame pair)",
                                      stability_result["per_region"][["region", "energy_original",
                                                                      "energy_synthetic", "excess_px"]], digits=4)
    spotting_result = result.get("spotting", {})
    if "pooled" in spotting_result:
        out["spotting"] = table_dict("Spotting utility, tested on real videos (pooled MEGC F1)",
                                     spotting_result["pooled"][["protocol", "kind", "TP", "FP", "FN", "F1"]])
    return out


def make_report(release: str | Path, source_root: str | Path | None = None, settings: ReportSettings | None = None,
                update_manifest: bool = True, **changes: Any) -> dict[str, Any]:
    """Write the quality report into ``<release>/quality/`` and return its JSON content (plus ``paths``).

    ``source_root``: the corpus the release was built from (default: the manifest's ``config.source_root``
    when it exists here); without it, flow and stability are skipped. ``settings``: how to measure
    (``ReportSettings``, default its defaults); keyword ``changes`` replace single settings, e.g. ``window=7``
    (Savitzky–Golay window of the AU correlations), ``figure3_videos``, ``identity_samples``, ``progress=False``
    or ``workers`` (processes for the per-video work, ``PER_VIDEO_WORK``; under torchrun every rank does its
    share and the main rank writes); an unknown name raises TypeError.
    The quality files are written under ``.build/stages/report/`` and then moved into ``quality/`` and added to
    the manifest all at once (``stages.Stage.commit``): a failed or killed run leaves the release as it was,
    except a kill during that move, which ``verify`` rejects until the same command is re-run. ``report.json``
    holds no timings, so equal inputs give equal bytes.
    """
    settings = dataclasses.replace(settings or ReportSettings(), **changes)
    t0 = time.perf_counter()
    release = Path(release)
    manifest = fmt.read_manifest(release)
    videos = read_videos(release)
    intervals = read_intervals(release)
    if source_root is None:
        source_root = source_root_of(release)
    rerun = ["samm-synth", "report", str(release)] + (["--source-root", str(source_root)] if source_root else [])
    with Stage(release, "report", rerun=shlex.join(rerun), workers=settings.workers,
               progress=settings.progress) as stage:
        out = stage.root / fmt.QUALITY_DIR  # written here, then moved into the release all at once
        figdir = out / FIGURES
        if stage.is_main:
            if out.exists():
                shutil.rmtree(out)
            figdir.mkdir(parents=True)
        ctx = ReportContext(release=release, manifest=manifest, videos=videos, intervals=intervals, figures=figdir,
                            source_root=Path(source_root) if source_root else None, settings=settings,
                            stage=stage)
        for work in PER_VIDEO_WORK:
            work(ctx)
        if not stage.is_main:
            return {"skipped": {}, "paths": []}

        title = report_title(release, manifest, videos)
        doc = Document()
        doc.h(1, title)
        doc.p(_introduction(ctx))
        result: dict[str, Any] = {"title": title, "release": str(release),
                                  "generated_by": f"samm-synth-dataset {__version__}",
                                  "videos": int(len(videos)), "intervals": int(len(intervals)),
                                  "manifest_config": manifest.get("config", {})}
        skipped: dict[str, str] = {}
        claims: dict[str, str] = {}
        headline: dict[str, Any] = {}
        for number, build_section in enumerate(SECTIONS, start=1):
            section = build_section(ctx)
            doc.h(2, f"{number}. {section.title}")
            doc.extend(section.doc)
            result[section.key] = section.result
            skipped.update(section.skipped)
            claims.update(section.claims)
            headline.update(section.headline)

        result["settings"], settings_items = _settings(ctx, result, skipped)
        doc.h(2, "Settings and definitions")
        doc.items(settings_items)
        result["skipped"] = skipped
        result["regions"] = regions.FRACTIONS
        result["headline"] = {**_headline(result), **headline}
        result["claims"] = claims

        payload = jsonable(result)
        write_report_files(out, doc, title, payload)
        staged = {f"{fmt.QUALITY_DIR}/{p.relative_to(out).as_posix()}": p for p in sorted(out.rglob("*"))
                  if p.is_file()}
        files = sorted(staged)
        stage.commit(staged, replace_folder=f"{fmt.QUALITY_DIR}/{FIGURES}", update_manifest=update_manifest)
    log.info("quality report of %s written in %.1f s", release, time.perf_counter() - t0)
    payload["paths"] = files
    return payload

"""The report's sections on AU tracks and flow: AU agreement (the paper's Tables 1-2, Figures 3-5), onset→apex
optical flow (Figure 6, per region) and temporal stability; and the flow and stability measurement, one task per
video of the report's stage (``stages``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import au, flow, regions, stability
from samm_synth_dataset.metrics.data import OriginalFrames, synthetic_frames
from samm_synth_dataset.metrics.document import cell, save_figure, subplots
from samm_synth_dataset.metrics.motion import measure_video
from samm_synth_dataset.metrics.openface import read_aus, split_tracks
from samm_synth_dataset.report.context import NO_SOURCE_ROOT, Motion, ReportContext, Section
from samm_synth_dataset.report.report_settings import smoothing_text
from samm_synth_dataset.stages import Stage, Task, release_digest

log = logging.getLogger(__name__)

#: Intervals shown in Figure 6 (half ME, half MaE where possible).
FLOW_FIGURE_INTERVALS = 4


def motion_of(ctx: ReportContext) -> Motion:
    """Flow and stability of every video, measured on first use (needs ``source_root``)."""
    if ctx.motion is None:
        if ctx.source_root is None:
            raise ValueError("flow and stability need the original frames (source_root)")
        ctx.motion = measure_motion(ctx, ctx.source_root)
    return ctx.motion


def au_section(ctx: ReportContext) -> Section:
    """AU agreement: Tables 1-2, OpenFace coverage, Figures 3-5, from the tracks in ``data/aus``."""
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
    m = motion_of(ctx)
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
    scales = [flow.shared_scale([it.original, it.synthetic]) for it in m.shown]
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
    sec.doc.figure(save_figure(flow.plot_flow_grid(m.shown, scales), ctx.figures / "fig6_flow.png"),
                   f"Figure 6. Onset→apex flow of the {len(m.shown)} intervals with the strongest original "
                   "motion, drawn over the apex frame (grey where nothing moves); hue = direction (key: the "
                   "colour wheel, image axes with y down), opacity = speed, full colour at the row's scale (its "
                   "right-hand label: the 90th percentile of the speeds of the row's moving pixels, > "
                   f"{flow.MOVING_THRESHOLD_PX} px, original and synthetic pooled; faster pixels saturate). A row's "
                   "original and synthetic flows share one scale; rows differ, so compare colour strength within a "
                   "row, and speeds across rows by their scales. Scales (px): "
                   + ", ".join(f"{s:.2f}" for s in scales) + ".")
    bars = plot_region_bars(summary, ("mag_original_px", "mag_synthetic_px"), ("original", "synthetic"),
                            "mean |flow| (px)", "Onset→apex motion per region")
    sec.doc.figure(save_figure(bars, ctx.figures / "fig7_flow_regions.png"),
                   "Figure 7. Mean onset→apex flow magnitude per region, original vs synthetic.")
    sec.result = {"params": flow.FARNEBACK, "moving_threshold_px": flow.MOVING_THRESHOLD_PX,
                  "display_scale_px": scales, "per_interval": m.per_interval, "summary": summary,
                  "intervals_skipped": m.intervals_skipped, "videos_skipped": m.videos_skipped,
                  "figure_intervals": [it.interval_id for it in m.shown]}
    return sec


def stability_section(ctx: ReportContext) -> Section:
    """Motion energy between nearby frames outside every interval, per region: table, Figure 8."""
    sec = Section("stability", "Temporal stability outside the intervals")
    if ctx.source_root is None:
        return sec.skip(NO_SOURCE_ROOT)
    m = motion_of(ctx)
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
    groups: list[str | None] = ([k for k in fmt.KINDS if k in set(summary["kind"])] if "kind" in summary
                                else [None])
    fig, axes = subplots(1, len(groups), figsize=(4.6 * len(groups), 3.2), squeeze=False, sharey=True)
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

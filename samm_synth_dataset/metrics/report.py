"""The quality report of a release: ``quality/report.md``, a self-contained ``quality/report.html`` (figures
embedded as base64 PNG), ``quality/report.json`` (every number) and ``quality/figures/*.png``.

It runs what the data allows: AU agreement needs ``data/aus`` (``samm-synth aus``); optical flow and temporal
stability need the original frames (``source_root``). What it skips, it says, with the reason.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from samm_synth_dataset import __version__
from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import au as A
from samm_synth_dataset.metrics import data as D
from samm_synth_dataset.metrics import flow as F
from samm_synth_dataset.metrics import regions as R
from samm_synth_dataset.metrics import stability as S

log = logging.getLogger(__name__)

#: Default Savitzky–Golay window for the AU correlations: None = the tracks as OpenFace wrote them (its own
#: post-processing already averages intensities over 3 frames).
DEFAULT_WINDOW: int | None = None
DEFAULT_POLYORDER = 2
FIGURES = "figures"
FLOW_FIGURE_INTERVALS = 4
#: Display names of the ``source_dataset`` values, for the report title.
DATASET_NAMES: dict[str, str] = {"samm-lv": "SAMM-LV", "casme2": "CAS(ME)²", "generic": "generic"}


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
# A tiny document model rendered to Markdown and HTML


@dataclass
class _Doc:
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def items(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, df: pd.DataFrame, caption: str = "", digits: int = 3) -> None:
        self.blocks.append(("table", (df, caption, digits)))

    def figure(self, name: str, caption: str) -> None:
        self.blocks.append(("figure", (name, caption)))


def _cell(v: Any, digits: int) -> str:
    if v is None:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "–" if not math.isfinite(float(v)) else f"{float(v):.{digits}f}"
    return str(v)


def _rows(df: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    d = df.reset_index() if df.index.name else df
    head = [str(c) for c in d.columns]
    body = [[_cell(v, digits) for v in row] for row in d.itertuples(index=False)]
    return head, body


def _markdown(doc: _Doc) -> str:
    out: list[str] = []
    for kind, val in doc.blocks:
        if kind == "h":
            out.append("#" * val[0] + " " + val[1])
        elif kind == "p":
            out.append(val)
        elif kind == "ul":
            out.append("\n".join(f"- {i}" for i in val))
        elif kind == "table":
            df, caption, digits = val
            head, body = _rows(df, digits)
            lines = ([f"*{caption}*", ""] if caption else []) + ["| " + " | ".join(head) + " |",
                                                                 "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(r) + " |" for r in body]
            out.append("\n".join(lines))
        elif kind == "figure":
            name, caption = val
            out.append(f"![{caption}]({FIGURES}/{name})\n\n*{caption}*")
        out.append("")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,
th:first-child{text-align:left}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption,caption{font-size:.9em;color:#555;text-align:left;caption-side:top;padding:.3em 0}
code{background:#f3f3f3;padding:0 .2em}.table{overflow-x:auto;max-width:100%}"""


def _html(doc: _Doc, figures_dir: Path, title: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    for kind, val in doc.blocks:
        if kind == "h":
            out.append(f"<h{val[0]}>{e(val[1])}</h{val[0]}>")
        elif kind == "p":
            out.append(f"<p>{_inline(val)}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in val) + "</ul>")
        elif kind == "table":
            df, caption, digits = val
            head, body = _rows(df, digits)
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body)
            out.append(f"<div class=\"table\"><table><caption>{e(caption)}</caption><thead><tr>"
                       + "".join(f"<th>{e(h)}</th>" for h in head)
                       + f"</tr></thead><tbody>{rows}</tbody></table></div>")  # wide tables scroll, not spill
        elif kind == "figure":
            name, caption = val
            b64 = base64.b64encode((figures_dir / name).read_bytes()).decode("ascii")
            out.append(f"<figure><img alt=\"{e(caption)}\" src=\"data:image/png;base64,{b64}\">"
                       f"<figcaption>{e(caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape, then render `code` spans and **bold**."""
    import re

    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, pd.DataFrame):
        d = obj.reset_index() if obj.index.name else obj
        return [_jsonable(r) for r in d.to_dict(orient="records")]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if obj is pd.NA or obj is None:
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


# --------------------------------------------------------------------------------------------------------------
# Sections


def _au_section(release: Path, videos: pd.DataFrame, intervals: pd.DataFrame, figdir: Path, doc: _Doc,
                window: int | None, polyorder: int, figure3_videos: Sequence[str] | None) -> dict[str, Any]:
    from samm_synth_dataset.metrics.openface import read_aus, split_tracks

    files = sorted((release / fmt.AUS_DIR).glob("*.parquet"))
    smoothing = smoothing_text(window, polyorder)
    doc.h(2, "1. AU agreement (OpenFace), original vs synthetic")
    if not files:
        doc.p("**Skipped**: the release has no AU tracks in `data/aus/`. Run `samm-synth aus <release> "
              "--source-root DIR` (with OpenFace, or with precomputed CSVs) and re-run the report.")
        return {"skipped": "no AU tracks in data/aus (run `samm-synth aus`)"}
    # a track file whose video is not in the videos table (stale, or copied from another build) is left out,
    # named, rather than failing the whole report
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
        reason = (f"none of the {len(tracks_skipped)} AU track files in data/aus belongs to a video of this "
                  "release (run `samm-synth aus`)")
        doc.p(f"**Skipped**: {reason}.")
        return {"skipped": reason, "tracks_skipped": tracks_skipped}
    tracks = {}
    coverage = []
    for p in files:
        o, s = split_tracks(read_aus(p))
        video = p.stem
        tracks[video] = (o, s)
        both = o["success"].reindex(s.index).fillna(False).astype(bool) & s["success"].astype(bool)
        coverage.append({"video": video, "frames": int(len(s)), "original_success": float(o["success"].mean()),
                         "synthetic_success": float(s["success"].mean()), "both_success": float(both.mean())})
    corr = A.correlate_videos(tracks, window=window, polyorder=polyorder)
    t1 = A.table_per_au(corr)
    t2, summary2 = A.table_per_participant(corr, videos)
    gl = A.by_glasses(corr, videos)
    overall = {"pearson": A.fisher_mean(corr["pearson"].to_numpy(), corr["n"].to_numpy()),
               "spearman": A.fisher_mean(corr["spearman"].to_numpy(), corr["n"].to_numpy())}
    doc.p(f"{len(tracks)} videos with AU tracks. Per video and AU, Pearson and Spearman r between the original's "
          f"and the synthetic's intensity track over the frames where OpenFace succeeded in both. Smoothing: "
          f"{smoothing}. A constant track has no correlation (undefined, shown as –) and is left out of the means. "
          f"Means over videos or AUs use Fisher's z weighted by n − 3. Overall: Pearson "
          f"{_cell(overall['pearson'], 3)}, Spearman {_cell(overall['spearman'], 3)}.")
    doc.table(t1, "Table 1. Per AU: Fisher-z mean r over videos; benchmark = OpenFace 2.0 on DISFA (Pearson).")
    doc.table(t2, f"Table 2. Per participant, over all AUs and videos. Mean ± SD over "
                  f"{summary2['participants']} participants: Pearson {_cell(summary2['pearson_mean'], 3)} ± "
                  f"{_cell(summary2['pearson_sd'], 3)}, Spearman {_cell(summary2['spearman_mean'], 3)} ± "
                  f"{_cell(summary2['spearman_sd'], 3)}.")
    cov = pd.DataFrame(coverage).set_index("video")
    doc.table(cov, "OpenFace coverage: fraction of frames tracked (success) per track.")
    # Fig 3: the video with the most frames tracked in both, its 4 most variable AUs (original track)
    # Fig 3: the chosen videos, else the one with the most frames tracked in both; its 4 most variable AUs
    if figure3_videos:
        unknown = [v for v in figure3_videos if v not in tracks]
        if unknown:
            raise ValueError(f"figure 3 videos {unknown} have no AU tracks in {release / fmt.AUS_DIR}")
        chosen = list(figure3_videos)
    else:
        chosen = [max(coverage, key=lambda c: c["both_success"] * c["frames"])["video"]]
    fig3 = []
    for i, video in enumerate(chosen):
        o, s = tracks[video]
        var = o[list(fmt.AU_INTENSITY_COLUMNS)].where(o["success"] == 1).std().sort_values(ascending=False)
        aus = [a for a in var.index if var[a] > 0][:4] or ["AU12_r"]
        iv = intervals[intervals["video"] == video]
        spans = [(int(r.onset), int(r.offset), str(r.kind)) for r in iv.itertuples()]
        name = "fig3_au_curves.png" if i == 0 else f"fig3_au_curves_{i + 1}.png"
        doc.figure(_save(A.plot_au_curves(o, s, aus, title=f"{video}: AU intensity, standardised to the first "
                                          "frame", intervals=spans), figdir / name),
                   f"Figure 3. {video}: original (blue) and synthetic (orange) AU intensities, each standardised "
                   "to its first frame ((x − x[first]) / std(x)); shaded: ME (red) and MaE (green) intervals.")
        fig3.append({"video": video, "aus": aus, "figure": name})
    doc.figure(_save(A.plot_histograms(corr), figdir / "fig4_histograms.png"),
               "Figure 4. Distribution of per-(video, AU) correlations; dashed: Fisher-z mean.")
    if gl["glasses"].isin([True]).any() and gl["glasses"].isin([False]).any():
        doc.figure(_save(A.plot_glasses(gl), figdir / "fig5_glasses.png"),
                   f"Figure 5. Pearson r with and without glasses (Fisher-z means: with "
                   f"{_cell(gl.attrs['summary']['with']['pearson'], 3)}, without "
                   f"{_cell(gl.attrs['summary']['without']['pearson'], 3)}).")
        glasses_skipped = None
    else:
        glasses_skipped = ("the videos with AU tracks are not both with and without glasses (videos table's "
                           "`glasses`)")
        doc.p(f"Figure 5 (glasses) skipped: {glasses_skipped}.")
    return {"smoothing": {"window": window, "polyorder": polyorder, "description": smoothing},
            "overall": overall, "per_video": corr, "table1": t1, "table2": t2, "table2_summary": summary2,
            "glasses": gl.attrs["summary"], "glasses_skipped": glasses_skipped, "coverage": coverage,
            "figure3": fig3, "tracks_skipped": tracks_skipped}


def _flow_and_stability(release: Path, source_root: Path, videos: pd.DataFrame, intervals: pd.DataFrame,
                        progress: bool, stability_step: int, stability_pairs: int
                        ) -> tuple[pd.DataFrame, pd.DataFrame, list[F.IntervalFlow], list[dict[str, Any]],
                                   dict[str, str]]:
    """Flow rows, stability table, the intervals Figure 6 shows, the skipped intervals, and the videos skipped
    (``video -> reason``) because their original frames are not in ``source_root``."""
    flow_rows: list[dict[str, Any]] = []
    stab: list[pd.DataFrame] = []
    keep: list[F.IntervalFlow] = []
    skipped: list[dict[str, Any]] = []
    videos_skipped: dict[str, str] = {}
    for _, row in tqdm(list(videos.iterrows()), desc="flow and stability", unit="video", disable=not progress):
        video = str(row["video"])
        try:
            originals = D.OriginalFrames(source_root, row)
        except FileNotFoundError as exc:
            videos_skipped[video] = _missing_original(str(row["source_video"]), str(exc))
            log.warning("flow and stability of %s skipped: %s", video, videos_skipped[video])
            continue
        h, w = int(row["height"]), int(row["width"])
        masks = R.region_masks(h, w)
        iv = intervals[intervals["video"] == video]
        synth_numbers = D.synthetic_frame_numbers(release, video)
        have = set(synth_numbers.tolist())
        first = int(synth_numbers.min()) if synth_numbers.size else 0
        todo: list[tuple[Any, int, int]] = []
        for r in iv.itertuples():
            # an onset before the first frame (SAMM-LV's onset 0) starts the flow at the first frame
            onset = max(int(r.onset), first)
            if r.apex is None or pd.isna(r.apex):
                skipped.append({"interval_id": r.interval_id, "reason": "no apex"})
            elif int(r.apex) <= onset:
                skipped.append({"interval_id": r.interval_id, "reason": "apex not after onset"})
            elif onset not in have or int(r.apex) not in have:
                skipped.append({"interval_id": r.interval_id, "reason": "onset or apex frame not in the video"})
            else:
                todo.append((r, onset, int(r.apex)))
        need = {x for _, on, ap in todo for x in (on, ap)}
        spans = [(int(r.onset), int(r.offset)) for r in iv.itertuples()]
        pairs = S.quiet_pairs(synth_numbers, spans, step=stability_step, max_pairs=stability_pairs)
        need_all = need | {f for p in pairs for f in p}
        synth = D.synthetic_frames(release, video, need_all)
        try:
            orig = originals.get(need_all)
        except (FileNotFoundError, KeyError) as exc:
            videos_skipped[video] = _missing_original(str(row["source_video"]), str(exc.args[0] if exc.args
                                                                                    else exc))
            log.warning("flow and stability of %s skipped: %s", video, videos_skipped[video])
            continue
        for r, onset, apex in todo:
            it = F.interval_flow(str(r.interval_id), video, str(r.kind), onset, apex,
                                 (orig[onset], orig[apex]), (synth[onset], synth[apex]))
            for region, m in F.compare_flows(it.original, it.synthetic, masks).items():
                flow_rows.append({"video": video, "interval_id": it.interval_id, "kind": it.kind,
                                  "onset": it.onset, "apex": it.apex, "region": region, **m})
            keep.append(it)
            keep = _top_flows(keep)
        stab.append(S.stability_table(video, orig, synth, pairs, masks))
    return (pd.DataFrame(flow_rows), (pd.concat(stab, ignore_index=True) if stab else pd.DataFrame()), keep,
            skipped, videos_skipped)


def _missing_original(source_video: str, message: str) -> str:
    """The reason a video's flow and stability are skipped, naming its source video and what was not found."""
    return message if source_video in message else f"source video {source_video}: {message}"


def _top_flows(items: list[F.IntervalFlow], n: int = FLOW_FIGURE_INTERVALS) -> list[F.IntervalFlow]:
    """The intervals with the strongest original motion, half ME and half MaE where possible."""
    def strength(it: F.IntervalFlow) -> float:
        return float(np.percentile(F.magnitude(it.original), 99))

    # one synthetic video per source interval (``<video>/<source id>``; refs of one source share it)
    best: dict[str, F.IntervalFlow] = {}
    for it in items:
        key = it.interval_id.split("/", 1)[-1]
        if key not in best or strength(it) > strength(best[key]):
            best[key] = it
    items = list(best.values())
    by_kind = {k: sorted([i for i in items if i.kind == k], key=strength, reverse=True) for k in fmt.KINDS}
    out = by_kind["ME"][: n // 2] + by_kind["MaE"][: n // 2]
    rest = sorted([i for i in items if i not in out], key=strength, reverse=True)
    return out + rest[: n - len(out)]


def _flow_summary(flow: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (kind, region), g in flow.groupby(["kind", "region"], sort=False):
        rows.append({"kind": kind, "region": region, "intervals": int(g["interval_id"].nunique()),
                     "epe_px": float(g["epe"].mean()), "cosine": float(g["cosine"].mean()),
                     "magnitude_r": A.fisher_mean(g["magnitude_r"].to_numpy()),
                     "mag_original_px": float(g["mag_ref"].mean()), "mag_synthetic_px": float(g["mag_cand"].mean()),
                     "strain_original": float(g["strain_ref"].mean()),
                     "strain_synthetic": float(g["strain_cand"].mean())})
    order = {r: i for i, r in enumerate(("face",) + R.REGIONS)}
    out = pd.DataFrame(rows)
    return out.sort_values(["kind", "region"], key=lambda s: s.map(order) if s.name == "region" else s,
                           ignore_index=True)


def _plot_region_bars(summary: pd.DataFrame, columns: tuple[str, str], labels: tuple[str, str], ylabel: str,
                      title: str) -> Any:
    plt = A._plt()
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


def _table_dict(title: str, df: pd.DataFrame, digits: int = 3) -> dict[str, Any]:
    d = df.reset_index() if df.index.name else df
    rows = [[round(float(v), digits) if isinstance(v, (float, np.floating)) and math.isfinite(float(v))
             else (None if isinstance(v, (float, np.floating)) else v) for v in r] for r in d.itertuples(index=False)]
    return {"title": title, "columns": [str(c) for c in d.columns], "rows": rows}


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    """The few tables a dataset card shows (``{title, columns, rows}`` each); only parts that ran."""
    out: dict[str, Any] = {}
    au = result.get("au", {})
    if "skipped" not in au:
        rows = [["Pearson r (all videos and AUs)", au["overall"]["pearson"]],
                ["Spearman r (all videos and AUs)", au["overall"]["spearman"]],
                ["Pearson r, mean over participants", au["table2_summary"]["pearson_mean"]],
                ["Pearson r, SD over participants", au["table2_summary"]["pearson_sd"]]]
        out["au_agreement"] = _table_dict(f"AU agreement, original vs synthetic (smoothing: "
                                          f"{au['smoothing']['window'] or 'none'})",
                                          pd.DataFrame(rows, columns=["measure", "value"]))
        out["table1"] = _table_dict("Table 1: per AU (Fisher-z mean r over videos)",
                                    au["table1"][["pearson", "spearman", "videos", "benchmark"]])
    flow = result.get("flow", {})
    if "summary" in flow:
        s = flow["summary"]
        out["flow"] = _table_dict("Onset→apex optical flow, original vs synthetic, whole face",
                                  s[s["region"] == "face"][["kind", "intervals", "epe_px", "cosine", "magnitude_r"]])
    stab = result.get("stability", {})
    if "per_region" in stab:
        out["stability"] = _table_dict("Motion energy outside the intervals (px per frame pair)",
                                       stab["per_region"][["region", "energy_original", "energy_synthetic",
                                                           "excess_px"]], digits=4)
    return out


def make_report(release: str | Path, source_root: str | Path | None = None, window: int | None = DEFAULT_WINDOW,
                polyorder: int = DEFAULT_POLYORDER, stability_step: int = 1, stability_pairs: int = 16,
                progress: bool = True, update_manifest: bool = True,
                figure3_videos: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the quality report into ``<release>/quality/`` and return its JSON content (plus ``paths``).

    ``source_root``: the corpus the release was built from (default: the manifest's ``config.source_root``
    when it exists here); without it, flow and stability are skipped. ``window``: Savitzky–Golay window for the
    AU correlations (None = unsmoothed, the default). ``figure3_videos``: videos whose AU curves Figure 3 shows
    (default: the one with the most frames tracked in both). The quality files are added to the manifest.
    """
    t0 = time.perf_counter()
    release = Path(release)
    manifest = fmt.read_manifest(release)
    videos = D.read_videos(release)
    intervals = D.read_intervals(release)
    out = release / fmt.QUALITY_DIR
    figdir = out / FIGURES
    if figdir.exists():
        shutil.rmtree(figdir)
    figdir.mkdir(parents=True)
    if source_root is None:
        source_root = D.source_root_of(release)
    source_root = Path(source_root) if source_root else None

    doc = _Doc()
    title = report_title(release, manifest, videos)
    doc.h(1, title)
    n_me = int((intervals["kind"] == "ME").sum())
    version = (manifest.get("release") or {}).get("version")
    source = f"release {version}" if version else f"the build in `{release.resolve().name}`"
    doc.p(f"Computed on {source}: {len(videos)} synthetic videos of {videos['subject'].nunique()} "
          "participants "
          f"({videos['source_video'].nunique()} source videos, method "
          f"{', '.join(sorted(videos['method'].unique()))}); {len(intervals)} intervals ({n_me} ME, "
          f"{len(intervals) - n_me} MaE). Frame numbers are source frame numbers. Generated by samm-synth-dataset "
          f"{__version__}.")
    skipped: dict[str, str] = {}
    result: dict[str, Any] = {"title": title, "release": str(release),
                              "generated_by": f"samm-synth-dataset {__version__}",
                              "videos": int(len(videos)), "intervals": int(len(intervals)),
                              "manifest_config": manifest.get("config", {})}

    au = _au_section(release, videos, intervals, figdir, doc, window, polyorder, figure3_videos)
    if "skipped" in au:
        skipped["au"] = au["skipped"]
    for video, why in au.get("tracks_skipped", {}).items():
        skipped[f"au:{video}"] = why
    if au.get("glasses_skipped"):
        skipped["figure5"] = au["glasses_skipped"]
    result["au"] = au

    doc.h(2, "2. Optical flow, onset → apex")
    doc.h(2, "3. Temporal stability outside the intervals")
    flow_pos = len(doc.blocks) - 1
    if source_root is None:
        reason = ("the original frames are not available: pass --source-root (the corpus the release was built "
                  "from); the manifest's source_root is absent or missing here")
        skipped["flow"] = skipped["stability"] = reason
        doc.blocks.insert(flow_pos, ("p", f"**Skipped**: {reason}."))
        doc.p(f"**Skipped**: {reason}.")
        result["flow"] = {"skipped": reason}
        result["stability"] = {"skipped": reason}
    else:
        flow, stab, shown, iv_skipped, videos_skipped = _flow_and_stability(
            release, source_root, videos, intervals, progress, stability_step, stability_pairs)
        none_found = bool(videos_skipped) and len(videos_skipped) == len(videos)
        if not none_found:
            for video, why in videos_skipped.items():
                skipped[f"flow:{video}"] = skipped[f"stability:{video}"] = why
        no_originals = (f"the original frames of no video were found under {source_root} (pass the corpus the "
                        "release was built from with --source-root; first video: "
                        f"{next(iter(videos_skipped.values()), '')})")
        left_out = (f"**Left out** ({len(videos_skipped)} of {len(videos)} videos, original frames not found): "
                    + "; ".join(f"{v}: {why}" for v, why in videos_skipped.items()) + "."
                    if videos_skipped and not none_found else None)
        sec = _Doc()
        if left_out:
            sec.p(left_out)
        if flow.empty:
            reason = no_originals if none_found else "no interval has both an onset and a distinct apex"
            skipped["flow"] = reason
            sec.p(f"**Skipped**: {reason}.")
            result["flow"] = {"skipped": reason, "intervals_skipped": iv_skipped, "videos_skipped": videos_skipped}
        else:
            summary = _flow_summary(flow)
            scale = F.shared_scale([f for it in shown for f in (it.original, it.synthetic)])
            sec.p(f"Farneback flow (OpenCV, parameters {F.FARNEBACK}) from each interval's onset to its apex, for "
                  "the original (the video's crop, resized to the synthetic size, greyscale) and the synthetic "
                  f"(greyscale). {flow['interval_id'].nunique()} intervals; {len(iv_skipped)} skipped (no apex, "
                  "apex not after onset, or frames outside the video); an onset before the first frame starts at "
                  "it. Per interval and region: endpoint error ‖F_orig − F_synth‖ (px), cosine "
                  f"similarity where both move more than {F.MOVING_THRESHOLD_PX} px, Pearson r of the per-pixel "
                  "magnitudes, mean magnitudes and optical strain. Regions are fixed boxes of the crop "
                  "(see Settings).")
            sec.table(summary, "Flow similarity per interval kind and region (means over intervals; magnitude r "
                               "as Fisher-z mean).")
            sec.figure(_save(F.plot_flow_grid(shown, scale), figdir / "fig6_flow.png"),
                       f"Figure 6. Onset→apex flow of the {len(shown)} intervals with the strongest original motion; "
                       f"hue = direction, brightness = speed on one fixed scale (full at {scale:.2f} px) for "
                       "every panel.")
            sec.figure(_save(_plot_region_bars(summary, ("mag_original_px", "mag_synthetic_px"),
                                               ("original", "synthetic"), "mean |flow| (px)",
                                               "Onset→apex motion per region"), figdir / "fig7_flow_regions.png"),
                       "Figure 7. Mean onset→apex flow magnitude per region, original vs synthetic.")
            result["flow"] = {"params": F.FARNEBACK, "moving_threshold_px": F.MOVING_THRESHOLD_PX,
                              "display_scale_px": scale, "per_interval": flow, "summary": summary,
                              "intervals_skipped": iv_skipped, "videos_skipped": videos_skipped,
                              "figure_intervals": [it.interval_id for it in shown]}
        doc.blocks[flow_pos:flow_pos] = sec.blocks
        if left_out:
            doc.p(left_out)
        if stab.empty or stab["pairs"].sum() == 0:
            reason = no_originals if none_found else "no frame pairs outside every interval"
            skipped["stability"] = reason
            doc.p(f"**Skipped**: {reason}.")
            result["stability"] = {"skipped": reason, "videos_skipped": videos_skipped}
        else:
            per_region = (stab[stab["pairs"] > 0].groupby("region", sort=False)
                          .agg(videos=("video", "nunique"), energy_original=("energy_original", "mean"),
                               energy_synthetic=("energy_synthetic", "mean")).reset_index())
            per_region["excess_px"] = per_region["energy_synthetic"] - per_region["energy_original"]
            per_region["ratio"] = per_region["energy_synthetic"] / per_region["energy_original"].where(
                per_region["energy_original"] >= S.MIN_ENERGY_PX)
            still = sorted(stab.loc[stab["pairs"] == 0, "video"].unique())
            doc.p(f"Motion energy = mean Farneback magnitude between frames t and t + {stability_step} (px), on up "
                  f"to {stability_pairs} pairs per video lying outside every interval (10-frame margin). Extra "
                  "energy in the synthetic video is flicker or drift added by the transfer; ratio is undefined "
                  f"(–) where the original's energy is below {S.MIN_ENERGY_PX} px (it does not move)."
                  + (f" {len(still)} videos have no such pairs (intervals cover them): {', '.join(still)}."
                     if still else ""))
            doc.table(per_region.set_index("region"), "Temporal stability per region (means over videos).", digits=4)
            doc.figure(_save(_plot_region_bars(per_region, ("energy_original", "energy_synthetic"),
                                               ("original", "synthetic"), "motion energy (px/frame pair)",
                                               "Motion outside the intervals"), figdir / "fig8_stability.png"),
                       "Figure 8. Motion energy outside the intervals per region, original vs synthetic.")
            result["stability"] = {"step": stability_step, "max_pairs": stability_pairs, "per_video": stab,
                                   "per_region": per_region, "videos_skipped": videos_skipped}

    used = smoothing_text(window, polyorder) + (" (not applied: no AU tracks)" if "skipped" in au else "")
    result["settings"] = {"au_smoothing": {
        "default": {"constant": f"{__name__}.DEFAULT_WINDOW", "window": DEFAULT_WINDOW,
                    "polyorder": DEFAULT_POLYORDER, "description": smoothing_text(DEFAULT_WINDOW)},
        "used": {"window": window, "polyorder": polyorder, "description": used}}}
    doc.h(2, "Settings and definitions")
    doc.items([
        f"AU smoothing, report default (`{__name__}.DEFAULT_WINDOW` = {DEFAULT_WINDOW}, "
        f"`DEFAULT_POLYORDER` = {DEFAULT_POLYORDER}): {smoothing_text(DEFAULT_WINDOW)}. Used in this run: {used}. "
        "Change it with `samm-synth report --smooth-window N`.",
        "AU curves are standardised to the first frame: (x − x[first tracked frame]) / std(x).",
        f"Farneback parameters: {F.FARNEBACK}.",
        "Facial regions (fractions of the crop, x0 x1 y0 y1): "
        + "; ".join(f"{k} {v}" for k, v in R.FRACTIONS.items()) + "; face = the whole crop.",
        f"Skipped: {', '.join(f'{k} ({v})' for k, v in skipped.items()) if skipped else 'nothing'}.",
    ])
    result["skipped"] = skipped
    result["regions"] = R.FRACTIONS
    result["headline"] = _headline(result)
    result["seconds"] = time.perf_counter() - t0

    (out / "report.md").write_text(_markdown(doc))
    (out / "report.html").write_text(_html(doc, figdir, title))
    payload = _jsonable(result)
    (out / "report.json").write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n")
    files = sorted(p.relative_to(release).as_posix() for p in out.rglob("*") if p.is_file())
    if update_manifest:
        fmt.add_files(release, files)
    payload["paths"] = files
    return payload

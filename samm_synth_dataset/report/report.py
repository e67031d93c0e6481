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
import logging
import shlex
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from samm_synth_dataset import __version__, format as fmt
from samm_synth_dataset.identity import section as identity_slice
from samm_synth_dataset.metrics import flow, regions
from samm_synth_dataset.metrics.data import read_intervals, read_videos, source_root_of
from samm_synth_dataset.metrics.document import FIGURES, Document, jsonable, table_dict, write_report_files
from samm_synth_dataset.report.context import NO_SOURCE_ROOT, ReportContext, Section
from samm_synth_dataset.report.report_settings import DEFAULT_POLYORDER, DEFAULT_WINDOW, ReportSettings, smoothing_text
from samm_synth_dataset.report.sections import au_section, flow_section, motion_of, stability_section
from samm_synth_dataset.spotting import section as spotting_slice
from samm_synth_dataset.stages import Stage

log = logging.getLogger(__name__)

#: Where the report's default AU smoothing window is defined (named in the report).
DEFAULT_WINDOW_NAME = "samm_synth_dataset.report.report_settings.DEFAULT_WINDOW"

#: Display names of the ``source_dataset`` values, for the report title.
DATASET_NAMES: dict[str, str] = {"samm-lv": "SAMM-LV", "casme2": "CAS(ME)²", "casme3": "CAS(ME)³",
                                  "generic": "generic"}


def report_title(release: Path, manifest: dict[str, Any], videos: pd.DataFrame) -> str:
    """``Quality report: <name>``: the release's ``pretty_name`` (and version) when it was released, else the
    source dataset(s) and transfer method(s) from the videos table (or the manifest's config), named a demo
    corpus in that layout when the manifest has ``source_corpus``; the release folder's name only when none of
    these is known."""
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
    if manifest.get("source_corpus"):  # a demo corpus in that layout, not the dataset itself
        what = f"demo corpus ({what} layout)"
    return f"Quality report: {what} synthetic videos" + (f" ({', '.join(methods)})" if methods else "")


def identity_section(ctx: ReportContext) -> Section:
    """Is the source person still recognisable? dlib descriptors per video (``metrics.identity_report``)."""
    sec = Section("identity", "Identity: is the source person still recognisable?")
    return identity_slice.fill_section(sec, ctx, NO_SOURCE_ROOT)


def spotting_section(ctx: ReportContext) -> Section:
    """Spotting utility (real / synthetic / real+synthetic training, tested on real videos), read from
    ``quality/spotting.json`` (``spotting.section``)."""
    sec = Section("spotting", "Spotting utility: training on synthetic videos, tested on real ones")
    return spotting_slice.fill_section(sec, ctx.release, ctx.figures)


#: The report's numbered sections, in order. Append a builder here to add a section.
SECTIONS: tuple[Callable[[ReportContext], Section], ...] = (au_section, flow_section, stability_section,
                                                            identity_section, spotting_section)


def _motion_work(ctx: ReportContext) -> None:
    if ctx.source_root is not None:
        motion_of(ctx)


#: The report's per-video work, run first on EVERY rank (under torchrun the other ranks do only this): each
#: function computes a cached ``ReportContext`` property through ``ctx.stage.run(...)`` (see ``stages``), which
#: the sections then read on the main rank. Append one here for a section with per-video work.
PER_VIDEO_WORK: tuple[Callable[[ReportContext], None], ...] = (_motion_work, identity_slice.describe_videos)


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
        "default": {"constant": f"{DEFAULT_WINDOW_NAME}", "window": DEFAULT_WINDOW,
                    "polyorder": DEFAULT_POLYORDER, "description": smoothing_text(DEFAULT_WINDOW)},
        "used": {"window": window, "polyorder": polyorder, "description": used}}}
    items = [
        f"AU smoothing, report default (`{DEFAULT_WINDOW_NAME}` = {DEFAULT_WINDOW}, "
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
        out["spotting"] = table_dict("Spotting utility, tested on real videos (pooled MEGC F1, all seeds, with its "
                                     "interval over held-out subjects)",
                                     spotting_result["pooled"][["protocol", "kind", "TP", "FP", "FN", "F1", "F1_low",
                                                                "F1_high"]])
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

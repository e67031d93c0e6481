"""The spotting utility benchmark: does training on the synthetic videos help spotting on REAL videos?

Folds: leave-one-subject-out by SOURCE subject (``format.loso_splits`` on the release). Every fold is tested on the
ORIGINAL videos of its held-out subject (read from ``source_root`` and cropped with the release's per-video crop,
resized to the synthetic size), over the source frame numbers the release covers. Protocols (same seeds, epochs,
features and k for all three; settings: ``benchmark_settings``):

* ``real``: train on the original videos of the fold's training subjects;
* ``synthetic``: train on the fold's synthetic training videos only (train-on-synthetic, test-on-real);
* ``real+synthetic``: both.

Per fold and kind (ME, MaE), k is the fold's MEGC k (from its training intervals, ``Split.k``) with the ``default``
recipe, or the MEGC k over the whole release with ``softnet`` (SOFTNet's rule, so F1 compares with published
SOFTNet numbers); a kind without training intervals (k None) or without a positive pair is not trained and spots
nothing (its GT count as FN; the JSON says why). Features: the benchmark computes none of its own. It runs
``samm-synth features`` for its recipe (``export.export_features``: the synthetic videos' features into the
release's ``data/features/<recipe>/``, the ORIGINAL videos' into ``.build/features-originals/`` of the release
folder, never released), with every k of the folds, unless the release already holds them (``features_ready``),
and reads the export (``export.read_features``). Decoding: ``default`` keeps the centred rule
(``decode.spot_intervals``), ``softnet`` uses SOFTNet's (``decode.softnet_spot``: non-centred 2k window, the
[0, 0] dummy prediction). ``spotting.json`` states the recipe, the k rule and the decoding (``features``). Unlike
SOFTNet, every training video is kept, also one without an interval of the kind (its pairs are negatives). Each
(protocol, fold, seed) is a training run, a task of the benchmark's stage (``folds``; workers, torchrun ranks).

Scores (``results``): the MEGC rule (``scorer.score_spotting``, IoU >= 0.5, predictions on source video ids,
source frame numbers inclusive) per run; per seed pooled over folds; the spread over seeds; a paired bootstrap over
held-out subjects giving each protocol's F1 interval and each difference from ``real`` with its verdict
(``utility``). Output: ``quality/spotting.json`` and one prediction CSV per protocol, fold and seed,
``quality/spotting/<protocol>_<subject>_seed<N>.csv`` (``vid,onset,offset,type``), written under the stage's folder
and moved into the release with the manifest updated all at once (``Stage.commit``).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.data import OriginalFrames, read_intervals, read_videos, synthetic_frame_numbers
from samm_synth_dataset.spotting import decode, train
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings
from samm_synth_dataset.spotting.export import (FeaturesError, export_features, features_ready, kinds_k, recipe_folder,
                                                video_files)
from samm_synth_dataset.spotting.folds import RUN_JSON, TrainJob, train_task
from samm_synth_dataset.spotting.recipes import DEFAULT, Recipe, get_recipe
from samm_synth_dataset.spotting.results import run_scores, summarise
from samm_synth_dataset.stages import Stage, Task, release_digest

log = logging.getLogger(__name__)



class SpottingBenchmarkError(ValueError):
    """Bad input to the benchmark: one line naming the file or option and what to do."""


def protocol_slug(protocol: str) -> str:
    return protocol.replace("+", "_")


# --------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass
class Inputs:
    """The release's tables, one row per source video (its crop, frames, subject) and the folds."""

    release: Path
    source_root: Path
    videos: pd.DataFrame
    intervals: pd.DataFrame
    sources: pd.DataFrame  # source_video -> subject, source_dataset, row (first synthetic video of it)
    frames: dict[str, np.ndarray]  # source_video -> source frame numbers the release covers
    folds: list[fmt.Split]


def read_inputs(release: str | Path, source_root: str | Path | None) -> Inputs:
    """Check and read what the benchmark needs; bad input raises ``SpottingBenchmarkError`` (one line)."""
    release = Path(release)
    try:
        fmt.read_manifest(release)
        videos, intervals = read_videos(release), read_intervals(release)
    except (FileNotFoundError, fmt.ReleaseError) as exc:
        raise SpottingBenchmarkError(str(exc)) from None
    if intervals.empty:
        raise SpottingBenchmarkError(f"{release / fmt.INTERVALS_PATH}: the release has no intervals; spotting "
                                     "needs ground-truth ME/MaE intervals to train and score")
    if source_root is None:
        raise SpottingBenchmarkError("--source-root is required: the benchmark tests on the ORIGINAL videos; pass "
                                     "the corpus root the release was built from")
    root = Path(source_root)
    if not root.is_dir():
        raise SpottingBenchmarkError(f"--source-root {root}: no such folder; pass the corpus root the release "
                                     "was built from")
    videos = videos.sort_values("video").reset_index(drop=True)
    firsts = videos.drop_duplicates("source_video")
    frames: dict[str, np.ndarray] = {}
    for row in firsts.itertuples(index=False):
        row_d = row._asdict()
        try:
            originals = OriginalFrames(root, row_d)
        except FileNotFoundError as exc:
            raise SpottingBenchmarkError(f"--source-root {root} does not match the release: {exc}") from None
        numbers = synthetic_frame_numbers(release, str(row.video))
        missing = sorted(set(numbers.tolist()) - set(int(f) for f in originals.frame_numbers))
        if missing:
            raise SpottingBenchmarkError(
                f"--source-root {root} does not match the release: source video {row.source_video} has no frames "
                f"{missing[:5]} (of {len(missing)}) that the release's {row.video} covers; pass the corpus root "
                "the release was built from")
        frames[str(row.source_video)] = numbers
    sources = firsts.set_index("source_video")
    folds = fmt.loso_splits(videos, intervals)
    return Inputs(release, root, videos, intervals, sources, frames, folds)


# --------------------------------------------------------------------------------------------------------------
# Features: the export of ``samm-synth features`` (``export``), nothing of the benchmark's own


#: Where the benchmark keeps the ORIGINAL videos' features (inside the release folder's ``.build/``, which no
#: release includes: the sources' licences forbid redistributing them).
ORIGINALS_FEATURES = f"{fmt.BUILD_DIR}/features-originals"


def benchmark_recipe(settings: BenchmarkSettings) -> Recipe:
    """The recipe the settings ask for: ``default`` with the benchmark's flow size, input size and nose patch;
    ``softnet`` as published (those three settings do not apply)."""
    if settings.recipe == "default":
        return DEFAULT.replace(flow_size=settings.flow_size, output_size=settings.input_size,
                               nose_patch=settings.nose_patch)
    return get_recipe(settings.recipe)


def dataset_ks(inputs: Inputs, recipe: Recipe) -> dict[str, int | None]:
    """SOFTNet's k per kind: the MEGC rule over the intervals of the whole release (held-out subject included)."""
    out: dict[str, int | None] = {}
    for kind in fmt.KINDS:
        try:
            out[kind] = kinds_k(inputs.intervals, recipe, [kind], "intervals")[kind]
        except FeaturesError:
            out[kind] = None
    return out


def ensure_features(inputs: Inputs, recipe: Recipe, ks: Sequence[int], workers: int | None, progress: bool
                    ) -> None:
    """Run ``samm-synth features`` for the recipe (synthetic videos into the release, originals into
    ``ORIGINALS_FEATURES``) unless the release already holds them for these k values."""
    kinds = [k for k, v in dataset_ks(inputs, recipe).items() if v is not None]
    originals = inputs.release / ORIGINALS_FEATURES
    if not features_ready(inputs.release, recipe, kinds, ks, "proportional", originals):
        export_features(inputs.release, recipe, kinds, workers=workers, source_root=inputs.source_root,
                        originals_out=originals, extra_ks=ks, progress=progress)


def feature_files(inputs: Inputs, recipe: Recipe) -> dict[str, list[Path]]:
    """Task id (``real-<source video>``, ``synthetic-<video>``) -> its feature files, in part order."""
    originals = inputs.release / ORIGINALS_FEATURES
    folder = recipe_folder(recipe.name)
    out = {f"real-{s}": video_files(originals / folder, str(s)) for s in inputs.sources.index}
    out.update({f"synthetic-{v}": video_files(inputs.release / folder, str(v)) for v in inputs.videos["video"]})
    return out


# --------------------------------------------------------------------------------------------------------------
# Protocols, folds, seeds


def training_videos(inputs: Inputs, fold: fmt.Split, protocol: str) -> list[tuple[str, str]]:
    """The fold's training videos for ``protocol``: ``("real", source video)`` and ``("synthetic", video)``
    pairs, sorted; never one of the held-out subject."""
    synthetic = [("synthetic", v) for v in fold.train]
    sources = sorted(set(inputs.videos.set_index("video").loc[fold.train, "source_video"].astype(str)))
    real = [("real", s) for s in sources]
    chosen = {"real": real, "synthetic": synthetic, "real+synthetic": real + synthetic}[protocol]
    return sorted(chosen)


def _subject_of(inputs: Inputs, kind_video: tuple[str, str]) -> str:
    kind, video = kind_video
    if kind == "real":
        return str(inputs.sources.loc[video, "subject"])
    return str(inputs.videos.set_index("video").loc[video, "subject"])


def _source_intervals(inputs: Inputs) -> pd.DataFrame:
    iv = inputs.intervals.copy()
    iv["source_video"] = iv["source_video"].astype(str)
    return fmt.source_intervals(iv)  # one per annotated interval, as the scorer counts GT


def _ground_truth(inputs: Inputs, source_videos: Sequence[str]) -> pd.DataFrame:
    iv = _source_intervals(inputs)
    iv = iv[iv["source_video"].isin(list(source_videos))]
    return pd.DataFrame({"video": iv["source_video"], "onset": iv["onset"].astype(int),
                         "offset": iv["offset"].astype(int), "kind": iv["kind"].astype(str)})


def _test_sources(inputs: Inputs, fold: fmt.Split) -> list[str]:
    """The held-out subject's source videos in the release (also those without any interval)."""
    return sorted(set(inputs.videos.loc[inputs.videos["subject"].astype(str) == fold.test_subject,
                                        "source_video"].astype(str)))


def training_jobs(inputs: Inputs, settings: BenchmarkSettings, features: dict[str, list[Path]],
                  recipe: Recipe, whole: dict[str, int | None] | None = None) -> list[TrainJob]:
    """One job per (fold, protocol, seed), in that order; the first seed keeps the score curves. k per kind is
    the fold's (``default``) or ``whole``, the whole release's (``softnet``)."""
    iv = _source_intervals(inputs)
    intervals = {str(s): {kind: [(int(a), int(b)) for a, b in zip(g.loc[g["kind"] == kind, "onset"],
                                                                   g.loc[g["kind"] == kind, "offset"])]
                          for kind in fmt.KINDS} for s, g in iv.groupby("source_video")}
    source_of = {**dict(zip(inputs.videos["video"].astype(str), inputs.videos["source_video"].astype(str))),
                 **{str(s): str(s) for s in inputs.sources.index}}
    jobs = []
    for fold in inputs.folds:
        for protocol in settings.protocols:
            for seed in settings.seed_list:
                jobs.append(TrainJob(protocol, fold.test_subject, seed, dict(whole if whole else fold.k),
                                     tuple(training_videos(inputs, fold, protocol)),
                                     tuple(_test_sources(inputs, fold)), source_of, inputs.frames, intervals,
                                     features, settings, seed == settings.seed, recipe.shape))
    return jobs


def run_benchmark(release: str | Path, source_root: str | Path | None, settings: BenchmarkSettings | None = None,
                  progress: bool = True, update_manifest: bool = True, workers: int | None = None,
                  recipe: Recipe | None = None) -> dict[str, Any]:
    """Run every protocol with every seed over every LOSO fold; write ``quality/spotting.json`` and the prediction
    CSVs and return the JSON document. Everything runs as the stage ``spotting`` (``stages``): the features, one
    task per video, then the training runs, one task per (protocol, fold, seed) (``workers`` processes; under
    torchrun every rank does its share; only the main rank scores and returns the document, the others ``{}``).
    The main rank's files are moved into the release all at once (the manifest updated unless
    ``update_manifest`` is False; the prediction folder then holds exactly this run's CSVs). From the start of the
    run to that commit the manifest marks the stage as pending, so a run that fails or is killed leaves a release
    that ``verify`` rejects, naming the command; re-running it reuses the finished tasks and completes it. The
    document is the same bytes for any number of workers and ranks. ``recipe``: a recipe object of the settings'
    recipe name to use instead of ``benchmark_recipe(settings)`` (e.g. cheaper flow in tests)."""
    settings = settings or BenchmarkSettings()
    train.resolve_device(settings.device)
    inputs = read_inputs(release, source_root)
    release = inputs.release
    recipe = recipe or benchmark_recipe(settings)
    if recipe.name != settings.recipe:
        raise SpottingBenchmarkError(f"recipe {recipe.name!r} given for settings.recipe {settings.recipe!r}")
    whole = dataset_ks(inputs, recipe) if settings.recipe == "softnet" else None
    ks = sorted({k for k in (whole.values() if whole else [k for f in inputs.folds for k in f.k.values()])
                 if k is not None})
    if ks:
        ensure_features(inputs, recipe, ks, workers, progress)
    rerun = f"samm-synth spotting-benchmark {release} --source-root {inputs.source_root} --settings <the same>"
    with Stage(release, "spotting", rerun=rerun, workers=workers, progress=progress) as stage:
        if update_manifest and stage.is_main:  # from now on until the commit, verify rejects the release
            fmt.begin_stage(release, "spotting", rerun)
        features = feature_files(inputs, recipe) if ks else {}
        jobs = training_jobs(inputs, settings, features, recipe, whole)
        tasks = [Task(job.task_id, 1, job) for job in jobs]
        run_settings = {"release": release_digest(fmt.read_manifest(release)), "settings": settings.as_dict(),
                        "features": {name: [p.name for p in paths] for name, paths in features.items()},
                        "source_root": str(inputs.source_root.resolve())}
        done = stage.run("train", tasks, train_task, run_settings, unit="run")
        if not stage.is_main:
            return {}
        out = stage.root / "out"
        shutil.rmtree(out, ignore_errors=True)
        doc, files = _score(inputs, settings, jobs, done, out, recipe, whole)
        fmt.atomic_write_json(out / fmt.SPOTTING_JSON, doc)
        files.append(fmt.SPOTTING_JSON)
        stage.commit({name: out / name for name in sorted(files)}, replace_folder=fmt.SPOTTING_PREDICTIONS_DIR,
                     update_manifest=update_manifest)
    return doc


def _score(inputs: Inputs, settings: BenchmarkSettings, jobs: list[TrainJob], done: dict[str, Path], out: Path,
           recipe: Recipe, whole: dict[str, int | None] | None) -> tuple[dict[str, Any], list[str]]:
    """Every run's predictions as CSV (under ``out``, release paths) and scores; the JSON document."""
    runs = {job.task_id: json.loads((done[job.task_id] / RUN_JSON).read_text()) for job in jobs}
    folds_out: list[dict[str, Any]] = []
    timelines: list[dict[str, Any]] = []
    files: list[str] = []
    for fold in inputs.folds:
        test_sources = _test_sources(inputs, fold)
        gt = _ground_truth(inputs, test_sources)
        fold_out: dict[str, Any] = {"test_subject": fold.test_subject, "test_videos": test_sources,
                                    "k": dict(fold.k), "protocols": {}}
        curves: dict[str, dict[str, Any]] = {}
        first: dict[str, list[list[Any]]] = {}
        for protocol in settings.protocols:
            mine = [j for j in jobs if j.test_subject == fold.test_subject and j.protocol == protocol]
            train_videos = list(mine[0].train_videos)
            entry: dict[str, Any] = {"train_videos": [f"{a}:{b}" for a, b in train_videos],
                                     "train_subjects": sorted({_subject_of(inputs, v) for v in train_videos}),
                                     "seeds": {}}
            for job in mine:
                run = runs[job.task_id]
                name = (f"{fmt.SPOTTING_PREDICTIONS_DIR}/{protocol_slug(protocol)}_{fold.test_subject}"
                        f"_seed{job.seed}.csv")
                decode.write_submission(out / name, [tuple(r) for r in run["rows"]])
                files.append(name)
                entry["seeds"][str(job.seed)] = {"kinds": run["kinds"], "predictions": name,
                                                 "scores": run_scores(run["rows"], gt, test_sources,
                                                                      settings.test_videos)}
                if job.keep_curves:
                    first[protocol] = run["rows"]
                    for video, c in run["curves"].items():
                        curves.setdefault(video, {})[protocol] = c
            fold_out["protocols"][protocol] = entry
        for source, by_protocol in curves.items():
            g = gt[gt["video"] == source]
            timelines.append({"video": source, "test_subject": fold.test_subject, "seed": settings.seed,
                              "ground_truth": [[int(a), int(b), str(c)] for a, b, c in
                                               zip(g["onset"], g["offset"], g["kind"])],
                              "predicted": {p: [[r[1], r[2], r[3]] for r in first.get(p, []) if r[0] == source]
                                            for p in settings.protocols},
                              "curves": by_protocol})
        folds_out.append(fold_out)
    summary = summarise(folds_out, settings.protocols, settings.seed_list, settings.bootstrap,
                        settings.bootstrap_seed, settings.level)
    doc = {
        "version": "2",
        "method": f"SOFTNet-style baseline ({'Farneback' if recipe.flow == 'farneback' else 'TV-L1'} flow of pairs "
                  "(i, i + k), pseudo-labels, shallow three-stream "
                  "CNN, moving-mean smoothing and peak picking); LOSO by source subject; tested on the original "
                  "videos of the held-out subject, cropped with the release's per-video crop; MEGC rule "
                  "(IoU >= 0.5); each protocol trained once per seed; intervals from a paired bootstrap over "
                  "held-out subjects",
        "protocols": list(settings.protocols), "seeds": settings.seed_list, "test_videos": settings.test_videos,
        "settings": settings.as_dict(), "features": feature_choices(recipe, whole), **summary, "folds": folds_out,
        "timelines": timelines,
    }
    return doc, files


def feature_choices(recipe: Recipe, whole: dict[str, int | None] | None) -> dict[str, Any]:
    """What ``spotting.json`` states about the features and the decoding."""
    if whole:
        return {"recipe": recipe.as_dict(), "export": recipe_folder(recipe.name),
                "k": "the MEGC rule over the intervals of the whole release (SOFTNet's; the held-out subject "
                     "included)", "k_per_kind": whole,
                "decoding": "SOFTNet's: agg[j] = mean(s[j : j + 2k]) (non-centred 2k window), threshold mean + "
                            "p·(max − mean), find_peaks(distance=k), interval [j, j + 2k] in frames (about k/2 "
                            "early on ideal curves); a video with no peak gets the dummy prediction [0, 0] of the "
                            "cut index (one extra false positive)"}
    return {"recipe": recipe.as_dict(), "export": recipe_folder(recipe.name),
            "k": "each fold's MEGC k from its training intervals (no leak of the held-out subject)",
            "decoding": "centred: pair i's score at frame i + k // 2, moving mean over 2k + 1 frames, threshold "
                        "mean + p·(max − mean), find_peaks(distance=k), interval [peak − k, peak + k]"}


def format_table(doc: dict[str, Any]) -> str:
    """The pooled scores (all seeds) of ``run_benchmark``'s document as a text table, with each protocol's F1
    interval and each difference's verdict."""
    boot = doc["bootstrap"]
    lines = [f"{'protocol':<16}{'kind':<9}{'TP':>6}{'FP':>6}{'FN':>6}{'F1':>7}  {'95% interval':<16}"
             f"{'seeds mean±sd':<16}"]
    for protocol in doc["protocols"]:
        for kind in (*fmt.KINDS, "overall"):
            s, e, sp = doc["pooled"][protocol][kind], boot["f1"][kind][protocol], doc["spread"][protocol][kind]
            interval = "–" if e["low"] is None else f"[{e['low']:.3f}, {e['high']:.3f}]"
            seeds = "–" if sp["mean"] is None else f"{sp['mean']:.3f}±{sp['sd'] or 0:.3f}"
            lines.append(f"{protocol:<16}{kind:<9}{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}{s['f1']:>7.3f}  "
                         f"{interval:<16}{seeds:<16}")
    lines.append(f"differences from {boot['baseline']} ({doc['n_subjects']} held-out subjects, "
                 f"{boot['resamples']} resamples, seeds {', '.join(str(s) for s in doc['seeds'])}):")
    for kind in (*fmt.KINDS, "overall"):
        for name, d in boot["differences"][kind].items():
            interval = "–" if d["low"] is None else f"[{d['low']:+.3f}, {d['high']:+.3f}]"
            value = "–" if d["value"] is None else f"{d['value']:+.3f}"
            lines.append(f"  {kind:<8}{name:<28}{value:>8}  {interval:<18}{boot['verdicts'][kind][name]}")
    return "\n".join(lines)

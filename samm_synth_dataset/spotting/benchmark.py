"""The spotting utility benchmark: does training on the synthetic videos help spotting on REAL videos?

Folds: leave-one-subject-out by SOURCE subject (``format.loso_splits`` on the release). Every fold is tested on the
ORIGINAL videos of its held-out subject (read from ``source_root`` and cropped with the release's per-video crop,
resized to the synthetic size), over the source frame numbers the release covers. Protocols (same seed, epochs,
features and k for all three):

* ``real``: train on the original videos of the fold's training subjects;
* ``synthetic``: train on the fold's synthetic training videos only (train-on-synthetic, test-on-real);
* ``real+synthetic``: both.

Per fold and kind (ME, MaE), k is the fold's MEGC k (from its training intervals, ``Split.k``); a kind without
training intervals (k None) or without a positive pair is not trained and spots nothing (its GT count as FN; the
JSON says why). Synthetic frames are read through the loaders (``ClipDataset``, in order); features
(``features.pair_feature``), pseudo-labels, training and decoding are the ``spotting`` modules'. Unlike SOFTNet,
every training video is kept, also one without an interval of the kind (its pairs are negatives). Features are
one task per video of the benchmark's stage (``stages``; part ``features``: workers, torchrun ranks): a video's
frames are read once for all the k values of the folds, each k saved as ``k<k>.npz`` in the task's folder (with
``features.feature_key`` of what they depend on); training reads them from there, for every protocol and
fold, and a re-run with the same release and settings reuses the finished tasks.

Scores: the MEGC rule (``metrics.spotting.score_spotting``, IoU >= 0.5, predictions on source video ids, source
frame numbers inclusive), per fold and pooled over folds. Output: ``quality/spotting.json`` and one prediction CSV
per protocol and fold, ``quality/spotting/<protocol>_<subject>.csv`` (``vid,onset,offset,type``), written under
the stage's folder and moved into the release with the manifest updated all at once (``Stage.commit``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.data import (OriginalFrames, crop_of, read_intervals, read_videos,
                                             synthetic_frame_numbers)
from samm_synth_dataset.spotting.scorer import score_spotting
from samm_synth_dataset.spotting import decode, train
from samm_synth_dataset.spotting.features import (FeatureParams, feature_key, flow_features_by_k,
                                                  load_features, save_features)
from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels
from samm_synth_dataset.stages import Stage, Task, TaskDirs, release_digest

log = logging.getLogger(__name__)

PROTOCOLS: tuple[str, ...] = ("real", "synthetic", "real+synthetic")
KINDS = fmt.KINDS
SPOTTING_JSON = fmt.SPOTTING_JSON
PREDICTIONS_DIR = fmt.SPOTTING_PREDICTIONS_DIR
#: Test videos per fold whose score curves are kept in the JSON (for the report's timeline figure).
TIMELINE_VIDEOS_PER_FOLD = 1
#: At most this many points of a kept curve (every n-th frame beyond it).
TIMELINE_POINTS = 1000


class SpottingBenchmarkError(ValueError):
    """Bad input to the benchmark: one line naming the file or option and what to do."""


@dataclass(frozen=True)
class BenchmarkSettings:
    """``epochs``, ``seed``, ``lr`` (SGD), ``batch_size``, ``p`` (threshold fraction), ``device`` (cpu, cuda,
    auto) and the feature parameters; the same for every protocol. Defaults: SOFTNet's recipe."""

    epochs: int = train.EPOCHS
    batch_size: int = train.BATCH_SIZE
    seed: int = 0
    lr: float = train.LEARNING_RATE
    p: float = decode.P
    device: str = "cpu"
    params: FeatureParams = FeatureParams()

    def as_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "seed": self.seed, "lr": self.lr, "p": self.p,
                "batch_size": self.batch_size, "features": self.params.as_dict()}


#: The demo's settings (small and fast; not SOFTNet's recipe): flow at 64 px, 24×24 inputs, batch 48, lr 0.005,
#: 3 epochs.
DEMO_SETTINGS = BenchmarkSettings(epochs=3, lr=0.005, batch_size=48,
                                  params=FeatureParams(flow_size=64, input_size=24, nose_patch=7))


def parse_protocols(text: str | Sequence[str]) -> list[str]:
    """``"real,synthetic"`` or a list → the protocols in ``PROTOCOLS`` order; an unknown one is an error."""
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown or not names:
        raise SpottingBenchmarkError(f"unknown protocol(s) {unknown or names}: choose from {', '.join(PROTOCOLS)} "
                                     "(comma-separated)")
    return [p for p in PROTOCOLS if p in names]


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
# Features


def _crop_payload(row: Any) -> dict[str, Any]:
    crop = crop_of(row)
    return {"box": crop.as_dict(), "matrix": crop.matrix_list(), "size": [int(row["width"]), int(row["height"])]}


class Features:
    """The flow features of every (``real`` source video | ``synthetic`` video, k) from their stage tasks' folders
    (``done``: task id -> folder), loaded on first use and kept in memory for the run."""

    def __init__(self, done: dict[str, Path]) -> None:
        self.done = done
        self._memory: dict[tuple[str, str, int], np.ndarray] = {}

    def get(self, kind: str, video: str, k: int) -> np.ndarray:
        if (kind, video, k) not in self._memory:
            self._memory[(kind, video, k)] = load_features(self.done[f"{kind}-{video}"] / f"k{k}.npz")
        return self._memory[(kind, video, k)]


def _feature_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: one video's flow features for every k of the run (those shorter than the video), one
    pass over its frames, each k into ``k<k>.npz`` with the key of what it depends on."""
    release, source_root, kind, video, row, numbers, ks, params = task.args
    if kind == "real":
        wanted = set(numbers.tolist())
        frames = (img for f, img in OriginalFrames(source_root, row).iter() if f in wanted)
        pixels, crop = f"original:{row['source_dataset']}/{video}", _crop_payload(row)
    else:
        manifest = fmt.read_manifest(release)
        frames = synthetic_frames(release, video)
        pixels, crop = f"synthetic:{video}", {"parts": sorted(
            (f["path"], f["sha256"]) for f in manifest["files"] if f["path"].startswith(f"{fmt.FRAMES_DIR}/{video}-"))}
    ks = [k for k in ks if k < len(numbers)]
    for k, features in flow_features_by_k(frames, ks, params, None, video).items():
        save_features(dirs.out / f"k{k}.npz", features, feature_key(pixels, numbers, crop, k, params))


def extract_features(inputs: Inputs, params: FeatureParams, ks: Sequence[int], stage: Stage) -> Features:
    """Every video's features (originals and synthetic videos, all k of the folds) as tasks of ``stage`` (its
    workers; under torchrun each rank its share; every rank gets all the task folders)."""
    ks = sorted(set(int(k) for k in ks))
    synthetic_source = dict(zip(inputs.videos["video"].astype(str), inputs.videos["source_video"].astype(str)))
    jobs = [("real", str(v), str(v)) for v in sorted(inputs.sources.index)]
    jobs += [("synthetic", v, synthetic_source[v]) for v in sorted(synthetic_source)]
    tasks = []
    for kind, video, source in jobs:
        numbers = inputs.frames[source]
        if len(numbers) <= min(ks):
            continue
        row = {"source_video": source, **inputs.sources.loc[source].to_dict()}
        tasks.append(Task(f"{kind}-{video}", len(numbers), (inputs.release, inputs.source_root, kind, video, row,
                                                            numbers, ks, params)))
    settings = {"release": release_digest(fmt.read_manifest(inputs.release)), "ks": ks,
                "params": params.as_dict(), "source_root": str(inputs.source_root.resolve())}
    return Features(stage.run("features", tasks, _feature_task, settings))


def synthetic_frames(release: Path, video: str) -> Any:
    """The frames of a synthetic video in order (H×W×C or H×W uint8), read by ``ClipDataset(clip_len=1)``."""
    from samm_synth_dataset.loaders.clips import ClipDataset

    ds = ClipDataset(release, clip_len=1, stride=1, shuffle=False, videos=[video], rank=0, world_size=1,
                     chunk_frames=256)
    for n, sample in enumerate(ds):
        if int(sample["index"][0]) != n:
            raise RuntimeError(f"{video}: ClipDataset yielded frame {int(sample['index'][0])} at position {n}")
        yield np.ascontiguousarray(sample["frames"][0].numpy().transpose(1, 2, 0).squeeze())


# --------------------------------------------------------------------------------------------------------------
# Protocol, folds


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


def _thin(values: np.ndarray) -> list[float]:
    step = max(1, -(-len(values) // TIMELINE_POINTS))
    return [round(float(x), 5) for x in values[::step]]


def run_benchmark(release: str | Path, source_root: str | Path | None,
                  protocols: Sequence[str] | str = PROTOCOLS, settings: BenchmarkSettings | None = None,
                  progress: bool = True, update_manifest: bool = True, workers: int | None = None) -> dict[str, Any]:
    """Run the protocols over every LOSO fold; write ``quality/spotting.json`` and the prediction CSVs and return
    the JSON document. Everything runs as the stage ``spotting`` (``stages``): the features first, one video per
    task (``workers`` processes; under torchrun every rank does its share and only the main rank trains, returning
    the document; the others return ``{}``), then training and scoring on the main rank, whose files are moved
    into the release all at once (the manifest updated unless ``update_manifest`` is False; the prediction folder
    then holds exactly this run's CSVs). A run that fails or is killed before that leaves the release as it was;
    re-running it reuses the finished feature tasks."""
    settings = settings or BenchmarkSettings()
    chosen = parse_protocols(protocols)
    train.resolve_device(settings.device)
    inputs = read_inputs(release, source_root)
    release = inputs.release
    ks = [k for fold in inputs.folds for k in fold.k.values() if k is not None]
    rerun = f"samm-synth spotting-benchmark {release} --source-root {inputs.source_root}"
    with Stage(release, "spotting", rerun=rerun, workers=workers, progress=progress) as stage:
        features = extract_features(inputs, settings.params, ks, stage) if ks else Features({})
        if not stage.is_main:
            return {}
        out = stage.root / "out"
        shutil.rmtree(out, ignore_errors=True)
        doc, files = _train_and_score(inputs, chosen, settings, features, out, progress)
        fmt.atomic_write_json(out / SPOTTING_JSON, doc)
        files.append(SPOTTING_JSON)
        stage.commit({name: out / name for name in sorted(files)}, replace_folder=PREDICTIONS_DIR,
                     update_manifest=update_manifest)
    return doc


def _train_and_score(inputs: Inputs, chosen: list[str], settings: BenchmarkSettings, features: Features,
                     out: Path, progress: bool) -> tuple[dict[str, Any], list[str]]:
    """Train and score every protocol on every fold (main rank); the prediction CSVs go under ``out`` (release
    paths); return the JSON document and the CSVs' release paths."""
    source_iv = _source_intervals(inputs)
    per_source = {s: g for s, g in source_iv.groupby("source_video")}
    synthetic_source = dict(zip(inputs.videos["video"].astype(str), inputs.videos["source_video"].astype(str)))

    def intervals_of(source_video: str, kind: str) -> list[tuple[int, int]]:
        g = per_source.get(source_video)
        if g is None:
            return []
        g = g[g["kind"] == kind]
        return [(int(a), int(b)) for a, b in zip(g["onset"], g["offset"])]

    def item(kind_video: tuple[str, str], k: int) -> tuple[np.ndarray, np.ndarray] | None:
        kind_, video = kind_video
        source = video if kind_ == "real" else synthetic_source[video]
        numbers = inputs.frames[source]
        if len(numbers) <= k:
            return None
        feats = features.get(kind_, video, k)
        return feats, pseudo_labels(numbers, intervals_of(source, kind), k, video=video)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(inputs.folds), desc="spotting folds", unit="fold")
    folds_out: list[dict[str, Any]] = []
    predictions: dict[str, list[tuple[str, int, int, str]]] = {p: [] for p in chosen}
    timelines: list[dict[str, Any]] = []
    files: list[str] = []
    for fold in inputs.folds:
        test_sources = sorted(set(inputs.videos.loc[inputs.videos["subject"].astype(str) == fold.test_subject,
                                                    "source_video"].astype(str)))
        gt = _ground_truth(inputs, test_sources)
        fold_out: dict[str, Any] = {"test_subject": fold.test_subject, "test_videos": test_sources,
                                    "k": dict(fold.k), "protocols": {}}
        curves: dict[str, dict[str, dict[str, list[float]]]] = {}
        for protocol in chosen:
            train_videos = training_videos(inputs, fold, protocol)
            subjects = sorted({_subject_of(inputs, v) for v in train_videos})
            rows: list[tuple[str, int, int, str]] = []
            per_kind: dict[str, Any] = {}
            for kind in KINDS:
                k = fold.k.get(kind)
                info: dict[str, Any] = {"k": k, "trained": False, "n_train_intervals": 0, "n_positive_pairs": 0,
                                        "n_train_pairs": 0}
                if k is None:
                    info["reason"] = f"no {kind} interval in the fold's training videos (k undefined)"
                    per_kind[kind] = info
                    continue
                items = []
                for v in train_videos:
                    it = item(v, k)
                    if it is not None:
                        items.append(it)
                    source = v[1] if v[0] == "real" else synthetic_source[v[1]]
                    info["n_train_intervals"] += len(intervals_of(source, kind))
                info["n_train_pairs"] = int(sum(len(y) for _, y in items))
                info["n_positive_pairs"] = int(sum(int((y > 0).sum()) for _, y in items))
                if info["n_positive_pairs"] == 0:
                    info["reason"] = f"no positive {kind} pair in the training videos"
                    per_kind[kind] = info
                    continue
                model = train.fit_fold(items, kind, epochs=settings.epochs, seed=settings.seed,
                                       device=settings.device, lr=settings.lr, batch_size=settings.batch_size)
                info["trained"] = True
                for source in test_sources:
                    numbers = inputs.frames[source]
                    if len(numbers) <= k:
                        continue
                    scores = train.predict_scores(model, features.get("real", source, k), settings.device)
                    curve = decode.frame_scores(scores, k)
                    for onset, offset in decode.spot_intervals(curve, k, numbers, settings.p, video=source):
                        rows.append((source, onset, offset, kind))
                    if source in test_sources[:TIMELINE_VIDEOS_PER_FOLD]:
                        step = max(1, -(-len(numbers) // TIMELINE_POINTS))
                        c = curves.setdefault(source, {}).setdefault(protocol, {})
                        c[kind] = _thin(decode.smooth_scores(curve, k))
                        c.setdefault("frames", [int(f) for f in numbers[::step]])
                        c[f"threshold_{kind}"] = round(decode.threshold(decode.smooth_scores(curve, k),
                                                                        settings.p), 5)
                per_kind[kind] = info
            rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
            predictions[protocol].extend(rows)
            name = f"{PREDICTIONS_DIR}/{protocol_slug(protocol)}_{fold.test_subject}.csv"
            decode.write_submission(out / name, rows)
            files.append(name)
            pred = pd.DataFrame(rows, columns=["video", "onset", "offset", "kind"])
            fold_out["protocols"][protocol] = {
                "train_videos": [f"{a}:{b}" for a, b in train_videos], "train_subjects": subjects,
                "kinds": per_kind, "predictions": name, "scores": score_spotting(pred, gt)}
        for source, by_protocol in curves.items():
            g = gt[gt["video"] == source]
            timelines.append({"video": source, "test_subject": fold.test_subject,
                              "ground_truth": [[int(a), int(b), str(c)] for a, b, c in
                                               zip(g["onset"], g["offset"], g["kind"])],
                              "predicted": {p: [[r[1], r[2], r[3]] for r in predictions[p] if r[0] == source]
                                            for p in chosen},
                              "curves": by_protocol})
        folds_out.append(fold_out)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    all_gt = _ground_truth(inputs, sorted(inputs.frames))
    pooled = {p: score_spotting(pd.DataFrame(predictions[p], columns=["video", "onset", "offset", "kind"]), all_gt)
              for p in chosen}
    doc = {
        "version": "1",
        "method": "SOFTNet-style baseline (Farneback flow of pairs (i, i + k), pseudo-labels, shallow three-stream "
                  "CNN, moving-mean smoothing and peak picking); LOSO by source subject; tested on the original "
                  "videos of the held-out subject, cropped with the release's per-video crop; MEGC rule "
                  "(IoU >= 0.5), pooled over folds",
        "protocols": chosen, "settings": settings.as_dict(),
        "pooled": pooled, "folds": folds_out, "timelines": timelines,
    }
    return doc, files


def format_table(doc: dict[str, Any]) -> str:
    """The pooled scores of ``run_benchmark``'s document as a text table (one row per protocol and kind)."""
    lines = [f"{'protocol':<16}{'kind':<9}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}{'F1':>7}"]
    for protocol in doc["protocols"]:
        for kind in (*KINDS, "overall"):
            s = doc["pooled"][protocol][kind]
            lines.append(f"{protocol:<16}{kind:<9}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{s['precision']:>11.3f}"
                         f"{s['recall']:>8.3f}{s['f1']:>7.3f}")
    return "\n".join(lines)

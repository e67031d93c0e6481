"""One training run of the spotting benchmark: a protocol, a LOSO fold and a seed — a task of the benchmark's stage
(``stages``), so the runs spread over worker processes and torchrun ranks.

Per kind (ME, MaE) with the fold's MEGC k: the training videos' features of pairs (i, i + k) and their
pseudo-labels train the SOFTNet-style network (``train.fit_fold``, one torch thread, so the result does not depend
on the worker count), which then scores the held-out subject's ORIGINAL videos; the smoothed score gives intervals
(``decode.spot_intervals``; SOURCE frame numbers, inclusive). A kind without a k (no training interval) or without a
positive pair is not trained and spots nothing (the result says why). The task writes ``run.json``: the
predictions, per kind what was trained on, and (for the fold's first test video, when asked) the score curves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samm_synth_dataset import format as fmt
from samm_synth_dataset.spotting import decode, train
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings
from samm_synth_dataset.spotting.export import read_features
from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels
from samm_synth_dataset.stages import Task, TaskDirs

#: At most this many points of a kept curve (every n-th frame beyond it).
TIMELINE_POINTS = 1000
RUN_JSON = "run.json"


@dataclass(frozen=True)
class TrainJob:
    """What one run needs (picklable): the protocol, the held-out subject, the seed, the fold's k per kind, the
    training videos (``("real", source video)`` / ``("synthetic", video)``), the held-out subject's source videos,
    each video's source video, SOURCE frame numbers and intervals per kind, each video's exported feature files
    (``features[f"{real|synthetic}-{video}"]``, ``samm-synth features``), the settings, whether to keep curves and
    the recipe's array shape (streams × H × W × 3)."""

    protocol: str
    test_subject: str
    seed: int
    k: dict[str, int | None]
    train_videos: tuple[tuple[str, str], ...]
    test_sources: tuple[str, ...]
    source_of: dict[str, str]
    frames: dict[str, np.ndarray]
    intervals: dict[str, dict[str, list[tuple[int, int]]]]
    features: dict[str, list[Path]]
    settings: BenchmarkSettings
    keep_curves: bool
    shape: tuple[int, ...] = ()

    @property
    def task_id(self) -> str:
        return f"{self.protocol.replace('+', '_')}-{self.test_subject}-seed{self.seed}"


def _thin(values: np.ndarray) -> list[float]:
    step = max(1, -(-len(values) // TIMELINE_POINTS))
    return [round(float(x), 5) for x in values[::step]]


def run_fold(job: TrainJob) -> dict:
    """Train ``job`` and score its test videos: ``{"kinds": {kind: info}, "rows": [[video, onset, offset, kind]],
    "curves": {video: {kind: curve, "frames": [...], "threshold_<kind>": t}}}``."""
    settings = job.settings
    memory: dict[tuple[str, str, int], np.ndarray] = {}

    def features(kind: str, video: str, k: int) -> np.ndarray:
        if (kind, video, k) not in memory:
            x = read_features(job.features[f"{kind}-{video}"], k, job.shape, video)
            memory[(kind, video, k)] = x[:, 0] if x.shape[1] == 1 else x  # one stream: M × H × W × 3
        return memory[(kind, video, k)]

    rows: list[list] = []
    kinds: dict[str, dict] = {}
    curves: dict[str, dict] = {}
    for kind in fmt.KINDS:
        k = job.k.get(kind)
        info: dict = {"k": k, "trained": False, "n_train_intervals": 0, "n_positive_pairs": 0, "n_train_pairs": 0}
        kinds[kind] = info
        if k is None:
            info["reason"] = f"no {kind} interval in the fold's training videos (k undefined)"
            continue
        items = []
        for origin, video in job.train_videos:
            source = job.source_of[video]
            info["n_train_intervals"] += len(job.intervals.get(source, {}).get(kind, []))
            numbers = job.frames[source]
            if len(numbers) > k:
                labels = pseudo_labels(numbers, job.intervals.get(source, {}).get(kind, []), k, video=video)
                items.append((features(origin, video, k), labels))
        info["n_train_pairs"] = int(sum(len(y) for _, y in items))
        info["n_positive_pairs"] = int(sum(int((y > 0).sum()) for _, y in items))
        if info["n_positive_pairs"] == 0:
            info["reason"] = f"no positive {kind} pair in the training videos"
            continue
        model = train.fit_fold(items, kind, epochs=settings.epochs, seed=job.seed, device=settings.device,
                               lr=settings.lr, batch_size=settings.batch_size)
        info["trained"] = True
        for n, source in enumerate(job.test_sources):
            numbers = job.frames[source]
            if len(numbers) <= k:
                continue
            scores = train.predict_scores(model, features("real", source, k), settings.device)
            if settings.recipe == "softnet":  # SOFTNet's decoding: non-centred 2k window, dummy [0, 0]
                found = decode.softnet_spot(scores, k, numbers, settings.p, video=source)
                smooth = decode.softnet_curve(scores, k)
                at = numbers[:len(smooth)]
            else:
                curve = decode.frame_scores(scores, k)
                found = decode.spot_intervals(curve, k, numbers, settings.p, video=source)
                smooth, at = decode.smooth_scores(curve, k), numbers
            rows.extend([source, onset, offset, kind] for onset, offset in found)
            if job.keep_curves and n == 0 and len(smooth):
                c = curves.setdefault(source, {})
                c[kind] = _thin(smooth)
                c.setdefault("frames", [int(f) for f in at[::max(1, -(-len(at) // TIMELINE_POINTS))]])
                c[f"threshold_{kind}"] = round(decode.threshold(smooth, settings.p), 5)
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return {"kinds": kinds, "rows": [[str(v), int(a), int(b), str(c)] for v, a, b, c in rows], "curves": curves}


def train_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: one (protocol, fold, seed) run into ``run.json``."""
    (dirs.out / RUN_JSON).write_text(json.dumps(run_fold(task.args), sort_keys=True))

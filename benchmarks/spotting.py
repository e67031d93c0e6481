"""Benchmark the spotting benchmark's training runs and project its cost for SAMM-LV.

    python benchmarks/spotting.py [--quick] [--seeds 3] [--epochs 10] [--cores 64] [--subjects 30]

What is measured, and how:

1. Training samples per second, per kind: ``train.fit_fold`` (one torch thread, batch 12) timed on random
   42×42×3 features whose labels have the kind's positive share in the table below. The samples counted are the
   ones it trains: epochs × the rows ``train.training_samples`` selects (every positive, for ME three augmented
   copies more, and half the larger class of negatives). Prediction pairs per second (``train.predict_scores``)
   likewise.
2. The training set of every run, from an interval table (subject, video, kind, onset, offset) and the frame
   count of every video: the LOSO folds and each fold's k per kind come from ``format.loso_splits`` (the MEGC k,
   floor((mean(offset − onset) + 1) / 2) over the fold's TRAINING intervals, as the benchmark uses), the labels
   from ``pseudo_labels`` (pair (i, i + k) positive when it overlaps an interval), the videos as ``folds.run_fold``
   takes them (every training-subject video longer than k, also one without an interval of the kind), and the
   samples per epoch from ``training_samples`` on those labels. The positive share per kind over all videos is
   printed with the dataset-level k (all intervals). real+synthetic trains on twice the videos (one synthetic video
   per original, with the original's frame numbers and intervals); synthetic on as many as real.
   For SAMM-LV the table is synthesised deterministically from its published statistics
   (``/work/shared/specs/source_datasets.md``): 147 videos, 30 annotated subjects (``--subjects``), 343 MaE and
   159 ME, ≈ 1.0 M frames; ME durations (offset − onset + 1) 30–101 frames, mean 74.3; MaE 102–5176 frames,
   median 223, mean offset − onset 348 (what SoftNet's published k = 174 implies); every video has at least one
   interval. Intervals are placed at random in the videos (seeded), so some overlap, as in the sheet.
3. The speed-up of 2 workers over 1: the same small set of (protocol, fold, seed)-like training tasks (each fits
   ME and MaE on random features, as a run does) through ``stages.Stage.run`` with workers=1 (in this process,
   pinned to one core) and workers=2, alternating which goes first, best of ``--repeats``: the wall time (with
   starting the workers: spawn, importing torch, a first tiny fit, done by the stage's per-process context) and
   the span from the first task's start to the last one's end (without it; each task notes its clock). Beside it
   the machine's ceiling now (2 plain CPU-bound processes at once vs 1 alone, ``benchmarks/stages.py``).
4. The projection per protocol: folds × seeds × epochs × Σ_kind samples per epoch / samples/s (+ prediction of
   the held-out videos), on one core, and on ``--cores`` cores at efficiency min(1, speed-up / 2), the speed-up
   without the workers' start (a run lasts hours, the start seconds); also the makespan when each run takes one
   core (longest first), and the feature memory one run holds (``run_fold`` keeps every training video's features
   of both kinds in memory).

Numbers depend on the machine and its load (the CPUs may be shared): rates and ratios of one run are what to
compare.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("ME", "MaE")
PROTOCOLS = ("real", "synthetic", "real+synthetic")


@dataclass(frozen=True)
class CorpusStats:
    """Published statistics of a long-video corpus (defaults: SAMM-LV, see the module docstring)."""

    videos: int = 147
    subjects: int = 30
    frames: int = 1_000_000
    n_me: int = 159
    n_mae: int = 343
    me_span: tuple[int, int] = (30, 101)      # offset − onset + 1, frames
    me_mean: float = 74.3
    mae_span: tuple[int, int] = (102, 5176)
    mae_median: float = 223.0
    mae_mean: float = 349.0                   # mean(offset − onset) + 1 = 348 + 1 (SoftNet's k = 174)


# --------------------------------------------------------------------------------------------------------------
# The interval table


def _durations(rng: np.random.Generator, n: int, span: tuple[int, int], mean: float, median: float | None
               ) -> np.ndarray:
    """``n`` integer durations in ``span`` with the given mean: normal around it, or, given a median, the minimum
    plus a lognormal excess (right-skewed); the excess is rescaled a few times to hit the mean after clipping."""
    lo, hi = span
    if median is None:
        excess = rng.normal(mean - lo, (hi - lo) / 5, n)
    else:
        sigma = math.sqrt(2 * math.log((mean - lo) / (median - lo)))
        excess = rng.lognormal(math.log(median - lo), sigma, n)
    for _ in range(5):
        excess = np.clip(excess, 0, hi - lo)
        excess *= (mean - lo) / excess.mean()
    return np.clip(np.rint(lo + excess), lo, hi).astype(np.int64)


def synthetic_corpus(stats: CorpusStats, seed: int = 0) -> tuple[pd.DataFrame, dict[str, int]]:
    """A deterministic table shaped like ``stats``: (intervals with subject, video, kind, onset, offset; frame
    count per video). Videos are dealt to the subjects in turn; frame counts spread ±60 % around the mean and
    scaled to the total; every video gets one MaE, the other intervals go to videos drawn with skewed subject
    weights (lognormal, so some subjects have many); one subject has no ME (as in SAMM-LV)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    subjects = [f"{6 + s:03d}" for s in range(stats.subjects)]
    owner = [subjects[v % stats.subjects] for v in range(stats.videos)]
    count: dict[str, int] = {}
    names = []
    for subject in owner:
        count[subject] = count.get(subject, 0) + 1
        names.append(f"{subject}_{count[subject]}")
    lengths = rng.uniform(0.4, 1.6, stats.videos)
    n_frames = np.floor(lengths / lengths.sum() * stats.frames).astype(np.int64)
    n_frames[-1] += stats.frames - n_frames.sum()
    weight = dict(zip(subjects, rng.lognormal(0.0, 1.0, stats.subjects)))
    rows = []
    for kind, n, span, mean, median in (("MaE", stats.n_mae, stats.mae_span, stats.mae_mean, stats.mae_median),
                                        ("ME", stats.n_me, stats.me_span, stats.me_mean, None)):
        allowed = np.array([owner[v] != subjects[0] or kind == "MaE" for v in range(stats.videos)])
        p = np.array([weight[s] for s in owner]) * allowed
        first = list(range(stats.videos)) if kind == "MaE" else []
        chosen = first + list(rng.choice(stats.videos, size=n - len(first), p=p / p.sum()))
        for v, d in zip(chosen, _durations(rng, n, span, mean, median)):
            length = int(n_frames[v])
            d = min(int(d), length)
            onset = int(rng.integers(1, length - d + 2))
            rows.append((owner[v], names[v], kind, onset, onset + d - 1))
    iv = pd.DataFrame(rows, columns=["subject", "video", "kind", "onset", "offset"])
    iv = iv.sort_values(["video", "onset", "kind"]).reset_index(drop=True)
    return iv, dict(zip(names, (int(n) for n in n_frames)))


# --------------------------------------------------------------------------------------------------------------
# Positive shares, folds and training samples from the table


@dataclass
class FoldKind:
    """One fold and kind: its k, training videos and pairs, positive pairs and samples per epoch per protocol."""

    subject: str
    kind: str
    k: int | None
    videos: int
    pairs: int
    positives: int
    test_pairs: int
    samples: dict[str, int]


class Labels:
    """Pseudo-labels of every video for one kind and k, computed once (frames numbered 1..n)."""

    def __init__(self, intervals: pd.DataFrame, n_frames: dict[str, int]) -> None:
        self.n_frames = n_frames
        self.spans = {(str(v), str(kind)): list(zip(g["onset"].astype(int), g["offset"].astype(int)))
                      for (v, kind), g in intervals.groupby(["video", "kind"])}
        self.cache: dict[tuple[str, str, int], np.ndarray] = {}

    def of(self, video: str, kind: str, k: int) -> np.ndarray:
        from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels

        key = (video, kind, k)
        if key not in self.cache:
            frames = np.arange(1, self.n_frames[video] + 1)
            self.cache[key] = pseudo_labels(frames, self.spans.get((video, kind), []), k, video=video)
        return self.cache[key]


def positive_shares(intervals: pd.DataFrame, n_frames: dict[str, int], labels: Labels
                    ) -> dict[str, tuple[int, int, int]]:
    """Per kind over all videos, with the dataset-level MEGC k (all intervals): (k, positive pairs, pairs)."""
    from samm_synth_dataset import format as fmt

    out = {}
    for kind in KINDS:
        rows = intervals[intervals["kind"] == kind]
        k = fmt.megc_k((rows["offset"] - rows["onset"]).astype(int).tolist())
        assert k is not None, f"no {kind} interval"
        ys = [labels.of(v, kind, k) for v, n in n_frames.items() if n > k]
        out[kind] = (k, int(sum(int((y > 0).sum()) for y in ys)), int(sum(len(y) for y in ys)))
    return out


def fold_counts(intervals: pd.DataFrame, n_frames: dict[str, int], labels: Labels, count_doubled: bool = True
                ) -> list[FoldKind]:
    """Every LOSO fold and kind of the table (``format.loso_splits``: per-fold k from its training intervals):
    what a run of each protocol trains on. ``training_samples`` counts the samples per epoch of real (= synthetic:
    the same labels) and, when ``count_doubled``, of real+synthetic (the items twice); else that is 2 × real
    (exact up to one sample, the negatives' halving)."""
    import pandas as pd

    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.spotting import train as T

    subject_of = dict(zip(intervals["video"].astype(str), intervals["subject"].astype(str)))
    missing = sorted(set(n_frames) - set(subject_of))
    if missing:
        raise ValueError(f"videos {missing[:5]} have no interval, so no subject: give every video one")
    videos = pd.DataFrame({"video": list(n_frames), "source_video": list(n_frames),
                           "subject": [subject_of[v] for v in n_frames]})
    iv = intervals.assign(source_video=intervals["video"],
                          interval_id=[f"{v}/{n}" for n, v in enumerate(intervals["video"])])
    out = []
    for fold in fmt.loso_splits(videos, iv):
        for kind in KINDS:
            k = fold.k[kind]
            if k is None:
                out.append(FoldKind(fold.test_subject, kind, None, 0, 0, 0, 0, {p: 0 for p in PROTOCOLS}))
                continue
            ys = [labels.of(v, kind, k) for v in fold.train if n_frames[v] > k]
            no_features = [(np.broadcast_to(np.zeros((1, 1, 1, 3), np.float32), (len(y), 1, 1, 3)), y) for y in ys]
            real = len(T.training_samples(no_features, kind, np.random.default_rng(0)))
            both = (len(T.training_samples(no_features * 2, kind, np.random.default_rng(0))) if count_doubled
                    else 2 * real)
            test = sum(n_frames[v] - k for v in fold.test if n_frames[v] > k)
            out.append(FoldKind(fold.test_subject, kind, k, len(ys), int(sum(len(y) for y in ys)),
                                int(sum(int((y > 0).sum()) for y in ys)), test,
                                {"real": real, "synthetic": real, "real+synthetic": both}))
    return out


# --------------------------------------------------------------------------------------------------------------
# Rates


def random_items(pairs: int, share: float, size: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """One training video of ``pairs`` random size×size×3 features, a ``share`` of them labelled positive."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (pairs, size, size, 3)).astype(np.float32)
    y = (rng.random(pairs) < share).astype(np.float32)
    y[0] = 1.0  # at least one positive
    return [(x, y)]


def training_rate(kind: str, share: float, pairs: int, epochs: int, size: int) -> tuple[int, float]:
    """(samples trained, seconds) of one ``fit_fold`` of ``kind`` on random features with that positive share."""
    from samm_synth_dataset.spotting import train as T

    items = random_items(pairs, share, size, seed=1)
    T.fit_fold([(items[0][0][:48], items[0][1][:48])], kind, epochs=1, seed=0)  # warm-up
    per_epoch = len(T.training_samples(items, kind, np.random.default_rng(0)))
    t0 = time.perf_counter()
    T.fit_fold(items, kind, epochs=epochs, seed=0, threads=1)
    return epochs * per_epoch, time.perf_counter() - t0


def prediction_rate(pairs: int, size: int) -> float:
    """Pairs scored per second by ``predict_scores`` (one thread)."""
    from samm_synth_dataset.spotting import network
    from samm_synth_dataset.spotting import train as T

    x = random_items(pairs, 0.1, size, seed=2)[0][0]
    model = network.SOFTNet(size).eval()
    T.predict_scores(model, x[:64])
    t0 = time.perf_counter()
    T.predict_scores(model, x, threads=1)
    return pairs / (time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------------------------
# 1 worker vs 2 (stage tasks: module level, so that spawned workers import them from ``__mp_main__``)


def fit_task(task: Any, dirs: Any) -> None:
    """A run-like stage task: fit ME and MaE on random features, as ``folds.run_fold`` does for one run; writes
    the samples trained and its start and end (wall clock, s) to ``times.txt``."""
    from samm_synth_dataset.spotting import train as T

    start = time.time()
    pairs, shares, epochs, size, seed = task.args
    trained = 0
    for kind in KINDS:
        items = random_items(pairs, shares[kind], size, seed)
        T.fit_fold(items, kind, epochs=epochs, seed=seed, threads=1)
        trained += epochs * len(T.training_samples(items, kind, np.random.default_rng(seed)))
    (dirs.out / "times.txt").write_text(f"{trained} {start} {time.time()}")


def warm_worker(size: int) -> None:
    """The stage context of every process that runs ``fit_task``: import the training module (torch) and fit once
    on 24 pairs (torch's first-call set-up), before its first task starts its clock. A run lasts hours, this
    seconds, so the speed-up that scales is the one without it."""
    from samm_synth_dataset.spotting import train as T

    T.fit_fold(random_items(24, 0.5, size, seed=0), "MaE", epochs=1, seed=0, threads=1)


def stage_seconds(workers: int, tasks: list[Any], size: int) -> tuple[float, float, int]:
    """``Stage.run`` of ``fit_task`` on ``tasks`` with ``workers`` processes in a fresh stage folder: (wall
    seconds, including starting the workers; seconds from the first task's start to the last one's end; samples
    trained)."""
    from samm_synth_dataset.stages import Stage

    with tempfile.TemporaryDirectory(prefix="bench-spotting-") as tmp:
        t0 = time.perf_counter()
        with Stage(tmp, "spotting", rerun="-", workers=workers, progress=False) as stage:
            done = stage.run("train", tasks, fit_task, {}, context=functools.partial(warm_worker, size))
        wall = time.perf_counter() - t0
        times = [(done[t.id] / "times.txt").read_text().split() for t in tasks]
    span = max(float(t[2]) for t in times) - min(float(t[1]) for t in times)
    return wall, span, sum(int(t[0]) for t in times)


def stages_helpers() -> ModuleType:
    """``benchmarks/stages.py`` (its ``parallel_ceiling`` and ``one_core``), loaded from beside this script."""
    spec = importlib.util.spec_from_file_location("bench_stages", Path(__file__).with_name("stages.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def speed_up(tasks: list[Any], repeats: int, ceiling_loops: int, size: int) -> dict[str, float]:
    """Best of ``repeats`` rounds (1 and 2 workers alternating which goes first), the ceiling beside each: wall
    times and task spans (first task start to last task end) of each worker count, and the speed-ups."""
    helpers = stages_helpers()
    wall = {1: math.inf, 2: math.inf}
    span = {1: math.inf, 2: math.inf}
    ceilings = []
    samples = 0
    for r in range(repeats):
        ceilings.append(helpers.parallel_ceiling(loops=ceiling_loops, rounds=2))
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            if workers == 1:
                with helpers.one_core():
                    w, s, samples = stage_seconds(1, tasks, size)
            else:
                w, s, samples = stage_seconds(2, tasks, size)
            wall[workers], span[workers] = min(wall[workers], w), min(span[workers], s)
    return {"wall1": wall[1], "wall2": wall[2], "span1": span[1], "span2": span[2], "samples": samples,
            "speed_up": wall[1] / wall[2], "steady": span[1] / span[2], "ceiling": max(ceilings)}


# --------------------------------------------------------------------------------------------------------------
# Projection


def makespan(durations: list[float], cores: int) -> float:
    """Longest-first list scheduling of one-core runs on ``cores`` cores: when the last one ends."""
    load = [0.0] * cores
    for d in sorted(durations, reverse=True):
        i = load.index(min(load))
        load[i] += d
    return max(load)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds / 60:.1f} min"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="fewer pairs and epochs timed, small speed-up tasks, real+synthetic counted as 2 × real")
    ap.add_argument("--seeds", type=int, default=3, help="training runs per protocol and fold (default 3)")
    ap.add_argument("--epochs", type=int, default=10, help="epochs per fit (default 10, SOFTNet's)")
    ap.add_argument("--cores", type=int, default=64, help="cores of the node to project to (default 64)")
    ap.add_argument("--subjects", type=int, default=30,
                    help="subjects = LOSO folds of the SAMM-LV table (default 30, the annotated ones; SAMM has 32)")
    ap.add_argument("--frames", type=int, default=1_000_000, help="frames of the SAMM-LV table (default 1 M)")
    ap.add_argument("--table-seed", type=int, default=0, help="seed of the synthesised SAMM-LV table")
    ap.add_argument("--input-size", type=int, default=42, help="network input side in px (default recipe: 42)")
    ap.add_argument("--repeats", type=int, default=None, help="1- vs 2-worker rounds, best kept (default 2; quick 1)")
    args = ap.parse_args()
    from samm_synth_dataset.stages import Task, cores

    quick = args.quick
    size = args.input_size
    t_start = time.perf_counter()

    # 2. the table, positive shares, folds
    stats = CorpusStats(subjects=args.subjects, frames=args.frames)
    intervals, n_frames = synthetic_corpus(stats, seed=args.table_seed)
    labels = Labels(intervals, n_frames)
    spans = intervals["offset"] - intervals["onset"]
    print(f"SAMM-LV-like table (seed {args.table_seed}): {len(n_frames)} videos, "
          f"{intervals['subject'].nunique()} subjects, {sum(n_frames.values()):,} frames (videos "
          f"{min(n_frames.values())}–{max(n_frames.values())}); "
          + "; ".join(f"{kind} {int((intervals['kind'] == kind).sum())} intervals, offset − onset mean "
                      f"{spans[intervals['kind'] == kind].mean():.1f} median {spans[intervals['kind'] == kind].median():.0f}"
                      for kind in KINDS))
    shares = positive_shares(intervals, n_frames, labels)
    share = {kind: pos / pairs for kind, (k, pos, pairs) in shares.items()}
    print("positive pairs over all videos (dataset-level k = floor((mean(offset − onset) + 1) / 2) of all "
          "intervals): " + "; ".join(f"{kind} k = {k}: {pos:,} of {pairs:,} = {100 * pos / pairs:.2f} %"
                                     for kind, (k, pos, pairs) in shares.items()))
    t0 = time.perf_counter()
    folds = fold_counts(intervals, n_frames, labels, count_doubled=not quick)
    n_folds = len({f.subject for f in folds})
    for kind in KINDS:
        mine = [f for f in folds if f.kind == kind and f.k is not None]
        ks = sorted({int(f.k) for f in mine if f.k is not None})
        pos = sum(f.positives for f in mine) / sum(f.pairs for f in mine)
        per = {p: np.mean([f.samples[p] for f in mine]) for p in PROTOCOLS}
        print(f"  {kind}: {len(mine)} of {n_folds} folds trained, fold k {ks[0]}–{ks[-1]}, training pairs per run "
              f"{np.mean([f.pairs for f in mine]):,.0f} ({np.mean([f.videos for f in mine]):.0f} videos), "
              f"positive {100 * pos:.2f} %; samples per epoch (training_samples): real/synthetic {per['real']:,.0f} "
              f"({per['real'] / np.mean([f.pairs for f in mine]):.2f} per pair), real+synthetic "
              f"{per['real+synthetic']:,.0f}")
    print(f"  (counted in {time.perf_counter() - t0:.1f} s; real+synthetic "
          f"{'2 × real in --quick' if quick else 'counted on the items twice'})")

    # 1. samples/s
    pairs, epochs = (1500, 1) if quick else (6000, 2)
    rate = {}
    for kind in KINDS:
        trained, seconds = training_rate(kind, share[kind], pairs, epochs, size)
        rate[kind] = trained / seconds
        print(f"training {kind}: fit_fold on {pairs} random {size}×{size}×3 pairs ({100 * share[kind]:.2f} % "
              f"positive), {epochs} epoch(s) = {trained} samples in {seconds:.2f} s = {rate[kind]:.0f} samples/s "
              f"(one torch thread, batch 12)")
    predict = prediction_rate(2000 if quick else 8000, size)
    print(f"prediction: {predict:.0f} pairs/s")

    # 3. 1 vs 2 workers
    if cores() < 2:
        print("speed-up: skipped (this process may use 1 core)")
        su = {"speed_up": 1.0, "steady": 1.0, "ceiling": 1.0}
    else:
        n_tasks, task_pairs, task_epochs = (4, 600, 1) if quick else (6, 3000, 2)
        tasks = [Task(f"real-fold{f}-seed{s}", 1, (task_pairs, share, task_epochs, size, 2 * f + s))
                 for f in range(n_tasks // 2) for s in range(2)]
        su = speed_up(tasks, args.repeats or (1 if quick else 2), 5_000_000 if quick else 20_000_000, size)
        print(f"stage engine, {len(tasks)} run-like tasks ({task_pairs} pairs, {task_epochs} epoch(s), ME + MaE; "
              f"{su['samples']} samples): 1 worker (one core) {su['wall1']:.1f} s, 2 workers {su['wall2']:.1f} s → "
              f"speed-up {su['speed_up']:.2f}× with starting the workers (import torch, first fit); first task start "
              f"to last task end {su['span1']:.1f} s vs {su['span2']:.1f} s → {su['steady']:.2f}× without; "
              f"ceiling now {su['ceiling']:.2f}× (2 plain CPU-bound processes vs 1)")

    # A run lasts hours, starting a worker seconds: the speed-up without the start is the one that scales.
    efficiency = min(1.0, su["steady"] / 2)
    feature_bytes = size * size * 3 * 4
    print(f"\nProjection for SAMM-LV: {n_folds} LOSO folds × {args.seeds} seeds × {args.epochs} epochs, ME + MaE, "
          f"training samples per run as counted above / the samples/s measured (+ prediction of the held-out "
          f"videos); {args.cores} cores at efficiency {efficiency:.2f} (2-worker speed-up without the start / 2, "
          f"capped at 1; with the start {min(1.0, su['speed_up'] / 2):.2f}; speed-up / ceiling now "
          f"{min(1.0, su['steady'] / su['ceiling']):.2f}):")
    every = []
    for protocol in PROTOCOLS:
        runs = []
        for subject in sorted({f.subject for f in folds}):
            mine = [f for f in folds if f.subject == subject and f.k is not None]
            seconds = sum(args.epochs * f.samples[protocol] / rate[f.kind] + f.test_pairs / predict for f in mine)
            runs += [seconds] * args.seeds
        every += runs
        total = sum(runs)
        copies = 2 if protocol == "real+synthetic" else 1
        memory = max(sum(f.pairs for f in folds if f.subject == s) for s in {f.subject for f in folds})
        memory_gb = copies * memory * feature_bytes / 1e9
        samples = sum(f.samples[protocol] for f in folds) * args.epochs * args.seeds
        print(f"  {protocol:<15} {len(runs)} runs, {samples / 1e9:.2f} G samples: one core {hours(total)} "
              f"(a run {hours(total / len(runs))}); {args.cores} cores {hours(total / args.cores / efficiency)} "
              f"(one run per core, longest first: {hours(makespan(runs, args.cores) / efficiency)}); features "
              f"held by a run up to {memory_gb:.0f} GB")
    print(f"  all three protocols: one core {hours(sum(every))}; {args.cores} cores "
          f"{hours(sum(every) / args.cores / efficiency)} (one run per core: "
          f"{hours(makespan(every, args.cores) / efficiency)})")
    print(f"(whole benchmark script: {time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()

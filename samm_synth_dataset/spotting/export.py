"""``samm-synth features``: a recipe's features of every synthetic video of a release, as part of the release.

Files: ``data/features/<recipe>/<video>-<part>.parquet`` (``format.feature_schema``: one row per pair (i, i + k)
of the video, rows sorted by k then i; part p holds the pairs whose frame i lies in the video's frame part p, so a
part of features follows the part of frames it starts in). k per kind is the recipe's (the MEGC rule over the
intervals of the whole release, ``recipes.dataset_k``) unless given (the spotting benchmark passes its folds' k);
a kind whose k equals another's shares its rows. A video with no more frames than a k has no pair at that k (the
block's ``short`` lists it). The manifest's ``features`` block records, per recipe, its parameters and version,
the kinds and their k, the array shape and dtype, the landmarks used and the pseudo-label rule.

Runs as the stage ``features-<recipe>`` (``stages``): one task per video (workers, torchrun ranks; byte-identical
files for any number of them), committed into the release all at once with the manifest (a run that is killed
leaves the release as it was; re-running does only the rest). ``source_root`` + ``originals_out``: the same
features of the ORIGINAL videos (through the release's per-video crop, over the source frames the release covers)
written to ``originals_out`` in the same layout (``<source video>-<part>.parquet`` and ``features.json``, the
block), never into the release: the sources' licences forbid redistributing them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders.clips import ClipDataset
from samm_synth_dataset.metrics.data import OriginalFrames, read_intervals, read_videos, synthetic_frame_numbers
from samm_synth_dataset.spotting import softnet
from samm_synth_dataset.spotting.extract import video_features
from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels
from samm_synth_dataset.spotting.recipes import DLIB68_LICENCE, Recipe, check_landmarks, dataset_k, get_recipe
from samm_synth_dataset.stages import Stage, Task, TaskDirs, release_digest

PSEUDO_LABEL_RULE = ("1.0 when the SOURCE frames [frame, end_frame] overlap an interval of the kind (IoU > 0), "
                     "else 0.0 (SOFTNet's pseudo-label)")


class FeaturesError(ValueError):
    """Bad input to ``features``: one line naming the file or option and what to do."""


def recipe_folder(recipe: str) -> str:
    return f"{fmt.FEATURES_DIR}/{recipe}"


def synthetic_frames(release: Path, video: str) -> Iterator[np.ndarray]:
    """The frames of a synthetic video in order (H×W×C or H×W uint8), read by ``ClipDataset(clip_len=1)``."""
    ds = ClipDataset(release, clip_len=1, stride=1, shuffle=False, videos=[video], rank=0, world_size=1,
                     chunk_frames=256)
    for n, sample in enumerate(ds):
        if int(sample["index"][0]) != n:
            raise RuntimeError(f"{video}: ClipDataset yielded frame {int(sample['index'][0])} at position {n}")
        yield np.ascontiguousarray(sample["frames"][0].numpy().transpose(1, 2, 0).squeeze())


def frame_parts(release: Path, video: str) -> list[int]:
    """The first SOURCE frame of each Parquet frame part of a synthetic video, in part order."""
    pattern = f"{fmt.check_id(video, 'video id')}-[0-9][0-9][0-9][0-9][0-9].parquet"
    files = sorted((release / fmt.FRAMES_DIR).glob(pattern))
    return [int(pq.read_table(p, columns=["frame"]).column("frame").to_numpy().min()) for p in files]


@dataclass(frozen=True)
class VideoJob:
    """One video's task (picklable): ``origin`` "synthetic" or "original"; ``row`` its videos-table row;
    ``numbers`` its SOURCE frame numbers; ``starts`` each part's first frame; ``ks`` kind -> k; ``intervals`` kind
    -> (onset, offset) source frames."""

    release: Path
    source_root: Path | None
    origin: str
    video: str
    row: dict[str, Any]
    numbers: np.ndarray
    starts: tuple[int, ...]
    ks: dict[str, int]
    intervals: dict[str, list[tuple[int, int]]]
    recipe: Recipe
    landmarks: str
    extra: tuple[int, ...] = ()


def _frames(job: VideoJob) -> Iterator[np.ndarray]:
    if job.origin == "synthetic":
        return synthetic_frames(job.release, job.video)
    assert job.source_root is not None
    wanted = set(job.numbers.tolist())
    return (img for f, img in OriginalFrames(job.source_root, job.row).iter() if f in wanted)


def feature_tables(job: VideoJob) -> tuple[dict[int, pa.Table], dict[str, Any]]:
    """The video's feature rows split by part (part -> table, parts without rows left out) and its notes."""
    numbers, recipe = job.numbers, job.recipe
    ks = sorted({k for k in (*job.ks.values(), *job.extra) if k < len(numbers)})
    short = sorted(kind for kind, k in job.ks.items() if k >= len(numbers))
    notes: dict[str, Any] = {"short": short}
    if not ks:
        return {}, notes
    arrays, found = video_features(_frames(job), recipe, ks, job.landmarks, job.video)
    if found is not None:
        notes["landmarks"] = found.note
    schema = fmt.feature_schema(recipe.dtype)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for k in ks:
        m = arrays[k].shape[0]
        labels = {kind: pseudo_labels(numbers, job.intervals.get(kind, []), k, video=job.video)
                  if job.ks.get(kind) == k else None for kind in fmt.KINDS}
        columns["video"] += [job.video] * m
        columns["frame"].append(numbers[:m])
        columns["end_frame"].append(numbers[k:k + m])
        columns["position"].append(np.arange(m, dtype=np.int32))
        columns["k"].append(np.full(m, k, dtype=np.int32))
        columns["stream"] += [",".join(recipe.streams)] * m
        columns["feature"].append(arrays[k].reshape(m, -1))
        for kind in fmt.KINDS:
            y = labels.get(kind)
            columns[f"pseudo_{kind}"].append(np.full(m, np.nan, np.float32) if y is None else y)
    frame = np.concatenate(columns["frame"])
    flat = np.concatenate(columns["feature"])
    value = schema.field("feature").type.value_type
    feature = pa.ListArray.from_arrays(pa.array(np.arange(0, flat.size + 1, flat.shape[1], dtype=np.int32)),
                                       pa.array(flat.ravel(), type=value))
    pseudo = {kind: np.concatenate(columns[f"pseudo_{kind}"]) for kind in fmt.KINDS}
    table = pa.table({
        "video": pa.array(columns["video"], pa.string()), "frame": pa.array(frame, pa.int64()),
        "end_frame": pa.array(np.concatenate(columns["end_frame"]), pa.int64()),
        "position": pa.array(np.concatenate(columns["position"]), pa.int32()),
        "k": pa.array(np.concatenate(columns["k"]), pa.int32()), "stream": pa.array(columns["stream"], pa.string()),
        "feature": feature,
        **{f"pseudo_{kind}": pa.array(pseudo[kind], pa.float32(), mask=np.isnan(pseudo[kind])) for kind in fmt.KINDS},
    }, schema=schema)
    part_of = np.searchsorted(np.asarray(job.starts), frame, side="right") - 1
    return {int(p): table.filter(pa.array(part_of == p)) for p in np.unique(part_of)}, notes


def _task(task: Task, dirs: TaskDirs) -> None:
    job: VideoJob = task.args
    tables, notes = feature_tables(job)
    for part, table in tables.items():
        fmt.write_table_atomic(dirs.out / fmt.part_name(job.video, part, "parquet"), table)
    (dirs.out / "notes.json").write_text(json.dumps(notes, sort_keys=True))


# --------------------------------------------------------------------------------------------------------------


def kinds_k(intervals: pd.DataFrame, recipe: Recipe, kinds: Sequence[str], where: str) -> dict[str, int]:
    """k per kind by the recipe's rule over the release's source intervals; FeaturesError for a kind without
    intervals."""
    iv = fmt.source_intervals(intervals)
    out = {}
    for kind in kinds:
        rows = iv[iv["kind"] == kind]
        keep = [not (recipe.drop_onset_zero and "onset_zero" in list(f if f is not None else []))
                for f in rows["flags"]]
        k = dataset_k(zip(rows["onset"], rows["offset"], keep))
        if k is None:
            raise FeaturesError(f"{where}: the release has no {kind} interval, so the {kind} k is undefined; pass "
                                f"--kinds {' '.join(x for x in kinds if x != kind) or '<another kind>'}")
        out[kind] = max(1, k)
    return out


def export_features(release: str | Path, recipe: str | Recipe = "default", kinds: Sequence[str] = fmt.KINDS,
                    workers: int | None = None, landmarks: str = "proportional", source_root: str | Path | None = None,
                    originals_out: str | Path | None = None, extra_ks: Sequence[int] = (),
                    progress: bool = True) -> dict[str, Any]:
    """Write the recipe's features into ``release`` (and the originals' into ``originals_out``); return the
    recipe's block (also in the manifest). ``extra_ks``: more k values whose pairs are written too (the spotting
    benchmark's per-fold k; their rows carry a pseudo-label only where a kind has that k). Bad input raises
    FeaturesError (one line). Under torchrun every rank does its share; only the main rank commits and returns the
    block ({} elsewhere)."""
    release = Path(release)
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    check_landmarks(recipe, landmarks)
    if landmarks == "dlib68":
        softnet.dlib68_model()
    unknown = [k for k in kinds if k not in fmt.KINDS]
    if unknown or not kinds:
        raise FeaturesError(f"--kinds {' '.join(kinds)}: choose among {' '.join(fmt.KINDS)}")
    if (source_root is None) != (originals_out is None):
        raise FeaturesError("--source-root and --originals-out go together: the originals' features are written "
                            "outside the release")
    try:
        manifest = fmt.read_manifest(release)
        videos, intervals = read_videos(release), read_intervals(release)
    except (FileNotFoundError, fmt.ReleaseError) as exc:
        raise FeaturesError(str(exc)) from None
    videos = videos.sort_values("video").reset_index(drop=True)
    k_of = kinds_k(intervals, recipe, kinds, str(release / fmt.INTERVALS_PATH))
    extra = tuple(sorted(set(int(k) for k in extra_ks) - set(k_of.values())))
    if extra and extra[0] < 1:
        raise FeaturesError(f"k must be >= 1 frame, got {extra[0]}")
    jobs = _jobs(release, videos, intervals, recipe, k_of, landmarks, source_root, extra)
    outside = Path(originals_out).resolve() if originals_out is not None else None
    build = (release / fmt.BUILD_DIR).resolve()
    if outside is not None and (outside == release.resolve() or release.resolve() in outside.parents) \
            and build not in (outside, *outside.parents):
        raise FeaturesError(f"--originals-out {outside}: must be outside the release (the sources' licences "
                            "forbid redistributing features of the original videos)")
    rerun = (f"samm-synth features {release} --recipe {recipe.name} --kinds {' '.join(kinds)}"
             + (f" --landmarks {landmarks}" if landmarks != "proportional" else "")
             + (f" --source-root {source_root} --originals-out {originals_out}" if source_root else ""))
    made_from = release_digest(manifest)
    settings = {"release": made_from, "recipe": recipe.as_dict(), "k": k_of, "extra_k": list(extra),
                "landmarks": landmarks, "source_root": str(Path(source_root).resolve()) if source_root else None}
    with Stage(release, f"features-{recipe.name}", rerun=rerun, workers=workers, progress=progress,
               unit="video") as stage:
        tasks = [Task(f"{j.origin}-{j.video}", len(j.numbers), j) for j in jobs]
        done = stage.run("videos", tasks, _task, settings)
        if not stage.is_main:
            return {}
        notes = {t.id: json.loads((done[t.id] / "notes.json").read_text()) for t in tasks}
        block = {**_block(recipe, k_of, landmarks, jobs, notes), "extra_k": list(extra), "release": made_from}
        folder = recipe_folder(recipe.name)
        synthetic = {f"{folder}/{p.name}": p for j in jobs if j.origin == "synthetic"
                     for p in sorted(done[f"synthetic-{j.video}"].glob("*.parquet"))}
        originals = {f"{folder}/{p.name}": p for j in jobs if j.origin == "original"
                     for p in sorted(done[f"original-{j.video}"].glob("*.parquet"))}
        block["files"], block["rows"] = len(synthetic), sum(pq.ParquetFile(p).metadata.num_rows
                                                            for p in synthetic.values())
        if outside is not None:
            _write_originals(outside, folder, originals, {**block, "files": len(originals), "rows": sum(
                pq.ParquetFile(p).metadata.num_rows for p in originals.values()), "origin": "original"})
        record = {fmt.FEATURES_KEY: {**fmt.read_manifest(release).get(fmt.FEATURES_KEY, {}), recipe.name: block}}
        stage.commit(synthetic, replace_folder=folder, record=record)
    return block


def _jobs(release: Path, videos: pd.DataFrame, intervals: pd.DataFrame, recipe: Recipe, k_of: dict[str, int],
          landmarks: str, source_root: str | Path | None, extra: tuple[int, ...]) -> list[VideoJob]:
    iv = fmt.source_intervals(intervals)
    by_source = {str(s): {kind: [(int(a), int(b)) for a, b in zip(g.loc[g["kind"] == kind, "onset"],
                                                                   g.loc[g["kind"] == kind, "offset"])]
                          for kind in fmt.KINDS} for s, g in iv.groupby("source_video")}
    jobs: list[VideoJob] = []
    firsts: dict[str, VideoJob] = {}
    for row in videos.to_dict("records"):
        video, source = str(row["video"]), str(row["source_video"])
        starts = frame_parts(release, video)
        if not starts:
            raise FeaturesError(f"{release / fmt.FRAMES_DIR}: no Parquet frames of video {video}; features read "
                                "the Parquet frames (build with --formats parquet)")
        job = VideoJob(release, None, "synthetic", video, row, synthetic_frame_numbers(release, video),
                       tuple(starts), k_of, by_source.get(source, {}), recipe, landmarks, extra)
        jobs.append(job)
        firsts.setdefault(source, job)
    if source_root is not None:
        root = Path(source_root)
        if not root.is_dir():
            raise FeaturesError(f"--source-root {root}: no such folder; pass the corpus root the release was built "
                                "from")
        for source, first in sorted(firsts.items()):
            try:
                have = set(int(f) for f in OriginalFrames(root, first.row).frame_numbers)
            except FileNotFoundError as exc:
                raise FeaturesError(f"--source-root {root} does not match the release: {exc}") from None
            missing = sorted(set(first.numbers.tolist()) - have)
            if missing:
                raise FeaturesError(f"--source-root {root} does not match the release: source video {source} has "
                                    f"no frames {missing[:5]} (of {len(missing)}) that the release covers")
            jobs.append(VideoJob(release, root, "original", source, first.row, first.numbers, first.starts, k_of,
                                 first.intervals, recipe, landmarks, extra))
    return jobs


def _block(recipe: Recipe, k_of: dict[str, int], landmarks: str, jobs: list[VideoJob],
           notes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "recipe": recipe.as_dict(), "kinds": sorted(k_of, key=fmt.KINDS.index), "k": k_of,
        "shape": list(recipe.shape), "dtype": recipe.dtype,
        "layout": "feature: flat C-order array of shape streams × height × width × channels (u, v, ε); one row "
                  "per pair (i, i + k)",
        "pseudo_label": PSEUDO_LABEL_RULE,
        "landmarks": {"source": landmarks if recipe.uses_landmarks else "none"},
        "short": {f"{j.origin}-{j.video}": notes[f"{j.origin}-{j.video}"]["short"] for j in jobs
                  if notes[f"{j.origin}-{j.video}"]["short"]},
    }
    if recipe.uses_landmarks:
        found = sorted({n.get("landmarks", "") for n in notes.values()} - {""})
        block["landmarks"]["found"] = found
        if landmarks == "proportional":
            block["landmarks"]["substitution"] = ("no landmark model was asked for and the release carries no FAN "
                                                  "landmarks: proportional points of the face crop place the "
                                                  "regions with SOFTNet's geometry")
        else:
            block["landmarks"]["licence"] = DLIB68_LICENCE
    return block


def _write_originals(out: Path, folder: str, files: dict[str, Path], block: dict[str, Any]) -> None:
    """The originals' features under ``out`` (same layout), replacing that recipe's folder there."""
    target = out / folder
    keep = set(files)
    if target.is_dir():
        for p in sorted(target.glob("*.parquet")):
            if f"{folder}/{p.name}" not in keep:
                p.unlink()
    for rel, src in files.items():
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = fmt.tmp_path(dst)
        shutil.copyfile(src, tmp)
        fmt.commit(tmp, dst)
    fmt.atomic_write_json(target / fmt.FEATURES_BLOCK, block)


# --------------------------------------------------------------------------------------------------------------
# Reading back (the spotting benchmark)


def features_ready(release: Path, recipe: Recipe, kinds: Sequence[str], extra_ks: Sequence[int], landmarks: str,
                   originals_out: Path | None) -> bool:
    """True when the release (and ``originals_out``) already hold this recipe's features for the kinds and
    extra k values, made from the release's current frames and intervals: ``export_features`` need not run."""
    manifest = fmt.read_manifest(release)
    block = (manifest.get(fmt.FEATURES_KEY) or {}).get(recipe.name)

    def same(b: dict[str, Any] | None) -> bool:
        return (b is not None and b.get("recipe") == recipe.as_dict() and sorted(b.get("k", {})) == sorted(kinds)
                and set(extra_ks) <= set(b.get("extra_k", [])) | set(b.get("k", {}).values())
                and b.get("release") == release_digest(manifest)
                and b.get("landmarks", {}).get("source") == (landmarks if recipe.uses_landmarks else "none"))

    if not same(block):
        return False
    if originals_out is None:
        return True
    path = originals_out / recipe_folder(recipe.name) / fmt.FEATURES_BLOCK
    theirs = json.loads(path.read_text()) if path.is_file() else None
    return same(theirs) and len(list(path.parent.glob("*.parquet"))) == (theirs or {}).get("files")


def video_files(folder: Path, video: str) -> list[Path]:
    """The feature parts of ``video`` in a recipe folder, in part order."""
    return sorted(folder.glob(f"{fmt.check_id(video, 'video id')}-[0-9][0-9][0-9][0-9][0-9].parquet"))


def read_features(files: Sequence[Path], k: int, shape: Sequence[int], video: str = "video") -> np.ndarray:
    """A video's features at ``k`` from its parts: float32 ``M × shape`` (the recipe's streams × H × W × 3) in
    pair order (i = 0 .. M − 1); ValueError naming the video when the rows are not exactly the pairs 0 .. M − 1."""
    if not files:
        raise ValueError(f"{video}: no feature files; run `samm-synth features`")
    tables = [pq.read_table(p, filters=[("k", "=", int(k))], columns=["position", "feature"]) for p in files]
    table = pa.concat_tables(tables)
    position = table.column("position").to_numpy()
    if not np.array_equal(position, np.arange(position.size)):
        raise ValueError(f"{video}: the feature rows at k = {k} are not the pairs 0 .. {position.size - 1} in "
                         f"order (files {files[0].parent}); re-run `samm-synth features`")
    flat = table.column("feature").combine_chunks().flatten().to_numpy()
    return flat.reshape(position.size, *shape).astype(np.float32, copy=False)

"""The quality report's identity section: is the source person still recognisable in each synthetic video?

Per video (``identity_of_video``, a top-level function a worker pool can call): N frames sampled evenly over the
synthetic video, the same SOURCE frames of its original through the video's crop, and its reference image are
described with dlib's ResNet face descriptor (``metrics.identity``). Results are cached per video under
``<release>/.build/identity/`` keyed by ``identity.cache_key`` (method, video, original source video + crop +
output size + sampled frames, reference sha256, sha256 of the video's frame files); an original's descriptors are
cached too (``original-<key>.json``, and a reference's as ``reference-<sha256>.json``), so the synthetic videos
made from one original (or reference) describe it once.

The reference image of a video is found through the build's ``references`` setting (manifest config): a CSV
``subject, reference_path, domain[, reference_id]`` (paths relative to the CSV's folder; the id defaults to the
file name's stem with characters outside ``[A-Za-z0-9_-]`` replaced by ``_``) or a folder with ``female/`` and
``male/`` images (id = the stem, likewise). The image must have the ``reference_sha256`` of the videos table; a
missing or changed image leaves the video's reference distances unmeasured (named), never guessed.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.images import decode_image, to_rgb
from samm_synth_dataset.metrics import identity
from samm_synth_dataset.metrics.data import OriginalFrames, synthetic_frame_numbers, synthetic_frames
from samm_synth_dataset.metrics.document import save_figure
from samm_synth_dataset.stages import Task, TaskDirs, release_digest

log = logging.getLogger(__name__)

#: Cache folder of the identity results, inside the release (``.build/`` is never listed nor released).
CACHE_DIR = f"{fmt.BUILD_DIR}/identity"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: What each transfer method is meant to do to identity (``videos.method``); a method not named has no expectation.
EXPECTED = fmt.IDENTITY_EXPECTED
#: Figure files of the section.
SCATTER_FIGURE = "fig9_identity.png"
STRIP_FIGURE = "fig10_identity_frames.png"


# --------------------------------------------------------------------------------------------------------------
# Reference images


def _reference_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", Path(name).stem)


def reference_candidates(references: str | Path) -> dict[str, list[Path]]:
    """Reference id → image paths, from the build's ``references`` setting (a CSV or a female/male folder)."""
    root = Path(references)
    out: dict[str, list[Path]] = {}
    if root.is_file():
        with open(root, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                if not row.get("reference_path"):
                    continue
                p = Path(row["reference_path"])
                p = p if p.is_absolute() else root.parent / p
                out.setdefault(row.get("reference_id") or _reference_id(p.name), []).append(p)
    elif root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
                out.setdefault(_reference_id(p.name), []).append(p)
    return out


def resolve_references(release: Path, manifest: Mapping[str, Any], videos: pd.DataFrame
                       ) -> tuple[dict[str, Path], dict[str, str]]:
    """``(reference_sha256 → image path, reference_sha256 → why not found)`` for the videos' references, from the
    manifest config's ``references`` (an absolute path, or relative to the release's folder)."""
    setting = (manifest.get("config") or {}).get("references")
    wanted = {str(r.reference_sha256): str(r.reference_id) for r in videos.itertuples()}
    if not setting:
        why = "the manifest's config names no references (CSV or folder), so the reference image is unknown"
        return {}, {sha: why for sha in wanted}
    path = Path(setting)
    if not path.is_absolute() and not path.exists():
        path = release / path
    if not path.exists():
        why = f"the build's references {path} are not here"
        return {}, {sha: why for sha in wanted}
    candidates = reference_candidates(path)
    found: dict[str, Path] = {}
    missing: dict[str, str] = {}
    for sha, ref_id in wanted.items():
        paths = [p for p in candidates.get(ref_id, []) if p.is_file()]
        match = next((p for p in paths if fmt.sha256_file(p) == sha), None)
        if match is not None:
            found[sha] = match
        elif paths:
            missing[sha] = (f"reference {ref_id}: {paths[0]} differs from the image the build used (sha256 "
                            f"{sha[:12]}…)")
        else:
            missing[sha] = f"reference {ref_id}: no image with that id in {path}"
    return found, missing


def read_reference(path: Path) -> np.ndarray:
    """The reference image as uint8 RGB."""
    return to_rgb(decode_image(path.read_bytes(), str(path), hint="replace the reference image"))


# --------------------------------------------------------------------------------------------------------------
# One video (the unit a worker pool runs)


def synthetic_sha256(manifest: Mapping[str, Any], video: str) -> list[str]:
    """sha256 of the video's Parquet frame files as listed in the manifest (in path order)."""
    prefix = f"{fmt.FRAMES_DIR}/{video}-"
    return [str(f["sha256"]) for f in sorted(manifest.get("files") or [], key=lambda f: f["path"])
            if str(f["path"]).startswith(prefix) and str(f["path"]).endswith(".parquet")]


def _descriptors_json(d: Mapping[int, np.ndarray | None]) -> dict[str, Any]:
    return {str(k): (None if v is None else [float(x) for x in v]) for k, v in d.items()}


def _descriptors_from_json(d: Mapping[str, Any]) -> dict[int, np.ndarray | None]:
    return {int(k): (None if v is None else np.asarray(v, dtype=np.float64)) for k, v in d.items()}


def _read_json(path: Path) -> Any | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s: unreadable identity cache (%s); recomputing", path, exc)
        return None


_DESCRIBER: identity.FaceDescriber | None = None


def _describer() -> identity.FaceDescriber:
    """One describer per process (the models load once, about 30 MB)."""
    global _DESCRIBER
    if _DESCRIBER is None:
        _DESCRIBER = identity.FaceDescriber()
    return _DESCRIBER


def sampled_frames(release: str | Path, video: str, samples: int) -> list[int]:
    """The SOURCE frame numbers of ``samples`` frames spread evenly over the synthetic video."""
    numbers = synthetic_frame_numbers(Path(release), video)
    return [int(numbers[p]) for p in identity.sample_positions(len(numbers), samples)]


def _original_path(release: Path, row: Mapping[str, Any], frames: Sequence[int]) -> Path:
    key = identity.cache_key({**dict(row), "video": "", "reference_sha256": ""}, frames)
    return release / CACHE_DIR / f"original-{key}.json"


def _reference_path(release: Path, row: Mapping[str, Any]) -> Path:
    name = re.sub(r"[^0-9A-Za-z]", "_", str(row["reference_sha256"]))[:64]
    return release / CACHE_DIR / f"reference-{name}.json"


def original_descriptors(release: str | Path, row: Mapping[str, Any], source_root: str | Path,
                         frames: Sequence[int], cache: bool = True) -> tuple[dict[int, np.ndarray | None], int]:
    """Descriptors of the original's ``frames`` (SOURCE numbers) through the video's crop, and how many were
    computed (0 from the cache). Cached per original (source video, crop, size, frames): the synthetic videos of
    one original share them. Raises FileNotFoundError/KeyError when the frames are not under ``source_root``."""
    from samm_synth_dataset.metrics.au_export import original_key

    path = _original_path(Path(release), row, frames)
    key = list(original_key(row, np.asarray(frames)))
    hit = _read_json(path) if cache else None
    if hit is not None and hit.get("key") == key:
        return _descriptors_from_json(hit["descriptors"]), 0
    images = OriginalFrames(source_root, row).get(frames)
    original = identity.describe_frames(((f, images[f]) for f in frames), _describer(),
                                        f"video {row['video']} original frame")
    if cache:
        fmt.atomic_write_json(path, {"key": key, "method": identity.METHOD, "descriptors": _descriptors_json(original)})
    return original, len(frames)


def reference_descriptor(release: str | Path, row: Mapping[str, Any], reference: str | Path,
                         cache: bool = True) -> tuple[np.ndarray | None, int]:
    """Descriptor of the video's reference image (None: no face), and how many were computed (0 from the cache);
    cached per reference sha256."""
    path = _reference_path(Path(release), row)
    hit = _read_json(path) if cache else None
    if hit is not None and hit.get("method") == identity.METHOD:
        return _descriptors_from_json(hit["descriptors"])[0], 0
    ref = _describer().describe(read_reference(Path(reference)), where=f"reference {row['reference_id']}")
    if cache:
        fmt.atomic_write_json(path, {"method": identity.METHOD, "descriptors": _descriptors_json({0: ref})})
    return ref, 1


def identity_of_video(release: str | Path, row: Mapping[str, Any], source_root: str | Path,
                      reference: str | Path | None, samples: int = identity.DEFAULT_SAMPLES,
                      synthetic_sha: Sequence[str] = (), cache: bool = True) -> dict[str, Any]:
    """Identity of one synthetic video (``row``: its videos-table row as a dict): ``VideoIdentity.to_dict()``
    plus ``cached`` (served from the cache) and ``faces`` (descriptors computed in this call). ``reference``:
    its image (None: unknown, reference distances unmeasured). Raises FileNotFoundError/KeyError when the
    original frames are not under ``source_root``. Picklable arguments and result: a pool can run it."""
    release = Path(release)
    video = str(row["video"])
    frames = sampled_frames(release, video, samples)
    key_row = dict(row) if reference is not None else {**dict(row), "reference_sha256": "unknown"}
    path = release / CACHE_DIR / f"{identity.cache_key(key_row, frames, synthetic_sha)}.json"
    hit = _read_json(path) if cache else None
    if hit is not None:
        return {**identity.VideoIdentity.from_dict(hit).to_dict(), "cached": True, "faces": 0}
    original, faces = original_descriptors(release, row, source_root, frames, cache)
    synth = synthetic_frames(release, video, frames)
    synthetic = identity.describe_frames(((f, synth[f]) for f in frames), _describer(),
                                         f"video {video} synthetic frame")
    faces += len(frames)
    ref = None
    if reference is not None:
        ref, n = reference_descriptor(release, row, reference, cache)
        faces += n
    result = identity.identity_from_descriptors(video, frames, original, synthetic, ref)
    if cache:
        fmt.atomic_write_json(path, result.to_dict())
    return {**result.to_dict(), "cached": False, "faces": faces}


def _jobs(release: Path, manifest: Mapping[str, Any], videos: pd.DataFrame, source_root: Path,
          references: Mapping[str, Path], samples: int) -> list[tuple[Any, ...]]:
    """The arguments of :func:`identity_of_video` for every video, in table order."""
    jobs = []
    for _, r in videos.iterrows():
        row = r.to_dict()
        ref = references.get(str(row["reference_sha256"]))
        jobs.append((str(release), row, str(source_root), None if ref is None else str(ref), samples,
                     synthetic_sha256(manifest, str(row["video"]))))
    return jobs


def measure_identity(release: Path, manifest: Mapping[str, Any], videos: pd.DataFrame, source_root: Path,
                     references: Mapping[str, Path], samples: int = identity.DEFAULT_SAMPLES,
                     progress: bool = True) -> tuple[list[identity.VideoIdentity], dict[str, str], int]:
    """Every video's identity: ``(results, video → why not measured, descriptors computed)``, in this process;
    videos already described by :func:`describe_videos` (workers, ranks) come from the cache."""
    from tqdm.auto import tqdm

    jobs = _jobs(release, manifest, videos, source_root, references, samples)
    results: list[identity.VideoIdentity] = []
    skipped: dict[str, str] = {}
    faces = 0
    for job in tqdm(jobs, desc="identity", unit="video", disable=not progress):
        out, why = _outcome(lambda job=job: identity_of_video(*job))
        video = str(job[1]["video"])
        if why is not None:
            skipped[video] = why
            log.warning("identity of %s skipped: %s", video, why)
            continue
        faces += int(out["faces"])
        results.append(identity.VideoIdentity.from_dict(out))
    return results, skipped, faces


def _identity_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: describe one video into the identity cache (a video that cannot be measured is left to the
    section, which says why); its record says how many descriptors it computed (``faces``)."""
    out, why = _outcome(lambda: identity_of_video(*task.args))
    faces = None if out is None else int(out["faces"])
    (dirs.out / "identity.json").write_text(json.dumps({"video": task.id, "skipped": why, "faces": faces},
                                                       sort_keys=True))


def _shared_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: the descriptors of one original (or one reference image) that several videos share, into
    the identity cache (a failure is left to the videos' tasks, which say why)."""
    what, release, row, other, frames = task.args
    if what == "original":
        _, why = _outcome(lambda: original_descriptors(release, row, other, frames))
    else:
        _, why = _outcome(lambda: reference_descriptor(release, row, other))
    (dirs.out / "identity.json").write_text(json.dumps({"task": task.id, "skipped": why}, sort_keys=True))


def _shared_tasks(jobs: Sequence[tuple[Any, ...]]) -> list[Task]:
    """One task per distinct original and per distinct reference image of ``jobs`` (``_jobs``' tuples), in order
    of first use; the videos' tasks then read them from the cache instead of describing them once per video (or,
    on two workers at once, twice)."""
    tasks: dict[str, Task] = {}
    for release, row, source_root, reference, samples, _ in jobs:
        frames, why = _outcome(lambda: sampled_frames(release, str(row["video"]), samples))
        if frames is None:  # the video's own task says why
            continue
        original = _original_path(Path(release), row, frames).stem
        tasks.setdefault(original, Task(original, len(frames), ("original", release, row, source_root, frames)))
        if reference is not None:
            name = _reference_path(Path(release), row).stem
            tasks.setdefault(name, Task(name, 1, ("reference", release, row, reference, None)))
    return list(tasks.values())


def describe_videos(ctx: Any) -> None:
    """The identity section's per-video work (``report.PER_VIDEO_WORK``): every video described through
    ``ctx.stage`` (``ctx.workers`` processes; under torchrun each rank its share) into the cache that the section
    then reads. Does nothing when the section will be skipped (no dlib, no original frames)."""
    if ctx.source_root is None or ctx.stage is None:
        return
    try:
        _describer()
    except identity.IdentityUnavailable:
        return
    references, _ = resolve_references(ctx.release, ctx.manifest, ctx.videos)
    jobs = _jobs(ctx.release, ctx.manifest, ctx.videos, ctx.source_root, references, ctx.identity_samples)
    tasks = [Task(str(job[1]["video"]), int(job[1].get("n_frames") or 1), job) for job in jobs]
    settings = {"release": release_digest(ctx.manifest), "source_root": str(Path(ctx.source_root).resolve()),
                "samples": ctx.identity_samples, "method": identity.METHOD}
    ctx.stage.run("identity-shared", _shared_tasks(jobs), _shared_task, settings)
    ctx.stage.run("identity", tasks, _identity_task, settings)


def _outcome(call: Any) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return call(), None
    except (FileNotFoundError, KeyError) as exc:
        return None, str(exc.args[0] if exc.args else exc)


# --------------------------------------------------------------------------------------------------------------
# Summary, claim, headline


def summarise(results: Sequence[identity.VideoIdentity], methods: Mapping[str, str]) -> dict[str, Any]:
    """Counts of verdicts overall and per method (``methods``: video → method)."""
    def counts(rs: Sequence[identity.VideoIdentity]) -> dict[str, Any]:
        c = {v: 0 for v in ("recognisable", "mixed", "changed", "unmeasured")}
        for r in rs:
            c[r.verdict()] += 1
        med = [r.median_synthetic_original for r in rs if r.median_synthetic_original is not None]
        return {"videos": len(rs), **c, "median_synthetic_original": float(np.median(med)) if med else None}

    by_method = {m: counts([r for r in results if methods.get(r.video) == m])
                 for m in sorted({methods.get(r.video, "unknown") for r in results})}
    for m, c in by_method.items():
        c["expected"] = EXPECTED.get(m)
    return {**counts(results), "by_method": by_method}


def claim(summary: Mapping[str, Any], threshold: float, samples: int, not_measured: int = 0) -> str:
    """The card's sentence: how many measured synthetic videos still show the source person, in words."""
    n = summary["videos"] - summary["unmeasured"]
    how = (f"(dlib ResNet face descriptor, threshold {threshold:g}, {samples} frames sampled per video; "
           f"\"recognisable\" = synthetic face within the threshold of the original in ≥ "
           f"{identity.RECOGNISABLE_SHARE:.0%} of sampled frames, \"changed\" = in ≤ {identity.CHANGED_SHARE:.0%})")
    if n == 0:
        return f"Identity change was not measured: no face was found in any sampled frame pair {how}."
    parts = [f"In {summary['recognisable']} of {n} synthetic videos the source person is still recognisable in "
             f"≥ {identity.RECOGNISABLE_SHARE:.0%} of sampled frames"]
    if summary["changed"]:
        parts.append(f"in {summary['changed']} of {n} the identity changed")
    if summary["mixed"]:
        parts.append(f"{summary['mixed']} of {n} are in between")
    text = "; ".join(parts) + f" {how}."
    if len(summary["by_method"]) > 1:
        text += " Per method: " + "; ".join(
            f"{m}: {c['recognisable']} of {c['videos'] - c['unmeasured']} recognisable"
            for m, c in summary["by_method"].items()) + "."
    for m, c in summary["by_method"].items():
        if EXPECTED.get(m) == "recognisable":
            text += (f" {m} keeps the source face's structure by design, so its videos are expected to stay "
                     "recognisable: they do not anonymise anyone.")
    left_out = summary["unmeasured"] + not_measured
    if left_out:
        text += f" {left_out} video(s) were not measured (no face found or original frames missing)."
    return text


def headline(summary: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    """The card's identity table: one row per method."""
    rows = [[m, c["videos"], c["recognisable"], c["mixed"], c["changed"], c["unmeasured"],
             c["median_synthetic_original"], c["expected"] or "–"] for m, c in summary["by_method"].items()]
    return fmt.headline_table(f"Identity: is the source person still recognisable? (dlib ResNet, threshold "
                              f"{threshold:g})", ["method", "videos", "recognisable", "mixed", "changed",
                                                  "unmeasured", "median distance to original", "expected"], rows)


# --------------------------------------------------------------------------------------------------------------
# The section


def _strip_items(ctx: Any, chosen: Sequence[identity.VideoIdentity], references: Mapping[str, Path]
                 ) -> list[tuple[identity.VideoIdentity, int, np.ndarray, np.ndarray, np.ndarray]]:
    assert ctx.source_root is not None
    rows = ctx.videos.set_index("video", drop=False)
    items = []
    for r in chosen:
        row = rows.loc[r.video].to_dict()
        pairs = [(abs(d - (r.median_synthetic_original or 0)), f) for f, d in
                 zip(r.frames, r.synthetic_to_original) if d is not None]
        frame = min(pairs)[1] if pairs else r.frames[len(r.frames) // 2]
        o = OriginalFrames(ctx.source_root, row).get([frame])[frame]
        s = synthetic_frames(ctx.release, r.video, [frame])[frame]
        ref_path = references.get(str(row["reference_sha256"]))
        ref = read_reference(ref_path) if ref_path else np.full_like(to_rgb(s), 200)
        items.append((r, frame, to_rgb(o), to_rgb(s), ref))
    return items


def fill_section(sec: Any, ctx: Any, no_source_root: str) -> Any:
    """Fill the report's identity ``Section`` ``sec`` from its ``ReportContext`` ``ctx`` (``metrics.report``,
    which calls this): table, scatter (Figure 9), sample frames of the most and least changed videos (Figure 10),
    the card's claim sentence and headline table; or skip it with the reason (``no_source_root`` without the
    original frames). Returns ``sec``."""
    samples, threshold = ctx.identity_samples, ctx.identity_threshold
    try:
        _describer()
    except identity.IdentityUnavailable as exc:
        return sec.skip(exc.reason)
    if ctx.source_root is None:
        return sec.skip(no_source_root)
    references, ref_missing = resolve_references(ctx.release, ctx.manifest, ctx.videos)
    results, not_measured, faces = measure_identity(ctx.release, ctx.manifest, ctx.videos, ctx.source_root,
                                                    references, samples=samples, progress=ctx.progress)
    results = [r.with_threshold(threshold) for r in results]
    if not results:
        return sec.skip(f"the original frames of no video were found under {ctx.source_root} (first video: "
                        f"{next(iter(not_measured.values()), '')})", videos_skipped=not_measured)
    for video, why in not_measured.items():
        sec.skipped[f"identity:{video}"] = why
    methods = {str(r.video): str(r.method) for r in ctx.videos.itertuples()}
    summary = summarise(results, methods)
    doc = sec.doc
    doc.p(f"{identity.METHOD}. For each synthetic video, {samples} frames sampled evenly over it (every frame when it "
          "is shorter), the same source frames of its original through the video's crop, and its reference image "
          "are described (128-D); distances are Euclidean. dlib documents that faces less than "
          f"{threshold:g} apart are the same person (threshold used here: {threshold:g}). A video is "
          f"**recognisable** when its synthetic face is within the threshold of the original in ≥ "
          f"{identity.RECOGNISABLE_SHARE:.0%} of the sampled frames with a face in both, **changed** in ≤ "
          f"{identity.CHANGED_SHARE:.0%}, **mixed** in between, **unmeasured** when no frame pair has a face in both. "
          f"Descriptors are cached per video in `{CACHE_DIR}/`.")
    log.info("identity: %d descriptors computed in this run; the rest came from %s", faces, CACHE_DIR)
    doc.p("**Result**: " + claim(summary, threshold, samples, len(not_measured)))
    if not_measured:
        doc.p(f"**Left out** ({len(not_measured)} of {len(ctx.videos)} videos): "
              + "; ".join(f"{v}: {why}" for v, why in not_measured.items()) + ".")
    missing_refs = {str(r.video): ref_missing[str(r.reference_sha256)] for r in ctx.videos.itertuples()
                    if str(r.reference_sha256) in ref_missing}
    if missing_refs:
        doc.p(f"Reference image not found for {len(missing_refs)} videos, so their distances to the reference "
              "are unmeasured (–): " + "; ".join(sorted(set(missing_refs.values()))) + ".")
        sec.skipped["identity:references"] = next(iter(missing_refs.values()))
    table = identity.identity_table(results).set_index("video")
    table.insert(0, "method", [methods.get(v, "unknown") for v in table.index])
    doc.table(table, f"Identity per video: medians of the per-frame distances (threshold {threshold:g}); "
                     "recognisable_share = share of frames with a face in both whose synthetic face is within the "
                     "threshold of the original; no-face columns name source frame numbers.")
    doc.figure(save_figure(identity.plot_identity_scatter(results, methods), ctx.figures / SCATTER_FIGURE),
               f"Figure 9. One point per video: median distance of the synthetic face to the original (x) and to "
               f"the reference (y); lines at the threshold {threshold:g}. Left of the dashed line: still the "
               "source person.")
    extremes = identity.most_and_least_changed(results)
    if extremes is not None:
        chosen = [extremes[0]] if extremes[0].video == extremes[1].video else list(extremes)
        doc.figure(save_figure(identity.plot_strips(_strip_items(ctx, chosen, references)), ctx.figures / STRIP_FIGURE),
                   "Figure 10. Original | synthetic | reference at one sampled frame of the most changed video "
                   "(top) and the least changed one (bottom), with that frame's distances.")
    sec.result = {"method": identity.METHOD, "threshold": threshold, "samples": samples,
                  "recognisable_share": identity.RECOGNISABLE_SHARE, "changed_share": identity.CHANGED_SHARE,
                  "summary": summary, "per_video": table.reset_index(),
                  "videos": [r.to_dict() for r in results], "videos_skipped": not_measured,
                  "references_missing": missing_refs}
    sec.claims["identity"] = claim(summary, threshold, samples, len(not_measured))
    sec.headline["identity"] = headline(summary, threshold)
    return sec

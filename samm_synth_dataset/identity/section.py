"""The quality report's identity section: is the source person still recognisable in each synthetic video?

Per video (``identity_of_video``): N frames sampled evenly over the synthetic video, the same SOURCE frames of its
original through the video's crop, and its reference image are described with dlib's ResNet face descriptor
(``metrics.identity``). The work runs as two parts of the report's stage (``stages``; workers, torchrun ranks):
``identity-shared``, one task per distinct original (source video + crop + output size + sampled frames) and per
distinct reference image, so the synthetic videos made from one original (or reference) describe it once; then
``identity``, one task per video, which reads those descriptors from their task folders. The section reads each
video's result from its task folder; a re-run with the same release and settings reuses the finished tasks.

The reference image of a video is found through the build's ``references`` setting (manifest config): a CSV
``subject, reference_path, domain[, reference_id]`` (paths relative to the CSV's folder; the id defaults to the
file name's stem with characters outside ``[A-Za-z0-9_-]`` replaced by ``_``) or a folder with ``female/`` and
``male/`` images (id = the stem, likewise). The image must have the ``reference_sha256`` of the videos table; a
missing or changed image leaves the video's reference distances unmeasured (named), never guessed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.identity import descriptor as identity
from samm_synth_dataset.identity import figures
from samm_synth_dataset.images import decode_image, to_rgb
from samm_synth_dataset.metrics.au_export import original_key
from samm_synth_dataset.metrics.data import OriginalFrames, synthetic_frame_numbers, synthetic_frames
from samm_synth_dataset.metrics.document import save_figure
from samm_synth_dataset.stages import Stage, Task, TaskDirs, release_digest

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
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


def _descriptors_json(d: Mapping[int, np.ndarray | None]) -> dict[str, Any]:
    return {str(k): (None if v is None else [float(x) for x in v]) for k, v in d.items()}


def _descriptors_from_json(d: Mapping[str, Any]) -> dict[int, np.ndarray | None]:
    return {int(k): (None if v is None else np.asarray(v, dtype=np.float64)) for k, v in d.items()}


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


def original_descriptors(row: Mapping[str, Any], source_root: str | Path, frames: Sequence[int]
                         ) -> dict[int, np.ndarray | None]:
    """Descriptors of the original's ``frames`` (SOURCE numbers) through the video's crop. Raises
    FileNotFoundError/KeyError when the frames are not under ``source_root``."""
    images = OriginalFrames(source_root, row).get(frames)
    return identity.describe_frames(((f, images[f]) for f in frames), _describer(),
                                    f"video {row['video']} original frame")


def reference_descriptor(row: Mapping[str, Any], reference: str | Path) -> np.ndarray | None:
    """Descriptor of the video's reference image (None: no face)."""
    return _describer().describe(read_reference(Path(reference)), where=f"reference {row['reference_id']}")


def identity_of_video(release: str | Path, row: Mapping[str, Any], source_root: str | Path,
                      reference: str | Path | None, samples: int = identity.DEFAULT_SAMPLES,
                      original: Mapping[int, np.ndarray | None] | None = None,
                      reference_face: np.ndarray | None | bool = False) -> dict[str, Any]:
    """Identity of one synthetic video (``row``: its videos-table row as a dict): ``VideoIdentity.to_dict()``
    plus ``faces`` (descriptors computed in this call). ``reference``: its image (None: unknown, reference
    distances unmeasured). ``original`` / ``reference_face``: descriptors already computed (the shared part);
    described here when not given (``reference_face=False``). Raises FileNotFoundError/KeyError when the original
    frames are not under ``source_root``."""
    video = str(row["video"])
    frames = sampled_frames(release, video, samples)
    faces = 0
    if original is None or any(f not in original for f in frames):
        original = original_descriptors(row, source_root, frames)
        faces += len(frames)
    synth = synthetic_frames(Path(release), video, frames)
    synthetic = identity.describe_frames(((f, synth[f]) for f in frames), _describer(),
                                         f"video {video} synthetic frame")
    faces += len(frames)
    ref = None
    if reference is not None:
        if reference_face is False:
            ref = reference_descriptor(row, reference)
            faces += 1
        else:
            ref = reference_face  # type: ignore[assignment]
    result = identity.identity_from_descriptors(video, frames, original, synthetic, ref)
    return {**result.to_dict(), "faces": faces}


def _shared_id(what: str, row: Mapping[str, Any], frames: Sequence[int]) -> str:
    """The task id of a shared descriptor: one per original — the sha256 of the descriptor method and the
    original's key (source video, crop, output size, sampled SOURCE frame numbers, as the AU tracks key it) — or
    one per reference image (its sha256)."""
    if what == "original":
        key = {"method": identity.METHOD, "original": list(original_key(row, np.asarray(list(frames), np.int64)))}
        return f"original-{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()}"
    return "reference-" + re.sub(r"[^0-9A-Za-z]", "_", str(row["reference_sha256"]))[:64]


def _shared_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: the descriptors of one original (or one reference image) that several videos share, in
    ``descriptors.json`` (a failure is left to the videos' tasks, which say why)."""
    what, row, other, frames = task.args
    if what == "original":
        out, why = _outcome(lambda: _descriptors_json(original_descriptors(row, other, frames)))
    else:
        out, why = _outcome(lambda: _descriptors_json({0: reference_descriptor(row, other)}))
    (dirs.out / "descriptors.json").write_text(json.dumps({"descriptors": out, "skipped": why}, sort_keys=True))


def _shared(folder: Path | None) -> dict[int, np.ndarray | None] | None:
    """The descriptors a shared task found (None when it could not: the video's task then says why)."""
    if folder is None:
        return None
    found = json.loads((folder / "descriptors.json").read_text())["descriptors"]
    return None if found is None else _descriptors_from_json(found)


def _identity_task(task: Task, dirs: TaskDirs) -> None:
    """``stages`` task: one video's identity in ``identity.json`` (``identity``: the result, or None with the
    reason in ``skipped``; ``faces``: descriptors computed by this task)."""
    release, row, source_root, reference, samples, original, ref_folder = task.args
    ref = _shared(ref_folder)
    out, why = _outcome(lambda: identity_of_video(
        release, row, source_root, reference, samples, original=_shared(original),
        reference_face=False if ref is None else ref[0]))
    (dirs.out / "identity.json").write_text(json.dumps(
        {"video": task.id, "skipped": why, "faces": None if out is None else out.pop("faces"), "identity": out},
        sort_keys=True))


def describe_videos(ctx: Any) -> None:
    """The identity section's per-video work (``report.PER_VIDEO_WORK``): the shared descriptors, then every
    video, through ``ctx.stage`` (``ctx.settings.workers`` processes; under torchrun each rank its share); the task
    folders go into ``ctx.results["identity"]`` (video -> folder), which the section reads. Does nothing when the
    section will be skipped (no dlib, no original frames)."""
    if ctx.source_root is None:
        return
    try:
        _describer()
    except identity.IdentityUnavailable:
        return
    if ctx.stage is None:  # the section on its own: a stage of its own (results kept under .build/stages/report)
        with Stage(ctx.release, "report", rerun=f"samm-synth report {ctx.release}", workers=ctx.settings.workers,
                   progress=ctx.settings.progress) as stage:
            return _describe(ctx, stage)
    return _describe(ctx, ctx.stage)


def _describe(ctx: Any, stage: Stage) -> None:
    references, _ = resolve_references(ctx.release, ctx.manifest, ctx.videos)
    settings = {"release": release_digest(ctx.manifest), "source_root": str(Path(ctx.source_root).resolve()),
                "samples": ctx.settings.identity_samples, "method": identity.METHOD}
    jobs: list[tuple[dict[str, Any], str | None, list[int] | None]] = []
    shared: dict[str, Task] = {}
    for _, r in ctx.videos.iterrows():
        row = r.to_dict()
        ref = references.get(str(row["reference_sha256"]))
        frames, _ = _outcome(lambda row=row: sampled_frames(ctx.release, str(row["video"]), ctx.settings.identity_samples))
        jobs.append((row, None if ref is None else str(ref), frames))
        if frames is None:  # the video's own task says why
            continue
        name = _shared_id("original", row, frames)
        shared.setdefault(name, Task(name, len(frames), ("original", row, str(ctx.source_root), frames)))
        if ref is not None:
            name = _shared_id("reference", row, frames)
            shared.setdefault(name, Task(name, 1, ("reference", row, str(ref), None)))
    done = stage.run("identity-shared", list(shared.values()), _shared_task, settings)
    tasks = []
    for row, ref, frames in jobs:
        original = done[_shared_id("original", row, frames)] if frames is not None else None
        ref_folder = done.get(_shared_id("reference", row, frames)) if frames is not None and ref else None
        tasks.append(Task(str(row["video"]), int(row.get("n_frames") or 1),
                          (str(ctx.release), row, str(ctx.source_root), ref, ctx.settings.identity_samples, original,
                           ref_folder)))
    ctx.results["identity"] = stage.run("identity", tasks, _identity_task, settings)


def measure_identity(ctx: Any) -> tuple[list[identity.VideoIdentity], dict[str, str], int]:
    """Every video's identity from its task folder (``describe_videos`` first when it has not run): ``(results,
    video -> why not measured, descriptors computed in this run)``, in table order."""
    if "identity" not in ctx.results:
        describe_videos(ctx)
    done = ctx.results["identity"]
    results: list[identity.VideoIdentity] = []
    skipped: dict[str, str] = {}
    faces = 0
    for video in ctx.videos["video"].astype(str):
        record = json.loads((done[video] / "identity.json").read_text())
        if record["skipped"] is not None:
            skipped[video] = record["skipped"]
            log.warning("identity of %s skipped: %s", video, record["skipped"])
            continue
        faces += int(record["faces"])
        results.append(identity.VideoIdentity.from_dict(record["identity"]))
    return results, skipped, faces


def _outcome(call: Any) -> tuple[Any, str | None]:
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
        c["expected"] = fmt.IDENTITY_EXPECTED.get(m)
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
        if fmt.IDENTITY_EXPECTED.get(m) == "recognisable":
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
    samples, threshold = ctx.settings.identity_samples, ctx.settings.identity_threshold
    try:
        _describer()
    except identity.IdentityUnavailable as exc:
        return sec.skip(exc.reason)
    if ctx.source_root is None:
        return sec.skip(no_source_root)
    references, ref_missing = resolve_references(ctx.release, ctx.manifest, ctx.videos)
    results, not_measured, faces = measure_identity(ctx)
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
          "Each original and each reference image is described once and shared by its videos.")
    log.info("identity: %d face descriptors behind the %d measured videos (the stage log says how many tasks an "
             "earlier run had finished)", faces, len(results))
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
    doc.figure(save_figure(figures.plot_identity_scatter(results, methods), ctx.figures / SCATTER_FIGURE),
               f"Figure 9. One point per video: median distance of the synthetic face to the original (x) and to "
               f"the reference (y); lines at the threshold {threshold:g}. Left of the dashed line: still the "
               "source person.")
    extremes = identity.most_and_least_changed(results)
    if extremes is not None:
        chosen = [extremes[0]] if extremes[0].video == extremes[1].video else list(extremes)
        doc.figure(save_figure(figures.plot_strips(_strip_items(ctx, chosen, references)), ctx.figures / STRIP_FIGURE),
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

"""``build(config)``: source videos × references → a release (see ``samm_synth_dataset.format``).

One unit of work is one synthetic video (a source video restyled by one reference). Its frames stream through
decoding + fixed face crop (a thread pool) → style transfer (batches) → image encoding (a thread pool) → part
writers, each stage a bounded number of frames ahead, so memory is bounded by the batch and row-group sizes,
never by the video's length. Under torchrun every rank builds
a disjoint, deterministic set of units; rank 0 finalizes after a barrier.

Crash-test hooks (environment): ``SAMM_SYNTH_KILL_AFTER_PARTS=N`` sends SIGKILL to this process after it
committed N parts; ``SAMM_SYNTH_KILL_AT=prepare:folders|frames:N|units:N|finalize:tables|finalize:manifest``
between creating the folders and writing the plan, after N frames added (mid-part), N unit markers, or inside
finalize.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import manifest as mf
from samm_synth_dataset.builders.config import ANNOTATION_DATASET, BuildConfig
from samm_synth_dataset.builders.labels import LabelIndex, intervals_rows
from samm_synth_dataset.builders.references import (Reference, Subject, domain_index, load_references,
                                                    read_subjects)
from samm_synth_dataset.distributed import DistInfo, Group, assign, dist_info
from samm_synth_dataset.builders.writer import BUILD_DIR, PartRecord, VideoPartsWriter
from samm_synth_dataset.format import atomic_write_json, dumps_json, sha256_file

log = logging.getLogger(__name__)


def _thread_counts() -> tuple[int, int]:
    """(decode, encode) threads for this process: the CPUs shared among the ranks on this node (torchrun's
    ``LOCAL_WORLD_SIZE``), one left for the model; OpenCV releases the GIL while it decodes and encodes."""
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    cpus = max(1, (os.cpu_count() or 2) // local - 1)
    return min(8, cpus), min(4, cpus)


@dataclass
class _Pools:
    decode: ThreadPoolExecutor
    encode: ThreadPoolExecutor


@dataclass(frozen=True)
class Unit:
    """One synthetic video to build."""

    video: str
    source: Any  # sources.VideoSource
    reference: Reference
    glasses: bool | None

    def plan_entry(self) -> dict[str, Any]:
        """What a resumed build must find unchanged: ids, the reference's bytes, the source frame range."""
        return {"video": self.video, "source_video": self.source.video, "subject": self.source.subject,
                "reference_id": self.reference.reference_id, "reference_sha256": self.reference.sha256,
                "n_frames": self.source.n_frames, "first_frame": self.source.first_frame,
                "last_frame": self.source.last_frame}


@dataclass
class BuildSummary:
    """What a build did. ``complete`` is True when ``manifest.json`` says ``complete`` (on rank 0; other ranks
    report their own units). ``skipped``/``failed`` are ``(video, reason)`` pairs. ``missing_frames`` maps a
    built source video to the SOURCE frame numbers missing inside it (``allow_gaps``; absent from the release)."""

    release: Path
    videos: int = 0
    frames: int = 0
    parts: int = 0
    bytes: int = 0
    seconds: float = 0.0
    reused: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing_frames: dict[str, list[int]] = field(default_factory=dict)
    complete: bool = False
    rank: int = 0
    world_size: int = 1

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        head = f"rank {self.rank}/{self.world_size}: " if self.world_size > 1 else ""
        lines = [f"{head}release {self.release}: {'complete' if self.complete else 'NOT complete'}",
                 f"  videos {self.videos} ({self.reused} reused from an earlier run), frames {self.frames}, "
                 f"parts {self.parts}, {self.bytes / 1e6:.1f} MB, {self.seconds:.1f} s "
                 f"({self.frames_per_second:.1f} frames/s)"]
        for video, numbers in self.missing_frames.items():
            shown = ", ".join(str(n) for n in numbers[:20]) + (", …" if len(numbers) > 20 else "")
            lines.append(f"  gaps    {video}: {len(numbers)} source frame(s) missing, not in the release "
                         f"(allow_gaps): {shown}")
        for video, reason in self.skipped:
            lines.append(f"  skipped {video}: {reason}")
        for video, reason in self.failed:
            lines.append(f"  FAILED  {video}: {reason}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Kill switch for crash tests


class _KillSwitch:
    def __init__(self) -> None:
        self.after_parts = _env_int("SAMM_SYNTH_KILL_AFTER_PARTS")
        self.stage, _, arg = os.environ.get("SAMM_SYNTH_KILL_AT", "").partition(":")
        self.arg = arg
        self.n = int(arg) if arg.isdigit() else None
        self.parts = self.frames = self.units = 0

    @staticmethod
    def _die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def part(self, _record: PartRecord | None = None) -> None:
        self.parts += 1
        if self.after_parts is not None and self.parts >= self.after_parts:
            self._die()

    def frame(self) -> None:
        self.frames += 1
        if self.stage == "frames" and self.n is not None and self.frames >= self.n:
            self._die()

    def unit(self) -> None:
        self.units += 1
        if self.stage == "units" and self.n is not None and self.units >= self.n:
            self._die()

    def finalize(self, point: str) -> None:
        if self.stage == "finalize" and self.arg == point:
            self._die()

    def prepare(self, point: str) -> None:
        if self.stage == "prepare" and self.arg == point:
            self._die()


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.strip().isdigit() else None


# --------------------------------------------------------------------------------------------------------------
# Planning


def _read_subjects(config: BuildConfig) -> dict[str, Subject]:
    return read_subjects(config.subjects) if config.subjects is not None else {}


def plan_units(config: BuildConfig) -> tuple[list[Unit], list[tuple[str, str]], Any]:
    """The units to build (sorted by synthetic video id), the skipped ones with reasons, and the annotations
    DataFrame (clipped to the videos' last frames; None without annotations).

    The source readers get ``config.allow_gaps`` (frame gaps recorded in ``VideoSource.missing`` instead of a
    ``FrameGapError``) and ``config.offset_fill`` (the CAS(ME)² offset-0 rule)."""
    from samm_synth_dataset.sources import clip_offsets, list_videos, read_annotations

    subjects = _read_subjects(config)
    refs = load_references(config.references, config.refs_per_subject, config.seed, subjects or None)
    sources = list_videos(config.source_root, config.dataset, fps=config.fps, videos=config.videos,
                          allow_gaps=config.allow_gaps)
    skipped: list[tuple[str, str]] = []
    excluded = set(config.exclude_videos)
    annotations = None
    if config.annotations is not None:
        annotations = read_annotations(config.annotations, ANNOTATION_DATASET[config.dataset],
                                       offset_fill=config.offset_fill)
        annotations = clip_offsets(annotations, sources)
        listed = {s.video for s in sources}
        wanted = set(config.videos) if config.videos is not None else None
        for video in sorted(set(annotations["video"]) - listed):
            if wanted is None or video in wanted:
                skipped.append((video, "annotated, but no frames found under the source root"))
    units: list[Unit] = []
    for source in sources:
        if source.video in excluded:
            skipped.append((source.video, "excluded by the config (exclude_videos)"))
            continue
        subject_refs = refs.get(source.subject, [])
        if not subject_refs:
            skipped.append((source.video, f"no reference for subject {source.subject!r} in {config.references}"))
            continue
        if len(subject_refs) < config.refs_per_subject:
            log.warning("subject %s has %d reference(s), fewer than refs_per_subject=%d", source.subject,
                        len(subject_refs), config.refs_per_subject)
        glasses = subjects[source.subject].glasses if source.subject in subjects else None
        for ref in subject_refs:
            units.append(Unit(fmt.synthetic_video_id(source.video, ref.reference_id), source, ref, glasses))
    units.sort(key=lambda u: u.video)
    ids = [u.video for u in units]
    if len(set(ids)) != len(ids):
        dupes = sorted({v for v in ids if ids.count(v) > 1})
        raise ValueError(f"synthetic video ids {dupes} occur twice: give references distinct reference_ids")
    return units, sorted(skipped), annotations


# --------------------------------------------------------------------------------------------------------------
# Frames


def encode_image(rgb: np.ndarray, image_format: str, jpeg_quality: int) -> bytes:
    """Encode one H×W×3 uint8 RGB frame: JPEG (quality ``jpeg_quality``, 4:2:0, baseline) or PNG (level 6)."""
    import cv2

    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    if image_format == "jpeg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {rgb.shape} frame as {image_format}")
    return buf.tobytes()


def _ordered_map(fn: Any, items: Iterable[Any], pool: ThreadPoolExecutor, lookahead: int) -> Iterator[Any]:
    """``fn`` over ``items`` on ``pool``, at most ``lookahead`` in flight, results in input order."""
    pending: deque = deque()
    for item in items:
        if len(pending) >= lookahead:
            yield pending.popleft().result()
        pending.append(pool.submit(fn, item))
    while pending:
        yield pending.popleft().result()


def load_reference_image(ref: Reference, size: int) -> np.ndarray:
    """The reference face as S×S×3 uint8 RGB (greyscale replicated; resized with area/linear interpolation).
    Reference images are expected to be face crops already (e.g. CelebA-HQ/AFHQ style)."""
    import cv2

    from samm_synth_dataset.sources import read_image, to_rgb

    img = to_rgb(read_image(ref.path))
    if img.shape[:2] != (size, size):
        interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    return img


def _domain(method: Any, domain: str) -> int:
    """Domain index for ``method``: the model's own naming when it has ``num_domains`` (StarGAN v2), else
    female 0 / male 1 / digits."""
    num_domains = getattr(method, "num_domains", None)
    if num_domains is not None:
        from samm_synth_dataset.transfer import domain_index as model_domain_index

        return model_domain_index(domain, int(num_domains))
    return domain_index(domain)


def _cropped_frames(source: Any, crop: Any, pool: ThreadPoolExecutor, lookahead: int) -> Iterator[np.ndarray]:
    """The source frames, face-cropped to S×S×3 RGB, in order. Image folders are decoded on ``pool`` (at most
    ``lookahead`` frames ahead: full-size SAMM-LV frames cost more to decode than a GPU model to translate);
    video files are read sequentially."""
    from samm_synth_dataset.sources import iter_video_frames, read_image, to_rgb

    if source.frame_paths is None:
        for _, image in iter_video_frames(source):
            yield to_rgb(crop.apply(image))
        return

    def load(path: Path) -> np.ndarray:
        return to_rgb(crop.apply(read_image(path)))

    yield from _ordered_map(load, source.frame_paths, pool, lookahead)


def _video_crop(config: BuildConfig, source: Any, method: Any, size: int) -> Any:
    """ONE crop for the whole source video: the located (or boxes-CSV) box, refined by the official FAN
    alignment when ``config.align_landmarks`` is set."""
    from samm_synth_dataset.faces import locate_face
    from samm_synth_dataset.faces.align import align_video, load_reference_landmarks
    from samm_synth_dataset.faces.locate import sample_positions
    from samm_synth_dataset.sources.frames import read_frames_at

    crop = locate_face(source, size=size, n_samples=config.face_samples, boxes_csv=config.boxes)
    if config.align_landmarks is None:
        return crop
    reference = load_reference_landmarks(config.align_landmarks)
    frames = [image for _, _, image in read_frames_at(source, sample_positions(source.n_frames,
                                                                                config.face_samples))]
    return align_video(frames, crop, method.landmarks, reference, (source.width, source.height),
                       video=source.video)


def build_unit(config: BuildConfig, unit: Unit, method: Any, annotations: Any, release: Path,
               kill: _KillSwitch, progress: Any, pools: "_Pools",
               crops: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build one synthetic video; return its unit marker (written by the caller). ``crops`` caches the face crop
    of each source video (one crop per source video, shared by its references)."""
    from samm_synth_dataset.transfer import translate_frames

    source = unit.source
    size = int(method.image_size)
    crops = {} if crops is None else crops
    if source.video not in crops:
        crops[source.video] = _video_crop(config, source, method, size)
    crop = crops[source.video]
    style = method.style(load_reference_image(unit.reference, size), _domain(method, unit.reference.domain))
    intervals = intervals_rows(annotations, source.video, unit.video)
    index = LabelIndex(intervals)
    writer = VideoPartsWriter(release, unit.video, config.formats, config.image_ext, config.max_part_bytes,
                              config.max_part_frames, on_part=kill.part)
    lookahead = 2 * config.batch_size
    out = translate_frames(method, style, _cropped_frames(source, crop, pools.decode, lookahead),
                           batch_size=config.batch_size)
    encoded = _ordered_map(partial(encode_image, image_format=config.image_format,
                                   jpeg_quality=config.jpeg_quality), out, pools.encode, lookahead)
    n = 0
    try:
        for image in encoded:
            if n >= source.n_frames:
                raise RuntimeError(f"video {source.video}: the transfer returned more frames than the "
                                   f"{source.n_frames} read")
            frame = int(source.frame_numbers[n])
            labels = index.labels(frame)
            writer.add({"video": unit.video, "source_video": source.video, "subject": source.subject,
                        "frame": frame, "index": n, "me": labels.me, "mae": labels.mae,
                        "interval_ids": list(labels.interval_ids), "reference_id": unit.reference.reference_id},
                       image)
            n += 1
            kill.frame()
            if progress is not None:
                progress.update(1)
        if n != source.n_frames:
            raise RuntimeError(f"video {source.video}: {n} frames came out of the transfer, {source.n_frames} "
                               "went in")
        parts = writer.close()
    except BaseException:
        writer.abort()
        raise
    videos_row = {
        "video": unit.video, "source_video": source.video, "subject": source.subject,
        "source_dataset": config.dataset, "n_frames": n, "fps": float(source.fps), "width": size,
        "height": size, "crop": crop.as_dict(), "crop_matrix": crop.matrix_list(),
        "reference_id": unit.reference.reference_id,
        "reference_sha256": unit.reference.sha256, "domain": unit.reference.domain, "method": method.name,
        "checkpoint_sha256": method.checkpoint_sha256, "glasses": unit.glasses,
    }
    return {"video": unit.video, "source_video": source.video, "frames": n,
            "parts": [p.as_dict() for p in parts], "videos_row": videos_row, "intervals": intervals}


# --------------------------------------------------------------------------------------------------------------
# Orchestration


def _resolve_device(config: BuildConfig, info: DistInfo) -> str:
    if config.device != "auto":
        return config.device
    if config.method == "color-transfer":
        return "cpu"  # no model: do not import torch
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda:{info.local_rank % max(1, torch.cuda.device_count())}"
    except ImportError:
        pass
    return "cpu"


def missing_frames(units: list[Unit]) -> dict[str, list[int]]:
    """``{source video: its missing SOURCE frame numbers}`` for the planned units' videos that have gaps
    (only with ``allow_gaps``), sorted by video."""
    return {v: list(m) for v, m in sorted({u.source.video: u.source.missing for u in units
                                            if u.source.missing}.items())}


def make_plan(config: BuildConfig, units: list[Unit], skipped: list[tuple[str, str]]) -> dict[str, Any]:
    """The build's plan (``.build/plan.json``): config, versions, units, the missing source frames per video
    (``allow_gaps``) and the sha256 of every input file that is not a frame, so that ``--resume`` refuses
    inputs changed since the interrupted run."""
    inputs = {name: sha256_file(path) for name in ("annotations", "subjects", "boxes", "checkpoint",
                                                    "fan_checkpoint", "align_landmarks")
              if (path := getattr(config, name, None)) is not None and Path(path).is_file()}
    return {"format_version": fmt.FORMAT_VERSION, "config": config.effective(), "versions": fmt.versions(),
            "inputs": inputs, "units": [u.plan_entry() for u in units],
            "skipped": [{"video": v, "reason": r} for v, r in skipped],
            "missing_frames": missing_frames(units)}


def _prepare_release(config: BuildConfig, plan: dict[str, Any], kill: _KillSwitch) -> None:
    """Rank 0: check the output folder (empty, or --resume with the same plan) and write plan + building
    manifest."""
    out = config.out
    plan_path = out / mf.PLAN
    if out.exists() and any(out.iterdir()):
        if not config.resume:
            raise ValueError(f"{out} is not empty: pass --resume to continue the build there, or choose an empty "
                             "--out folder")
        if not plan_path.is_file():
            leftovers = [p for p in out.rglob("*") if p.is_file()]
            if leftovers or not (out / BUILD_DIR).is_dir():
                raise ValueError(f"{out}: --resume, but there is no {mf.PLAN}; it was not made by `samm-synth "
                                 "build`; choose an empty --out folder")
            # killed between creating the folders and writing the plan: nothing was built yet
            log.info("%s: the interrupted build wrote nothing yet; starting afresh", out)
            old = plan
        else:
            old = mf.read_json(plan_path)
        if old.get("inputs", {}) != plan["inputs"]:
            changed = sorted(k for k in set(old.get("inputs", {})) | set(plan["inputs"])
                             if old.get("inputs", {}).get(k) != plan["inputs"].get(k))
            raise ValueError(f"{out}: --resume, but input files changed since the interrupted build ({changed}); "
                             "restore them or build into an empty --out folder")
        if old.get("config") != plan["config"] or old.get("units") != plan["units"]:
            diff = sorted(k for k in set(old.get("config", {})) | set(plan["config"])
                          if old.get("config", {}).get(k) != plan["config"].get(k))
            raise ValueError(f"{out}: --resume with different settings or inputs than the interrupted build "
                             f"(config differs in {diff or 'its list of units'}); use the same settings or an "
                             "empty --out folder")
        if old.get("versions") != plan["versions"]:
            log.warning("%s: library versions differ from the interrupted build's; bytes of redone parts may "
                        "differ from the kept ones", out)
    out.mkdir(parents=True, exist_ok=True)
    (out / BUILD_DIR).mkdir(exist_ok=True)
    kill.prepare("folders")
    atomic_write_json(out / mf.PLAN, plan)
    mf.write_building_manifest(out, plan)


def build(config: BuildConfig) -> BuildSummary:
    """Build (or, with ``config.resume``, continue) a release into ``config.out``; return the summary.

    Under torchrun (``WORLD_SIZE > 1``) each rank builds its own units and rank 0 finalizes after a gloo
    barrier. Raises ValueError/FileNotFoundError for bad inputs before any unit starts.
    """
    t0 = time.perf_counter()
    info = dist_info()
    release = Path(config.out)
    kill = _KillSwitch()
    units, skipped, annotations = plan_units(config)
    plan = make_plan(config, units, skipped)
    summary = BuildSummary(release=release, skipped=skipped, rank=info.rank, world_size=info.world_size,
                           missing_frames=missing_frames(units))
    with Group(info, config.dist_timeout_hours) as group:
        prepared_ok = True
        if info.is_main:
            try:
                _prepare_release(config, plan, kill)
            except BaseException:
                prepared_ok = False
                if not info.distributed:
                    raise
                group.all_ok(False)
                raise
        if not group.all_ok(prepared_ok):
            raise RuntimeError(f"rank 0 could not prepare {release}; see its error")
        mine = assign(units, [u.source.n_frames for u in units], info.rank, info.world_size)
        todo: list[Unit] = []
        for unit in mine:
            ok, why = mf.unit_verifies(release, unit.video) if config.resume else (False, "")
            if ok:
                marker = mf.read_json(mf.unit_marker_path(release, unit.video))
                summary.reused += 1
                _count(summary, marker)
                continue
            if config.resume:
                if why != "no unit marker":
                    log.info("unit %s: redoing it (%s)", unit.video, why)
                mf.remove_unit(release, unit.video)
            todo.append(unit)
        if todo:
            _run_units(config, todo, annotations, release, kill, summary, info)
        group.barrier()
        error: BaseException | None = None
        if info.is_main:
            try:
                _finish(release, units, summary, kill)
            except BaseException as exc:  # re-raised after the other ranks are released from the barrier
                error = exc
            summary.seconds = time.perf_counter() - t0
            _write_log(release, summary)
        group.barrier()
        if error is not None:
            raise error
        if not info.is_main:
            try:
                summary.complete = fmt.read_manifest(release)["status"] == fmt.STATUS_COMPLETE
            except fmt.ReleaseError:
                summary.complete = False
    summary.seconds = time.perf_counter() - t0
    log.debug("%s", summary.format())
    return summary


def _finish(release: Path, units: list[Unit], summary: BuildSummary, kill: _KillSwitch) -> None:
    """Rank 0 after every rank is done: finalize unless a unit failed (then the manifest stays 'building')."""
    summary.failed = _failed_units(release, units)
    if summary.failed:
        return
    manifest = mf.finalize(release, kill_hook=kill.finalize)
    summary.complete = True
    summary.videos = manifest["summary"]["videos"]
    summary.frames = manifest["summary"]["frames"]
    summary.parts = manifest["summary"]["parts"]
    summary.bytes = manifest["summary"]["bytes"]


def _count(summary: BuildSummary, marker: dict[str, Any]) -> None:
    summary.videos += 1
    summary.frames += int(marker["frames"])
    summary.parts += len(marker["parts"])
    summary.bytes += sum(int(f["bytes"]) for p in marker["parts"] for f in p["files"])


def _run_units(config: BuildConfig, todo: list[Unit], annotations: Any, release: Path, kill: _KillSwitch,
               summary: BuildSummary, info: DistInfo) -> None:
    from tqdm.auto import tqdm

    from samm_synth_dataset.transfer import load_method

    device = _resolve_device(config, info)
    extra = {"image_size": config.image_size} if config.method == "color-transfer" else {}
    method = load_method(config.method, checkpoint=config.checkpoint, fan_checkpoint=config.fan_checkpoint,
                         device=device, batch_size=config.batch_size, **extra)
    if config.align_landmarks is not None and getattr(method, "fan", None) is None:
        raise ValueError(f"{config.checkpoint}: --align-landmarks needs a FAN, and this checkpoint has none (pass "
                         "the official wing.ckpt as --fan-checkpoint)")
    total = sum(u.source.n_frames for u in todo)
    crops: dict[str, Any] = {}
    desc = f"build rank {info.rank}" if info.distributed else "build"
    n_decode, n_encode = _thread_counts()
    with tqdm(total=total, unit="frame", desc=desc, disable=not config.progress, position=info.rank,
              dynamic_ncols=True) as progress, ThreadPoolExecutor(n_decode, "decode") as decode, \
            ThreadPoolExecutor(n_encode, "encode") as encode:
        pools = _Pools(decode, encode)
        for unit in todo:
            progress.set_postfix_str(unit.video)
            try:
                marker = build_unit(config, unit, method, annotations, release, kill, progress, pools, crops)
            except (MemoryError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - recorded per unit, reported in the summary
                reason = f"{type(exc).__name__}: {exc}"
                log.error("unit %s failed: %s", unit.video, reason)
                mf.remove_unit(release, unit.video)
                atomic_write_json(mf.failed_marker_path(release, unit.video), {"video": unit.video,
                                                                               "reason": reason})
                summary.failed.append((unit.video, reason))
                continue
            atomic_write_json(mf.unit_marker_path(release, unit.video), marker)
            _count(summary, marker)
            kill.unit()


def _failed_units(release: Path, units: list[Unit]) -> list[tuple[str, str]]:
    out = []
    for unit in units:
        p = mf.failed_marker_path(release, unit.video)
        if p.is_file():
            out.append((unit.video, str(mf.read_json(p).get("reason", "unknown"))))
        elif not mf.unit_marker_path(release, unit.video).is_file():
            out.append((unit.video, "not built (no unit marker)"))
    return out


def _write_log(release: Path, summary: BuildSummary) -> None:
    """Timings and counts of the last run, in ``.build/build_log.json`` (not part of the release)."""
    data = {"finished_unix": time.time(), "seconds": round(summary.seconds, 3), "world_size": summary.world_size,
            "videos": summary.videos, "frames": summary.frames, "reused": summary.reused,
            "complete": summary.complete, "failed": [list(f) for f in summary.failed],
            "missing_frames": summary.missing_frames}
    (release / BUILD_DIR).mkdir(parents=True, exist_ok=True)
    (release / mf.BUILD_LOG).write_bytes(dumps_json(data))

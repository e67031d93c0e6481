"""Building one unit: one source video restyled by one reference, written as parts into its task folder of the
build's stage (``stages``), with its unit marker ``unit.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.builders.labels import LabelIndex, intervals_rows
from samm_synth_dataset.builders.plan import STAGE, UNIT_MARKER, Unit
from samm_synth_dataset.builders.references import Reference
from samm_synth_dataset.builders.stream import Pools, encoded_frames, make_pools
from samm_synth_dataset.builders.writer import VideoPartsWriter
from samm_synth_dataset.faces import locate_face
from samm_synth_dataset.faces.align import align_video, load_reference_landmarks
from samm_synth_dataset.faces.locate import sample_positions
from samm_synth_dataset.faults import kill_point
from samm_synth_dataset.sources import read_image, to_rgb
from samm_synth_dataset.sources.frames import read_frames_at
from samm_synth_dataset.stages import Task, TaskDirs
from samm_synth_dataset.transfer.base import TransferMethod


@dataclass
class UnitContext:
    """What every unit of one build process shares (the build stage's per-process context): the config, the
    loaded transfer method, the annotations DataFrame (None without), the thread pools, and ``crops``, the face
    crop of each source video (one per source video, shared by its references)."""

    config: BuildConfig
    method: TransferMethod
    annotations: Any
    pools: Pools = field(default_factory=make_pools)
    crops: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Shut the thread pools down (the stage calls this when its run ends)."""
        self.pools.decode.shutdown()
        self.pools.encode.shutdown()


def build_task(task: Task, dirs: TaskDirs) -> None:
    """The build stage's task: build the unit ``task.args`` with the context ``dirs.context`` into ``dirs.out``
    (its parts under ``data/``, then ``unit.json``), moving the progress bar by one per frame."""
    marker = build_unit(dirs.context, task.args, dirs.out, dirs.advance)
    fmt.atomic_write_json(dirs.out / UNIT_MARKER, marker)


def load_reference_image(ref: Reference, size: int) -> np.ndarray:
    """The reference face as S×S×3 uint8 RGB (greyscale replicated; resized with area/linear interpolation).
    Reference images are expected to be face crops already (e.g. CelebA-HQ/AFHQ style)."""
    img = to_rgb(read_image(ref.path, hint=f"replace reference {ref.reference_id} (the image file) and re-run the "
                                          "same command with --resume"))
    if img.shape[:2] != (size, size):
        interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    return img


def video_crop(config: BuildConfig, source: Any, method: TransferMethod, size: int) -> Any:
    """ONE crop for the whole source video: the located (or boxes-CSV) box, refined by the official FAN
    alignment when ``config.align_landmarks`` is set."""
    crop = locate_face(source, size=size, n_samples=config.face_samples, boxes_csv=config.boxes)
    if config.align_landmarks is None:
        return crop
    reference = load_reference_landmarks(config.align_landmarks)
    frames = [image for _, _, image in read_frames_at(source, sample_positions(source.n_frames,
                                                                                config.face_samples))]
    return align_video(frames, crop, method.landmarks, reference, (source.width, source.height),
                       video=source.video)


def build_unit(ctx: UnitContext, unit: Unit, out: Path,
               advance: Callable[[int], None] = lambda _n: None) -> dict[str, Any]:
    """Build one synthetic video into parts under ``out`` (paths as in the release); return its unit marker
    (the caller writes it). On any error the part writer is aborted (its temp files removed) and the error
    propagates."""
    config, method, source = ctx.config, ctx.method, unit.source
    size = int(method.image_size)
    if source.video not in ctx.crops:
        ctx.crops[source.video] = video_crop(config, source, method, size)
    crop = ctx.crops[source.video]
    style = method.style(load_reference_image(unit.reference, size), method.domain_index(unit.reference.domain))
    intervals = intervals_rows(ctx.annotations, source.video, unit.video)
    index = LabelIndex(intervals)
    writer = VideoPartsWriter(out, unit.video, config.formats, config.image_ext, config.max_part_bytes,
                              config.max_part_frames, on_part=lambda _record: kill_point(STAGE, "parts"))
    encoded = encoded_frames(config, method, style, source, crop, ctx.pools)
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
            kill_point(STAGE, "frames")
            advance(1)
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

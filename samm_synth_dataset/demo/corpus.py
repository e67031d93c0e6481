"""A real-face demo corpus in the SAMM Long Videos (SAMM-LV) on-disk layout, with exact ground truth.

This module assembles the corpus (:func:`make_demo_corpus`) and reads its ground truth back
(:func:`load_ground_truth`, :func:`true_displacement`, ...). Its parts: the scripted design (subjects, events,
facial points) in :mod:`~samm_synth_dataset.demo.choreography`, the neutral faces, warps and frame encoding in
:mod:`~samm_synth_dataset.demo.animation`, the annotation workbook in :mod:`~samm_synth_dataset.demo.workbook`.

Conventions
-----------
* Frames are 1-based SOURCE frame numbers, as in the sheet; intervals are inclusive (``onset..offset``).
* Displacements are ``(dx, dy)`` in pixels of the source frames (x right, y down); a frame is the neutral image
  warped BACKWARD by the field of the events active at it (:mod:`~samm_synth_dataset.demo.animation` defines the
  warp, the Gaussian bumps and the temporal profile). Frames outside every event are byte-identical copies of the
  JPEG-encoded neutral image.
* An event may start before the first frame or end after the last (its profile onset/offset in ``events.csv``
  then lies outside the video); its labelled interval in ``intervals.csv`` is clipped to the video.

Layout written under ``root``::

    SAMM_longvideos/<sss>_<c>/<sss>_<c>_<n>.jpg    greyscale 8-bit JPEG (quality 95), 200 fps, n ≥ 4 digits
    SAMM_LongVideos_Demo.xlsx                      sheet FACS_Movement_Only, SAMM-LV layout (header row 10)
    README.md, samm-synth-corpus.json              who is in it (two real people) and under what licence
    references/ref<NN>_*.png, references.csv       colour reference faces: subject,reference_path,domain,reference_id
    subjects.csv                                   subject,gender,glasses
    ground_truth/intervals.csv                     the TRUE labelled intervals and how the sheet wrote them
    ground_truth/events.csv                        warp parameters; ``true_displacement`` rebuilds fields from them
    ground_truth/displacement.csv                  per video, frame and facial region: dx, dy at the region
                                                   centre and the maximum magnitude in the region's window
    ground_truth/videos.csv                        per video: subject, frame range, size, fps, face box, neutral
    ground_truth/neutral/<sss>.png                 each subject's neutral greyscale image (lossless)
    ground_truth/corpus.json                       generator parameters; written last (marks a complete corpus)

Quirks (``quirks=True``) change only the workbook, never the frames or the ground truth; ``intervals.csv``
names the quirk of each sheet row (``fractional``, ``apex_missing``, ``onset_zero``, ``duplicate_filename``,
``offset_past_end``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from samm_synth_dataset.demo.animation import (
    _Component,
    detect_face,
    displacement_field,
    encode_jpeg,
    encode_png,
    frame_name,
    neutral_face,
    temporal_profile,
    warp,
    warp_components,
    write_references,
)
from samm_synth_dataset.demo.choreography import (
    _SUBJECTS,
    REGIONS,
    Event,
    Size,
    VideoScript,
    _scripts,
    check_design,
    event_components,
    subject_people,
)
from samm_synth_dataset.demo.photos import write_corpus_about
from samm_synth_dataset.demo.workbook import _sheet_rows, _write_workbook
from samm_synth_dataset.sources.listing import SAMM_FPS, SAMM_FRAMES_DIR

log = logging.getLogger(__name__)

WORKBOOK_NAME = "SAMM_LongVideos_Demo.xlsx"
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class DemoCorpus:
    """Paths of a generated demo corpus (see the module docstring for the layout)."""

    root: Path
    frames_root: Path
    annotations: Path
    references_csv: Path
    subjects_csv: Path
    ground_truth: Path
    videos: list[str]


def _region_windows(face: tuple[int, int, int, int], height: int, width: int
                    ) -> dict[str, tuple[float, float, slice, slice]]:
    """Per region: centre (x, y) and the window (rows, cols) over which its maximum magnitude is taken: a square
    of ±0.15 face widths around the centre, or the whole face box for ``face``."""
    x, y, w, h = face
    out: dict[str, tuple[float, float, slice, slice]] = {}
    for region, (fx, fy) in REGIONS.items():
        cx, cy = x + fx * w, y + fy * h
        half = 0.5 * w if region == "face" else 0.15 * w
        rows = slice(max(0, int(cy - half)), min(height, int(cy + half) + 1))
        cols = slice(max(0, int(cx - half)), min(width, int(cx + half) + 1))
        out[region] = (cx, cy, rows, cols)
    return out


def _bilinear(field: np.ndarray, cx: float, cy: float) -> tuple[float, float]:
    """Field value at a sub-pixel point (bilinear), (dx, dy)."""
    x0, y0 = int(math.floor(cx)), int(math.floor(cy))
    ax, ay = cx - x0, cy - y0
    patch = field[y0:y0 + 2, x0:x0 + 2].astype(np.float64)
    value = ((1 - ay) * ((1 - ax) * patch[0, 0] + ax * patch[0, 1])
             + ay * ((1 - ax) * patch[1, 0] + ax * patch[1, 1]))
    return float(value[0]), float(value[1])


def _generate(root: Path, seed: int, size: Size, quirks: bool) -> list[str]:
    """Write the whole corpus into the empty folder ``root``; returns the video ids."""
    # The design is fixed; the seed jitters each event's amplitude by up to ±10 % (seed 0 = the nominal design).
    rng = np.random.default_rng(seed)
    scripts = _scripts(size)
    check_design(scripts)
    jittered: list[VideoScript] = []
    for script in scripts:
        events = tuple(
            e if seed == 0 else _replace_amplitude(e, e.amplitude * float(rng.uniform(0.9, 1.1)))
            for e in script.events)
        jittered.append(VideoScript(script.video, script.subject, script.first_frame, script.n_frames, events))
    scripts = jittered
    check_design(scripts)
    scale = 1.0 if size == "full" else 0.5
    gt = root / "ground_truth"
    (gt / "neutral").mkdir(parents=True)
    frames_root = root / SAMM_FRAMES_DIR

    neutrals: dict[str, np.ndarray] = {}
    faces: dict[str, tuple[int, int, int, int]] = {}
    for subject in sorted({s.subject for s in scripts}):
        neutrals[subject] = neutral_face(subject, scale)
        faces[subject] = detect_face(neutrals[subject])
        (gt / "neutral" / f"{subject}.png").write_bytes(encode_png(neutrals[subject]))
        log.info("subject %s: %d×%d, face box %s", subject, neutrals[subject].shape[1], neutrals[subject].shape[0],
                 faces[subject])

    component_rows: list[dict[str, object]] = []
    video_rows: list[dict[str, object]] = []
    for script in scripts:
        component_rows += event_components(script, faces[script.subject])
        height, width = neutrals[script.subject].shape
        x, y, w, h = faces[script.subject]
        video_rows.append({"video": script.video, "subject": script.subject, "first_frame": script.first_frame,
                           "last_frame": script.first_frame + script.n_frames - 1, "n_frames": script.n_frames,
                           "width": width, "height": height, "fps": SAMM_FPS, "face_x": x, "face_y": y, "face_w": w,
                           "face_h": h, "neutral": f"neutral/{script.subject}.png"})
    events = pd.DataFrame(component_rows, columns=[
        "video", "event", "component", "kind", "labelled", "action_units", "region", "cx", "cy", "sigma",
        "peak_dx", "peak_dy", "amplitude", "onset", "apex", "offset"])
    events.to_csv(gt / "events.csv", index=False)
    # re-read so the frames are made from exactly the numbers true_displacement will read
    events = pd.read_csv(gt / "events.csv", dtype={"video": str})
    pd.DataFrame(video_rows).to_csv(gt / "videos.csv", index=False)

    displacement_rows: list[tuple[str, int, str, float, float, float]] = []
    total = sum(s.n_frames for s in scripts)
    with tqdm(total=total, desc="demo corpus frames", unit="frame", disable=None) as bar:
        for script in scripts:
            neutral = neutrals[script.subject]
            height, width = neutral.shape
            neutral_jpeg = encode_jpeg(neutral)
            windows = _region_windows(faces[script.subject], height, width)
            components = warp_components(events[events["video"] == script.video])
            folder = frames_root / script.video
            folder.mkdir(parents=True)
            for frame in range(script.first_frame, script.first_frame + script.n_frames):
                if not any(temporal_profile(frame, c.onset, c.apex, c.offset) > 0.0 for c in components):
                    data = neutral_jpeg
                    for region in windows:
                        displacement_rows.append((script.video, frame, region, 0.0, 0.0, 0.0))
                else:
                    field = displacement_field(components, frame, height, width)
                    data = encode_jpeg(warp(neutral, field))
                    magnitude = np.hypot(field[..., 0], field[..., 1])
                    for region, (cx, cy, rows, cols) in windows.items():
                        dx, dy = _bilinear(field, cx, cy)
                        displacement_rows.append((script.video, frame, region, dx, dy,
                                                  float(magnitude[rows, cols].max())))
                (folder / frame_name(script.video, frame)).write_bytes(data)
                bar.update(1)

    pd.DataFrame(displacement_rows, columns=["video", "frame", "region", "dx", "dy", "max_magnitude"]).to_csv(
        gt / "displacement.csv", index=False, float_format="%.6g")

    sheet = _sheet_rows(scripts, quirks)
    pd.DataFrame(sheet).to_csv(gt / "intervals.csv", index=False)
    _write_workbook(root / WORKBOOK_NAME, sheet)

    refs = write_references(root, scale)
    refs.to_csv(root / "references.csv", index=False)
    write_corpus_about(root, "samm-synth demo corpus (SAMM-LV layout)", *subject_people())
    pd.DataFrame([{"subject": s, "gender": _SUBJECTS[s]["gender"], "glasses": _SUBJECTS[s]["glasses"]}
                  for s in sorted(neutrals)]).to_csv(root / "subjects.csv", index=False)
    return [s.video for s in scripts]


def _replace_amplitude(event: Event, amplitude: float) -> Event:
    return replace(event, amplitude=round(amplitude, 4))


def make_demo_corpus(root: str | Path, seed: int = 0, size: Size = "full", quirks: bool = False) -> DemoCorpus:
    """Generate the demo corpus into ``root`` and return its paths.

    ``size="full"`` (the ``samm-synth demo`` corpus): 2 subjects × 2 videos of 500 frames (2.5 s at 200 fps),
    frames 512 wide × 600 high (the photo's size). ``size="small"`` (tests): 270 frames per video at half size
    (256 × 300). ``quirks`` writes the real sheet's quirks into the workbook (the frames and the true intervals
    are unchanged; ``intervals.csv`` records each row's quirk and the values as written). ``seed`` 0 is the
    nominal design; other seeds jitter every event's amplitude by up to ±10 %. Deterministic: the same arguments
    give the same bytes. ``root`` must be absent, empty, or a previous demo corpus (it is replaced);
    the corpus is built in a temporary sibling folder and moved into place only when complete.
    """
    if size not in ("full", "small"):
        raise ValueError(f"size must be 'full' or 'small', got {size!r}")
    root = Path(root)
    if root.exists():
        if not root.is_dir():
            raise FileExistsError(f"{root}: exists and is not a folder; choose another output path")
        if any(root.iterdir()) and not (root / "ground_truth" / "corpus.json").is_file():
            raise FileExistsError(f"{root}: folder is not empty and is not a demo corpus; "
                                  "remove it or choose another output path")
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-", dir=root.parent))
    try:
        log.info("making the %s demo corpus (seed %d, quirks %s) in %s", size, seed, quirks, root)
        videos = _generate(work, seed, size, quirks)
        (work / "ground_truth" / "corpus.json").write_text(json.dumps(
            {"generator": "samm_synth_dataset.demo.corpus", "version": GENERATOR_VERSION, "seed": seed,
             "size": size, "quirks": quirks, "fps": SAMM_FPS, "videos": videos}, indent=2) + "\n")
        if root.exists():
            shutil.rmtree(root)
        work.rename(root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _read_csv.cache_clear()
    _video_models.cache_clear()
    log.info("demo corpus written: %s (%d videos)", root, len(videos))
    return DemoCorpus(root=root, frames_root=root / SAMM_FRAMES_DIR, annotations=root / WORKBOOK_NAME,
                      references_csv=root / "references.csv", subjects_csv=root / "subjects.csv",
                      ground_truth=root / "ground_truth", videos=videos)


# ------------------------------------------------------------------------------------------------ reading


@functools.lru_cache(maxsize=32)
def _read_csv(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"video": str, "subject": str, "source_id": str, "event": str,
                                    "action_units": str, "quirk": str, "notes": str},
                       keep_default_na=False, na_values=[""])


def _ground_truth_csv(root: str | Path, name: str) -> pd.DataFrame:
    path = Path(root) / "ground_truth" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; {Path(root)} is not a complete demo corpus "
                                "(make one with `samm-synth make-demo-corpus`)")
    return _read_csv(str(path.resolve()), path.stat().st_mtime_ns).copy()


def load_ground_truth(root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(intervals, events)`` of a demo corpus.

    ``intervals``: one row per labelled event (sheet order): ``event`` (unique id), ``video``, ``subject``,
    ``source_id`` (the sheet's Filename, not unique with the duplicate quirk), ``sheet_row`` (1-based Excel row),
    true ``onset``/``apex``/``offset`` (source frame numbers, inclusive), ``kind`` (ME|MaE), ``action_units``,
    ``region`` (mouth|brows), ``quirk`` (``;``-joined, empty when none) and the ``sheet_*`` values as written.
    ``events``: one row per warp component: ``video``, ``event``, ``component``, ``kind`` (ME|MaE|head),
    ``labelled``, ``region``, centre ``cx``/``cy`` and ``sigma`` in source pixels (``sigma`` 0 = uniform shift),
    peak ``peak_dx``/``peak_dy`` in pixels, profile ``onset``/``apex``/``offset`` (may lie outside the video).
    """
    intervals = _ground_truth_csv(root, "intervals.csv")
    intervals["quirk"] = intervals["quirk"].fillna("")
    intervals["notes"] = intervals["notes"].fillna("")
    return intervals, _ground_truth_csv(root, "events.csv")


def load_displacement_table(root: str | Path) -> pd.DataFrame:
    """``displacement.csv``: per ``video``, ``frame`` and ``region``: ``dx``/``dy`` at the region centre and
    ``max_magnitude`` over the region's window, pixels (zero when no event is active)."""
    return _ground_truth_csv(root, "displacement.csv")


def load_videos_table(root: str | Path) -> pd.DataFrame:
    """``videos.csv``: per video its subject, frame range, size, fps, face box and neutral image path."""
    return _ground_truth_csv(root, "videos.csv")


@functools.lru_cache(maxsize=8)
def _video_models(root: str, mtime_ns: int) -> dict[str, tuple[int, int, int, int, list[_Component]]]:
    """Per video: (first_frame, last_frame, height, width, its rows of events.csv)."""
    videos = load_videos_table(root)
    _, events = load_ground_truth(root)
    return {str(v.video): (int(v.first_frame), int(v.last_frame), int(v.height), int(v.width),
                           warp_components(events[events["video"] == v.video]))
            for v in videos.itertuples(index=False)}


def true_displacement(root: str | Path, video: str, frame: int) -> np.ndarray:
    """The displacement applied at source frame ``frame`` of ``video``: H×W×2 float32 ``(dx, dy)`` in source
    pixels (backward warp of the neutral image, see the module docstring); all zeros outside every event."""
    events_csv = Path(root) / "ground_truth" / "events.csv"
    if not events_csv.is_file():
        raise FileNotFoundError(f"{events_csv}: missing; {Path(root)} is not a complete demo corpus "
                                "(make one with `samm-synth make-demo-corpus`)")
    models = _video_models(str(Path(root).resolve()), events_csv.stat().st_mtime_ns)
    if video not in models:
        raise ValueError(f"{root}: no video {video!r} in the demo corpus (videos: {', '.join(models)})")
    first, last, height, width, components = models[video]
    if not first <= frame <= last:
        raise ValueError(f"video {video}: frame {frame} is outside {first}..{last}")
    return displacement_field(components, frame, height, width)


def neutral_image(root: str | Path, video: str) -> np.ndarray:
    """The neutral greyscale image (H×W uint8) every frame of ``video`` is warped from."""
    videos = load_videos_table(root)
    match = videos[videos["video"] == video]
    if match.empty:
        raise ValueError(f"{root}: no video {video!r} in the demo corpus")
    path = Path(root) / "ground_truth" / str(match.iloc[0]["neutral"])
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: neutral image missing or unreadable")
    return image

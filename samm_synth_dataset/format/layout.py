"""Paths, ids and Arrow schemas of a release folder.

One directory is one release version::

    <release>/
      README.md                               dataset card
      data/frames/<video>-<part:05d>.parquet  one row per synthetic frame
      data/wds/<video>-<part:05d>.tar         the same frames as WebDataset samples (optional)
      data/intervals/intervals.parquet        the reused MaE/ME intervals, for every synthetic video
      data/videos/videos.parquet              one row per synthetic video
      data/aus/<video>.parquet                OpenFace AU tracks, original and synthetic (optional)
      quality/                                the quality report
      splits/loso.json                        leave-one-subject-out folds
      manifest.json                           every file with bytes, sha256, rows; config; versions; status

Conventions
-----------
* ``frame`` is the SOURCE frame number (SAMM-LV: 1-based, as in its sheet); ``index`` is the 0-based position of
  the frame inside its synthetic video. Interval ``onset``/``apex``/``offset`` are source frame numbers with
  inclusive ends.
* A synthetic video id is ``<source video>-<reference id>`` (e.g. ``006_1-ref03``). Ids never contain dots (the
  WebDataset key rule) nor slashes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

FORMAT_VERSION = "1.0"

MANIFEST = "manifest.json"
CARD = "README.md"
#: The release's Croissant 1.0 metadata with its Responsible-AI fields (``format.croissant``).
CROISSANT = "croissant.json"
FRAMES_DIR = "data/frames"
WDS_DIR = "data/wds"
INTERVALS_PATH = "data/intervals/intervals.parquet"
VIDEOS_PATH = "data/videos/videos.parquet"
AUS_DIR = "data/aus"
#: The manifest key recording how ``data/aus`` was made: ``{"source": "openface" | "precomputed", "au_static": bool,
#: "openface_args": [extra FeatureExtraction options]}``.
AUS_RECORD = "aus"
#: Spotting features by recipe: ``data/features/<recipe>/<video>-<part>.parquet`` (``feature_schema``); the
#: manifest's ``features`` block holds each recipe's parameters, version, k per kind and array shape.
FEATURES_DIR = "data/features"
FEATURES_KEY = "features"
#: Beside the originals' features (written outside the release): the recipe's block, as in the manifest.
FEATURES_BLOCK = "features.json"
QUALITY_DIR = "quality"
SPLITS_PATH = "splits/loso.json"
REPORT_JSON = f"{QUALITY_DIR}/report.json"
#: The spotting benchmark's result and its prediction CSVs (``<protocol>_<subject>.csv``).
SPOTTING_JSON = f"{QUALITY_DIR}/spotting.json"
SPOTTING_PREDICTIONS_DIR = f"{QUALITY_DIR}/spotting"
#: Suffix of the folder a release is staged in before it is renamed to its final name (never a release).
PARTIAL_SUFFIX = ".partial"
#: Build state of an unfinished or finished build (never part of the release, never uploaded).
BUILD_DIR = ".build"
#: Work of the stages that add files to a finished release (``samm_synth_dataset.stages``), per stage.
STAGES_DIR = f"{BUILD_DIR}/stages"
#: The manifest key naming stages that were adding files when they stopped: ``{stage: {"rerun": command}}``.
PENDING = "pending"

#: Status values of ``manifest.json``; only ``complete`` releases are read by loaders, metrics and release.
STATUS_BUILDING = "building"
STATUS_COMPLETE = "complete"

#: Rows per Parquet row group for image-bearing tables (Hub guidance for images < 1 MB).
FRAME_ROW_GROUP_SIZE = 100

#: The columns ``sources.read_annotations`` returns, in order.
ANNOTATION_COLUMNS: tuple[str, ...] = (
    "interval_id", "source_id", "subject", "video", "onset", "apex", "offset",
    "kind", "action_units", "notes", "flags", "emotion", "emotion_megc", "objective_class",
)
KINDS: tuple[str, ...] = ("ME", "MaE")
METHODS: tuple[str, ...] = ("stargan-v2", "color-transfer")

#: OpenFace 2.x AU columns (AU28 has only a presence column).
AU_INTENSITY_COLUMNS: tuple[str, ...] = tuple(
    f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
)
AU_PRESENCE_COLUMNS: tuple[str, ...] = tuple(
    f"AU{n:02d}_c" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 28, 45)
)
AU_TRACKS: tuple[str, ...] = ("original", "synthetic")



class ReleaseError(RuntimeError):
    """A release directory is missing, incomplete or inconsistent with its manifest."""


_ID_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid release id (letters, digits, ``_`` and ``-``), else raise ValueError."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError(
            f"invalid {what} {value!r}: ids may contain only letters, digits, '_' and '-' "
            "(no dots: WebDataset splits keys at the first dot; no slashes)"
        )
    return value


def synthetic_video_id(source_video: str, reference_id: str) -> str:
    """``<source video>-<reference id>``, e.g. ``006_1-ref03``."""
    return check_id(f"{check_id(source_video, 'source video id')}-{check_id(reference_id, 'reference id')}",
                    "synthetic video id")


def part_name(video: str, part: int, suffix: str) -> str:
    """File name of part ``part`` (0-based) of a synthetic video: ``<video>-<part:05d>.<suffix>``."""
    return f"{check_id(video, 'video id')}-{part:05d}.{suffix}"


def wds_key(video: str, index: int) -> str:
    """WebDataset sample key ``<video>/<index:06d>`` (index 0-based)."""
    return f"{video}/{index:06d}"


def source_interval_keys(intervals: Any) -> list[str]:
    """For each row of an intervals table (a pandas DataFrame or a mapping of column lists), the key of its SOURCE
    interval: rows with one key are the synthetic copies (one per reference) of one annotated interval. The key
    is ``<source video>/<the part of interval_id after "/">``: that part is unique per annotated interval (a
    duplicated sheet id, such as SAMM-LV's two ``037_4_1`` rows, gets ``-2``), unlike ``source_id``. A table
    without ``interval_id`` (a user's CSV) falls back to source video, onset, offset and kind."""
    columns = set(intervals.keys())
    videos = intervals["source_video"] if "source_video" in columns else intervals["video"]
    if "interval_id" in columns:
        return [f"{v}/{str(i).split('/', 1)[-1]}" for v, i in zip(videos, intervals["interval_id"])]
    return [f"{v}/{int(a)}-{int(b)}-{k}" for v, a, b, k in zip(videos, intervals["onset"], intervals["offset"],
                                                                intervals["kind"])]


def source_intervals(intervals: Any) -> Any:
    """The rows of an intervals DataFrame, one per SOURCE interval (the first of its synthetic copies, see
    :func:`source_interval_keys`), in table order, index kept."""
    seen: set[str] = set()
    first = []
    for key in source_interval_keys(intervals):
        first.append(key not in seen)
        seen.add(key)
    return intervals[first]


# --------------------------------------------------------------------------------------------------------------
# Arrow schemas. Each carries the `huggingface` metadata key so `datasets` sees the right features
# (Image for the frames' ``image`` column) without schema inference.

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
CROP_TYPE = pa.struct([("x", pa.int32()), ("y", pa.int32()), ("w", pa.int32()), ("h", pa.int32())])


def _value(dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "_type": "Value"}


def _list(feature: dict[str, Any]) -> dict[str, Any]:
    return {"feature": feature, "_type": "List"}


FRAMES_FEATURES: dict[str, Any] = {
    "video": _value("string"),
    "source_video": _value("string"),
    "subject": _value("string"),
    "frame": _value("int64"),
    "index": _value("int64"),
    "image": {"_type": "Image"},
    "me": _value("bool"),
    "mae": _value("bool"),
    "interval_ids": _list(_value("string")),
    "reference_id": _value("string"),
}
FRAMES_SCHEMA = pa.schema([
    ("video", pa.string()),
    ("source_video", pa.string()),
    ("subject", pa.string()),
    ("frame", pa.int64()),
    ("index", pa.int64()),
    ("image", IMAGE_TYPE),
    ("me", pa.bool_()),
    ("mae", pa.bool_()),
    ("interval_ids", pa.list_(pa.string())),
    ("reference_id", pa.string()),
])

INTERVALS_FEATURES: dict[str, Any] = {
    "interval_id": _value("string"),
    "source_id": _value("string"),
    "subject": _value("string"),
    "video": _value("string"),
    "source_video": _value("string"),
    "onset": _value("int64"),
    "apex": _value("int64"),
    "offset": _value("int64"),
    "kind": _value("string"),
    "action_units": _value("string"),
    "notes": _value("string"),
    "flags": _list(_value("string")),
    "emotion": _value("string"),
    "emotion_megc": _value("string"),
    "objective_class": _value("string"),
}
INTERVALS_SCHEMA = pa.schema([
    ("interval_id", pa.string()),      # unique within the release: "<video>/<source interval_id>"
    ("source_id", pa.string()),        # the sheet's id (SAMM-LV Filename, e.g. 006_1_2)
    ("subject", pa.string()),
    ("video", pa.string()),            # synthetic video id
    ("source_video", pa.string()),
    ("onset", pa.int64()),             # source frame number, inclusive
    ("apex", pa.int64()),              # nullable
    ("offset", pa.int64()),            # source frame number, inclusive
    ("kind", pa.string()),             # "ME" | "MaE"
    ("action_units", pa.string()),
    ("notes", pa.string()),
    ("flags", pa.list_(pa.string())),
    ("emotion", pa.string()),          # the source's emotion word; null where it has none (format.emotions)
    ("emotion_megc", pa.string()),     # negative | positive | surprise | others; null where no emotion
    ("objective_class", pa.string()),  # CAS(ME)³ Objective class I..VII; null elsewhere
])

VIDEOS_FEATURES: dict[str, Any] = {
    "video": _value("string"),
    "source_video": _value("string"),
    "subject": _value("string"),
    "source_dataset": _value("string"),
    "n_frames": _value("int64"),
    "fps": _value("float64"),
    "width": _value("int32"),
    "height": _value("int32"),
    "crop": {"x": _value("int32"), "y": _value("int32"), "w": _value("int32"), "h": _value("int32")},
    "crop_matrix": _list(_value("float64")),
    "reference_id": _value("string"),
    "reference_sha256": _value("string"),
    "domain": _value("string"),
    "method": _value("string"),
    "checkpoint_sha256": _value("string"),
    "glasses": _value("bool"),
}
VIDEOS_SCHEMA = pa.schema([
    ("video", pa.string()),
    ("source_video", pa.string()),
    ("subject", pa.string()),
    ("source_dataset", pa.string()),   # "samm-lv" | "casme2" | "casme3" | "generic" (sources.DATASETS)
    ("n_frames", pa.int64()),
    ("fps", pa.float64()),
    ("width", pa.int32()),             # synthetic frame size, pixels
    ("height", pa.int32()),
    ("crop", CROP_TYPE),               # face box in SOURCE pixels (with crop_matrix: the region it covers)
    ("crop_matrix", pa.list_(pa.float64())),  # null, or the FAN alignment: 2×3 source → frame pixels, row-major
    ("reference_id", pa.string()),
    ("reference_sha256", pa.string()),
    ("domain", pa.string()),           # e.g. "female" | "male" | "0"
    ("method", pa.string()),           # "stargan-v2" | "color-transfer"
    ("checkpoint_sha256", pa.string()),  # null for color-transfer
    ("glasses", pa.bool_()),           # nullable
])

AUS_FEATURES: dict[str, Any] = {
    "video": _value("string"),
    "frame": _value("int64"),
    "track": _value("string"),
    "success": _value("bool"),
    "confidence": _value("float32"),
    **{c: _value("float32") for c in AU_INTENSITY_COLUMNS},
    **{c: _value("float32") for c in AU_PRESENCE_COLUMNS},
}
AUS_SCHEMA = pa.schema(
    [
        ("video", pa.string()),          # synthetic video id
        ("frame", pa.int64()),           # SOURCE frame number
        ("track", pa.string()),          # "original" | "synthetic"
        ("success", pa.bool_()),
        ("confidence", pa.float32()),
    ]
    + [(c, pa.float32()) for c in AU_INTENSITY_COLUMNS]
    + [(c, pa.float32()) for c in AU_PRESENCE_COLUMNS]
)

#: config name -> (schema, features, glob relative to the release root)
def feature_schema(dtype: str) -> pa.Schema:
    """One row per frame pair (i, i + k) of a video: ``video`` (synthetic video id, or the source video id of an
    original), ``frame``/``end_frame`` (SOURCE frame numbers of frames i and i + k), ``position`` (i, 0-based in
    the video), ``k``, ``stream`` (the recipe's streams, comma-joined), ``feature`` (the flat C-order array of the
    recipe's shape streams × height × width × channels u, v, ε; ``dtype`` float16 or float32) and the recipe's
    pseudo-label of each kind whose k this row has (``pseudo_ME``/``pseudo_MaE``: 1.0 when frames [i, i + k]
    overlap an interval of the kind, else 0.0; null for a kind with another k)."""
    value = {"float16": pa.float16(), "float32": pa.float32()}[dtype]
    return pa.schema([("video", pa.string()), ("frame", pa.int64()), ("end_frame", pa.int64()),
                      ("position", pa.int32()), ("k", pa.int32()), ("stream", pa.string()),
                      ("feature", pa.list_(value)), ("pseudo_ME", pa.float32()), ("pseudo_MaE", pa.float32())])


CONFIGS: dict[str, tuple[pa.Schema, dict[str, Any], str]] = {
    "frames": (FRAMES_SCHEMA, FRAMES_FEATURES, f"{FRAMES_DIR}/*.parquet"),
    "intervals": (INTERVALS_SCHEMA, INTERVALS_FEATURES, INTERVALS_PATH),
    "videos": (VIDEOS_SCHEMA, VIDEOS_FEATURES, VIDEOS_PATH),
    "aus": (AUS_SCHEMA, AUS_FEATURES, f"{AUS_DIR}/*.parquet"),
}


def with_hf_metadata(schema: pa.Schema, features: dict[str, Any]) -> pa.Schema:
    """Attach the ``huggingface`` schema metadata (``{"info": {"features": ...}}``) that `datasets` reads."""
    meta = dict(schema.metadata or {})
    meta[b"huggingface"] = json.dumps({"info": {"features": features}}).encode()
    return schema.with_metadata(meta)


def schema_for(config: str) -> pa.Schema:
    """The Arrow schema, with `huggingface` metadata, of one Parquet config."""
    schema, features, _ = CONFIGS[config]
    return with_hf_metadata(schema, features)

"""Source corpora: listing their videos and frames, and reading their annotation sheets.

``records`` (the dataset names ``DATASETS``, ``VideoSource``), ``listing`` (``list_videos``: SAMM-LV, CAS(ME)²,
CAS(ME)³ and generic layouts; numbered folders: ``folders``), ``frames`` (reading frames), ``annotations``
(``read_annotations``; cells and rows: ``sheets``; CAS(ME)³: ``casme3``; emotion counts and a user's emotion
labels: ``emotions``), ``commands`` (``samm-synth
inspect-source``). Frame numbers are SOURCE numbers (SAMM-LV, CAS(ME)², CAS(ME)³: 1-based, as in their sheets and
file names); interval ends are inclusive. The generated demo corpora that mimic these layouts live in
``samm_synth_dataset.demo``.
"""

from samm_synth_dataset.sources.annotations import (
    FLAGS,
    OFFSET_FILL_RULES,
    AnnotationError,
    clip_offsets,
    fix_summary,
    read_annotations,
)
from samm_synth_dataset.sources.emotions import EMOTION_COLUMNS, emotion_counts, join_emotions
from samm_synth_dataset.sources.frames import FrameReadError, iter_video_frames, read_frames_at, read_image, to_rgb
from samm_synth_dataset.sources.folders import FrameGapError
from samm_synth_dataset.sources.listing import list_videos
from samm_synth_dataset.sources.records import DATASETS, Dataset, Kind, VideoSource

__all__ = [
    "DATASETS", "EMOTION_COLUMNS", "FLAGS", "OFFSET_FILL_RULES", "AnnotationError", "Dataset", "FrameGapError", "FrameReadError",
    "Kind", "VideoSource", "clip_offsets", "emotion_counts", "fix_summary", "iter_video_frames", "join_emotions", "list_videos", "read_annotations",
    "read_frames_at", "read_image", "to_rgb",
]

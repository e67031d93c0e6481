"""Source corpora: annotation sheets (SAMM-LV, CAS(ME)², CAS(ME)³, generic CSV) and frame listing.

``annotations`` reads the sheets (cells and rows: ``sheets``; CAS(ME)³: ``casme3``), ``listing`` lists frame
folders and video files (numbered folders: ``folders``), ``frames`` decodes frames. Frame numbers are SOURCE
numbers (SAMM-LV, CAS(ME)², CAS(ME)³: 1-based, as in their sheets and file names); interval ends are inclusive.
The generated demo corpora that mimic these layouts live in ``samm_synth_dataset.demo``.
"""

from samm_synth_dataset.sources.annotations import (
    DATASETS,
    FLAGS,
    OFFSET_FILL_RULES,
    AnnotationError,
    clip_offsets,
    fix_summary,
    from_intervals,
    read_annotations,
    to_intervals,
)
from samm_synth_dataset.sources.frames import FrameReadError, iter_video_frames, read_frames_at, read_image, to_rgb
from samm_synth_dataset.sources.folders import FrameGapError
from samm_synth_dataset.sources.listing import list_videos
from samm_synth_dataset.sources.records import Interval, Kind, VideoSource

#: Alias of :func:`fix_summary`.
summarize_fixes = fix_summary

__all__ = [
    "DATASETS", "FLAGS", "OFFSET_FILL_RULES", "AnnotationError", "FrameGapError", "FrameReadError", "Interval",
    "Kind", "VideoSource", "clip_offsets", "fix_summary", "from_intervals", "iter_video_frames", "list_videos",
    "read_annotations", "read_frames_at", "read_image", "summarize_fixes", "to_intervals", "to_rgb",
]

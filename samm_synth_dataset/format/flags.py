"""The ``flags`` column of the ``intervals`` table: every fix a source reader may apply, and what it means.

Flags are set by the source readers (SAMM-LV, CAS(ME)², CAS(ME)³, generic CSV) and travel unchanged into
releases; dataset cards and reports describe them with :data:`FLAG_MEANINGS`. Frame numbers are source numbers.
"""

from __future__ import annotations

#: Every flag with its meaning, in the order cards list them.
FLAG_MEANINGS: dict[str, str] = {
    "rounded": "a fractional frame number in the sheet was rounded half-up (floor(x + 0.5); SAMM-LV V1)",
    "apex_missing": "apex -1 (SAMM-LV), 0 (CAS(ME)², CAS(ME)³) or empty in the sheet: apex set to null",
    "onset_zero": "onset 0 in the sheet, kept as 0 (SAMM-LV: movement already under way at the first frame; "
                  "CAS(ME)³: its frames start at 1)",
    "onset_raised": "CAS(ME)³ onset 0: set to the first frame, 1",
    "offset_filled": "offset 0 (not annotated; CAS(ME)², CAS(ME)³): filled by the offset-fill rule (offset = apex, "
                     "or 2·apex − onset)",
    "offset_filled_onset": "CAS(ME)³ offset 0 and no apex: offset set to the onset (a 1-frame interval)",
    "onset_after_offset_swapped": "CAS(ME)³ onset after offset in the sheet: the two exchanged",
    "offset_before_apex": "offset < apex in the sheet: kept as written",
    "apex_before_onset": "apex < onset in the sheet: kept as written",
    "apex_outside_interval": "CAS(ME)³ apex outside onset..offset in the sheet: set to null",
    "long_me": "CAS(ME)³ micro-expression longer than the long-ME limit (default 200 frames): kept as ME",
    "long_me_relabelled": "CAS(ME)³ micro-expression longer than the long-ME limit: relabelled MaE",
    "long_mae": "CAS(ME)³ macro-expression longer than the long-MaE limit (default 900 frames): kept",
    "offset_clipped": "offset past the video's last frame: clipped to the last frame",
    "apex_outside_video": "apex past the video's last frame: set to null",
    "duplicate_row": "the sheet has this exact row (same video, frames, kind, AUs, notes) more than once: kept once",
    "emotion_case_normalised": "an emotion word written with capitals in the sheet (e.g. CAS(ME)³ 'Others'): "
                               "lower-cased",
    "emotion_from_file": "the emotion was joined from the user's --emotions file (it replaces the sheet's, if any)",
}

#: Flags every reader may set; cards list them even when no interval carries them (the others only when used).
COMMON_FLAGS: tuple[str, ...] = ("rounded", "apex_missing", "onset_zero", "offset_filled", "offset_before_apex",
                                 "apex_before_onset", "offset_clipped", "apex_outside_video", "duplicate_row")

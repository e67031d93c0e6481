"""Per-frame OpenFace AUs as the loaders give them beside each synthetic frame: one definition for loaders,
report and card.

For each track in ``AU_TRACKS`` (``original``: the source frame through the video's crop; ``synthetic``: the
release's frame), keyed by ``au_key(track, what)`` = ``<track>_<what>``:

* ``<track>_au_r``        float32 (17,) OpenFace intensities, 0 (absent) .. 5 (maximum), ``AU_INTENSITY_COLUMNS`` order
* ``<track>_au_c``        float32 (18,) OpenFace presences, 0 or 1, ``AU_PRESENCE_COLUMNS`` order
* ``<track>_success``     bool, OpenFace tracked the face in this frame
* ``<track>_confidence``  float32, OpenFace's tracking confidence 0..1 (NaN when OpenFace reported no row)

AU values are NaN wherever ``success`` is False (OpenFace writes 0 there: not a measurement). Flat columns (one
per AU, for tables) are ``au_key(track, column)``, e.g. ``original_AU12_r``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from samm_synth_dataset.format.layout import AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS, AU_TRACKS, AUS_DIR, check_id

#: The per-frame AU fields, in order, for one track (see above).
AU_FIELDS: tuple[str, ...] = ("au_r", "au_c", "success", "confidence")
#: OpenFace 2.x AU intensity range (``AUxx_r``) and presence values (``AUxx_c``).
AU_INTENSITY_RANGE: tuple[float, float] = (0.0, 5.0)
AU_PRESENCE_VALUES: tuple[float, float] = (0.0, 1.0)


def au_key(track: str, what: str) -> str:
    """``<track>_<what>``: a per-frame AU field (``original_au_r``) or flat column (``synthetic_AU12_r``)."""
    if track not in AU_TRACKS:
        raise ValueError(f"track must be one of {AU_TRACKS}, got {track!r}")
    return f"{track}_{what}"


def au_path(video: str) -> str:
    """``data/aus/<video>.parquet``, relative to the release root."""
    return f"{AUS_DIR}/{check_id(video, 'video id')}.parquet"


def au_arrays(aus: pa.Table, where: str = "AU table") -> tuple[Any, dict[str, Any]]:
    """One video's ``AUS_SCHEMA`` table as per-frame arrays: ``(frames, fields)``.

    ``frames``: int64 (n,) sorted SOURCE frame numbers; ``fields[au_key(track, what)]``: arrays with n rows (see
    the AU field list above), AU values NaN where ``success`` is False. Raises ValueError naming ``where`` when a
    track is missing, a frame repeats or the two tracks cover different frames (re-run ``samm-synth aus``).
    """
    frames_by_track, fields = {}, {}
    all_frames = aus.column("frame").to_numpy()
    track_col = np.asarray(aus.column("track").to_pylist(), dtype=object)
    for track in AU_TRACKS:
        rows = np.flatnonzero(track_col == track)
        frames = all_frames[rows]
        order = np.argsort(frames, kind="stable")
        rows, frames = rows[order], frames[order]
        if len(frames) == 0:
            raise ValueError(f"{where}: no {track!r} track; re-run `samm-synth aus` on the release")
        if np.any(np.diff(frames) == 0):
            dup = int(frames[np.flatnonzero(np.diff(frames) == 0)[0]])
            raise ValueError(f"{where}: frame {dup} appears twice in the {track!r} track; re-run `samm-synth aus`")
        t = aus.take(rows)
        success = t.column("success").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        for what, cols in (("au_r", AU_INTENSITY_COLUMNS), ("au_c", AU_PRESENCE_COLUMNS)):
            values = np.stack([t.column(c).to_numpy(zero_copy_only=False) for c in cols], axis=1).astype(np.float32)
            values[~success] = np.nan
            fields[au_key(track, what)] = values
        fields[au_key(track, "success")] = success
        fields[au_key(track, "confidence")] = (
            t.column("confidence").to_numpy(zero_copy_only=False).astype(np.float32))
        frames_by_track[track] = frames
    first, second = (frames_by_track[t] for t in AU_TRACKS)
    if not np.array_equal(first, second):
        raise ValueError(f"{where}: the {AU_TRACKS[0]!r} and {AU_TRACKS[1]!r} tracks cover different frames; "
                         "re-run `samm-synth aus`")
    return first, fields

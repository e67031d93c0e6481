"""OpenFace 2.x ``FeatureExtraction``: read its CSV output in every real variant, run it, and export AU tracks.

Frame numbers: OpenFace numbers the images of a ``-fdir`` folder 1, 2, ... in sorted file-name order; the AU
export maps that position back to the SOURCE frame number (the release convention) before writing
``data/aus/<video>.parquet``.
"""

from __future__ import annotations

import io
import logging
import os
import shlex
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt

log = logging.getLogger(__name__)

#: Values OpenFace writes for NaN (Windows builds write ``-nan(ind)``).
NA_VALUES: tuple[str, ...] = ("-nan(ind)", "nan(ind)", "-nan", "nan", "NaN", "-NaN", "inf", "-inf")
#: Columns kept besides the AUs, when present.
META_COLUMNS: tuple[str, ...] = ("face_id", "timestamp", "confidence", "success")

INSTALL_HELP = (
    "OpenFace's FeatureExtraction binary was not found. Install OpenFace 2.2 "
    "(https://github.com/TadasBaltrusaitis/OpenFace/wiki, then run its download_models script) and put "
    "FeatureExtraction on PATH or pass its path (--openface-bin PATH), or run it elsewhere and pass the "
    "precomputed CSVs named <video>.csv (--original-csv-dir DIR --synthetic-csv-dir DIR)."
)


#: FeatureExtraction options the ``aus`` command itself sets (input, output place and name, the AU switch) or
#: that would read another input (a camera, a video file, a root folder); refused in ``--openface-args``.
CONTROLLED_ARGS: tuple[str, ...] = ("-f", "-fdir", "-device", "-inroot", "-outroot", "-out_dir", "-of", "-aus",
                                    "-au_static")


class OpenFaceCSVError(ValueError):
    """An OpenFace CSV cannot be read (no AU columns, malformed rows, empty)."""


class OpenFaceWarning(UserWarning):
    """An OpenFace CSV needed a repair (frame numbers replaced, truncated last row dropped)."""


def read_openface_csv(path: str | Path) -> pd.DataFrame:
    """Read one OpenFace ``FeatureExtraction`` CSV in any real variant.

    Handles ``", "`` or ``","`` separators, the post-processed two-space rows, files without ``face_id``,
    ``-nan(ind)`` and friends (→ NaN). The returned frame's index (named ``frame``) is the ``frame`` column as
    written when it is strictly increasing, else the 1-based row order (with an ``OpenFaceWarning``). A
    truncated LAST row (fewer fields than the header) is dropped with a warning; any other row with the wrong
    field count raises ``OpenFaceCSVError`` naming the line; so does a missing AU column (every intensity and
    presence OpenFace writes is required). A row with ``success`` 1 but no AU value is counted as a failed frame
    (``success`` set to 0, with a warning). Columns (names stripped of spaces): the AU
    intensity and presence columns present (``AU01_r`` ... ``AU45_r``, ``AU01_c`` ... ``AU45_c``; AU28 has only
    ``_c``), then ``face_id`` (when present), ``timestamp``, ``confidence`` (floats) and ``success`` (int 0/1).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: OpenFace CSV not found") from None
    except UnicodeDecodeError as exc:
        raise OpenFaceCSVError(f"{path}: not a text CSV ({exc})") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise OpenFaceCSVError(f"{path}: empty file; expected an OpenFace CSV with a header row")
    header = [c.strip() for c in lines[0].split(",")]
    n_fields = len(header)
    body = lines[1:]
    if not body:
        raise OpenFaceCSVError(f"{path}: header only, no frames (OpenFace found no face or read no images)")
    counts = [line.count(",") + 1 for line in body]
    if counts[-1] < n_fields:
        warnings.warn(f"{path}: last row (line {len(lines)}) is truncated ({counts[-1]} of {n_fields} fields); "
                      "dropped it", OpenFaceWarning, stacklevel=2)
        body = body[:-1]
        counts = counts[:-1]
    bad = [i for i, c in enumerate(counts) if c != n_fields]
    if bad:
        i = bad[0]
        raise OpenFaceCSVError(f"{path}: line {i + 2} has {counts[i]} fields, the header has {n_fields} "
                               f"({len(bad)} such rows); the file is corrupt, re-run OpenFace on this video")
    if not body:
        raise OpenFaceCSVError(f"{path}: no complete data rows")
    au_cols = [c for c in header if c in fmt.AU_INTENSITY_COLUMNS or c in fmt.AU_PRESENCE_COLUMNS]
    if not au_cols:
        raise OpenFaceCSVError(f"{path}: no AU columns (AU01_r ...); run FeatureExtraction with -aus")
    missing = [c for c in (*fmt.AU_INTENSITY_COLUMNS, *fmt.AU_PRESENCE_COLUMNS) if c not in header]
    if missing:
        raise OpenFaceCSVError(f"{path}: AU columns missing: {', '.join(missing)} (OpenFace writes all "
                               f"{len(fmt.AU_INTENSITY_COLUMNS)} intensities and {len(fmt.AU_PRESENCE_COLUMNS)} "
                               "presences); re-run FeatureExtraction with -aus on this video")
    for needed in ("success",):
        if needed not in header:
            raise OpenFaceCSVError(f"{path}: no {needed!r} column; this is not FeatureExtraction output")
    keep = [c for c in header if c in au_cols or c in META_COLUMNS or c == "frame"]
    keep_idx = [header.index(c) for c in keep]
    try:
        df = pd.read_csv(
            io.StringIO("\n".join([lines[0]] + body)),
            skipinitialspace=True,
            na_values=list(NA_VALUES),
            keep_default_na=True,
            usecols=keep_idx,
            dtype=float,
            engine="c",
        )
    except ValueError as exc:
        raise OpenFaceCSVError(f"{path}: a frame, AU or tracking column holds a non-numeric value ({exc}); "
                               "the file is corrupt, re-run OpenFace on this video") from exc
    df.columns = [c.strip() for c in df.columns]
    success = df["success"]
    if success.isna().any():
        row = int(np.flatnonzero(success.isna().to_numpy())[0])
        raise OpenFaceCSVError(f"{path}: line {row + 2} has no 'success' value")
    df["success"] = success.astype(np.int64)
    no_aus = df[au_cols].isna().all(axis=1).to_numpy() & (df["success"].to_numpy() == 1)
    if no_aus.any():  # a tracked frame without AU values is not a measurement: counted as failed, never as 0
        warnings.warn(f"{path}: {int(no_aus.sum())} row(s) with success 1 but no AU values (first: line "
                      f"{int(np.flatnonzero(no_aus)[0]) + 2}); counted as failed frames", OpenFaceWarning,
                      stacklevel=2)
        df.loc[no_aus, "success"] = 0
    if "face_id" in df and not df["face_id"].isna().any():
        df["face_id"] = df["face_id"].astype(np.int64)
    order = np.arange(1, len(df) + 1, dtype=np.int64)
    if "frame" in df:
        frames = df["frame"].to_numpy()
        ok = (not np.isnan(frames).any() and np.all(frames == np.round(frames))
              and (len(frames) < 2 or bool(np.all(np.diff(frames) > 0))))
        if ok:
            index = frames.astype(np.int64)
        else:
            warnings.warn(f"{path}: the 'frame' column is not strictly increasing (e.g. stuck at 0); using the "
                          "1-based row order as frame numbers", OpenFaceWarning, stacklevel=2)
            index = order
        df = df.drop(columns="frame")
    else:
        warnings.warn(f"{path}: no 'frame' column; using the 1-based row order", OpenFaceWarning, stacklevel=2)
        index = order
    df.index = pd.Index(index, name="frame")
    cols = ([c for c in fmt.AU_INTENSITY_COLUMNS if c in df] + [c for c in fmt.AU_PRESENCE_COLUMNS if c in df]
            + [c for c in META_COLUMNS if c in df])
    return df[cols]


# --------------------------------------------------------------------------------------------------------------
# Running OpenFace


def find_openface(binary: str | Path | None = None) -> Path:
    """The ``FeatureExtraction`` executable: ``binary`` when given (must exist), else from PATH.

    Raises FileNotFoundError with install instructions when it cannot be found.
    """
    if binary is not None:
        p = Path(binary)
        if p.is_file() and os.access(p, os.X_OK):
            return p
        found = shutil.which(str(binary))
        if found:
            return Path(found)
        raise FileNotFoundError(f"{binary}: not an executable file. {INSTALL_HELP}")
    found = shutil.which("FeatureExtraction")
    if not found:
        raise FileNotFoundError(INSTALL_HELP)
    return Path(found)


def parse_openface_args(text: str | Sequence[str] | None) -> list[str]:
    """Extra ``FeatureExtraction`` arguments: a shell-quoted string (split like a POSIX shell) or a list.

    E.g. ``"-mloc model/main_clnf_general.txt"`` for an OpenFace install without the CE-CLM model files. Refuses
    (ValueError, one line) the options this package sets itself (:data:`CONTROLLED_ARGS`: input, ``-out_dir``,
    ``-of``, ``-aus``; ``-au_static`` is ``--au-static``) and a string that does not split.
    """
    if text is None:
        return []
    if isinstance(text, str):
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise ValueError(f"--openface-args {text!r}: cannot be split like a shell command line ({exc}); "
                             "check its quotes") from exc
    else:
        words = [str(w) for w in text]
    controlled = [w for w in words if w in CONTROLLED_ARGS]
    if controlled:
        raise ValueError(f"--openface-args: {', '.join(controlled)} is set by `samm-synth aus` itself (it runs "
                         "FeatureExtraction -fdir FRAMES -aus -out_dir DIR -of NAME; -au_static is --au-static); "
                         "remove it")
    return words


def run_openface(frames_dir: str | Path, out_dir: str | Path, binary: str | Path | None = None,
                 au_static: bool = False, name: str | None = None, extra_args: Sequence[str] = (),
                 timeout: float | None = None, log_file: str | Path | None = None) -> Path:
    """Run ``FeatureExtraction -fdir FRAMES_DIR -aus -out_dir OUT_DIR -of NAME [-au_static] [EXTRA_ARGS]``; return
    the CSV.

    ``frames_dir`` holds one image per frame, named so that sorted order is frame order (OpenFace numbers them
    1, 2, ...). The CSV is ``OUT_DIR/<name>.csv`` (``name`` defaults to the folder's name). OpenFace inherits
    this process's environment (thread caps included). ``extra_args``: more options, checked by
    :func:`parse_openface_args` (e.g. ``["-mloc", "model/main_clnf_general.txt"]``). ``log_file``: a file that
    receives the command line and OpenFace's whole stdout and stderr. Raises FileNotFoundError (binary missing,
    with install help), ValueError (an option of ``extra_args`` this function sets itself) or
    RuntimeError (non-zero exit or no CSV written, with the tail of OpenFace's output and the log's path).
    """
    extra = parse_openface_args(list(extra_args))
    exe = find_openface(binary)
    frames_dir = Path(frames_dir)
    out_dir = Path(out_dir)
    if not frames_dir.is_dir():
        raise FileNotFoundError(f"{frames_dir}: frames folder not found")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or frames_dir.name
    cmd = [str(exe), "-fdir", str(frames_dir), "-aus", "-out_dir", str(out_dir), "-of", name]
    if au_static:
        cmd.append("-au_static")
    cmd.extend(extra)
    log.info("running %s", shlex.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    csv = out_dir / f"{name}.csv"
    output = proc.stdout + proc.stderr
    where = ""
    if log_file is not None:
        Path(log_file).write_text(f"$ {shlex.join(cmd)}\n# exit {proc.returncode}\n--- stdout\n{proc.stdout}\n"
                             f"--- stderr\n{proc.stderr}")
        where = f" (whole output: {log_file})"
    if proc.returncode != 0:
        raise RuntimeError(f"OpenFace failed on {frames_dir} (exit {proc.returncode}): {shlex.join(cmd)}{where}\n"
                           f"{output[-2000:]}")
    if not csv.is_file():
        raise RuntimeError(f"OpenFace wrote no {csv} for {frames_dir}{where}; its output:\n{output[-2000:]}")
    return csv


# --------------------------------------------------------------------------------------------------------------
# AU track tables (format.AUS_SCHEMA, long: one row per (frame, track))


def track_table(video: str, track: str, csv: pd.DataFrame, source_frames: Sequence[int]) -> pd.DataFrame:
    """Turn one ``read_openface_csv`` result into ``AUS_SCHEMA`` rows.

    ``source_frames[i]`` is the SOURCE frame number of the i-th image (OpenFace frame i + 1). Source frames that
    OpenFace did not report get a row with ``success = False`` and NaN values (kept, so coverage is visible).
    Raises ValueError when the CSV has more frames than images or two faces per frame.
    """
    if track not in fmt.AU_TRACKS:
        raise ValueError(f"track must be one of {fmt.AU_TRACKS}, got {track!r}")
    if "face_id" in csv and (csv["face_id"] != 0).any():
        raise ValueError(f"{video} ({track}): OpenFace tracked more than one face; keep face 0 only or re-run")
    source_frames = np.asarray(source_frames, dtype=np.int64)
    pos = csv.index.to_numpy(dtype=np.int64) - 1
    if len(pos) and (pos.min() < 0 or pos.max() >= len(source_frames)):
        raise ValueError(f"{video} ({track}): OpenFace frames run to {pos.max() + 1} but only "
                         f"{len(source_frames)} images were given; the CSV does not belong to these frames")
    out = pd.DataFrame({"video": video, "frame": source_frames, "track": track})
    out["success"] = False
    out["confidence"] = np.float32(np.nan)
    for c in fmt.AU_INTENSITY_COLUMNS + fmt.AU_PRESENCE_COLUMNS:
        out[c] = np.float32(np.nan)
    out.loc[pos, "success"] = csv["success"].to_numpy() == 1
    if "confidence" in csv:
        out.loc[pos, "confidence"] = csv["confidence"].to_numpy(np.float32)
    for c in fmt.AU_INTENSITY_COLUMNS + fmt.AU_PRESENCE_COLUMNS:
        if c in csv:
            out.loc[pos, c] = csv[c].to_numpy(np.float32)
    return out


def write_aus(path: str | Path, tables: Iterable[pd.DataFrame]) -> Path:
    """Write the concatenated track tables as one ``AUS_SCHEMA`` Parquet file (with HF metadata)."""
    df = pd.concat(list(tables), ignore_index=True)
    schema = fmt.schema_for("aus")
    table = pa.Table.from_pandas(df[[f.name for f in schema]], schema=schema, preserve_index=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = fmt.tmp_path(path)
    pq.write_table(table, tmp)
    fmt.commit(tmp, path)
    return path


def read_aus(path: str | Path) -> pd.DataFrame:
    """Read one ``data/aus/<video>.parquet`` file."""
    return pd.read_parquet(path)


def split_tracks(aus: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(original, synthetic) of one video's long AU table, each indexed by SOURCE frame number."""
    out = []
    for track in fmt.AU_TRACKS:
        t = aus[aus["track"] == track].set_index("frame").sort_index()
        out.append(t.drop(columns=[c for c in ("video", "track") if c in t]))
    return out[0], out[1]

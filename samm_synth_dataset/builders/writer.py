"""Crash-safe part writers.

Every file is written under ``<name>.tmp``, flushed, fsynced and renamed to its final name (then the folder is
fsynced), so a final name never holds a truncated file. The build writes a unit's parts into its stage task's
folder, which the engine publishes whole (``stages``); finalize moves them into the release. Bytes are
reproducible: Parquet has no timestamps, tar members have fixed mtime, owner and mode.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt

#: Fixed tar member mtime (2000-01-01T00:00:00Z) so tars are byte-reproducible.
TAR_MTIME = 946684800


class _ParquetPart:
    def __init__(self, final: Path, schema: pa.Schema) -> None:
        self.final, self.tmp, self.schema = final, fmt.tmp_path(final), schema
        self.writer = pq.ParquetWriter(self.tmp, schema, **fmt.parquet_writer_options(schema))
        self.rows = 0

    def write(self, columns: dict[str, list[Any]]) -> None:
        table = pa.Table.from_pydict(columns, schema=self.schema)
        self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()
        fmt.commit(self.tmp, self.final)

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - best effort while already failing
            pass
        self.tmp.unlink(missing_ok=True)


class _TarPart:
    def __init__(self, final: Path) -> None:
        self.final, self.tmp = final, fmt.tmp_path(final)
        self.file = open(self.tmp, "wb")
        self.tar = tarfile.open(fileobj=self.file, mode="w", format=tarfile.USTAR_FORMAT)
        self.rows = 0

    def add_sample(self, key: str, members: list[tuple[str, bytes]]) -> None:
        for ext, data in members:
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            info.mtime = TAR_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self.tar.addfile(info, io.BytesIO(data))
        self.rows += 1

    def close(self) -> None:
        self.tar.close()
        self.file.flush()
        self.file.close()
        fmt.commit(self.tmp, self.final)

    def abort(self) -> None:
        try:
            self.tar.close()
            self.file.close()
        except Exception:  # noqa: BLE001
            pass
        self.tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class PartRecord:
    """One committed part of a synthetic video: 0-based ``part`` number, its first frame ``start`` (0-based
    index), ``rows`` frames, and its files (one per format)."""

    video: str
    part: int
    start: int
    rows: int
    files: tuple[fmt.FileRecord, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"video": self.video, "part": self.part, "start": self.start, "rows": self.rows,
                "files": [f.as_dict() for f in self.files]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PartRecord":
        return cls(d["video"], int(d["part"]), int(d["start"]), int(d["rows"]),
                   tuple(fmt.FileRecord(**f) for f in d["files"]))


FRAME_JSON_KEYS: tuple[str, ...] = ("video", "source_video", "subject", "frame", "index", "me", "mae",
                                    "interval_ids", "reference_id")


def frame_json(row: dict[str, Any]) -> bytes:
    """The WebDataset ``.json`` member: the frames row without the image, canonical JSON."""
    return json.dumps({k: row[k] for k in FRAME_JSON_KEYS}, sort_keys=True, separators=(",", ":")).encode()


class VideoPartsWriter:
    """Writes the frames of one synthetic video into parts ``data/frames/<video>-<part:05d>.parquet`` and/or
    ``data/wds/<video>-<part:05d>.tar``, cut before a frame that would take the part's encoded image bytes over
    ``max_part_bytes`` or its frame count over ``max_part_frames`` (a part always holds at least one frame).
    Rows must come in index order. Memory: one row group (``format.FRAME_ROW_GROUP_SIZE`` frames).

    ``root`` is the folder the release paths are relative to (the release, or a build task's folder);
    ``on_part`` is called after each part's files are committed (the kill-point hook for crash tests).
    """

    def __init__(self, root: Path, video: str, formats: tuple[str, ...], image_ext: str,
                 max_part_bytes: int | None, max_part_frames: int | None,
                 on_part: Callable[[PartRecord], None] | None = None) -> None:
        self.root, self.video, self.formats, self.image_ext = Path(root), video, formats, image_ext
        self.max_bytes, self.max_frames, self.on_part = max_part_bytes, max_part_frames, on_part
        self.schema = fmt.schema_for("frames")
        self.parts: list[PartRecord] = []
        self._part = -1
        self._start = 0
        self._frames = 0
        self._bytes = 0
        self._buffer: list[dict[str, Any]] = []
        self._pq: _ParquetPart | None = None
        self._tar: _TarPart | None = None
        self._open = False

    @property
    def frames_written(self) -> int:
        return self._start + self._frames

    def _open_part(self) -> None:
        self._part += 1
        self._frames = self._bytes = 0
        if "parquet" in self.formats:
            d = self.root / fmt.FRAMES_DIR
            d.mkdir(parents=True, exist_ok=True)
            self._pq = _ParquetPart(d / fmt.part_name(self.video, self._part, "parquet"), self.schema)
        if "webdataset" in self.formats:
            d = self.root / fmt.WDS_DIR
            d.mkdir(parents=True, exist_ok=True)
            self._tar = _TarPart(d / fmt.part_name(self.video, self._part, "tar"))
        self._open = True

    def add(self, row: dict[str, Any], image: bytes) -> None:
        """Add one frame: ``row`` holds the frames columns except ``image``; ``image`` the encoded bytes."""
        if self._open and ((self.max_frames is not None and self._frames >= self.max_frames)
                           or (self.max_bytes is not None and self._bytes + len(image) > self.max_bytes)):
            self._close_part()
        if not self._open:
            self._open_part()
        if self._tar is not None:
            self._tar.add_sample(fmt.wds_key(self.video, row["index"]),
                                 [(self.image_ext, image), ("json", frame_json(row))])
        if self._pq is not None:
            self._buffer.append({**row, "image": {"bytes": image,
                                                  "path": f"{fmt.wds_key(self.video, row['index'])}."
                                                          f"{self.image_ext}"}})
            if len(self._buffer) >= fmt.FRAME_ROW_GROUP_SIZE:
                self._flush()
        self._frames += 1
        self._bytes += len(image)

    def _flush(self) -> None:
        if self._buffer and self._pq is not None:
            cols = {name: [r[name] for r in self._buffer] for name in self.schema.names}
            self._pq.write(cols)
        self._buffer = []

    def _close_part(self) -> None:
        self._flush()
        files: list[fmt.FileRecord] = []
        for part in (self._pq, self._tar):
            if part is None:
                continue
            part.close()
            rel = part.final.relative_to(self.root).as_posix()
            files.append(fmt.FileRecord(rel, part.final.stat().st_size, fmt.sha256_file(part.final), part.rows))
        record = PartRecord(self.video, self._part, self._start, self._frames, tuple(files))
        self.parts.append(record)
        self._start += self._frames
        self._pq = self._tar = None
        self._open = False
        if self.on_part is not None:
            self.on_part(record)

    def close(self) -> list[PartRecord]:
        """Commit the last part; return every part written."""
        if self._open:
            self._close_part()
        return list(self.parts)

    def abort(self) -> None:
        """Drop the part being written (its temp files); committed parts stay for the caller to remove."""
        for part in (self._pq, self._tar):
            if part is not None:
                part.abort()
        self._pq = self._tar = None
        self._buffer = []
        self._open = False

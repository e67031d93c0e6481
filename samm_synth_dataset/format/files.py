"""Writing release files safely: sha256, atomic writes (temp name, fsync, rename, fsync the folder), canonical
JSON, and Parquet with the release's writer options. A final name never holds a truncated file."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"
PARQUET_COMPRESSION = "zstd"


@dataclass(frozen=True)
class FileRecord:
    """One release file: ``path`` relative to the release root (POSIX), its size, sha256 and row count (Parquet
    rows, tar samples; None for other files)."""

    path: str
    bytes: int
    sha256: str
    rows: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in ``chunk``-byte blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_record(release: Path, rel: str, rows: int | None) -> FileRecord:
    """The :class:`FileRecord` of ``<release>/<rel>`` as it is on disk now."""
    p = release / rel
    return FileRecord(rel, p.stat().st_size, sha256_file(p), rows)


def tmp_path(path: Path) -> Path:
    return path.with_name(path.name + TMP_SUFFIX)


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, rename it to ``final`` and fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    fsync_dir(final.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp name, fsync, rename); creates the parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
    commit(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode())


def dumps_json(obj: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, 2-space indent, trailing newline): equal objects give equal bytes."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """:func:`atomic_write_bytes` of :func:`dumps_json`."""
    atomic_write_bytes(path, dumps_json(obj))


def _leaf_paths(schema: pa.Schema) -> list[str]:
    out: list[str] = []

    def walk(prefix: str, typ: pa.DataType) -> None:
        if pa.types.is_struct(typ):
            for i in range(typ.num_fields):
                walk(f"{prefix}.{typ.field(i).name}", typ.field(i).type)
        elif pa.types.is_list(typ) or pa.types.is_large_list(typ):
            walk(f"{prefix}.list.element", typ.value_type)
        else:
            out.append(prefix)

    for f in schema:
        walk(f.name, f.type)
    return out


def parquet_writer_options(schema: pa.Schema) -> dict[str, Any]:
    """zstd everywhere except encoded image bytes (already compressed); no statistics on image columns."""
    leaves = _leaf_paths(schema)
    compression = {p: ("none" if p.startswith("image.") else PARQUET_COMPRESSION) for p in leaves}
    stats = [p for p in leaves if not p.startswith("image.")]
    return {"compression": compression, "write_statistics": stats}


def write_table_atomic(path: str | Path, table: pa.Table, row_group_size: int | None = None) -> None:
    """Write a whole (small) table as Parquet atomically, with the release's writer options."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    with pq.ParquetWriter(tmp, table.schema, **parquet_writer_options(table.schema)) as w:
        w.write_table(table, row_group_size=row_group_size)
    commit(tmp, path)


def install_files(release: Path, files: Mapping[str, Path]) -> None:
    """Put each staged file at its release path (``release path -> staged file``), atomically per file. A hard
    link keeps the staged file, so a move cut short can be done again (a copy where links are not possible)."""
    for rel, src in files.items():
        dst = release / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_file() and os.path.samefile(src, dst):
            continue  # put there by a move cut short (renaming a link onto itself would leave the temp name)
        tmp = tmp_path(dst)
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        commit(tmp, dst)


#: The lock file of a folder being written (inside ``.build/``, which releases never include).
LOCK_FILE = ".build/lock"


class FolderLock:
    """An exclusive, non-blocking lock on a release or build folder for one writing command (``fcntl.flock`` on
    ``<folder>/.build/lock``; the file says which process holds it). The operating system drops it when the
    process ends, killed or not, so it never needs cleaning up. A second writer gets ``FolderBusyError`` naming
    the holder. Re-entrant within one process (a stage inside a command that holds the lock). Use as a context
    manager."""

    _held: dict[str, int] = {}  # resolved lock path -> how many holders in this process

    def __init__(self, folder: str | Path, command: str) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.command = command
        self._fd: int | None = None
        self._key = ""

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = str(self.path.resolve())
        if FolderLock._held.get(self._key):
            FolderLock._held[self._key] += 1
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise FolderBusyError(f"{self.path.parent.parent}: another command is writing this folder ({holder}); "
                                  "wait for it to finish (or stop it), then run this command again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}: {self.command}".encode(), 0)
        self._fd = fd
        FolderLock._held[self._key] = 1
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._key or not FolderLock._held.get(self._key):
            return
        FolderLock._held[self._key] -= 1
        if self._fd is not None and FolderLock._held[self._key] == 0:
            os.close(self._fd)  # closing drops the lock
            self._fd = None
            del FolderLock._held[self._key]


class FolderBusyError(RuntimeError):
    """Another process holds the folder's lock (see ``FolderLock``)."""

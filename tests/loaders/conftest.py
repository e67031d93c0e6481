"""Fixtures for the loader tests.

``tiny_release`` is written here with the ``format`` schemas (tiny 12×16 frames, several parts and row groups per
video, two references per subject, Parquet and tars) so the loader tests do not wait on a full build;
``release`` runs each test on it and, when the builder's ``small_release`` fixture exists, on that too.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt

# source video -> (subject, first source frame number, n frames)
SOURCES: dict[str, tuple[str, int, int]] = {
    "006_1": ("006", 1, 23),
    "006_2": ("006", 1, 9),
    "007_1": ("007", 10001, 17),
    "008_1": ("008", 1, 12),
}
REFS: dict[str, list[str]] = {"006": ["ref01", "ref02"], "007": ["ref01", "ref03"], "008": ["ref02", "ref03"]}
# source video -> [(source_id, onset, offset, kind)], source frame numbers, inclusive
INTERVALS: dict[str, list[tuple[str, int, int, str]]] = {
    "006_1": [("006_1_1", 4, 8, "ME"), ("006_1_2", 6, 20, "MaE")],
    "006_2": [("006_2_1", 3, 3, "ME")],
    "007_1": [("007_1_1", 10003, 10010, "MaE"), ("007_1_2", 10012, 10014, "ME")],
    "008_1": [("008_1_1", 2, 11, "MaE")],
}
PART_FRAMES = 7        # frames per part file: 23 frames -> 4 parts
ROW_GROUP = 3          # rows per Parquet row group, to cross row-group boundaries inside parts
H, W = 12, 16


def frame_image(video: str, index: int) -> np.ndarray:
    """A deterministic RGB frame, distinct per (video, index)."""
    rng = np.random.default_rng(zlib.crc32(f"{video}/{index}".encode()))
    img = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
    img[0, 0] = (index % 256, len(video), 7)
    return img


def encode_png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def _card(configs: list[tuple[str, str]]) -> str:
    lines = ["---", "configs:"]
    for i, (name, path) in enumerate(configs):
        lines += [f"- config_name: {name}"] + (["  default: true"] if i == 0 else []) + [
            "  data_files:", "  - split: train", f"    path: \"{path}\""]
    return "\n".join(lines + ["---", "", "# tiny test release", ""])


def write_tiny_release(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    frames_dir, wds_dir = root / fmt.FRAMES_DIR, root / fmt.WDS_DIR
    frames_dir.mkdir(parents=True)
    wds_dir.mkdir(parents=True)
    videos: list[dict[str, Any]] = []
    intervals: list[dict[str, Any]] = []
    for source, (subject, first, n) in SOURCES.items():
        for ref in REFS[subject]:
            video = fmt.synthetic_video_id(source, ref)
            videos.append({"video": video, "source_video": source, "subject": subject, "source_dataset": "samm-lv",
                           "n_frames": n, "fps": 200.0, "width": W, "height": H,
                           "crop": {"x": 0, "y": 0, "w": 64, "h": 64}, "reference_id": ref,
                           "reference_sha256": "0" * 64, "domain": "female", "method": "color-transfer",
                           "checkpoint_sha256": None, "glasses": None})
            ivs = INTERVALS[source]
            for sid, on, off, kind in ivs:
                intervals.append({"interval_id": f"{video}/{sid}", "source_id": sid, "subject": subject,
                                  "video": video, "source_video": source, "onset": on, "apex": None,
                                  "offset": off, "kind": kind, "action_units": "", "notes": "", "flags": []})
            rows = []
            for i in range(n):
                frame = first + i
                ids = [f"{video}/{sid}" for sid, on, off, _ in ivs if on <= frame <= off]
                rows.append({
                    "video": video, "source_video": source, "subject": subject, "frame": frame, "index": i,
                    "image": {"bytes": encode_png(frame_image(video, i)), "path": None},
                    "me": any(on <= frame <= off and k == "ME" for _, on, off, k in ivs),
                    "mae": any(on <= frame <= off and k == "MaE" for _, on, off, k in ivs),
                    "interval_ids": ids, "reference_id": ref})
            for part, lo in enumerate(range(0, n, PART_FRAMES)):
                chunk = rows[lo: lo + PART_FRAMES]
                table = pa.Table.from_pylist(chunk, schema=fmt.schema_for("frames"))
                pq.write_table(table, frames_dir / fmt.part_name(video, part, "parquet"), row_group_size=ROW_GROUP)
                with tarfile.open(wds_dir / fmt.part_name(video, part, "tar"), "w") as tf:
                    for r in chunk:
                        key = fmt.wds_key(video, r["index"])
                        meta = {k: v for k, v in r.items() if k != "image"}
                        for name, data in ((f"{key}.json", json.dumps(meta).encode()),
                                           (f"{key}.png", r["image"]["bytes"])):
                            info = tarfile.TarInfo(name)
                            info.size = len(data)
                            tf.addfile(info, io.BytesIO(data))
    (root / fmt.VIDEOS_PATH).parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(videos, schema=fmt.schema_for("videos")), root / fmt.VIDEOS_PATH)
    (root / fmt.INTERVALS_PATH).parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(intervals, schema=fmt.schema_for("intervals")), root / fmt.INTERVALS_PATH)
    (root / fmt.CARD).write_text(_card([("frames", f"{fmt.FRAMES_DIR}/*.parquet"),
                                        ("intervals", fmt.INTERVALS_PATH), ("videos", fmt.VIDEOS_PATH)]))
    files = [fmt.file_record(root, p.relative_to(root).as_posix(), fmt.count_rows(p)).as_dict()
             for p in sorted(root.rglob("*")) if p.is_file()]
    (root / fmt.MANIFEST).write_text(json.dumps({"format_version": fmt.FORMAT_VERSION,
                                                 "status": fmt.STATUS_COMPLETE, "files": files,
                                                 "summary": {"configs": ["frames", "intervals", "videos"]}}))
    return root


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_release(tmp_path_factory.mktemp("tiny") / "release")


@pytest.fixture(params=["tiny", "small"])
def release(request: pytest.FixtureRequest) -> Path:
    """The tiny release, then the builder's ``small_release`` when that fixture exists."""
    if request.param == "tiny":
        return request.getfixturevalue("tiny_release")
    try:
        return request.getfixturevalue("small_release")
    except pytest.FixtureLookupError:
        pytest.skip("the builder's small_release fixture is not available yet")

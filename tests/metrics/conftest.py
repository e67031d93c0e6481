"""A release built straight from the demo corpus (crop from ``faces.locate_face``) for the metrics tests (independent of the builder).

The "transfer" is a fixed colour tint of the cropped original frame (JPEG 95), so original and synthetic motion
agree up to JPEG noise: the flow metrics must say so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources import iter_video_frames

SIZE = 128


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def make_tint_release(corpus: Any, out: Path, videos: tuple[str, ...] = ("006_1", "007_2")) -> Path:
    from samm_synth_dataset.sources import list_videos, read_annotations
    from samm_synth_dataset.faces import locate_face

    ann = read_annotations(corpus.annotations, "samm-lv")
    sources = {v.video: v for v in list_videos(corpus.root, "samm-lv")}
    (out / fmt.FRAMES_DIR).mkdir(parents=True)
    vrows, irows = [], []
    for k, src in enumerate(videos):
        s = sources[src]
        crop = locate_face(s, size=SIZE)
        ref = f"ref0{k + 1}"
        video = fmt.synthetic_video_id(src, ref)
        iv = ann[ann["video"] == src]
        rows: dict[str, list[Any]] = {n: [] for n in fmt.FRAMES_SCHEMA.names}
        tint = np.array([1.05, 0.9, 0.75] if k % 2 == 0 else [0.8, 0.95, 1.1])
        for index, (frame, image) in enumerate(iter_video_frames(s)):
            g = crop.apply(image).astype(np.float32)
            rgb = np.clip(g[..., None] * tint, 0, 255).astype(np.uint8)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            inside = iv[(iv["onset"] <= frame) & (iv["offset"] >= frame)]
            for key, val in (("video", video), ("source_video", src), ("subject", s.subject), ("frame", frame),
                             ("index", index), ("image", {"bytes": buf.tobytes(), "path": None}),
                             ("me", bool((inside["kind"] == "ME").any())), ("mae", bool((inside["kind"] == "MaE").any())),
                             ("interval_ids", [f"{video}/{x}" for x in inside["interval_id"]]), ("reference_id", ref)):
                rows[key].append(val)
        pq.write_table(pa.Table.from_pydict(rows, schema=fmt.schema_for("frames")),
                       out / fmt.FRAMES_DIR / fmt.part_name(video, 0, "parquet"), row_group_size=100)
        vrows.append({"video": video, "source_video": src, "subject": s.subject, "source_dataset": "samm-lv",
                      "n_frames": s.n_frames, "fps": 200.0, "width": SIZE, "height": SIZE, "crop": crop.as_dict(),
                      "reference_id": ref, "reference_sha256": "0" * 64, "domain": "female",
                      "method": "color-transfer", "checkpoint_sha256": None, "glasses": k % 2 == 0})
        for r in iv.itertuples():
            irows.append({"interval_id": f"{video}/{r.interval_id}", "source_id": r.source_id, "subject": r.subject,
                          "video": video, "source_video": src, "onset": int(r.onset),
                          "apex": None if r.apex is None or r.apex != r.apex else int(r.apex),
                          "offset": int(r.offset), "kind": r.kind, "action_units": str(r.action_units),
                          "notes": str(r.notes), "flags": list(r.flags)})
    for path, name, rows_ in ((fmt.VIDEOS_PATH, "videos", vrows), (fmt.INTERVALS_PATH, "intervals", irows)):
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows_, schema=fmt.schema_for(name)), out / path)
    files = [{"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size, "sha256": _sha(p),
              "rows": pq.ParquetFile(p).metadata.num_rows} for p in sorted(out.rglob("*.parquet"))]
    manifest = {"format_version": fmt.FORMAT_VERSION, "status": fmt.STATUS_COMPLETE,
                "config": {"source_root": str(corpus.root), "dataset": "samm-lv", "method": "color-transfer"},
                "versions": {}, "summary": {"files": len(files), "bytes": sum(f["bytes"] for f in files)},
                "files": files}
    (out / fmt.MANIFEST).write_text(json.dumps(manifest, indent=2))
    return out


@pytest.fixture(scope="session")
def tint_release_master(demo_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tint_release(demo_corpus, tmp_path_factory.mktemp("tint") / "release")


@pytest.fixture
def tint_release(tint_release_master: Path, tmp_path: Path) -> Path:
    """A private copy (tests write data/aus and quality/ into it)."""
    import shutil

    dest = tmp_path / "release"
    shutil.copytree(tint_release_master, dest)
    return dest


@pytest.fixture
def tint_release_maker():
    """``make_tint_release`` itself (``--import-mode=importlib`` keeps tests from importing conftest), for tests
    that need a release with other source videos, e.g. two of one source."""
    return make_tint_release

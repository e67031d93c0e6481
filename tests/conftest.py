"""Shared fixtures. Session-scoped builds are made once per test worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real face videos and OpenFace CSVs); skips when absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The tests' small demo corpus in SAMM-LV layout, with the real sheet's quirks on."""
    from samm_synth_dataset.demo.corpus import make_demo_corpus

    return make_demo_corpus(tmp_path_factory.mktemp("demo") / "corpus", seed=0, size="small", quirks=True)


@pytest.fixture(scope="session")
def casme3_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The demo faces in the CAS(ME)³ Part A layout (5 clips, 620 frames, 30 fps), both workbooks' quirks on."""
    from samm_synth_dataset.demo.casme3_corpus import make_casme3_corpus

    return make_casme3_corpus(tmp_path_factory.mktemp("casme3") / "corpus", quirks=True)


@pytest.fixture(scope="session")
def casme2_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The demo faces in the CAS(ME)² layout (4 videos, 480 frames, 30 fps), the 9-column workbook's quirks on."""
    from samm_synth_dataset.demo.casme2_corpus import make_casme2_corpus

    return make_casme2_corpus(tmp_path_factory.mktemp("casme2") / "corpus", quirks=True)


# ---- builders: a complete small release (issue 5) -------------------------------------------------------------

@pytest.fixture(scope="session")
def small_release(build_release, demo_corpus) -> Path:
    """A complete release built from ``demo_corpus``: colour transfer, Parquet frames + WebDataset tars, 2
    references per subject (8 synthetic videos of 270 frames, 128×128), parts of at most 100 frames (every video
    spans 3 parts). Session-scoped and shared: do not modify it — use ``small_release_copy`` to get a private copy."""
    return build_release(source=demo_corpus, refs=2, size=128, part_frames=100)


@pytest.fixture
def small_release_copy(small_release: Path, tmp_path: Path) -> Path:
    """A fresh, private copy of ``small_release`` (function-scoped) for tests that modify the release."""
    import shutil

    dst = tmp_path / "release"
    shutil.copytree(small_release, dst)
    return dst


# ---- tiny releases built through the real builder (issue 11) --------------------------------------------------

#: An annotated interval of a tiny corpus: (onset, apex or None = not annotated, offset, kind "ME" | "MaE"),
#: SOURCE frame numbers (1-based as in SAMM-LV), inclusive ends.
Interval = tuple[int, int | None, int, str]

#: The loader tests' corpus: source video -> (first source frame number, number of frames).
TINY_VIDEOS: dict[str, tuple[int, int]] = {"006_1": (1, 23), "006_2": (1, 9), "007_1": (10001, 17), "008_1": (1, 12)}
TINY_REFS: dict[str, list[str]] = {"006": ["ref01", "ref02"], "007": ["ref01", "ref03"], "008": ["ref02", "ref03"]}
#: The sheet's Filename of the k-th interval of a video is ``<video>_<k>`` (k 1-based), e.g. ``006_1_2``.
TINY_INTERVALS: dict[str, list[Interval]] = {
    "006_1": [(4, 6, 8, "ME"), (6, 13, 20, "MaE")],
    "006_2": [(3, 3, 3, "ME")],
    "007_1": [(10003, 10006, 10010, "MaE"), (10012, 10013, 10014, "ME")],
    "008_1": [(2, 6, 11, "MaE")],
}


def default_intervals(first: int, n: int) -> list[Interval]:
    """One ME (``first+1 .. first+3``, apex ``first+2``) and one MaE from the first frame whose apex is not
    annotated and whose offset lies 2 frames past the last one (the builder clips it and flags it)."""
    return [(first + 1, first + 2, first + 3, "ME"), (first, None, first + n + 1, "MaE")]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_face_reference(path: Path, key: str, side: int = 64) -> Path:
    """A colour reference face at ``path`` (PNG, ``side`` pixels square): the face of matplotlib's sample photo
    (Grace Hopper) with a colour grade seeded by ``key``, so that different keys give different images that the
    builder's face check accepts."""
    import zlib

    import cv2
    import numpy as np

    from samm_synth_dataset.demo.animation import detect_face
    from samm_synth_dataset.demo.photos import photo_bgr

    photo = photo_bgr("grace_hopper")
    x, y, w, h = detect_face(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    cx, cy, half = x + w / 2, y + h / 2, 0.8 * w
    crop = photo[int(cy - half):int(cy + half), int(cx - half):int(cx + half)]
    gains = np.random.default_rng(zlib.crc32(key.encode())).uniform(0.7, 1.3, size=3)
    image = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA) * gains[None, None, :]
    cv2.imwrite(str(path), np.clip(np.rint(image), 0, 255).astype(np.uint8))
    return path


def write_tiny_corpus(root: Path, videos: dict[str, tuple[int, int]], refs: dict[str, list[str]],
                      intervals: dict[str, list[Interval]], size: int) -> dict[str, Path]:
    """A tiny SAMM-LV corpus at ``root``: greyscale JPEG frames ``SAMM_longvideos/<video>/<video>_<n>.jpg`` of
    ``size + 8`` × ``size + 12`` pixels (H × W; noise seeded by video and frame, so every frame differs), the
    annotation sheet as CSV, a references CSV with one colour face image per reference id
    (:func:`write_face_reference`), and a face-box CSV (a
    ``size`` square, so no face detection runs). Returns the BuildConfig paths."""
    import zlib

    import cv2
    import numpy as np

    frames_root = root / "SAMM_longvideos"
    for video, (first, n) in videos.items():
        folder = frames_root / video
        folder.mkdir(parents=True)
        for frame in range(first, first + n):
            rng = np.random.default_rng(zlib.crc32(f"{video}/{frame}".encode()))
            grey = rng.integers(0, 256, size=(size + 8, size + 12), dtype=np.uint8)
            cv2.imwrite(str(folder / f"{video}_{frame:04d}.jpg"), grey)
    (root / "references").mkdir()
    for ref in sorted({r for rs in refs.values() for r in rs}):
        write_face_reference(root / "references" / f"{ref}.png", ref)
    sheet = [[video.split("_")[0], f"{video}_{k}", on, -1 if apex is None else apex, off,
              "Micro - 1/2" if kind == "ME" else "Macro", "12" if kind == "ME" else "4", ""]
             for video in videos for k, (on, apex, off, kind) in enumerate(intervals[video], start=1)]
    return {
        "source_root": frames_root,
        "annotations": _write_csv(root / "annotations.csv", ["Subject", "Filename", "Onset", "Apex", "Offset",
                                                             "Type", "Action Units", "Notes"], sheet),
        "references": _write_csv(root / "references.csv", ["subject", "reference_path", "domain", "reference_id"],
                                 [[s, f"references/{r}.png", "female", r] for s, rs in refs.items() for r in rs]),
        "boxes": _write_csv(root / "boxes.csv", ["video", "x", "y", "w", "h"],
                            [[video, 6, 4, size, size] for video in videos]),
    }


def write_fake_au_csvs(release: Path, original_dir: Path, synthetic_dir: Path) -> None:
    """OpenFace 2.2 CSVs (as ``FeatureExtraction`` writes them; OpenFace cannot run here) for every synthetic
    video of ``release`` and its source video: one row per frame, deterministic AU values."""
    import numpy as np
    import pandas as pd

    from samm_synth_dataset import format as fmt

    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    header = ["frame", "face_id", "timestamp", "confidence", "success", *fmt.AU_INTENSITY_COLUMNS,
              *fmt.AU_PRESENCE_COLUMNS]
    for folder in (original_dir, synthetic_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for k, row in enumerate(videos.itertuples()):
        rng = np.random.default_rng(k)
        n = int(row.n_frames)
        for folder, name in ((original_dir, row.source_video), (synthetic_dir, row.video)):
            intensity = rng.uniform(0, 5, size=(n, len(fmt.AU_INTENSITY_COLUMNS))).round(2)
            rows = []
            for i in range(n):
                by_au = dict(zip(fmt.AU_INTENSITY_COLUMNS, intensity[i]))
                present = [float(by_au.get(c[:-2] + "_r", 0.0) > 2.0) for c in fmt.AU_PRESENCE_COLUMNS]
                rows.append([i + 1, 0, f"{i / row.fps:.3f}", 0.98, 1, *intensity[i], *present])
            _write_csv(folder / f"{name}.csv", header, rows)


def _as_key(value: object) -> object:
    """A hashable, order-stable form of a fixture argument (dicts and lists become tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _as_key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_as_key(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return value


@pytest.fixture(scope="session")
def build_release(tmp_path_factory: pytest.TempPathFactory):
    """A factory of releases made by the real builder (``builders.build``, colour transfer, then finalize):

    ``build_release(dest=None, *, videos=None, refs=None, intervals=None, source=None, size=32,
    formats=("parquet", "webdataset"), image_format="jpeg", part_frames=None, row_group=None, glasses=None,
    with_aus=False, emotions=None) -> Path``

    * ``source=None``: a tiny generated SAMM-LV corpus (:func:`write_tiny_corpus`); ``videos`` maps a source
      video to (first source frame, number of frames) (default ``TINY_VIDEOS``); ``refs`` maps a subject to its
      reference ids (in order; default ``TINY_REFS``); ``intervals`` maps a video to its :data:`Interval` list (default:
      :func:`default_intervals`).
    * ``source=<demo corpus>`` (``sources.demo.DemoCorpus``, with its workbook, references and subjects file):
      ``videos`` is a tuple of its source video ids (default: all; all their frames) and ``refs`` the number of
      references per subject (default 1); faces are located by the builder (5 sampled frames per video).
    * ``size``: side of the square synthetic frames (pixels); ``part_frames``: frames per part file;
      ``row_group``: rows per Parquet row group of the frames (default ``format.FRAME_ROW_GROUP_SIZE``);
      ``glasses``: subject -> wears glasses (the subjects file); ``with_aus``: AU tracks from fake OpenFace CSVs
      through ``metrics.au_export.export_aus``; ``emotions``: interval id (``006_1_2``) -> emotion word, joined
      with the build's ``--emotions`` file.

    Each distinct set of arguments is built once per session. Without ``dest`` the shared build is returned:
    do not modify it. With ``dest`` (absent) a private copy is made there and returned.
    """
    import shutil
    from unittest import mock

    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.builders import build
    from samm_synth_dataset.builders.config import BuildConfig

    built: dict[object, Path] = {}

    def make(dest: Path | None = None, *, videos: dict[str, tuple[int, int]] | tuple[str, ...] | None = None,
             refs: dict[str, list[str]] | int | None = None, intervals: dict[str, list[Interval]] | None = None,
             source: object = None, size: int = 32, formats: tuple[str, ...] = ("parquet", "webdataset"),
             image_format: str = "jpeg", part_frames: int | None = None, row_group: int | None = None,
             glasses: dict[str, bool] | None = None, with_aus: bool = False,
             emotions: dict[str, str] | None = None) -> Path:
        if source is None:
            videos = TINY_VIDEOS if videos is None else videos
            refs = TINY_REFS if refs is None else refs
            assert isinstance(videos, dict) and isinstance(refs, dict), "a tiny corpus needs videos/refs maps"
        else:
            refs = 1 if refs is None else refs
            assert isinstance(refs, int) and not isinstance(videos, dict), "a demo corpus takes ids and a count"
        key = _as_key({"videos": videos, "refs": refs, "intervals": intervals, "size": size, "formats": formats,
                       "image_format": image_format, "part_frames": part_frames, "row_group": row_group,
                       "glasses": glasses, "with_aus": with_aus, "emotions": emotions,
                       "source": None if source is None else str(source.root)})  # type: ignore[attr-defined]
        if key not in built:
            work = tmp_path_factory.mktemp("built_release")
            if source is None:
                ivs = {v: (intervals or {}).get(v) or default_intervals(*fn) for v, fn in videos.items()}
                paths = write_tiny_corpus(work / "corpus", videos, refs, ivs, size)
                subjects = sorted(refs)
                n_refs = max(len(r) for r in refs.values())
                only = None
            else:
                paths = {"source_root": source.frames_root, "annotations": source.annotations,  # type: ignore
                         "references": source.references_csv, "subjects": source.subjects_csv}  # type: ignore
                only = None if videos is None else tuple(videos)
                subjects = sorted({v.split("_")[0] for v in (only or source.videos)})  # type: ignore
                n_refs = refs
            if glasses is not None:
                paths["subjects"] = _write_csv(work / "subjects.csv", ["subject", "gender", "glasses"],
                                               [[s, "F", str(glasses.get(s, "")).lower()] for s in subjects])
            if emotions is not None:
                paths["emotions"] = _write_csv(work / "emotions.csv", ["interval_id", "emotion"],
                                               [[k, v] for k, v in emotions.items()])
            config = BuildConfig(**paths, out=work / "release", dataset="samm-lv", refs_per_subject=n_refs,
                                 method="color-transfer", image_size=size, formats=formats,
                                 image_format=image_format, max_part_frames=part_frames, videos=only,
                                 face_samples=5, device="cpu", progress=False)
            with mock.patch.object(fmt, "FRAME_ROW_GROUP_SIZE", row_group or fmt.FRAME_ROW_GROUP_SIZE):
                summary = build(config)
            if not summary.complete:
                raise RuntimeError(f"build_release: the build did not complete:\n{summary.format()}")
            if with_aus:
                from samm_synth_dataset.metrics.au_export import export_aus

                write_fake_au_csvs(config.out, work / "au_original", work / "au_synthetic")
                export_aus(config.out, original_csv_dir=work / "au_original",
                           synthetic_csv_dir=work / "au_synthetic", progress=False)
            built[key] = config.out
        if dest is None:
            return built[key]
        shutil.copytree(built[key], dest)
        return dest

    return make


@pytest.fixture(scope="session")
def tiny_release(build_release) -> Path:
    """The loader and splits tests' release: ``TINY_VIDEOS`` × ``TINY_REFS`` (8 synthetic videos of 9–23 frames,
    16×16 PNG), parts of 7 frames and Parquet row groups of 3 rows (so readers cross both), Parquet + tars,
    intervals ``TINY_INTERVALS``. Shared: do not modify it (copy it first)."""
    return build_release(videos=TINY_VIDEOS, refs=TINY_REFS, intervals=TINY_INTERVALS, size=16, image_format="png",
                         part_frames=7, row_group=3)


#: Emotion words joined onto ``tiny_release``'s intervals by id (``tiny_emotion_release``); 006_2_1 and 007_1_2
#: stay unlabelled.
TINY_EMOTIONS: dict[str, str] = {"006_1_1": "Happiness", "006_1_2": "disgust", "007_1_1": "others",
                                 "008_1_1": "surprise"}


@pytest.fixture(scope="session")
def tiny_emotion_release(build_release) -> Path:
    """``tiny_release`` built with ``TINY_EMOTIONS`` joined through ``--emotions`` (shared: do not modify)."""
    return build_release(videos=TINY_VIDEOS, refs=TINY_REFS, intervals=TINY_INTERVALS, size=16, image_format="png",
                         part_frames=7, row_group=3, emotions=TINY_EMOTIONS)


@pytest.fixture(params=["tiny", "small"])
def release(request: pytest.FixtureRequest) -> Path:
    """``tiny_release``, then ``small_release`` (shared: do not modify)."""
    return request.getfixturevalue(f"{request.param}_release")


# --------------------------------------------------------------------------------------------------------------
# ``tint_release`` (the AU, flow and report tests): a release built by the real builder from two demo-corpus
# videos, 006_1 and 007_2 (270 frames each, real face and scripted motion), one reference per subject, colour
# transfer to 128×128 JPEG, Parquet only; subject 006 wears glasses, 007 does not (so both glasses groups exist).
# Colour transfer keeps the geometry, so original and synthetic motion agree up to JPEG noise.

TINT: dict[str, Any] = {"videos": ("006_1", "007_2"), "refs": 1, "size": 128, "formats": ("parquet",),
                        "glasses": {"006": True, "007": False}}


@pytest.fixture(scope="session")
def tint_release_master(build_release, demo_corpus) -> Path:
    """The shared build behind ``tint_release`` (read-only: copy it before writing)."""
    return build_release(source=demo_corpus, **TINT)


@pytest.fixture
def tint_release(build_release, demo_corpus, tmp_path: Path) -> Path:
    """A private copy (tests write data/aus and quality/ into it)."""
    return build_release(tmp_path / "release", source=demo_corpus, **TINT)

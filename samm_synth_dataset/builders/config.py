"""The build configuration: one frozen dataclass, from keyword arguments, CLI flags or a TOML file.

Each field is the one definition of its setting: its metadata (``settings.flag``) holds the help text from which
``samm-synth build`` derives the flag, and the dataclass default is the default the help shows.

Sizes: ``max_part_mb`` is MiB of encoded image bytes per part (the Parquet/tar overhead comes on top);
``max_part_frames`` caps the frames per part. Either may be None (no limit by that measure).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samm_synth_dataset.settings import flag, not_a_flag
from samm_synth_dataset.sources.annotations import OFFSET_FILL_RULES
from samm_synth_dataset.sources.casme3 import Casme3Rules
from samm_synth_dataset.sources.records import DATASETS
from samm_synth_dataset.transfer.engine import METHODS

FORMATS: tuple[str, ...] = ("parquet", "webdataset")
IMAGE_FORMATS: tuple[str, ...] = ("jpeg", "png")

#: Fields that do not change a release's bytes; left out of the manifest's effective config.
NON_CONTENT_FIELDS: tuple[str, ...] = ("out", "resume", "device", "batch_size", "progress", "dist_timeout_hours",
                                       "hash_sources")
PATH_FIELDS: tuple[str, ...] = ("source_root", "annotations", "emotions", "references", "subjects", "boxes", "checkpoint",
                                "fan_checkpoint", "align_landmarks", "out")


def parse_formats(value: str) -> tuple[str, ...]:
    """``parquet`` | ``webdataset`` | ``both`` (or a comma list) → a formats tuple."""
    if value == "both":
        return FORMATS
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    bad = [p for p in parts if p not in FORMATS]
    if bad:
        raise ValueError(f"unknown format(s) {bad}: use parquet, webdataset or both")
    return parts


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build needs.

    ``references`` is a CSV (``subject, reference_path, domain[, reference_id]``) or a directory with ``female/``
    and ``male/`` subfolders (then ``subjects`` is required for the gender-matched assignment). ``formats`` is a
    subset of ``("parquet", "webdataset")``. ``videos`` restricts the build to these source video ids;
    ``exclude_videos`` leaves source videos out (recorded as skipped). ``boxes`` is an optional ``video,x,y,w,h``
    CSV of face CROP boxes in source pixels (0-based, end exclusive): the region kept, no margin added; a
    non-square box is made square about its centre (see ``faces.locate_face``). Without a box the face is
    located in ``face_samples`` frames spread over each video. ``image_size`` is the side of the square synthetic
    frames in pixels (colour transfer only; a StarGAN v2 checkpoint fixes its own size). ``fps`` overrides the
    source frame rate (required for generic image folders).
    ``align_landmarks`` (StarGAN v2 with a FAN only): the official ``celeba_lm_mean.npz``; each video's box crop is
    then refined ONCE by the official similarity alignment from FAN landmarks of its ``face_samples`` frames
    (``faces.align_video``), recorded in the videos table's ``crop_matrix``.
    ``device`` "auto" picks ``cuda:<LOCAL_RANK>`` when CUDA is available, else "cpu".

    Source reader options: ``offset_fill`` is the CAS(ME)²/CAS(ME)³ rule for an offset of 0 (not annotated), one
    of ``sources.OFFSET_FILL_RULES`` (``apex``: offset = apex, the default; ``mirror``: 2·apex − onset; ``error``:
    refuse); it is recorded in the effective config for those two datasets only. ``casme3_rules``: the CAS(ME)³
    reader's other fix rules as ``NAME=VALUE`` strings (``sources.casme3.Casme3Rules``; empty = its defaults),
    recorded for ``dataset="casme3"`` only. ``allow_gaps``: source frame
    numbers missing inside a video are recorded (``VideoSource.missing``; the build summary and the plan's
    ``missing_frames``) instead of failing the build; the missing frames are simply absent from the release.

    ``emotions``: a CSV of the user's own emotion labels joined onto the annotations
    (``sources.emotions.join_emotions``; recorded in the config only when given).
    ``no_labels``: build without ``annotations`` on purpose (every ``me``/``mae`` False, no intervals); without
    it a build with no annotations is refused. It is recorded in the manifest's config and stated in the card.
    ``hash_sources``: the per-video source fingerprint that ``resume`` compares also hashes every frame file's
    bytes (default: file names, sizes and modification times only).
    """

    source_root: Path = field(metadata=flag("folder of the source frames (e.g. the SAMM-LV root)"))
    references: Path = field(metadata=flag("references CSV (subject,reference_path,domain[,reference_id]) or a "
                                           "folder with female/ and male/ (needs --subjects)"))
    out: Path = field(metadata=flag("release folder (created; must be empty unless --resume)"))
    dataset: str = field(default="samm-lv", metadata=flag("source layout", choices=DATASETS))
    fps: float | None = field(default=None, metadata=flag("source frame rate override (needed for generic image "
                                                          "folders)", none="the source's"))
    annotations: Path | None = field(default=None, metadata=flag(
        "annotation sheet (SAMM-LV xlsx, CAS(ME)² xlsx, CAS(ME)³ xls/xlsx, or CSV for generic)"))
    emotions: Path | None = field(default=None, metadata=flag(
        "CSV of your own emotion labels joined onto the annotations: emotion plus interval_id, or video,onset,offset "
        "(source ids and frames); a row matching no interval is refused", metavar="CSV",
        none="the sheet's own labels (SAMM-LV has none)"))
    subjects: Path | None = field(default=None, metadata=flag("CSV subject,gender[,glasses]"))
    boxes: Path | None = field(default=None, metadata=flag(
        "CSV video,x,y,w,h of face crop boxes in source pixels, used as the crop (made square about the centre)",
        none="none: the face is located"))
    face_samples: int = field(default=25, metadata=flag("frames sampled per video to locate the face"))
    refs_per_subject: int = field(default=1, metadata=flag("references per subject"))
    method: str = field(default="color-transfer", metadata=flag("transfer method", choices=tuple(METHODS)))
    image_size: int = field(default=256, metadata=flag("synthetic frame side in pixels (colour transfer)"))
    checkpoint: Path | None = field(default=None, metadata=flag(
        "StarGAN v2 checkpoint (.pt/.ckpt, loaded weights-only)"))
    fan_checkpoint: Path | None = field(default=None, metadata=flag(
        "FAN landmark checkpoint (optional, for StarGAN v2 masks)"))
    align_landmarks: Path | None = field(default=None, metadata=flag(
        "official celeba_lm_mean.npz: refine each video's crop once by the StarGAN v2 FAN alignment (stargan-v2 "
        "only)", metavar="NPZ"))
    formats: tuple[str, ...] = field(default=("parquet",), metadata=flag(
        "frame files", name="format", choices=(*FORMATS, "both"), parse=parse_formats))
    image_format: str = field(default="jpeg", metadata=flag("frame encoding", choices=IMAGE_FORMATS))
    jpeg_quality: int = field(default=95, metadata=flag("JPEG quality, 1..100"))
    max_part_mb: float | None = field(default=500.0, metadata=flag("max encoded image MiB per part",
                                                                   none="no limit"))
    max_part_frames: int | None = field(default=None, metadata=flag("max frames per part", none="no limit"))
    batch_size: int = field(default=8, metadata=flag("frames per transfer batch"))
    seed: int = field(default=0, metadata=flag("seed of the reference assignment"))
    resume: bool = field(default=False, metadata=flag("continue an interrupted build in --out (a no-op on a "
                                                      "finished one)"))
    device: str = field(default="auto", metadata=flag("torch device: auto (cuda:<LOCAL_RANK> when CUDA is "
                                                      "available, else cpu), cpu, cuda, cuda:1 ..."))
    videos: tuple[str, ...] | None = field(default=None, metadata=flag("build only these source videos",
                                                                       nargs="+", none="all"))
    exclude_videos: tuple[str, ...] = field(default=(), metadata=flag(
        "leave these source videos out (recorded as skipped)", nargs="+"))
    offset_fill: str = field(default="apex", metadata=flag(
        "CAS(ME)²/CAS(ME)³ offset 0 (not annotated): apex = offset := apex, mirror = offset := 2·apex − onset, "
        "error = refuse such rows", choices=OFFSET_FILL_RULES))
    casme3_rules: tuple[str, ...] = field(default=(), metadata=flag(
        "CAS(ME)³ fix rule, repeatable (as inspect-source): onset_zero=keep|first_frame|error, "
        "apex_zero=null|error, onset_after_offset=swap|error, apex_outside=keep|null|error, "
        "long_me=keep|macro|error, long_mae=keep|error, long_me_frames=N, long_mae_frames=N",
        name="casme3-rule", append=True, metavar="NAME=VALUE", none="the reader's defaults"))
    keep_duplicate_rows: bool = field(default=False, metadata=flag(
        "keep every copy of an annotation row that the sheet repeats exactly (each flagged duplicate_row); by "
        "default such a row is kept once"))
    allow_faceless_references: bool = field(default=False, metadata=flag(
        "use reference images in which OpenCV's frontal-face detector finds no face (by default such a reference "
        "is refused before anything is built)"))
    allow_gaps: bool = field(default=False, metadata=flag(
        "source frame numbers missing inside a video are recorded (build summary, plan missing_frames) and left "
        "out of the release instead of stopping the build"))
    no_labels: bool = field(default=False, metadata=flag(
        "build without --annotations on purpose: no intervals, every me/mae False (recorded in the manifest and "
        "stated in the card); without it a build with no annotations is refused"))
    hash_sources: bool = field(default=False, metadata=flag(
        "fingerprint the source frames by their bytes too (default: names, sizes, modification times), so that "
        "--resume refuses frames changed since their units were built"))
    progress: bool = field(default=True, metadata=flag("no progress bar"))
    dist_timeout_hours: float = field(default=72.0, metadata=not_a_flag(
        "how long torchrun ranks wait for each other; set it in the --config file or in Python"))

    def __post_init__(self) -> None:
        for name in PATH_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if isinstance(self.formats, str):
            object.__setattr__(self, "formats", parse_formats(self.formats))
        object.__setattr__(self, "formats", tuple(f for f in FORMATS if f in self.formats))
        if self.max_part_mb is not None:
            object.__setattr__(self, "max_part_mb", float(self.max_part_mb))
        if isinstance(self.casme3_rules, str):
            object.__setattr__(self, "casme3_rules", (self.casme3_rules,))
        object.__setattr__(self, "casme3_rules", tuple(str(r) for r in self.casme3_rules))
        for name in ("videos", "exclude_videos"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(str(v) for v in value))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the bad field and what to do."""
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}")
        if METHODS[self.method].weights and self.checkpoint is None:
            raise ValueError(f"method {self.method} needs --checkpoint (the official StarGAN v2 generator/style "
                             "encoder checkpoint)")
        if self.align_landmarks is not None and not METHODS[self.method].weights:
            with_weights = " or ".join(name for name, info in METHODS.items() if info.weights)
            raise ValueError(f"align_landmarks (the FAN alignment) needs method {with_weights}, not {self.method}: "
                             "the landmarks come from its FAN")
        if not self.formats:
            raise ValueError(f"formats must name at least one of {FORMATS}")
        if self.image_format not in IMAGE_FORMATS:
            raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {self.image_format!r}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
        if self.face_samples < 1:
            raise ValueError(f"face_samples must be >= 1, got {self.face_samples}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be >= 16 pixels, got {self.image_size}")
        if self.refs_per_subject < 1:
            raise ValueError(f"refs_per_subject must be >= 1, got {self.refs_per_subject}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_part_mb is not None and self.max_part_mb <= 0:
            raise ValueError(f"max_part_mb must be > 0, got {self.max_part_mb}")
        if self.max_part_frames is not None and self.max_part_frames < 1:
            raise ValueError(f"max_part_frames must be >= 1, got {self.max_part_frames}")
        if self.offset_fill not in OFFSET_FILL_RULES:
            raise ValueError(f"offset_fill must be one of {OFFSET_FILL_RULES} (the CAS(ME)² rule for offset 0), "
                             f"got {self.offset_fill!r}")
        if self.casme3_rules:
            if self.dataset != "casme3":
                raise ValueError(f"casme3_rules apply to dataset casme3 only (dataset is {self.dataset!r})")
            self.casme3()
        if self.emotions is not None and self.annotations is None:
            raise ValueError(f"emotions ({self.emotions}) label the intervals of --annotations; give the annotations")
        if self.no_labels and self.annotations is not None:
            raise ValueError(f"no_labels (--no-labels) and annotations ({self.annotations}) contradict each other: "
                             "give one of them")
        if not isinstance(self.allow_gaps, bool):
            raise ValueError(f"allow_gaps must be true or false, got {self.allow_gaps!r}")

    def casme3(self) -> Any:
        """The CAS(ME)³ reader's rules (``sources.casme3.Casme3Rules``) from ``casme3_rules``; ValueError names a
        bad one."""
        return Casme3Rules.from_pairs(self.casme3_rules)

    @property
    def max_part_bytes(self) -> int | None:
        return None if self.max_part_mb is None else int(self.max_part_mb * 1024 * 1024)

    @property
    def image_ext(self) -> str:
        """File extension of the encoded frames: ``jpg`` or ``png``."""
        return "jpg" if self.image_format == "jpeg" else "png"

    def replace(self, **changes: Any) -> "BuildConfig":
        return dataclasses.replace(self, **changes)

    def effective(self) -> dict[str, Any]:
        """The content-relevant config as JSON-ready values (paths as strings), for the manifest."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in NON_CONTENT_FIELDS:
                continue
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        if self.image_format == "png":
            out.pop("jpeg_quality")
        if self.emotions is None:
            out.pop("emotions")  # recorded only when used
        if not self.keep_duplicate_rows:
            out.pop("keep_duplicate_rows")  # recorded only when used (the default keeps a repeated row once)
        if not self.allow_faceless_references:
            out.pop("allow_faceless_references")  # recorded only when used (the default refuses such a reference)
        if METHODS[self.method].weights:
            out.pop("image_size")  # the checkpoint fixes it
        if self.dataset not in ("casme2", "casme3"):
            out.pop("offset_fill")  # only the CAS(ME)² and CAS(ME)³ readers fill offsets
        if self.dataset != "casme3":
            out.pop("casme3_rules")
        return out

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> "BuildConfig":
        """Read a TOML file (top-level keys or a ``[build]`` table with this class's field names); keyword
        ``overrides`` that are not None win. Relative paths in the file are relative to the file's folder."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc})") from exc
        data = dict(data.get("build", data))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown build settings {unknown}; known: {sorted(known)}")
        for name in PATH_FIELDS:
            if isinstance(data.get(name), str) and not Path(data[name]).is_absolute():
                data[name] = str(path.parent / data[name])
        data.update({k: v for k, v in overrides.items() if v is not None})
        missing = [n for n in ("source_root", "references", "out") if n not in data]
        if missing:
            raise ValueError(f"{path}: missing required settings {missing} (give them in the file or as flags)")
        return cls(**data)


def demo_config(corpus: Any, out: str | Path, **overrides: Any) -> BuildConfig:
    """The build config for a demo corpus (``demo.corpus.DemoCorpus``): SAMM-LV layout, its workbook,
    references CSV and subjects file, colour transfer, 2 references per subject, Parquet + WebDataset.
    ``overrides`` replace any field (e.g. ``max_part_frames=100``, ``progress=False``)."""
    values: dict[str, Any] = {
        "source_root": corpus.frames_root, "references": corpus.references_csv, "out": Path(out),
        "dataset": "samm-lv", "annotations": corpus.annotations, "subjects": corpus.subjects_csv,
        "refs_per_subject": 2, "method": "color-transfer", "formats": FORMATS,
    }
    values.update(overrides)
    return BuildConfig(**values)

"""Identity change per synthetic video: is the source person still recognisable after the transfer?

A face descriptor (dlib's ResNet face-recognition model, 128-D, from ``face_recognition_models``) is computed for
N frames sampled evenly over each synthetic video, for the same frames of its original (through the same crop)
and for the video's reference image. Distances are Euclidean between descriptors; dlib documents that two faces
less than 0.6 apart are the same person (99.38 % on LFW). Per video this module gives the medians of
synthetic↔original, synthetic↔reference and original↔reference, the share of sampled frames whose synthetic face
is still within the threshold of the original ("still recognisable"), and the frames where no face was found.

Models used (all public domain, by dlib's author): the HOG frontal face detector (built into dlib), the 5-point
shape predictor ``shape_predictor_5_face_landmarks.dat`` (alignment) and
``dlib_face_recognition_resnet_model_v1.dat`` (descriptor). The 68-point predictor shipped in the same package
is never used (its training data restricts commercial use). dlib (``dlib-bin``, Boost licence) and
``face_recognition_models`` (MIT) are imported only when a ``FaceDescriber`` is made; without them it raises
``IdentityUnavailable`` with the reason, for the report to show as a skip.

Conventions: frame numbers are SOURCE frame numbers (as in the release); sampled positions are 0-based indices
into the synthetic video's frames in index order; images are uint8 RGB H×W×3 (greyscale H×W is accepted and
replicated to three channels). A median over zero measured pairs is ``None`` (refused), never 0.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: dlib's documented same-person threshold on the ResNet descriptor's Euclidean distance.
DEFAULT_THRESHOLD = 0.6
#: Frames sampled evenly over each synthetic video.
DEFAULT_SAMPLES = 25
#: A video is "recognisable" when at least this share of its measured frames is within the threshold of the
#: original, and "changed" when at most ``CHANGED_SHARE`` is; in between it is "mixed".
RECOGNISABLE_SHARE = 0.9
CHANGED_SHARE = 0.1
#: HOG detector upsampling, tried in order until a face is found. HOG's smallest face is about 80×80 px; one
#: upsampling (×2) brings that to about 40 px, so faces filling 64²–256² crops are found (the demo's 128² and 256²
#: crops are found at 0; 1 is the fallback, about 3× slower at 256²).
UPSAMPLE = (0, 1)
#: Descriptor models and settings: part of every cache key (changing them invalidates cached results).
METHOD = "dlib HOG frontal detector + 5-point alignment + dlib_face_recognition_resnet_model_v1, no jitter"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"


class IdentityUnavailable(RuntimeError):
    """dlib or its models are not installed; ``reason`` says what is missing and how to install it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sample_positions(n_frames: int, n: int = DEFAULT_SAMPLES) -> np.ndarray:
    """``n`` evenly spaced 0-based positions in ``0..n_frames-1`` (int64, increasing, unique): the first and the
    last frame when ``n >= 2``, the middle one when ``n == 1``, every frame when ``n_frames <= n``."""
    if n < 1:
        raise ValueError(f"sample count must be at least 1, got {n}")
    if n_frames < 0:
        raise ValueError(f"frame count must not be negative, got {n_frames}")
    if n_frames <= n:
        return np.arange(n_frames, dtype=np.int64)
    if n == 1:
        return np.array([(n_frames - 1) // 2], dtype=np.int64)
    # step (n_frames - 1) / (n - 1) >= 1, so rounding half up keeps the positions strictly increasing
    return np.floor(np.linspace(0, n_frames - 1, n) + 0.5).astype(np.int64)


def _model_dir() -> Path:
    # find_spec does not run the package's __init__ (which needs pkg_resources, absent from new setuptools)
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise IdentityUnavailable("face_recognition_models is not installed (pip install face_recognition_models)")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def as_rgb(image: np.ndarray, where: str) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"{where}: image must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{where}: image must be H×W×3 RGB or H×W greyscale, got shape {image.shape}")
    return np.ascontiguousarray(image)


class FaceDescriber:
    """dlib's 128-D face descriptor of the largest face in an image. Loads the models once (about 30 MB).

    ``upsample``: HOG detector upsampling levels, tried in order until a face is found (see ``UPSAMPLE``).
    Raises ``IdentityUnavailable`` when dlib or the models are missing.
    """

    def __init__(self, upsample: Sequence[int] = UPSAMPLE) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise IdentityUnavailable(f"dlib is not installed (pip install dlib-bin): {exc}") from None
        models = _model_dir()
        paths = {name: models / name for name in (SHAPE_MODEL, DESCRIPTOR_MODEL)}
        for name, p in paths.items():
            if not p.is_file():
                raise IdentityUnavailable(f"{p}: model {name} is missing; reinstall face_recognition_models")
        if not upsample or any(int(u) < 0 for u in upsample):
            raise ValueError(f"upsample must be non-negative levels, got {tuple(upsample)}")
        self.upsample = tuple(int(u) for u in upsample)
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(paths[SHAPE_MODEL]))
        self._model = dlib.face_recognition_model_v1(str(paths[DESCRIPTOR_MODEL]))

    def describe(self, image: np.ndarray, where: str = "image") -> np.ndarray | None:
        """float64 (128,) descriptor of the largest detected face of ``image`` (uint8 RGB H×W×3 or H×W), or None
        when no face is found. ``where`` names the image in error messages."""
        rgb = as_rgb(image, where)
        boxes = []
        for up in self.upsample:
            boxes = list(self._detector(rgb, up))
            if boxes:
                break
        if not boxes:
            return None
        box = max(boxes, key=lambda b: b.width() * b.height())
        shape = self._shape(rgb, box)
        return np.asarray(self._model.compute_face_descriptor(rgb, shape, 0), dtype=np.float64)


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Euclidean distance of two descriptors; None when either face was not found."""
    if a is None or b is None:
        return None
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def _median(values: Iterable[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.median(v)) if v else None


@dataclass(frozen=True)
class VideoIdentity:
    """Identity distances of one synthetic video over its sampled frames (SOURCE frame numbers, in index order).

    Per-frame distances are None where a face was missing on either side. ``reference_found`` is False when no
    face was found in the reference image (then every distance to it is None). Derived values (medians, share,
    verdict) are properties, so a cached result can be re-read with another threshold.
    """

    video: str
    frames: tuple[int, ...]
    synthetic_to_original: tuple[float | None, ...]
    synthetic_to_reference: tuple[float | None, ...]
    original_to_reference: tuple[float | None, ...]
    no_face_original: tuple[int, ...]
    no_face_synthetic: tuple[int, ...]
    reference_found: bool
    threshold: float = DEFAULT_THRESHOLD
    method: str = METHOD

    def __post_init__(self) -> None:
        n = len(self.frames)
        for name in ("synthetic_to_original", "synthetic_to_reference", "original_to_reference"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"video {self.video}: {name} has {len(getattr(self, name))} values for {n} frames")
        if not self.threshold > 0:
            raise ValueError(f"video {self.video}: threshold must be positive, got {self.threshold}")

    @property
    def n_sampled(self) -> int:
        return len(self.frames)

    @property
    def n_pairs(self) -> int:
        """Sampled frames with a face in both the original and the synthetic frame."""
        return sum(d is not None for d in self.synthetic_to_original)

    @property
    def median_synthetic_original(self) -> float | None:
        return _median(self.synthetic_to_original)

    @property
    def median_synthetic_reference(self) -> float | None:
        return _median(self.synthetic_to_reference)

    @property
    def median_original_reference(self) -> float | None:
        return _median(self.original_to_reference)

    @property
    def recognisable_frames(self) -> int:
        """Measured frames whose synthetic face is within (strictly below) the threshold of the original."""
        return sum(d is not None and d < self.threshold for d in self.synthetic_to_original)

    @property
    def recognisable_share(self) -> float | None:
        """``recognisable_frames / n_pairs`` (frames with a face on both sides); None when no pair was measured."""
        return self.recognisable_frames / self.n_pairs if self.n_pairs else None

    def verdict(self, recognisable: float = RECOGNISABLE_SHARE, changed: float = CHANGED_SHARE) -> str:
        """``recognisable`` (share ≥ ``recognisable``), ``changed`` (share ≤ ``changed``), ``mixed`` in between, or
        ``unmeasured`` (no frame with a face on both sides)."""
        share = self.recognisable_share
        if share is None:
            return "unmeasured"
        if share >= recognisable:
            return "recognisable"
        if share <= changed:
            return "changed"
        return "mixed"

    def with_threshold(self, threshold: float) -> "VideoIdentity":
        """The same distances judged against another threshold."""
        return VideoIdentity(**{**self._raw(), "threshold": float(threshold)})

    def _raw(self) -> dict[str, Any]:
        return {"video": self.video, "frames": self.frames, "synthetic_to_original": self.synthetic_to_original,
                "synthetic_to_reference": self.synthetic_to_reference,
                "original_to_reference": self.original_to_reference, "no_face_original": self.no_face_original,
                "no_face_synthetic": self.no_face_synthetic, "reference_found": self.reference_found,
                "threshold": self.threshold, "method": self.method}

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the per-frame distances and, for readers, the derived values (ignored by ``from_dict``)."""
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in self._raw().items()}
        d.update({"n_sampled": self.n_sampled, "n_pairs": self.n_pairs,
                  "median_synthetic_original": self.median_synthetic_original,
                  "median_synthetic_reference": self.median_synthetic_reference,
                  "median_original_reference": self.median_original_reference,
                  "recognisable_frames": self.recognisable_frames, "recognisable_share": self.recognisable_share,
                  "verdict": self.verdict()})
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "VideoIdentity":
        def dists(name: str) -> tuple[float | None, ...]:
            return tuple(None if x is None else float(x) for x in d[name])

        try:
            return cls(video=str(d["video"]), frames=tuple(int(f) for f in d["frames"]),
                       synthetic_to_original=dists("synthetic_to_original"),
                       synthetic_to_reference=dists("synthetic_to_reference"),
                       original_to_reference=dists("original_to_reference"),
                       no_face_original=tuple(int(f) for f in d["no_face_original"]),
                       no_face_synthetic=tuple(int(f) for f in d["no_face_synthetic"]),
                       reference_found=bool(d["reference_found"]), threshold=float(d["threshold"]),
                       method=str(d["method"]))
        except KeyError as exc:
            raise ValueError(f"identity result of video {d.get('video', '?')}: field {exc.args[0]} is missing; "
                             "delete the cached result to recompute it") from None


def describe_frames(images: Iterable[tuple[int, np.ndarray]], describer: FaceDescriber,
                    what: str = "frame") -> dict[int, np.ndarray | None]:
    """Descriptors (None: no face) of ``(source frame number, image)`` pairs, by frame number. Lets a caller
    reuse an original's descriptors for every synthetic video made from it (same frames and crop)."""
    out: dict[int, np.ndarray | None] = {}
    for frame, image in images:
        frame = int(frame)
        if frame in out:
            raise ValueError(f"{what} {frame} is given twice")
        out[frame] = describer.describe(image, where=f"{what} {frame}")
    return out


def identity_from_descriptors(video: str, frames: Sequence[int], original: Mapping[int, np.ndarray | None],
                              synthetic: Mapping[int, np.ndarray | None], reference: np.ndarray | None,
                              threshold: float = DEFAULT_THRESHOLD) -> VideoIdentity:
    """``VideoIdentity`` of ``video`` from descriptors by SOURCE frame number (None: no face found)."""
    frames = tuple(int(f) for f in frames)
    if len(set(frames)) != len(frames):
        raise ValueError(f"video {video}: sampled frames repeat: {list(frames)}")
    for name, table in (("original", original), ("synthetic", synthetic)):
        missing = [f for f in frames if f not in table]
        if missing:
            raise KeyError(f"video {video}: no {name} descriptor for frames {missing[:10]}")
    return VideoIdentity(
        video=video, frames=frames,
        synthetic_to_original=tuple(distance(synthetic[f], original[f]) for f in frames),
        synthetic_to_reference=tuple(distance(synthetic[f], reference) for f in frames),
        original_to_reference=tuple(distance(original[f], reference) for f in frames),
        no_face_original=tuple(f for f in frames if original[f] is None),
        no_face_synthetic=tuple(f for f in frames if synthetic[f] is None),
        reference_found=reference is not None, threshold=float(threshold))


def measure_video(video: str, frames: Iterable[tuple[int, np.ndarray, np.ndarray]], reference_rgb: np.ndarray,
                  describer: FaceDescriber, threshold: float = DEFAULT_THRESHOLD) -> VideoIdentity:
    """Identity of one synthetic video from ``(source frame number, original, synthetic)`` triples (the original
    through the video's crop, at the synthetic size; take the frames at ``sample_positions``) and its reference."""
    numbers, original, synthetic = [], {}, {}
    for frame, o, s in frames:
        frame = int(frame)
        if frame in original:
            raise ValueError(f"video {video}: frame {frame} is given twice")
        numbers.append(frame)
        original[frame] = describer.describe(o, where=f"video {video} original frame {frame}")
        synthetic[frame] = describer.describe(s, where=f"video {video} synthetic frame {frame}")
    reference = describer.describe(reference_rgb, where=f"video {video} reference image")
    return identity_from_descriptors(video, numbers, original, synthetic, reference, threshold)


def identity_table(results: Sequence[VideoIdentity]) -> "pd.DataFrame":
    """One row per video: sampled frames, measured pairs, the three medians, the recognisable share, frames with
    no face (SOURCE numbers, space-separated) and the verdict; the threshold in every row."""
    rows = []
    for r in results:
        rows.append({"video": r.video, "sampled": r.n_sampled, "pairs": r.n_pairs,
                     "synthetic_to_original": r.median_synthetic_original,
                     "synthetic_to_reference": r.median_synthetic_reference,
                     "original_to_reference": r.median_original_reference,
                     "recognisable_share": r.recognisable_share,
                     "no_face_original": " ".join(map(str, r.no_face_original)),
                     "no_face_synthetic": " ".join(map(str, r.no_face_synthetic)),
                     "reference_face": r.reference_found, "threshold": r.threshold, "verdict": r.verdict()})
    return pd.DataFrame(rows)


def most_and_least_changed(results: Sequence[VideoIdentity]) -> tuple[VideoIdentity, VideoIdentity] | None:
    """The videos with the largest and the smallest median synthetic↔original distance (None when none has one)."""
    measured = [r for r in results if r.median_synthetic_original is not None]
    if not measured:
        return None
    key = lambda r: (r.median_synthetic_original, r.video)  # noqa: E731
    return max(measured, key=key), min(measured, key=key)


# --------------------------------------------------------------------------------------------------------------
# Choosing videos to show

"""Feature recipes: a named, versioned set of parameters, one choice per step, from a video's face crops to the
arrays a spotting model reads. A light module (no OpenCV, torch or dlib): the command line and the manifest read it.

Steps (``Recipe`` fields) and the three recipes shipped::

    step          default (today's baseline)      softnet (published SOFTNet)        mtsn (MTSN's inputs)
    crop          the release's per-video crop    the release's per-video crop       the release's per-video crop
    flow          Farneback (metrics.flow)        TV-L1 (OpenCV contrib, defaults)   TV-L1
    flow_size     128 px                          128 px                             128 px
    strain        central differences             forward differences                forward differences
    head_motion   11×11 nose-root patch, |u|,|v|  11×11 patch at landmark 28, |u|,|v| none (raw u, v)
    eye_mask      proportional eyes box → 0       eye hexagons pushed out 15 px → 0  none
    roi           brows box on top, mouth below   brows−12 px .. lower lids+12 px;   whole face
                                                  mouth ±12 px
    output        42×42×3 (21-row halves)         42×42×3 (42×21 + 42×21)            2 × 28×28×3 (streams k, 1)
    dtype         float32                         float16                            float16
    k             per fold (benchmark) or MEGC    MEGC rule over the whole dataset   MEGC rule over the whole dataset

Crop: every recipe reads the release's fixed per-video face crop (SOFTNet ran dlib's HOG detector on each video's
first frame instead; the release's frames are already cropped the same way for every frame of a video).
k: ``k = floor((mean(offset − onset) + 1) / 2)`` per kind over the intervals of the whole dataset (``dataset_k``);
SOFTNet drops SAMM-LV rows with onset 0 (``drop_onset_zero``). Landmarks (softnet): dlib's 68-point predictor on
the first frame when asked (``--landmarks dlib68``), else proportional points of the crop with the same geometry
(``softnet.template_landmarks``); the choice is stated in the output's metadata.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from samm_synth_dataset import format as fmt

#: Landmark sources of the recipes that place regions with landmarks.
LANDMARKS: tuple[str, ...] = ("proportional", "dlib68")
#: Said wherever dlib's 68-point predictor is used (the ``--help`` of ``features`` and the card).
DLIB68_LICENCE = ("dlib's 68-point shape predictor (face_recognition_models) is trained on the iBUG 300-W data, "
                  "whose licence excludes commercial use: features made with --landmarks dlib68 inherit that "
                  "restriction")


class RecipeError(ValueError):
    """An unknown recipe or a bad recipe option: one line naming it and the choices."""


@dataclass(frozen=True)
class Recipe:
    """One feature recipe (see the module docstring for the steps). Sizes in px; ``shape`` is one row's array
    (streams × height × width × channels, channels u, v, ε)."""

    name: str
    version: str
    flow: str                 # "farneback" | "tvl1"
    flow_size: int
    strain: str               # "central" | "forward"
    head_motion: str          # "nose-patch" (subtract the patch mean, then |u|, |v|) | "none"
    nose_patch: int
    eye_mask: str             # "box" | "hexagon" | "none"
    eye_push: int             # px the eye hexagons are pushed out (softnet: 15)
    roi: str                  # "boxes" (default) | "softnet" | "face"
    roi_margin: int           # px around the landmark ROIs (softnet: 12)
    output_size: int          # side of each stream's square map
    streams: tuple[str, ...]  # "k": the pair (i, i + k); "1": the pair (i, i + 1)
    dtype: str                # "float32" | "float16"
    k_rule: str               # "megc-dataset"
    drop_onset_zero: bool     # k leaves out intervals flagged onset_zero (SOFTNet's SAMM-LV MaE rule)
    uses_landmarks: bool

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.streams), self.output_size, self.output_size, 3)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["streams"] = list(self.streams)
        out["shape"] = list(self.shape)
        return out

    def replace(self, **changes: Any) -> Recipe:
        return dataclasses.replace(self, **changes)


DEFAULT = Recipe("default", "1", flow="farneback", flow_size=128, strain="central", head_motion="nose-patch",
                 nose_patch=11, eye_mask="box", eye_push=0, roi="boxes", roi_margin=0, output_size=42,
                 streams=("k",), dtype="float32", k_rule="megc-dataset", drop_onset_zero=False,
                 uses_landmarks=False)
SOFTNET = Recipe("softnet", "1", flow="tvl1", flow_size=128, strain="forward", head_motion="nose-patch",
                 nose_patch=11, eye_mask="hexagon", eye_push=15, roi="softnet", roi_margin=12, output_size=42,
                 streams=("k",), dtype="float16", k_rule="megc-dataset", drop_onset_zero=True, uses_landmarks=True)
MTSN = Recipe("mtsn", "1", flow="tvl1", flow_size=128, strain="forward", head_motion="none", nose_patch=11,
              eye_mask="none", eye_push=0, roi="face", roi_margin=0, output_size=28, streams=("k", "1"),
              dtype="float16", k_rule="megc-dataset", drop_onset_zero=True, uses_landmarks=False)
RECIPES: dict[str, Recipe] = {r.name: r for r in (DEFAULT, SOFTNET, MTSN)}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; RecipeError naming the choices otherwise."""
    try:
        return RECIPES[name]
    except KeyError:
        raise RecipeError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}") from None


def check_landmarks(recipe: Recipe, landmarks: str) -> None:
    """RecipeError unless ``landmarks`` is a known source (dlib68 only for recipes that use landmarks)."""
    if landmarks not in LANDMARKS:
        raise RecipeError(f"--landmarks {landmarks!r}: choose one of {', '.join(LANDMARKS)}")
    if landmarks == "dlib68" and not recipe.uses_landmarks:
        raise RecipeError(f"--landmarks dlib68: recipe {recipe.name} places no region by landmarks; use softnet "
                          "or leave --landmarks out")


def dataset_k(intervals: Iterable[tuple[int, int, bool]]) -> int | None:
    """``floor((mean(offset − onset) + 1) / 2)`` over ``(onset, offset, keep)`` rows of one kind (0-based or
    source frame numbers, inclusive ends; rows with ``keep`` False are left out); None without rows."""
    return fmt.megc_k(int(b) - int(a) for a, b, keep in intervals if keep)

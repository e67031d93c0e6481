"""The quality report's settings: one frozen dataclass, used by ``report.make_report`` and by the ``samm-synth
report`` flags (derived from its fields by ``settings``). A light module, so that ``samm-synth --help`` stays
fast; the inputs (the release, its source corpus) are not settings and stay arguments of ``make_report``."""

from __future__ import annotations

from dataclasses import dataclass, field

from samm_synth_dataset.identity.descriptor import DEFAULT_SAMPLES, DEFAULT_THRESHOLD
from samm_synth_dataset.settings import flag, not_a_flag
from samm_synth_dataset.stages import WORKERS_HELP

#: Default Savitzky–Golay window for the AU correlations: None = the tracks as OpenFace wrote them (its own
#: post-processing already averages intensities over 3 frames).
DEFAULT_WINDOW: int | None = None
DEFAULT_POLYORDER = 2


def smoothing_text(window: int | None, polyorder: int = DEFAULT_POLYORDER) -> str:
    """How the AU tracks are smoothed before correlating, in words (``window`` in frames; None or <= 1 = none)."""
    if window is not None and window > 1:
        return f"Savitzky–Golay (window {window}, order {polyorder}, mode interp, no clipping)"
    return "none (the tracks as OpenFace wrote them; OpenFace already averages intensities over 3 frames)"


@dataclass(frozen=True)
class ReportSettings:
    """How the report measures. ``window``/``polyorder``: Savitzky–Golay smoothing of the AU tracks before
    correlating (window in frames; None = unsmoothed). ``stability_step``/``stability_pairs``: frame step and
    number of frame pairs per video of the stability measure. ``figure3_videos``: synthetic videos whose AU
    curves Figure 3 shows (None = the one with the most frames tracked in both). ``identity_samples``/
    ``identity_threshold``: frames per video and dlib descriptor distance threshold of the identity section.
    ``workers``: processes for the per-video work (None = the cores). ``progress``: progress bars."""

    window: int | None = field(default=DEFAULT_WINDOW, metadata=flag(
        "Savitzky–Golay window (frames) for the AU tracks before correlating", name="smooth-window"))
    stability_step: int = field(default=1, metadata=flag("frame step of the stability pairs"))
    stability_pairs: int = field(default=16, metadata=flag("frame pairs per video"))
    figure3_videos: tuple[str, ...] | None = field(default=None, metadata=flag(
        "synthetic videos whose AU curves Figure 3 shows", name="au-curves", nargs="+", metavar="VIDEO",
        none="the best-tracked one"))
    identity_samples: int = field(default=DEFAULT_SAMPLES, metadata=flag(
        "frames sampled evenly per video for the identity section"))
    identity_threshold: float = field(default=DEFAULT_THRESHOLD, metadata=flag(
        "dlib descriptor distance below which two faces are the same person"))
    workers: int | None = field(default=None, metadata=flag(WORKERS_HELP, show_default=False))
    polyorder: int = field(default=DEFAULT_POLYORDER, metadata=not_a_flag(
        "the Savitzky–Golay order is fixed on the command line (Python callers may change it)"))
    progress: bool = field(default=True, metadata=not_a_flag("the command line's global -q/--quiet turns it off"))

    def __post_init__(self) -> None:
        if self.figure3_videos is not None:
            object.__setattr__(self, "figure3_videos", tuple(str(v) for v in self.figure3_videos))

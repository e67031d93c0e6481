"""What the report's sections read and return: ``ReportContext`` (the release's tables, the run's settings, the
figures folder, the per-video work's results) and ``Section`` (a section's title, blocks, ``report.json`` entry,
skips, card claims and headline tables); ``Motion``, the flow and stability measured per video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from samm_synth_dataset.metrics import flow
from samm_synth_dataset.metrics.document import Document
from samm_synth_dataset.report.report_settings import ReportSettings
from samm_synth_dataset.stages import Stage


@dataclass
class Motion:
    """Onset→apex flow and temporal stability, measured in one pass over each video's frames.

    ``per_interval``: flow measures, one row per (interval, region); ``per_video``: stability, one row per
    (video, region); ``shown``: the intervals Figure 6 shows; ``intervals_skipped``: ``{interval_id, reason}``
    rows; ``videos_skipped``: ``video -> reason`` for the videos whose original frames are not under
    ``source_root``.
    """

    source_root: Path
    n_videos: int
    per_interval: pd.DataFrame
    per_video: pd.DataFrame
    shown: list[flow.IntervalFlow]
    intervals_skipped: list[dict[str, Any]]
    videos_skipped: dict[str, str]

    @property
    def none_found(self) -> bool:
        """No video's original frames were found."""
        return bool(self.videos_skipped) and len(self.videos_skipped) == self.n_videos

    def no_originals(self) -> str:
        return (f"the original frames of no video were found under {self.source_root} (pass the corpus the "
                "release was built from with --source-root; first video: "
                f"{next(iter(self.videos_skipped.values()), '')})")

    def left_out(self) -> str | None:
        """The paragraph naming the videos left out, when some (not all) are."""
        if not self.videos_skipped or self.none_found:
            return None
        return (f"**Left out** ({len(self.videos_skipped)} of {self.n_videos} videos, original frames not found): "
                + "; ".join(f"{v}: {why}" for v, why in self.videos_skipped.items()) + ".")


@dataclass
class ReportContext:
    """What every section reads: the release, its videos and intervals tables, the folder the figures go to,
    the original frames' corpus (None = unavailable) and this run's ``settings``."""

    release: Path
    manifest: dict[str, Any]
    videos: pd.DataFrame
    intervals: pd.DataFrame
    figures: Path
    source_root: Path | None
    settings: ReportSettings = field(default_factory=ReportSettings)
    stage: Stage | None = None
    #: Task folders of the per-video work, by stage part (e.g. ``results["identity"][video]``), filled by
    #: ``PER_VIDEO_WORK`` on every rank and read by the sections on the main rank.
    results: dict[str, dict[str, Path]] = field(default_factory=dict)
    #: Flow and stability of every video (``sections.motion_of`` measures it on first use).
    motion: Motion | None = None


@dataclass
class Section:
    """One numbered section: ``title`` (numbered by its place in ``SECTIONS``), its blocks, its ``report.json``
    entry under ``key``, ``skipped`` (``report.json``'s ``skipped`` entries, ``name -> reason``), and what it
    adds to the card: ``claims`` (sentences) and ``headline`` (tables, ``format.headline_table``)."""

    key: str
    title: str
    doc: Document = field(default_factory=Document)
    result: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)

    def skip(self, reason: str, **details: Any) -> Section:
        """Skip the whole section: a "**Skipped**: <reason>." paragraph; ``{"skipped": reason, **details}``."""
        self.doc.p(f"**Skipped**: {reason}.")
        self.result = {"skipped": reason, **details}
        self.skipped[self.key] = reason
        return self


#: Why flow and stability are skipped without a corpus.
NO_SOURCE_ROOT = ("the original frames are not available: pass --source-root (the corpus the release was built "
                  "from); the manifest's source_root is absent or missing here")

"""Quality metrics of a release: OpenFace AU agreement (the paper's Tables 1-2, Figures 3-5), onset→apex optical
flow (Figure 6 and per-region measures), temporal stability, the quality report, and spotting scores.

Submodules: ``openface`` (read/run OpenFace, AU track files), ``au`` (correlations, Fisher-z, tables),
``flow`` (Farneback, measures, strain), ``regions`` (facial regions of the crop), ``stability``,
``au_export`` (``samm-synth aus``), ``report`` (``samm-synth report``; its document model and renderings in
``document``), ``spotting``. Names below are loaded on first use so that importing this package stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "read_openface_csv": "openface", "run_openface": "openface", "find_openface": "openface",
    "correlate_video": "au", "correlate_videos": "au", "fisher_mean": "au", "table_per_au": "au",
    "table_per_participant": "au", "farneback": "flow", "compare_flows": "flow", "optical_strain": "flow",
    "flow_to_rgb": "flow", "region_boxes": "regions", "region_masks": "regions", "stability_table": "stability",
    "export_aus": "au_export", "make_report": "report", "score_spotting": "spotting",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

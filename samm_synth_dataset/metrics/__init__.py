"""Quality metrics of a release: OpenFace AU agreement (the paper's Tables 1-2, Figures 3-5), onset→apex optical
flow (Figure 6 and per-region measures) and temporal stability; the report's document model.

Submodules: ``openface`` (read/run OpenFace, AU track files), ``au`` (correlations, Fisher-z, tables),
``flow`` (Farneback, measures, strain), ``regions`` (facial regions of the crop), ``stability``,
``au_export`` (``samm-synth aus``), ``document`` (the report's document model and renderings). Names below are loaded on first use so that importing this package stays light.
"""

from __future__ import annotations

from samm_synth_dataset import lazy_getattr

_LAZY: dict[str, str] = {
    "read_openface_csv": "samm_synth_dataset.metrics.openface",
    "run_openface": "samm_synth_dataset.metrics.openface",
    "find_openface": "samm_synth_dataset.metrics.openface",
    "correlate_video": "samm_synth_dataset.metrics.au",
    "correlate_videos": "samm_synth_dataset.metrics.au",
    "fisher_mean": "samm_synth_dataset.metrics.au",
    "table_per_au": "samm_synth_dataset.metrics.au",
    "table_per_participant": "samm_synth_dataset.metrics.au",
    "farneback": "samm_synth_dataset.metrics.flow",
    "compare_flows": "samm_synth_dataset.metrics.flow",
    "optical_strain": "samm_synth_dataset.metrics.flow",
    "flow_to_rgb": "samm_synth_dataset.metrics.flow",
    "region_boxes": "samm_synth_dataset.metrics.regions",
    "region_masks": "samm_synth_dataset.metrics.regions",
    "stability_table": "samm_synth_dataset.metrics.stability",
    "export_aus": "samm_synth_dataset.metrics.au_export",
}

__all__ = [*_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)

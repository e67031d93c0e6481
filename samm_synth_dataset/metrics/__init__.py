"""Quality metrics of a release: OpenFace AU agreement (the paper's Tables 1-2, Figures 3-5), onset→apex optical
flow (Figure 6 and per-region measures) and temporal stability; the report's document model.

Submodules: ``openface`` (read/run OpenFace, AU track files), ``au`` (correlations, Fisher-z, tables),
``flow`` (Farneback, measures, strain), ``regions`` (facial regions of the crop), ``stability``,
``au_export`` (``samm-synth aus``), ``document`` (the report's document model and renderings).
"""

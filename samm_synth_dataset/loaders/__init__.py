"""Loaders: ``load`` (datasets), ``load_webdataset`` (tars), ``ClipDataset`` (clips/pairs for training) and LOSO
splits. Heavy libraries (datasets, webdataset, torch) are imported on first use."""

from __future__ import annotations

from samm_synth_dataset import lazy_getattr

from samm_synth_dataset.format.splits import Split, loso_splits, read_splits, write_splits

_LAZY: dict[str, str] = {
    "load": "samm_synth_dataset.loaders.hf",
    "load_webdataset": "samm_synth_dataset.loaders.wds",
    "ClipDataset": "samm_synth_dataset.loaders.clips",
    "collate_clips": "samm_synth_dataset.loaders.clips",
    "FeatureDataset": "samm_synth_dataset.loaders.features",
}

__all__ = ["Split", "loso_splits", "read_splits", "write_splits", *_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)

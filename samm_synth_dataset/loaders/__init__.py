"""Loaders: ``load`` (datasets), ``load_webdataset`` (tars), ``ClipDataset`` (clips/pairs for training) and LOSO
splits. Heavy libraries (datasets, webdataset, torch) are imported on first use."""

from __future__ import annotations

from typing import Any

from samm_synth_dataset.format.splits import Split, loso_splits, read_splits, write_splits

__all__ = ["load", "load_webdataset", "ClipDataset", "collate_clips", "loso_splits", "Split", "read_splits",
           "write_splits"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from samm_synth_dataset.loaders.hf import load

        return load
    if name == "load_webdataset":
        from samm_synth_dataset.loaders.wds import load_webdataset

        return load_webdataset
    if name in ("ClipDataset", "collate_clips"):
        from samm_synth_dataset.loaders import clips

        return getattr(clips, name)
    raise AttributeError(f"module 'samm_synth_dataset.loaders' has no attribute {name!r}")

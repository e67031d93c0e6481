"""samm-synth-dataset: build, load, evaluate and publish synthetic long-video MaE/ME datasets.

Data flows one way: sources → faces → transfer → builders → release; loaders and metrics read releases.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load", "load_webdataset"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not import torch/datasets.
    if name in ("load", "load_webdataset"):
        from samm_synth_dataset import loaders

        return getattr(loaders, name)
    raise AttributeError(f"module 'samm_synth_dataset' has no attribute {name!r}")

"""samm-synth-dataset: build, load, evaluate and publish synthetic long-video MaE/ME datasets.

Data flows one way: sources → faces → transfer → builders → release; loaders and metrics read releases.
``load``/``load_webdataset`` are imported on first use, so importing the package does not import torch/datasets.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "load": "samm_synth_dataset.loaders.hf",
    "load_webdataset": "samm_synth_dataset.loaders.wds",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

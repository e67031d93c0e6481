"""samm-synth-dataset: build, load, evaluate and publish synthetic long-video MaE/ME datasets.

Data flows one way: sources → faces → transfer → builders → release; loaders and metrics read releases.
``load``/``load_webdataset`` are imported on first use, so importing the package does not import torch/datasets.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__version__ = "0.1.0"


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from the module ``table[name]`` on first use (PEP 562): the
    one lazy-export idiom of this package's ``__init__`` files."""

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


_LAZY: dict[str, str] = {
    "load": "samm_synth_dataset.loaders.hf",
    "load_webdataset": "samm_synth_dataset.loaders.wds",
}

__all__ = ["__version__", "lazy_getattr", *_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)

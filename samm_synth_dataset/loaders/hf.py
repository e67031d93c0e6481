"""``load``: a thin, documented layer over ``datasets.load_dataset`` for releases (local folders or Hub repos).

A release's ``README.md`` declares its Parquet configs (``frames`` the default, ``intervals``, ``videos``, ``aus``
when present), so ``datasets.load_dataset(release_dir, config)`` works on its own; this function adds the checks
and the WebDataset shards, which live in the same repo but cannot share its builder (huggingface/datasets#7101:
one builder class serves all YAML configs, inferred from the first).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt

#: Config names that read the tars with the ``webdataset`` packaged builder instead of the README's configs.
WDS_CONFIGS: tuple[str, ...] = ("wds", "webdataset")

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def looks_local(release: str | Path) -> bool:
    """True for a Path, and for a string that exists, starts with ``.``, ``/`` or ``~``, or names a folder whose
    parent exists (``demo-output/relase`` beside ``demo-output/``): such a string is never sent to the Hub."""
    if isinstance(release, Path):
        return True
    path = Path(release).expanduser()
    return (path.exists() or release.startswith((".", "/", "~"))
            or (len(path.parts) > 1 and path.parent.is_dir()))


def is_hub_id(release: str | Path) -> bool:
    """True for ``ORG/NAME`` strings that do not look like a local path (see :func:`looks_local`)."""
    return isinstance(release, str) and not looks_local(release) and bool(_HUB_ID.match(release))


def load(
    release: str | Path,
    config: str = "frames",
    split: str = "train",
    streaming: bool = False,
    revision: str | None = None,
    **kwargs: Any,
) -> Any:
    """Load one config of a release with ``datasets``.

    ``release``: a local release directory (its manifest must say ``complete``) or a Hub dataset id ``ORG/NAME``
    (then ``revision`` pins a tag such as ``"v1.0.0"`` or a commit; it is refused for local folders, whose version
    is whatever is on disk). ``config``: ``frames`` (one row per synthetic frame; ``image`` decodes to a PIL image,
    ``frame`` is the SOURCE frame number, ``index`` the 0-based position in the synthetic video), ``intervals``,
    ``videos``, ``aus``, or ``wds`` for the WebDataset tars (columns ``__key__``, ``jpg``/``png``, ``json``).
    ``split=None`` returns the DatasetDict. ``streaming=True`` returns an ``IterableDataset`` (no Arrow cache).
    Extra keyword arguments go to ``datasets.load_dataset`` (``cache_dir``, ``num_proc``, ...).
    """
    import datasets

    if is_hub_id(release):
        path = str(release)
        if config in WDS_CONFIGS:
            at = f"@{revision}" if revision else ""
            files = f"hf://datasets/{path}{at}/{fmt.WDS_DIR}/*.tar"
            return datasets.load_dataset("webdataset", data_files={"train": files}, split=split,
                                         streaming=streaming, **kwargs)
        return datasets.load_dataset(path, config, split=split, streaming=streaming, revision=revision, **kwargs)

    root = Path(release).expanduser()
    if not root.is_dir():
        why = f" (read as a local path: {root.parent} exists here)" if looks_local(str(release)) and \
            _HUB_ID.match(str(release)) and root.parent.is_dir() else ""
        raise FileNotFoundError(f"{root}: no such release folder{why}; check the path (a Hub repo is given as "
                                "ORG/NAME)")
    if revision is not None:
        raise ValueError(f"{root}: revision={revision!r} applies to Hub repos only; a local folder is read as is "
                         "(check out the version you want, or load ORG/NAME with revision)")
    manifest = fmt.check_release(root)
    if config in WDS_CONFIGS:
        tars = sorted(str(p) for p in (root / fmt.WDS_DIR).glob("*.tar"))
        if not tars:
            raise FileNotFoundError(f"{root / fmt.WDS_DIR}: no .tar shards; this release was built without "
                                    "the webdataset format (use config='frames')")
        return datasets.load_dataset("webdataset", data_files={"train": tars}, split=split, streaming=streaming,
                                     **kwargs)
    if not (root / fmt.CARD).is_file():
        raise FileNotFoundError(f"{root / fmt.CARD}: missing; the dataset card declares the configs "
                                "(re-run `samm-synth release` or `finalize`)")
    known = _declared_configs(manifest)
    if known and config not in known:
        raise ValueError(f"{root}: unknown config {config!r}; this release has {sorted(known)} "
                         f"(plus 'wds' for the tars)")
    return datasets.load_dataset(str(root), config, split=split, streaming=streaming, **kwargs)


def _declared_configs(manifest: dict[str, Any]) -> set[str]:
    configs = manifest.get("summary", {}).get("configs", manifest.get("configs"))
    if isinstance(configs, dict):
        return set(configs)
    if isinstance(configs, list):
        return {str(c.get("config_name", c)) if isinstance(c, dict) else str(c) for c in configs}
    return set()

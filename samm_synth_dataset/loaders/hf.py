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
from samm_synth_dataset.loaders.au_tracks import FLAT_COLUMNS, HOW_TO_MAKE, AUStore

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
    aus: bool = False,
    emotions: bool = False,
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

    ``aus=True`` (``frames`` only) joins each frame's original and synthetic OpenFace AUs as flat columns
    ``<track>_AUxx_r`` (intensity 0–5), ``<track>_AUxx_c`` (presence 0/1), ``<track>_success``,
    ``<track>_confidence`` (``loaders.aus.FLAT_COLUMNS``; AU values NaN where OpenFace failed), matched on
    (``video``, ``frame``) from ``data/aus/<video>.parquet``, one video's file at a time: streaming joins row by row
    as it streams; a ``Dataset`` gets the AU columns computed once from the ``video`` and ``frame`` columns and
    joined column-wise (the images are not copied). FileNotFoundError naming ``samm-synth aus`` without AU tracks.

    ``emotions=True`` (``frames`` only) adds ``emotion`` and ``emotion_megc`` string columns: the labels of the
    intervals covering each frame (``format.frame_emotions``: distinct labels joined by ``;``, ``""`` when none),
    read from the ``intervals`` config. A release whose intervals carry no emotion labels (SAMM-LV) is refused with
    a ValueError saying so. (The ``intervals`` config itself has ``emotion``, ``emotion_megc`` and
    ``objective_class``.)
    """
    if config.startswith(FEATURES_CONFIG):
        return _load_features(release, config, split, streaming, revision, **kwargs)
    if emotions:
        if config != "frames":
            raise ValueError(f"emotions=True joins the intervals' emotions to the frames config, not {config!r}")
        table = load(release, "intervals", split="train", revision=revision, **kwargs)
        lookup = fmt.interval_emotions(table.to_dict())
        if not lookup:
            raise ValueError(f"{release}: emotions=True, but {fmt.NO_EMOTION_LABELS}")
        return _join_emotions(load(release, config, split=split, streaming=streaming, revision=revision, aus=aus,
                                   **kwargs), lookup)
    if aus:
        if config != "frames":
            raise ValueError(f"aus=True joins AUs to the frames config, not {config!r} (load config='aus' for the "
                             "AU tracks themselves)")
        store = _au_store(release, revision)          # refuse before loading anything
        return _join_aus(load(release, config, split=split, streaming=streaming, revision=revision, **kwargs),
                         store)
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


#: ``features/<recipe>``: the rows of ``data/features/<recipe>/*.parquet`` (``format.feature_schema``).
FEATURES_CONFIG = "features/"


def _load_features(release: str | Path, config: str, split: str | None, streaming: bool, revision: str | None,
                   **kwargs: Any) -> Any:
    """``load(release, "features/<recipe>")``: the Parquet builder over that recipe's files (one row per frame
    pair; ``feature`` is the flat array of the shape the manifest's ``features`` block states)."""
    import datasets

    recipe = config[len(FEATURES_CONFIG):]
    if not recipe or "/" in recipe:
        raise ValueError(f"config {config!r}: use features/<recipe>, e.g. features/softnet")
    if is_hub_id(release):
        at = f"@{revision}" if revision else ""
        files = [f"hf://datasets/{release}{at}/{fmt.FEATURES_DIR}/{recipe}/*.parquet"]
    else:
        root = Path(release).expanduser()
        if revision is not None:
            raise ValueError(f"{root}: revision={revision!r} applies to Hub repos only")
        manifest = fmt.check_release(root)
        files = sorted(str(root / f["path"]) for f in manifest["files"]
                       if f["path"].startswith(f"{fmt.FEATURES_DIR}/{recipe}/"))
        if not files:
            raise FileNotFoundError(f"{root}: no {recipe} features; run `samm-synth features {root} --recipe "
                                    f"{recipe}`")
    return datasets.load_dataset("parquet", data_files={"train": files}, split=split, streaming=streaming, **kwargs)


def _declared_configs(manifest: dict[str, Any]) -> set[str]:
    configs = manifest.get("summary", {}).get("configs", manifest.get("configs"))
    if isinstance(configs, dict):
        return set(configs)
    if isinstance(configs, list):
        return {str(c.get("config_name", c)) if isinstance(c, dict) else str(c) for c in configs}
    return set()


def _au_store(release: str | Path, revision: str | None) -> Any:
    """An ``AUStore`` over a local release or Hub repo; FileNotFoundError naming ``samm-synth aus`` when the
    release has no AU tracks."""
    if is_hub_id(str(release)):
        from huggingface_hub import HfFileSystem

        store = AUStore(f"datasets/{release}" + (f"@{revision}" if revision else ""), fs=HfFileSystem())
        has_any = bool(store.fs.glob(f"{store.root}/{fmt.AUS_DIR}/*.parquet"))
    else:
        if not Path(release).is_dir():
            raise FileNotFoundError(f"{release}: no such release directory (for a Hub repo give its id as ORG/NAME)")
        store = AUStore(release)
        has_any = any((Path(release) / fmt.AUS_DIR).glob("*.parquet"))
    if not has_any:
        raise FileNotFoundError(f"{release}: this release has no AU tracks ({fmt.AUS_DIR}/<video>.parquet); "
                                f"{HOW_TO_MAKE}")
    return store


def _join_emotions(ds: Any, lookup: dict[str, tuple[str | None, str | None]]) -> Any:
    """``ds`` (frames: Dataset, IterableDataset or a dict of them) with ``emotion``/``emotion_megc`` joined."""
    import datasets

    features = datasets.Features({"emotion": datasets.Value("string"), "emotion_megc": datasets.Value("string")})

    def join(ids: list[list[str]]) -> dict[str, list[str]]:
        labels = [fmt.frame_emotions(i or [], lookup) for i in ids]
        return {"emotion": [e for e, _ in labels], "emotion_megc": [m for _, m in labels]}

    return _add_columns(ds, join, ["interval_ids"], features)


def _add_columns(ds: Any, fn: Any, inputs: list[str], features: Any) -> Any:
    """``ds`` with the columns ``fn(*inputs)`` computes (``features``): row by row as an IterableDataset streams; a
    Dataset's columns computed once from ``inputs`` and joined column-wise (the images are not copied)."""
    import datasets

    def one(d: Any) -> Any:
        if isinstance(d, datasets.IterableDataset):
            merged = datasets.Features({**d.features, **features}) if d.features is not None else None
            return d.map(fn, input_columns=inputs, batched=True, batch_size=100, features=merged)
        cols = d.select_columns(inputs).map(fn, input_columns=inputs, batched=True, batch_size=1000,
                                            remove_columns=inputs, features=features)
        return datasets.concatenate_datasets([d, cols], axis=1)

    if isinstance(ds, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return type(ds)({name: one(d) for name, d in ds.items()})
    return one(ds)


def _join_aus(ds: Any, store: Any) -> Any:
    """``ds`` (frames: Dataset, IterableDataset or a dict of them) with the AU columns joined; see :func:`load`."""
    import datasets

    features = datasets.Features({k: datasets.Value(v) for k, v in FLAT_COLUMNS.items()})

    def join(videos: list[str], frames: list[int]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {k: [] for k in FLAT_COLUMNS}
        start = 0
        for i in range(1, len(videos) + 1):            # runs of one video: one lookup each
            if i == len(videos) or videos[i] != videos[start]:
                for k, v in store.flat(videos[start], frames[start:i]).items():
                    out[k].extend(v)
                start = i
        return out

    return _add_columns(ds, join, ["video", "frame"], features)

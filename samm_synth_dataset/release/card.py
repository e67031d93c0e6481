"""The dataset card (a release's README.md): render it from the release's real numbers.

The template is ``samm_synth_dataset/templates/dataset_card.md`` (Jinja2; the repository root's
``dataset_card.md`` is a symlink to it). ``render_card`` fills it from ``manifest.json``, the Parquet tables and
``quality/report.json``; ``card_check.validate_card`` checks a rendered card against the release.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pyarrow.parquet as pq
import yaml

from samm_synth_dataset import __version__
from samm_synth_dataset import format as fmt

TEMPLATE_NAME = "dataset_card.md"
LICENSE_ID = "cc-by-nc-4.0"
TASK_CATEGORIES: tuple[str, ...] = ("video-classification",)
DEFAULT_PRETTY_NAME = "SAMM-SYNTH-style synthetic long videos of facial macro- and micro-expressions"
#: The title and licence of a release built from the package's demo corpus (two public-domain photos, no
#: licensed source data); StarGAN v2's non-commercial weights keep CC BY-NC.
DEMO_PRETTY_NAME = "samm-synth demo release: synthetic long videos of two public-domain faces (not SAMM-LV data)"
DEMO_LICENSE_ID = "cc0-1.0"
SPLIT = "train"

#: Source datasets named in the card's access prompt and licences (in this order).
SOURCE_NAMES: dict[str, str] = {"samm-lv": "SAMM Long Videos", "casme2": "CAS(ME)²", "casme3": "CAS(ME)³"}

#: Build settings that are local paths: the card shows their last component only (no machine-local folders).
_PATH_SETTINGS: frozenset[str] = frozenset({"source_root", "annotations", "references", "subjects", "boxes",
                                            "checkpoint", "fan_checkpoint", "align_landmarks"})



# --------------------------------------------------------------------------------------------------------------
# Template


def template_text() -> str:
    """The card template shipped in the package (``samm_synth_dataset/templates/dataset_card.md``)."""
    return resources.files("samm_synth_dataset").joinpath("templates", TEMPLATE_NAME).read_text(encoding="utf-8")


def human_size(n: int | float) -> str:
    """Bytes as ``123 B``, ``4.5 KiB``, ``6.7 MiB``, ``1.2 GiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["to_yaml"] = _to_yaml
    env.filters["yaml_str"] = lambda s: json.dumps(str(s), ensure_ascii=False)  # a JSON string is valid YAML
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    env.filters["size"] = human_size
    return env


# --------------------------------------------------------------------------------------------------------------
# Context: the real numbers of one release


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` examples (``n<1K``, ``1K<n<10K``, …)."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    for bound, label in bounds:
        if n < bound:
            return label
    return "n>1T" if n >= 10**12 else "1B<n<10B"


def present_configs(release: Path) -> list[str]:
    """The Parquet configs (of ``format.CONFIGS``, in that order) that have at least one file in ``release``."""
    return [name for name, (_, _, glob) in fmt.CONFIGS.items() if any(p.is_file() for p in release.glob(glob))]


def _rows(release: Path, glob: str) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(release.glob(glob)) if p.is_file())


def _uncompressed_bytes(release: Path, glob: str) -> int:
    """Uncompressed data bytes of a config's Parquet files (row groups' ``total_byte_size``), the ``num_bytes``
    that `datasets` records for a split."""
    total = 0
    for p in sorted(release.glob(glob)):
        meta = pq.ParquetFile(p).metadata
        total += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return total


def _bytes(release: Path, glob: str) -> int:
    return sum(p.stat().st_size for p in release.glob(glob) if p.is_file())


def yaml_header(release: Path) -> dict[str, Any]:
    """The computed part of the YAML header: ``configs`` and ``dataset_info`` for every present config."""
    from datasets import Features

    configs: list[dict[str, Any]] = []
    infos: list[dict[str, Any]] = []
    for name in present_configs(release):
        _, features, glob = fmt.CONFIGS[name]
        entry: dict[str, Any] = {"config_name": name}
        if not configs:
            entry["default"] = True
        entry["data_files"] = [{"split": SPLIT, "path": glob}]
        configs.append(entry)
        data_bytes = _uncompressed_bytes(release, glob)
        infos.append({
            "config_name": name,
            "features": Features.from_dict(features)._to_yaml_list(),
            "splits": [{"name": SPLIT, "num_bytes": data_bytes, "num_examples": _rows(release, glob)}],
            "download_size": _bytes(release, glob),
            "dataset_size": data_bytes,
        })
    return {"configs": configs, "dataset_info": infos}


def _read_table(path: Path) -> dict[str, list[Any]] | None:
    if not path.is_file():
        return None
    return pq.read_table(path).to_pydict()


def _quality(release: Path) -> dict[str, Any]:
    """The headline tables, claims and figures of the quality report (see ``format.quality``)."""
    quality = fmt.read_quality(release)
    if not quality.computed:
        return {"computed": False, "tables": [], "claims": [], "path": fmt.REPORT_JSON}
    tables = [{"title": t.title, "columns": t.columns, "rows": [[_cell(c) for c in row] for row in t.rows]}
              for t in quality.headline.values()]
    figures = sorted(p.relative_to(release).as_posix() for p in (release / fmt.QUALITY_DIR).rglob("*")
                     if p.suffix.lower() in (".png", ".svg", ".html", ".md"))
    return {"computed": True, "tables": tables, "claims": list(quality.claims.values()), "path": fmt.REPORT_JSON,
            "figures": figures}


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def card_license(manifest: dict[str, Any]) -> str:
    """The card's licence: :data:`DEMO_LICENSE_ID` for a release of the demo corpus (manifest ``source_corpus``)
    made without StarGAN v2's non-commercial weights, else :data:`LICENSE_ID`."""
    methods = {str(u.get("method")) for u in manifest.get("units") or []}
    methods.add(str((manifest.get("config") or {}).get("method")))
    return DEMO_LICENSE_ID if manifest.get("source_corpus") and "stargan-v2" not in methods else LICENSE_ID


def default_pretty_name(manifest: dict[str, Any]) -> str:
    """The card title when none is given: :data:`DEMO_PRETTY_NAME` for a release of the demo corpus (its manifest
    has ``source_corpus``), else :data:`DEFAULT_PRETTY_NAME`."""
    return DEMO_PRETTY_NAME if manifest.get("source_corpus") else DEFAULT_PRETTY_NAME


def card_context(release: str | Path, history: list[dict[str, Any]] | None = None,
                 pretty_name: str | None = None, manifest: dict[str, Any] | None = None,
                 repo_id: str | None = None) -> dict[str, Any]:
    """Every value the template needs, read from the release (manifest, Parquet tables, quality report).

    ``history`` is the release-notes list, newest first (each entry as made by
    ``versioning.release_notes_entry``); by default the manifest's ``release.history``. ``manifest`` overrides
    the one on disk (``make_release`` renders before it records the version). ``repo_id`` (``ORG/NAME``) goes
    into the loading examples (default: the manifest's ``release.repo_id``); without one they load the release's
    folder by its name (``release``'s name without the ``.partial`` staging suffix), so that they run as written
    from the folder that holds it.
    Paths in the build settings (absolute or relative) are shown by their last component only.
    """
    release = Path(release)
    manifest = manifest if manifest is not None else fmt.read_manifest(release)
    rel = manifest.get("release") or {}
    config = manifest.get("config") or {}

    videos = _read_table(release / fmt.VIDEOS_PATH)
    if videos is None:
        raise fmt.ReleaseError(f"{release / fmt.VIDEOS_PATH}: missing; the card needs the videos table")
    intervals = _read_table(release / fmt.INTERVALS_PATH) or {k: [] for k in fmt.INTERVALS_SCHEMA.names}

    n_videos = len(videos["video"])
    subjects = sorted(set(videos["subject"]))
    source_videos = sorted(set(videos["source_video"]))
    methods = sorted(set(videos["method"]))
    source_datasets = sorted(set(videos["source_dataset"]))
    checkpoints = sorted({c for c in videos["checkpoint_sha256"] if c})
    glasses_subjects = sorted({s for s, g in zip(videos["subject"], videos["glasses"]) if g})
    refs: dict[str, dict[str, Any]] = {}
    for rid, sha, dom, subj in zip(videos["reference_id"], videos["reference_sha256"], videos["domain"],
                                   videos["subject"]):
        r = refs.setdefault(rid, {"reference_id": rid, "sha256": sha, "domain": dom, "videos": 0, "subjects": set()})
        r["videos"] += 1
        r["subjects"].add(subj)
    references = [{**r, "subjects": ", ".join(sorted(r["subjects"]))} for _, r in sorted(refs.items())]
    sizes = sorted({(w, h) for w, h in zip(videos["width"], videos["height"])})
    fps = sorted(set(videos["fps"]))

    # Intervals: each source interval is repeated once per synthetic video made from its source video.
    src_key = fmt.source_interval_keys(intervals)
    kinds_release = Counter(intervals["kind"])
    kinds_source = Counter(dict(zip(src_key, intervals["kind"])).values())
    flag_rows = Counter(f for flags in intervals["flags"] for f in (flags or []))
    flag_src: Counter[str] = Counter()
    seen: set[tuple[Any, ...]] = set()
    for key, flags in zip(src_key, intervals["flags"]):
        if key in seen:
            continue
        seen.add(key)
        flag_src.update(set(flags or []))
    # every reader's common flags always, the dataset-specific ones (CAS(ME)³'s) when an interval carries them
    flag_names = ([f for f in fmt.FLAG_MEANINGS if f in fmt.COMMON_FLAGS or flag_rows[f]]
                  + sorted(set(flag_rows) - set(fmt.FLAG_MEANINGS)))
    fixes = [{"flag": f, "meaning": fmt.FLAG_MEANINGS.get(f, "see samm_synth_dataset.sources.read_annotations"),
              "source_intervals": flag_src[f], "release_rows": flag_rows[f]} for f in flag_names]
    blink_rows = sum(1 for n in intervals["notes"] if n and "blink" in n.lower())
    emotions = _emotion_counts(intervals, src_key)

    configs = []
    for name in present_configs(release):
        _, _, glob = fmt.CONFIGS[name]
        files = sorted(p for p in release.glob(glob) if p.is_file())
        configs.append({"name": name, "glob": glob, "files": len(files), "rows": _rows(release, glob),
                        "bytes": sum(p.stat().st_size for p in files)})
    n_frames = next((c["rows"] for c in configs if c["name"] == "frames"), sum(videos["n_frames"]))
    wds_files = sorted(p.relative_to(release).as_posix() for p in release.glob(f"{fmt.WDS_DIR}/*.tar"))
    splits = release / fmt.SPLITS_PATH
    data_files = [p for p in (release / "data").rglob("*") if p.is_file()]

    versions = manifest.get("versions") or {}
    code_version = versions.get("samm_synth_dataset") or versions.get("samm-synth-dataset") or __version__
    code_commit = versions.get("git_commit") or versions.get("commit") or manifest.get("git_commit")
    history = history if history is not None else list(rel.get("history") or [])
    version = rel.get("version") or "unreleased"
    corpus = manifest.get("source_corpus") or None
    repo_id = repo_id or rel.get("repo_id") or None
    local_name = release.name.removesuffix(fmt.PARTIAL_SUFFIX)
    quality = _quality(release)

    return {
        "pretty_name": pretty_name or rel.get("pretty_name") or default_pretty_name(manifest),
        "license": card_license(manifest),
        "demo": corpus is not None,
        "corpus": corpus,
        "task_categories": list(TASK_CATEGORIES),
        "size_category": size_category(int(n_frames)),
        "header": yaml_header(release),
        "version": version,
        "tag": f"v{version}" if version != "unreleased" else "unreleased",
        "release_date": rel.get("date", ""),
        "format_version": manifest.get("format_version", fmt.FORMAT_VERSION),
        "n_videos": n_videos,
        "n_source_videos": len(source_videos),
        "n_subjects": len(subjects),
        "subjects": subjects,
        "n_frames": int(n_frames),
        "n_references": len(references),
        "references": references,
        "methods": methods,
        "source_datasets": source_datasets,
        "samm_lv": "samm-lv" in source_datasets and corpus is None,
        "casme2": "casme2" in source_datasets and corpus is None,
        "casme3": "casme3" in source_datasets and corpus is None,
        "source_names": " and ".join(n for d, n in SOURCE_NAMES.items() if d in source_datasets)
                        or "licensed source videos",
        "stargan": "stargan-v2" in methods,
        "color_transfer": "color-transfer" in methods,
        "checkpoints": checkpoints,
        "seed": config.get("seed", "not recorded"),
        "config": {k: (Path(v).name if k in _PATH_SETTINGS and isinstance(v, str) else v)
                   for k, v in config.items()},
        "repo_id": repo_id,
        "published": repo_id is not None,
        "local_name": local_name,
        "location": repo_id or local_name,
        "uses": {"spotting": (release / fmt.SPOTTING_JSON).is_file(),
                 "dlib": any(t["title"].startswith("Identity") for t in quality["tables"])},
        "code_version": code_version,
        "code_commit": code_commit,
        "versions": versions,
        "frame_sizes": [f"{w}×{h}" for w, h in sizes],
        "fps": [f"{f:g}" for f in fps],
        "glasses_subjects": glasses_subjects,
        "n_intervals": len(intervals["interval_id"]),
        "no_labels": bool(config.get("no_labels")),
        "n_source_intervals": len(set(src_key)),
        "me_source": kinds_source.get("ME", 0),
        "mae_source": kinds_source.get("MaE", 0),
        "me_rows": kinds_release.get("ME", 0),
        "mae_rows": kinds_release.get("MaE", 0),
        "fixes": fixes,
        "blink_rows": blink_rows,
        "emotions": emotions,
        "no_emotion_labels": fmt.NO_EMOTION_LABELS,
        "megc_classes": list(fmt.MEGC_CLASSES),
        "configs": configs,
        "has_aus": any(c["name"] == "aus" for c in configs),
        "wds_files": wds_files,
        "wds_bytes": sum((release / p).stat().st_size for p in wds_files),
        "has_splits": splits.is_file(),
        "splits_path": fmt.SPLITS_PATH,
        "n_data_files": len(data_files),
        "data_bytes": sum(p.stat().st_size for p in data_files),
        "quality": quality,
        "history": history,
        "features": _features(manifest),
        "spotting_features": _spotting_features(release),
        "features_example": "softnet" if "softnet" in (manifest.get(fmt.FEATURES_KEY) or {}) else
                            next(iter(sorted(manifest.get(fmt.FEATURES_KEY) or {})), ""),
    }


def _emotion_counts(intervals: dict[str, list[Any]], src_key: list[str]) -> list[dict[str, Any]]:
    """Per emotion column with a label: its classes with their source-interval and release-row counts (most
    frequent first). Empty when the intervals carry no emotion label (SAMM-LV)."""
    out = []
    for column in ("emotion_megc", "emotion", "objective_class"):
        values = intervals.get(column) or []
        rows = Counter(v for v in values if v is not None)
        if not rows:
            continue
        source = Counter(v for v in dict(zip(src_key, values)).values() if v is not None)
        unlabelled = sum(1 for v in dict(zip(src_key, values)).values() if v is None)
        out.append({"column": column, "unlabelled": unlabelled,
                    "classes": [{"name": k, "source_intervals": source[k], "release_rows": n}
                                for k, n in sorted(rows.items(), key=lambda kv: (-source[kv[0]], kv[0]))]})
    return out


def _spotting_features(release: Path) -> dict[str, Any] | None:
    """The feature recipe, k rule and decoding the release's ``quality/spotting.json`` states, if any."""
    path = release / fmt.SPOTTING_JSON
    try:
        return json.loads(path.read_text()).get("features") if path.is_file() else None
    except (OSError, ValueError):
        return None


def _features(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's spotting-feature recipes for the card's features section, by name."""
    out = []
    for name, block in sorted((manifest.get(fmt.FEATURES_KEY) or {}).items()):
        recipe = block.get("recipe") or {}
        out.append({"name": name, "version": recipe.get("version"), "flow": recipe.get("flow"),
                    "k": ", ".join(f"{kind} {k}" for kind, k in (block.get("k") or {}).items()),
                    "shape": " × ".join(str(n) for n in block.get("shape") or []), "dtype": block.get("dtype"),
                    "rows": int(block.get("rows") or 0), "files": int(block.get("files") or 0),
                    "landmarks": (block.get("landmarks") or {}).get("source", "none"),
                    "substitution": (block.get("landmarks") or {}).get("substitution"),
                    "licence": (block.get("landmarks") or {}).get("licence")})
    return out


def render_card(release: str | Path, history: list[dict[str, Any]] | None = None,
                pretty_name: str | None = None, template: str | None = None,
                manifest: dict[str, Any] | None = None) -> str:
    """Render the README.md of ``release`` (template: the packaged one unless ``template`` text is given)."""
    env = _environment()
    text = env.from_string(template if template is not None else template_text()).render(
        **card_context(release, history=history, pretty_name=pretty_name, manifest=manifest))
    return re.sub(r"\n{3,}", "\n\n", text)

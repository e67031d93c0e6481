"""Check a rendered dataset card against its release: the YAML header parses, the licence and gate fit the
release (a demo corpus's release is public domain and not gated; any other is CC BY-NC and asks for the source
licence), every config's globs match files, the declared features equal the Parquet schemas, split sizes equal the
rows, and the body has every required section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from samm_synth_dataset import format as fmt
from samm_synth_dataset.release.card import card_license, present_configs

#: Sections a rendered card must contain.
REQUIRED_SECTIONS: tuple[str, ...] = (
    "## How the data was made", "## Label conventions", "## How to load", "## Quality report",
    "## Limitations", "## Licences", "## Citations", "## Release notes",
)


class CardError(ValueError):
    """A rendered card does not describe its release (message lists every problem found)."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Parse the YAML header between the leading ``---`` lines; raise CardError when it is missing or invalid."""
    match = re.match(r"^---\n(.*?\n)---\n(.*)$", text, flags=re.S)
    if not match:
        raise CardError("the card has no YAML header (a first line '---', the YAML, then a line '---')")
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise CardError(f"the card's YAML header does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise CardError("the card's YAML header is not a mapping")
    return data, match.group(2)


def _features_problems(release: Path, name: str, declared_yaml: Any, files: list[Path]) -> list[str]:
    from datasets import Features

    problems: list[str] = []
    try:
        declared = Features._from_yaml_list(declared_yaml)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a card problem
        return [f"config {name!r}: dataset_info features do not parse ({exc})"]
    want = declared.arrow_schema
    for path in files:
        schema = pq.read_schema(path)
        rel = path.relative_to(release).as_posix()
        got = [(f.name, f.type) for f in schema]
        exp = [(f.name, f.type) for f in want]
        if got != exp:
            diff = sorted(set(map(str, got)) ^ set(map(str, exp)))
            problems.append(f"config {name!r}: {rel} schema differs from the declared features: {diff[:6]}")
            continue
        if schema.metadata and b"huggingface" in schema.metadata:
            file_features = Features.from_arrow_schema(schema)
            if file_features != declared:
                problems.append(f"config {name!r}: {rel} carries features {dict(file_features)} in its "
                                f"'huggingface' metadata, the card declares {dict(declared)}")
    return problems


def validate_card(release: str | Path, text: str | None = None) -> dict[str, Any]:
    """Check a card against its release; return the parsed YAML header, raise CardError listing every problem.

    Checks: the YAML header parses (also through huggingface_hub's ``DatasetCard``); license, task categories,
    gating fields are present; every Parquet config present is declared, with a ``data_files`` glob that matches
    files; every config's declared features equal its Parquet files' Arrow schema (and their ``huggingface``
    metadata); split sizes equal the files' rows; the body has every required section and no unrendered
    template syntax.
    """
    from huggingface_hub import DatasetCard

    release = Path(release)
    if text is None:
        path = release / fmt.CARD
        if not path.is_file():
            raise CardError(f"{path}: missing; run `samm-synth release` to render it")
        text = path.read_text(encoding="utf-8")
    header, body = split_front_matter(text)
    problems: list[str] = []
    try:
        DatasetCard(text)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"huggingface_hub.DatasetCard cannot read the card: {exc}")

    manifest = fmt.read_manifest(release, require_complete=False)
    demo = bool(manifest.get("source_corpus"))
    expected = card_license(manifest)
    if header.get("license") != expected:
        problems.append(f"license is {header.get('license')!r}, expected {expected!r}")
    gated = () if demo else ("extra_gated_prompt", "extra_gated_fields")
    for key in ("pretty_name", "task_categories", "size_categories") + gated:
        if not header.get(key):
            problems.append(f"YAML header lacks {key!r}")
    gate = header.get("extra_gated_fields") or {}
    if demo and gate:
        problems.append("a demo release (public-domain photos, no licensed source data) must not be gated")
    if not demo and (not any("licen" in str(k).lower() for k in gate)
                     or not any("commercial" in str(k).lower() for k in gate)):
        problems.append("extra_gated_fields must ask for a SAMM-LV (source) licence and non-commercial use")

    configs = {c.get("config_name"): c for c in header.get("configs") or []}
    infos = {i.get("config_name"): i for i in header.get("dataset_info") or []}
    for name in present_configs(release):
        if name not in configs:
            problems.append(f"config {name!r} has files in the release but is not declared in 'configs'")
    if configs and not next(iter(configs.values())).get("default"):
        problems.append("the first config must be marked 'default: true'")
    for name, cfg in configs.items():
        data_files = cfg.get("data_files") or []
        if isinstance(data_files, (str, dict)):
            data_files = [data_files]
        files: list[Path] = []
        for df in data_files:
            globs = df.get("path") if isinstance(df, dict) else df
            for glob in [globs] if isinstance(globs, str) else list(globs or []):
                base = release / cfg.get("data_dir", "")
                matched = sorted(p for p in base.glob(glob) if p.is_file())
                if not matched:
                    problems.append(f"config {name!r}: data_files glob {glob!r} matches no file")
                files += matched
        if not any(p.suffix == ".parquet" for p in files) or any(p.suffix != ".parquet" for p in files):
            problems.append(f"config {name!r}: data_files must be Parquet only (one builder per repo)")
        info = infos.get(name)
        if info is None:
            problems.append(f"config {name!r}: no dataset_info entry with its features")
            continue
        parquet = [p for p in files if p.suffix == ".parquet"]
        problems += _features_problems(release, name, info.get("features"), parquet)
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parquet)
        for split in info.get("splits") or []:
            missing = [k for k in ("name", "num_bytes", "num_examples") if k not in split]
            if missing:
                problems.append(f"config {name!r}: dataset_info split lacks {missing} (datasets then ignores it)")
            if split.get("num_examples") not in (None, rows):
                problems.append(f"config {name!r}: split {split.get('name')!r} declares "
                                f"{split.get('num_examples')} examples, the files hold {rows}")
    for name in infos:
        if name not in configs:
            problems.append(f"dataset_info names config {name!r} that 'configs' does not declare")

    for section in REQUIRED_SECTIONS:
        if section not in body:
            problems.append(f"the card body lacks the section {section!r}")
    for marker in ("{{", "{%"):
        if marker in text:
            problems.append(f"the card contains unrendered template syntax {marker!r}")
            break
    if problems:
        raise CardError("dataset card invalid:\n  - " + "\n  - ".join(problems))
    return header

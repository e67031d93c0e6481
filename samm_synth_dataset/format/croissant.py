"""``croissant.json``: the release described in Croissant 1.0 (MLCommons) with its Responsible-AI (RAI) fields.

Croissant is JSON-LD on schema.org's ``Dataset``: ``distribution`` lists the files (``cr:FileObject`` with
``contentUrl`` relative to ``croissant.json``, ``sha256`` and ``contentSize``; ``cr:FileSet`` globs for tables split
into parts), ``recordSet`` the tables and their columns (``cr:Field`` with a ``dataType`` and a ``source`` naming the
file set and the column), and the ``rai:`` namespace (``http://mlcommons.org/croissant/RAI/``) says how the data was
collected and annotated, what is sensitive in it, its biases, limitations, uses and maintenance.

Every number is read from the release itself: the manifest's files (bytes, sha256, rows), its release block
(version, date), the videos and intervals tables and the quality report's identity claim; ``verify`` rebuilds the
document from those and refuses a ``croissant.json`` that says anything else. Frame numbers are SOURCE frame
numbers; interval ends are inclusive.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from samm_synth_dataset.format.files import atomic_write_json
from samm_synth_dataset.format.flags import FLAG_MEANINGS
from samm_synth_dataset.format.layout import (CONFIGS, CROISSANT, INTERVALS_PATH, SPLITS_PATH, VIDEOS_PATH, WDS_DIR,
                                              source_interval_keys)
from samm_synth_dataset.format.quality import IDENTITY_EXPECTED, read_quality

#: The Croissant version this file conforms to (``dct:conformsTo``).
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
#: The standard Croissant 1.0 JSON-LD context (as the Croissant reference implementation writes it).
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}
#: Media types of the release's files, by suffix.
ENCODING: dict[str, str] = {".parquet": "application/x-parquet", ".tar": "application/x-tar",
                            ".json": "application/json"}


def _data_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_floating(t):
        return "sc:Float"
    return "sc:Text"


def _fields(config: str, source: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``cr:Field`` per column of the config's Arrow schema (``layout.CONFIGS``): images are
    ``sc:ImageObject`` (the Parquet ``bytes`` of the image struct), lists are ``repeated``, structs have sub-fields."""
    schema = CONFIGS[config][0]
    out = []
    for col in schema:
        field: dict[str, Any] = {"@type": "cr:Field", "@id": f"{config}/{col.name}", "name": col.name}
        extract = {**source, "extract": {"column": col.name}}
        if pa.types.is_struct(col.type) and {f.name for f in col.type} == {"bytes", "path"}:
            field.update(dataType="sc:ImageObject", source={**extract, "transform": {"jsonPath": "bytes"}})
        elif pa.types.is_struct(col.type):
            field["dataType"] = "sc:Text"
            field["subField"] = [{"@type": "cr:Field", "@id": f"{config}/{col.name}/{sub.name}", "name": sub.name,
                                  "dataType": _data_type(sub.type),
                                  "source": {**extract, "transform": {"jsonPath": sub.name}}} for sub in col.type]
            field["source"] = extract
        elif pa.types.is_list(col.type):
            field.update(dataType=_data_type(col.type.value_type), repeated=True, source=extract)
        else:
            field.update(dataType=_data_type(col.type), source=extract)
        out.append(field)
    return out


def _distribution(files: dict[str, dict[str, Any]], configs: list[str]) -> tuple[list[dict[str, Any]],
                                                                                  dict[str, dict[str, Any]]]:
    """File objects for every data file and the splits (sha256, bytes), and per table config the source its record
    set reads: the one file object, or a file set globbing its parts."""
    dist = []
    for rel, entry in sorted(files.items()):
        if not (rel.startswith("data/") or rel == SPLITS_PATH):
            continue
        encoding = ENCODING.get(Path(rel).suffix, "application/octet-stream")
        dist.append({"@type": "cr:FileObject", "@id": rel, "name": rel, "contentUrl": rel,
                     "contentSize": f"{int(entry['bytes'])} B", "encodingFormat": encoding,
                     "sha256": str(entry["sha256"])})
    sources = {}
    for config in configs:
        pattern = CONFIGS[config][2]
        if "*" in pattern:
            dist.append({"@type": "cr:FileSet", "@id": f"{config}-files", "name": f"{config}-files",
                         "encodingFormat": ENCODING[".parquet"], "includes": pattern})
            sources[config] = {"fileSet": {"@id": f"{config}-files"}}
        else:
            sources[config] = {"fileObject": {"@id": pattern}}
    return dist, sources


def _in_config(rel: str, config: str) -> bool:
    """Whether the release file ``rel`` holds rows of the Parquet ``config`` (its path or glob in ``CONFIGS``)."""
    pattern = CONFIGS[config][2]
    return rel == pattern or ("*" in pattern and rel.startswith(pattern.split("*", 1)[0]) and rel.endswith(".parquet"))


def _rows(files: dict[str, dict[str, Any]], config: str) -> int:
    return sum(int(e.get("rows") or 0) for rel, e in files.items() if _in_config(rel, config))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _rai(release: Path, manifest: dict[str, Any], videos: pd.DataFrame, intervals: pd.DataFrame) -> dict[str, str]:
    """The ``rai:`` fields, each from the release's own tables, manifest and quality report."""
    config = manifest.get("config") or {}
    method = str(config.get("method") or ", ".join(sorted(set(videos["method"]))))
    datasets = ", ".join(sorted(set(videos["source_dataset"]))) or "none"
    n_subjects, n_sources = videos["subject"].nunique(), videos["source_video"].nunique()
    sizes = ", ".join(f"{w}×{h}" for w, h in sorted(set(zip(videos["width"], videos["height"]))))
    n_frames = int(videos["n_frames"].sum())
    fps = ", ".join(f"{f:g}" for f in sorted(set(videos["fps"])))
    collection = (
        f"No new recording. {_plural(len(videos), 'synthetic video')} ({n_frames} frames, {sizes} px, {fps} fps) were "
        f"made by `{method}` from {_plural(n_sources, 'source long video')} of {_plural(n_subjects, 'subject')} "
        f"(source datasets: {datasets}), one per (source video, reference face): each source frame's face crop "
        "(videos.crop, source pixels) is translated to the reference's appearance, frame for frame, so frame "
        "numbers are the source's.")
    kinds = Counter(intervals["kind"])
    flags = Counter(f for fl in intervals["flags"] for f in (list(fl) if fl is not None else []))
    if config.get("no_labels") or not len(intervals):
        annotation = ("Unlabelled: no intervals (the release was built without annotations); every frame's me and "
                      "mae are false and carry no meaning.")
    else:
        fixes = "; ".join(f"{flag}: {flags[flag]} ({FLAG_MEANINGS.get(flag, 'see the card')})"
                          for flag in sorted(flags)) or "none"
        n_source = len(set(source_interval_keys(intervals)))
        annotation = (
            f"No new annotation: the {_plural(len(intervals), 'interval')} ({kinds.get('ME', 0)} ME, "
            f"{kinds.get('MaE', 0)} MaE) are the source datasets' expert labels of {n_source} annotated source "
            "intervals, reused for every synthetic copy of their video (onset, apex, offset as SOURCE frame numbers, "
            "inclusive; action units and notes as written). The frames table's me/mae/interval_ids are derived from "
            "them. Fixes applied when the sheets were read, each flagged per interval in intervals.flags (interval "
            f"rows per flag): {fixes}. A movement the synthesis weakens keeps its label.")
    expected = IDENTITY_EXPECTED.get(method)
    claim = read_quality(release).claims.get("identity")
    measured = (f"Measured identity change (quality/report.json): {claim}" if claim else
                "The identity change was not measured for this release (no identity claim in quality/report.json; "
                "run `samm-synth report`).")
    sensitive = (
        f"Faces: every frame shows a human face ({_plural(n_subjects, 'source subject')}), biometric data. "
        f"`{method}` is meant to leave the source person's identity "
        f"{'changed' if expected == 'changed' else 'recognisable' if expected else 'as the method leaves it'}. "
        f"{measured} "
        + ("The source videos are a generated demo corpus (the manifest's source_corpus), not licensed recordings."
           if manifest.get("source_corpus") else
           "Frames are derived from licensed source videos: access requires the source dataset licence."))
    glasses = int(videos["glasses"].eq(True).sum()) if "glasses" in videos else 0  # null: not known
    subjects = Counter(videos["subject"])
    biases = (
        f"The source population only: {_plural(n_subjects, 'subject')} of {datasets}, with "
        f"{min(subjects.values())}–{max(subjects.values())} synthetic videos per subject; reference faces by domain: "
        + ", ".join(f"{d}: {n}" for d, n in sorted(Counter(videos["domain"].astype(str)).items()))
        + f". Labels: {kinds.get('ME', 0)} ME against {kinds.get('MaE', 0)} MaE intervals. "
        f"{_plural(glasses, 'video')} marked as showing glasses (translated less faithfully).")
    limitations = (
        "Labels are carried over, not re-annotated; glasses, blinks and background inside the face box are known "
        "failure cases of the translation (background artifacts can look like facial movement); "
        f"frames are {sizes} px crops, not the source resolution. See the dataset card (README.md) and "
        "quality/report.json for the measured agreement with the source.")
    uses = ("Training and evaluating macro- and micro-expression spotting in long videos (MEGC protocol, "
            f"leave-one-subject-out folds in {SPLITS_PATH}) and studying appearance change in expression analysis. "
            "Not for identifying people or inferring individuals' emotions.")
    info = manifest.get("release") or {}
    maintenance = (
        f"Version {info.get('version')} of {info.get('date')} (previous: {info.get('previous_version') or 'none'}). "
        "Semantic versions: PATCH = the same records, MINOR = added fields or videos, MAJOR = changed records or "
        "splits. Every file is listed with its sha256 in manifest.json; `samm-synth verify` checks a copy.")
    return {"rai:dataCollection": collection, "rai:dataAnnotationProtocol": annotation,
            "rai:personalSensitiveInformation": sensitive, "rai:dataBiases": biases,
            "rai:dataLimitations": limitations, "rai:dataUseCases": uses,
            "rai:dataReleaseMaintenancePlan": maintenance}


def cite_as(manifest: dict[str, Any]) -> str:
    """A BibTeX entry of this release (name, version, year, Hub address when known)."""
    info = manifest.get("release") or {}
    version = str(info.get("version") or "0.0.0")
    url = f"https://huggingface.co/datasets/{info['repo_id']}" if info.get("repo_id") else None
    fields = [f"title = {{{info.get('pretty_name') or 'SAMM-SYNTH'} (version {version})}}",
              f"year = {{{str(info.get('date') or '')[:4]}}}", f"version = {{{version}}}"]
    if url:
        fields.append(f"url = {{{url}}}")
    key = "samm_synth_" + version.replace(".", "_")
    return f"@misc{{{key}, " + ", ".join(fields) + "}"


def croissant(release: str | Path, manifest: dict[str, Any], license: str) -> dict[str, Any]:
    """The Croissant document of a release (``manifest``: its manifest with the ``release`` block; ``license``:
    the dataset card's licence id). Reads the videos and intervals tables and the quality report."""
    release = Path(release)
    files = {str(e["path"]): e for e in manifest.get("files", []) if e["path"] != CROISSANT}
    configs = [c for c in CONFIGS if any(_in_config(rel, c) for rel in files)]
    videos = pd.read_parquet(release / VIDEOS_PATH)
    intervals = pd.read_parquet(release / INTERVALS_PATH)
    dist, sources = _distribution(files, configs)
    record_sets = [{"@type": "cr:RecordSet", "@id": c, "name": c,
                    "description": f"The {c} table: {_plural(_rows(files, c), 'row')}.",
                    "field": _fields(c, sources[c])} for c in configs]
    info = manifest.get("release") or {}
    summary = manifest.get("summary") or {}
    shards = sum(1 for rel in files if rel.startswith(WDS_DIR + "/"))
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": str(info.get("pretty_name") or "SAMM-SYNTH"),
        "description": (f"Synthetic long videos of facial macro- and micro-expressions: {summary.get('videos')} "
                        f"videos, {summary.get('frames')} frames, {summary.get('intervals')} labelled intervals"
                        + (f", also as {shards} WebDataset shards" if shards else "") + "."),
        "conformsTo": CONFORMS_TO,
        "citeAs": cite_as(manifest),
        "datePublished": str(info.get("date")),
        "license": license,
        "version": str(info.get("version")),
        "keywords": ["micro-expression", "macro-expression", "expression spotting", "synthetic", "video"],
        **_rai(release, manifest, videos, intervals),
        "distribution": dist,
        "recordSet": record_sets,
    }
    if info.get("repo_id"):
        doc["url"] = f"https://huggingface.co/datasets/{info['repo_id']}"
    return doc


def write_croissant(release: str | Path, manifest: dict[str, Any], license: str) -> Path:
    """Write ``<release>/croissant.json`` (canonical JSON, atomically); return its path."""
    path = Path(release) / CROISSANT
    atomic_write_json(path, croissant(release, manifest, license))
    return path


def croissant_problems(release: str | Path, manifest: dict[str, Any]) -> list[str]:
    """What is wrong with a release's ``croissant.json``: missing, not JSON, a file whose sha256 or size is not the
    manifest's, or any statement that differs from the document the release's files give now."""
    release = Path(release)
    path = release / CROISSANT
    redo = "re-run `samm-synth release` to rewrite it"
    if not path.is_file():
        return [f"{CROISSANT}: missing; {redo}"]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{CROISSANT}: not valid JSON ({exc}); {redo}"]
    if not isinstance(doc, dict):
        return [f"{CROISSANT}: not a JSON object; {redo}"]
    entries = {str(e["path"]): e for e in manifest.get("files", [])}
    problems = []
    for obj in doc.get("distribution") or []:
        if obj.get("@type") != "cr:FileObject":
            continue
        entry = entries.get(str(obj.get("contentUrl")))
        if entry is None:
            problems.append(f"{CROISSANT}: lists {obj.get('contentUrl')}, which the manifest does not; {redo}")
        elif obj.get("sha256") != entry["sha256"] or obj.get("contentSize") != f"{int(entry['bytes'])} B":
            problems.append(f"{CROISSANT}: the sha256 or size of {obj.get('contentUrl')} is not the manifest's; {redo}")
    if problems:
        return problems
    try:
        expected = croissant(release, manifest, str(doc.get("license")))
    except Exception as exc:  # noqa: BLE001 - the tables' own problems are reported by their own checks
        return [f"{CROISSANT}: cannot be recomputed from the release ({type(exc).__name__}: {exc})"]
    differ = sorted(k for k in set(doc) | set(expected) if doc.get(k) != expected.get(k))
    if differ:
        problems.append(f"{CROISSANT}: {', '.join(differ)} differ(s) from what the release's files give (e.g. "
                        f"counts, sha256, release version); {redo}")
    return problems

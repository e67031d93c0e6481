"""Style references: which reference face restyles which subject's videos.

Two inputs:

* a CSV ``subject, reference_path, domain[, reference_id]`` (paths relative to the CSV's folder); the first
  ``n`` rows of each subject are used, in file order;
* a directory with ``female/`` and ``male/`` image subfolders plus a subjects file ``subject, gender[, glasses]``:
  each subject gets ``n`` distinct references of its own gender, drawn with a seeded RNG that depends only on
  (seed, subject), so adding subjects never changes another subject's references.
"""

from __future__ import annotations

import csv
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from samm_synth_dataset import format as fmt
from samm_synth_dataset.faces.locate import detect_faces_in_image
from samm_synth_dataset.sources import read_image
from samm_synth_dataset.transfer.base import domain_index

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
GENDER_DOMAINS: tuple[str, ...] = ("female", "male")


@dataclass(frozen=True)
class Reference:
    """One reference face image. ``domain`` is the StarGAN v2 domain name (``female``/``male`` for CelebA-HQ,
    or a number as text); ``sha256`` is of the image file's bytes."""

    reference_id: str
    subject: str
    path: Path
    domain: str
    sha256: str


@dataclass(frozen=True)
class Subject:
    """A row of the subjects file. ``glasses`` is None when not given."""

    subject: str
    gender: str | None
    glasses: bool | None


def _reference_id_from_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", Path(name).stem)


def _parse_bool(value: str | None, where: str) -> bool | None:
    if value is None or value.strip() == "":
        return None
    v = value.strip().lower()
    if v in ("1", "true", "yes", "y", "t"):
        return True
    if v in ("0", "false", "no", "n", "f"):
        return False
    raise ValueError(f"{where}: glasses must be true/false/yes/no/1/0 or empty, got {value!r}")


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; the header must include {list(required)}")
        rows = []
        for row in reader:
            rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
        return rows


def read_subjects(path: str | Path) -> dict[str, Subject]:
    """Read a subjects file ``subject, gender[, glasses]`` (subject ids kept as text, e.g. ``006``)."""
    path = Path(path)
    rows = _read_csv(path, ("subject",))
    out: dict[str, Subject] = {}
    for i, row in enumerate(rows, start=2):
        where = f"{path}, line {i}"
        subject = row["subject"]
        if not subject:
            raise ValueError(f"{where}: empty subject")
        if subject in out:
            raise ValueError(f"{where}: subject {subject!r} listed twice")
        gender = row.get("gender") or None
        if gender is not None:
            gender = gender.lower()
            if gender in ("f", "w", "woman"):
                gender = "female"
            elif gender in ("m", "man"):
                gender = "male"
            if gender not in GENDER_DOMAINS:
                raise ValueError(f"{where}: gender must be female or male, got {row.get('gender')!r}")
        out[subject] = Subject(subject, gender, _parse_bool(row.get("glasses"), where))
    return out


def references_from_csv(path: str | Path, n: int) -> dict[str, list[Reference]]:
    """Subject → its first ``n`` references from a CSV ``subject, reference_path, domain[, reference_id]``.

    Raises ValueError naming the line for a missing image, a bad id or a duplicate reference id of a subject.
    """
    path = Path(path)
    rows = _read_csv(path, ("subject", "reference_path", "domain"))
    out: dict[str, list[Reference]] = {}
    for i, row in enumerate(rows, start=2):
        where = f"{path}, line {i}"
        subject = row["subject"]
        if not subject:
            raise ValueError(f"{where}: empty subject")
        ref_path = Path(row["reference_path"])
        if not ref_path.is_absolute():
            ref_path = path.parent / ref_path
        if not ref_path.is_file():
            raise FileNotFoundError(f"{where}: reference image {ref_path} not found")
        ref_id = row.get("reference_id") or _reference_id_from_name(ref_path.name)
        try:
            fmt.check_id(ref_id, "reference id")
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        try:
            domain_index(row["domain"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        refs = out.setdefault(subject, [])
        if any(r.reference_id == ref_id for r in refs):
            raise ValueError(f"{where}: reference id {ref_id!r} appears twice for subject {subject!r}")
        if len(refs) < n:
            refs.append(Reference(ref_id, subject, ref_path, row["domain"].lower(), fmt.sha256_file(ref_path)))
    return out


def references_from_dir(root: str | Path, subjects: dict[str, Subject], n: int, seed: int
                        ) -> dict[str, list[Reference]]:
    """Gender-matched assignment: each subject gets ``n`` distinct images of its gender from ``root/<gender>/``.

    The draw for a subject is ``random.Random(f"{seed}:{subject}").sample(sorted pool, n)``.
    """
    root = Path(root)
    pools: dict[str, list[Path]] = {}
    for gender in GENDER_DOMAINS:
        folder = root / gender
        pools[gender] = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
            if folder.is_dir() else []
    out: dict[str, list[Reference]] = {}
    for subject in sorted(subjects):
        gender = subjects[subject].gender
        if gender is None:
            raise ValueError(f"subject {subject!r} has no gender in the subjects file; it is needed to assign "
                             f"references from {root}/female and {root}/male")
        pool = pools[gender]
        if len(pool) < n:
            raise ValueError(f"{root / gender}: {len(pool)} reference image(s), need {n} per subject "
                             "(lower --refs-per-subject or add images)")
        chosen = random.Random(f"{seed}:{subject}").sample(pool, n)
        refs = []
        for p in chosen:
            ref_id = fmt.check_id(_reference_id_from_name(p.name), f"reference id (from {p})")
            refs.append(Reference(ref_id, subject, p, gender, fmt.sha256_file(p)))
        out[subject] = refs
    return out


def load_references(references: str | Path, n: int, seed: int = 0,
                    subjects: dict[str, Subject] | None = None) -> dict[str, list[Reference]]:
    """Subject → references, from a CSV file or a ``female/``+``male/`` directory (needs ``subjects``).

    A reference id names one image in a release: an id given to different images (by sha256) is refused."""
    references = Path(references)
    if references.is_dir():
        if not subjects:
            raise ValueError(f"--references {references} is a directory: give --subjects (subject, gender) for "
                             "the gender-matched assignment")
        out = references_from_dir(references, subjects, n, seed)
    elif references.is_file():
        out = references_from_csv(references, n)
    else:
        raise FileNotFoundError(f"{references}: references CSV or directory not found")
    check_unique_ids(out, references)
    return out


def check_unique_ids(refs: dict[str, list[Reference]], where: str | Path) -> None:
    """Raise ValueError when one reference id names different images (different sha256) for two subjects: the
    release's ``reference_id`` column would then point two synthetic videos at different faces."""
    first: dict[str, Reference] = {}
    for subject in sorted(refs):
        for ref in refs[subject]:
            seen = first.setdefault(ref.reference_id, ref)
            if seen.sha256 != ref.sha256:
                raise ValueError(f"{where}: reference id {ref.reference_id!r} names different images for subject "
                                 f"{seen.subject!r} ({seen.path}) and subject {ref.subject!r} ({ref.path}); give "
                                 "each image its own reference_id (one id, one image in a release)")


def check_reference_faces(refs: Iterable[Reference], where: str | Path) -> None:
    """Raise ValueError naming the first reference image (by id and path) in which OpenCV's Haar frontal-face
    detector finds no face: StarGAN v2 takes its style from a face photo, and a flat or noise image gives every
    synthetic face a featureless blob while the build reports success. An image with several faces only warns
    (the style would come from all of them). Each image (by sha256) is read once; an unreadable image is named
    with the fix."""
    seen: set[str] = set()
    for ref in sorted(refs, key=lambda r: r.reference_id):
        if ref.sha256 in seen:
            continue
        seen.add(ref.sha256)
        image = read_image(ref.path, hint=f"replace reference {ref.reference_id} (the image file) in {where} and "
                                          "re-run the same command")
        faces = detect_faces_in_image(image)
        if not faces:
            raise ValueError(f"{where}: reference {ref.reference_id} ({ref.path}) shows no face OpenCV's frontal-face "
                             "detector can find; a style reference must be a frontal face photo (CelebA-HQ-like "
                             "framing): replace the image and re-run, or pass --allow-faceless-references to use it "
                             "anyway; nothing was created")
        if len(faces) > 1:
            log.warning("%s: reference %s (%s) shows %d faces; the style is taken from the whole image", where,
                        ref.reference_id, ref.path, len(faces))

"""The demo's two people: public-domain photos that ship inside installed packages (nothing is downloaded).

* ``grace_hopper``: Rear Admiral Grace Hopper, a U.S. Navy photograph (public domain), read from matplotlib's
  bundled sample data (``grace_hopper.jpg``, 600×512 pixels, H×W).
* ``eileen_collins``: astronaut Eileen Collins, a NASA photograph (public domain), as scikit-image ships it
  (``skimage.data.astronaut()``, 512×512). This package carries the 259×221 crop around her face (rows 20–278,
  columns 109–329) as ``demo/data/eileen_collins.png``; it is enlarged ×2.3167 (bicubic) to 600×512 so that her
  face has about Grace Hopper's size and place in the frame (Haar face boxes 228 and 222 pixels wide).

Images are BGR uint8 (as OpenCV reads them), 600×512.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

#: Height × width of every demo photo in pixels.
PHOTO_SHAPE: tuple[int, int] = (600, 512)


@dataclass(frozen=True)
class Person:
    """One demo person: ``name``, where the photo comes from and under what licence."""

    key: str
    name: str
    source: str
    licence: str


PEOPLE: dict[str, Person] = {
    "grace_hopper": Person("grace_hopper", "Grace Hopper",
                           "U.S. Navy photograph, as matplotlib ships it (matplotlib sample data grace_hopper.jpg)",
                           "public domain (work of the U.S. federal government)"),
    "eileen_collins": Person("eileen_collins", "Eileen Collins",
                             "NASA photograph, as scikit-image ships it (skimage.data.astronaut); a face crop of it "
                             "is included in this package (samm_synth_dataset/demo/data/eileen_collins.png)",
                             "public domain (work of NASA, the U.S. federal government)"),
}

_CROP = Path(__file__).parent / "data" / "eileen_collins.png"


@functools.lru_cache(maxsize=2)
def _photo(person: str) -> np.ndarray:
    if person == "grace_hopper":
        from matplotlib import cbook

        path = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise RuntimeError(f"{path}: cannot read matplotlib's sample photo; reinstall matplotlib")
    elif person == "eileen_collins":
        crop = cv2.imread(str(_CROP), cv2.IMREAD_COLOR)
        if crop is None:
            raise RuntimeError(f"{_CROP}: cannot read the demo photo; reinstall samm-synth-dataset")
        image = cv2.resize(crop, PHOTO_SHAPE[::-1], interpolation=cv2.INTER_CUBIC)
    else:
        raise ValueError(f"unknown demo person {person!r}; one of {sorted(PEOPLE)}")
    if image.shape[:2] != PHOTO_SHAPE:
        raise RuntimeError(f"demo photo of {person}: {image.shape[:2]} pixels, expected {PHOTO_SHAPE}")
    image.flags.writeable = False
    return image


def photo_bgr(person: str) -> np.ndarray:
    """The photo of ``person`` (a key of :data:`PEOPLE`) as a 600×512 BGR uint8 array (a fresh copy)."""
    return _photo(person).copy()


def corpus_provenance(title: str, subjects: dict[str, str], references: dict[str, str]) -> dict[str, object]:
    """The corpus's ``samm-synth-corpus.json`` (``sources.provenance``): ``subjects`` maps a subject id to its
    person key, ``references`` a subject id to the person its reference faces show."""
    return {"kind": "demo", "title": title, "licence": "public domain (the photos); the corpus is free to use",
            "people": [{"subject": s, "name": PEOPLE[p].name, "source": PEOPLE[p].source,
                        "licence": PEOPLE[p].licence, "references_show": PEOPLE[references[s]].name}
                       for s, p in sorted(subjects.items())]}


def people_readme(provenance: dict[str, Any]) -> str:
    """A corpus README (Markdown) saying who is in it and under what licence, from :func:`corpus_provenance`."""
    lines = [f"# {provenance['title']}", "",
             "Synthetic look-alike of a long-video expression corpus, made by `samm-synth make-demo-corpus` from two "
             "real people's public-domain photos. The movements are scripted warps of one still photo per person; no "
             "frame shows a real expression recording, and no SAMM, CAS(ME)² or CAS(ME)³ data is included.", "",
             "| subject | person | photo | licence | reference faces show |", "| --- | --- | --- | --- | --- |"]
    for p in provenance["people"]:
        lines.append(f"| {p['subject']} | {p['name']} | {p['source']} | {p['licence']} | {p['references_show']} "
                     "(colour-graded, some mirrored) |")
    lines += ["", "The frames, reference faces and ground truth may be used and redistributed freely; the photos are "
              "in the public domain. Each subject's references show the other person, so that a synthetic video's "
              "identity measurement compares two different people.", ""]
    return "\n".join(lines)


def write_corpus_about(root: Path, title: str, subjects: dict[str, str], references: dict[str, str]) -> None:
    """Write ``README.md`` and ``samm-synth-corpus.json`` (who is in the corpus, under what licence) into ``root``."""
    import json

    from samm_synth_dataset.sources.provenance import CORPUS_FILE

    about = corpus_provenance(title, subjects, references)
    (root / CORPUS_FILE).write_text(json.dumps(about, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (root / "README.md").write_text(people_readme(about), encoding="utf-8")

"""Emotion labels of the ``intervals`` table and the MEGC 3-class mapping (the one table of it).

Columns (all nullable; null where the source has no label, never invented):

* ``emotion``: the source's emotion word as written, trimmed; lower-cased where the reader normalises case
  (CAS(ME)³ JpgIndex ``Others`` → ``others``, flagged ``emotion_case_normalised``). CAS(ME)²: its column 9
  (self-reported emotion, e.g. ``happiness``, ``disgust``).
* ``emotion_megc``: the MEGC STR class of the interval: ``negative``, ``positive``, ``surprise`` or ``others``
  (not analysed by MEGC). CAS(ME)² has its own 4-class column 7 (estimated emotion), kept as written (lower-cased);
  elsewhere it is :func:`megc_class` of ``emotion``.
* ``objective_class``: CAS(ME)³'s ``Objective class`` (``I``..``VII``).

SAMM Long Videos has no emotion column: its intervals carry nulls.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

#: The classes MEGC's spot-then-recognise analysis scores.
MEGC_CLASSES: tuple[str, ...] = ("negative", "positive", "surprise")
#: The MEGC label of every other emotion (kept, not analysed).
MEGC_OTHERS = "others"

#: Emotion word (lower case) → MEGC class. negative = anger, contempt, disgust, fear, sadness (sad);
#: positive = happiness (happy); surprise = surprise; anything else → :data:`MEGC_OTHERS`.
MEGC_MAPPING: dict[str, str] = {
    "anger": "negative", "contempt": "negative", "disgust": "negative", "fear": "negative",
    "sadness": "negative", "sad": "negative",
    "happiness": "positive", "happy": "positive", "happyiness": "positive",
    "surprise": "surprise",
}


def megc_class(emotion: str | None) -> str | None:
    """The MEGC class of an emotion word (any case; None for None): ``negative``/``positive``/``surprise``, else
    ``others`` (e.g. ``others``, ``repression``, ``tense``, ``helpless``)."""
    if emotion is None or str(emotion).strip() == "":
        return None
    return MEGC_MAPPING.get(str(emotion).strip().lower(), MEGC_OTHERS)


#: What loaders and cards say of a release whose intervals carry no emotion label.
NO_EMOTION_LABELS = ("this release's intervals carry no emotion labels (SAMM Long Videos has none; a build can "
                     "join your own with --emotions FILE.csv)")


def interval_emotions(intervals: Mapping[str, Sequence[Any]]) -> dict[str, tuple[str | None, str | None]]:
    """``{interval_id: (emotion, emotion_megc)}`` of an intervals table (a mapping of column lists, e.g.
    ``pyarrow.Table.to_pydict()``); empty when no interval has a label (or the table predates the columns)."""
    if "emotion" not in intervals or not any(e is not None for e in intervals["emotion_megc"]):
        return {}
    return {str(i): (e, m) for i, e, m in zip(intervals["interval_id"], intervals["emotion"],
                                              intervals["emotion_megc"])}


def frame_emotions(interval_ids: Iterable[str], lookup: Mapping[str, tuple[str | None, str | None]]
                   ) -> tuple[str, str]:
    """The ``(emotion, emotion_megc)`` of a frame: the distinct labels of the intervals covering it, in their
    order, joined by ``;`` (``""`` when none covers it or they have no label)."""
    words: dict[str, None] = {}
    classes: dict[str, None] = {}
    for iid in interval_ids:
        emotion, megc = lookup.get(iid, (None, None))
        if emotion is not None:
            words[emotion] = None
        if megc is not None:
            classes[megc] = None
    return ";".join(words), ";".join(classes)

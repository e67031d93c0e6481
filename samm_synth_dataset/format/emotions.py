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

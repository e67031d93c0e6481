"""``quality/report.json``: the shape the dataset card and other readers rely on.

The report writes every number it computed; readers rely on two keys only:

* ``headline``: ``{name: {"title": str, "columns": [str, ...], "rows": [[cell, ...], ...]}}`` — the few tables a
  dataset card shows, in order;
* ``claims``: ``{name: str}`` — sentences a data owner reads in the card's quality summary (e.g. the measured
  identity change, the spotting utility), each stating a measured result and how it was measured.

Cells are strings, numbers, booleans or null (JSON ``null`` = not computed, never 0).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samm_synth_dataset.format.layout import REPORT_JSON, ReleaseError

#: What each transfer method is meant to do to the source person's identity, as the report's identity section
#: states it and the release checks it: ``"changed"`` (a new identity) or ``"recognisable"`` (the face kept).
IDENTITY_EXPECTED: dict[str, str] = {"stargan-v2": "changed", "color-transfer": "recognisable"}


@dataclass(frozen=True)
class HeadlineTable:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Quality:
    """What a release's quality report says, as far as readers rely on it; ``computed`` False when absent."""

    computed: bool
    headline: dict[str, HeadlineTable] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)


def headline_table(title: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    """One ``headline`` entry as stored in ``report.json``."""
    return {"title": title, "columns": [str(c) for c in columns], "rows": rows}


def read_quality(release: str | Path) -> Quality:
    """Read the headline tables and claims of ``<release>/quality/report.json`` (``computed`` False if absent).

    Raises ReleaseError naming the file when it is not valid JSON or an entry does not have the documented shape.
    """
    path = Path(release) / REPORT_JSON
    if not path.is_file():
        return Quality(computed=False)
    try:
        doc = json.loads(path.read_text())
        tables = {str(name): HeadlineTable(str(t["title"]), [str(c) for c in t["columns"]], list(t["rows"]))
                  for name, t in (doc.get("headline") or {}).items()}
        claims = {str(k): str(v) for k, v in (doc.get("claims") or {}).items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ReleaseError(f"{path}: not a quality report this package can read ({type(exc).__name__}: {exc}); "
                           "re-run `samm-synth report`") from exc
    return Quality(computed=True, headline=tables, claims=claims)

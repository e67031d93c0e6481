"""What a source corpus says about itself: ``samm-synth-corpus.json`` in its root (the folder holding the frames
folder, or the frames folder itself).

The demo generators write it: ``{"kind": "demo", "title": str, "licence": str, "people": [{"subject", "name",
"source", "licence", "references_show"}]}``. A real corpus (SAMM-LV, CAS(ME)², CAS(ME)³ as distributed) has none:
:func:`read_corpus_provenance` then returns None and releases are described as derivatives of licensed data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS_FILE = "samm-synth-corpus.json"
_PERSON_KEYS = ("subject", "name", "source", "licence", "references_show")


def read_corpus_provenance(source_root: str | Path) -> dict[str, Any] | None:
    """The corpus's ``samm-synth-corpus.json`` (in ``source_root`` or its parent), or None when it has none.
    Raises ValueError naming the file when it is not the documented shape."""
    root = Path(source_root)
    path = next((p for p in (root / CORPUS_FILE, root.parent / CORPUS_FILE) if p.is_file()), None)
    if path is None:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc}); restore the file or remove it") from None
    people = doc.get("people") if isinstance(doc, dict) else None
    if (not isinstance(doc, dict) or doc.get("kind") != "demo" or not isinstance(doc.get("title"), str)
            or not isinstance(doc.get("licence"), str) or not isinstance(people, list)
            or not all(isinstance(p, dict) and all(isinstance(p.get(k), str) for k in _PERSON_KEYS) for p in people)):
        raise ValueError(f"{path}: expected {{\"kind\": \"demo\", \"title\", \"licence\", \"people\": [{{"
                         f"{', '.join(_PERSON_KEYS)}}}]}}; restore the file or remove it")
    return {"kind": "demo", "title": doc["title"], "licence": doc["licence"],
            "people": [{k: p[k] for k in _PERSON_KEYS} for p in people]}

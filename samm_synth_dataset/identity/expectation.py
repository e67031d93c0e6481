"""The release's identity check: does the measured identity change agree with what the transfer method is for?

It reads the ``identity`` entry of ``quality/report.json`` (written by ``samm-synth report``): per method, how
many measured videos are ``recognisable`` (the synthetic face is within dlib's threshold of the original in
≥ 90 % of sampled frames), ``mixed`` or ``changed``. StarGAN v2 is meant to give a new identity, so a StarGAN
build where most measured videos are still recognisable contradicts its method (a mis-loaded checkpoint, or
references of the same person). Colour transfer keeps the source face by design: its videos are expected to
stay recognisable, and the check says so (it does not anonymise anyone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt


@dataclass(frozen=True)
class IdentityCheck:
    """``measured``: the report has an identity result; ``contradictions``: warnings (the result contradicts a
    method); ``notes``: what the result means for the release (e.g. colour transfer stays recognisable);
    ``changed``: every measured method has fewer than half its videos recognisable."""

    measured: bool
    contradictions: tuple[str, ...]
    notes: tuple[str, ...]
    changed: bool

    def refusal(self) -> str | None:
        """Why ``--require-identity-change`` refuses this release (None: it does not)."""
        if not self.measured:
            return ("the identity change was not measured (" + "; ".join(self.notes) + "); run `samm-synth "
                    "report` with dlib installed and the original frames (--source-root), or drop "
                    "--require-identity-change")
        if not self.changed or self.contradictions:
            return ("the measured identity did not change: " + " ".join(self.contradictions + self.notes)
                    + " Drop --require-identity-change only if publishing recognisable faces is intended.")
        return None


def _entry(release: Path) -> dict[str, Any] | None:
    path = release / fmt.REPORT_JSON
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise fmt.ReleaseError(f"{path}: not valid JSON ({exc}); re-run `samm-synth report`") from exc
    entry = doc.get("identity")
    return entry if isinstance(entry, dict) else None


def check_identity(release: str | Path) -> IdentityCheck:
    """Compare the release's measured identity change with each method's purpose (see the module docstring)."""
    release = Path(release)
    entry = _entry(release)
    if entry is None:
        why = (f"{fmt.REPORT_JSON} is absent" if not (release / fmt.REPORT_JSON).is_file()
               else f"{fmt.REPORT_JSON} has no identity section")
        return IdentityCheck(False, (), (why,), False)
    if "skipped" in entry or "summary" not in entry:
        return IdentityCheck(False, (), (f"identity section skipped: {entry.get('skipped', 'no summary')}",), False)
    threshold = entry.get("threshold")
    contradictions: list[str] = []
    notes: list[str] = []
    changed = True
    measured_any = False
    for method, c in sorted(entry["summary"].get("by_method", {}).items()):
        measured = int(c["videos"]) - int(c["unmeasured"])
        if measured == 0:
            notes.append(f"{method}: no video measured (no face found)")
            continue
        measured_any = True
        recognisable = int(c["recognisable"])
        what = (f"{recognisable} of {measured} {method} videos still show the source person (dlib ResNet, "
                f"threshold {threshold})")
        most = 2 * recognisable > measured
        if most:
            changed = False
        expected = fmt.IDENTITY_EXPECTED.get(method)
        if expected == "changed" and most:
            contradictions.append(f"{what}, but {method} is meant to give a new identity: check the checkpoint "
                                  "and that the references are other people.")
        elif expected == "recognisable" and 2 * int(c["changed"]) > measured:
            contradictions.append(f"only {recognisable} of {measured} {method} videos still show the source "
                                  f"person, but {method} keeps the face by design: check the crops and frames.")
        elif expected == "recognisable":
            notes.append(f"{what}, as expected: {method} keeps the source face, so this release does not "
                         "anonymise anyone.")
        else:
            notes.append(f"{what}.")
    if not measured_any:
        return IdentityCheck(False, tuple(contradictions), tuple(notes), False)
    return IdentityCheck(True, tuple(contradictions), tuple(notes), changed)

"""CITATION.cff: present, CFF 1.2.0-shaped, the package's version, and the seed paper as preferred citation."""

from pathlib import Path

import yaml

import samm_synth_dataset

REPO = Path(__file__).resolve().parents[1]


def test_citation_file_names_this_version_and_the_seed_paper() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    assert str(cff["version"]) == samm_synth_dataset.__version__
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])
    assert cff["preferred-citation"]["doi"] == "10.3390/jimaging7080142"

"""The README's minimal training loop runs as written (DataLoader with workers, default collate, transform), and
the dataset card shows the same loop."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from samm_synth_dataset.loaders import ClipDataset

ROOT = Path(__file__).resolve().parents[2]


def _loop(text: str) -> str:
    m = re.search(r"<!-- training-loop -->\n```python\n(.*?)```\n<!-- /training-loop -->", text, re.S)
    assert m, "README lost its <!-- training-loop --> block"
    return m.group(1)


def test_readme_training_loop_runs(small_release, capsys):
    code = _loop((ROOT / "README.md").read_text())
    code = code.replace('"demo-output/release"', repr(str(small_release)))
    namespace: dict = {"__name__": "readme_loop"}
    exec(compile(code, "README.md training loop", "exec"), namespace)
    out = capsys.readouterr().out
    assert re.findall(r"epoch \d: loss \d+\.\d{4}", out) and len(out.strip().splitlines()) == 2
    assert namespace["k"] >= 1 and torch.isfinite(namespace["loss"])


def test_card_shows_the_same_loop():
    readme = _loop((ROOT / "README.md").read_text())
    card = (ROOT / "samm_synth_dataset" / "templates" / "dataset_card.md").read_text()
    start, end = readme.index("def to_input"), readme.index("optimiser.step()")
    for line in readme[start:end].splitlines():
        assert line.split("  #")[0].rstrip() in card, f"card lacks the README loop's line {line!r}"


def test_pairs_collate_by_default_and_transform_applies(small_release):
    from torch.utils.data import DataLoader

    ds = ClipDataset(small_release, pair_k=5, stride=50, shuffle=False,
                     transform=lambda s: {**s, "delta": s["frame"][1] - s["frame"][0]})
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["frames"].shape[:2] == (3, 2) and batch["frames"].dtype == torch.uint8
    assert len(batch["video"]) == 3 and len(batch["interval_ids"]) == 2 and len(batch["interval_ids"][0]) == 3
    assert torch.equal(batch["delta"], batch["frame"][:, 1] - batch["frame"][:, 0])
    assert torch.equal(batch["index"][:, 1] - batch["index"][:, 0], torch.full((3,), 5))

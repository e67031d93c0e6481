"""Figure 12 of the spotting section (issue 25 item 4) on a made-up timeline: overlapping predicted intervals get
separate lanes, each bar's peak is found back from its window, the legend sits outside the plotting area, the
figure is the same bytes every time, and the caption explains why a score above the threshold can give no
interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from samm_synth_dataset.metrics.document import save_figure
from samm_synth_dataset.spotting.section import lanes, peak_of, plot_timeline, timeline_caption


def _entry() -> dict:
    frames = list(range(1, 301))
    x = np.asarray(frames, dtype=float)
    me = np.exp(-((x - 100) / 20) ** 2) + 0.9 * np.exp(-((x - 125) / 10) ** 2)
    mae = np.exp(-((x - 200) / 40) ** 2)
    curve = {"frames": frames, "ME": me.round(4).tolist(), "MaE": mae.round(4).tolist(),
             "threshold_ME": 0.5, "threshold_MaE": 0.5}
    return {"video": "006_1", "test_subject": "006", "seed": 3,
            "ground_truth": [[90, 110, "ME"], [170, 230, "MaE"]],
            "predicted": {"real": [[72, 128, "ME"], [100, 156, "ME"], [136, 264, "MaE"]], "synthetic": []},
            "curves": {"real": curve, "synthetic": curve}}


def test_lanes_separate_overlapping_intervals() -> None:
    assert lanes([(1, 10), (5, 20), (11, 30), (21, 25)]) == [0, 1, 0, 1]
    assert lanes([(5, 20), (1, 10)]) == [1, 0]                # by onset, whatever the input order
    assert lanes([(1, 10), (10, 20)]) == [0, 1]                # inclusive ends: sharing frame 10 overlaps
    assert lanes([]) == []


def test_peak_of_undoes_the_clipped_window() -> None:
    assert peak_of(72, 128, 1, 28) == 100                      # [c - k, c + k]
    assert peak_of(1, 40, 1, 28) == 12                         # clipped at the first frame
    assert peak_of(260, 300, 1, 28) == 288                     # clipped at the end
    assert peak_of(10, 20, 1, None) == 15


def test_timeline_figure_legend_outside_and_deterministic(tmp_path: Path) -> None:
    entry = _entry()
    fig = plot_timeline(entry, ["real", "synthetic"], {"ME": 28, "MaE": 64})
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    right = max(ax.get_window_extent().x1 for ax in fig.axes)
    assert legend.x0 >= right                                  # the legend covers no curve
    score_me, bars_me = fig.axes[0], fig.axes[1]
    assert len(bars_me.collections) == 2                       # two ME bars (one broken_barh each)
    assert {round(c.get_paths()[0].vertices[:, 1].min(), 2) for c in bars_me.collections} == {0.15, 1.15}
    assert any(line.get_linestyle() == "--" for line in score_me.get_lines())   # thresholds drawn
    names = [save_figure(plot_timeline(entry, ["real", "synthetic"], {"ME": 28, "MaE": 64}),
                         tmp_path / f"t{i}.png") for i in range(2)]
    assert (tmp_path / names[0]).read_bytes() == (tmp_path / names[1]).read_bytes()
    caption = timeline_caption(entry, {"ME": 28, "MaE": 64})
    assert "k = ME 28, MaE 64 frames" in caption and "[c − k, c + k]" in caption
    assert "at least k frames apart" in caption and "first and last frames" in caption

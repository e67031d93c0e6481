import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.labels import LabelIndex, intervals_rows, release_interval_id


def _annotations() -> pd.DataFrame:
    rows = [
        # interval_id, source_id, subject, video, onset, apex, offset, kind, aus, notes, flags, emotion,
        # emotion_megc, objective_class
        ("006_1_1", "006_1_1", "006", "006_1", 10, 15, 30, "MaE", "12", "", [], "happy", "positive", "I"),
        ("006_1_2", "006_1_2", "006", "006_1", 20, None, 24, "ME", "4", "Micro inside of a macro", ["apex_missing"],
         None, None, None),
        ("006_1_3", "006_1_3", "006", "006_1", 0, 3, 5, "MaE", "1+2", "", ["onset_zero"], None, None, None),
        ("006_2_1", "006_2_1", "006", "006_2", 1, 2, 3, "ME", "", "", [], None, None, None),
    ]
    df = pd.DataFrame(rows, columns=list(fmt.ANNOTATION_COLUMNS))
    df["apex"] = df["apex"].astype("Int64")
    return df


def test_intervals_rows_select_the_video_and_make_release_ids() -> None:
    rows = intervals_rows(_annotations(), "006_1", "006_1-ref01")
    assert [r["interval_id"] for r in rows] == ["006_1-ref01/006_1_3", "006_1-ref01/006_1_1",
                                               "006_1-ref01/006_1_2"]
    assert all(r["video"] == "006_1-ref01" and r["source_video"] == "006_1" for r in rows)
    by_id = {r["interval_id"]: r for r in rows}
    assert by_id["006_1-ref01/006_1_2"]["apex"] is None
    assert by_id["006_1-ref01/006_1_2"]["flags"] == ["apex_missing"]
    assert by_id["006_1-ref01/006_1_3"]["onset"] == 0  # onset 0 is kept
    emotions = by_id["006_1-ref01/006_1_1"], by_id["006_1-ref01/006_1_2"]
    assert [(r["emotion"], r["emotion_megc"], r["objective_class"]) for r in emotions] == [
        ("happy", "positive", "I"), (None, None, None)]
    assert set(rows[0]) == set(fmt.INTERVALS_SCHEMA.names)
    assert intervals_rows(None, "006_1", "x") == []


def test_label_index_matches_a_brute_force_scan() -> None:
    rows = intervals_rows(_annotations(), "006_1", "v")
    index = LabelIndex(rows)
    for frame in range(0, 40):
        inside = [r for r in rows if r["onset"] <= frame <= r["offset"]]
        got = index.labels(frame)
        assert got.me == any(r["kind"] == "ME" for r in inside)
        assert got.mae == any(r["kind"] == "MaE" for r in inside)
        assert sorted(got.interval_ids) == sorted(r["interval_id"] for r in inside)
    assert index.labels(22).interval_ids == ("v/006_1_1", "v/006_1_2")
    assert index.labels(30).mae and not index.labels(31).mae  # inclusive offset
    assert release_interval_id("v", "a") == "v/a"

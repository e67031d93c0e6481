"""OpenFace CSV reading (every real variant), the subprocess wiring and the AU export."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.openface import (
    OpenFaceCSVError, OpenFaceWarning, find_openface, read_openface_csv, run_openface, split_tracks,
    track_table, write_aus,
)

REAL = ("facsvatar_demo_2.0.csv", "open_dbm_subj01_2.2.csv")
N_FRAMES = {"facsvatar_demo_2.0.csv": 490, "open_dbm_subj01_2.2.csv": 158}


def _fields(line: str) -> list[str]:
    return [f.strip() for f in line.split(",")]


def _rewrite(src: Path, dst: Path, sep: str = ",", header_sep: str | None = None, drop: tuple[str, ...] = (),
             edit=None, n_rows: int | None = None, trailing_newline: bool = True) -> Path:
    """Write a variant of a real OpenFace CSV: other separators, dropped columns, edited rows."""
    lines = src.read_text().splitlines()
    header = _fields(lines[0])
    keep = [i for i, c in enumerate(header) if c not in drop]
    rows = [_fields(line) for line in lines[1:]][:n_rows]
    if edit:
        rows = edit(header, rows)
    out = [(header_sep or sep).join(header[i] for i in keep)]
    out += [sep.join(r[i] for i in keep) for r in rows]
    dst.write_text("\n".join(out) + ("\n" if trailing_newline else ""))
    return dst


@pytest.mark.parametrize("name", REAL)
def test_real_files(shared_data: Path, name: str) -> None:
    df = read_openface_csv(shared_data / "openface" / name)
    assert len(df) == N_FRAMES[name]
    assert df.index.name == "frame" and df.index[0] == 1 and df.index.is_monotonic_increasing
    assert list(df.columns[:17]) == list(fmt.AU_INTENSITY_COLUMNS)
    assert list(df.columns[17:35]) == list(fmt.AU_PRESENCE_COLUMNS)
    assert {"face_id", "timestamp", "confidence", "success"} <= set(df.columns)
    assert df["success"].dtype == np.int64 and set(df["success"]) == {1}
    au = df[list(fmt.AU_INTENSITY_COLUMNS)].to_numpy()
    assert np.isfinite(au).all() and au.min() >= 0 and au.max() <= 5
    # the same values as a straightforward parse of the same file
    ref = pd.read_csv(shared_data / "openface" / name, skipinitialspace=True)
    ref.columns = ref.columns.str.strip()
    np.testing.assert_allclose(df["AU12_r"].to_numpy(), ref["AU12_r"].to_numpy())
    np.testing.assert_allclose(df["AU45_c"].to_numpy(), ref["AU45_c"].to_numpy())


@pytest.fixture(scope="module")
def real(shared_data: Path) -> tuple[Path, pd.DataFrame]:
    src = shared_data / "openface" / "open_dbm_subj01_2.2.csv"
    return src, read_openface_csv(src)


def test_master_no_spaces(real, tmp_path: Path) -> None:
    src, ref = real
    df = read_openface_csv(_rewrite(src, tmp_path / "m.csv", sep=","))
    pd.testing.assert_frame_equal(df, ref)


def test_old_comma_space_rows_and_pre20_mixed(real, tmp_path: Path) -> None:
    src, ref = real
    df = read_openface_csv(_rewrite(src, tmp_path / "a.csv", sep=", "))
    pd.testing.assert_frame_equal(df, ref)
    # pre-2.0: header ", ", rows ",", no face_id, AU_c written as 0/1, no trailing newline

    def ints(header, rows):
        for r in rows:
            for c in fmt.AU_PRESENCE_COLUMNS:
                r[header.index(c)] = str(int(float(r[header.index(c)])))
        return rows

    df = read_openface_csv(_rewrite(src, tmp_path / "b.csv", sep=",", header_sep=", ", drop=("face_id",),
                                    edit=ints, trailing_newline=False))
    assert "face_id" not in df.columns
    pd.testing.assert_frame_equal(df, ref.drop(columns="face_id"))


def test_windows_nan(real, tmp_path: Path) -> None:
    src, ref = real

    def edit(header, rows):
        rows[4][header.index("AU12_r")] = "-nan(ind)"
        rows[5][header.index("confidence")] = "-nan(ind)"
        rows[6][header.index("AU01_r")] = "nan"
        return rows

    df = read_openface_csv(_rewrite(src, tmp_path / "n.csv", sep=", ", edit=edit))
    assert np.isnan(df.loc[5, "AU12_r"]) and np.isnan(df.loc[6, "confidence"]) and np.isnan(df.loc[7, "AU01_r"])
    assert df.loc[8, "AU12_r"] == ref.loc[8, "AU12_r"]


def test_frame_stuck_at_zero(real, tmp_path: Path) -> None:
    src, ref = real

    def edit(header, rows):
        for r in rows:
            r[header.index("frame")] = "0"
        return rows

    with pytest.warns(OpenFaceWarning, match="row order"):
        df = read_openface_csv(_rewrite(src, tmp_path / "z.csv", sep=", ", edit=edit))
    assert df.index.tolist() == list(range(1, len(ref) + 1))
    np.testing.assert_array_equal(df["AU04_r"].to_numpy(), ref["AU04_r"].to_numpy())


def test_truncated_last_row_dropped(real, tmp_path: Path) -> None:
    src, ref = real
    p = _rewrite(src, tmp_path / "t.csv", sep=", ", trailing_newline=False)
    text = p.read_text()
    last = text.rsplit("\n", 1)[1]
    p.write_text(text[: len(text) - len(last)] + ", ".join(last.split(", ")[:196]))
    with pytest.warns(OpenFaceWarning, match="truncated"):
        df = read_openface_csv(p)
    pd.testing.assert_frame_equal(df, ref.iloc[:-1])


def test_bad_rows_raise(real, tmp_path: Path) -> None:
    src, _ = real
    p = _rewrite(src, tmp_path / "bad.csv", sep=",")
    lines = p.read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:-5])
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(OpenFaceCSVError, match="line 4"):
        read_openface_csv(p)
    q = _rewrite(src, tmp_path / "noau.csv", sep=",", drop=fmt.AU_INTENSITY_COLUMNS + fmt.AU_PRESENCE_COLUMNS)
    with pytest.raises(OpenFaceCSVError, match="-aus"):
        read_openface_csv(q)
    r = _rewrite(src, tmp_path / "junk.csv", sep=",")
    lines = r.read_text().splitlines()
    f = lines[5].split(",")
    f[_fields(lines[0]).index("AU01_r")] = "abc"
    lines[5] = ",".join(f)
    r.write_text("\n".join(lines) + "\n")
    with pytest.raises(OpenFaceCSVError, match="non-numeric"):
        read_openface_csv(r)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(OpenFaceCSVError, match="empty"):
        read_openface_csv(tmp_path / "empty.csv")


def test_failed_frames_fixture(tmp_path: Path) -> None:
    """success = 0 rows (AUs forced to 0), master format with -aus only (40 columns)."""
    cols = ["frame", "face_id", "timestamp", "confidence", "success", *fmt.AU_INTENSITY_COLUMNS,
            *fmt.AU_PRESENCE_COLUMNS]
    assert len(cols) == 40
    rows = []
    for f in range(1, 6):
        ok = f != 3
        vals = [f"{0.5 * f:.2f}" if ok else "0.00" for _ in fmt.AU_INTENSITY_COLUMNS]
        vals += ["1.00" if ok else "0.00" for _ in fmt.AU_PRESENCE_COLUMNS]
        rows.append(",".join([str(f), "0", "0.000", "0.98" if ok else "0.00", "1" if ok else "0", *vals]))
    p = tmp_path / "f.csv"
    p.write_text(",".join(cols) + "\n" + "\n".join(rows) + "\n")
    df = read_openface_csv(p)
    assert df["success"].tolist() == [1, 1, 0, 1, 1]
    assert df.loc[3, "AU01_r"] == 0.0 and df.loc[4, "AU01_r"] == 2.0


# ------------------------------------------------------------------------------------------------------------
# Subprocess wiring with a fake FeatureExtraction that writes the real CSV format


FAKE = r'''#!{python}
"""Fake OpenFace FeatureExtraction: copies a real CSV's rows, one per image of -fdir, in the 2.2 format."""
import sys, pathlib
args = sys.argv[1:]
assert "-aus" in args, args
fdir = pathlib.Path(args[args.index("-fdir") + 1])
out = pathlib.Path(args[args.index("-out_dir") + 1])
name = args[args.index("-of") + 1] if "-of" in args else fdir.name
images = sorted(p for p in fdir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
lines = pathlib.Path({real!r}).read_text().splitlines()
(out / "calls.log").open("a").write(" ".join(args) + "\n")
if not images:
    print("no images", file=sys.stderr); sys.exit(3)
rows = [lines[0]]
for i in range(len(images)):
    fields = lines[1 + i % (len(lines) - 1)].split(",")
    fields[0] = str(i + 1)
    if "-au_static" in args and i == 1:
        fields[4] = "  0"
    rows.append(",".join(fields))
out.mkdir(parents=True, exist_ok=True)
(out / (name + ".csv")).write_text("\n".join(rows) + "\n")
'''


@pytest.fixture()
def fake_openface(shared_data: Path, tmp_path: Path) -> Path:
    exe = tmp_path / "bin" / "FeatureExtraction"
    exe.parent.mkdir()
    exe.write_text(FAKE.format(python=sys.executable, real=str(shared_data / "openface" / "open_dbm_subj01_2.2.csv")))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _images(d: Path, n: int) -> Path:
    import cv2

    d.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(d / f"{i + 1:06d}.png"), np.full((8, 8), i, np.uint8))
    return d


def test_run_openface_subprocess(fake_openface: Path, tmp_path: Path, monkeypatch) -> None:
    frames = _images(tmp_path / "vid", 7)
    csv = run_openface(frames, tmp_path / "out", binary=fake_openface, name="vid")
    df = read_openface_csv(csv)
    assert df.index.tolist() == list(range(1, 8)) and (df["success"] == 1).all()
    log = (tmp_path / "out" / "calls.log").read_text()
    assert f"-fdir {frames}" in log and "-aus" in log and "-au_static" not in log
    csv = run_openface(frames, tmp_path / "out2", binary=fake_openface, au_static=True, name="vid")
    assert "-au_static" in (tmp_path / "out2" / "calls.log").read_text()
    assert read_openface_csv(csv)["success"].tolist()[1] == 0
    run_openface(frames, tmp_path / "out4", binary=fake_openface, name="vid", extra_args=["-mloc", "a b.txt"])
    assert (tmp_path / "out4" / "calls.log").read_text().rstrip().endswith("-of vid -mloc a b.txt")
    with pytest.raises(ValueError, match="-of is set by"):
        run_openface(frames, tmp_path / "out5", binary=fake_openface, extra_args=["-of", "x"])
    # found on PATH
    monkeypatch.setenv("PATH", f"{fake_openface.parent}{os.pathsep}{os.environ['PATH']}")
    assert find_openface() == fake_openface
    # failure carries OpenFace's message
    with pytest.raises(RuntimeError, match="no images"):
        run_openface(_images(tmp_path / "empty", 0), tmp_path / "out3", binary=fake_openface)


def test_missing_binary_message(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="--original-csv-dir"):
        find_openface()
    with pytest.raises(FileNotFoundError, match="not an executable"):
        run_openface(tmp_path, tmp_path / "o", binary=tmp_path / "nope")


def test_track_table_and_parquet(real, tmp_path: Path) -> None:
    _, ref = real
    csv = ref.iloc[:5].copy()
    csv.loc[3, "success"] = 0
    source_frames = [101, 102, 103, 104, 105, 106]  # 6 images, OpenFace reported 5
    t = track_table("006_1-ref01", "original", csv, source_frames)
    assert t["frame"].tolist() == source_frames
    assert t["success"].tolist() == [True, True, False, True, True, False]
    assert np.isnan(t.loc[5, "AU12_r"]) and t.loc[0, "AU04_r"] == pytest.approx(ref.loc[1, "AU04_r"])
    s = track_table("006_1-ref01", "synthetic", csv, source_frames)
    path = write_aus(tmp_path / "aus" / "006_1-ref01.parquet", [t, s])
    table = pq.read_table(path)
    assert table.schema.equals(fmt.schema_for("aus"), check_metadata=False)
    assert b"huggingface" in table.schema.metadata
    o, sy = split_tracks(table.to_pandas())
    assert o.index.tolist() == source_frames and len(sy) == 6
    with pytest.raises(ValueError, match="only 3 images"):
        track_table("v", "original", csv, [1, 2, 3])


def test_missing_au_columns_are_named_and_rows_without_aus_are_failed_frames(real, tmp_path: Path) -> None:
    """Issue 24 item 7: a CSV without AU12_r/AU12_c, or with tracked rows whose AUs are all NaN, used to be read
    as complete (coverage 1.000). The missing columns are refused by name; a tracked row without any AU value is a
    failed frame (success 0), with a warning naming its line."""
    src, ref = real
    q = _rewrite(src, tmp_path / "no12.csv", sep=",", drop=("AU12_r", "AU12_c"))
    with pytest.raises(OpenFaceCSVError, match=r"AU columns missing: AU12_r, AU12_c"):
        read_openface_csv(q)
    aus = [c for c in fmt.AU_INTENSITY_COLUMNS + fmt.AU_PRESENCE_COLUMNS]

    def blank(header, rows):
        for c in aus:
            rows[2][header.index(c)] = "nan"
        return rows

    with pytest.warns(OpenFaceWarning, match=r"1 row\(s\) with success 1 but no AU values \(first: line 4\)"):
        df = read_openface_csv(_rewrite(src, tmp_path / "blank.csv", sep=",", edit=blank))
    assert df["success"].iloc[2] == 0 and ref["success"].iloc[2] == 1
    assert (df["success"].drop(df.index[2]) == ref["success"].drop(ref.index[2])).all()


def test_parse_openface_args() -> None:
    """Extra FeatureExtraction options are split like a shell; the ones `aus` sets itself are refused by name."""
    from samm_synth_dataset.metrics.openface import parse_openface_args

    assert parse_openface_args(None) == [] and parse_openface_args("") == []
    assert parse_openface_args("-mloc 'model/main clnf.txt' -wild") == ["-mloc", "model/main clnf.txt", "-wild"]
    assert parse_openface_args(["-mloc", "a b"]) == ["-mloc", "a b"]
    for bad in ("-of x", "-fdir d", "-f v.avi", "-aus", "-au_static", "-out_dir o", "-device 0"):
        with pytest.raises(ValueError, match=f"{bad.split()[0]} is set by `samm-synth aus` itself"):
            parse_openface_args(bad)
    with pytest.raises(ValueError, match="cannot be split"):
        parse_openface_args('-mloc "x')

"""Leave-one-subject-out (LOSO) folds by SOURCE subject, with the MEGC k per kind; ``splits/loso.json``.

Leak rule: a fold's test subject is the subject filmed in the source footage. Every synthetic video made from that
subject's source videos, whatever its reference face, and the subject's real videos (when mixed in), go to the
fold's ``test`` list or are left out (``test_on``); none is ever in ``train``.

k rule (the MEGC baseline SoftNet's ``cal_k``): per kind, ``k = floor((mean(offset - onset) + 1) / 2)``
over the fold's TRAINING intervals, each source interval counted once (its synthetic copies, one per reference, and
its real copy are the same annotation). ``k`` is None for a kind with no training interval.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from samm_synth_dataset.format import layout as fmt
from samm_synth_dataset.format.check import check_release
from samm_synth_dataset.format.files import atomic_write_bytes

SPLITS_VERSION = "1.0"
TEST_ON: tuple[str, ...] = ("all", "synthetic", "real")


@dataclass(frozen=True)
class Split:
    """One LOSO fold: ``train``/``test`` video ids (sorted), ``k`` per kind (``{"ME": int|None, "MaE": ...}``) and
    ``n_test_intervals`` per kind (distinct source intervals in the test videos: MEGC folds are usually the subjects
    with GT of the evaluated kind)."""

    test_subject: str
    train: list[str]
    test: list[str]
    k: dict[str, int | None]
    n_test_intervals: dict[str, int] = field(default_factory=dict)


def megc_k(durations: Iterable[int]) -> int | None:
    """``floor((mean(d) + 1) / 2)`` of ``offset - onset`` durations (frames); None when there are none.

    Every interval given counts, also SAMM-LV's onset-0 ones (flag ``onset_zero``): SoftNet's ``cal_k`` skips
    rows with onset 0 (it drops them while reading the sheet), so its published MaE k can differ slightly; pass
    the durations of the rows you want to match it."""
    values = list(durations)
    if not values:
        return None
    return int(math.floor((sum(values) / len(values) + 1) / 2))


def _read_release_tables(release: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    if (release / fmt.MANIFEST).is_file():
        check_release(release)
    videos_path = release / fmt.VIDEOS_PATH
    intervals_path = release / fmt.INTERVALS_PATH
    for p in (videos_path, intervals_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: missing; {release} is not a built release (run `samm-synth build`)")
    return pd.read_parquet(videos_path), pd.read_parquet(intervals_path)


def loso_splits(
    release_or_videos_df: str | Path | pd.DataFrame,
    intervals: pd.DataFrame | None = None,
    real_videos: pd.DataFrame | None = None,
    test_on: str = "all",
) -> list[Split]:
    """One fold per source subject, sorted by subject.

    ``release_or_videos_df``: a release directory (reads ``data/videos`` and ``data/intervals``) or a videos
    DataFrame with ``video, source_video, subject``; then ``intervals`` (``video, source_video, onset, offset,
    kind``; ``interval_id`` optional: synthetic copies of one annotated interval count once, see
    ``format.source_intervals``) is required. ``real_videos``: optional real source videos to mix in, a DataFrame
    with ``video`` (the source video id, e.g. ``006_1``) and ``subject``; their intervals are the source intervals
    of the same ``source_video``. ``test_on``: which of the test subject's videos form ``test``: ``"all"``,
    ``"synthetic"`` or ``"real"`` (the others are left out of the fold, never put in train).
    """
    if test_on not in TEST_ON:
        raise ValueError(f"test_on must be one of {TEST_ON}, not {test_on!r}")
    if isinstance(release_or_videos_df, pd.DataFrame):
        if intervals is None:
            raise ValueError("loso_splits(videos_df, intervals): give the intervals DataFrame with the videos one")
        videos = release_or_videos_df
    else:
        videos, release_intervals = _read_release_tables(Path(release_or_videos_df))
        intervals = release_intervals if intervals is None else intervals
    for name, df, cols in (("videos", videos, ("video", "source_video", "subject")),
                           ("intervals", intervals, ("video", "source_video", "onset", "offset", "kind"))):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} table lacks columns {missing} (has {list(df.columns)})")
    table = videos[["video", "source_video", "subject"]].astype(str).assign(real=False)
    if real_videos is not None:
        missing = [c for c in ("video", "subject") if c not in real_videos.columns]
        if missing:
            raise ValueError(f"real_videos lacks columns {missing}; give `video` (source video id) and `subject`")
        real = real_videos[["video", "subject"]].astype(str).assign(source_video=lambda d: d["video"], real=True)
        table = pd.concat([table, real[["video", "source_video", "subject", "real"]]], ignore_index=True)
    if table["video"].duplicated().any():
        dup = sorted(table.loc[table["video"].duplicated(), "video"].unique())[:5]
        raise ValueError(f"video ids must be unique across synthetic and real videos; duplicated: {dup}")
    # One source video belongs to exactly one subject, or the leak rule cannot hold.
    per_source = table.groupby("source_video")["subject"].nunique()
    bad = per_source[per_source > 1]
    if len(bad):
        raise ValueError(f"source video(s) {list(bad.index[:5])} are listed under several subjects; fix the "
                         "videos table (a source video is filmed from one subject)")
    source_subject = dict(zip(table["source_video"], table["subject"]))
    iv = intervals.copy()
    iv["source_video"] = iv["source_video"].astype(str)
    unknown = sorted(set(iv["source_video"]) - set(source_subject))
    if unknown:
        raise ValueError(f"intervals name source video(s) {unknown[:5]} that no video row has")
    iv = fmt.source_intervals(iv)  # one row per annotated interval, not one per synthetic copy
    iv["subject"] = iv["source_video"].map(source_subject)

    folds: list[Split] = []
    for subject in sorted(table["subject"].unique()):
        mine = table["subject"] == subject
        train = sorted(table.loc[~mine, "video"])
        if test_on == "all":
            test_rows = table[mine]
        else:
            test_rows = table[mine & (table["real"] == (test_on == "real"))]
        test = sorted(test_rows["video"])
        train_sources = set(table.loc[~mine, "source_video"])
        train_iv = iv[iv["source_video"].isin(train_sources)]
        test_iv = iv[iv["source_video"].isin(set(test_rows["source_video"]))]
        k = {kind: megc_k((train_iv.loc[train_iv["kind"] == kind, "offset"]
                           - train_iv.loc[train_iv["kind"] == kind, "onset"]).astype(int).tolist())
             for kind in fmt.KINDS}
        n_test = {kind: int((test_iv["kind"] == kind).sum()) for kind in fmt.KINDS}
        folds.append(Split(test_subject=str(subject), train=train, test=test, k=k, n_test_intervals=n_test))
    return folds


def splits_to_json(splits: list[Split]) -> dict[str, Any]:
    """The ``splits/loso.json`` document."""
    return {
        "version": SPLITS_VERSION,
        "protocol": "leave-one-subject-out by source subject; every video derived from the test subject's footage "
                    "(all references) is in test or left out, never in train",
        "k_rule": "per kind, floor((mean(offset - onset) + 1) / 2) over the fold's training intervals "
                  "(each source interval once); frames are source frame numbers",
        "folds": [asdict(s) for s in splits],
    }


def write_splits(release: str | Path, real_videos: pd.DataFrame | None = None, test_on: str = "all") -> Path:
    """Compute :func:`loso_splits` for a release and write ``<release>/splits/loso.json`` atomically.

    The file is deterministic (sorted ids, sorted keys) so rewriting it gives identical bytes. Returns its path.
    """
    release = Path(release)
    splits = loso_splits(release, real_videos=real_videos, test_on=test_on)
    path = release / fmt.SPLITS_PATH
    atomic_write_bytes(path, (json.dumps(splits_to_json(splits), indent=2, sort_keys=True) + "\n").encode())
    return path


def read_splits(release_or_path: str | Path) -> list[Split]:
    """Read ``splits/loso.json`` (a release directory or the file itself) back into :class:`Split` objects."""
    path = Path(release_or_path)
    if path.is_dir():
        path = path / fmt.SPLITS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no LOSO split file; run `samm-synth splits <release>`")
    try:
        doc = json.loads(path.read_text())
        return [Split(test_subject=f["test_subject"], train=list(f["train"]), test=list(f["test"]),
                      k=dict(f["k"]), n_test_intervals=dict(f.get("n_test_intervals", {})))
                for f in doc["folds"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid loso.json ({exc}); rewrite it with `samm-synth splits`") from exc

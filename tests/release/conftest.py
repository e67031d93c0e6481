"""Fixtures of the release tests: a tiny hand-made release (format contract only) that tests may mutate.

``mini_release`` is written straight from ``samm_synth_dataset.format`` (two subjects, three synthetic videos of
a few 16×16 frames, Parquet + WebDataset, intervals with fixes flagged), so these tests do not depend on the
builder; the ``small_release`` fixture of ``tests/conftest.py`` (a real build) is used where it exists.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt

SOURCES = {"006_1": ("006", 101, 6), "007_2": ("007", 1, 5)}  # source video -> (subject, first frame, n frames)
REFS = {"006_1": ["ref01", "ref02"], "007_2": ["ref03"]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jpeg(seed: int) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def write_manifest(release: Path, extra: dict[str, Any] | None = None) -> None:
    """(Re)write ``manifest.json`` listing every file under data/ and quality/ (bytes, sha256, rows)."""
    files = []
    for p in sorted(release.rglob("*")):
        rel = p.relative_to(release).as_posix()
        if not p.is_file() or not (rel.startswith("data/") or rel.startswith("quality/")):
            continue
        rows = pq.ParquetFile(p).metadata.num_rows if p.suffix == ".parquet" else None
        files.append({"path": rel, "bytes": p.stat().st_size, "sha256": _sha(p), "rows": rows})
    old = json.loads((release / fmt.MANIFEST).read_text()) if (release / fmt.MANIFEST).is_file() else {}
    manifest = {
        "format_version": fmt.FORMAT_VERSION,
        "status": fmt.STATUS_COMPLETE,
        "config": {"method": "color-transfer", "seed": 0, "dataset": "samm-lv", "refs_per_subject": 2},
        "versions": {"samm-synth-dataset": "0.1.0"},
        "summary": {"configs": ["frames", "intervals", "videos"]},
        **{k: v for k, v in old.items() if k not in ("files",)},
        "files": files,
        **(extra or {}),
    }
    (release / fmt.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def make_mini_release(root: Path, videos: dict[str, tuple[str, int, int]] | None = None,
                      aus: bool = False) -> Path:
    """Write a complete tiny release at ``root`` (with ``aus``: OpenFace AU tracks too) and return it."""
    videos = videos or SOURCES
    root.mkdir(parents=True)
    frames_dir, wds_dir = root / fmt.FRAMES_DIR, root / fmt.WDS_DIR
    frames_dir.mkdir(parents=True)
    wds_dir.mkdir(parents=True)
    video_rows: list[dict[str, Any]] = []
    interval_rows: list[dict[str, Any]] = []
    seed = 0
    for source, (subject, first, n) in videos.items():
        # One ME (3 frames, inclusive) and one MaE with a missing apex and an onset fix.
        src_intervals = [
            {"source_id": f"{source}_1", "onset": first + 1, "apex": first + 2, "offset": first + 3, "kind": "ME",
             "action_units": "12", "notes": "", "flags": []},
            {"source_id": f"{source}_2", "onset": first, "apex": None, "offset": first + n - 1, "kind": "MaE",
             "action_units": "4", "notes": "Blinks", "flags": ["apex_missing", "offset_clipped"]},
        ]
        for ref in REFS.get(source, ["ref09"]):
            video = fmt.synthetic_video_id(source, ref)
            ids = {iv["source_id"]: f"{video}/{iv['source_id']}" for iv in src_intervals}
            rows: dict[str, list[Any]] = {k: [] for k in fmt.FRAMES_SCHEMA.names}
            tar_path = wds_dir / fmt.part_name(video, 0, "tar")
            with tarfile.open(tar_path, "w", format=tarfile.USTAR_FORMAT) as tar:
                for index in range(n):
                    frame = first + index
                    inside = [iv for iv in src_intervals if iv["onset"] <= frame <= iv["offset"]]
                    image = _jpeg(seed)
                    seed += 1
                    row = {"video": video, "source_video": source, "subject": subject, "frame": frame,
                           "index": index, "me": any(iv["kind"] == "ME" for iv in inside),
                           "mae": any(iv["kind"] == "MaE" for iv in inside),
                           "interval_ids": [ids[iv["source_id"]] for iv in inside], "reference_id": ref}
                    for k, v in row.items():
                        rows[k].append(v)
                    rows["image"].append({"bytes": image, "path": None})
                    for ext, data in (("jpg", image), ("json", json.dumps(row, sort_keys=True).encode())):
                        info = tarfile.TarInfo(f"{fmt.wds_key(video, index)}.{ext}")
                        info.size, info.mtime = len(data), 946684800
                        tar.addfile(info, io.BytesIO(data))
            pq.write_table(pa.Table.from_pydict(rows, schema=fmt.schema_for("frames")),
                           frames_dir / fmt.part_name(video, 0, "parquet"), row_group_size=fmt.FRAME_ROW_GROUP_SIZE)
            video_rows.append({
                "video": video, "source_video": source, "subject": subject, "source_dataset": "samm-lv",
                "n_frames": n, "fps": 200.0, "width": 16, "height": 16, "crop": {"x": 1, "y": 2, "w": 30, "h": 30},
                "reference_id": ref, "reference_sha256": hashlib.sha256(ref.encode()).hexdigest(),
                "domain": "female", "method": "color-transfer", "checkpoint_sha256": None,
                "glasses": subject == "007",
            })
            for iv in src_intervals:
                interval_rows.append({"interval_id": ids[iv["source_id"]], "subject": subject, "video": video,
                                      "source_video": source, **iv})
    if aus:
        (root / fmt.AUS_DIR).mkdir(parents=True)
        for v in video_rows:
            first = videos[v["source_video"]][1]
            rows_au = [{"video": v["video"], "frame": first + i, "track": track, "success": True,
                        "confidence": 0.9, **{c: 0.5 for c in fmt.AU_INTENSITY_COLUMNS},
                        **{c: 1.0 for c in fmt.AU_PRESENCE_COLUMNS}}
                       for i in range(v["n_frames"]) for track in fmt.AU_TRACKS]
            pq.write_table(pa.Table.from_pylist(rows_au, schema=fmt.schema_for("aus")),
                           root / fmt.AUS_DIR / f"{v['video']}.parquet")
    for path, name, rows_ in ((fmt.VIDEOS_PATH, "videos", video_rows), (fmt.INTERVALS_PATH, "intervals",
                                                                        interval_rows)):
        schema = fmt.schema_for(name)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows_, schema=schema), root / path)
    write_manifest(root)
    return root


@pytest.fixture(scope="session")
def _mini_release_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mini_release(tmp_path_factory.mktemp("mini") / "build")


@pytest.fixture
def mini_release(_mini_release_master: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny release (a built, not yet released, directory)."""
    dest = tmp_path / "build"
    shutil.copytree(_mini_release_master, dest)
    return dest


@pytest.fixture
def built_release(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A private copy of the builder's ``small_release`` (a real build of the demo corpus)."""
    source = Path(request.getfixturevalue("small_release"))
    assert (source / fmt.MANIFEST).is_file(), f"{source}: small_release is not a release folder"
    dest = tmp_path / "build"
    shutil.copytree(source, dest)
    return dest


# --------------------------------------------------------------------------------------------------------------
# A fake Hub at huggingface_hub's boundary


class HubInterrupted(ConnectionError):
    """Raised by FakeHub to simulate a dropped connection in the middle of an upload."""


def _lfs(path: str, size: int) -> bool:
    """The Hub's default .gitattributes stores these as LFS (and anything over 10 MB)."""
    return path.endswith((".parquet", ".tar", ".arrow", ".zip", ".npy", ".jpg", ".png")) or size > 10 * 2**20


def _make_fake_hub_class():
    import inspect
    import itertools

    import httpx2
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import CommitInfo, GitRefInfo, GitRefs, RepoFile, RepoUrl

    def http_error(cls, status: int, message: str, url: str):
        return cls(message, response=httpx2.Response(status, request=httpx2.Request("GET", url)))

    class FakeHub(HfApi):
        """An ``HfApi`` whose Hub is in memory: repos with commits (snapshots of path -> blob), branches, tags,
        settings. Every call is checked against the REAL ``HfApi`` signature and recorded in ``calls``.
        ``fail_on_commit=n`` raises HubInterrupted at the n-th ``create_commit`` (1-based), committing nothing."""

        def __init__(self) -> None:
            # Nothing listens there: a call this fake does not override fails at once instead of going online.
            super().__init__(endpoint="http://127.0.0.1:9", token=False)
            self.repos: dict[str, dict[str, Any]] = {}
            self.calls: list[tuple[str, dict[str, Any]]] = []
            self.uploaded: list[str] = []
            self.fail_on_commit: int | None = None
            self._n_commits = 0
            self._oids = (f"{i:040x}" for i in itertools.count(1))

        def _record(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            bound = inspect.signature(getattr(HfApi, name)).bind(self, *args, **kwargs)  # real signature
            bound.apply_defaults()
            params = dict(bound.arguments)
            params.pop("self")
            self.calls.append((name, params))
            return params

        def _repo(self, repo_id: str) -> dict[str, Any]:
            if repo_id not in self.repos:
                raise http_error(RepositoryNotFoundError, 404, f"404: {repo_id} not found", repo_id)
            return self.repos[repo_id]

        def _resolve(self, repo: dict[str, Any], revision: str | None) -> str:
            rev = revision or "main"
            if rev in repo["branches"]:
                return repo["branches"][rev]
            if rev in repo["tags"]:
                return repo["tags"][rev]
            if rev in repo["commits"]:
                return rev
            raise http_error(RevisionNotFoundError, 404, f"404: revision {rev} not found", rev)

        def create_repo(self, repo_id, **kwargs):
            p = self._record("create_repo", repo_id, **kwargs)
            assert p["repo_type"] == "dataset"
            if repo_id in self.repos:
                if not p["exist_ok"]:
                    raise http_error(HfHubHTTPError, 409, "409: repo exists", repo_id)
            else:
                oid = next(self._oids)
                attrs = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.tar filter=lfs diff=lfs merge=lfs -text\n"
                self.repos[repo_id] = {"commits": {oid: {".gitattributes": attrs}}, "branches": {"main": oid},
                                       "tags": {}, "private": bool(p["private"]), "gated": False, "messages": {}}
            return RepoUrl(f"https://huggingface.co/datasets/{repo_id}")

        def update_repo_settings(self, repo_id, **kwargs):
            p = self._record("update_repo_settings", repo_id, **kwargs)
            repo = self._repo(repo_id)
            if p["gated"] is not None:
                repo["gated"] = p["gated"]

        def list_repo_refs(self, repo_id, **kwargs):
            self._record("list_repo_refs", repo_id, **kwargs)
            repo = self._repo(repo_id)
            return GitRefs(
                branches=[GitRefInfo(name=b, ref=f"refs/heads/{b}", target_commit=c) for b, c in repo["branches"].items()],
                converts=[],
                tags=[GitRefInfo(name=t, ref=f"refs/tags/{t}", target_commit=c) for t, c in repo["tags"].items()])

        def list_repo_tree(self, repo_id, path_in_repo=None, **kwargs):
            p = self._record("list_repo_tree", repo_id, path_in_repo, **kwargs)
            repo = self._repo(repo_id)
            files = repo["commits"][self._resolve(repo, p["revision"])]
            out = []
            for path, data in sorted(files.items()):
                size = len(data)
                lfs = ({"size": size, "oid": hashlib.sha256(data).hexdigest(), "pointerSize": 134}
                       if _lfs(path, size) else None)
                out.append(RepoFile(path=path, size=size, oid=hashlib.sha1(b"blob %d\0" % size + data).hexdigest(),
                                    lfs=lfs))
            return iter(out)

        def create_commit(self, repo_id, operations, **kwargs):
            operations = list(operations)
            p = self._record("create_commit", repo_id, operations, **kwargs)
            repo = self._repo(repo_id)
            branch = p["revision"] or "main"
            head = repo["branches"][branch]
            if p["parent_commit"] is not None and p["parent_commit"] != head:
                raise http_error(HfHubHTTPError, 412, "412: parent commit is not the head", repo_id)
            self._n_commits += 1
            if self.fail_on_commit is not None and self._n_commits == self.fail_on_commit:
                raise HubInterrupted(f"connection dropped during commit {self._n_commits}")
            files = dict(repo["commits"][head])
            for op in operations:
                if isinstance(op, CommitOperationAdd):
                    src = op.path_or_fileobj
                    data = Path(src).read_bytes() if isinstance(src, (str, Path)) else (
                        src if isinstance(src, bytes) else src.read())
                    files[op.path_in_repo] = data
                    self.uploaded.append(op.path_in_repo)
                elif isinstance(op, CommitOperationDelete):
                    files.pop(op.path_in_repo)
                else:
                    raise AssertionError(f"unexpected operation {op!r}")
            oid = next(self._oids)
            repo["commits"][oid] = files
            repo["messages"][oid] = p["commit_message"]
            repo["branches"][branch] = oid
            return CommitInfo(commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/{oid}",
                              commit_message=p["commit_message"], commit_description=p["commit_description"] or "",
                              oid=oid)

        def create_tag(self, repo_id, **kwargs):
            p = self._record("create_tag", repo_id, **kwargs)
            repo = self._repo(repo_id)
            if p["tag"] in repo["tags"]:
                if not p["exist_ok"]:
                    raise http_error(HfHubHTTPError, 409, f"409: tag {p['tag']} exists", repo_id)
                return
            repo["tags"][p["tag"]] = self._resolve(repo, p["revision"])

        # helpers for tests
        def files_at(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
            repo = self.repos[repo_id]
            return repo["commits"][self._resolve(repo, revision)]

        def names(self) -> list[str]:
            return [name for name, _ in self.calls]

    return FakeHub


@pytest.fixture
def fake_hub():
    """A fresh in-memory Hub (an ``HfApi`` subclass)."""
    return _make_fake_hub_class()()


@pytest.fixture
def release_tools():
    """``make`` (write a tiny release at a path, optional ``videos``) and ``write_manifest`` (relist files)."""
    from types import SimpleNamespace

    return SimpleNamespace(make=make_mini_release, write_manifest=write_manifest)

"""Fixtures of the release tests: a tiny release made by the real builder that tests may mutate, and a fake Hub.

``mini_release`` is ``build_release`` (tests/conftest.py) of a tiny SAMM-LV corpus: subjects 006 (source video
006_1, frames 101–106, references ref01 and ref02) and 007 (007_2, frames 1–5, ref03; wears glasses), so three
synthetic videos of 16×16 frames, Parquet + WebDataset; each source video has one ME and one MaE whose apex is not
annotated and whose offset the builder clips (flags ``apex_missing`` and ``offset_clipped``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

MINI: dict[str, Any] = {"videos": {"006_1": (101, 6), "007_2": (1, 5)},
                        "refs": {"006": ["ref01", "ref02"], "007": ["ref03"]},
                        "size": 16, "glasses": {"006": False, "007": True}}


@pytest.fixture
def build_mini(build_release):
    """``build_mini(dest, **changes)``: a private copy of the ``MINI`` release with ``changes`` to its arguments
    (e.g. ``videos=...`` or ``with_aus=True``), made at ``dest``."""
    return lambda dest, **changes: build_release(dest, **{**MINI, **changes})


@pytest.fixture
def mini_release(build_mini, tmp_path: Path) -> Path:
    """A private copy of the tiny release (a built, not yet released, directory)."""
    return build_mini(tmp_path / "build")


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

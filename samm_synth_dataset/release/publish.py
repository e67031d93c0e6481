"""Publishing a release to the Hugging Face Hub as an immutable version tag.

Order of operations (``publish``):

1. read the release (``manifest.json`` complete, with ``release.version``) and list exactly the files to publish:
   every file of the manifest plus ``manifest.json`` itself;
2. refs: if tag ``vX.Y.Z`` exists and its tree equals the release, stop (already published); if it points at
   anything else, refuse — a tag is never moved;
3. ``create_repo(exist_ok=True)`` (``private`` applies to a new repo only) and turn gating on
   (``update_repo_settings(gated=...)``);
4. list the branch's tree; files already there with the same size and hash (LFS sha256, or the git blob id of a
   regular file) are skipped — this is what makes a re-run resume an interrupted upload;
5. upload the rest in commits of at most ``batch_files`` files / ``batch_bytes`` bytes (each commit atomic,
   chained with ``parent_commit``); the last commit holds ``manifest.json`` and ``README.md`` (README last) and
   deletes files the release does not have;
6. list the tree at that last commit and compare it with the manifest (paths, sizes, hashes); only if it matches,
   ``create_tag(vX.Y.Z, revision=<that commit>)``.

The token comes from huggingface_hub's usual sources (``HF_TOKEN``, ``hf auth login``); it is never printed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from tqdm.auto import tqdm

from samm_synth_dataset import format as fmt
from samm_synth_dataset.release.card import human_size
from samm_synth_dataset.release.versioning import Version

log = logging.getLogger(__name__)

REPO_TYPE = "dataset"
BRANCH = "main"
DEFAULT_BATCH_FILES = 50          # Hub guidance: ~50-100 files per commit
DEFAULT_BATCH_BYTES = 4 * 2**30   # 4 GiB per commit
#: Remote files never deleted and never compared (the Hub creates ``.gitattributes``).
REMOTE_KEEP: tuple[str, ...] = (".gitattributes",)
Gated = Literal["auto", "manual"]


class PublishError(RuntimeError):
    """Publishing cannot proceed (tag exists elsewhere, remote differs from the manifest, bad release)."""


@dataclass(frozen=True)
class LocalFile:
    """A file to publish: ``path`` relative to the release (= path in the repo), ``bytes``, ``sha256``."""

    path: str
    bytes: int
    sha256: str


@dataclass
class PublishPlan:
    """What ``publish`` will do (``--dry-run`` prints it)."""

    release: Path
    repo_id: str
    version: str
    tag: str
    private: bool
    gated: str
    files: list[LocalFile]
    skipped: list[LocalFile] = field(default_factory=list)
    batches: list[list[LocalFile]] = field(default_factory=list)
    final: list[LocalFile] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    remote_checked: bool = False
    already_published: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def commits(self) -> int:
        return len(self.batches) + (1 if (self.final or self.deletes) else 0)

    @property
    def upload_bytes(self) -> int:
        return sum(f.bytes for b in self.batches for f in b) + sum(f.bytes for f in self.final)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def text(self) -> str:
        """The plan as printable lines (no token, no secrets)."""
        lines = [
            f"publish plan: {self.release} -> https://huggingface.co/datasets/{self.repo_id} (repo type dataset)",
            f"  version {self.version}, tag {self.tag} (created last, on the final commit, only if the repo "
            "matches the manifest; an existing tag is never moved)",
            f"  repo: create if missing ({'private' if self.private else 'public'} when created), "
            f"gating {self.gated!r}",
            f"  files: {len(self.files)} ({human_size(self.total_bytes)}; {self.total_bytes} bytes)",
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        if self.already_published:
            lines.append(f"  tag {self.tag} already holds exactly this release: nothing to do")
            return "\n".join(lines)
        if self.remote_checked:
            lines.append(f"  already on the Hub with the same size and hash (skipped): {len(self.skipped)}")
        else:
            lines.append("  remote not checked (dry run): files already on the Hub with the same size and hash "
                         "will be skipped")
        lines.append(f"  to upload: {sum(len(b) for b in self.batches) + len(self.final)} files, "
                     f"{human_size(self.upload_bytes)} ({self.upload_bytes} bytes) in {self.commits} commits")
        for i, batch in enumerate(self.batches, 1):
            size = sum(f.bytes for f in batch)
            lines.append(f"    commit {i}/{self.commits}: {len(batch)} files, {human_size(size)} "
                         f"({batch[0].path} … {batch[-1].path})")
        if self.final or self.deletes:
            names = ", ".join(f.path for f in self.final)
            extra = f"; delete {len(self.deletes)} files not in this release" if self.deletes else ""
            lines.append(f"    commit {self.commits}/{self.commits}: {names} (README.md last){extra}")
        lines.append(f"  then: compare the repo's files and sizes with the manifest, create tag {self.tag}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Local side


def git_blob_sha1(path: Path) -> str:
    """The git object id of a regular (non-LFS) file: sha1 of ``b"blob <size>\\0" + content``."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def release_files(release: str | Path) -> tuple[dict[str, Any], list[LocalFile]]:
    """The manifest and the files to publish (manifest files + ``manifest.json``), after the full ``verify``
    (every file's bytes and sha256, rows, no stray data file, the manifest's summary and the card's version and
    claims), so that a dry run plans only what a real upload would accept.

    Raises PublishError when the release has no version or ``verify`` finds a problem (naming the first ones).
    """
    release = Path(release)
    manifest = fmt.read_manifest(release)
    version = (manifest.get("release") or {}).get("version")
    if not version:
        raise PublishError(f"{release / fmt.MANIFEST}: no release version; run `samm-synth release {release} "
                           "--version X.Y.Z` first")
    Version.parse(version)
    entries = fmt.file_entries(manifest)
    if fmt.CARD not in entries:
        raise PublishError(f"{release}: README.md is not in the manifest; run `samm-synth release` first")
    report = fmt.verify(release)  # the full check (sha256, rows, stray files, the manifest's and card's claims)
    if report.problems:
        raise PublishError(f"{release}: verify found {len(report.problems)} problem(s), so nothing is published: "
                           + "; ".join(report.problems[:10]) + f" (`samm-synth verify {release}` lists them all)")
    files = [LocalFile(rel, int(entry["bytes"]), str(entry["sha256"])) for rel, entry in sorted(entries.items())]
    mpath = release / fmt.MANIFEST
    files.append(LocalFile(fmt.MANIFEST, mpath.stat().st_size, fmt.sha256_file(mpath)))
    return manifest, files


# --------------------------------------------------------------------------------------------------------------
# Remote side


def _remote_tree(api: Any, repo_id: str, revision: str) -> dict[str, Any]:
    from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    try:
        items = api.list_repo_tree(repo_id, recursive=True, revision=revision, repo_type=REPO_TYPE)
        return {f.path: f for f in items if isinstance(f, RepoFile)}
    except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
        return {}


def _matches(release: Path, local: LocalFile, remote: Any) -> bool:
    """True when the remote file has the local file's size and hash (LFS sha256 or git blob id)."""
    if remote is None or int(remote.size) != local.bytes:
        return False
    if remote.lfs is not None:
        return str(remote.lfs.sha256) == local.sha256
    return str(remote.blob_id) == git_blob_sha1(release / local.path)


def _refs(api: Any, repo_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """``({branch: commit}, {tag: commit})``; empty when the repo does not exist."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
    except RepositoryNotFoundError:
        return {}, {}
    return ({r.name: r.target_commit for r in refs.branches}, {r.name: r.target_commit for r in refs.tags})


def compare_remote(release: Path, files: list[LocalFile], tree: dict[str, Any]) -> list[str]:
    """Differences between the files to publish and a remote tree (empty list: they match exactly)."""
    problems = []
    want = {f.path: f for f in files}
    for path, local in want.items():
        remote = tree.get(path)
        if remote is None:
            problems.append(f"{path}: missing on the Hub")
        elif not _matches(release, local, remote):
            problems.append(f"{path}: on the Hub {remote.size} bytes, locally {local.bytes} (or another hash)")
    for path in sorted(set(tree) - set(want)):
        if path not in REMOTE_KEEP:
            problems.append(f"{path}: on the Hub but not in the release")
    return problems


def _batches(files: list[LocalFile], batch_files: int, batch_bytes: int) -> list[list[LocalFile]]:
    out: list[list[LocalFile]] = []
    current: list[LocalFile] = []
    size = 0
    for f in files:
        if current and (len(current) >= batch_files or size + f.bytes > batch_bytes):
            out.append(current)
            current, size = [], 0
        current.append(f)
        size += f.bytes
    if current:
        out.append(current)
    return out


def plan_publish(release: str | Path, repo_id: str, private: bool = False, gated: Gated = "manual",
                 api: Any | None = None, batch_files: int = DEFAULT_BATCH_FILES,
                 batch_bytes: int = DEFAULT_BATCH_BYTES) -> PublishPlan:
    """The publishing plan. With ``api`` (an ``HfApi``) the remote is read (tags, tree) so skipped files and
    deletions are known; without it (dry run) nothing leaves the machine and every file is planned for upload.
    Raises PublishError when the version tag exists and points at other content."""
    release = Path(release)
    if repo_id.count("/") != 1:
        raise PublishError(f"--repo-id {repo_id!r} must be ORG/NAME")
    manifest, files = release_files(release)
    version = Version.parse(manifest["release"]["version"])
    plan = PublishPlan(release=release, repo_id=repo_id, version=str(version), tag=version.tag, private=private,
                       gated=gated, files=files)
    card_repo = (manifest.get("release") or {}).get("repo_id")
    if card_repo != repo_id:
        named = card_repo or "the local release folder"
        plan.warnings.append(f"the card's loading examples load {named}, not {repo_id} (re-release with "
                             f"--repo-id {repo_id} to fix them)")
    tree: dict[str, Any] = {}
    if api is not None:
        plan.remote_checked = True
        branches, tags = _refs(api, repo_id)
        if version.tag in tags:
            tagged = _remote_tree(api, repo_id, tags[version.tag])
            problems = compare_remote(release, files, tagged)
            if problems:
                raise PublishError(
                    f"{repo_id}: tag {version.tag} already exists at commit {tags[version.tag]} and does not hold "
                    f"this release ({len(problems)} differences, e.g. {problems[0]}). Tags are never moved: "
                    "release the data under a new version instead.")
            plan.already_published = True
            return plan
        if BRANCH in branches:
            tree = _remote_tree(api, repo_id, branches[BRANCH])
    last = {fmt.MANIFEST, fmt.CARD}
    pending: list[LocalFile] = []
    for f in files:
        if api is not None and _matches(release, f, tree.get(f.path)):
            plan.skipped.append(f)
        elif f.path not in last:
            pending.append(f)
    plan.batches = _batches(pending, batch_files, batch_bytes)
    by_path = {f.path: f for f in files}
    # manifest.json and README.md go in the last commit, README.md last of all.
    plan.final = [by_path[p] for p in (fmt.MANIFEST, fmt.CARD) if by_path[p] not in plan.skipped]
    want = set(by_path)
    plan.deletes = sorted(p for p in tree if p not in want and p not in REMOTE_KEEP)
    return plan


@dataclass(frozen=True)
class PublishResult:
    """The outcome: the plan followed, the commits made (oids), and the tagged commit."""

    plan: PublishPlan
    commits: tuple[str, ...]
    tagged_commit: str | None


def publish(release: str | Path, repo_id: str, private: bool = False, gated: Gated = "manual",
            api: Any | None = None, batch_files: int = DEFAULT_BATCH_FILES, batch_bytes: int = DEFAULT_BATCH_BYTES,
            progress: Callable[[str], None] | None = None) -> PublishResult:
    """Publish ``release`` to the dataset repo ``repo_id`` and tag it ``vX.Y.Z`` (see the module docstring).

    ``api``: an ``huggingface_hub.HfApi`` (default: a new one using the usual token sources). Re-running after an
    interruption resumes: committed files are skipped. Raises PublishError.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    release = Path(release)
    say = progress or (lambda msg: log.info("%s", msg))
    api = api if api is not None else HfApi()
    plan = plan_publish(release, repo_id, private=private, gated=gated, api=api, batch_files=batch_files,
                        batch_bytes=batch_bytes)
    if plan.already_published:
        say(f"{repo_id}: tag {plan.tag} already holds this release; nothing to do")
        return PublishResult(plan, (), None)

    api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
    api.update_repo_settings(repo_id, gated=gated, repo_type=REPO_TYPE)
    branches, _ = _refs(api, repo_id)
    parent = branches.get(BRANCH)
    # The tree may have changed between planning and now (another writer): re-plan against the current head.
    plan = plan_publish(release, repo_id, private=private, gated=gated, api=api, batch_files=batch_files,
                        batch_bytes=batch_bytes)
    commits: list[str] = []
    n = plan.commits
    bar = tqdm(total=plan.upload_bytes, unit="B", unit_scale=True, desc=f"upload {plan.tag}")

    def commit(files: Sequence[LocalFile], deletes: Sequence[str], message: str, description: str) -> None:
        """One atomic commit on top of ``parent`` (the files uploaded, ``deletes`` removed)."""
        nonlocal parent
        ops: list[Any] = [CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=str(release / f.path))
                          for f in files]
        ops += [CommitOperationDelete(path_in_repo=p) for p in deletes]
        info = api.create_commit(repo_id, operations=ops, repo_type=REPO_TYPE, revision=BRANCH,
                                 parent_commit=parent, commit_message=message, commit_description=description)
        parent = info.oid
        commits.append(info.oid)
        bar.update(sum(f.bytes for f in files))

    try:
        for i, batch in enumerate(plan.batches, 1):
            commit(batch, (), f"{plan.tag}: upload data ({i}/{n})", f"{len(batch)} files of release {plan.version}")
        if plan.final or plan.deletes:
            commit(plan.final, plan.deletes, f"{plan.tag}: manifest and dataset card ({n}/{n})",
                   f"release {plan.version}")
    finally:
        bar.close()
    if parent is None:
        raise PublishError(f"{repo_id}: the repo has no {BRANCH} branch after uploading; cannot tag")
    tree = _remote_tree(api, repo_id, parent)
    problems = compare_remote(release, plan.files, tree)
    if problems:
        raise PublishError(f"{repo_id}@{parent}: the repo does not match the manifest after upload "
                           f"({len(problems)} differences: {'; '.join(problems[:10])}); not tagging. Re-run "
                           "publish to resume.")
    api.create_tag(repo_id, tag=plan.tag, revision=parent, repo_type=REPO_TYPE,
                   tag_message=f"samm-synth release {plan.version}")
    say(f"{repo_id}: tagged {plan.tag} at {parent}")
    return PublishResult(plan, tuple(commits), parent)


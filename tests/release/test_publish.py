"""Publishing against a fake Hub at huggingface_hub's boundary (an `HfApi` subclass whose calls are checked
against the real `HfApi` signatures): tag last, resume after an interrupted upload, an existing tag never moved,
the dry-run plan; and one opt-in test against the real Hub."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub.hf_api import RepoFile

from samm_synth_dataset import cli
from samm_synth_dataset import format as fmt
from samm_synth_dataset.format import add_files
from samm_synth_dataset.release import publish as pub
from samm_synth_dataset.release.publish import PublishError, plan_publish, publish
from samm_synth_dataset.release.release import make_release

REPO_ID = "someorg/samm-synth-test"


@pytest.fixture
def release_dir(mini_release: Path, tmp_path: Path) -> Path:
    return make_release(mini_release, "1.0.0", out=tmp_path / "release").release


def _expected(release: Path) -> dict[str, bytes]:
    paths = [f["path"] for f in fmt.read_manifest(release)["files"]] + [fmt.MANIFEST]
    return {p: (release / p).read_bytes() for p in paths}


def test_publish_uploads_everything_then_tags_last(release_dir: Path, fake_hub):
    result = publish(release_dir, REPO_ID, batch_files=4, api=fake_hub)
    names = fake_hub.names()
    assert names[-1] == "create_tag" and names.count("create_tag") == 1
    assert names.index("create_repo") < names.index("update_repo_settings") < names.index("create_commit")
    repo = fake_hub.repos[REPO_ID]
    assert repo["gated"] == "manual"
    tag_commit = repo["tags"]["v1.0.0"]
    assert tag_commit == result.tagged_commit == repo["branches"]["main"]
    files = fake_hub.files_at(REPO_ID, "v1.0.0")
    assert {k: v for k, v in files.items() if k != ".gitattributes"} == _expected(release_dir)
    assert fmt.CROISSANT in files                                # the Croissant metadata goes with the release
    # README.md goes in the last commit, after every data file
    commits = [p for n, p in fake_hub.calls if n == "create_commit"]
    last_paths = [op.path_in_repo for op in commits[-1]["operations"]]
    assert last_paths[-1] == fmt.CARD and fmt.MANIFEST in last_paths
    assert all(fmt.CARD not in [op.path_in_repo for op in c["operations"]] for c in commits[:-1])
    assert len(commits) == result.plan.commits >= 3
    # every commit names its parent (no blind overwrite of a concurrent writer)
    assert all(c["parent_commit"] for c in commits)
    assert fake_hub.calls[-1][1]["revision"] == tag_commit
    # publishing again is a no-op
    fake_hub.calls.clear()
    again = publish(release_dir, REPO_ID, api=fake_hub)
    assert again.plan.already_published and "create_commit" not in fake_hub.names()


def test_an_interrupted_upload_resumes_without_reuploading(release_dir: Path, fake_hub):
    fake_hub.fail_on_commit = 2
    with pytest.raises(ConnectionError, match="connection dropped"):
        publish(release_dir, REPO_ID, batch_files=3, api=fake_hub)
    assert fake_hub.repos[REPO_ID]["tags"] == {}  # never tagged a partial upload
    first = list(fake_hub.uploaded)
    assert len(first) == 3
    fake_hub.fail_on_commit = None
    fake_hub.uploaded.clear()
    result = publish(release_dir, REPO_ID, batch_files=3, api=fake_hub)
    assert not set(first) & set(fake_hub.uploaded), "files committed before the interruption were re-uploaded"
    assert sorted(first + fake_hub.uploaded) == sorted(_expected(release_dir))
    assert {f.path for f in result.plan.skipped} == set(first)
    assert fake_hub.repos[REPO_ID]["tags"]["v1.0.0"] == fake_hub.repos[REPO_ID]["branches"]["main"]


def test_an_existing_tag_is_never_moved(release_dir: Path, fake_hub, tmp_path: Path):
    fake_hub.create_repo(REPO_ID, repo_type="dataset")
    fake_hub.create_tag(REPO_ID, tag="v1.0.0", repo_type="dataset")  # v1.0.0 at other content
    old = fake_hub.repos[REPO_ID]["tags"]["v1.0.0"]
    fake_hub.calls.clear()
    with pytest.raises(PublishError, match="tag v1.0.0 already exists.*never moved"):
        publish(release_dir, REPO_ID, api=fake_hub)
    assert fake_hub.repos[REPO_ID]["tags"]["v1.0.0"] == old
    assert not {"create_commit", "create_tag", "create_repo"} & set(fake_hub.names())


def test_a_new_version_replaces_stale_files_and_keeps_the_old_tag(release_dir: Path, fake_hub, mini_release,
                                                                  tmp_path: Path):
    publish(release_dir, REPO_ID, api=fake_hub)
    v1_files = dict(fake_hub.files_at(REPO_ID, "v1.0.0"))
    # v1.0.1 (same records); the Hub's main branch also holds a file that is not in it
    v2 = make_release(mini_release, "1.0.1", previous=release_dir, out=tmp_path / "v2").release
    stale = "data/wds/not-in-v2-00000.tar"
    fake_hub.create_commit(REPO_ID, [CommitOperationAdd(stale, b"old")], commit_message="stale",
                           repo_type="dataset")
    result = publish(v2, REPO_ID, api=fake_hub)
    assert stale in result.plan.deletes
    head = fake_hub.files_at(REPO_ID, "v1.0.1")
    assert stale not in head and {k: v for k, v in head.items() if k != ".gitattributes"} == _expected(v2)
    assert fake_hub.files_at(REPO_ID, "v1.0.0") == v1_files


def test_dry_run_prints_the_plan_and_contacts_nothing(release_dir: Path, capsys, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the dry run opened a network connection")

    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert cli.main(["publish", str(release_dir), "--repo-id", REPO_ID, "--dry-run", "--batch-files", "4"]) == 0
    out = capsys.readouterr().out
    n_files = len(_expected(release_dir))
    assert f"files: {n_files} " in out and "tag v1.0.0" in out and "README.md last" in out
    plan = plan_publish(release_dir, REPO_ID, batch_files=4)
    assert f"in {plan.commits} commits" in out
    assert "hf_secret_token_value" not in out
    # released without --repo-id: the card's examples load the local folder, and the plan says so
    assert any("load the local release folder, not" in w for w in plan.warnings)
    named = make_release(release_dir, "1.0.0", repo_id=REPO_ID).release
    assert not any("local release folder" in w for w in plan_publish(named, REPO_ID, batch_files=4).warnings)


def test_publish_refuses_an_unreleased_or_changed_directory(mini_release: Path, release_dir: Path, fake_hub):
    with pytest.raises(PublishError, match="no release version"):
        plan_publish(mini_release, REPO_ID)
    victim = next((release_dir / fmt.WDS_DIR).glob("*.tar"))
    with open(victim, "ab") as f:
        f.write(b"\0" * 512)
    with pytest.raises(PublishError, match="verify found 1 problem.*bytes, manifest says"):
        publish(release_dir, REPO_ID, api=fake_hub)
    assert "create_commit" not in fake_hub.names()
    with pytest.raises(PublishError, match="ORG/NAME"):
        plan_publish(release_dir, "no-slash")


def test_a_dry_run_plans_only_what_verify_accepts(release_dir: Path):
    """Issue 24 item 9: a flipped byte (same size), an edited summary, a stray data file or a release version
    that the card does not state: the dry run refuses each, as the upload would."""
    import json
    import shutil

    def refused(edit, match: str, tmp: Path) -> None:
        copy = tmp / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(release_dir, copy)
        edit(copy)
        with pytest.raises(PublishError, match=match):
            plan_publish(copy, REPO_ID)

    tmp = release_dir.parent / "dry"
    tmp.mkdir(exist_ok=True)

    def flip(copy: Path) -> None:
        part = next((copy / fmt.FRAMES_DIR).glob("*.parquet"))
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))

    def edit_manifest(change):
        def edit(copy: Path) -> None:
            manifest = json.loads((copy / fmt.MANIFEST).read_text())
            change(manifest)
            (copy / fmt.MANIFEST).write_text(json.dumps(manifest))
        return edit

    refused(flip, "sha256 differs", tmp)
    refused(edit_manifest(lambda m: m["summary"].update(frames=1)), "summary says 1 frames", tmp)
    refused(lambda c: (c / fmt.FRAMES_DIR / "zzz-00000.parquet").write_bytes(b"PAR1"), "not in the manifest|zzz",
            tmp)
    refused(edit_manifest(lambda m: m["release"].update(version="2.0.0")), "does not state version 2.0.0", tmp)


@pytest.mark.hub
@pytest.mark.skipif(os.environ.get("SAMM_SYNTH_HUB_TESTS") != "1" or not os.environ.get("HF_TOKEN"),
                    reason="real-Hub test: set SAMM_SYNTH_HUB_TESTS=1 and HF_TOKEN")
def test_publish_to_the_real_hub(release_dir: Path):
    from huggingface_hub import HfApi

    api = HfApi()
    user = api.whoami()["name"]
    repo_id = f"{user}/samm-synth-test-{uuid.uuid4().hex[:8]}"
    try:
        result = publish(release_dir, repo_id, private=True, api=api)
        assert result.tagged_commit
        tags = {t.name: t.target_commit for t in api.list_repo_refs(repo_id, repo_type="dataset").tags}
        assert tags["v1.0.0"] == result.tagged_commit
        assert publish(release_dir, repo_id, private=True, api=api).plan.already_published
    finally:
        api.delete_repo(repo_id, repo_type="dataset", missing_ok=True)


def test_changed_files_are_reuploaded_even_with_the_same_size(release_dir: Path, mini_release: Path,
                                                              fake_hub, tmp_path: Path):
    publish(release_dir, REPO_ID, api=fake_hub)
    # v2.0.0: one interval record changed in place (same path on the Hub, other bytes)
    path = mini_release / fmt.INTERVALS_PATH
    rows = pq.read_table(path).to_pylist()
    rows[0]["onset"] += 1
    pq.write_table(pa.Table.from_pylist(rows, schema=fmt.schema_for("intervals")), path)
    add_files(mini_release, [fmt.INTERVALS_PATH])
    v2 = make_release(mini_release, "2.0.0", previous=release_dir, out=tmp_path / "v2").release
    fake_hub.uploaded.clear()
    publish(v2, REPO_ID, api=fake_hub)
    assert fmt.INTERVALS_PATH in fake_hub.uploaded
    head = fake_hub.files_at(REPO_ID, "v2.0.0")
    assert {k: v for k, v in head.items() if k != ".gitattributes"} == _expected(v2)
    # the comparison itself: same path and size but another sha256 is not "already there"
    local = pub.LocalFile("x.parquet", 4, "a" * 64)
    same_size = RepoFile(path="x.parquet", size=4, oid="0" * 40, lfs={"size": 4, "oid": "b" * 64, "pointerSize": 1})
    assert not pub._matches(v2, local, same_size)
    assert pub._matches(v2, local, RepoFile(path="x.parquet", size=4, oid="0" * 40,
                                            lfs={"size": 4, "oid": "a" * 64, "pointerSize": 1}))

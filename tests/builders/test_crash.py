"""Crash safety (SIGKILL at several points, then --resume) and torchrun: byte-identical releases."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.format import verify

REPO = Path(__file__).resolve().parents[2]


def _args(corpus, out: Path) -> list[str]:
    """A tiny build: one source video × 2 references, 64×64 frames, parts of 60 frames (5 per video)."""
    return ["build", "--source-root", str(corpus.frames_root), "--references", str(corpus.references_csv),
            "--subjects", str(corpus.subjects_csv), "--annotations", str(corpus.annotations),
            "--refs-per-subject", "2", "--format", "both", "--max-part-frames", "60", "--image-size", "64",
            "--face-samples", "3", "--videos", "006_1", "--no-progress", "--out", str(out)]


def _tree(release: Path) -> dict[str, str]:
    """sha256 of every release file (the build state in .build/ excluded)."""
    return {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*")) if p.is_file() and not p.relative_to(release).parts[0] == ".build"}


def _subprocess(args: list[str], env_extra: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "samm_synth_dataset.cli", "-q", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def reference(demo_corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("crash") / "uninterrupted"
    assert main(_args(demo_corpus, out)) == 0
    tree = _tree(out)
    assert len([p for p in tree if p.endswith(".parquet") and "frames" in p]) == 10
    return tree


@pytest.mark.slow
@pytest.mark.parametrize("kill", [
    {"SAMM_SYNTH_KILL_AT": "build:prepare"},    # folders made, no plan yet: nothing built
    {"SAMM_SYNTH_KILL_AT": "build:parts:3"},    # after a part's files, mid-video
    {"SAMM_SYNTH_KILL_AT": "build:frames:150"},  # mid-part: temp files open
    {"SAMM_SYNTH_KILL_AT": "build:tasks:1"},    # right after the first video's task folder was published
    {"SAMM_SYNTH_KILL_AT": "build:tables"},     # parts moved in, tables written, manifest still 'building'
    {"SAMM_SYNTH_KILL_AT": "build:commit"},     # card written, manifest not yet complete
])
def test_sigkill_then_resume_is_byte_identical(demo_corpus, reference: dict[str, str], tmp_path: Path,
                                               kill: dict[str, str]) -> None:
    out = tmp_path / "release"
    proc = _subprocess(_args(demo_corpus, out), kill)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    # a killed build is never mistaken for a complete one
    with pytest.raises(fmt.ReleaseError):
        fmt.read_manifest(out)
    # without --resume the folder is refused
    with pytest.raises(ValueError, match="--resume"):
        _build(_args(demo_corpus, out))
    assert main(_args(demo_corpus, out) + ["--resume"]) == 0
    assert _tree(out) == reference
    assert verify(out).ok


def _build(args: list[str]):
    """``build`` in this process from CLI arguments (exceptions propagate, unlike ``cli.main``)."""
    from samm_synth_dataset.builders.commands import _config_from_args
    from samm_synth_dataset.builders.pipeline import build
    from samm_synth_dataset.cli import build_parser

    return build(_config_from_args(build_parser().parse_args(args)))


def test_resume_redoes_a_corrupted_part_and_refuses_other_settings(demo_corpus, reference: dict[str, str],
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "release"
    assert main(_args(demo_corpus, out)) == 0
    part = sorted((out / fmt.WDS_DIR).glob("*.tar"))[-1]
    part.write_bytes(part.read_bytes()[:-1000])  # truncated after the build
    (out / fmt.MANIFEST).unlink()
    assert main(_args(demo_corpus, out) + ["--resume"]) == 0
    assert _tree(out) == reference
    other = _args(demo_corpus, out) + ["--resume"]
    other[other.index("--max-part-frames") + 1] = "70"
    assert main(other) == 1  # "different settings": refused, nothing touched
    assert _tree(out) == reference


def test_resume_refuses_changed_input_files(demo_corpus, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A resumed build must not mix units made from an old annotation sheet or reference with new ones."""
    import dataclasses

    sheet = tmp_path / "sheet.xlsx"
    shutil.copy(demo_corpus.annotations, sheet)
    copy = dataclasses.replace(demo_corpus, annotations=sheet)
    out = tmp_path / "release"
    args = _args(copy, out)
    assert main(args) == 0
    (out / fmt.MANIFEST).unlink()
    sheet.write_bytes(sheet.read_bytes() + b"\0")  # any change to the sheet's bytes
    capsys.readouterr()
    assert main(args + ["--resume"]) == 1
    assert "input files changed" in capsys.readouterr().err


def test_failed_unit_keeps_release_unfinished_until_fixed(demo_corpus, reference: dict[str, str],
                                                          tmp_path: Path) -> None:
    corpus_root = tmp_path / "corpus"
    shutil.copytree(demo_corpus.root, corpus_root)
    frames_root = corpus_root / "SAMM_longvideos"
    victim = sorted((frames_root / "006_1").glob("*.jpg"))[100]
    good = victim.read_bytes()
    victim.write_bytes(good[:200])  # truncated JPEG
    args = _args(demo_corpus, tmp_path / "release")
    args[args.index("--source-root") + 1] = str(frames_root)
    for flag, name in (("--references", "references.csv"), ("--subjects", "subjects.csv"),
                       ("--annotations", demo_corpus.annotations.name)):
        args[args.index(flag) + 1] = str(corpus_root / name)
    summary = _build(args)
    assert not summary.complete and len(summary.failed) == 2
    assert all(victim.name in reason for _, reason in summary.failed)
    with pytest.raises(fmt.ReleaseError, match="building"):
        fmt.read_manifest(tmp_path / "release")
    victim.write_bytes(good)
    summary = _build(args + ["--resume"])
    assert summary.complete and not summary.failed


@pytest.mark.slow
def test_torchrun_two_gloo_processes_give_the_same_bytes(demo_corpus, reference: dict[str, str],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "release"
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "samm_synth_dataset.cli", "-q",
           *_args(demo_corpus, out)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(out) == reference
    # each rank wrote one of the two synthetic videos
    assert fmt.read_manifest(out)["summary"]["videos"] == 2

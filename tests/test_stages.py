"""``stages.Stage`` in one process: tasks run once and are reused, failures are named and leave the release as it
was, the commit lists the files in one manifest write, and an interrupted commit is rejected by ``verify``
until the stage is run again. (Worker processes and torchrun ranks: tests/metrics/test_au_export.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.stages import Stage, StageError, Task, TaskDirs, default_workers, release_digest

RERUN = "samm-synth demo-stage REL"


@pytest.fixture
def release(tiny_release: Path, tmp_path: Path) -> Path:
    """A copy of a real (builder-made) release, plus one more listed file."""
    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    fmt.atomic_write_text(release / "data" / "notes.txt", "hello\n")
    fmt.add_files(release, ["data/notes.txt"])
    return release


CALLS: list[str] = []


def _square(task: Task, dirs: TaskDirs) -> None:
    CALLS.append(task.id)
    if task.args < 0:
        dirs.log.write_text("negative input\n")
        raise ValueError(f"cannot square {task.args} here")
    (dirs.out / "square.txt").write_text(str(task.args ** 2))


def _tasks(values: list[int]) -> list[Task]:
    return [Task(f"v{i}", weight=abs(v) + 1, args=v) for i, v in enumerate(values)]


def test_run_does_each_task_once_and_reuses_results_of_the_same_settings(release: Path) -> None:
    CALLS.clear()
    with Stage(release, "demo", rerun=RERUN, workers=1, progress=False) as stage:
        done = stage.run("squares", _tasks([1, 2, 3]), _square, {"k": 1})
        assert {k: (v / "square.txt").read_text() for k, v in done.items()} == {"v0": "1", "v1": "4", "v2": "9"}
        assert CALLS == ["v0", "v1", "v2"]
        stage.run("squares", _tasks([1, 2, 3]), _square, {"k": 1})
        assert CALLS == ["v0", "v1", "v2"]                          # all reused
        stage.run("squares", _tasks([1, 2, 3]), _square, {"k": 2})
        assert CALLS == ["v0", "v1", "v2"] * 2                      # other settings: started over
    with pytest.raises(ValueError, match="not a safe file name"):
        Stage(release, "demo", rerun=RERUN, workers=1).run("squares", [Task("../x")], _square, {})
    with pytest.raises(ValueError, match="not unique"):
        Stage(release, "demo", rerun=RERUN, workers=1).run("squares", [Task("a"), Task("a")], _square, {})


def test_a_failed_task_is_named_the_others_kept_and_the_release_unchanged(release: Path) -> None:
    manifest = (release / fmt.MANIFEST).read_bytes()
    CALLS.clear()
    stage = Stage(release, "demo", rerun=RERUN, workers=1, progress=False)
    with pytest.raises(StageError) as err:
        stage.run("squares", _tasks([1, -2, 3]), _square, {})
    message = str(err.value)
    assert "v1: ValueError: cannot square -2 here" in message and f"re-run `{RERUN}`" in message
    assert "The release is unchanged" in message and "demo/squares/logs/v1.log" in message
    assert (release / fmt.MANIFEST).read_bytes() == manifest
    report = fmt.verify(release)
    assert report.ok and any("unfinished work of the demo stage" in w for w in report.warnings)
    assert err.value.failures == {"v1": (release / fmt.STAGES_DIR / "demo" / "squares" / "failed" /
                                         "v1.txt").read_text()}                # recorded for every rank to read
    assert "cannot square -2 here" in err.value.failures["v1"]
    CALLS.clear()
    done = stage.run("squares", _tasks([1, 2, 3]), _square, {})   # the cause fixed: only v1 is done again
    assert CALLS == ["v1"] and (done["v1"] / "square.txt").read_text() == "4"
    assert not (release / fmt.STAGES_DIR / "demo" / "squares" / "failed" / "v1.txt").exists()


class Counter:
    """A per-process context: counts how often it was made and closed."""

    made = 0
    closed = 0

    def __init__(self) -> None:
        Counter.made += 1
        self.seen: list[str] = []

    def close(self) -> None:
        Counter.closed += 1


def _with_context(task: Task, dirs: TaskDirs) -> None:
    dirs.context.seen.append(task.id)
    dirs.advance(task.weight)
    (dirs.out / "seen.txt").write_text(",".join(dirs.context.seen))


def test_a_context_is_made_once_per_process_and_closed_after_the_run(release: Path) -> None:
    """The build loads its transfer model once per rank: the part's context is made on first use, every task of
    this process gets the same one, and the run closes it."""
    Counter.made = Counter.closed = 0
    with Stage(release, "demo", rerun=RERUN, workers=1, progress=False, weighted=True) as stage:
        done = stage.run("ctx", _tasks([1, 2, 3]), _with_context, {}, context=Counter)
        assert (Counter.made, Counter.closed) == (1, 1)
        assert (done["v2"] / "seen.txt").read_text() == "v0,v1,v2"
        stage.run("ctx", _tasks([1, 2, 3]), _with_context, {}, context=Counter)
        assert Counter.made == 1                                      # nothing to do: no context made


SCRIPT_WITH_CONTEXT = '''
import os
import sys
from samm_synth_dataset.stages import Stage, Task


def pid_task(task, dirs):
    assert dirs.context == os.getpid()  # made in this worker, not pickled from the parent
    (dirs.out / "pid.txt").write_text(str(dirs.context))


if __name__ == "__main__":
    with Stage(sys.argv[1], "demo", rerun="-", workers=2, progress=False) as stage:
        done = stage.run("pids", [Task(f"t{i}") for i in range(4)], pid_task, {}, context=os.getpid)
    print(os.getpid(), *sorted({(folder / "pid.txt").read_text() for folder in done.values()}))
'''


def test_workers_make_their_own_context(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "context_script.py"
    script.write_text(SCRIPT_WITH_CONTEXT)
    (tmp_path / "out").mkdir()
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    parent, *workers = proc.stdout.split()
    assert parent not in workers and 1 <= len(workers) <= 2


def test_commit_lists_the_files_replaces_the_folder_and_clears_the_staging(release: Path) -> None:
    stray = release / "data" / "squares" / "old.txt"               # e.g. left by an older, failed run
    fmt.atomic_write_text(stray, "stale")
    with Stage(release, "demo", rerun=RERUN, workers=1, progress=False) as stage:
        done = stage.run("squares", _tasks([2, 3]), _square, {})
        stage.commit({f"data/squares/{k}.txt": v / "square.txt" for k, v in done.items()},
                     replace_folder="data/squares")
    manifest = fmt.read_manifest(release)
    listed = [f["path"] for f in manifest["files"]]
    assert [p for p in listed if p.startswith("data/notes") or p.startswith("data/squares")] == [
        "data/notes.txt", "data/squares/v0.txt", "data/squares/v1.txt"]
    assert fmt.PENDING not in manifest and manifest["summary"]["files"] == len(listed)
    assert not stray.exists() and (release / "data/squares/v1.txt").read_text() == "9"
    assert not (release / fmt.STAGES_DIR / "demo").exists()
    assert fmt.verify(release).ok and not fmt.verify(release).warnings


def test_verify_rejects_a_release_whose_stage_stopped_while_committing(release: Path) -> None:
    fmt.begin_stage(release, "aus", "samm-synth aus /data/rel --workers 4")
    report = fmt.verify(release)
    assert not report.ok
    assert report.problems == ["manifest.json: the aus stage stopped while adding its files to the release; "
                               "finish it: `samm-synth aus /data/rel --workers 4`"]
    fmt.add_files(release, ["data/notes.txt"], finish_stage="aus")
    assert fmt.verify(release).ok and fmt.PENDING not in fmt.read_manifest(release)


def test_release_digest_follows_the_frames_and_tables_only(tmp_path: Path) -> None:
    files = [{"path": "data/frames/a-00000.parquet", "sha256": "1"}, {"path": fmt.VIDEOS_PATH, "sha256": "2"},
             {"path": "quality/report.json", "sha256": "3"}]
    base = release_digest({"files": files})
    assert release_digest({"files": files[:2]}) == base                       # a report does not count
    assert release_digest({"files": [{**files[0], "sha256": "9"}] + files[1:]}) != base
    assert default_workers() >= 1


SCRIPT_WITHOUT_MAIN_GUARD = '''
import sys
from samm_synth_dataset.stages import Stage, Task

def noop(task, dirs):
    (dirs.out / "x").write_text("x")

with Stage(sys.argv[1], "demo", rerun="-", workers=2, progress=False) as stage:
    stage.run("noop", [Task("a"), Task("b")], noop, {})
'''


def test_a_script_without_the_main_guard_is_told_why_its_workers_died(tmp_path: Path) -> None:
    """Workers are spawned and import the main module: a script that starts a stage at its top level starts it
    again in every worker, which fails; the stage's error says what to change."""
    import subprocess
    import sys

    script = tmp_path / "stage_script.py"
    script.write_text(SCRIPT_WITHOUT_MAIN_GUARD)
    (tmp_path / "out").mkdir()
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert "StageError" in proc.stderr and 'if __name__ == "__main__":' in proc.stderr, proc.stderr[-3000:]
    assert "a worker process died" in proc.stderr


HOLD_LOCK = '''
import sys, time
from samm_synth_dataset import format as fmt

with fmt.FolderLock(sys.argv[1], "samm-synth aus REL (a test holding the lock)"):
    print("locked", flush=True)
    time.sleep(60)
'''


def test_a_second_writer_is_refused_naming_the_first_and_a_killed_one_leaves_no_lock(release: Path, capsys) -> None:
    """Issue 24 item 11: two writing commands on one folder used to wedge it. Every writing command takes the
    folder's lock: the second one stops at once with one line naming the first (pid and command) and changes
    nothing; after the first is killed (-9), the same command runs (the operating system dropped the lock)."""
    import subprocess
    import sys

    from samm_synth_dataset.cli import main

    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(release)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        manifest = (release / fmt.MANIFEST).read_bytes()
        for argv in (["report", str(release)], ["release", str(release), "--version", "1.0.0"]):
            assert main(argv) == 1
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1, err
            assert f"pid {holder.pid}" in err and "a test holding the lock" in err and "wait for it" in err
        assert (release / fmt.MANIFEST).read_bytes() == manifest
    finally:
        holder.kill()
        holder.wait()
    with Stage(release, "demo", rerun=RERUN, workers=1, progress=False) as stage:  # the lock is free again
        assert stage.run("squares", _tasks([2]), _square, {})["v0"].is_dir()

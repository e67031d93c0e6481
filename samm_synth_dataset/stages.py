"""The one engine of per-video work (the build, ``aus``, the report's measures, the spotting benchmark): tasks run
by worker processes on one machine and torchrun ranks across machines, and an all-or-nothing commit. One run::

    from samm_synth_dataset.stages import Stage, Task, TaskDirs

    def measure(task: Task, dirs: TaskDirs) -> None:       # module level (worker processes import it)
        video = task.args                                  # anything picklable
        ...                                                # large temporary files: dirs.scratch
        (dirs.out / "result.json").write_text(...)         # the task's result files: dirs.out
                                                           # a subprocess's output: dirs.log
    with Stage(release, "identity", rerun="samm-synth report REL", workers=None) as stage:
        tasks = [Task(video, weight=n_frames, args=video) for video, n_frames in ...]
        done = stage.run("descriptors", tasks, measure, settings={"model": ..., "step": 4})
        # every rank: done[task.id] is that task's result folder (a shared file system across nodes)
        if stage.is_main:
            ...                                            # read the results in task order, write the outputs
            stage.commit({"quality/identity.json": path_of_the_output})   # into the release, all or nothing

``Stage.run(part, tasks, fn, settings)``: each rank takes ``distributed.assign(tasks, weights)`` (the build's
deterministic split; one process = every task), skips the tasks already done by an earlier run with the same
``settings``, and runs the rest with ``fn`` in ``workers`` processes (default :func:`default_workers`; 1 = in this
process). The workers (one pool per ``Stage``, shared by its runs, closed on exit and before a commit) are
spawned with OpenMP/BLAS/OpenCV threads capped to their share of the cores (subprocesses such as OpenFace inherit
the caps) and exit when their parent dies; ``fn`` and ``Task.args`` must therefore be importable and picklable
(keep ``fn``'s module light: every worker imports it). A task's result folder appears whole or not at all
(written under a temporary name, fsynced, renamed to ``.build/stages/<stage>/<part>/done/<task id>/``). One
progress bar per rank; the log names the rank and worker of each task. A task that raises is reported with its
error (and its log file), the others still run, and after a barrier every rank raises :class:`StageError`; a
killed worker or rank leaves the tasks done so far, and re-running the same command does only the rest. Other
``settings`` (or other release frames) start the part over. Results must depend only on the task, never on the
worker count, rank or thread count (e.g. sum with numpy, not BLAS dot products, whose rounding follows threads).
A failed task's error is kept in ``<part>/failed/<task id>.txt`` (until it is tried again), so every rank's
:class:`StageError` lists the failures of all ranks (``StageError.failures``).

``Stage.commit(files, replace_folder)``, on the main rank: writes a ``pending`` entry into ``manifest.json``
(``verify`` rejects the release while it is there, naming ``rerun``), moves the files into the release, removes
the files of ``replace_folder`` that are not among them, then lists the files and drops the entry in one atomic
manifest write, and deletes the stage's staging folder. A run that fails or is killed before the commit leaves
the release exactly as it was (its work stays under ``.build/stages/``, which releases never include); one killed
during the commit leaves a release that ``verify`` rejects until the same command is re-run.

Per-process context: ``run(..., context=factory)`` calls ``factory()`` once in each process that runs tasks of
that part (this process, or each worker; ``factory`` must then be picklable) and hands the result to every task as
``dirs.context`` (e.g. the build's transfer model, loaded once per rank); an in-process context with a ``close()``
is closed when the run ends. ``dirs.advance(n)`` moves this rank's progress bar by ``n`` units while the task runs
(in this process only; with ``weighted=True`` the bar counts task weights, e.g. frames). Fault injection
(``faults``): ``<stage>:tasks:N`` after N tasks of a process, ``<stage>:commit`` before the manifest lists files.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from tqdm.auto import tqdm

from samm_synth_dataset import __version__, format as fmt
from samm_synth_dataset.distributed import DistInfo, Group, assign, dist_info
from samm_synth_dataset.faults import kill_point

log = logging.getLogger(__name__)

#: Environment variables that cap the threads of OpenMP, BLAS and OpenCV (in workers and their subprocesses).
THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "OPENCV_FOR_THREADS_NUM", "NUMEXPR_NUM_THREADS")
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class StageError(RuntimeError):
    """A stage did not finish; the message names the failed tasks, their errors and how to finish.
    ``failures``: task id -> error of every failed task (all ranks)."""

    def __init__(self, message: str, failures: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.failures = dict(failures or {})


@dataclass(frozen=True)
class Task:
    """One unit of a stage: ``id`` (letters, digits, ``._-``; unique in the run, usually the video id),
    ``weight`` (its cost, e.g. frames; balances the ranks) and ``args`` (picklable, for the task function)."""

    id: str
    weight: int = 1
    args: Any = None


def _no_progress(_n: int) -> None:
    return None


@dataclass(frozen=True)
class TaskDirs:
    """Where a task writes: ``out`` (its result files; becomes the task's result folder when it returns),
    ``scratch`` (temporary files, deleted afterwards unless kept) and ``log`` (a file kept after failures); with
    them the process's ``context`` (see ``Stage.run``; None without) and ``advance(n)``, which moves the progress
    bar by ``n`` units while the task runs (a no-op in worker processes)."""

    out: Path
    scratch: Path
    log: Path
    context: Any = None
    advance: Callable[[int], None] = _no_progress


TaskFn = Callable[[Task, TaskDirs], None]


#: Added to the error of a task lost with its pool when no task of the pool had finished.
NO_WORKER_HINT = ("; no task had finished, so the workers may not have started: a script that runs a stage must "
                  "start it under `if __name__ == \"__main__\":` (workers are spawned and import the main module; "
                  "their error is printed above)")

#: The ``--workers`` help of every command that runs a stage.
WORKERS_HELP = ("worker processes per machine (per torchrun rank); default: the cores this process may use, "
                "shared among the ranks of the machine. Under torchrun each rank takes its share of the videos")


def cores() -> int:
    """CPU cores this process may use (its affinity mask, e.g. a SLURM allocation)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Worker processes per rank by default: this process's cores shared among the ranks of this machine
    (``LOCAL_WORLD_SIZE`` under torchrun), at least 1."""
    local = os.environ.get("LOCAL_WORLD_SIZE", "")
    return max(1, cores() // (int(local) if local.isdigit() and int(local) > 0 else 1))


def thread_env(threads: int) -> dict[str, str]:
    """The :data:`THREAD_VARIABLES` set to ``threads`` (for a subprocess's environment)."""
    return {name: str(max(1, threads)) for name in THREAD_VARIABLES}


def release_digest(manifest: Mapping[str, Any]) -> str:
    """sha256 of the manifest's entries of the frames and the videos and intervals tables: a stage's results
    are reused only for the same release content."""
    keep = [f for f in manifest.get("files", []) if f["path"].startswith(fmt.FRAMES_DIR + "/")
            or f["path"] in (fmt.VIDEOS_PATH, fmt.INTERVALS_PATH)]
    return hashlib.sha256(fmt.dumps_json(sorted(keep, key=lambda f: f["path"]))).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Running one task (in this process or in a worker)

_WORKER = {"number": 0}


def _exit_with_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (a killed rank leaves no orphans)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(numbers: Any, threads: int) -> None:
    """Pool initializer: take a worker number, cap OpenCV's (and torch's, when loaded) threads, and watch the
    parent."""
    _WORKER["number"] = numbers.get()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass
    if "torch" in sys.modules:  # else torch reads OMP_NUM_THREADS when a task imports it
        sys.modules["torch"].set_num_threads(threads)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fmt.fsync_dir(folder)


#: The contexts of a worker process, by stage part (one pool serves one ``Stage``).
_CONTEXTS: dict[str, Any] = {}


def _context(key: str, factory: Callable[[], Any] | None, cache: dict[str, Any] | None) -> Any:
    """The process's context of a part: ``factory()`` on first use (None without a factory)."""
    if factory is None:
        return None
    contexts = _CONTEXTS if cache is None else cache
    if key not in contexts:
        contexts[key] = factory()
    return contexts[key]


def _run_task(stage: str, fn: TaskFn, task: Task, folder: Path, scratch_root: Path | None,
              keep_scratch: bool, factory: Callable[[], Any] | None = None, cache: dict[str, Any] | None = None,
              advance: Callable[[int], None] = _no_progress) -> tuple[str, int, float, str | None]:
    """Run ``fn`` on ``task`` and publish its result folder; (task id, worker, seconds, error or None). A failure
    is also recorded in ``<part>/failed/<task id>.txt`` (removed when the task succeeds)."""
    t0 = time.perf_counter()
    worker = _WORKER["number"]
    tmp = folder / "tmp" / f"{task.id}.{os.getpid()}"
    done = folder / "done" / task.id
    failed = folder / "failed" / f"{task.id}.txt"
    logfile = folder / "logs" / f"{task.id}.log"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    if scratch_root is not None:
        scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{stage}-{task.id}-", dir=scratch_root))
    try:
        context = _context(folder.name, factory, cache)
        fn(task, TaskDirs(tmp, scratch, logfile, context, advance))
        _fsync_tree(tmp)
        if done.exists():
            shutil.rmtree(done)
        done.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, done)
        fmt.fsync_dir(done.parent)
        failed.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - reported per task, the other tasks go on
        log.debug("task %s failed", task.id, exc_info=True)
        shutil.rmtree(tmp, ignore_errors=True)
        error = f"{type(exc).__name__}: {exc}" if str(exc) else "".join(traceback.format_exception(exc))[-2000:]
        if logfile.is_file() and logfile.stat().st_size and str(logfile) not in error:
            error += f" (log: {logfile})"
        fmt.atomic_write_bytes(failed, error.encode())
        return task.id, worker, time.perf_counter() - t0, error
    finally:
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    kill_point(stage, "tasks")
    return task.id, worker, time.perf_counter() - t0, None


# --------------------------------------------------------------------------------------------------------------
# A stage


class Stage:
    """A stage of per-video work on a release folder (see the module docstring): the build, and the stages that
    add files to a complete release. Use as a context manager (it opens the gloo group under torchrun).

    ``name``: the staging folder ``.build/stages/<name>/`` and the manifest's ``pending`` key; ``rerun``: the
    command that finishes the stage (shown by errors and by ``verify``); ``workers``: processes per rank (None =
    :func:`default_workers`); ``scratch``: the folder for the tasks' temporary files (None = the system's temp
    folder), kept when ``keep_scratch``; ``unit``: the progress bar's unit, counted per task, or per unit of task
    weight when ``weighted``; ``timeout_hours``: the torchrun barrier timeout.
    """

    def __init__(self, release: str | Path, name: str, rerun: str, workers: int | None = None,
                 progress: bool = True, scratch: str | Path | None = None, keep_scratch: bool = False,
                 unit: str = "video", info: DistInfo | None = None, weighted: bool = False,
                 timeout_hours: float = 72.0) -> None:
        if not _TASK_ID.fullmatch(name):
            raise ValueError(f"stage name {name!r}: use letters, digits, '.', '_' and '-'")
        if workers is not None and workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        self.release = Path(release)
        self.name = name
        self.rerun = rerun
        self.workers = workers or default_workers()
        self.progress = progress
        self.scratch = Path(scratch) if scratch else None
        self.keep_scratch = keep_scratch
        self.unit = unit
        self.weighted = weighted
        self.info = info or dist_info()
        self.root = self.release / fmt.STAGES_DIR / name
        self.group = Group(self.info, timeout_hours)
        self._contexts: dict[str, Any] = {}
        self._lock = fmt.FolderLock(self.release, f"{name} stage ({rerun})")
        self._pool: ProcessPoolExecutor | None = None
        self._saved_env: dict[str, str | None] = {}
        self._entered = False

    @property
    def is_main(self) -> bool:
        return self.info.is_main

    def __enter__(self) -> Stage:
        self.group.__enter__()
        error: Exception | None = None
        if self.is_main:  # one writer per folder: the main rank holds its lock for the whole stage
            try:
                self._lock.__enter__()
            except fmt.FolderBusyError as exc:
                error = exc
        if not self.group.all_ok(error is None):
            self.group.__exit__(None, None, None)
            raise error or fmt.FolderBusyError(f"{self.release}: another command is writing this folder (see the "
                                               "main rank's error)")
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._entered = False
        self._close_pool()
        if self.is_main:
            self._lock.__exit__(*exc)
        self.group.__exit__(*exc)

    def _open_pool(self) -> ProcessPoolExecutor:
        """The worker processes (one pool for all the runs of this stage): spawned, so they start with the thread
        caps in their environment (OpenMP/BLAS read them on import; OpenFace and other subprocesses inherit
        them); each takes a worker number."""
        if self._pool is None:
            context = mp.get_context("spawn")
            numbers = context.SimpleQueue()
            for i in range(self.workers):
                numbers.put(i)
            local = os.environ.get("LOCAL_WORLD_SIZE", "")
            threads = max(1, cores() // (self.workers * (int(local) if local.isdigit() and int(local) else 1)))
            self._saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
            os.environ.update(thread_env(threads))  # while the pool lives: workers may start on demand
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                             initargs=(numbers, threads))
        return self._pool

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _where(self) -> str:
        return f"rank {self.info.rank}/{self.info.world_size}" if self.info.distributed else "this process"

    def part_folder(self, part: str) -> Path:
        """The staging folder of ``part``: ``done/<task id>/`` holds each finished task's result folder."""
        return self.root / part

    def run(self, part: str, tasks: Sequence[Task], fn: TaskFn, settings: Mapping[str, Any],
            context: Callable[[], Any] | None = None, unit: str | None = None) -> dict[str, Path]:
        """Run ``fn`` on every task (this rank's share, in parallel); return ``task id -> result folder`` for
        ALL tasks (every rank's), after a barrier. ``context``: a factory called once per process that runs
        tasks; its result reaches every task as ``dirs.context``. ``unit``: the progress bar's unit for this part
        (default the stage's). Raises StageError when a task failed on any rank."""
        if not _TASK_ID.fullmatch(part):
            raise ValueError(f"stage part {part!r}: use letters, digits, '.', '_' and '-'")
        ids = [t.id for t in tasks]
        bad = [i for i in ids if not _TASK_ID.fullmatch(i)]
        if bad:
            raise ValueError(f"{self.name}: task id {bad[0]!r} is not a safe file name (letters, digits, '._-')")
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: task ids are not unique")
        folder = self.root / part
        want = fmt.dumps_json({"stage": self.name, "part": part, "package": __version__,
                               "settings": dict(settings)})
        if self.is_main:
            marker = folder / "settings.json"
            if folder.exists() and (not marker.is_file() or marker.read_bytes() != want):
                log.info("%s/%s: earlier results were made with other settings; starting over", self.name, part)
                shutil.rmtree(folder)
            fmt.atomic_write_bytes(marker, want)
        self.group.barrier()
        mine = assign(list(tasks), [t.weight for t in tasks], self.info.rank, self.info.world_size)
        todo = [t for t in mine if not (folder / "done" / t.id).is_dir()]
        if len(todo) < len(mine):
            log.info("%s/%s on %s: %d of %d tasks done by an earlier run", self.name, part, self._where(),
                     len(mine) - len(todo), len(mine))
        try:
            failures = self._execute(part, folder, todo, fn, context, unit or self.unit)
        finally:
            self._close_contexts()
        if not self.group.all_ok(not failures):
            here = ("; ".join(f"{k}: {v}" for k, v in failures.items()) if failures
                    else "this rank's tasks finished, another rank's failed (see its log)")
            everywhere = {t.id: (folder / "failed" / f"{t.id}.txt").read_text(errors="replace") for t in tasks
                          if (folder / "failed" / f"{t.id}.txt").is_file()}
            raise StageError(f"{self.name}: {len(failures)} of {len(mine)} tasks failed on {self._where()}: "
                             f"{here}. The release is unchanged; the finished tasks are kept in {folder}; fix "
                             f"the cause and re-run `{self.rerun}` to do the rest", {**everywhere, **failures})
        missing = [t.id for t in tasks if not (folder / "done" / t.id).is_dir()]
        if missing:
            raise StageError(f"{self.name}: no result for {len(missing)} tasks (first: {missing[0]}) in {folder}; "
                             f"is {fmt.BUILD_DIR} on a file system every rank shares? Re-run `{self.rerun}`")
        return {t.id: folder / "done" / t.id for t in tasks}

    def _close_contexts(self) -> None:
        for context in self._contexts.values():
            close = getattr(context, "close", None)
            if callable(close):
                close()
        self._contexts.clear()

    def _execute(self, part: str, folder: Path, todo: list[Task], fn: TaskFn,
                 factory: Callable[[], Any] | None = None, unit: str = "video") -> dict[str, str]:
        """Run ``todo`` here; ``task id -> error`` of the failed ones."""
        failures: dict[str, str] = {}
        n = min(self.workers, len(todo))
        desc = f"{self.name} {part}" + (f" [rank {self.info.rank}]" if self.info.distributed else "")
        size = {t.id: t.weight if self.weighted else 1 for t in todo}
        bar = tqdm(total=sum(size.values()), desc=desc, unit=unit, disable=not self.progress or not todo,
                   dynamic_ncols=True)
        advanced = {"n": 0}

        def advance(k: int) -> None:  # in-process tasks move the bar as they go (weighted bars only)
            if self.weighted:
                advanced["n"] += k
                bar.update(k)

        def finished(task_id: str, worker: int, seconds: float, error: str | None) -> None:
            bar.update(max(0, size[task_id] - advanced["n"]))
            advanced["n"] = 0
            if error is None:
                log.info("%s/%s: %s done by %s, worker %d (%.1f s)", self.name, part, task_id, self._where(),
                         worker, seconds)
            else:
                failures[task_id] = error
                log.error("%s/%s: %s failed on %s, worker %d: %s", self.name, part, task_id, self._where(),
                          worker, error)

        try:
            if n <= 1:
                for task in todo:
                    bar.set_postfix_str(task.id)
                    finished(*_run_task(self.name, fn, task, folder, self.scratch, self.keep_scratch, factory,
                                        self._contexts, advance))
                return failures
            pool = self._open_pool()
            ok = [0]  # tasks finished by the pool: none when it breaks means the workers may never have started
            running: dict[Future, str] = {
                pool.submit(_run_task, self.name, fn, task, folder, self.scratch, self.keep_scratch,
                            factory): task.id
                for task in todo}
            while running:
                ready, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in ready:
                    task_id = running.pop(future)
                    try:
                        result = future.result()
                        ok[0] += result[3] is None
                        finished(*result)
                    except BrokenProcessPool:
                        if (folder / "done" / task_id).is_dir():  # published before its worker died
                            finished(task_id, -1, 0.0, None)
                        else:
                            failures[task_id] = ("a worker process died (killed, or out of memory) while this "
                                                 "task was running or waiting" + ("" if ok[0] else NO_WORKER_HINT))
                            bar.update(size[task_id])
        finally:
            bar.close()
            if failures or not self._entered:
                self._close_pool()  # a broken pool is not reused
        return failures

    def commit(self, files: Mapping[str, Path], replace_folder: str | None = None,
               update_manifest: bool = True, sections: dict[str, Any] | None = None) -> None:
        """Move ``files`` (release path -> staged file) into the release, all or nothing (see the module
        docstring); ``replace_folder``: afterwards that folder holds exactly the files of ``files`` under it
        (listed files no longer made and stray files are removed); ``sections``: top-level manifest keys written
        in the same manifest write (``format.add_files``). Main rank only."""
        if not self.is_main:
            raise RuntimeError("Stage.commit runs on the main rank only")
        self._close_pool()
        release = self.release
        manifest = fmt.read_manifest(release)
        if update_manifest:
            fmt.begin_stage(release, self.name, self.rerun)
        fmt.install_files(release, files)
        remove: list[str] = []
        if replace_folder:
            prefix = replace_folder.rstrip("/") + "/"
            listed = {f["path"] for f in manifest.get("files", [])}
            remove = sorted(p for p in listed if p.startswith(prefix) and p not in files)
            folder = release / replace_folder
            on_disk = ({p.relative_to(release).as_posix() for p in folder.rglob("*") if p.is_file()}
                       if folder.is_dir() else set())
            for rel in sorted((on_disk | set(remove)) - set(files)):
                (release / rel).unlink(missing_ok=True)
        kill_point(self.name, "commit")
        if update_manifest:
            fmt.add_files(release, sorted(files), remove=remove, finish_stage=self.name, sections=sections)
        shutil.rmtree(self.root, ignore_errors=True)
        log.info("%s: %d files added to %s", self.name, len(files), release)

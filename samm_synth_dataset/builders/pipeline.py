"""``build(config)``: source videos × references → a release (see ``samm_synth_dataset.format``).

The run: plan (:mod:`.plan`), check the output folder (the same plan, or refused), then every unit — one synthetic
video, a source video restyled by one reference, its frames streaming through decode, transfer and encode
(:mod:`.unit`, :mod:`.stream`) — is a task of the build's stage (``stages.Stage``, part ``units``): under torchrun
each rank builds its deterministic share, the transfer model is loaded once per rank (the stage's per-process
context), a unit's files appear whole or not at all, and a re-run (``--resume``) keeps the finished units. Rank 0
then finalizes (:mod:`.manifest`). Crash-test hooks: ``samm_synth_dataset.faults`` (stage ``build``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import finalize as mf
from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.builders.plan import (BUILD_LOG, PLAN, STAGE, UNIT_MARKER, UNITS_PART, Plan,
                                              check_output_folder, make_plan, resume_settings)
from samm_synth_dataset.builders.unit import UnitContext, build_task
from samm_synth_dataset.distributed import DistInfo, assign, dist_info
from samm_synth_dataset.faults import kill_point
from samm_synth_dataset.stages import Stage, StageError, Task
from samm_synth_dataset.transfer.engine import load_method, method_info

log = logging.getLogger(__name__)


@dataclass
class BuildSummary:
    """What a build did. ``complete`` is True when ``manifest.json`` says ``complete`` (on rank 0; other ranks
    report their own units). ``skipped``/``failed`` are ``(video, reason)`` pairs. ``missing_frames`` maps a
    built source video to the SOURCE frame numbers missing inside it (``allow_gaps``; absent from the release)."""

    release: Path
    videos: int = 0
    frames: int = 0
    parts: int = 0
    bytes: int = 0
    seconds: float = 0.0
    reused: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing_frames: dict[str, list[int]] = field(default_factory=dict)
    complete: bool = False
    already_complete: bool = False
    rank: int = 0
    world_size: int = 1

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        head = f"rank {self.rank}/{self.world_size}: " if self.world_size > 1 else ""
        if self.already_complete:
            return (f"{head}release {self.release}: already complete, nothing to do (--resume of a finished build "
                    f"changes nothing; files added by later stages are kept): videos {self.videos}, frames "
                    f"{self.frames}, {self.bytes / 1e6:.1f} MB")
        lines = [f"{head}release {self.release}: {'complete' if self.complete else 'NOT complete'}",
                 f"  videos {self.videos} ({self.reused} reused from an earlier run), frames {self.frames}, "
                 f"parts {self.parts}, {self.bytes / 1e6:.1f} MB, {self.seconds:.1f} s "
                 f"({self.frames_per_second:.1f} frames/s)"]
        for video, numbers in self.missing_frames.items():
            shown = ", ".join(str(n) for n in numbers[:20]) + (", …" if len(numbers) > 20 else "")
            lines.append(f"  gaps    {video}: {len(numbers)} source frame(s) missing, not in the release "
                         f"(allow_gaps): {shown}")
        for video, reason in self.skipped:
            lines.append(f"  skipped {video}: {reason}")
        for video, reason in self.failed:
            lines.append(f"  FAILED  {video}: {reason}")
        return "\n".join(lines)

    def count(self, marker: dict[str, Any]) -> None:
        """Add one built (or kept) unit, from its unit marker."""
        self.videos += 1
        self.frames += int(marker["frames"])
        self.parts += len(marker["parts"])
        self.bytes += sum(int(f["bytes"]) for p in marker["parts"] for f in p["files"])


def build(config: BuildConfig) -> BuildSummary:
    """Build (or, with ``config.resume``, continue) a release into ``config.out``; return the summary.

    Under torchrun (``WORLD_SIZE > 1``) each rank builds its own units and rank 0 finalizes after a gloo
    barrier. Raises ValueError/FileNotFoundError for bad inputs before any unit starts.
    """
    t0 = time.perf_counter()
    info = dist_info()
    release = Path(config.out)
    plan = make_plan(config)
    summary = BuildSummary(release=release, skipped=plan.skipped, rank=info.rank, world_size=info.world_size,
                           missing_frames=plan.missing_frames)
    if config.resume and _is_complete(release):
        return _already_complete(release, plan, summary)
    was_empty = not release.exists() or not any(release.iterdir())  # before the stage takes its lock in it
    with Stage(release, STAGE, rerun="the same `samm-synth build` command with --resume", workers=1,
               progress=config.progress, unit="frame", info=info, weighted=True,
               timeout_hours=config.dist_timeout_hours) as stage:
        prepared_ok = True
        if info.is_main:
            try:
                _prepare_release(config, plan, was_empty)
            except BaseException:
                prepared_ok = False
                if not info.distributed:
                    raise
                stage.group.all_ok(False)
                raise
        if not stage.group.all_ok(prepared_ok):
            raise RuntimeError(f"rank 0 could not prepare {release}; see its error")
        tasks = [Task(u.video, u.source.n_frames, u) for u in plan.units]
        mine = assign(tasks, [t.weight for t in tasks], info.rank, info.world_size)
        done_folder = stage.part_folder(UNITS_PART) / "done"
        kept = [t.id for t in mine if (done_folder / t.id).is_dir()]
        context = _open_context(config, plan, info) if len(kept) < len(mine) else None
        try:
            stage.run(UNITS_PART, tasks, build_task, resume_settings(plan.document),
                      context=None if context is None else (lambda: context))
        except StageError as exc:
            summary.failed = sorted(exc.failures.items())
            for video, reason in summary.failed:
                log.error("unit %s failed: %s", video, reason)
        finally:
            if context is not None:
                context.close()
        summary.reused = len(kept)
        for t in mine:
            if (done_folder / t.id / UNIT_MARKER).is_file():
                summary.count(mf.read_json(done_folder / t.id / UNIT_MARKER))
        stage.group.barrier()  # every rank has read its units before rank 0 moves them into the release
        error: BaseException | None = None
        if info.is_main and not summary.failed:
            try:
                _finish(release, summary)
            except BaseException as exc:  # re-raised after the other ranks are released from the barrier
                error = exc
        if info.is_main:
            summary.seconds = time.perf_counter() - t0
            _write_log(release, summary)
        stage.group.barrier()
        if error is not None:
            raise error
        if not info.is_main:
            try:
                summary.complete = fmt.read_manifest(release)["status"] == fmt.STATUS_COMPLETE
            except fmt.ReleaseError:
                summary.complete = False
    summary.seconds = time.perf_counter() - t0
    log.debug("%s", summary.format())
    return summary


def _is_complete(release: Path) -> bool:
    try:
        return fmt.read_manifest(release, require_complete=False).get("status") == fmt.STATUS_COMPLETE
    except fmt.ReleaseError:
        return False


def _already_complete(release: Path, plan: Plan, summary: BuildSummary) -> BuildSummary:
    """``--resume`` of a finished build: refuse changed inputs like any resume, else touch nothing (the card,
    splits, AU tracks and release block that later stages added stay as they are)."""
    check_output_folder(release, True, plan.document)
    counts = fmt.read_manifest(release)["summary"]
    summary.complete = summary.already_complete = True
    summary.videos, summary.frames = int(counts["videos"]), int(counts["frames"])
    summary.parts, summary.bytes = int(counts["parts"]), int(counts["bytes"])
    log.info("%s: already complete; nothing to do", release)
    return summary


def _prepare_release(config: BuildConfig, plan: Plan, was_empty: bool) -> None:
    """Rank 0: check the output folder, then write the plan and the 'building' manifest."""
    out = config.out
    check_output_folder(out, config.resume, plan.document, was_empty)
    out.mkdir(parents=True, exist_ok=True)
    (out / fmt.BUILD_DIR).mkdir(exist_ok=True)
    kill_point(STAGE, "prepare")
    fmt.atomic_write_json(out / PLAN, plan.document)
    mf.write_building_manifest(out, plan.document)


def _resolve_device(config: BuildConfig, info: DistInfo) -> str:
    if config.device != "auto":
        return config.device
    if not method_info(config.method).weights:
        return "cpu"  # no model: do not import torch
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda:{info.local_rank % max(1, torch.cuda.device_count())}"
    except ImportError:
        pass
    return "cpu"


def _open_context(config: BuildConfig, plan: Plan, info: DistInfo) -> UnitContext:
    """This rank's build context: the transfer method loaded once (bad checkpoints fail here, before any unit)."""
    device = _resolve_device(config, info)
    method = load_method(config.method, checkpoint=config.checkpoint, fan_checkpoint=config.fan_checkpoint,
                         device=device, batch_size=config.batch_size, image_size=config.image_size)
    if config.align_landmarks is not None and not method.has_landmarks:
        raise ValueError(f"{config.checkpoint}: --align-landmarks needs a FAN, and this checkpoint has none (pass "
                         "the official wing.ckpt as --fan-checkpoint)")
    return UnitContext(config, method, plan.annotations)


def _finish(release: Path, summary: BuildSummary) -> None:
    """Rank 0 after every rank is done and no unit failed: finalize."""
    manifest = mf.finalize(release)
    summary.complete = True
    summary.videos = manifest["summary"]["videos"]
    summary.frames = manifest["summary"]["frames"]
    summary.parts = manifest["summary"]["parts"]
    summary.bytes = manifest["summary"]["bytes"]


def _write_log(release: Path, summary: BuildSummary) -> None:
    """Timings and counts of the last run, in ``.build/build_log.json`` (not part of the release)."""
    data = {"finished_unix": time.time(), "seconds": round(summary.seconds, 3), "world_size": summary.world_size,
            "videos": summary.videos, "frames": summary.frames, "reused": summary.reused,
            "complete": summary.complete, "failed": [list(f) for f in summary.failed],
            "missing_frames": summary.missing_frames}
    (release / fmt.BUILD_DIR).mkdir(parents=True, exist_ok=True)
    (release / BUILD_LOG).write_bytes(fmt.dumps_json(data))

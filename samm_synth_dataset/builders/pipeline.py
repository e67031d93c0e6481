"""``build(config)``: source videos × references → a release (see ``samm_synth_dataset.format``).

The run, in stages: plan (:mod:`.plan`), check the output folder and keep what a resumed build verified
(:mod:`.resume`), build each unit — one synthetic video, a source video restyled by one reference — whose frames
stream through decode, transfer and encode (:mod:`.unit`, :mod:`.stream`), then finalize. Under torchrun every
rank builds a disjoint, deterministic set of units; rank 0 finalizes after a barrier. Crash-test hooks:
:mod:`.faults`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import manifest as mf
from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.builders.faults import KillSwitch, kill_point
from samm_synth_dataset.builders.plan import Plan, Unit, make_plan
from samm_synth_dataset.builders.resume import check_output_folder, split_done
from samm_synth_dataset.builders.stream import open_pools
from samm_synth_dataset.builders.unit import UnitContext, build_unit
from samm_synth_dataset.builders.writer import BUILD_DIR
from samm_synth_dataset.distributed import DistInfo, Group, assign, dist_info
from samm_synth_dataset.format import atomic_write_json, dumps_json
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
    kill = KillSwitch()
    plan = make_plan(config)
    summary = BuildSummary(release=release, skipped=plan.skipped, rank=info.rank, world_size=info.world_size,
                           missing_frames=plan.missing_frames)
    if config.resume and _is_complete(release):
        return _already_complete(release, plan, summary)
    with Group(info, config.dist_timeout_hours) as group:
        prepared_ok = True
        if info.is_main:
            try:
                _prepare_release(config, plan)
            except BaseException:
                prepared_ok = False
                if not info.distributed:
                    raise
                group.all_ok(False)
                raise
        if not group.all_ok(prepared_ok):
            raise RuntimeError(f"rank 0 could not prepare {release}; see its error")
        mine = assign(plan.units, [u.source.n_frames for u in plan.units], info.rank, info.world_size)
        todo, kept = split_done(release, mine, config.resume)
        for marker in kept:
            summary.reused += 1
            summary.count(marker)
        if todo:
            _run_units(config, todo, plan, kill, summary, info)
        group.barrier()
        error: BaseException | None = None
        if info.is_main:
            try:
                _finish(release, plan.units, summary)
            except BaseException as exc:  # re-raised after the other ranks are released from the barrier
                error = exc
            summary.seconds = time.perf_counter() - t0
            _write_log(release, summary)
        group.barrier()
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


def _prepare_release(config: BuildConfig, plan: Plan) -> None:
    """Rank 0: check the output folder, then write the plan and the 'building' manifest."""
    out = config.out
    check_output_folder(out, config.resume, plan.document)
    out.mkdir(parents=True, exist_ok=True)
    (out / BUILD_DIR).mkdir(exist_ok=True)
    kill_point("prepare", "folders")
    atomic_write_json(out / mf.PLAN, plan.document)
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


def _run_units(config: BuildConfig, todo: list[Unit], plan: Plan, kill: KillSwitch, summary: BuildSummary,
               info: DistInfo) -> None:
    """Load the transfer method and build ``todo`` in order; a unit that fails gets a failed marker and the
    others go on."""
    from tqdm.auto import tqdm

    release = summary.release
    device = _resolve_device(config, info)
    method = load_method(config.method, checkpoint=config.checkpoint, fan_checkpoint=config.fan_checkpoint,
                         device=device, batch_size=config.batch_size, image_size=config.image_size)
    if config.align_landmarks is not None and not method.has_landmarks:
        raise ValueError(f"{config.checkpoint}: --align-landmarks needs a FAN, and this checkpoint has none (pass "
                         "the official wing.ckpt as --fan-checkpoint)")
    total = sum(u.source.n_frames for u in todo)
    desc = f"build rank {info.rank}" if info.distributed else "build"
    with tqdm(total=total, unit="frame", desc=desc, disable=not config.progress, position=info.rank,
              dynamic_ncols=True) as progress, open_pools() as pools:
        ctx = UnitContext(config, method, plan.annotations, release, kill, progress, pools)
        for unit in todo:
            progress.set_postfix_str(unit.video)
            try:
                marker = build_unit(ctx, unit)
            except (MemoryError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - recorded per unit, reported in the summary
                reason = f"{type(exc).__name__}: {exc}"
                log.error("unit %s failed: %s", unit.video, reason)
                mf.remove_unit(release, unit.video)
                atomic_write_json(mf.failed_marker_path(release, unit.video), {"video": unit.video,
                                                                               "reason": reason})
                summary.failed.append((unit.video, reason))
                continue
            atomic_write_json(mf.unit_marker_path(release, unit.video), marker)
            summary.count(marker)
            kill.unit()


def _finish(release: Path, units: list[Unit], summary: BuildSummary) -> None:
    """Rank 0 after every rank is done: finalize unless a unit failed (then the manifest stays 'building')."""
    summary.failed = _failed_units(release, units)
    if summary.failed:
        return
    manifest = mf.finalize(release)
    summary.complete = True
    summary.videos = manifest["summary"]["videos"]
    summary.frames = manifest["summary"]["frames"]
    summary.parts = manifest["summary"]["parts"]
    summary.bytes = manifest["summary"]["bytes"]


def _failed_units(release: Path, units: list[Unit]) -> list[tuple[str, str]]:
    out = []
    for unit in units:
        p = mf.failed_marker_path(release, unit.video)
        if p.is_file():
            out.append((unit.video, str(mf.read_json(p).get("reason", "unknown"))))
        elif not mf.unit_marker_path(release, unit.video).is_file():
            out.append((unit.video, "not built (no unit marker)"))
    return out


def _write_log(release: Path, summary: BuildSummary) -> None:
    """Timings and counts of the last run, in ``.build/build_log.json`` (not part of the release)."""
    data = {"finished_unix": time.time(), "seconds": round(summary.seconds, 3), "world_size": summary.world_size,
            "videos": summary.videos, "frames": summary.frames, "reused": summary.reused,
            "complete": summary.complete, "failed": [list(f) for f in summary.failed],
            "missing_frames": summary.missing_frames}
    (release / BUILD_DIR).mkdir(parents=True, exist_ok=True)
    (release / mf.BUILD_LOG).write_bytes(dumps_json(data))

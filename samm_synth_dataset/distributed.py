"""Running one build over several processes with torchrun (or any launcher that sets the same variables).

``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` come from the environment; with ``WORLD_SIZE > 1`` a gloo process
group is initialised (``MASTER_ADDR``/``MASTER_PORT`` from torchrun) for barriers only: ranks exchange no data,
they write disjoint files into a folder every rank sees (a shared file system across nodes).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from exc


def dist_info() -> DistInfo:
    """Rank, world size and local rank from torchrun's environment (0, 1, 0 without torchrun)."""
    info = DistInfo(_env_int("RANK", 0), _env_int("WORLD_SIZE", 1), _env_int("LOCAL_RANK", 0))
    if not 0 <= info.rank < info.world_size:
        raise ValueError(f"RANK={info.rank} is outside 0..WORLD_SIZE-1 (WORLD_SIZE={info.world_size})")
    return info


class Group:
    """A gloo process group for barriers (a no-op for one process). Use as a context manager."""

    def __init__(self, info: DistInfo, timeout_hours: float = 72.0) -> None:
        self.info = info
        self.timeout = _dt.timedelta(hours=timeout_hours)
        self._owned = False

    def __enter__(self) -> "Group":
        if self.info.distributed:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("gloo", rank=self.info.rank, world_size=self.info.world_size,
                                        timeout=self.timeout)
                self._owned = True
        return self

    def barrier(self) -> None:
        if self.info.distributed:
            import torch.distributed as dist

            dist.barrier()

    def all_ok(self, ok: bool) -> bool:
        """True when ``ok`` is true on every rank (a barrier too)."""
        if not self.info.distributed:
            return ok
        import torch
        import torch.distributed as dist

        t = torch.tensor([0 if ok else 1], dtype=torch.int64)
        dist.all_reduce(t)
        return int(t.item()) == 0

    def __exit__(self, *exc: object) -> None:
        if self._owned:
            import torch.distributed as dist

            dist.destroy_process_group()
            self._owned = False


def assign(items: Sequence[T], weights: Sequence[int], rank: int, world_size: int) -> list[T]:
    """The items of ``rank``: a deterministic, disjoint, balanced split.

    Longest-first greedy: items sorted by (-weight, position) each go to the rank with the least total weight
    so far (ties to the lowest rank). The result keeps the input order. Depends only on the inputs.
    """
    if len(items) != len(weights):
        raise ValueError("assign: items and weights differ in length")
    loads = [0] * world_size
    owner = [0] * len(items)
    for i in sorted(range(len(items)), key=lambda k: (-int(weights[k]), k)):
        r = min(range(world_size), key=lambda j: (loads[j], j))
        owner[i] = r
        loads[r] += int(weights[i])
    return [item for item, o in zip(items, owner) if o == rank]

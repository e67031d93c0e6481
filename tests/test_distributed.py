import pytest

from samm_synth_dataset.distributed import assign, dist_info


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_assignment_is_disjoint_complete_and_deterministic(world: int) -> None:
    items = [f"v{i:02d}" for i in range(11)]
    weights = [100, 270, 270, 5, 1000, 270, 33, 270, 270, 8, 400]
    parts = [assign(items, weights, r, world) for r in range(world)]
    flat = [x for p in parts for x in p]
    assert sorted(flat) == items and len(flat) == len(set(flat))
    assert parts == [assign(items, weights, r, world) for r in range(world)]
    for p in parts:  # input order kept
        assert p == sorted(p)
    if world == 2:
        loads = [sum(w for i, w in zip(items, weights) if i in p) for p in parts]
        assert abs(loads[0] - loads[1]) <= max(weights)


def test_dist_info_reads_torchrun_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert dist_info().world_size == 1 and dist_info().is_main
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    info = dist_info()
    assert (info.rank, info.world_size, info.local_rank, info.is_main) == (1, 2, 1, False)
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK=2"):
        dist_info()

"""Planning: units, skipped videos and the plan document that --resume compares."""

import hashlib
from pathlib import Path

from samm_synth_dataset.builders.config import demo_config
from samm_synth_dataset.builders.plan import make_plan, missing_frames


def test_plan_of_the_demo_corpus(demo_corpus, tmp_path: Path) -> None:
    config = demo_config(demo_corpus, tmp_path / "out", exclude_videos=("007_2",))
    plan = make_plan(config)
    videos = [u.video for u in plan.units]
    assert videos == sorted(videos) and len(videos) == 2 * 3  # 2 references × the 3 videos not excluded
    assert ("007_2", "excluded by the config (exclude_videos)") in plan.skipped
    doc = plan.document
    assert doc["units"] == [u.plan_entry() for u in plan.units]
    assert doc["skipped"] == [{"video": v, "reason": r} for v, r in plan.skipped]
    assert doc["config"] == config.effective()
    assert doc["inputs"] == {name: hashlib.sha256(Path(getattr(config, name)).read_bytes()).hexdigest()
                             for name in ("annotations", "subjects")}
    assert plan.missing_frames == doc["missing_frames"] == missing_frames(plan.units) == {}
    assert plan.annotations is not None and len(plan.annotations) > 0

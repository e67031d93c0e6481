import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from samm_synth_dataset import settings
from samm_synth_dataset.builders.commands import _config_from_args, add_commands
from samm_synth_dataset.builders.config import BuildConfig, parse_formats


def test_defaults_and_effective_config_leave_out_run_settings(tmp_path: Path) -> None:
    cfg = BuildConfig(source_root="src", references="refs.csv", out=tmp_path / "a", resume=True, device="cpu")
    assert cfg.formats == ("parquet",) and cfg.image_format == "jpeg" and cfg.jpeg_quality == 95
    eff = cfg.effective()
    assert "out" not in eff and "resume" not in eff and "device" not in eff and "batch_size" not in eff
    assert eff["source_root"] == "src" and eff["formats"] == ["parquet"]
    # the output folder does not change the recorded config
    assert BuildConfig(source_root="src", references="refs.csv", out=tmp_path / "b").effective() == eff


def test_formats_are_ordered_and_validated() -> None:
    assert parse_formats("both") == ("parquet", "webdataset")
    cfg = BuildConfig(source_root="s", references="r", out="o", formats=("webdataset", "parquet"))
    assert cfg.formats == ("parquet", "webdataset")
    with pytest.raises(ValueError, match="unknown format"):
        parse_formats("zip")


@pytest.mark.parametrize("bad, match", [
    ({"method": "cyclegan"}, "method"),
    ({"method": "stargan-v2"}, "checkpoint"),
    ({"image_format": "webp"}, "image_format"),
    ({"jpeg_quality": 0}, "jpeg_quality"),
    ({"refs_per_subject": 0}, "refs_per_subject"),
    ({"max_part_mb": 0}, "max_part_mb"),
    ({"dataset": "casme4"}, "dataset"),
    ({"casme3_rules": ("onset_zero=first_frame",)}, "casme3_rules apply to dataset casme3 only"),
    ({"dataset": "casme3", "casme3_rules": ("onset_zero=drop",)}, "onset_zero='drop'"),
    ({"dataset": "casme3", "casme3_rules": ("long_me_frames=0",)}, "long_me_frames"),
])
def test_bad_values_raise_naming_the_field(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BuildConfig(source_root="s", references="r", out="o", **bad)


def test_casme3_records_its_reader_rules_and_others_do_not(tmp_path: Path) -> None:
    cfg = BuildConfig(source_root="s", references="r", out="o", dataset="casme3", offset_fill="mirror",
                      casme3_rules=("onset_zero=first_frame", "long_me_frames=150"))
    rules = cfg.casme3()
    assert (rules.onset_zero, rules.long_me_frames, rules.apex_outside) == ("first_frame", 150, "keep")
    eff = cfg.effective()
    assert eff["dataset"] == "casme3" and eff["offset_fill"] == "mirror"
    assert eff["casme3_rules"] == ["onset_zero=first_frame", "long_me_frames=150"]
    samm = BuildConfig(source_root="s", references="r", out="o").effective()
    assert "casme3_rules" not in samm and "offset_fill" not in samm


def test_toml_with_relative_paths_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "build.toml"
    path.parent.mkdir()
    path.write_text('[build]\nsource_root = "frames"\nreferences = "/abs/refs.csv"\nout = "rel"\n'
                    'formats = ["parquet", "webdataset"]\nmax_part_frames = 50\nrefs_per_subject = 3\n')
    cfg = BuildConfig.from_toml(path, max_part_frames=10, seed=None)
    assert cfg.source_root == path.parent / "frames"
    assert cfg.references == Path("/abs/refs.csv")
    assert cfg.max_part_frames == 10 and cfg.refs_per_subject == 3 and cfg.seed == 0
    assert cfg.formats == ("parquet", "webdataset")


def test_toml_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('source_root = "a"\nreferences = "b"\nout = "c"\nspeed = 3\n')
    with pytest.raises(ValueError, match=r"b\.toml.*unknown build settings \['speed'\]"):
        BuildConfig.from_toml(path)
    path.write_text("source_root = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        BuildConfig.from_toml(path)
    path.write_text('source_root = "a"\n')
    with pytest.raises(ValueError, match="missing required"):
        BuildConfig.from_toml(path)


# --------------------------------------------------------------------------------------------------------------
# The `build` command line, derived from the fields


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_commands(sub)
    return sub.choices["build"]


def _config(argv: list[str]) -> BuildConfig:
    return _config_from_args(_build_parser().parse_args(argv))


def test_every_field_is_a_flag_or_says_why_not() -> None:
    specs = {f.name: settings.spec(f) for f in dataclasses.fields(BuildConfig)}  # TypeError when one says nothing
    assert {n for n, s in specs.items() if isinstance(s, settings.NotAFlag)} == {"dist_timeout_hours"}
    actions = {a.dest: a for a in _build_parser()._actions}
    for f, fl in settings.flag_fields(BuildConfig):
        assert settings.flag_name(f, fl) in actions[f.name].option_strings


def test_the_help_shows_each_dataclass_default() -> None:
    actions = {a.dest: a for a in _build_parser()._actions}
    for f, fl in settings.flag_fields(BuildConfig):
        help_text = actions[f.name].help or ""
        shown = re.search(r"\(default: (.*)\)$", help_text)
        if not settings.has_default(f):
            assert shown is None, f.name
            continue
        default = settings.default_of(f)
        if isinstance(default, bool):  # a switch: it sets the other value
            assert shown is None and actions[f.name].const is (not default), f.name
        elif default is None or default == ():
            assert shown is not None and shown.group(1) == (fl.none or "none"), f.name
        elif isinstance(default, tuple):
            assert shown is not None and tuple(shown.group(1).split()) == default, f.name
        else:
            assert shown is not None and type(default)(shown.group(1)) == default, f.name
    # a few written out
    helps = {a.option_strings[0]: a.help for a in actions.values() if a.option_strings}
    assert helps["--face-samples"].endswith("(default: 25)")
    assert helps["--max-part-mb"].endswith("(default: 500)")
    assert helps["--format"].endswith("(default: parquet)")
    assert helps["--max-part-frames"].endswith("(default: no limit)")
    assert "--no-progress" in helps and "--dist-timeout-hours" not in helps


def test_command_lines_give_the_configs_of_the_old_hand_mapping(tmp_path: Path) -> None:
    base = ["--source-root", "f", "--references", "r.csv", "--out", "o"]
    assert _config(base) == BuildConfig(source_root=Path("f"), references=Path("r.csv"), out=Path("o"))
    assert _config(["--source-root", "frames", "--references", "refs", "--subjects", "s.csv", "--annotations",
                    "a.xlsx", "--refs-per-subject", "2", "--format", "both", "--max-part-frames", "60",
                    "--image-size", "64", "--face-samples", "3", "--videos", "006_1", "006_2", "--no-progress",
                    "--exclude-videos", "007_3", "--image-format", "png", "--jpeg-quality", "80",
                    "--max-part-mb", "12.5", "--batch-size", "4", "--seed", "7", "--device", "cpu", "--fps", "30",
                    "--boxes", "b.csv", "--resume", "--hash-sources", "--allow-gaps", "--out", "rel"]) == BuildConfig(
        source_root=Path("frames"), references=Path("refs"), out=Path("rel"), subjects=Path("s.csv"),
        annotations=Path("a.xlsx"), refs_per_subject=2, formats=("parquet", "webdataset"), max_part_frames=60,
        image_size=64, face_samples=3, videos=("006_1", "006_2"), progress=False, exclude_videos=("007_3",),
        image_format="png", jpeg_quality=80, max_part_mb=12.5, batch_size=4, seed=7, device="cpu", fps=30.0,
        boxes=Path("b.csv"), resume=True, hash_sources=True, allow_gaps=True)
    assert _config(base + ["--dataset", "casme3", "--offset-fill", "mirror", "--casme3-rule",
                           "onset_zero=first_frame", "--casme3-rule", "long_me_frames=150", "--no-labels",
                           "--format", "webdataset"]) == BuildConfig(
        source_root=Path("f"), references=Path("r.csv"), out=Path("o"), dataset="casme3", offset_fill="mirror",
        casme3_rules=("onset_zero=first_frame", "long_me_frames=150"), no_labels=True, formats=("webdataset",))
    assert _config(base + ["--method", "stargan-v2", "--checkpoint", "g.ckpt", "--fan-checkpoint", "fan.pt",
                           "--align-landmarks", "lm.npz"]) == BuildConfig(
        source_root=Path("f"), references=Path("r.csv"), out=Path("o"), method="stargan-v2",
        checkpoint=Path("g.ckpt"), fan_checkpoint=Path("fan.pt"), align_landmarks=Path("lm.npz"))
    # --config: the file's settings, flags given on top of them; absent flags keep the file's values
    toml = tmp_path / "build.toml"
    toml.write_text('source_root = "frames"\nreferences = "refs.csv"\nout = "rel"\nseed = 3\nprogress = false\n'
                    'formats = ["webdataset"]\ndist_timeout_hours = 1.5\n')
    assert _config(["--config", str(toml), "--seed", "5", "--out", "elsewhere"]) == BuildConfig(
        source_root=tmp_path / "frames", references=tmp_path / "refs.csv", out=Path("elsewhere"), seed=5,
        progress=False, formats=("webdataset",), dist_timeout_hours=1.5)


def test_without_config_the_three_paths_are_required() -> None:
    with pytest.raises(ValueError, match=re.escape("missing --references, --out (or give them in --config "
                                                   "FILE.toml)")):
        _config(["--source-root", "f"])
    with pytest.raises(SystemExit):
        _build_parser().parse_args(["--format", "zip"])

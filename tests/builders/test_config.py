from pathlib import Path

import pytest

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

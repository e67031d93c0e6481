from pathlib import Path

import cv2
import numpy as np
import pytest

from samm_synth_dataset.builders.references import load_references, read_subjects, references_from_csv
from samm_synth_dataset.format import sha256_file


def _img(path: Path, value: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8, 3), value, np.uint8))
    return path


def test_csv_first_n_per_subject_relative_paths(tmp_path: Path) -> None:
    for i in range(4):
        _img(tmp_path / "refs" / f"r{i}.png", i * 10)
    csv = tmp_path / "refs.csv"
    csv.write_text("subject,reference_path,domain,reference_id\n"
                   "006,refs/r0.png,female,ref00\n006,refs/r1.png,female,ref01\n006,refs/r2.png,female,ref02\n"
                   "007,refs/r3.png,male,\n")
    refs = references_from_csv(csv, 2)
    assert [r.reference_id for r in refs["006"]] == ["ref00", "ref01"]
    assert refs["007"][0].reference_id == "r3"  # from the file name when the id is empty
    assert refs["006"][0].sha256 == sha256_file(tmp_path / "refs" / "r0.png")
    assert refs["007"][0].domain == "male"


@pytest.mark.parametrize("line, match", [
    ("006,refs/nope.png,female,a", "nope.png not found"),
    ("006,refs/r0.png,female,a.b", "reference id"),
    ("006,refs/r0.png,cat,a", "domain"),
])
def test_csv_errors_name_the_line(tmp_path: Path, line: str, match: str) -> None:
    _img(tmp_path / "refs" / "r0.png", 1)
    csv = tmp_path / "refs.csv"
    csv.write_text("subject,reference_path,domain,reference_id\n" + line + "\n")
    with pytest.raises((ValueError, FileNotFoundError), match=match) as info:
        references_from_csv(csv, 1)
    assert "line 2" in str(info.value)


def test_csv_missing_column(tmp_path: Path) -> None:
    csv = tmp_path / "refs.csv"
    csv.write_text("subject,path\n006,x.png\n")
    with pytest.raises(ValueError, match="missing column"):
        references_from_csv(csv, 1)


def test_directory_assignment_is_gender_matched_seeded_and_per_subject(tmp_path: Path) -> None:
    for g, n in (("female", 5), ("male", 3)):
        for i in range(n):
            _img(tmp_path / "pool" / g / f"{g[0]}{i}.jpg", i)
    subjects_csv = tmp_path / "subjects.csv"
    subjects_csv.write_text("subject,gender,glasses\n006,F,true\n007,male,\n008,female,no\n")
    subjects = read_subjects(subjects_csv)
    assert subjects["006"].glasses is True and subjects["007"].glasses is None
    assert subjects["008"].glasses is False and subjects["006"].gender == "female"
    refs = load_references(tmp_path / "pool", 2, seed=1, subjects=subjects)
    assert all(r.domain == "female" and r.path.parent.name == "female" for r in refs["006"] + refs["008"])
    assert all(r.domain == "male" for r in refs["007"])
    assert len({r.reference_id for r in refs["006"]}) == 2
    again = load_references(tmp_path / "pool", 2, seed=1, subjects=subjects)
    assert again == refs
    # a subject's draw does not depend on the other subjects
    only = load_references(tmp_path / "pool", 2, seed=1, subjects={"008": subjects["008"]})
    assert only["008"] == refs["008"]
    with pytest.raises(ValueError, match="need 4 per subject"):
        load_references(tmp_path / "pool", 4, seed=1, subjects=subjects)
    with pytest.raises(ValueError, match="--subjects"):
        load_references(tmp_path / "pool", 1)


def test_one_reference_id_for_two_different_images_is_refused(tmp_path: Path) -> None:
    """Issue 14 item 9: the release's reference_id must name one image; the same image twice is fine."""
    _img(tmp_path / "a.png", 10)
    _img(tmp_path / "b.png", 200)
    csv = tmp_path / "refs.csv"
    csv.write_text("subject,reference_path,domain,reference_id\n006,a.png,female,ref01\n007,a.png,male,ref01\n")
    assert load_references(csv, 1)["007"][0].reference_id == "ref01"  # one image shared: one id is right
    csv.write_text("subject,reference_path,domain,reference_id\n006,a.png,female,ref01\n007,b.png,male,ref01\n")
    with pytest.raises(ValueError, match=rf"^{csv}: reference id 'ref01' names different images for subject "
                                         rf"'006' \(.*a.png\) and subject '007' \(.*b.png\); give each image its "
                                         r"own reference_id \(one id, one image in a release\)$"):
        load_references(csv, 1)


def test_reference_faces_are_checked_once_per_image_and_several_faces_only_warn(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A face passes, two faces side by side warn, a flat image is refused naming its id and path."""
    import logging

    from samm_synth_dataset.builders.references import Reference, check_reference_faces
    from tests.conftest import write_face_reference

    one = write_face_reference(tmp_path / "one.png", "a", side=96)
    two = tmp_path / "two.png"
    cv2.imwrite(str(two), np.concatenate([cv2.imread(str(one))] * 2, axis=1))
    flat = tmp_path / "flat.png"
    _img(flat, 128)
    refs = [Reference(f"r{i}", "006", p, "female", sha256_file(p)) for i, p in enumerate((one, two, one))]
    with caplog.at_level(logging.WARNING):
        check_reference_faces(refs, "refs.csv")
    assert [r.getMessage() for r in caplog.records] == [f"refs.csv: reference r1 ({two}) shows 2 faces; the style "
                                                        "is taken from the whole image"]
    with pytest.raises(ValueError, match=rf"refs.csv: reference r9 \({flat}\) shows no face"):
        check_reference_faces(refs + [Reference("r9", "007", flat, "male", sha256_file(flat))], "refs.csv")

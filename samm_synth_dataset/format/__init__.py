"""The release format: the one contract between builders, loaders, metrics and release, in both directions.

``layout`` (paths, ids, Arrow schemas), ``aus`` (per-frame AU fields), ``files`` (sha256, atomic writes,
Parquet writer options), ``manifest`` (read/write ``manifest.json``, add files), ``splits`` (LOSO folds and
``splits/loso.json``), ``quality`` (the shape of ``quality/report.json`` that cards read), ``verify`` (check a
folder against its manifest), ``flags`` (what each interval flag means) and ``emotions`` (the emotion columns and
the MEGC 3-class mapping). Every public name is also available here:
``from samm_synth_dataset import format as fmt; fmt.read_manifest(...)``.

Conventions: ``frame`` is the SOURCE frame number (SAMM-LV: 1-based, as in its sheet); ``index`` is the 0-based
position of a frame inside its synthetic video; interval ``onset``/``apex``/``offset`` are source frame numbers
with inclusive ends. A synthetic video id is ``<source video>-<reference id>``.
"""

from samm_synth_dataset.format.aus import (AU_FIELDS, AU_INTENSITY_RANGE, AU_PRESENCE_VALUES, au_arrays, au_key,
                                           au_path)
from samm_synth_dataset.format.check import check_release
from samm_synth_dataset.format.files import (LOCK_FILE, PARQUET_COMPRESSION, TMP_SUFFIX, FileRecord, FolderBusyError,
                                             FolderLock, atomic_write_bytes,
                                             atomic_write_json, atomic_write_text, commit, dumps_json,
                                             file_record, fsync_dir, install_files, parquet_writer_options,
                                             sha256_file, tmp_path, write_table_atomic)
from samm_synth_dataset.format.emotions import (MEGC_CLASSES, MEGC_MAPPING, MEGC_OTHERS, NO_EMOTION_LABELS,
                                                frame_emotions, interval_emotions, megc_class)
from samm_synth_dataset.format.flags import COMMON_FLAGS, FLAG_MEANINGS
from samm_synth_dataset.format.layout import (ANNOTATION_COLUMNS, AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS,
                                              AU_TRACKS, AUS_DIR, AUS_FEATURES, AUS_RECORD, AUS_SCHEMA, BUILD_DIR,
                                              CARD, CONFIGS, CROISSANT, CROP_TYPE, FEATURES_BLOCK, FEATURES_DIR,
                                              FEATURES_KEY, FORMAT_VERSION, FRAME_ROW_GROUP_SIZE,
                                              FRAMES_DIR, FRAMES_FEATURES, FRAMES_SCHEMA, IMAGE_TYPE,
                                              INTERVALS_FEATURES, INTERVALS_PATH, INTERVALS_SCHEMA, KINDS,
                                              MANIFEST, METHODS, PARTIAL_SUFFIX, PENDING, QUALITY_DIR, REPORT_JSON,
                                              SPOTTING_JSON, SPOTTING_PREDICTIONS_DIR,
                                              SPLITS_PATH, STAGES_DIR, STATUS_BUILDING, STATUS_COMPLETE,
                                              VIDEOS_FEATURES, VIDEOS_PATH, VIDEOS_SCHEMA, WDS_DIR, ReleaseError,
                                              check_id, feature_schema, part_name,
                                              schema_for, source_interval_keys, source_intervals,
                                              synthetic_video_id, wds_key, with_hf_metadata)
from samm_synth_dataset.format.manifest import (add_files, begin_stage, declared_configs, file_entries,
                                                read_manifest, write_building_manifest, write_manifest, versions)
from samm_synth_dataset.format.quality import (IDENTITY_EXPECTED, HeadlineTable, Quality, headline_table,
                                               read_quality)
from samm_synth_dataset.format.splits import (SPLITS_VERSION, TEST_ON, Split, loso_splits, megc_k, read_splits,
                                              splits_to_json, write_splits)
from samm_synth_dataset.format.verify import VerifyReport, count_rows, verify

__all__ = [
    "FEATURES_BLOCK", "FEATURES_DIR", "FEATURES_KEY", "feature_schema",
    "AU_FIELDS", "AU_INTENSITY_RANGE", "AU_PRESENCE_VALUES", "au_arrays", "au_key", "au_path",
    "COMMON_FLAGS", "FLAG_MEANINGS", "MEGC_CLASSES", "MEGC_MAPPING", "MEGC_OTHERS", "NO_EMOTION_LABELS", "frame_emotions",
    "interval_emotions", "megc_class",
    "ANNOTATION_COLUMNS", "AUS_DIR", "AUS_FEATURES", "AUS_SCHEMA", "AU_INTENSITY_COLUMNS", "AU_PRESENCE_COLUMNS",
    "AU_TRACKS", "AUS_RECORD", "BUILD_DIR", "CARD", "CONFIGS", "CROISSANT", "CROP_TYPE", "FORMAT_VERSION", "FRAMES_DIR",
    "FRAMES_FEATURES",
    "FRAMES_SCHEMA", "FRAME_ROW_GROUP_SIZE", "FileRecord", "HeadlineTable", "IDENTITY_EXPECTED", "IMAGE_TYPE",
    "INTERVALS_FEATURES",
    "INTERVALS_PATH", "INTERVALS_SCHEMA", "KINDS", "MANIFEST", "METHODS", "PARQUET_COMPRESSION", "PARTIAL_SUFFIX",
    "PENDING", "QUALITY_DIR", "STAGES_DIR",
    "Quality", "REPORT_JSON", "ReleaseError", "SPLITS_PATH", "SPOTTING_JSON", "SPOTTING_PREDICTIONS_DIR",
    "SPLITS_VERSION", "STATUS_BUILDING",
    "STATUS_COMPLETE", "Split", "TEST_ON", "TMP_SUFFIX", "VIDEOS_FEATURES", "VIDEOS_PATH", "VIDEOS_SCHEMA",
    "VerifyReport", "WDS_DIR", "add_files", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
    "begin_stage", "check_id", "check_release", "commit", "count_rows", "declared_configs", "dumps_json",
    "file_record", "fsync_dir",
    "file_entries", "FolderBusyError", "FolderLock", "LOCK_FILE", "headline_table", "install_files", "loso_splits", "megc_k", "parquet_writer_options", "part_name", "read_manifest",
    "read_quality", "read_splits", "schema_for", "sha256_file", "source_interval_keys", "source_intervals",
    "splits_to_json", "synthetic_video_id", "tmp_path",
    "verify", "versions", "wds_key", "with_hf_metadata", "write_building_manifest", "write_manifest",
    "write_splits", "write_table_atomic",
]

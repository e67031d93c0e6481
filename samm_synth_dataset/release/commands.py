"""`samm-synth` subcommands of the release stage: ``release`` and ``publish``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_release(args: argparse.Namespace) -> int:
    from samm_synth_dataset.release.release import make_release

    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
    summary = make_release(args.build_dir, args.version, notes=notes, previous=args.previous, out=args.out,
                           pretty_name=args.pretty_name, link=args.link,
                           repo_id=args.repo_id, require_identity_change=args.require_identity_change)
    where = "in place" if summary.in_place else "new directory"
    print(f"released {summary.version} ({where}): {summary.release}")
    if summary.change is not None:
        print(f"  change against --previous: {summary.change.name} ({summary.change.meaning})")
        for line in summary.findings:
            print(f"    {line}")
    print(f"  recorded in manifest.json: {', '.join(summary.recorded)}")
    print(f"  card: {summary.release / 'README.md'} (validated)")
    for line in summary.identity:
        print(f"  identity: {line}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from samm_synth_dataset.release.publish import plan_publish, publish

    if args.dry_run:
        plan = plan_publish(args.release, args.repo_id, private=args.private, gated=args.gated,
                            batch_files=args.batch_files, batch_bytes=int(args.batch_mb * 2**20))
        print(plan.text())
        return 0
    from huggingface_hub.errors import HfHubHTTPError

    try:
        result = publish(args.release, args.repo_id, private=args.private, gated=args.gated,
                         batch_files=args.batch_files, batch_bytes=int(args.batch_mb * 2**20), progress=print)
    except HfHubHTTPError as exc:
        raise RuntimeError(f"the Hub refused a request ({exc}); check the token (HF_TOKEN or `hf auth login`, "
                           "with write access to the repo) and re-run: committed files are skipped") from exc
    print(result.plan.text())
    if result.tagged_commit:
        print(f"published: https://huggingface.co/datasets/{args.repo_id}/tree/{result.plan.tag} "
              f"({len(result.commits)} commits)")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``release`` and ``publish``."""
    p = subparsers.add_parser(
        "release", help="turn a finished build into a versioned release (splits, dataset card, version)",
        description="Verify a finished build, write its LOSO splits, render and validate the dataset card "
                    "(README.md) and record the version in manifest.json. Without --out the build directory "
                    "itself becomes the release (in place); with --out a new directory is made holding copies "
                    "of the build's files (hard links with --link). Versions carry data meaning: PATCH = same records, MINOR = "
                    "added fields or videos, MAJOR = changed records or splits; --previous checks the bump.")
    p.add_argument("build_dir", help="a finished build (manifest.json status 'complete')")
    p.add_argument("--version", required=True, help="release version MAJOR.MINOR.PATCH, e.g. 1.0.0")
    p.add_argument("--notes", help="a markdown file with release notes (added to the card and manifest)")
    p.add_argument("--previous", help="the previous release's directory: compare records and refuse a version "
                                      "bump that understates the change")
    p.add_argument("--out", help="release directory to create (default: release the build in place)")
    p.add_argument("--link", action="store_true", help="with --out: hard-link the build's files instead of "
                   "copying them (no extra disk; never rewrite the build's files in place afterwards)")
    p.add_argument("--repo-id", help="the Hub repo ORG/NAME the card's loading examples name")
    p.add_argument("--pretty-name", help="the dataset's display name on the Hub")
    p.add_argument("--require-identity-change", action="store_true",
                   help="refuse the release unless the quality report measured that most synthetic videos no "
                        "longer show the source person (identity section; warned about otherwise)")
    p.set_defaults(func=_cmd_release)

    q = subparsers.add_parser(
        "publish", help="upload a release to the Hugging Face Hub and tag it vX.Y.Z",
        description="Create the dataset repo if needed, turn gating on, upload the release's files in batches "
                    "(files already on the Hub with the same size and hash are skipped, so a re-run resumes), "
                    "README.md last, then tag vX.Y.Z once the repo matches the manifest. An existing tag is "
                    "never moved. The token comes from HF_TOKEN or `hf auth login` and is never printed.")
    q.add_argument("release", help="a release directory (made by `samm-synth release`)")
    q.add_argument("--repo-id", required=True, help="the dataset repo, ORG/NAME")
    q.add_argument("--private", action="store_true", help="create the repo private (ignored if it exists)")
    q.add_argument("--gated", choices=("manual", "auto"), default="manual",
                   help="gating mode: manual review of access requests (default) or automatic approval")
    q.add_argument("--dry-run", action="store_true", help="print the plan (files, bytes, commits, tag); "
                                                         "contacts nothing")
    q.add_argument("--batch-files", type=int, default=50, help="files per commit (default 50)")
    q.add_argument("--batch-mb", type=float, default=4096.0, help="MiB per commit (default 4096)")
    q.set_defaults(func=_cmd_publish)

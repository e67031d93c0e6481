"""The ``samm-synth`` command line.

Each stage registers its own subcommands in ``<stage>/commands.py`` through ``add_commands(subparsers)``; every
subcommand sets ``func(args) -> int`` (the exit status). Heavy imports happen inside the handlers so that
``samm-synth --help`` is fast.
"""

from __future__ import annotations

import argparse
import logging
import sys

from samm_synth_dataset import __version__
from samm_synth_dataset.builders import commands as builders_commands
from samm_synth_dataset.demo import run as demo_commands
from samm_synth_dataset.loaders import commands as loaders_commands
from samm_synth_dataset.metrics import commands as metrics_commands
from samm_synth_dataset.release import commands as release_commands
from samm_synth_dataset.report import commands as report_commands
from samm_synth_dataset.sources import commands as sources_commands
from samm_synth_dataset.spotting import commands as spotting_commands
from samm_synth_dataset.transfer import commands as transfer_commands

#: The modules that register subcommands, in the order ``--help`` lists them (plain imports: each is light; the
#: handlers import the heavy libraries they need).
COMMAND_MODULES = (demo_commands, sources_commands, transfer_commands, builders_commands, metrics_commands,
                   report_commands, loaders_commands, release_commands, spotting_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samm-synth",
        description="Build, load, evaluate and publish synthetic long-video facial macro-/micro-expression "
                    "datasets (SAMM-SYNTH style).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, RuntimeError) as exc:
        logging.getLogger("samm_synth_dataset").debug("error", exc_info=True)
        print(f"samm-synth {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

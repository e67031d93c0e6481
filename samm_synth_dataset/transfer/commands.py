"""`samm-synth` subcommands of the transfer stage."""

from __future__ import annotations

import argparse


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register this stage's subcommands (none yet)."""

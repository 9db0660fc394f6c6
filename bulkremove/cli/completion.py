"""The ``completion`` command: the shell's completion script, generated from the parser by shtab.

shtab is imported here, when the command runs, so that no other command pays for loading it.
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "fish")


def completion_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import shtab

    sys.stdout.write(shtab.complete(parser, shell=args.shell))
    return 0

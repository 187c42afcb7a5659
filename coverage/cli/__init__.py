"""The ``parcours`` command line: one sub-command per module of ``coverage.cli``.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed arguments, returning an exit code). Errors of the package
(``CoverageError``) are printed as one plain French message, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from coverage._errors import CoverageError, CoverageWarning

#: Modules of ``coverage.cli`` that provide sub-commands, in help order.
COMMANDS: tuple[str, ...] = ("find", "registry", "analyse", "roads")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="parcours",
        description=(
            "Parcours de soins global après cancer en Auvergne-Rhône-Alpes : "
            "trouver une structure porteuse, mesurer la couverture du territoire."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"coverage.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"coverage.cli.{name}":
                continue  # command not part of this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parcours`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = int(args.func(args) or 0)
        for w in caught:  # e.g. pairs with no road route: one French line, not a Python warning
            if issubclass(w.category, CoverageWarning):
                print(f"Attention : {w.message}", file=sys.stderr)
        return code
    except CoverageError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

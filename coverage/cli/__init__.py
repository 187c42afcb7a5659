"""The ``parcours`` command line: one sub-command per module of ``coverage.cli``.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed arguments, returning an exit code). The parser speaks French
(usage, help, errors: ``FrenchArgumentParser``); with ``--json``, errors are printed as JSON on
standard output. Errors of the package for readers (``ValidationError``, ``PlaceError``...) are
printed as one plain French message, never as a traceback; programmer errors
(``ArgumentError``) are never shown verbatim.

Only this module and argparse load at start: a command's module is imported when the parser is
built, and its heavy dependencies (pandas, geopandas, the region) when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from coverage._errors import ArgumentError, CoverageError, CoverageWarning

#: Modules of ``coverage.cli`` that provide sub-commands, in help order.
COMMANDS: tuple[str, ...] = ("find", "registry", "analyse", "roads")

#: What a reader sees instead of a programmer error's message.
INTERNAL_ERROR_FR = (
    "Erreur interne du programme : la demande n'a pas pu être traitée. Ce n'est pas une "
    "erreur de votre part ; signalez-la à l'équipe qui maintient l'outil."
)

#: argparse's English messages (Python 3.12) -> French, applied to every error it raises.
_ERRORS_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(a), b)
    for a, b in (
        (r"^the following arguments are required: (.*)$", r"arguments requis : \1"),
        (r"^unrecognized arguments: (.*)$", r"arguments non reconnus : \1"),
        (
            r"^argument (.+?): invalid choice: (.+?) \(choose from (.*)\)$",
            r"argument \1 : choix invalide : \2 (choix possibles : \3)",
        ),
        (r"^argument (.+?): invalid (\w+) value: (.*)$", r"argument \1 : valeur invalide : \3"),
        (r"^argument (.+?): expected one argument$", r"argument \1 : une valeur est attendue"),
        (r"^argument (.+?): expected at least one argument$", r"argument \1 : valeur attendue"),
        (r"^argument (.+?): not allowed with argument (.*)$", r"argument \1 : exclu avec \2"),
        (r"^argument (.+?): ignored explicit argument (.*)$", r"argument \1 : valeur en trop \2"),
        (r"^ambiguous option: (.+?) could match (.*)$", r"option ambiguë : \1 (\2 ?)"),
        (r"^argument (.+?): (.*)$", r"argument \1 : \2"),
    )
)
_HELP_FR = (("usage: ", "usage : "),)
#: A section title of the help ("options:", "données:") takes a space before its colon.
_TITLE_RE = re.compile(r"^(\S[^\n]*?[^\s:]):$", re.MULTILINE)


def french_error(message: str) -> str:
    """argparse's English error message in French (unknown messages are kept as they are)."""
    for pattern, repl in _ERRORS_FR:
        if pattern.match(message):
            return pattern.sub(repl, message)
    return message


def int_range(low: int, high: int) -> Any:
    """An argparse ``type``: an integer from ``low`` to ``high``, else a French message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"un nombre entier est attendu (de {low} à {high}) ; reçu {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"doit être un nombre entier de {low} à {high} ; reçu {value}"
            )
        return value

    parse.__name__ = "entier"
    return parse


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage, help and errors are French.

    ``json_errors`` (set by ``main`` when ``--json`` is on the command line) prints errors as
    ``{"error": {"kind": "usage", "message": ...}}`` on standard output.
    """

    json_errors = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def format_usage(self) -> str:
        return _help_fr(super().format_usage())

    def format_help(self) -> str:
        return _help_fr(super().format_help())

    def error(self, message: str) -> NoReturn:
        text = french_error(message)
        if FrenchArgumentParser.json_errors:
            print_json_error("usage", f"{self.prog} : {text}")
            self.exit(2)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {text}\n")


def _help_fr(text: str) -> str:
    for english, fr in _HELP_FR:
        text = text.replace(english, fr)
    return _TITLE_RE.sub(r"\1 :", text)


def print_json_error(kind: str, message: str, **extra: Any) -> None:
    """An error as JSON on standard output, for scripts that asked for ``--json``."""
    doc = {"error": {"kind": kind, "message": message, **extra}}
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = FrenchArgumentParser(
        prog="parcours",
        description=(
            "Parcours de soins global après cancer : trouver une structure porteuse, mesurer "
            "la couverture du territoire, dans la région choisie par --region."
        ),
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMANDE", title="commandes"
    )
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"coverage.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"coverage.cli.{name}":
                continue  # command not part of this build
            raise
        module.register(sub)
    return parser


def add_region_option(parser: argparse.ArgumentParser | Any) -> None:
    """``--region``: the region served (INSEE code, name, or FR for all of France)."""
    parser.add_argument(
        "--region",
        metavar="RÉGION",
        help="région servie : code INSEE (84, 53, 11…), nom (« Bretagne ») ou FR pour toute la "
        "France ; par défaut $PARCOURS_REGION, sinon 84 (Auvergne-Rhône-Alpes)",
    )


def resolve_region(args: argparse.Namespace) -> None:
    """Resolve the region once, for a command that takes ``--region``: ``--region``, else
    ``$PARCOURS_REGION``, else 84. The command reads it as ``args.region_spec`` (a
    :class:`~coverage.geography.RegionSpec`) and passes it down; nothing is written to the
    environment. An unknown region is a French ``ValidationError``."""
    if not hasattr(args, "region"):
        return
    from coverage import settings
    from coverage.geography import region_spec

    args.region_spec = region_spec(args.region or settings.region_from_environment())


def _run(args: argparse.Namespace) -> int:
    resolve_region(args)
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parcours`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args_list
    FrenchArgumentParser.json_errors = as_json
    try:
        args = build_parser().parse_args(args_list)
    finally:
        FrenchArgumentParser.json_errors = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = _run(args)
        for w in caught:  # e.g. pairs with no road route: one French line, not a Python warning
            if issubclass(w.category, CoverageWarning):
                print(f"Attention : {w.message}", file=sys.stderr)
        return code
    except ArgumentError:
        _report("internal", INTERNAL_ERROR_FR, as_json=as_json)
        return 70
    except CoverageError as exc:
        _report("error", str(exc), as_json=as_json)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


def _report(kind: str, message: str, *, as_json: bool) -> None:
    if as_json:
        print_json_error(kind, message)
    else:
        print(f"Erreur : {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Spreadsheet-safe CSV cells: the one rule every CSV the tool writes follows, and its reverse.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by spreadsheets (OWASP "CSV injection"): :func:`neutralise_cell` prefixes it with
``'``, which spreadsheets show as text and hide. A plain number (``-3,5``, ``-0.5``) is left
as it is: spreadsheets read it as a number, never a formula, and a coordinate stays a number.
:func:`restore_cell` undoes the prefix when the tool reads a CSV back (the canonical registry),
as a spreadsheet does: ``'=x`` is read ``=x``.
"""

from __future__ import annotations

import re

#: First characters that make a spreadsheet run a cell as a formula.
DANGEROUS_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def neutralise_cell(text: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (module docstring).

    A cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed,
    except a plain number (``-3,5``, ``-0.5``), which spreadsheets read as a number.
    """
    if text.startswith(DANGEROUS_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """The cell :func:`neutralise_cell` was given: ``'=x`` -> ``=x``; anything else unchanged."""
    if text.startswith("'") and text[1:].startswith(DANGEROUS_START):
        return text[1:]
    return text

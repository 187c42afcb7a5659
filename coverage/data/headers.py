"""Column headers: map a file's headers (French, any case, accents and spacing) to a schema.

A ``Schema`` lists the canonical columns a file must and may have, and for each the French
headers planners use ("Code postal", "CP", "Tél.", ...). Headers are compared folded: no
accents, lower case, punctuation and spacing ignored, so "CODE POSTAL", "Code  postal" and
"code_postal" are one header. An unknown header, a missing required column or two headers
meaning the same column refuse the file: a misspelt "Lattitude" must not be dropped silently.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from coverage._errors import RegistryError
from coverage.data.spreadsheet import HeaderCheck, Table, read_table


def fold(text: str) -> str:
    """A header folded for comparison: "Téléphone / Tél." -> "telephone tel"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@dataclass(frozen=True)
class Schema:
    """Columns a file must and may have, the headers that name them, and how errors name it.

    ``synonyms`` maps a canonical column to the other headers accepted for it (compared
    folded); the canonical name itself is always accepted.
    """

    required: tuple[str, ...]
    allowed: tuple[str, ...]
    what: str = "de structures"
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def lookup(self) -> dict[str, str]:
        """Folded header -> canonical column."""
        out = {fold(c): c for c in self.allowed}
        for canon, names in self.synonyms.items():
            for n in names:
                out.setdefault(fold(n), canon)
        return out


@dataclass(frozen=True)
class HeaderMap:
    """What each header of a file became: ``columns`` holds (header as written, column)."""

    columns: tuple[tuple[str, str], ...]

    def canonical(self) -> list[str]:
        """The file's columns in the schema's names, in the file's order."""
        return [c for _, c in self.columns]

    def renamed(self) -> list[tuple[str, str]]:
        """The headers that were not already the schema's names."""
        return [(h, c) for h, c in self.columns if h != c]


def map_header(header: list[str], schema: Schema) -> tuple[HeaderMap, list[str]]:
    """Map ``header`` to the schema's columns; return the map and the problems (no location)."""
    table = schema.lookup()
    pairs: list[tuple[str, str]] = []
    unknown: list[str] = []
    for h in header:
        canon = h if h in schema.allowed else table.get(fold(h))
        if canon is None:
            unknown.append(h)
        else:
            pairs.append((h, canon))
    problems: list[str] = []
    mapped = [c for _, c in pairs]
    missing = [c for c in schema.required if c not in mapped]
    if missing:
        problems.append(f"colonne(s) obligatoire(s) absente(s) : {missing!r}.")
    if unknown:
        shown = f"{unknown[:10]!r}"
        if len(unknown) > 10:
            shown += f" (et {len(unknown) - 10} autres)"
        problems.append(
            f"colonne(s) inconnue(s) {shown} ; colonnes permises : {list(schema.allowed)!r}"
            + _french_names(schema)
            + "."
        )
    dup = sorted(c for c, n in Counter(mapped).items() if n > 1)[:10]
    if dup:
        detail = [
            f"{c} ({', '.join(repr(h) for h, k in pairs if k == c)})"
            for c in dup
            if any(h != c for h, k in pairs if k == c)
        ]
        more = f" — en-têtes {'; '.join(detail)}" if detail else ""
        problems.append(f"colonne(s) en double : {dup!r}{more}.")
    return HeaderMap(tuple(pairs)), problems


def _french_names(schema: Schema) -> str:
    if not schema.synonyms:
        return ""
    examples = [names[0] for names in schema.synonyms.values() if names][:8]
    return f", ou leurs noms usuels ({', '.join(repr(e) for e in examples)}, ...)"


def header_checker(schema: Schema) -> HeaderCheck:
    """A ``check_header`` for ``read_table``: the schema's header problems, located."""

    def check(header: list[str], label: str) -> list[str]:
        _, problems = map_header(header, schema)
        return [f"{label}, ligne 1 : {p}" for p in problems]

    return check


def read_rows(
    path: str | os.PathLike[str], schema: Schema, *, sheet: str | None = None
) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV, XLSX, ODS or GeoJSON file into (line, {column: text}) rows of ``schema``.

    Only reading, decoding and header problems are reported here (a ``RegistryError`` naming
    the file); field checks are the caller's.
    """
    table = read_mapped(path, schema, sheet=sheet)[0]
    cols = map_header(list(table.header), schema)[0].canonical()
    return [(line, dict(zip(cols, cells, strict=True))) for line, cells in table.rows]


def read_mapped(
    path: str | os.PathLike[str], schema: Schema, *, sheet: str | None = None
) -> tuple[Table, HeaderMap]:
    """The file's table and what each of its headers became (refused on a header problem)."""
    table = read_table(path, sheet=sheet, what=schema.what, check_header=header_checker(schema))
    hmap, problems = map_header(list(table.header), schema)
    if problems:  # pragma: no cover - read_table already refused them
        raise RegistryError(table.path, problems, what=schema.what)
    return table, hmap

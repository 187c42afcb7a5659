"""Siting candidates: the applicants the ARS selects among, read from ``--candidates FILE``.

The file (CSV, XLSX, ODS or GeoJSON) is either a registry (same schema and French headers as
``coverage.data.registry``: each located structure is a candidate) or a plain list, one
candidate per row, with optional ``id`` and ``name`` and one way to place it:

- ``lat`` and ``lon`` (decimal degrees, decimal commas accepted): a point of the region;
- ``insee``: the commune's representative point (an arrondissement means its commune);
- ``postcode`` and/or ``town`` (or an ``address`` ending in them): located with the place
  lookup, never by a guess (see ``coverage.data.locate``).

A row that cannot be placed, a point outside the region, an unknown code or a repeated id
refuses the file with the line. Ids default to the name's slug, else ``commune-<insee>``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage._errors import RegistryError
from coverage.data.headers import Schema, fold, read_rows
from coverage.data.locate import locate_row
from coverage.data.region import Region
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import FRENCH_HEADERS
from coverage.data.spreadsheet import read_table
from coverage.data.weights import parse_number

WHAT = "de candidats"
COLUMNS = ("id", "name", "insee", "postcode", "town", "address", "lat", "lon", "source")
CANDIDATES = Schema(
    (),
    COLUMNS,
    what=WHAT,
    synonyms={c: FRENCH_HEADERS[c] for c in COLUMNS if c in FRENCH_HEADERS},
)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CandidateSet:
    """Applicants to site among: ``frame`` has ``id``, ``name``, ``insee``, ``lon``, ``lat``
    (one row per candidate, in the file's order); ``path`` names the file."""

    frame: pd.DataFrame
    path: str
    from_registry: bool

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.frame["id"])

    def names_by_commune(self) -> dict[str, str]:
        """INSEE code -> the applicants there (``;``-joined), in the file's order: siting
        measures each applicant from its commune, so applicants sharing one share a site."""
        return {
            str(insee): " ; ".join(group["name"].astype(str))
            for insee, group in self.frame.groupby("insee", sort=False)
        }

    def points(self) -> pd.DataFrame:
        """The candidates as a travel-model point set (``id``, ``lon``, ``lat``)."""
        return self.frame[["id", "lon", "lat"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "from_registry": self.from_registry,
            "candidates": self.frame[["id", "name", "insee", "lon", "lat"]].to_dict("records"),
        }


def load_candidates(
    path: str | os.PathLike[str], *, region: Region, sheet: str | None = None
) -> CandidateSet:
    """Read a candidate file (a registry, or a list of communes or points)."""
    name = str(Path(path))
    if _is_registry(path, sheet):
        reg = load_registry(path, region=region, sheet=sheet)
        s = reg.structures
        lost = s[~s["located"]]
        if len(lost):
            unplaced = [
                f"{name}, ligne {line} : candidat {sid!r} sans commune ni coordonnées."
                for sid, line in zip(lost["id"], lost["line"], strict=True)
            ]
            raise RegistryError(name, unplaced[:50], what=WHAT, total=len(unplaced))
        frame = s[["id", "name", "commune_insee", "lon", "lat"]].rename(
            columns={"commune_insee": "insee"}
        )
        return CandidateSet(frame.reset_index(drop=True), name, True)
    rows = read_rows(path, CANDIDATES, sheet=sheet)
    out: list[dict[str, object]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        rec = {k: (v or "").strip() for k, v in row.items()}
        placed = _place(rec, region)
        if isinstance(placed, str):
            problems.append(f"{name}, ligne {line} : {placed}.")
            continue
        insee, lon, lat = placed
        cid = rec.get("id") or _slug(rec.get("name", "")) or f"commune-{insee}"
        if not _ID_RE.match(cid):
            problems.append(f"{name}, ligne {line}, champ « id » : identifiant invalide {cid!r}.")
        elif cid in seen:
            problems.append(f"{name}, ligne {line} : id {cid!r} déjà utilisé ligne {seen[cid]}.")
        seen.setdefault(cid, line)
        label = rec.get("name") or str(region.commune_facts(insee)["name"])
        out.append({"id": cid, "name": label, "insee": insee, "lon": lon, "lat": lat})
    if problems:
        raise RegistryError(name, problems[:50], what=WHAT, total=len(problems))
    return CandidateSet(
        pd.DataFrame(out, columns=["id", "name", "insee", "lon", "lat"]), name, False
    )


def _is_registry(path: str | os.PathLike[str], sheet: str | None) -> bool:
    """True when the file's header has a registry's ``kind`` ("Public") column. The table read
    here is the one the chosen reader gets back (``spreadsheet.read_table`` keeps the last):
    the file is parsed once."""
    try:
        header = list(read_table(path, sheet=sheet, what=WHAT).header)
    except RegistryError:
        return False  # the list reader reports it
    kinds = {fold(h) for h in ("kind", *FRENCH_HEADERS["kind"])}
    return any(fold(h) in kinds for h in header)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:56]


def _place(rec: dict[str, str], region: Region) -> tuple[str, float, float] | str:
    """(insee, lon, lat) of a candidate row, or a French problem."""
    if rec.get("lat") or rec.get("lon"):
        lat, lon = parse_number(rec.get("lat", "")), parse_number(rec.get("lon", ""))
        if lat is None or lon is None:
            given = f"{rec.get('lat')!r}, {rec.get('lon')!r}"
            return f"latitude et longitude décimales attendues ; trouvé {given}"
        at = region.commune_at(lon, lat)
        if at is None:
            return f"le point ({lat}, {lon}) n'est dans aucune commune {region.spec.of_name}"
        return at, lon, lat
    code = rec.get("insee", "")
    if code:
        code = code.zfill(5) if code.isdigit() and len(code) == 4 else code
        parent = region.parent_code(code)
        if parent is None:
            return f"champ « insee » : {code!r} n'est pas une commune de la région"
        row = region.commune_facts(parent)
        return parent, float(row["lon"]), float(row["lat"])
    got = locate_row(
        rec.get("postcode", ""), rec.get("town", ""), rec.get("address", ""), region=region
    )
    if got is None:
        return "ni coordonnées, ni code INSEE, ni commune pour placer le candidat"
    if isinstance(got, str):
        return got
    row = region.commune_facts(got.insee)
    return got.insee, float(row["lon"]), float(row["lat"])

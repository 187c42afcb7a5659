"""Locate a registry row without an INSEE code: from its postcode and town, or its address.

A spreadsheet row usually gives "Code postal" and "Commune" (or an address line ending in
"38000 Grenoble") rather than an INSEE code. Each is resolved with the place lookup
(``coverage.data.places.lookup``) to exactly one commune of the region, or refused: an
unknown town, a town the lookup only matches approximately, or a town and postcode that leave
several communes are errors naming the line, never a guess. CEDEX postcodes (not in the
postcode table) only narrow the town by their département.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coverage._errors import PlaceError
from coverage.data.place_names import name_key, place_index
from coverage.data.place_results import Place
from coverage.data.places import lookup
from coverage.data.region import Region

_CEDEX_RE = re.compile(r"\s*\bcedex\b(\s*\d{1,3})?\s*$", re.IGNORECASE)
_POSTCODE_RE = re.compile(r"^\d{5}$")
_ADDRESS_TAIL_RE = re.compile(r"(?:^|[\s,;])(?P<cp>\d{5})\s+(?P<town>[^\d,;][^,;]*?)\s*$")
#: How the lookup matched: these are exact; "nom approché" (fuzzy) is never accepted.
_EXACT = {"nom", "code postal", "commune déléguée", "arrondissement", "code INSEE"}

#: ``Location.method`` values.
METHODS = ("code_postal_commune", "commune", "code_postal", "adresse")


@dataclass(frozen=True)
class Location:
    """How a row was located: ``method`` (one of ``METHODS``), the text looked up, the commune."""

    method: str
    query: str
    insee: str
    name: str
    dep: str

    def to_dict(self) -> dict[str, str]:
        return {
            "method": self.method,
            "query": self.query,
            "insee": self.insee,
            "name": self.name,
            "dep": self.dep,
        }


def address_tail(address: str) -> tuple[str, str] | None:
    """(postcode, town) when an address line ends in them ("1 rue X, 38000 Grenoble")."""
    m = _ADDRESS_TAIL_RE.search(address.strip())
    if not m:
        return None
    return m.group("cp"), m.group("town").strip()


def locate_row(postcode: str, town: str, address: str, *, region: Region) -> Location | str | None:
    """The commune of a row, a French problem (without the line) or None (nothing to locate)."""
    postcode, town = postcode.strip(), _CEDEX_RE.sub("", town.strip())
    method = "code_postal_commune" if postcode and town else ("commune" if town else "code_postal")
    if not postcode and not town:
        tail = address_tail(address)
        if tail is None:
            return None
        postcode, town = tail[0], _CEDEX_RE.sub("", tail[1])
        method = "adresse"
    if postcode and not _POSTCODE_RE.match(postcode):
        return f"code postal {postcode!r} : attendu 5 chiffres"
    query = " ".join(p for p in (postcode, town) if p)
    try:
        places = _candidates(postcode, town, region)
    except PlaceError as exc:
        return f"commune {query!r} introuvable ({exc})"
    if len(places) != 1:
        labels = ", ".join(p.label for p in places[:6]) or "aucune"
        return (
            f"commune {query!r} ambiguë ou introuvable (communes possibles : {labels}) ; "
            "indiquez le code INSEE"
        )
    p = places[0]
    return Location(method, query, p.insee, p.name, p.dep)


def _candidates(postcode: str, town: str, region: Region) -> list[Place]:
    quick = _by_postcode_and_name(postcode, town, region)
    if quick is not None:
        return [quick]
    if not town:
        return list(lookup(postcode, region).places)
    found = lookup(town, region).places
    approx = [p for p in found if p.matched not in _EXACT]
    if approx:
        raise PlaceError(
            f"seul un nom approché correspond : {', '.join(p.label for p in approx[:3])}"
        )
    if not postcode:
        return list(found)
    pcs = region.postcodes
    known = set(pcs.loc[pcs["postcode"] == postcode, "insee"])
    if known:
        return [p for p in found if p.insee in known]
    dep = _postcode_dep(postcode)  # a CEDEX or unknown postcode: its département only
    return [p for p in found if p.dep == dep]


def _postcode_dep(postcode: str) -> str:
    if postcode.startswith("20"):
        return "2A" if postcode < "20200" else "2B"
    return postcode[:2]


def _by_postcode_and_name(postcode: str, town: str, region: Region) -> Place | None:
    """The one commune that has this postcode and exactly this name, if there is one.

    A fast path for the common case (both given and agreeing): a dictionary look-up instead
    of the general lookup's scan of every name. Anything else goes to the general lookup.
    """
    if not (postcode and town):
        return None
    hits = place_index(region).by_postcode_and_name.get((postcode, name_key(town)), [])
    if len(set(hits)) != 1:
        return None
    row = region.commune_facts(hits[0])
    return Place(
        insee=hits[0],
        name=str(row["name"]),
        dep=str(row["dep"]),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        score=100.0,
        matched="nom",
    )

"""Finding a typed commune name: exact, by its first words, qualified by a département or a
postcode ("Murat (15)", "Murat (Cantal)", "Murat 15300"), or close (fuzzy matching, rapidfuzz).

An ambiguous name returns every candidate, never a silent guess; a name of a commune elsewhere
in France raises ``OutsidePlaceError``, and a name matching nothing well enough ``PlaceError``
with the closest suggestions.
"""

from __future__ import annotations

import re

from coverage._errors import PlaceError
from coverage.data.place_names import (
    NameTable,
    departements_by_name,
    normalize,
    place_index,
    strip_article,
)
from coverage.data.place_results import (
    MAX_CANDIDATES,
    MAX_QUERY_CHARS,
    Lookup,
    OutsidePlaceError,
    Place,
    commune_place,
    departement_of_france,
    departement_outside,
    population,
)
from coverage.data.region import Region
from coverage.geography import departement_names

#: Score (0-100) from which a fuzzy match is taken as the answer when no other is close.
ACCEPT_SCORE = 90.0
#: A runner-up within this many points of the best makes the answer ambiguous.
AMBIGUITY_MARGIN = 3.0

_QUALIFIER_RE = re.compile(
    r"^(?P<name>.*?)[\s,]*\(?\s*(?<![\dA-Za-z])(?P<q>97[1-6]|\d{5}|\d{2}|2[AB])\s*\)?\s*$"
)
_NAMED_QUALIFIER_RE = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<p>[^()]+)\)|,\s*(?P<c>[^,]+))\s*$")


def _outside_departement_number(text: str, region: Region) -> str | None:
    """A département of France outside the region named by ``text`` (name only), else None."""
    code = departements_by_name().get(strip_article(normalize(text)))
    return code if code is not None and code not in region.departements else None


def _split_qualifier(text: str, region: Region) -> tuple[str, str | None]:
    """ "Murat (15)", "Murat 15300", "Murat (Cantal)", "Murat, Cantal" -> ("Murat", "15"...)."""
    m = _NAMED_QUALIFIER_RE.match(text)
    if m and m.group("name").strip():
        named = m.group("p") or m.group("c") or ""
        dep = departements_by_name(region.departements).get(strip_article(normalize(named)))
        if dep is None and m.group("p"):
            dep = _outside_departement_number(named, region)  # "Murat (Gironde)": elsewhere
        if dep is not None:
            return m.group("name").strip(), dep
    m = _QUALIFIER_RE.match(text)
    if m and m.group("name").strip():
        return m.group("name").strip(), m.group("q").upper()
    return text, None


def from_name(text: str, region: Region) -> Lookup:
    idx = place_index(region).names
    text_name, qualifier = _split_qualifier(text, region)
    if qualifier and len(qualifier) < 5:
        dep = qualifier.zfill(2)
        if dep not in region.departements and dep in departement_names():
            raise departement_outside(dep, region)
    # NFKD may lengthen the text ("㎯" is six letters): cut again; no commune name is so long.
    full = normalize(text_name)[:MAX_QUERY_CHARS].strip()
    key = strip_article(full)
    if not key:
        raise PlaceError(f"« {text} » ne ressemble pas à un nom de commune.")

    # Prefix: "Clermont" -> every commune whose name starts with the typed words.
    prefix = [i for i, k in enumerate(idx.keys) if k.startswith(key + " ")] if len(key) >= 3 else []
    hits = idx.by_key.get(key, [])
    if hits:
        # A name typed in full with its article ("Les Belleville") is that commune, not a
        # short form of another: only names without an article stand for longer ones.
        exact = [i for i in hits if idx.full[i] == full and full != key]
        places = _dedupe(region, idx, exact or hits, 100.0)
        # A short form of a larger town is a likely meaning too: "Clermont" (74, 400 people)
        # or Clermont-Ferrand; "Saint-Étienne" is not ambiguous with its smaller namesakes.
        biggest = max(population(region, p.insee) for p in places)
        larger = [i for i in prefix if population(region, str(idx.insee[i])) > biggest]
        if larger and not qualifier and not exact:
            extra = [
                p
                for p in _dedupe(region, idx, larger, 95.0)
                if p.insee not in {q.insee for q in places}
            ]
            places = places + tuple(extra)
        places = _apply_qualifier(places, qualifier, region, text)
        return Lookup(text, places[:MAX_CANDIDATES])

    if prefix:
        places = _dedupe(region, idx, prefix, 95.0)
        places = _apply_qualifier(places, qualifier, region, text)
        if len(places) == 1 or qualifier:
            return Lookup(text, places)
        return Lookup(text, places[:MAX_CANDIDATES])

    _raise_if_outside(text, key, region)
    return _fuzzy(text, key, qualifier, region)


def _raise_if_outside(text: str, key: str, region: Region) -> None:
    """Raise ``OutsidePlaceError`` when ``key`` names a commune or département elsewhere."""
    france = place_index(region).france
    outside = france.by_key.get(key, [])
    if outside:
        rows = france.france.iloc[outside]
        row = rows.iloc[0]
        dep = str(row["dep"])
        dep_name, region_name = departement_of_france(dep)
        in_words = f" : cette commune est dans la région {region_name}" if region_name else ""
        raise OutsidePlaceError(
            f"{row['name']} ({dep_name or dep}) n'est pas {region.spec.in_name}{in_words}. "
            f"{region.spec.covers_fr[:1].upper()}{region.spec.covers_fr[1:]}",
            [
                f"{n} ({departement_of_france(d)[0] or d})"
                for n, d in zip(rows["name"][:3], rows["dep"][:3], strict=True)
            ],
            dep=dep,
        )
    other = _outside_departement_number(text, region)
    if other is not None:
        raise departement_outside(other, region)


def _fuzzy(text: str, key: str, qualifier: str | None, region: Region) -> Lookup:
    """Close names (rapidfuzz): the answer when clearly best, else an error with suggestions."""
    from rapidfuzz import fuzz, process  # only a name not found exactly needs fuzzy matching

    idx = place_index(region).names
    found = process.extract(key, idx.keys, scorer=fuzz.WRatio, limit=MAX_CANDIDATES * 2)
    found = [(k, s, i) for k, s, i in found if s >= 60]
    if found:
        best = found[0][1]
        close = [i for _, s, i in found if s >= best - AMBIGUITY_MARGIN]
        # One or two letters are part of hundreds of names: never an answer, only an error.
        if best >= ACCEPT_SCORE and len(key) >= 3:
            places = _dedupe(region, idx, close, best, matched="nom approché")
            places = _apply_qualifier(places, qualifier, region, text)
            return Lookup(text, places[:MAX_CANDIDATES])
    suggestions = [
        commune_place(region, str(idx.insee[i]), 0, "nom approché").patient_label
        for _, _, i in found[:5]
    ]
    suggestions = list(dict.fromkeys(suggestions))[:3]
    hint = f" Vouliez-vous dire : {', '.join(suggestions)} ?" if suggestions else ""
    raise PlaceError(
        f"Aucune commune {region.spec.of_name} ne s'appelle « {text} ».{hint}", suggestions
    )


def _dedupe(
    region: Region, idx: NameTable, hits: list[int], score: float, *, matched: str | None = None
) -> tuple[Place, ...]:
    seen: dict[str, Place] = {}
    for i in hits:
        code = str(idx.insee[i])
        if code in seen:
            continue
        kind = str(idx.kind[i])
        how = matched or ("nom" if kind == "commune" else kind)
        seen[code] = commune_place(region, code, score, how, str(idx.detail[i]), str(idx.code[i]))
    return tuple(seen.values())


def _apply_qualifier(
    places: tuple[Place, ...], qualifier: str | None, region: Region, text: str
) -> tuple[Place, ...]:
    if not qualifier or len(places) == 0:
        return places
    if len(qualifier) == 5:
        pcs = region.postcodes
        codes = set(pcs.loc[pcs["postcode"] == qualifier, "insee"])
        kept = tuple(p for p in places if p.insee in codes or p.insee == qualifier)
        where = qualifier
    else:
        dep = qualifier.zfill(2)
        kept = tuple(p for p in places if p.dep == dep)
        names = departement_names()
        where = f"le département {names[dep]}" if dep in names else qualifier
    if not kept:
        options = ", ".join(p.patient_label for p in places[:5])
        raise PlaceError(
            f"« {text} » : aucune de ces communes n'est dans {where} ({options}).",
            [p.patient_label for p in places[:5]],
        )
    return kept

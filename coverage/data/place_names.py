"""Place names as the lookup compares them: normalisation, and a region's name tables.

A name is folded (no accents, lower case, "St" -> "saint", no punctuation) and compared without
its leading article. :class:`PlaceIndex` holds the tables of one region (its communes,
communes déléguées and arrondissements; the communes of France outside it; postcodes with
names), each built on first use and dropped with the region.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage.data.region import Region
from coverage.geography import departement_names

_ARTICLES = ("le ", "la ", "les ", "l ", "aux ", "las ", "los ")
_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes", "s/": "sur"}


def normalize(text: str) -> str:
    """Fold a place name for matching: no accents, lower case, "st" -> "saint", no punctuation."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"[^a-z0-9/]+", " ", text)
    words = [_ABBREV.get(w, w) for w in text.split()]
    return " ".join(words)


def strip_article(norm: str) -> str:
    for art in _ARTICLES:
        if norm.startswith(art) and len(norm) > len(art):
            return norm[len(art) :]
    return norm


def normalize_many(names: pd.Series) -> list[str]:
    """``normalize`` of many names at once (vectorised; equal to ``normalize`` name by name)."""
    s = names.astype(str).str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    s = s.str.lower().str.replace("œ", "oe").str.replace("æ", "ae")
    s = s.str.replace(r"[^a-z0-9/]+", " ", regex=True).str.strip()
    for short, full in _ABBREV.items():
        s = s.str.replace(rf"(?<!\S){re.escape(short)}(?!\S)", full, regex=True)
    return list(s)


@dataclass(frozen=True)
class NameTable:
    """Name tables of the region's communes and aliases, built once per region."""

    keys: list[str]  # normalized names without article, one per (name, commune) entry
    full: list[str]  # the same names with their article
    insee: np.ndarray
    kind: np.ndarray  # "commune" or "alias"
    detail: np.ndarray
    code: np.ndarray  # the commune's or the alias's own INSEE code
    by_key: dict[str, list[int]]


@dataclass(frozen=True)
class OutsideNames:
    """Names of the communes of France outside the region (to say a place is elsewhere)."""

    by_key: dict[str, list[int]]
    france: pd.DataFrame


class PlaceIndex:
    """The name tables of one region, each built on first use and kept with this object.

    One index per region object (:func:`place_index`): the lookup, the registry's locating
    and the page share it, and nothing is stored on the ``Region`` itself.
    """

    def __init__(self, region: Region) -> None:
        self._region = weakref.proxy(region)

    @functools.cached_property
    def names(self) -> NameTable:
        """The region's communes, communes déléguées and arrondissements by normalised name."""
        return _build_index(self._region)

    @functools.cached_property
    def france(self) -> OutsideNames:
        """Names outside the region, built only when a name is not found in the region."""
        outside = self._region.france[~self._region.france["in_region"]].reset_index(drop=True)
        by_key: dict[str, list[int]] = {}
        for i, k in enumerate(normalize_many(outside["name"])):
            by_key.setdefault(strip_article(k), []).append(i)
        return OutsideNames(by_key, outside)

    @functools.cached_property
    def arrondissements(self) -> dict[str, list[tuple[str, str]]]:
        """City INSEE code -> its arrondissements' (code, name)."""
        a = self._region.aliases[self._region.aliases["type"] == "ARM"]
        out: dict[str, list[tuple[str, str]]] = {}
        for code, name, parent in zip(a["code"], a["name"], a["parent_insee"], strict=True):
            out.setdefault(str(parent), []).append((str(code), str(name)))
        return out

    @functools.cached_property
    def by_postcode_and_name(self) -> dict[tuple[str, str], list[str]]:
        """(postcode, name key) -> INSEE codes of the region's communes with both."""
        c = self._region.communes
        names = dict(zip(c["insee"], c["name"], strict=True))
        pcs = self._region.postcodes[self._region.postcodes["in_region"]]
        index: dict[tuple[str, str], list[str]] = {}
        for pc, insee in zip(pcs["postcode"], pcs["insee"], strict=True):
            if insee in names:
                index.setdefault((str(pc), name_key(names[insee])), []).append(str(insee))
        return index


_PLACE_INDEXES: dict[int, PlaceIndex] = {}


def place_index(region: Region) -> PlaceIndex:
    """The ``PlaceIndex`` of ``region`` (one per region object, dropped with it)."""
    key = id(region)
    index = _PLACE_INDEXES.get(key)
    if index is None:
        index = _PLACE_INDEXES[key] = PlaceIndex(region)
        weakref.finalize(region, _PLACE_INDEXES.pop, key, None)
    return index


def name_key(name: str) -> str:
    """A commune name as the index compares it: normalised, without its leading article."""
    return strip_article(normalize(name))


def _build_index(region: Region) -> NameTable:
    c = region.communes
    a = region.aliases
    full = normalize_many(c["name"])
    keys = [strip_article(k) for k in full]
    insee = list(c["insee"])
    kind = ["commune"] * len(c)
    detail = [""] * len(c)
    own = list(c["insee"])
    commune_key = dict(zip(insee, keys, strict=True))
    alias_full = normalize_many(a["name"])
    for code, name, parent, typ, f in zip(
        a["code"], a["name"], a["parent_insee"], a["type"], alias_full, strict=True
    ):
        k = strip_article(f)
        if code == parent and commune_key.get(parent) == k:
            continue  # the commune déléguée that bears the commune's own name
        keys.append(k)
        full.append(f)
        insee.append(parent)
        kind.append("arrondissement" if typ == "ARM" else "commune déléguée")
        detail.append(name)
        own.append(code)
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    return NameTable(
        keys,
        full,
        np.array(insee),
        np.array(kind),
        np.array(detail, dtype=object),
        np.array(own),
        by_key,
    )


@functools.cache
def departements_by_name(deps: tuple[str, ...] | None = None) -> dict[str, str]:
    """Normalised département name -> number, for ``deps`` (default: all of France)."""
    names = departement_names()
    chosen = deps if deps is not None else tuple(names)
    return {strip_article(normalize(names[code])): code for code in chosen}

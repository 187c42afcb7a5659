"""The patient's search: what was typed (or shared in ``?q=``) becomes an outcome to show.

:func:`run_search` turns a query into a :class:`SearchOutcome` (an answer, the candidates of an
ambiguous name, or a French message with suggestions); the URL helpers read ``?q=`` and
``?jeune=`` safely; :func:`position_query` rounds the browser's location.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from coverage._errors import OutsideRegionError, PlaceError
from coverage.data.place_results import MAX_QUERY_CHARS, OutsidePlaceError, Place
from coverage.outputs import finder_text
from coverage.patient.finder import Finder, FinderResult
from coverage.patient.next_step import next_step

#: Decimals kept from the browser's location (3 decimals is about 100 m): enough to find the
#: commune, and the address is not written in the URL a patient may share.
POSITION_DECIMALS = 3

Outcome = Literal["result", "ambiguous", "outside", "unknown", "empty"]


@dataclass(frozen=True)
class SearchOutcome:
    """What the page shows after a search.

    Attributes
    ----------
    kind
        ``"result"`` (``result`` is set), ``"ambiguous"`` (``candidates``), ``"outside"``
        (outside the region), ``"unknown"`` (no such place) or ``"empty"`` (nothing typed).
    message
        French message for every kind but ``"result"``.
    suggestions
        Closest names for ``"outside"``/``"unknown"``.
    """

    query: str
    kind: Outcome
    result: FinderResult | None = None
    candidates: tuple[Place, ...] = ()
    message: str = ""
    suggestions: tuple[str, ...] = ()
    #: For ``"outside"``: the place's region (INSEE code, name) and how many structures the
    #: tool knows there (0: none), so that the page can offer that region's answer.
    region_code: str = ""
    region_name: str = ""
    offer_structures: int = 0


def run_search(finder: Finder, query: str, *, k: int = 3) -> SearchOutcome:
    """Resolve ``query`` and, when it names one place, find its nearest structures.

    Place errors become outcomes with their French message; other errors propagate.
    """
    text = (query or "").strip()[:MAX_QUERY_CHARS]
    if not text:
        return SearchOutcome(
            text,
            "empty",
            message="Indiquez une commune, un code postal ou des coordonnées "
            "(latitude, longitude).",
        )
    try:
        found = finder.lookup(text)
    except OutsidePlaceError as exc:
        step = next_step(region_code=exc.region_code, served=finder.region.code)
        return SearchOutcome(
            text,
            "outside",
            message=str(exc),
            suggestions=_sugg(exc),
            region_code=exc.region_code if exc.region_code != finder.region.code else "",
            region_name=exc.region_name,
            offer_structures=step.offer_structures,
        )
    except OutsideRegionError as exc:
        return SearchOutcome(text, "outside", message=str(exc), suggestions=_sugg(exc))
    except PlaceError as exc:
        return SearchOutcome(text, "unknown", message=str(exc), suggestions=_sugg(exc))
    if found.ambiguous:
        names = ", ".join(p.patient_label for p in found.places)
        return SearchOutcome(
            text,
            "ambiguous",
            candidates=found.places,
            message=f"« {text} » peut désigner plusieurs communes ({names}). Choisissez la vôtre :",
        )
    return SearchOutcome(text, "result", result=finder.find(found.places[0], k=k))


def _sugg(exc: PlaceError) -> tuple[str, ...]:
    return tuple(str(s) for s in exc.suggestions[:8])


def candidate_query(place: Place, finder: Finder) -> str:
    """The text that selects ``place`` alone: "Murat (15)", or its INSEE code if still ambiguous."""
    text = place.label
    try:
        found = finder.lookup(text)
    except PlaceError:
        return place.insee
    if not found.ambiguous and found.places[0].insee == place.insee:
        return text
    return place.insee


def position_query(lat: object, lon: object) -> str:
    """The query for the browser's location: "45.043, 3.885" (about 100 m precision).

    Raises
    ------
    PlaceError
        ``lat``/``lon`` are not finite numbers.
    """
    unreadable = f"Position du navigateur illisible : latitude {lat!r}, longitude {lon!r}."
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PlaceError(unreadable) from None
    if not (math.isfinite(la) and math.isfinite(lo)):
        raise PlaceError(unreadable)
    return f"{la:.{POSITION_DECIMALS}f}, {lo:.{POSITION_DECIMALS}f}"


def _first(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value)


def query_from_params(params: Mapping[str, Any], name: str = "q") -> str:
    """The place searched, read from the URL's query parameters (``""`` when absent).

    Control characters are dropped and the text is cut to ``places.MAX_QUERY_CHARS``.
    """
    text = re.sub(r"[\x00-\x1f\x7f]", " ", _first(params, name))
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def flag_from_params(params: Mapping[str, Any], name: str) -> bool:
    """A yes/no URL parameter (``1``, ``true``, ``oui``) as a bool."""
    return _first(params, name).strip().lower() in {"1", "true", "oui", "yes"}


def result_heading(result: FinderResult) -> str:
    """ "Structures les plus proches du Puy-en-Velay (Haute-Loire)" (plain text)."""
    return finder_text.result_heading(result)


def far_warning(result: FinderResult) -> str:
    """The warning shown when the embedded registry's nearest structure is far, else ``""``."""
    return finder_text.far_warning(result)

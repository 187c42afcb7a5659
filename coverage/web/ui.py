"""Web page logic: cached loaders, search outcomes, escaped HTML cards, uploads, messages.

Everything the Streamlit page (``app.py``) needs that is not a widget lives here, so it can be
tested without a browser and ``app.py`` stays a thin layout:

- cached loaders (:func:`get_finder`, :func:`finder_map_html`): region, registry and AJA zones
  load once per server process; maps are rendered once per place;
- :func:`run_search` turns what a patient typed into a :class:`SearchOutcome` (an answer, the
  candidates of an ambiguous name, or a French message with suggestions);
- HTML rendering of structure cards and lists, every value from a data file escaped with
  :func:`coverage.outputs.html.esc` and every link checked by
  :func:`coverage.outputs.html.safe_url`;
- query-parameter handling (the place searched lives in the URL: ``?q=Le%20Puy-en-Velay``);
- registry uploads, validated by :mod:`coverage.data.registry` from a temporary file (never
  ``data/``) and kept by the caller in the user's own session;
- :func:`error_message_fr`, which maps an exception to one plain French sentence; details go
  to the server log, never to the page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal

import pandas as pd
import streamlit as st

from coverage._errors import (
    CoverageError,
    DataSourceError,
    OutsideRegionError,
    PlaceError,
    RegistryError,
    RoadEngineError,
)
from coverage.data.places import MAX_QUERY_CHARS, Place
from coverage.data.region import Region
from coverage.data.registry import MAX_FILE_BYTES, Registry, load_registry
from coverage.outputs.html import contact_html, esc, format_number, safe_url
from coverage.patient.finder import Finder, FinderResult, de, format_km, format_min
from coverage.travel import make_model
from coverage.travel.base import TravelModel
from coverage.travel.catchments import load_zones
from coverage.travel.geodesic import GeodesicModel

__all__ = [
    "DOWNLOAD_NAMES",
    "GENERIC_ERROR_FR",
    "OSRM_DATASET_ENV",
    "OSRM_URL_ENV",
    "PAGE_CSS",
    "POSITION_DECIMALS",
    "TRAVEL_ENV",
    "UPLOAD_SUFFIXES",
    "SearchOutcome",
    "aja_zones_frame",
    "analysis_share",
    "candidate_query",
    "charts_svg",
    "commune_options",
    "communes_csv",
    "communes_gpkg",
    "cost_text",
    "coverage_map_html",
    "delta_text",
    "departements_delta_frame",
    "departements_frame",
    "distance_text",
    "error_message_fr",
    "far_warning",
    "finder_for_registry",
    "finder_map_html",
    "flag_from_params",
    "gaps_frame",
    "geolocate_component",
    "get_access",
    "get_analysis",
    "get_finder",
    "get_sites",
    "get_whatif",
    "headline_rows",
    "list_html",
    "load_upload",
    "log_exception",
    "md_escape",
    "position_query",
    "query_from_params",
    "registry_key",
    "report_html",
    "result_heading",
    "run_search",
    "run_whatif",
    "scenario_map_html",
    "sites_frame",
    "sources_html",
    "structure_card_html",
    "travel_model_from_env",
    "upload_key",
]

log = logging.getLogger("coverage.app")

#: Environment variables choosing the page's travel model (default: as the crow flies).
TRAVEL_ENV = "PARCOURS_TRAVEL"
OSRM_DATASET_ENV = "PARCOURS_OSRM_DATASET"
OSRM_URL_ENV = "PARCOURS_OSRM_URL"

#: The one message a reader sees when something unexpected fails.
GENERIC_ERROR_FR = (
    "Désolé, une erreur inattendue empêche d'afficher cette partie de la page. "
    "Réessayez dans un instant ; si le problème continue, signalez-le à l'équipe du service."
)

#: Decimals kept from the browser's location (3 decimals is about 100 m): enough to find the
#: commune, and the address is not written in the URL a patient may share.
POSITION_DECIMALS = 3

#: Upload suffixes the registry reader understands.
UPLOAD_SUFFIXES = (".csv", ".geojson", ".json")


# --------------------------------------------------------------------------- loaders


def travel_model_from_env() -> TravelModel:
    """The travel model named by ``$PARCOURS_TRAVEL`` (``geodesic`` when unset).

    ``osrm`` also reads ``$PARCOURS_OSRM_DATASET`` / ``$PARCOURS_OSRM_URL``. A model that
    cannot start falls back to the geodesic one (the page says which model measured).
    """
    kind = os.environ.get(TRAVEL_ENV, "geodesic").strip() or "geodesic"
    try:
        return make_model(
            kind,
            dataset=os.environ.get(OSRM_DATASET_ENV) or None,
            url=os.environ.get(OSRM_URL_ENV) or None,
        )
    except CoverageError:
        log.exception("travel model %r unavailable; using the geodesic model", kind)
        return GeodesicModel()


def registry_key(path: str | os.PathLike[str] | None = None) -> str:
    """Cache key of a registry file: its path and modification time (``""`` if unreadable)."""
    from coverage.data.registry import default_registry_path

    p = Path(path) if path is not None else default_registry_path()
    try:
        stat = p.stat()
    except OSError:
        return f"{p}:absent"
    return f"{p.resolve()}:{stat.st_mtime_ns}:{stat.st_size}"


@st.cache_resource(show_spinner=False, max_entries=4)
def get_finder(key: str) -> Finder:
    """The server's finder for the registry in force (``$PARCOURS_REGISTRY`` or embedded).

    Parameters
    ----------
    key
        :func:`registry_key` of the registry file: a new key (file edited) loads again.

    Raises
    ------
    RegistryError, DataSourceError
        The registry or the reference data cannot be loaded.
    """
    del key  # only part of the cache key
    finder = Finder.load(model=travel_model_from_env())
    _warm_up(finder)
    return finder


def _warm_up(finder: Finder) -> None:
    """Build the lazy indexes (place names, AJA zone shapes) before the first search."""
    try:
        finder.lookup("Lyon")
        finder.zones.polygons(finder.region)
    except CoverageError:  # pragma: no cover - the page reports errors at search time
        log.exception("warm-up failed")


def finder_for_registry(region: Region, registry: Registry, *, model: TravelModel) -> Finder:
    """A finder using an uploaded registry (AJA zones computed or read for it)."""
    zones = load_zones(region=region, registry=registry, model=model)
    return Finder(region, registry, zones, model)


@st.cache_data(show_spinner=False, max_entries=256)
def finder_map_html(
    key: str, query: str, young: bool, _result: FinderResult, _finder: Finder
) -> str:
    """The patient's map as one HTML document (Leaflet inline), cached per place.

    ``key`` (registry), ``query`` and ``young`` identify the answer; the leading-underscore
    arguments are not hashed.
    """
    from coverage.outputs.maps import base as maps
    from coverage.outputs.maps.finder import finder_map

    del key, query, young
    return maps.to_html(finder_map(_result, _finder))


# --------------------------------------------------------------------------- search


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
    except OutsideRegionError as exc:
        return SearchOutcome(text, "outside", message=str(exc), suggestions=_sugg(exc))
    except PlaceError as exc:
        return SearchOutcome(text, "unknown", message=str(exc), suggestions=_sugg(exc))
    if found.ambiguous:
        names = ", ".join(p.label for p in found.places)
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


def position_query(lat: float, lon: float) -> str:
    """The query for the browser's location: "45.043, 3.885" (about 100 m precision).

    Raises
    ------
    PlaceError
        ``lat``/``lon`` are not finite numbers.
    """
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        raise PlaceError(
            f"Position du navigateur illisible : latitude {lat!r}, longitude {lon!r}."
        ) from None
    if not (math.isfinite(la) and math.isfinite(lo)):
        raise PlaceError(f"Position du navigateur illisible : latitude {lat!r}, longitude {lon!r}.")
    return f"{la:.{POSITION_DECIMALS}f}, {lo:.{POSITION_DECIMALS}f}"


def query_from_params(params: Mapping[str, Any], name: str = "q") -> str:
    """The place searched, read from the URL's query parameters (``""`` when absent).

    Control characters are dropped and the text is cut to ``places.MAX_QUERY_CHARS``.
    """
    value = params.get(name, "")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(value))
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def flag_from_params(params: Mapping[str, Any], name: str) -> bool:
    """A yes/no URL parameter (``1``, ``true``, ``oui``) as a bool."""
    value = params.get(name, "")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value).strip().lower() in {"1", "true", "oui", "yes"}


# --------------------------------------------------------------------------- HTML


def _isnan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _text(row: Mapping[str, Any], key: str) -> str:
    v = row.get(key)
    if _isnan(v):
        return ""
    return str(v).strip()


def distance_text(row: Mapping[str, Any], *, model_label: str) -> str:
    """ "159 km à vol d'oiseau", with the travel time when the model has one."""
    km = row.get("distance_km")
    text = f"{format_km(float(km))} {model_label}" if not _isnan(km) else "distance inconnue"
    minutes = row.get("duration_min")
    if not _isnan(minutes):
        text += f", environ {format_min(float(minutes))}"
    return text


def structure_card_html(
    row: Mapping[str, Any],
    *,
    model_label: str,
    rank: int | None = None,
    badge: str = "",
) -> str:
    """One structure as an escaped HTML card: name, town, distance, contact, services, note.

    Parameters
    ----------
    row
        A structure of a ``FinderResult`` (``finder.STRUCTURE_FIELDS``).
    model_label
        How distances were measured ("à vol d'oiseau").
    rank
        1, 2, 3... shown before the name.
    badge
        Short trusted label shown above the name (a constant of the page, not data).
    """
    name = esc(_text(row, "name")) or "Structure sans nom"
    lead = f"{rank}. " if rank is not None else ""
    town = _text(row, "commune_name")
    dep = _text(row, "dep")
    where = esc(f"{town} ({dep})" if town and dep else town or dep)
    parts = ['<article class="pc-card">']
    if badge:
        parts.append(f'<div class="pc-badge">{esc(badge)}</div>')
    parts.append(f'<h3 class="pc-name">{lead}{name}</h3>')
    if where:
        parts.append(f'<div class="pc-where">{where}</div>')
    parts.append(f'<div class="pc-dist">{esc(distance_text(row, model_label=model_label))}</div>')
    contact = contact_html(
        address=row.get("address"),
        phone=row.get("phone"),
        email=row.get("email"),
        website=row.get("website"),
    )
    if contact:
        parts.append(f'<div class="pc-contact">{contact}</div>')
    else:
        parts.append(
            '<div class="pc-contact pc-muted">Coordonnées non publiées par les sources '
            "consultées : demandez-les à votre médecin ou à l'ARS.</div>"
        )
    if services := _text(row, "services"):
        parts.append(f'<div class="pc-services">Services : {esc(services)}</div>')
    if bool(row.get("commune_inferred")) and not _isnan(row.get("commune_inferred")):
        note = _text(row, "location_note")
        parts.append(
            '<div class="pc-note">Lieu déduit, non confirmé par une source'
            + (f" : {esc(note)}" if note else ".")
            + "</div>"
        )
    parts.append("</article>")
    return "".join(parts)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&\"'])")


def md_escape(text: object) -> str:
    """Text that Streamlit's Markdown shows literally: no link, no emphasis, no emoji code.

    Every ASCII punctuation character that Markdown (or Streamlit's ``:color[...]`` and
    ``:emoji:`` extensions, or ``$`` maths) could read is backslash-escaped; line breaks stay.
    """
    if _isnan(text):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def list_html(items: list[str], *, css_class: str = "pc-list") -> str:
    """A bulleted list of plain texts (each escaped)."""
    rows = "".join(f"<li>{esc(t)}</li>" for t in items)
    return f'<ul class="{esc(css_class)}">{rows}</ul>'


def sources_html(structures: pd.DataFrame) -> str:
    """The registry's distinct sources as escaped links (text only when not a safe URL)."""
    items = []
    for src in dict.fromkeys(str(s).strip() for s in structures.get("source", []) if s):
        url = safe_url(src)
        if url and url.lower().startswith(("http://", "https://")):
            items.append(
                f'<li><a href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
                f"{esc(src)}</a></li>"
            )
        else:
            items.append(f"<li>{esc(src)}</li>")
    return '<ul class="pc-list">' + "".join(items) + "</ul>"


def result_heading(result: FinderResult) -> str:
    """ "Structures les plus proches du Puy-en-Velay (43)" (plain text)."""
    p = result.place
    if p.matched == "coordonnées":
        return f"Structures les plus proches du point indiqué ({p.name}, {p.dep})"
    return f"Structures les plus proches {de(p.name)} ({p.dep})"


def approximate_note(result: FinderResult) -> str:
    """A request to check the commune when the typed name only approximately matched."""
    return result.approximate_note_fr()


def far_warning(result: FinderResult) -> str:
    """The warning shown when the embedded registry's nearest structure is far, else ``""``."""
    text = result.far_warning_fr()
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- uploads


def _upload_name(name: str) -> str:
    """The uploaded file's base name, cleaned for display (no folders, no control chars)."""
    base = PurePath(str(name).replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()[:120]
    return base or "fichier"


def load_upload(name: str, data: bytes, *, region: Region) -> Registry:
    """Validate an uploaded registry file and return it; nothing is written under ``data/``.

    The bytes go to a private temporary folder (deleted on return), are read and validated by
    :func:`coverage.data.registry.load_registry`, and the registry's ``path`` is set to the file's
    base name for display.

    Raises
    ------
    RegistryError
        The file is refused; ``problems`` lists one French message per problem (line, field).
    """
    shown = _upload_name(name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise RegistryError(
            shown,
            [
                f"format non reconnu : {suffix or 'sans extension'!r} ; attendu un fichier "
                ".csv, .geojson ou .json."
            ],
        )
    if len(data) > MAX_FILE_BYTES:
        raise RegistryError(
            shown,
            [f"fichier trop gros ({len(data)} octets) ; au plus {MAX_FILE_BYTES} octets."],
        )
    with tempfile.TemporaryDirectory(prefix="parcours-upload-") as folder:
        path = Path(folder) / f"registre{suffix}"
        path.write_bytes(data)
        try:
            registry = load_registry(path, region=region)
        except RegistryError as exc:
            problems = [p.replace(str(path), shown).replace(path.name, shown) for p in exc.problems]
            raise RegistryError(shown, problems) from None
    return dataclasses.replace(registry, path=shown, is_default=False)


def upload_key(data: bytes) -> str:
    """Cache key of an uploaded registry: a digest of its bytes."""
    return "upload:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- errors


def error_message_fr(exc: BaseException) -> str:
    """One plain French message for ``exc``, safe to show to any reader.

    Messages written for readers (place, registry and data errors) are shown as they are;
    anything else gets :data:`GENERIC_ERROR_FR` (the details go to the server log).
    """
    if isinstance(exc, RegistryError):
        return (
            f"Le fichier de structures {exc.path!r} est refusé "
            f"({len(exc.problems)} problème(s)) ; voir le détail ci-dessous."
        )
    if isinstance(exc, PlaceError):
        return str(exc)
    if isinstance(exc, DataSourceError):
        return (
            "Les données de référence sont indisponibles sur ce serveur : "
            f"{exc} Prévenez l'équipe du service."
        )
    if isinstance(exc, RoadEngineError):
        return (
            "Le calcul des trajets par la route est indisponible pour le moment. "
            "Réessayez plus tard."
        )
    return GENERIC_ERROR_FR


def log_exception(exc: BaseException, *, where: str) -> None:
    """Write ``exc`` with its traceback to the server log."""
    log.error("error in %s", where, exc_info=(type(exc), exc, exc.__traceback__))


# --------------------------------------------------------------------------- page assets

#: Style of the page's own HTML (cards, lists): large type, big tap targets, narrow-screen
#: friendly. Trusted constant, injected once per run.
PAGE_CSS = """<style>
.pc-card { border: 1px solid #c9d3de; border-radius: 10px; padding: 0.8rem 1rem;
  margin: 0 0 0.8rem; background: #fff; font-size: 1.05rem; line-height: 1.5;
  overflow-wrap: anywhere; }
.pc-card h3.pc-name { font-size: 1.2rem; margin: 0 0 0.2rem; padding: 0; line-height: 1.3; }
.pc-badge { display: inline-block; background: #ede9fe; color: #4c1d95; border-radius: 6px;
  padding: 0.05rem 0.5rem; font-size: 0.9rem; margin-bottom: 0.3rem; }
.pc-where { color: #333; }
.pc-dist { font-weight: 600; color: #064e3b; margin: 0.2rem 0; }
.pc-contact a { display: inline-block; padding: 0.35rem 0; min-height: 44px;
  line-height: 2; color: #0b5cad; }
.pc-muted { color: #444; font-style: italic; }
.pc-services { color: #333; }
.pc-note { margin-top: 0.4rem; font-size: 0.95rem; color: #5b3a00; background: #fff7e6;
  border-left: 4px solid #d97706; padding: 0.3rem 0.6rem; }
.pc-list { margin: 0.2rem 0 0.6rem 1.2rem; padding: 0; overflow-wrap: anywhere; }
.pc-list li { margin: 0.2rem 0; }
.pc-p { margin: 0 0 0.6rem; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  h1 { font-size: 1.9rem !important; line-height: 1.2 !important; }
}
.pc-problems { font-family: ui-monospace, monospace; font-size: 0.9rem;
  overflow-wrap: anywhere; }
</style>"""

_GEO_HTML = (
    '<div class="geo"><button type="button" class="geo-btn">Utiliser ma position</button>'
    '<span class="geo-msg" role="status" aria-live="polite"></span></div>'
)
_GEO_CSS = """
.geo { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem;
  font-family: var(--st-font, sans-serif); }
.geo-btn { font: inherit; font-size: 1rem; min-height: 44px; padding: 0.4rem 0.9rem;
  border-radius: 8px; border: 1px solid #0b5cad; background: #fff; color: #0b5cad;
  cursor: pointer; }
.geo-btn:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
.geo-btn[disabled] { opacity: 0.5; cursor: not-allowed; }
.geo-msg { color: #333; }
"""
# The browser's Geolocation API only: no third-party call is made by this code (the browser
# itself may ask its location provider). Coordinates are rounded by `position_query`.
_GEO_JS = """
export default function (component) {
  const { setTriggerValue, parentElement } = component;
  const btn = parentElement.querySelector(".geo-btn");
  const msg = parentElement.querySelector(".geo-msg");
  if (!btn) { return; }
  if (!("geolocation" in navigator) || !window.isSecureContext) {
    btn.disabled = true;
    msg.textContent = "Position non disponible dans ce navigateur : tapez votre commune.";
    return;
  }
  btn.onclick = () => {
    msg.textContent = "Recherche de votre position…";
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        msg.textContent = "";
        setTriggerValue("position", { lat: pos.coords.latitude, lon: pos.coords.longitude });
      },
      (err) => {
        msg.textContent = err && err.code === 1
          ? "Accès à la position refusé : tapez votre commune."
          : "Position introuvable : tapez votre commune.";
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  };
}
"""

_geo_component: Any = None


def geolocate_component() -> Any:
    """The "Utiliser ma position" button (a Streamlit v2 component, registered once).

    Mount it with ``geolocate_component()(key=..., on_position_change=...)``; its
    ``position`` trigger is ``{"lat": ..., "lon": ...}`` for one run after a click.
    """
    global _geo_component
    if _geo_component is None:
        _geo_component = st.components.v2.component(
            "parcours_geolocate", html=_GEO_HTML, css=_GEO_CSS, js=_GEO_JS
        )
    return _geo_component


# --------------------------------------------------------------------------- planner desk
#
# Every loader below takes hashable identifiers (registry key, threshold, cost) that make the
# cache key, and the objects they derive from as underscore arguments, which Streamlit does not
# hash. The returned objects are shared between reruns and must not be mutated.


@st.cache_resource(show_spinner=False, max_entries=8)
def get_access(key: str, _finder: Finder) -> Any:
    """Commune x structure costs of the finder's registry (``access.build_access``)."""
    from coverage.analysis.access import build_access

    del key
    f = _finder
    return build_access(f.region, f.registry, zones=f.zones, model=f.model)


@st.cache_resource(show_spinner=False, max_entries=32)
def get_analysis(key: str, threshold: float, by: str, _access: Any, _finder: Finder) -> Any:
    """The coverage analysis (``analyse.analyse``) at ``threshold`` on cost ``by``."""
    from coverage.analysis.analyse import analyse

    del key
    return analyse(
        _access, region=_finder.region, registry=_finder.registry, threshold=threshold, by=by
    )


@st.cache_resource(show_spinner=False, max_entries=32)
def get_whatif(key: str, threshold: float, by: str, _access: Any, _region: Region) -> Any:
    """A ``coverage.analysis.scenario.WhatIf`` whose base figures are computed once."""
    from coverage.analysis.scenario import WhatIf

    del key
    return WhatIf(_access, _region, threshold=threshold, by=by)


@st.cache_resource(show_spinner=False, max_entries=64)
def run_whatif(
    key: str, threshold: float, by: str, add: tuple[str, ...], remove: tuple[str, ...], _whatif: Any
) -> Any:
    """``WhatIf.run`` for structures added at communes ``add`` (INSEE codes) and ``remove``."""
    from coverage.analysis.scenario import Scenario

    del key, threshold, by
    return _whatif.run(Scenario(add=add, remove=remove))


@st.cache_resource(show_spinner=False, max_entries=32)
def get_sites(key: str, threshold: float, by: str, k: int, objective: str, _access: Any) -> Any:
    """Greedy siting suggestions (``coverage.analysis.analyse.suggest_sites``)."""
    from coverage.analysis.analyse import suggest_sites

    del key
    return suggest_sites(
        _access,
        k=k,
        objective=objective,
        threshold=threshold,  # type: ignore[arg-type]
        by=by,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def coverage_map_html(
    key: str,
    threshold: float,
    by: str,
    scenario: tuple = (),
    *,
    _analysis: Any,
    _region: Region,
    _scenario: Any = None,
) -> str:
    """The coverage choropleth (``coverage.outputs.maps.coverage``) as one HTML document."""
    from coverage.outputs.maps import base as maps
    from coverage.outputs.maps.coverage import coverage_map

    del key, threshold, by, scenario
    return maps.to_html(coverage_map(_analysis, _region, scenario=_scenario))


@st.cache_data(show_spinner=False, max_entries=16)
def scenario_map_html(
    key: str,
    threshold: float,
    by: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    *,
    _result: Any,
    _finder: Finder,
) -> str:
    """The coverage map after a what-if (its choropleth and its added structures)."""
    from coverage.analysis.analyse import analyse
    from coverage.outputs.maps import base as maps
    from coverage.outputs.maps.coverage import coverage_map

    del key, add, remove
    after = analyse(
        _result.access, region=_finder.region, registry=_finder.registry, threshold=threshold, by=by
    )  # type: ignore[arg-type]
    return maps.to_html(coverage_map(after, _finder.region, scenario=_result))


@st.cache_data(show_spinner=False, max_entries=16)
def report_html(key: str, threshold: float, by: str, *, _analysis: Any) -> str:
    """The planners' HTML report (``coverage.outputs.report.render_report``)."""
    from coverage.outputs.report import render_report

    del key, threshold, by
    return render_report(_analysis)


@st.cache_data(show_spinner=False, max_entries=16)
def charts_svg(key: str, threshold: float, by: str, *, _analysis: Any) -> tuple[str, str]:
    """(histogram, Lorenz curve) as inline SVG (``""`` when undefined)."""
    from coverage.outputs.report import histogram_svg, lorenz_svg

    del key, threshold, by
    return histogram_svg(_analysis), lorenz_svg(_analysis)


def communes_csv(analysis: Any) -> bytes:
    """The per-commune table as the documented French CSV (``coverage.outputs.exports``)."""
    from coverage.outputs import exports

    table = exports.commune_table(analysis)
    decimals = {dst: d for _, dst, d in exports.COMMUNE_EXPORT}
    return exports.to_csv_bytes(table, decimals=decimals)


def communes_gpkg(analysis: Any, region: Region) -> bytes:
    """The GeoPackage export as bytes (written in a private temporary folder)."""
    from coverage.outputs import exports

    with tempfile.TemporaryDirectory(prefix="parcours-export-") as folder:
        path = exports.write_gpkg(
            analysis, Path(folder) / exports.EXPORT_NAMES["gpkg"], region=region
        )
        return path.read_bytes()


#: Fixed names of the files the page offers for download.
DOWNLOAD_NAMES: dict[str, str] = {
    "coverage_map": "carte-couverture.html",
    "scenario_map": "carte-scenario.html",
    "report": "rapport-couverture.html",
    "csv": "communes.csv",
    "gpkg": "communes.gpkg",
    "finder_map": "carte-structures-proches.html",
}


def commune_options(region: Region) -> dict[str, str]:
    """INSEE code -> "Name (dep)" for every commune, sorted by name (for pickers)."""
    memo = region._memo
    if "ui_commune_options" not in memo:
        c = region.communes.sort_values(["name", "dep"], kind="stable")
        memo["ui_commune_options"] = dict(
            zip(c["insee"], c["name"] + " (" + c["dep"] + ")", strict=True)
        )
    return memo["ui_commune_options"]


def cost_text(value: object, unit: str, *, decimals: int = 1) -> str:
    """ "12,3 km" (French), "–" when undefined."""

    if _isnan(value) or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{format_number(value, decimals=decimals)} {unit}"


def headline_rows(head: Mapping[str, Any], *, unit: str, threshold: float) -> list[tuple[str, str]]:
    """The headline figures as (French label, value) rows, for a compact table."""
    from coverage.analysis.analyse import format_share

    if not head:
        return []
    z = format_number(threshold)
    return [
        (
            f"Habitants à plus de {z} {unit}",
            f"{format_number(head['population_beyond'])} ({format_share(head['share_beyond'])})",
        ),
        ("Moyenne par habitant", cost_text(head["mean"], unit)),
        ("Médiane", cost_text(head["median"], unit)),
        ("P90 (90 % des habitants en deçà)", cost_text(head["p90"], unit)),
        ("Maximum", cost_text(head["max"], unit)),
        ("Indice de Gini", format_number(head["gini"], decimals=3)),
        ("Indice de Theil (T)", format_number(head["theil_t"], decimals=3)),
        (
            "Theil : part due aux écarts entre départements",
            format_share(head.get("theil_between_share_dep")),
        ),
        ("Ratio de Palma", format_number(head["palma"], decimals=2)),
        ("Communes sans itinéraire", format_number(head["communes_no_route"])),
    ]


def departements_frame(analysis: Any) -> pd.DataFrame:
    """Per-département table with French headers, for display."""
    d = analysis.departements
    u = analysis.unit
    return pd.DataFrame(
        {
            "Département": d["dep"] + " " + d["dep_name"],
            "Habitants": d["population"].round(0),
            f"Moyenne ({u})": d["mean"].round(1),
            f"Médiane ({u})": d["median"].round(1),
            f"P90 ({u})": d["p90"].round(1),
            "Au-delà du seuil (%)": (100 * d["share_beyond"]).round(1),
            "Habitants au-delà": d["population_beyond"].round(0),
            "Structures tous publics": d["tous_publics"],
            "Dispositifs AJA": d["aja"],
            "Non localisées": d["not_located"],
        }
    )


def aja_zones_frame(analysis: Any) -> pd.DataFrame:
    """Per-AJA-zone table with French headers, for display."""
    z = analysis.aja_zones
    u = analysis.unit
    if z.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Dispositif": z["device_name"].where(z["device_name"] != "", z["device_id"]),
            "Commune": z["device_commune"],
            "Communes": z["communes"],
            "Habitants": z["population"].round(0),
            f"Moyenne ({u})": z["mean"].round(1),
            f"P90 ({u})": z["p90"].round(1),
            f"Max. ({u})": z["max"].round(1),
            "Au-delà du seuil (%)": (100 * z["share_beyond"]).round(1),
        }
    )


def gaps_frame(analysis: Any, *, top: int = 200) -> pd.DataFrame:
    """The most populated communes beyond the threshold, French headers."""
    g = analysis.gaps.head(top)
    u = analysis.unit
    return pd.DataFrame(
        {
            "Commune": g["name"],
            "Code INSEE": g["insee"],
            "Dép.": g["dep"],
            "EPCI": g["epci_name"],
            "Habitants": g["population"].round(0),
            f"Coût ({u})": g[analysis.by].round(1),
            "Structure la plus proche": g["nearest_name"],
        }
    )


def departements_delta_frame(result: Any) -> pd.DataFrame:
    """Per-département before/after of a what-if, French headers."""
    d = result.departements
    u = result.unit
    return pd.DataFrame(
        {
            "Département": d["dep"] + " " + d["dep_name"],
            "Au-delà avant (%)": (100 * d["share_beyond_before"]).round(1),
            "Au-delà après (%)": (100 * d["share_beyond_after"]).round(1),
            f"Moyenne avant ({u})": d["mean_before"].round(1),
            f"Moyenne après ({u})": d["mean_after"].round(1),
        }
    )


def sites_frame(sites: Any) -> pd.DataFrame:
    """Siting suggestions with French headers."""
    t = sites.table
    return pd.DataFrame(
        {
            "Rang": t["rank"],
            "Commune": t["name"],
            "Dép.": t["dep"],
            "EPCI": t["epci_name"],
            "Habitants ramenés sous le seuil": t["people_within"].round(0),
            "Au-delà du seuil ensuite (%)": (100 * t["share_beyond_after"]).round(1),
        }
    )


def delta_text(value: object, unit: str, *, decimals: int = 1, scale: float = 1.0) -> str | None:
    """A signed French delta for ``st.metric``: "-1,6 km", "+0,3 point" (ASCII sign first).

    ``None`` when undefined. ``scale`` multiplies the value (100 for shares in points).
    """
    if _isnan(value) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return None
    v = float(value) * scale
    sign = "-" if v < 0 else "+"
    body = f"{abs(v):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{sign}{body} {unit}".rstrip()


def analysis_share(share: object) -> str:
    """French percentage of a share: 0.1234 -> "12,3 %"."""
    from coverage.analysis.analyse import format_share

    return format_share(None if _isnan(share) else float(share))  # type: ignore[arg-type]

"""Typed cached loaders of the page: finders, analyses, what-ifs, maps and export files.

The builders themselves are :mod:`coverage.web.builders` (no Streamlit there). Every loader
takes hashable identifiers (registry key, threshold, cost, query) that make the Streamlit cache
key, and the objects it derives from as leading-underscore arguments, which
Streamlit does not hash. The returned objects are shared between reruns and sessions: they
must not be mutated. Heavy modules (maps, report, exports) are imported when first needed.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

import streamlit as st

from coverage._errors import CoverageError
from coverage.data.region import Region
from coverage.data.registry_files import template_xlsx
from coverage.geography import region_spec
from coverage.patient.finder import Finder, FinderResult
from coverage.web.builders import (
    build_access_for,
    build_analysis,
    build_whatif,
    finder_with_model,
    render_charts,
    render_coverage_map,
    render_finder_map,
    render_report,
)
from coverage.web.config import served_region, travel_model, travel_model_from_env
from coverage.web.region_budget import RegionCache, pinned_regions

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.scenario import WhatIf

log = logging.getLogger("coverage.app")


# --------------------------------------------------------------------------- finders


def get_finder(key: str, region: str) -> Finder:
    """The server's finder for the registry in force (``$PARCOURS_REGISTRY`` or embedded) of
    ``region`` (INSEE code, name or "FR").

    ``key`` is :func:`coverage.web.config.registry_key` of the registry file: a new key (file
    edited) loads again. Kept in :func:`finder_cache`: France and the server's own region for
    good, at most :data:`~coverage.web.region_budget.LRU_REGIONS` others, so at most
    :data:`~coverage.web.region_budget.MAX_REGIONS_IN_MEMORY` finders in memory. Whether a
    session may cause a build is :mod:`coverage.web.region_budget`'s rule, checked by
    :func:`coverage.web.session.current_source`.

    Raises
    ------
    RegistryError, DataSourceError
        The registry or the reference data cannot be loaded.
    """
    code = region_spec(region).code
    return finder_cache().get(code, key, lambda: _load_finder(code))


@st.cache_resource(show_spinner=False, max_entries=1)
def _finder_cache(served: str) -> RegionCache[Finder]:
    """The process's one finder cache, for the server's region ``served`` (a new holder when
    the served region changes; the old one is dropped)."""
    return RegionCache(pinned_regions(served))


def finder_cache() -> RegionCache[Finder]:
    """The finders in memory, shared by every session."""
    return _finder_cache(served_region().code)


def clear_finders() -> None:
    """Drop every finder in memory (the next request of each region builds it again)."""
    _finder_cache.clear()


def _load_finder(region: str) -> Finder:
    finder = Finder.load(model=travel_model_from_env(region), region=region)
    _warm_up(finder)
    return finder


#: Places whose lookups build the lazy indexes: the region's names, the names of France
#: outside it (a place elsewhere is refused) and fuzzy matching (a misspelt name).
WARM_UP_PLACES = ("Lyon", "Marseille", "Grenobel")


def _warm_up(finder: Finder) -> None:
    """Build the lazy indexes and the registry template before the first visitor.

    Built here, they are not allocated among the visitors' short-lived objects, where one
    long-lived block keeps a whole allocator arena once the visitors have gone
    (``RELIABILITY.md``, section 4).
    """
    for place in WARM_UP_PLACES:
        try:
            finder.lookup(place)
        except CoverageError:  # "Marseille" is refused: what builds the index of France
            pass
    try:
        finder.zones.polygons(finder.region)
    except CoverageError:  # pragma: no cover - the page reports errors at search time
        log.exception("warm-up failed")
    template_xlsx()
    importlib.import_module("streamlit.emojis")  # 5,000 objects, on a page's first icon check


@st.cache_data(show_spinner=False, max_entries=64)
def finder_map_html(
    key: str, query: str, young: bool, _result: FinderResult, _finder: Finder
) -> str:
    """:func:`render_finder_map`, cached per registry, query and age switch."""
    del key, query, young
    return render_finder_map(_result, _finder)


@st.cache_data(show_spinner=False, max_entries=4)
def commune_options(code: str, _region: Region) -> dict[str, str]:
    """INSEE code -> "Name (dep)" for every commune, sorted by name (for pickers).

    Cached per region (``code``, the INSEE region code): sessions may serve different ones.
    """
    del code
    c = _region.communes.sort_values(["name", "dep"], kind="stable")
    return dict(zip(c["insee"], c["name"] + " (" + c["dep"] + ")", strict=True))


# --------------------------------------------------------------------------- planners' desk


@st.cache_resource(show_spinner=False, max_entries=4)
def get_model_finder(key: str, kind: str, _finder: Finder) -> Finder:
    """The server's registry ``key`` measured by the travel model ``kind`` (the desk's choice)."""
    del key
    return finder_with_model(_finder, travel_model(kind, _finder.region))


@st.cache_resource(show_spinner=False, max_entries=8)
def get_access(key: str, _finder: Finder) -> AccessTable:
    """:func:`build_access_for`, cached per registry key."""
    del key
    return build_access_for(_finder)


@st.cache_resource(show_spinner=False, max_entries=32)
def get_analysis(
    key: str, threshold: float, by: Cost, _access: AccessTable, _finder: Finder
) -> Analysis:
    """:func:`build_analysis`, cached per registry key, threshold and cost."""
    del key
    return build_analysis(_access, _finder, threshold=threshold, by=by)


@st.cache_resource(show_spinner=False, max_entries=32)
def get_whatif(
    key: str, threshold: float, by: Cost, _access: AccessTable, _region: Region
) -> WhatIf:
    """:func:`build_whatif`, cached per registry key, threshold and cost."""
    del key
    return build_whatif(_access, _region, threshold=threshold, by=by)


# --------------------------------------------------------------------------- files


@st.cache_data(show_spinner=False, max_entries=16)
def coverage_map_html(
    key: str, threshold: float, by: Cost, *, _analysis: Analysis, _region: Region
) -> str:
    """:func:`render_coverage_map`, cached per registry key, threshold and cost."""
    del key, threshold, by
    return render_coverage_map(_analysis, _region)


@st.cache_data(show_spinner=False, max_entries=16)
def report_html(key: str, threshold: float, by: Cost, *, _analysis: Analysis) -> str:
    """:func:`render_report`, cached per registry key, threshold and cost."""
    del key, threshold, by
    return render_report(_analysis)


@st.cache_data(show_spinner=False, max_entries=16)
def charts_svg(key: str, threshold: float, by: Cost, *, _analysis: Analysis) -> tuple[str, str]:
    """:func:`render_charts`, cached per registry key, threshold and cost."""
    del key, threshold, by
    return render_charts(_analysis)

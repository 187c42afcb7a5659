"""This visitor's session: the registry in use (an upload of theirs, else the server's)."""

from __future__ import annotations

import time

import streamlit as st

from coverage._errors import ValidationError
from coverage.geography import RegionSpec, region_spec
from coverage.patient.finder import Finder
from coverage.web import region_budget
from coverage.web.config import registry_key, served_region
from coverage.web.loaders import finder_cache, get_finder
from coverage.web.region_budget import RegionSwitchError, SwitchBudget
from coverage.web.sources import ServerSource, Source, UploadSource

#: ``st.session_state`` key of this session's :class:`UploadSource`.
UPLOAD_STATE = "upload"
#: ``st.session_state`` key of the region this session chose (INSEE code).
REGION_STATE = "region"
#: ``st.session_state`` key of this session's :class:`SwitchBudget`.
BUDGET_STATE = "region_budget"


def session_upload() -> UploadSource | None:
    """The registry this user uploaded (this session only), if any."""
    up = st.session_state.get(UPLOAD_STATE)
    return up if isinstance(up, UploadSource) else None


def set_upload(upload: UploadSource) -> None:
    """Use ``upload`` for the rest of this session (the desk's state is reset)."""
    st.session_state[UPLOAD_STATE] = upload
    st.session_state.pop("planner", None)


def clear_upload() -> None:
    """Back to the server's registry (the upload and all it built are dropped)."""
    st.session_state.pop(UPLOAD_STATE, None)


def session_region() -> RegionSpec:
    """The region this session is served: its choice (``?region=`` or the page's control),
    else the server's (:func:`~coverage.web.config.served_region`: ``$PARCOURS_REGION``, else
    84). An unknown ``?region=`` is ignored. The page resolves the region here, once per run,
    and passes it down."""
    chosen = st.session_state.get(REGION_STATE) or st.query_params.get("region") or None
    if not chosen:
        return served_region()
    try:
        return region_spec(str(chosen))
    except ValidationError:
        return served_region()


def set_region(code: str) -> None:
    """Serve region ``code`` to this session from now on (an upload of another region and
    the desk's state are dropped); the address keeps it, so that a shared link does too."""
    spec = region_spec(code)
    if spec.code == session_region().code:
        return
    st.session_state[REGION_STATE] = spec.code
    st.session_state["region_choice"] = spec.code  # the patient page's picker follows
    st.query_params["region"] = spec.code
    clear_upload()
    st.session_state.pop("planner", None)


def current_source() -> Source:
    """The registry in use by this session: its upload, else the server's (of its region)."""
    up = session_upload()
    if up is not None:
        return up
    region = session_region().code
    key = registry_key(region=region)
    return ServerSource(key, server_finder(key, region))


def server_finder(key: str, region: str) -> Finder:
    """The server's finder of ``region`` for this session, within its switch budget.

    A region in memory, France and the server's own region are always served; any other
    counts against the session's :class:`SwitchBudget`.

    Raises
    ------
    RegionSwitchError
        This session caused too many builds lately; nothing is built (French message).
    """
    cache, budget = finder_cache(), _session_budget()
    if not budget.admit(free=cache.is_free(region, key), now=time.monotonic()):
        served = served_region().code
        stay = [c for c in reversed(budget.recent) if cache.is_free(c, registry_key(region=c))]
        raise RegionSwitchError(stay_on=[*stay, served])
    finder = get_finder(key, region)
    budget.served(region)
    return finder


def _session_budget() -> SwitchBudget:
    budget = st.session_state.get(BUDGET_STATE)
    if not isinstance(budget, SwitchBudget):
        budget = SwitchBudget(
            limit=region_budget.SWITCH_LIMIT, window_s=region_budget.SWITCH_WINDOW_S
        )
        st.session_state[BUDGET_STATE] = budget
    return budget


def current_finder() -> Finder:
    """The finder of this session: the uploaded registry's, else the server's."""
    return current_source().finder

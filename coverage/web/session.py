"""This visitor's session: the registry in use (an upload of theirs, else the server's)."""

from __future__ import annotations

import streamlit as st

from coverage.patient.finder import Finder
from coverage.web.config import registry_key
from coverage.web.loaders import get_finder
from coverage.web.sources import ServerSource, Source, UploadSource

#: ``st.session_state`` key of this session's :class:`UploadSource`.
UPLOAD_STATE = "upload"


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


def current_source() -> Source:
    """The registry in use by this session: its upload, else the server's."""
    up = session_upload()
    if up is not None:
        return up
    key = registry_key()
    return ServerSource(key, get_finder(key))


def current_finder() -> Finder:
    """The finder of this session: the uploaded registry's, else the server's."""
    return current_source().finder

"""This visitor's session: the registry in use (an upload of theirs, else the server's)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from coverage.patient.finder import Finder
from coverage.web.config import registry_key
from coverage.web.loaders import get_finder

#: ``st.session_state`` key of the :class:`SessionUpload`.
UPLOAD_STATE = "upload"


@dataclass(frozen=True)
class SessionUpload:
    """A registry uploaded in this session: cache key, file name shown, and its finder."""

    key: str
    name: str
    finder: Finder


def session_upload() -> SessionUpload | None:
    """The registry this user uploaded (this session only), if any."""
    up = st.session_state.get(UPLOAD_STATE)
    return up if isinstance(up, SessionUpload) else None


def set_upload(upload: SessionUpload) -> None:
    """Use ``upload`` for the rest of this session (the desk's state is reset)."""
    st.session_state[UPLOAD_STATE] = upload
    st.session_state.pop("planner", None)


def clear_upload() -> None:
    """Back to the server's registry."""
    st.session_state.pop(UPLOAD_STATE, None)


def current_key() -> str:
    """Cache key of the registry in use."""
    up = session_upload()
    return up.key if up else registry_key()


def current_finder() -> Finder:
    """The finder of this session: the uploaded registry's, else the server's."""
    up = session_upload()
    return up.finder if up else get_finder(registry_key())

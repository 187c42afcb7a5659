"""French error text for the page: reader-facing messages as they are, anything else generic.

Messages of the ``ValidationError`` family (place, registry, data errors) were written for
readers and are shown as they are; an ``ArgumentError`` (a programmer's mistake, in English),
or any other exception, gets :data:`GENERIC_ERROR_FR`. Details and tracebacks go to the
server log, never to the page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import streamlit as st

from coverage._errors import (
    ArgumentError,
    DataSourceError,
    PlaceError,
    RegistryError,
    RoadEngineError,
    ValidationError,
)
from coverage.web import markup
from coverage.web.budget import QUEUE_MESSAGE_FR

log = logging.getLogger("coverage.app")

#: The one message a reader sees when something unexpected fails.
GENERIC_ERROR_FR = (
    "Désolé, une erreur inattendue empêche d'afficher cette partie de la page. "
    "Réessayez dans un instant ; si le problème continue, signalez-le à l'équipe du service."
)


def error_message_fr(exc: BaseException) -> str:
    """One plain French message for ``exc``, safe to show to any reader."""
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
    if isinstance(exc, ValidationError) and not isinstance(exc, ArgumentError):
        return str(exc).strip() or GENERIC_ERROR_FR
    return GENERIC_ERROR_FR


def log_exception(exc: BaseException, *, where: str) -> None:
    """Write ``exc`` with its traceback to the server log."""
    log.error("error in %s", where, exc_info=(type(exc), exc, exc.__traceback__))


def show_queued() -> None:
    """Tell the visitor that the upload waits for a free slot (``budget.upload_slot``'s
    ``on_wait``)."""
    st.info(QUEUE_MESSAGE_FR)


def show_error(exc: BaseException) -> None:
    """The French message of ``exc`` as an error box (and a registry's problems, listed).

    The message may quote a reader's text (a file name, a place): it is shown as inert HTML.
    """
    st.html(markup.notice_html(error_message_fr(exc), tone="error"))
    if isinstance(exc, RegistryError):
        st.html(markup.list_html(exc.problems, css_class="pc-list pc-problems"))


def guarded(fn: Callable[[], None]) -> Callable[[], None]:
    """Run a page; on any error, log it and show one French message (never a traceback)."""

    @functools.wraps(fn)
    def run() -> None:
        try:
            fn()
        except Exception as exc:  # every failure ends here, shown in plain French
            log_exception(exc, where=fn.__name__)
            show_error(exc)

    return run

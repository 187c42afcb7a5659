"""Small Streamlit building blocks of the pages: inert text, notices, tables, metrics, maps."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from coverage.outputs.exports import neutralise_cell
from coverage.web import markup
from coverage.web.frames import Metric


def text(value: object, *, css_class: str = "pc-p") -> None:
    """A paragraph of plain text (escaped: never read as Markdown or HTML)."""
    st.html(markup.paragraph_html(value, css_class=css_class))


def notice(value: object, *, tone: markup.Tone = "info") -> None:
    """A coloured notice box of plain text: for anything that echoes a reader's or a file's text."""
    st.html(markup.notice_html(value, tone=tone))


def inert_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula neutralised.

    Streamlit's table toolbar offers "Download as CSV" of the cells as shown: a cell starting
    with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``
    (:func:`coverage.outputs.exports.neutralise_cell`, as in the tool's own CSV exports).
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralise_cell(v) if isinstance(v, str) else v)
    return out


def table(frame: pd.DataFrame, *, localized: bool = True) -> None:
    """A read-only table, text cells inert; numbers in the reader's locale (12 345,6)."""
    config = {
        c: st.column_config.NumberColumn(format="localized")
        for c in frame.columns
        if localized and pd.api.types.is_numeric_dtype(frame[c])
    }
    st.dataframe(inert_cells(frame), hide_index=True, width="stretch", column_config=config)


def html_frame(html: str, *, height: int) -> None:
    """A self-contained HTML page (a map, a sheet) in an iframe, ``height`` pixels high.

    ``st.iframe`` first asks ``urllib.parse.urlparse`` whether the text is a URL, and
    ``urlsplit`` keeps its last 128 arguments and their parts in a process-wide cache: the
    pages of 128 visitors' maps, kept after their sessions have closed. The
    cache is emptied once the frame is sent.
    """
    st.iframe(html, height=height)
    clear = getattr(urllib.parse.urlsplit, "cache_clear", None)  # an lru_cache since 3.11
    if clear is not None:
        clear()


def metrics(items: list[Metric], *, columns: int | None = None) -> None:
    """Headline figures side by side (a lower figure is better: deltas coloured inversely)."""
    cols: list[DeltaGenerator] = st.columns(columns or len(items))
    for col, m in zip(cols, items, strict=False):
        col.metric(m.label, m.value, delta=m.delta, delta_color="inverse")

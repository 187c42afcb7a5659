"""Small Streamlit building blocks of the pages: inert text, notices, tables, metrics."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from coverage.web import markup
from coverage.web.frames import Metric


def text(value: object, *, css_class: str = "pc-p") -> None:
    """A paragraph of plain text (escaped: never read as Markdown or HTML)."""
    st.html(markup.paragraph_html(value, css_class=css_class))


def notice(value: object, *, tone: markup.Tone = "info") -> None:
    """A coloured notice box of plain text: for anything that echoes a reader's or a file's text."""
    st.html(markup.notice_html(value, tone=tone))


def table(frame: pd.DataFrame) -> None:
    """A read-only table; numbers in the reader's locale (French: 12 345,6)."""
    config = {
        c: st.column_config.NumberColumn(format="localized")
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c])
    }
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def metrics(items: list[Metric], *, columns: int | None = None) -> None:
    """Headline figures side by side (a lower figure is better: deltas coloured inversely)."""
    cols: list[DeltaGenerator] = st.columns(columns or len(items))
    for col, m in zip(cols, items, strict=False):
        col.metric(m.label, m.value, delta=m.delta, delta_color="inverse")

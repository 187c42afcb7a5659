"""Inert text for the page: escaped HTML blocks (paragraphs, lists, notices) and Markdown escaping.

Text that comes from a reader (the ``?q=`` of a shared link) or from a data file is never
given to Streamlit's Markdown, which turns ``www.…``, ``https://…`` and e-mail addresses into
links and renders ``:material/…:`` icons and emoji shortcodes despite backslashes: it goes
through :func:`coverage.outputs.html.esc` into ``st.html`` (:func:`notice_html`,
:func:`paragraph_html`). :func:`md_escape` remains for widget labels, which only take Markdown.
"""

from __future__ import annotations

import math
import re
from typing import Literal

import pandas as pd

from coverage.outputs.html import esc, safe_url

Tone = Literal["info", "warning", "error", "success"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&\"'])")

#: ARIA role of each notice tone: warnings and errors are announced at once.
_ROLES: dict[Tone, str] = {
    "info": "status",
    "success": "status",
    "warning": "alert",
    "error": "alert",
}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def md_escape(text: object) -> str:
    """Text that Streamlit's Markdown shows literally: no link, no emphasis, no emoji code.

    Every ASCII punctuation character that Markdown (or Streamlit's ``:color[...]`` and
    ``:emoji:`` extensions, or ``$`` maths) could read is backslash-escaped; line breaks stay.
    """
    if _missing(text):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def paragraph_html(text: object, *, css_class: str = "pc-p") -> str:
    """One paragraph of plain text (escaped: any markup shows as text)."""
    return f'<p class="{esc(css_class)}">{esc(text)}</p>'


def notice_html(text: object, *, tone: Tone = "info") -> str:
    """A coloured notice box of plain text (escaped), announced to screen readers."""
    return (
        f'<div class="pc-notice pc-{tone}" role="{_ROLES[tone]}">'
        f'<p class="pc-p">{esc(text)}</p></div>'
    )


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

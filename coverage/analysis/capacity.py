"""Spatial accessibility with capacity: the enhanced two-step floating catchment area (E2SFCA).

When the structures carry a capacity (patients a year) and the communes a population, the
E2SFCA index of Luo & Qi (2009) weighs each structure's capacity against the population that
can reach it, then sums those ratios over the structures each commune can reach:

.. math::

    R_j = \\frac{S_j}{\\sum_{i:\\, d_{ij} \\le d_0} P_i\\, W(d_{ij})}, \\qquad
    A_i = \\sum_{j:\\, d_{ij} \\le d_0} R_j\\, W(d_{ij})

with :math:`S_j` the capacity of structure :math:`j`, :math:`P_i` the population of commune
:math:`i`, :math:`d_{ij}` the travel cost and :math:`W` a step distance-decay function that is
0 beyond the last step :math:`d_0`. :math:`A_i` reads "patients a year the structures can take
per inhabitant of commune i" (``per`` rescales it, e.g. per 100,000 inhabitants). Capacity
is conserved: :math:`\\sum_i P_i A_i = \\sum_j S_j` over the structures that have inhabitants
within their catchment, so the population-weighted mean of :math:`A_i` is then total capacity
over total population.

Capacities are never guessed: without a capacity for every structure the index is returned as
not computed (``AccessIndex.computed`` is ``False``) with the reason, in French, for the report.

References
----------
Luo, W., Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA) method for
measuring spatial accessibility to primary care physicians. *Health & Place* 15(4),
1100-1107. Travel-time zones 0-10, 10-20 and 20-30 minutes weighted 1.00, 0.68 and 0.22
(``LUO_QI_2009_STEPS``; also the default ``weight_fn`` of PySAL ``access``'s
``enhanced_two_stage_fca``).
Luo, W., Wang, F. (2003). Measures of spatial accessibility to health care in a GIS
environment. *Environment and Planning B* 30(6), 865-884 (2SFCA: a single step of weight 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage import french
from coverage._errors import ValidationError

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable

#: Luo & Qi (2009): (upper bound of the zone in minutes, inclusive; weight).
LUO_QI_2009_STEPS: tuple[tuple[float, float], ...] = ((10.0, 1.00), (20.0, 0.68), (30.0, 0.22))

#: Shown instead of the index when capacities are missing.
NOT_COMPUTED_FR = "non calculé : capacités des structures inconnues"


@dataclass(frozen=True)
class AccessIndex:
    """A floating-catchment accessibility index, or why it was not computed.

    Attributes
    ----------
    computed
        ``False`` when capacities are unknown; ``scores`` and ``ratios`` are then ``None``.
    reason
        French sentence for the report when not computed, else ``""``.
    scores
        :math:`A_i` per commune (index: origin id; 0 where no structure lies within the
        catchment), scaled by ``per``.
    ratios
        :math:`R_j` per structure (index: destination id; NaN where no population lies
        within its catchment), scaled by ``per``.
    by
        Cost column used (``"duration_min"`` or ``"distance_km"``).
    steps
        ``(upper bound, weight)`` pairs of the distance decay, in the unit of ``by``.
    per
        Scale of ``scores`` and ``ratios`` (1: per inhabitant).
    missing
        Structures whose capacity is unknown (when not computed).
    """

    computed: bool
    reason: str
    scores: pd.Series | None
    ratios: pd.Series | None
    by: str
    steps: tuple[tuple[float, float], ...]
    per: float = 1.0
    missing: tuple[object, ...] = ()


def _check_steps(steps: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    try:
        pairs = tuple((float(b), float(w)) for b, w in steps)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"`steps` must be (upper bound, weight) pairs; got {steps!r}."
        ) from exc
    if not pairs:
        raise ValidationError("`steps` is empty.")
    bounds = [b for b, _ in pairs]
    weights = [w for _, w in pairs]
    if not all(math.isfinite(b) and b >= 0 for b in bounds) or bounds != sorted(set(bounds)):
        raise ValidationError(
            f"`steps` bounds must be finite, >= 0 and strictly increasing; got {bounds!r}."
        )
    if not all(math.isfinite(w) and 0 <= w <= 1 for w in weights):
        raise ValidationError(f"`steps` weights must be between 0 and 1; got {weights!r}.")
    return pairs


def step_weights(cost: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    """Weight of each cost under a step decay: the weight of the first step whose (inclusive)
    upper bound is >= the cost; 0 beyond the last bound or where the cost is NaN/inf."""
    pairs = _check_steps(steps)
    c = np.asarray(cost, dtype=float)
    bounds = np.array([b for b, _ in pairs])
    weights = np.array([w for _, w in pairs] + [0.0])
    idx = np.searchsorted(bounds, np.where(np.isnan(c), np.inf, c), side="left")
    return weights[idx]


def _series(values: pd.Series | None, *, name: str) -> pd.Series | None:
    if values is None:
        return None
    if not isinstance(values, pd.Series):
        raise ValidationError(f"`{name}` must be a pandas Series indexed by id.")
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()][:3].tolist()
        raise ValidationError(f"`{name}` repeats ids: {dup!r}.")
    return values


def e2sfca(
    table: pd.DataFrame,
    population: pd.Series,
    capacity: pd.Series | None,
    *,
    by: str = "duration_min",
    steps: Sequence[tuple[float, float]] = LUO_QI_2009_STEPS,
    per: float = 1.0,
) -> AccessIndex:
    """E2SFCA accessibility (Luo & Qi 2009) over a long communes x structures table.

    Parameters
    ----------
    table
        Long table (``origin`` = commune, ``destination`` = structure, and the ``by``
        column) from one travel model; pairs may be limited to the catchment. A missing or
        NaN cost means no route.
    population
        Population per commune, indexed by origin id (>= 0). Communes absent from it are
        not demand.
    capacity
        Capacity per structure (patients a year), indexed by destination id; ``None`` when
        unknown. If any structure of the table lacks a capacity, nothing is computed.
    by
        Cost column: ``"duration_min"`` (the default steps are in minutes) or
        ``"distance_km"`` with steps in km.
    steps
        ``(upper bound, weight)`` pairs, bounds inclusive and increasing, weights in [0, 1];
        costs beyond the last bound get weight 0 (outside the catchment). Default: Luo & Qi's
        10/20/30-minute zones weighted 1.00/0.68/0.22.
    per
        Scale of the result, e.g. ``100_000`` for "per 100,000 inhabitants".

    Returns
    -------
    AccessIndex
    """
    pairs = _check_steps(steps)
    if not (isinstance(per, (int, float)) and math.isfinite(per) and per > 0):
        raise ValidationError(f"`per` must be a positive number; got {per!r}.")
    missing_cols = [c for c in ("origin", "destination", by) if c not in table.columns]
    if missing_cols:
        raise ValidationError(f"`table` lacks column(s) {missing_cols!r}.")
    if "model" in table.columns and table["model"].nunique() > 1:
        raise ValidationError(
            f"`table` mixes travel models {sorted(table['model'].unique())!r}; use one."
        )
    cost = pd.to_numeric(table[by], errors="coerce").to_numpy(dtype=float)
    if len(cost) and np.isnan(cost).all():
        raise ValidationError(
            f"`table` column {by!r} is empty: this travel model gives no {by}; "
            "use by='distance_km' with steps in km."
        )
    if (cost < 0).any():
        raise ValidationError(f"`table` column {by!r} must be >= 0; got {float(cost.min())!r}.")
    people = _series(population, name="population")
    assert people is not None
    pop = pd.to_numeric(people, errors="coerce")
    if pop.isna().any() or not np.isfinite(pop.to_numpy(dtype=float)).all() or (pop < 0).any():
        raise ValidationError("`population` must be finite numbers >= 0.")
    capacities = _series(capacity, name="capacity")

    structures = pd.Index(pd.unique(table["destination"]))
    if capacities is None:
        known = pd.Series(np.nan, index=structures)
    else:
        every = structures.union(pd.Index(capacities.index))
        known = pd.to_numeric(capacities, errors="coerce").reindex(every)
    unknown = tuple(known.index[known.isna()])
    if unknown:
        return AccessIndex(
            computed=False,
            reason=NOT_COMPUTED_FR
            + (f" ({len(unknown)} structure(s) sans capacité)" if capacities is not None else ""),
            scores=None,
            ratios=None,
            by=by,
            steps=pairs,
            per=float(per),
            missing=unknown,
        )
    if not np.isfinite(known.to_numpy(dtype=float)).all() or (known < 0).any():
        raise ValidationError("`capacity` must be finite numbers >= 0 (patients a year).")

    weight = step_weights(cost, pairs)
    origin_pos = pop.index.get_indexer(pd.Index(table["origin"]))
    keep = (weight > 0) & (origin_pos >= 0)
    dest_codes, dest_ids = pd.factorize(table["destination"].to_numpy()[keep])
    o = origin_pos[keep]
    w = weight[keep]
    p = pop.to_numpy(dtype=float)
    demand = np.bincount(dest_codes, weights=p[o] * w, minlength=len(dest_ids))
    supply = known.reindex(dest_ids).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, supply / demand, np.nan)
    contrib = np.where(np.isnan(ratio[dest_codes]), 0.0, ratio[dest_codes] * w)
    scores = np.bincount(o, weights=contrib, minlength=len(pop)) * per
    ratios = pd.Series(ratio * per, index=dest_ids, name="ratio").reindex(known.index)
    ratios.index.name = "destination"
    return AccessIndex(
        computed=True,
        reason="",
        scores=pd.Series(scores, index=pop.index.copy(), name="e2sfca"),
        ratios=ratios,
        by=by,
        steps=pairs,
        per=float(per),
    )


def two_sfca(
    table: pd.DataFrame,
    population: pd.Series,
    capacity: pd.Series | None,
    *,
    by: str = "duration_min",
    max_cost: float = 30.0,
    per: float = 1.0,
) -> AccessIndex:
    """Classic 2SFCA (Luo & Wang 2003): ``e2sfca`` with one step of weight 1 up to ``max_cost``."""
    return e2sfca(table, population, capacity, by=by, steps=((max_cost, 1.0),), per=per)


def steps_label_fr(steps: Sequence[tuple[float, float]], unit: str) -> str:
    """French description of the decay steps, e.g. "0-10 / 10-20 / 20-30 min pondérées
    1 ; 0,68 ; 0,22"."""
    pairs = _check_steps(steps)
    lows = [0.0] + [b for b, _ in pairs[:-1]]
    zones = " / ".join(
        f"{french.decimal(lo)}-{french.decimal(b)}" for lo, (b, _) in zip(lows, pairs, strict=True)
    )
    return f"zones {zones} {unit} pondérées {' ; '.join(french.decimal(w) for _, w in pairs)}"


def e2sfca_for_access(
    access: AccessTable,
    *,
    kind: str = "tous_publics",
    steps: Sequence[tuple[float, float]] = LUO_QI_2009_STEPS,
    per: float = 100_000.0,
) -> tuple[pd.DataFrame | None, str]:
    """E2SFCA of the structures of ``kind`` in an ``AccessTable``, with a French note.

    Uses the table's durations (the default steps are Luo & Qi's minutes); a travel model
    without times, or any structure without a capacity, gives ``(None, reason)``.

    Returns
    -------
    (pandas.DataFrame or None, str)
        ``insee`` and ``e2sfca`` (patients a year per ``per`` inhabitants), and the note
        shown after "Accessibilité E2SFCA :" in the report.
    """
    cols = access.kind_columns(kind)
    if cols.size == 0:
        what = (
            "aucun dispositif AJA localisé"
            if kind == "aja"
            else ("aucune structure tous publics localisée")
        )
        return None, f"non calculé : {what} dans le registre"
    if not np.asarray(access.population, dtype=float).sum() > 0:
        return None, (
            "non calculé : la demande est nulle dans toutes les communes (population ou "
            "poids de demande tous à 0), il n'y a rien à répartir"
        )
    if not access.has_time:
        return None, (
            "non calculé : le modèle de trajet ne donne pas de durée "
            "(les zones de Luo & Qi sont en minutes)"
        )
    structures = access.structures.iloc[cols]
    ids = structures["id"].to_numpy(dtype=object)
    insee = access.communes["insee"].to_numpy(dtype=object)
    cost = np.asarray(access.matrix("duration_min"), dtype=float)[:, cols]
    table = pd.DataFrame(
        {
            "origin": np.repeat(insee, ids.size),
            "destination": np.tile(ids, insee.size),
            "duration_min": cost.ravel(),
        }
    )
    capacity = pd.Series(
        pd.to_numeric(
            structures.get("capacity", pd.Series(np.nan, index=structures.index)), errors="coerce"
        ).to_numpy(dtype=float),
        index=ids,
    )
    population = pd.Series(access.population, index=insee)
    res = e2sfca(table, population, capacity, steps=steps, per=per)
    if not res.computed or res.scores is None:
        return None, res.reason
    frame = pd.DataFrame({"insee": insee, "e2sfca": res.scores.to_numpy()})
    scale = f"{int(per):,}".replace(",", " ") if float(per).is_integer() else french.decimal(per)
    note = (
        f"calculé (Luo & Qi 2009 : {steps_label_fr(res.steps, 'min')}), "
        f"en patients par an pour {scale} habitant(s)"
    )
    return frame, note

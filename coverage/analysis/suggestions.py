"""Siting suggestions: where new all-patients structures would help most, measured again."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from coverage._errors import ValidationError
from coverage.analysis.access import AccessTable
from coverage.analysis.access_matrix import Cost
from coverage.analysis.checks import check_cost, check_threshold
from coverage.analysis.figures import DEFAULT_THRESHOLD, _records, access_headline
from coverage.analysis.results import Headline

#: Siting objectives as the planner names them -> ``coverage.analysis.siting`` objectives.
SITING_OBJECTIVES: dict[str, Literal["coverage", "median"]] = {
    "mclp": "coverage",
    "pmedian": "median",
}

Objective = Literal["mclp", "pmedian"]


@dataclass(frozen=True)
class SiteSuggestions:
    """Communes where new all-patients structures would help most, in the order chosen.

    Attributes
    ----------
    objective
        ``"mclp"`` (most people within the threshold) or ``"pmedian"`` (least total travel).
    method
        ``"greedy"`` (see ``coverage.analysis.siting.greedy``).
    threshold, by
        Acceptable cost and the cost measured.
    table
        ``rank``, ``insee``, ``name``, ``dep``, ``epci_name``, ``population``, ``lon``,
        ``lat``, ``people_within`` (people the site newly brings within the threshold, given
        the previous suggestions; measured again by the travel model), ``share_beyond_after``
        (regional share beyond the threshold once this and the previous sites are open),
        ``objective_gain`` (same as ``people_within`` for mclp; reduction of the
        population-weighted total cost, person-km or person-min, for pmedian).
    before, after
        Headline figures without and with every suggested site.
    seconds
        Time spent (search and measurement).
    candidates
        Number of candidate sites considered.
    """

    objective: str
    method: str
    threshold: float
    by: str
    table: pd.DataFrame
    before: Headline | None
    after: Headline | None
    seconds: float
    candidates: int = 0

    @property
    def candidates_fr(self) -> str:
        """The candidate sites, in French."""
        return f"points représentatifs de {self.candidates} communes candidates"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "objective": self.objective,
            "method": self.method,
            "threshold": self.threshold,
            "by": self.by,
            "candidates": self.candidates,
            "suggestions": _records(self.table),
            "share_beyond_before": None if self.before is None else self.before.share_beyond,
            "share_beyond_after": None if self.after is None else self.after.share_beyond,
            "mean_before": None if self.before is None else self.before.mean,
            "mean_after": None if self.after is None else self.after.mean,
        }


def suggest_sites(
    access: AccessTable,
    *,
    k: int,
    objective: Objective = "mclp",
    threshold: float = DEFAULT_THRESHOLD,
    by: Cost = "distance_km",
    candidates: Sequence[str] | None = None,
) -> SiteSuggestions:
    """Greedy siting of ``k`` new all-patients structures among the communes' points.

    Candidates are every commune's representative point unless ``candidates`` (INSEE codes)
    restricts them. The existing all-patients structures stay open. Sites are ranked on the
    commune x commune matrix (``AccessTable.commune_costs``, float32), then the chosen ones
    are measured again by the travel model (``AccessTable.with_changes``), so the people each
    brings within the threshold are exact.
    """
    from coverage.analysis import siting

    started = time.perf_counter()
    z = check_threshold(threshold)
    by = check_cost(by)
    if objective not in SITING_OBJECTIVES:
        raise ValidationError(
            f"`objective` must be one of {tuple(SITING_OBJECTIVES)!r}; got {objective!r}."
        )
    communes = access.communes
    cand_idx = None
    if candidates is not None:
        pos = pd.Index(communes["insee"]).get_indexer(pd.Index(list(candidates)))
        if (pos < 0).any():
            bad = [c for c, p in zip(candidates, pos, strict=True) if p < 0][:3]
            raise ValidationError(f"Communes candidates inconnues : {bad!r}.")
        cand_idx = pos.tolist()
    nmax = len(communes) if cand_idx is None else len(cand_idx)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= nmax:
        raise ValidationError(
            f"Le nombre de sites `k` doit être un entier de 1 à {nmax} ; reçu {k!r}."
        )
    existing = access.nearest_cost("tous_publics", by).copy()
    existing[np.isnan(existing)] = np.inf
    cost = access.commune_costs(by, columns=cand_idx)
    res = siting.interchange_search(
        cost,
        access.population,
        objective=SITING_OBJECTIVES[objective],
        k=int(k),
        existing=existing,
        threshold=z,
    )
    chosen = [cand_idx[j] for j in res.chosen] if cand_idx is not None else list(res.chosen)
    picked = communes.iloc[chosen]
    add = pd.DataFrame(
        {
            "id": [f"suggestion-{i}" for i in range(1, len(chosen) + 1)],
            "name": [f"Site suggéré n° {i} : {n}" for i, n in enumerate(picked["name"], start=1)],
            "kind": "tous_publics",
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
            "commune_insee": picked["insee"].to_numpy(),
            "commune_name": picked["name"].to_numpy(),
            "dep": picked["dep"].to_numpy(),
        }
    )
    after_access = access.with_changes(add=add)
    new_cols = np.flatnonzero(after_access.structures["added"].to_numpy())
    w = access.population
    best = existing.copy()
    total = float(w.sum())
    within, shares, obj = [], [], []
    for col in new_cols:
        col_cost = after_access.matrix(by)[:, col]
        newly = (best > z) & (col_cost <= z)
        within.append(float(w[newly].sum()))
        if objective == "pmedian":
            finite = np.isfinite(best)
            gain = float(np.dot(w[finite], np.maximum(best[finite] - col_cost[finite], 0.0)))
            obj.append(gain)
        best = np.minimum(best, col_cost)
        shares.append(float(w[np.isfinite(best) & (best > z)].sum() / total))
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "insee": picked["insee"].to_numpy(),
            "name": picked["name"].to_numpy(),
            "dep": picked["dep"].to_numpy(),
            "epci_name": picked["epci_name"].to_numpy(),
            "population": picked["population"].to_numpy(dtype=float),
            "lon": picked["lon"].to_numpy(),
            "lat": picked["lat"].to_numpy(),
            "people_within": within,
            "share_beyond_after": shares,
            "objective_gain": within if objective == "mclp" else obj,
        }
    )
    return SiteSuggestions(
        objective=objective,
        method=res.method,
        threshold=z,
        by=by,
        table=out,
        before=access_headline(access, threshold=z, by=by),
        after=access_headline(after_access, threshold=z, by=by),
        seconds=time.perf_counter() - started,
        candidates=cost.shape[1],
    )


def with_applicants(sites: SiteSuggestions, applicants: Mapping[str, str]) -> SiteSuggestions:
    """``sites`` with an ``applicant`` column naming who applied at each suggested commune
    (unchanged when no applicants are given)."""
    if not applicants:
        return sites
    table = sites.table.assign(applicant=sites.table["insee"].map(applicants))
    return dataclasses.replace(sites, table=table)

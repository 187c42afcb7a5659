"""The analysis with the planners' files (territories, demand, deprivation) beside the plain one.

Run: ``.venv/bin/python benchmarks/bench_planner_inputs.py``. The files are built here from real
codes (every commune of the region, its EPCI as a territory, the population halved as a
demand, latitude as a stand-in index): fixtures for timing, not data. Prints both medians and
the ratio; exits 1 when the analysis with every file takes more than 3x the plain one, or
more than 2 s.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from _timing import Targets, line, timed

from coverage.analysis.access_build import load_access
from coverage.analysis.analyse import analyse
from coverage.analysis.inputs import PlannerInputs
from coverage.data.territories import load_territories
from coverage.data.weights import load_demand, load_deprivation


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def main() -> int:
    targets = Targets("bench_planner_inputs")
    access, region, registry = load_access(region="84")
    c = region.communes
    folder = Path(tempfile.mkdtemp())
    epcis = sorted(set(c["epci_code"]) - {""})
    territory_rows = [
        [f"T{i}", f"EPCI {e}", "", e, "", "", "https://example.org/bench"]
        for i, e in enumerate(epcis)
    ]
    header = ["territory_id", "name", "insee", "epci", "dep", "structures", "source"]
    t_path = _write(folder / "t.csv", header, territory_rows)
    d_rows = [
        [i, p / 2, "bench", "https://example.org/bench"]
        for i, p in zip(c["insee"], c["population"], strict=True)
    ]
    d_path = _write(folder / "d.csv", ["insee", "weight", "label", "source"], d_rows)
    x_rows = [
        [i, round(v, 2), "bench", "plus eleve plus defavorise"]
        for i, v in zip(c["insee"], c["lat"], strict=True)
    ]
    x_path = _write(folder / "x.csv", ["insee", "index", "label", "direction"], x_rows)

    read, inputs = timed(
        lambda: PlannerInputs(
            demand=load_demand(d_path, region=region),
            deprivation=load_deprivation(x_path, region=region),
            territories=load_territories(t_path, region=region, registry=registry),
        ),
        repeat=3,
    )
    print(line(f"reading the three files ({len(epcis)} territories, {len(c)} communes)", read))
    plain, _ = timed(lambda: analyse(access, region=region, registry=registry), repeat=5, warmup=1)
    full, a = timed(
        lambda: analyse(access, region=region, registry=registry, inputs=inputs), repeat=5, warmup=1
    )
    print(
        line(
            "analysis with territories, demand and deprivation",
            full,
            plain,
            ref_label="plain analysis",
        )
    )
    assert a.territories is not None and a.social is not None
    targets.check("analysis with the planners' files (s)", full, at_most=2.0)
    targets.check("ratio to the plain analysis", full / plain, at_most=3.0)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())

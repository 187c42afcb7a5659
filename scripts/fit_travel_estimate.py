"""Re-derive the road estimate's constants (``coverage.travel.estimate``) from the Isère matrix.

Usage: ``.venv/bin/python scripts/fit_travel_estimate.py [../shared/roads/isere]``

Reads the real OSRM car-time matrix of the 512 communes of Isère and their points, fits
``minutes = scale x km^exponent`` on every pair, measures the error by spatial cross-validation
(each EPCI held out whole), and prints the constants to paste into ``estimate.py``, with the
linear form ``a + b x km`` beside it for comparison.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage._geodesy import geodesic_km  # noqa: E402
from coverage.data.region import load_region  # noqa: E402
from coverage.travel.estimate import fit_loglog, spatial_cv  # noqa: E402


def isere_inputs(folder: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(codes, geodesic km, real minutes, EPCI of each commune) of the Isère matrix."""
    wide = pd.read_csv(folder / "TimeDistCarIsere.csv", dtype={"id": str})
    codes = wide["id"].tolist()
    if codes != list(wide.columns[1:]):
        raise SystemExit("rows and columns of the matrix are not in the same order")
    features = json.loads((folder / "isere.geojson").read_text(encoding="utf-8"))["features"]
    points = {f["properties"]["id"]: f["properties"] for f in features}
    lon = np.array([points[c]["lon"] for c in codes], dtype=float)
    lat = np.array([points[c]["lat"] for c in codes], dtype=float)
    km = geodesic_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    minutes = wide.iloc[:, 1:].to_numpy(dtype=float) / 60.0
    epci = load_region(region="84").communes.set_index("insee").loc[codes, "epci_code"].to_numpy()
    return codes, km, minutes, epci


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT.parent / "shared" / "roads" / "isere"
    codes, km, minutes, epci = isere_inputs(folder)
    off = ~np.eye(len(codes), dtype=bool)
    fit = fit_loglog(km[off], minutes[off])
    cv = spatial_cv(km, minutes, epci, grouping="EPCI")
    b, a = np.polyfit(km[off], minutes[off], 1)
    lin = np.abs(a + b * km[off] - minutes[off]) / minutes[off]
    speed = 60.0 * km[off].sum() / minutes[off].sum()
    print(f"communes {len(codes)}, pairs {int(off.sum())}, EPCIs {len(set(epci))}")
    print(f"ISERE_FIT = TimeFit(scale={fit.scale:.4f}, exponent={fit.exponent:.4f})")
    print(
        f"ISERE_CV_ERROR = EstimateError(median={cv.median:.4f}, p90={cv.p90:.4f}, "
        f"groups={cv.groups}, pairs={cv.pairs}, grouping={cv.grouping!r})"
    )
    print(
        f"linear (in-sample) t = {a:.2f} + {b:.3f} x km: median {np.median(lin):.4f}, "
        f"P90 {np.percentile(lin, 90):.4f}"
    )
    print(f"mean implied speed over straight lines: {speed:.1f} km/h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

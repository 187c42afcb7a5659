"""Benchmark of the registry import: a 5,000-row XLSX beside the plain canonical CSV path.

Rows are synthetic load-test rows ("Ligne d'essai N"), not structures: each is placed in a
real commune of the region chosen so that its postcode and name resolve to one commune. Three
paths are timed in the same run:

- the canonical CSV with INSEE codes (the reference: today's ``--registry`` path);
- the same rows as an XLSX with French headers and INSEE codes (the cost of the workbook);
- the same rows as an XLSX with French headers, postcodes and town names and no INSEE code
  (the cost of locating every row with the place lookup).

Targets: the XLSX paths each under 10 s for 5,000 rows and under 8x the CSV path; the
canonical CSV written by the import equals, byte for byte, the one imported again.

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows 5000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openpyxl
from _timing import Targets, line, peak_rss_mb, timed

from coverage.data.locate import Location, locate_row
from coverage.data.region import Region, load_region
from coverage.data.registry_files import import_registry, load_registry

SRC = "https://example.org/banc-d-essai"
MAX_SECONDS = 10.0
MAX_RATIO = 8.0


def resolvable(region: Region, n: int) -> list[tuple[str, str, str]]:
    """(insee, postcode, town) of communes whose postcode and name give exactly that commune."""
    pcs = region.postcodes[region.postcodes["in_region"]].groupby("insee")["postcode"].min()
    out: list[tuple[str, str, str]] = []
    for insee, name in zip(region.communes["insee"], region.communes["name"], strict=True):
        if insee not in pcs.index:
            continue
        got = locate_row(str(pcs[insee]), str(name), "", region=region)
        if isinstance(got, Location) and got.insee == insee:
            out.append((insee, str(pcs[insee]), str(name)))
        if len(out) >= n:
            break
    return out


def write_files(folder: Path, places: list[tuple[str, str, str]], rows: int) -> dict[str, Path]:
    by_insee = openpyxl.Workbook()
    by_town = openpyxl.Workbook()
    a, b = by_insee.active, by_town.active
    a.append(["Nom de la structure", "Public", "Code INSEE", "Source"])
    b.append(["Nom de la structure", "Public", "Code postal", "Commune", "Source"])
    csv_lines = ["id,name,kind,insee,source"]
    for i in range(rows):
        insee, pc, town = places[i % len(places)]
        kind = "AJA" if i % 10 == 0 else "Tous publics"
        name = f"Ligne d'essai {i}"
        a.append([name, kind, insee, SRC])
        b.append([name, kind, pc, town, SRC])
        csv_lines.append(
            f"essai-{i},{name},{'aja' if i % 10 == 0 else 'tous_publics'},{insee},{SRC}"
        )
    paths = {
        "csv": folder / "structures.csv",
        "xlsx_insee": folder / "insee.xlsx",
        "xlsx_town": folder / "communes.xlsx",
    }
    paths["csv"].write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    by_insee.save(paths["xlsx_insee"])
    by_town.save(paths["xlsx_town"])
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    targets = Targets("import")
    region = load_region(region="84")
    places = resolvable(region, 2_000)
    print(f"{args.rows} rows over {len(places)} communes resolvable by postcode and name")
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_files(Path(tmp), places, args.rows)
        for key, path in paths.items():
            print(f"  {key}: {path.stat().st_size / 1e6:.2f} MB")
        csv_s, ref = timed(lambda: load_registry(paths["csv"], region=region), repeat=args.repeat)
        print(line("canonical CSV (INSEE codes)", csv_s))
        results = {}
        for key, label in (
            ("xlsx_insee", "XLSX, French headers, INSEE codes"),
            ("xlsx_town", "XLSX, French headers, postcode + town"),
        ):
            t, imp = timed(
                lambda p=paths[key]: import_registry(p, region=region), repeat=args.repeat
            )
            results[key] = imp
            print(line(label, t, csv_s, ref_label="canonical CSV"))
            targets.check(f"{key} (s)", t, at_most=MAX_SECONDS)
            targets.check(f"{key} / CSV (ratio)", t / csv_s, at_most=MAX_RATIO)
        same = (
            results["xlsx_town"].registry.structures["commune_insee"].tolist()
            == ref.structures["commune_insee"].tolist()
        )
        targets.check(
            "postcode + town rows located as the INSEE codes say (1 = yes)", float(same), at_least=1
        )
        out = Path(tmp) / "canonical.csv"
        out.write_bytes(results["xlsx_town"].canonical_csv())
        again = import_registry(out, region=region).canonical_csv()
        targets.check(
            "canonical CSV round-trips byte for byte (1 = yes)",
            float(again == out.read_bytes()),
            at_least=1,
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())

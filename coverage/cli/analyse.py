"""``parcours analyse``: the planners' coverage analysis, what-if scenarios and siting."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from coverage._errors import ValidationError
from coverage.cli._common import add_data_options, print_json
from coverage.travel import make_model

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable, Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.scenario import ScenarioResult
    from coverage.data.region import Region
    from coverage.data.registry import Registry

COSTS: dict[str, Cost] = {"distance": "distance_km", "duree": "duration_min"}


def _positive_float(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre attendu, reçu {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"nombre positif attendu, reçu {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, reçu {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"nombre entier positif attendu, reçu {text!r}")
    return value


def _move(text: str) -> tuple[str, str]:
    sid, sep, place = text.partition("=")
    if not sep or not sid.strip() or not place.strip():
        raise argparse.ArgumentTypeError(f"forme attendue ID=LIEU, reçu {text!r}")
    return sid.strip(), place.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyse",
        help="mesurer la couverture du territoire par les structures porteuses",
        description=(
            "Mesurer l'éloignement des habitants des 4 025 communes d'Auvergne-Rhône-Alpes à la "
            "structure porteuse la plus proche : chiffres clés (moyenne, médiane, P90, part "
            "au-delà du seuil, Gini, Theil, Atkinson, Palma, FGT), tableaux par département et "
            "par zone AJA, communes et EPCI les plus peuplés au-delà du seuil. Scénarios "
            "(--add, --remove, --move) et suggestions de sites (--site) sans modifier le "
            "registre."
        ),
    )
    p.add_argument(
        "--threshold",
        type=_positive_float,
        default=30.0,
        metavar="SEUIL",
        help="seuil acceptable (défaut 30, en km ou en minutes selon --by)",
    )
    p.add_argument(
        "--by",
        choices=tuple(COSTS),
        default="distance",
        help="mesurer la distance (défaut) ou la durée (modèle OSRM)",
    )
    p.add_argument("--report", metavar="FICHIER", help="écrire le rapport HTML autonome")
    p.add_argument("--map", metavar="FICHIER", help="écrire la carte HTML des communes")
    p.add_argument("--csv", metavar="FICHIER", help="écrire le tableau des communes en CSV")
    p.add_argument("--gpkg", metavar="FICHIER", help="écrire les communes en GeoPackage")
    p.add_argument("--json", action="store_true", help="chiffres et tableaux en JSON")
    g = p.add_argument_group("scénario (le registre n'est jamais modifié)")
    g.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="LIEU",
        help="ajouter une structure tous publics (code INSEE, commune ou « lat, lon »); répétable",
    )
    g.add_argument(
        "--add-aja",
        action="append",
        default=[],
        metavar="LIEU",
        help="ajouter un dispositif AJA ; répétable",
    )
    g.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="ID",
        help="retirer une structure (identifiant du registre) ; répétable",
    )
    g.add_argument(
        "--move",
        action="append",
        default=[],
        type=_move,
        metavar="ID=LIEU",
        help="déplacer une structure ; répétable",
    )
    s = p.add_argument_group("suggestion de sites")
    s.add_argument(
        "--site",
        type=_positive_int,
        metavar="K",
        help="suggérer K nouveaux sites tous publics (recherche gloutonne)",
    )
    s.add_argument(
        "--objective",
        choices=("mclp", "pmedian"),
        default="mclp",
        help="mclp : le plus d'habitants à moins du seuil (défaut) ; pmedian : la "
        "plus petite distance totale",
    )
    s.add_argument(
        "--candidates-min-population",
        type=_positive_int,
        metavar="N",
        help="candidats : seulement les communes d'au moins N habitants (défaut : "
        "toutes les communes)",
    )
    add_data_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure, apply the what-if, suggest sites, write the files asked for, print."""
    from coverage.analysis.analyse import analyse

    by = COSTS[args.by]
    access, region, registry = _load(args, by)
    result = _what_if(args, access, region, by)
    if result is not None:
        access = result.access
    analysis = analyse(
        access,
        region=region,
        registry=registry,
        threshold=args.threshold,
        by=by,
        site_k=args.site,
        objective=args.objective,
        candidates=_candidates(args, access),
    )
    if result is not None:
        meta = dataclasses.replace(analysis.meta, scenario=tuple(result.changes))
        analysis = dataclasses.replace(analysis, meta=meta)
    written = _write_files(args, analysis, region, result)
    _print(args, analysis, result, written)
    return 0


def _load(args: argparse.Namespace, by: Cost) -> tuple[AccessTable, Region, Registry]:
    from coverage.analysis.access import load_access

    model = make_model(args.travel, dataset=args.osrm_dataset, url=args.osrm_url)
    if by == "duration_min" and not model.has_time:
        raise ValidationError(
            f"--by duree demande un modèle de trajet avec durées (--travel osrm) ; "
            f"« {model.label_fr} » n'en donne pas."
        )
    return load_access(registry_path=args.registry, zones_path=args.aja_zones, model=model)


def _what_if(
    args: argparse.Namespace, access: AccessTable, region: Region, by: Cost
) -> ScenarioResult | None:
    from coverage.analysis.scenario import Scenario, WhatIf

    scenario = Scenario(
        add=tuple(args.add),
        add_aja=tuple(args.add_aja),
        remove=tuple(args.remove),
        move=tuple(args.move),
    )
    if scenario.is_empty:
        return None
    return WhatIf(access, region, threshold=args.threshold, by=by).run(scenario)


def _candidates(args: argparse.Namespace, access: AccessTable) -> list[str] | None:
    if args.candidates_min_population is None:
        return None
    c = access.communes
    candidates = c.loc[c["population"] >= args.candidates_min_population, "insee"].tolist()
    if not candidates:
        raise ValidationError(
            f"Aucune commune n'a au moins {args.candidates_min_population} habitants."
        )
    return candidates


def _write_files(
    args: argparse.Namespace, analysis: Analysis, region: Region, result: ScenarioResult | None
) -> list[str]:
    """Write --report, --map, --csv, --gpkg; return one French line per file written."""
    written: list[str] = []
    if args.report:
        from coverage.outputs.report import write_report

        path = write_report(analysis, Path(args.report), scenario=result)
        written.append(f"Rapport écrit : {path}")
    if args.map:
        from coverage.outputs.maps.coverage import write_coverage_map

        path = write_coverage_map(analysis, Path(args.map), region=region, scenario=result)
        written.append(f"Carte écrite : {path}")
    if args.csv:
        from coverage.outputs.exports import write_csv

        written.append(f"Tableau CSV écrit : {write_csv(analysis, Path(args.csv))}")
    if args.gpkg:
        from coverage.outputs.exports import write_gpkg

        path = write_gpkg(analysis, Path(args.gpkg), region=region)
        written.append(f"GeoPackage écrit : {path}")
    return written


def _print(
    args: argparse.Namespace,
    analysis: Analysis,
    result: ScenarioResult | None,
    written: list[str],
) -> None:
    from coverage.outputs.text import scenario_lines, summary_lines

    if args.json:
        out = analysis.to_dict()
        out["scenario"] = None if result is None else result.to_dict()
        out["files"] = written
        print_json(out)
        return
    if result is not None:
        print("\n".join(scenario_lines(result)))
        print()
        print("Situation après le scénario :")
    print("\n".join(summary_lines(analysis)))
    if written:
        print()
        print("\n".join(written))

"""``parcours analyse``: the planners' coverage analysis, what-if scenarios and siting."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coverage._errors import ValidationError
from coverage.cli._common import add_data_options, model_from_args, print_json

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.planning import Plan, PlanningRequest, Siting
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
            "Mesurer l'éloignement des habitants de chaque commune de la région servie "
            "(--region) à la structure porteuse la plus proche : chiffres clés (moyenne, "
            "médiane, P90, part au-delà du seuil, Gini, Theil, Atkinson, Palma, FGT), "
            "tableaux par département et par zone AJA, communes et EPCI les plus peuplés "
            "au-delà du seuil. Scénarios (--add, --remove, --move) et suggestions de sites "
            "(--site) sans modifier le registre."
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
        help="suggérer K nouveaux sites tous publics (recherche gloutonne puis échanges de sites)",
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
    s.add_argument(
        "--candidates",
        metavar="FICHIER",
        help="candidats : les structures qui ont candidaté (registre, ou liste de communes ou "
        "de points, CSV/XLSX/ODS) ; chaque candidat est mesuré depuis sa commune",
    )
    d = p.add_argument_group("données de l'ARS (aucune n'est fournie ni inventée)")
    d.add_argument(
        "--demand",
        metavar="FICHIER",
        help="pondération de la demande par commune (code INSEE, poids) à la place de la "
        "population, pour tous les chiffres",
    )
    d.add_argument(
        "--demand-aja", metavar="FICHIER", help="pondération de la demande AJA (15-25 ans)"
    )
    d.add_argument(
        "--deprivation",
        metavar="FICHIER",
        help="indice de défavorisation par commune (code INSEE, indice) : gradient social",
    )
    d.add_argument(
        "--deprivation-sens",
        choices=("haut", "bas"),
        help="haut : plus l'indice est élevé, plus la commune est défavorisée ; bas : "
        "l'inverse (sinon la colonne « direction » du fichier)",
    )
    add_data_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure, apply the what-if, suggest sites, write the files asked for, print."""
    from coverage.analysis.planning import plan

    _refuse_outputs_onto_inputs(args)
    access, region, registry = _load(args, COSTS[args.by])
    result = plan(region, registry, request_from_args(args, region, registry), access=access)
    written = _write_files(args, result.analysis, region, result.scenario)
    _print(args, result, written)
    return 0


def _refuse_outputs_onto_inputs(args: argparse.Namespace) -> None:
    """No output may replace an input file (``--csv`` onto the ``--registry``...)."""
    from coverage._atomic import refuse_inputs
    from coverage.data.registry import default_registry_path

    refuse_inputs(
        {"--report": args.report, "--map": args.map, "--csv": args.csv, "--gpkg": args.gpkg},
        {
            "--registry": args.registry or default_registry_path(args.region_spec.code),
            "--aja-zones": args.aja_zones,
            "--matrix": getattr(args, "matrix", None),
            "--territories": args.territories,
            "--demand": args.demand,
            "--demand-aja": args.demand_aja,
            "--deprivation": args.deprivation,
            "--candidates": args.candidates,
        },
    )


def _load(args: argparse.Namespace, by: Cost) -> tuple[AccessTable, Region, Registry]:
    from coverage.analysis.access_build import load_access

    model = model_from_args(args)
    if by == "duration_min" and not model.has_time:
        raise ValidationError(
            f"--by duree demande un modèle de trajet avec durées (--travel osrm, matrix ou "
            f"estimate) ; « {model.label_fr} » n'en donne pas."
        )
    return load_access(
        region=args.region_spec, registry_path=args.registry, zones_path=args.aja_zones, model=model
    )


def request_from_args(
    args: argparse.Namespace, region: Region, registry: Registry
) -> PlanningRequest:
    """The planning request of the command line: every file given is read and checked."""
    from coverage.analysis.planning import PlanningRequest
    from coverage.analysis.scenario import Scenario
    from coverage.data.territories import load_territories
    from coverage.data.weights import load_demand, load_deprivation

    higher = None if args.deprivation_sens is None else args.deprivation_sens == "haut"
    return PlanningRequest(
        threshold=args.threshold,
        by=COSTS[args.by],
        scenario=Scenario(
            add=tuple(args.add),
            add_aja=tuple(args.add_aja),
            remove=tuple(args.remove),
            move=tuple(args.move),
        ),
        siting=_siting(args, region),
        demand=load_demand(args.demand, region=region) if args.demand else None,
        demand_aja=(
            load_demand(args.demand_aja, region=region, kind="aja") if args.demand_aja else None
        ),
        deprivation=(
            load_deprivation(args.deprivation, region=region, higher_is_deprived=higher)
            if args.deprivation
            else None
        ),
        territories=(
            load_territories(args.territories, region=region, registry=registry)
            if args.territories
            else None
        ),
    )


def _siting(args: argparse.Namespace, region: Region) -> Siting | None:
    """The siting asked for: ``--site K`` among every commune, the populous ones, or the
    applicants of ``--candidates``."""
    from coverage.analysis.planning import Siting

    if args.site is None:
        if args.candidates or args.candidates_min_population is not None:
            raise ValidationError("--candidates et --candidates-min-population vont avec --site K.")
        return None
    applicants = None
    if args.candidates:
        from coverage.data.candidates import load_candidates

        applicants = load_candidates(args.candidates, region=region).names_by_commune()
    return Siting(
        k=args.site,
        objective=args.objective,
        min_population=args.candidates_min_population,
        applicants=applicants,
    )


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


def _print(args: argparse.Namespace, result: Plan, written: list[str]) -> None:
    from coverage.outputs.text import scenario_lines, summary_lines

    analysis, scenario = result.analysis, result.scenario
    if args.json:
        out = result.to_dict()
        out["files"] = written
        print_json(out)
        return
    if scenario is not None:
        print("\n".join(scenario_lines(scenario)))
        print()
        print("Situation après le scénario :")
    print("\n".join(summary_lines(analysis)))
    if written:
        print()
        print("\n".join(written))

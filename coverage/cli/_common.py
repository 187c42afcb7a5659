"""Options shared by sub-commands: which registry, AJA zoning and travel model to use."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from coverage import settings
from coverage.cli import add_region_option
from coverage.data.region import load_region
from coverage.patient.finder import Finder
from coverage.travel import (
    FALLBACK_KINDS,
    MATRIX_ENV,
    MATRIX_UNIT_ENV,
    MODEL_KINDS,
    TravelModel,
    make_model,
)
from coverage.travel.matrix_file import UNITS


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """--registry, --aja-zones, --travel, --osrm-dataset, --osrm-url, --matrix and its unit."""
    g = parser.add_argument_group("données")
    add_region_option(g)
    g.add_argument(
        "--registry",
        metavar="FICHIER",
        help=f"fichier de structures (CSV ou GeoJSON) ; par défaut ${settings.REGISTRY_ENV} ou "
        "data/structures.csv",
    )
    g.add_argument(
        "--aja-zones",
        metavar="FICHIER",
        help=f"zonage AJA officiel (CSV) ; par défaut ${settings.AJA_ZONES_ENV}, sinon zones "
        "calculées (dispositif le plus proche)",
    )
    g.add_argument(
        "--travel",
        choices=MODEL_KINDS,
        default="geodesic",
        help="mesure des trajets : geodesic (à vol d'oiseau, défaut), estimate (estimation "
        "routière, durée ajustée sur l'Isère, erreur indiquée), osrm (par la route, jeu de "
        "données construit par `parcours roads build`), matrix (distancier de communes, "
        "--matrix)",
    )
    g.add_argument("--osrm-dataset", metavar="DOSSIER", help="jeu de données OSRM à utiliser")
    g.add_argument(
        "--osrm-url", metavar="URL", help="osrm-routed en cours (ex. http://127.0.0.1:5000)"
    )
    _add_matrix_options(g)


def _add_matrix_options(g: argparse._ArgumentGroup) -> None:
    """--matrix, --matrix-unit, --matrix-fallback (the commune-matrix travel model)."""
    g.add_argument(
        "--territories",
        metavar="FICHIER",
        help="territoires d'intervention de l'ARS (territoire, communes par code INSEE, EPCI ou "
        "département, structures qui les servent) ; sans fichier, aucun territoire",
    )
    g.add_argument(
        "--matrix",
        metavar="FICHIER",
        help=f"distancier de communes (CSV large ou long, Parquet) pour --travel matrix ; par "
        f"défaut ${MATRIX_ENV}",
    )
    g.add_argument(
        "--matrix-unit",
        metavar="UNITÉ",
        help=f"unité du distancier : {', '.join(UNITS)} (ou « s,km » pour deux colonnes) ; par "
        f"défaut ${MATRIX_UNIT_ENV}, sinon les noms de colonnes",
    )
    g.add_argument(
        "--matrix-fallback",
        choices=FALLBACK_KINDS,
        default="none",
        help="communes hors du distancier : none (laissées de côté, défaut), geodesic (à vol "
        "d'oiseau) ou estimate (estimation routière) ; chaque ligne dit quel modèle l'a mesurée",
    )


def model_from_args(args: argparse.Namespace) -> TravelModel:
    """The travel model the options of ``add_data_options`` ask for (a commune matrix is
    checked against the region ``args.region_spec``, loaded only for that model)."""
    region = load_region(region=args.region_spec) if args.travel == "matrix" else None
    return make_model(
        args.travel,
        dataset=args.osrm_dataset,
        url=args.osrm_url,
        matrix=getattr(args, "matrix", None),
        unit=getattr(args, "matrix_unit", None),
        fallback=getattr(args, "matrix_fallback", None),
        region=region,
    )


def finder_from_args(args: argparse.Namespace) -> Finder:
    """Load a ``Finder`` with the options of ``add_data_options``."""
    model = model_from_args(args)
    return Finder.load(
        registry_path=args.registry,
        zones_path=args.aja_zones,
        model=model,
        territories_path=getattr(args, "territories", None),
        region=args.region_spec,
    )


def print_json(obj: Any) -> None:
    """Print JSON (UTF-8, not ASCII-escaped) on standard output."""
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")

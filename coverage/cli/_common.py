"""Options shared by sub-commands: which registry, AJA zoning and travel model to use."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from coverage import settings
from coverage.patient.finder import Finder
from coverage.travel import MODEL_KINDS, make_model


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """--registry, --aja-zones, --travel, --osrm-dataset, --osrm-url."""
    g = parser.add_argument_group("données")
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
        "routière), osrm (par la route, jeu de données construit par `parcours roads build`)",
    )
    g.add_argument("--osrm-dataset", metavar="DOSSIER", help="jeu de données OSRM à utiliser")
    g.add_argument(
        "--osrm-url", metavar="URL", help="osrm-routed en cours (ex. http://127.0.0.1:5000)"
    )


def finder_from_args(args: argparse.Namespace) -> Finder:
    """Load a ``Finder`` with the options of ``add_data_options``."""
    model = make_model(args.travel, dataset=args.osrm_dataset, url=args.osrm_url)
    return Finder.load(registry_path=args.registry, zones_path=args.aja_zones, model=model)


def print_json(obj: Any) -> None:
    """Print JSON (UTF-8, not ASCII-escaped) on standard output."""
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")

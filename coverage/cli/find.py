"""``parcours find PLACE``: the nearest labelled structures and the AJA device for a place."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from coverage.cli import int_range


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "find",
        help="trouver les structures porteuses les plus proches d'une commune",
        description="Trouver les structures porteuses les plus proches d'une commune, d'un code "
        "postal, d'un code INSEE, d'un département ou d'un point « lat, lon ».",
    )
    p.add_argument(
        "place",
        metavar="LIEU",
        help="commune, code postal, code INSEE, département ou « lat, lon »",
    )
    p.add_argument(
        "--age",
        type=int_range(0, 120),
        metavar="ÂGE",
        help="âge du patient, de 0 à 120 (15-25 ans : dispositif AJA)",
    )
    p.add_argument(
        "-k",
        type=int_range(1, 50),
        default=3,
        metavar="NOMBRE",
        help="nombre de structures, de 1 à 50 (3 par défaut)",
    )
    p.add_argument("--json", action="store_true", help="réponse en JSON pour les scripts")
    p.add_argument("--html", metavar="FICHIER", help="écrire une carte HTML autonome")
    # The data options pull in the travel models (pandas): loaded with the command's parser.
    from coverage.cli._common import add_data_options

    add_data_options(p)
    p.set_defaults(func=run)


def _candidate(c: Any) -> dict[str, Any]:
    return {
        "insee": c.insee,
        "name": c.name,
        "dep": c.dep,
        "dep_name": c.dep_name,
        "label": c.patient_label,
        "lat": c.lat,
        "lon": c.lon,
        "matched": c.matched,
        "score": round(c.score, 1),
    }


def _refuse_output_onto_inputs(args: argparse.Namespace) -> None:
    from coverage._atomic import refuse_inputs
    from coverage.data.registry import default_registry_path

    refuse_inputs(
        {"--html": args.html},
        {
            "--registry": args.registry or default_registry_path(args.region_spec.code),
            "--aja-zones": args.aja_zones,
            "--matrix": getattr(args, "matrix", None),
        },
    )


def run(args: argparse.Namespace) -> int:
    from coverage._errors import PlaceError
    from coverage.cli._common import finder_from_args, print_json
    from coverage.outputs import finder_text

    _refuse_output_onto_inputs(args)
    finder = finder_from_args(args)
    try:
        found = finder.lookup(args.place)
    except PlaceError as exc:
        if args.json:
            print_json(
                {
                    "query": args.place,
                    **finder_text.place_error_dict(exc, served=finder.region.code),
                }
            )
        else:
            print(
                f"Erreur : {finder_text.place_error_text(exc, served=finder.region.code)}",
                file=sys.stderr,
            )
            code = getattr(exc, "region_code", "")
            if code and code != finder.region.code:
                print(
                    f"Pour la réponse de cette région : parcours find {shlex.quote(args.place)} "
                    f"--region {code}",
                    file=sys.stderr,
                )
        return 2
    reading = {
        "reading": found.reading,
        "other_reading": None if found.other_reading is None else _candidate(found.other_reading),
    }
    if found.ambiguous:
        candidates = [_candidate(c) for c in found.places]
        if args.json:
            print_json(
                {"query": found.query, "ambiguous": True, **reading, "candidates": candidates}
            )
        else:
            print(finder_text.candidates_text(found))
        return 3
    result = finder.find(found.place, age=args.age, k=args.k)
    if args.html:
        from coverage.outputs.maps.finder import finder_map, save_finder_map

        path = save_finder_map(finder_map(result, finder), Path(args.html))
        if not args.json:
            print(f"Carte écrite : {path}")
    if args.json:
        doc = result.to_dict()
        doc["forfait"]["summary"] = finder_text.forfait_lines()  # the facts, worded
        print_json({"query": found.query, "ambiguous": False, **reading, **doc})
    else:
        print(finder_text.finder_text(result, found))
    return 0

"""``parcours find PLACE``: the nearest labelled structures and the AJA device for a place."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.cli._common import add_data_options, finder_from_args, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "find",
        help="trouver les structures porteuses les plus proches d'une commune",
        description="Trouver les structures porteuses les plus proches d'une commune, d'un code "
        "postal, d'un code INSEE ou d'un point « lat, lon ».",
    )
    p.add_argument("place", metavar="LIEU", help="commune, code postal, code INSEE ou « lat, lon »")
    p.add_argument("--age", type=int, help="âge du patient (15-25 ans : dispositif AJA)")
    p.add_argument("-k", type=int, default=3, help="nombre de structures (défaut 3)")
    p.add_argument("--json", action="store_true", help="réponse en JSON pour les scripts")
    p.add_argument("--html", metavar="FICHIER", help="écrire une carte HTML autonome")
    add_data_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    finder = finder_from_args(args)
    found = finder.lookup(args.place)
    if found.ambiguous:
        candidates = [
            {
                "insee": c.insee,
                "name": c.name,
                "dep": c.dep,
                "lat": c.lat,
                "lon": c.lon,
                "matched": c.matched,
                "score": round(c.score, 1),
            }
            for c in found.places
        ]
        if args.json:
            print_json({"query": found.query, "ambiguous": True, "candidates": candidates})
        else:
            print(f"« {found.query} » peut désigner plusieurs communes ; précisez :")
            for c in found.places:
                print(f" - {c.label}, code INSEE {c.insee}  →  parcours find {c.insee}")
        return 3
    result = finder.find(found.place, age=args.age, k=args.k)
    if args.html:
        from coverage.outputs.maps.finder import finder_map, save_finder_map

        path = save_finder_map(finder_map(result, finder), Path(args.html))
        if not args.json:
            print(f"Carte écrite : {path}")
    if args.json:
        print_json({"query": found.query, "ambiguous": False, **result.to_dict()})
    else:
        print(result.to_text_fr())
    return 0

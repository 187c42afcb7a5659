"""``parcours registry check PATH``: validate a registry file; ``registry show``: list it."""

from __future__ import annotations

import argparse

from coverage.data.region import load_region
from coverage.data.registry import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="vérifier ou afficher un fichier de structures")
    rsub = p.add_subparsers(dest="registry_command", required=True, metavar="ACTION")
    check = rsub.add_parser("check", help="valider un fichier de structures (CSV ou GeoJSON)")
    check.add_argument("path", metavar="FICHIER")
    check.set_defaults(func=run_check)
    show = rsub.add_parser("show", help="lister les structures du registre en vigueur")
    show.add_argument("path", metavar="FICHIER", nargs="?")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    reg = load_registry(args.path, region=load_region())
    c = reg.counts()
    print(f"Fichier valide : {c['total']} structure(s), dont {c['located']} localisée(s).")
    print(reg.completeness_fr())
    return 0


def run_show(args: argparse.Namespace) -> int:
    reg = load_registry(args.path, region=load_region())
    for r in reg.structures.to_dict("records"):
        where = (
            f"{r['commune_name']} ({r['dep']})" if r["located"] else f"non localisée ({r['dep']})"
        )
        print(f"- [{r['kind']}] {r['name']} — {where} — source : {r['source']}")
    print(reg.completeness_fr())
    return 0

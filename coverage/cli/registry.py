"""``parcours registry``: check, show, import a registry file, or write a blank template.

- ``registry check FICHIER [--sheet S]``: validate a file (CSV, XLSX, ODS, GeoJSON);
- ``registry show [FICHIER]``: list the structures of the registry in force;
- ``registry import FICHIER [--sheet S] [--source URL] --out structures.csv``: convert the
  ARS's spreadsheet to the canonical CSV (written atomically), printing what each column
  became and how each row was located;
- ``registry template --out modele.xlsx|modele.csv``: a blank file to fill.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage import _atomic
from coverage._errors import ValidationError
from coverage.cli import add_region_option
from coverage.data.region import load_region
from coverage.data.registry_files import (
    RegistryImport,
    import_registry,
    load_registry,
    template_csv,
    template_xlsx,
)
from coverage.french import plural

_METHODS_FR = {
    "insee": "code INSEE donné",
    "coordonnees": "coordonnées données",
    "code_postal_commune": "code postal et commune",
    "commune": "nom de commune",
    "code_postal": "code postal",
    "adresse": "fin de l'adresse",
    "non_localisee": "non localisée (ni code INSEE, ni commune, ni coordonnées)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="vérifier, afficher ou importer un fichier de structures")
    rsub = p.add_subparsers(dest="registry_command", required=True, metavar="ACTION")
    check = rsub.add_parser(
        "check", help="valider un fichier de structures (CSV, XLSX, ODS ou GeoJSON)"
    )
    check.add_argument("path", metavar="FICHIER")
    _sheet_option(check)
    check.set_defaults(func=run_check)
    show = rsub.add_parser("show", help="lister les structures du registre en vigueur")
    show.add_argument("path", metavar="FICHIER", nargs="?")
    _sheet_option(show)
    show.set_defaults(func=run_show)
    imp = rsub.add_parser(
        "import", help="convertir le tableur de l'ARS en fichier de structures canonique (CSV)"
    )
    imp.add_argument("path", metavar="FICHIER")
    _sheet_option(imp)
    imp.add_argument(
        "--source", metavar="URL", help="source (http/https) des lignes qui n'en ont pas"
    )
    imp.add_argument("--out", metavar="FICHIER", required=True, help="CSV canonique à écrire")
    imp.set_defaults(func=run_import)
    tpl = rsub.add_parser("template", help="écrire un modèle vierge à remplir (.xlsx ou .csv)")
    tpl.add_argument("--out", metavar="FICHIER", required=True)
    tpl.set_defaults(func=run_template)


def _sheet_option(parser: argparse.ArgumentParser) -> None:
    add_region_option(parser)
    parser.add_argument(
        "--sheet", metavar="FEUILLE", help="feuille du classeur à lire (par défaut la première)"
    )


def run_check(args: argparse.Namespace) -> int:
    reg = load_registry(args.path, region=load_region(region=args.region_spec), sheet=args.sheet)
    c = reg.counts()
    print(f"Fichier valide : {c['total']} structure(s), dont {c['located']} localisée(s).")
    print(reg.completeness_fr())
    return 0


def run_show(args: argparse.Namespace) -> int:
    reg = load_registry(args.path, region=load_region(region=args.region_spec), sheet=args.sheet)
    for r in reg.structures.to_dict("records"):
        where = (
            f"{r['commune_name']} ({r['dep']})" if r["located"] else f"non localisée ({r['dep']})"
        )
        print(f"- [{r['kind']}] {r['name']} — {where} — source : {r['source']}")
    print(reg.completeness_fr())
    return 0


def run_import(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and out.resolve() == Path(args.path).resolve():
        raise ValidationError(f"--out {args.out!r} est le fichier lu : choisissez un autre nom.")
    imp = import_registry(
        args.path, region=load_region(region=args.region_spec), sheet=args.sheet, source=args.source
    )
    for line in import_report_lines(imp):
        print(line)
    _atomic.write_bytes(out, imp.canonical_csv())
    print(f"Écrit : {out} ({plural(len(imp.records), 'structure')}).")
    return 0


def import_report_lines(imp: RegistryImport) -> list[str]:
    """What each column became and how each row was located, in French."""
    t = imp.table
    what = {"csv": "CSV", "xlsx": "classeur XLSX", "ods": "classeur ODS", "geojson": "GeoJSON"}
    head = f"Lu : {t.path} ({what[t.kind]}"
    if t.sheet:
        head += f", feuille « {t.sheet} » ({len(t.sheets)} au total)"
    if t.kind == "csv":
        sep = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}[t.delimiter]
        head += f", encodage {t.encoding}, séparateur {sep}"
    lines = [head + f", {plural(len(t.rows), 'ligne')})."]
    lines.append("Colonnes :")
    lines += [f"  « {h} » -> {c}" for h, c in imp.header.columns]
    if "id" in imp.made:
        lines.append("  (aucune colonne d'identifiant : id créé à partir du nom)")
    if "source" in imp.made:
        lines.append("  (aucune colonne Source : la source donnée par --source)")
    lines.append("Localisation :")
    for loc in imp.locations:
        how = _METHODS_FR[loc.method]
        where = f" -> {loc.name} ({loc.insee})" if loc.insee else ""
        query = f" « {loc.query} »" if loc.query and loc.method != "insee" else ""
        lines.append(f"  ligne {loc.line} ({loc.id}) : {how}{query}{where}")
    return lines


def run_template(args: argparse.Namespace) -> int:
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        raise ValidationError(f"--out {args.out!r} : attendu un nom en .xlsx ou .csv.")
    _atomic.write_bytes(out, template_xlsx() if suffix == ".xlsx" else template_csv())
    print(f"Modèle vierge écrit : {out}.")
    return 0

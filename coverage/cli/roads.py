"""``parcours roads``: build the road dataset (OSRM), say which one is active, serve it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from coverage._errors import RoadEngineError
from coverage.roads import engine as roads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roads",
        help="réseau routier (OSRM) : construire, consulter, servir",
        description="Distances et temps de trajet par la route avec OSRM (profil voiture).",
    )
    rsub = p.add_subparsers(dest="roads_command", required=True, metavar="ACTION")

    build = rsub.add_parser(
        "build",
        help="construire le jeu de données routier depuis un extrait OpenStreetMap",
        description="Construire le jeu de données routier (OSRM, MLD, voiture) depuis un "
        "extrait OpenStreetMap (.osm.pbf) couvrant Auvergne-Rhône-Alpes.",
    )
    build.add_argument("pbf", metavar="FICHIER.osm.pbf", help="extrait OpenStreetMap")
    build.add_argument(
        "--out",
        metavar="DOSSIER",
        help="dossier du jeu de données (défaut : cache/osrm/<nom>-<identifiant>)",
    )
    build.add_argument(
        "--partial",
        action="store_true",
        help="accepter un extrait qui ne couvre pas les 12 départements de la région",
    )
    build.add_argument("--force", action="store_true", help="reconstruire même si à jour")
    build.add_argument("--threads", type=int, help="fils d'exécution (défaut : tous)")
    build.add_argument(
        "--no-activate",
        dest="activate",
        action="store_false",
        help="ne pas en faire le jeu de données utilisé par défaut",
    )
    build.add_argument(
        "-v", "--verbose", action="store_true", help="afficher les messages des outils OSRM"
    )
    build.set_defaults(func=run_build)

    info = rsub.add_parser(
        "info",
        help="quel jeu de données routier est actif (date, empreinte, étapes)",
    )
    info.add_argument("path", metavar="DOSSIER", nargs="?", help="jeu de données à décrire")
    info.add_argument("--json", action="store_true", help="le manifeste en JSON")
    info.set_defaults(func=run_info)

    serve = rsub.add_parser(
        "serve",
        help="lancer osrm-routed sur ce poste (127.0.0.1) avec le jeu de données",
    )
    serve.add_argument("path", metavar="DOSSIER", nargs="?", help="jeu de données à servir")
    serve.add_argument("--port", type=int, default=5000, help="port (défaut 5000)")
    serve.add_argument("--threads", type=int, default=2, help="fils d'exécution (défaut 2)")
    serve.set_defaults(func=run_serve)


def run_build(args: argparse.Namespace) -> int:
    folder = roads.build_dataset(
        args.pbf,
        out=args.out,
        partial=args.partial,
        progress=lambda line: print(line, flush=True),
        log=(lambda line: print(f"    | {line}", flush=True)) if args.verbose else None,
        threads=args.threads,
        activate=args.activate,
        force=args.force,
    )
    if args.activate:
        print(f"C'est désormais le jeu de données routier par défaut ({folder}).")
    return 0


def _locate(path: str | None) -> tuple[Path | None, str]:
    if path:
        return Path(path), "indiqué en argument"
    found = roads.active_dataset()
    if os.environ.get(roads.DATASET_ENV, "").strip():
        return found, f"variable ${roads.DATASET_ENV}"
    return found, "dernier jeu de données construit"


def describe(ds: roads.Dataset, origin: str) -> list[str]:
    """French lines describing a dataset (for ``roads info``)."""
    m = ds.manifest
    lines = [f"Jeu de données routier : {ds.folder} ({origin})"]
    if not m:
        lines.append("  Pas de manifeste : date, empreinte et étapes inconnues.")
        return lines
    ext = m.get("extract", {})
    size = f"{ext.get('bytes', 0) / 1e6:.1f}".replace(".", ",")
    source = {
        "osmosis_replication_timestamp": "en-tête de l'extrait",
        "max_node_timestamp": "dernière modification d'un nœud",
    }.get(ext.get("date_source"), "inconnue")
    lines += [
        f"  Extrait OpenStreetMap : {ext.get('file')} ({size} Mo)",
        f"  Date des données : {ext.get('date', roads.UNKNOWN_DATE)} (source : {source})",
        f"  Empreinte sha256 : {ext.get('sha256')}",
        f"  Construit le : {m.get('built_at')} avec osrm-bindings "
        f"{m.get('osrm_bindings_version')} (profil {m.get('profile', {}).get('file')}, "
        f"{m.get('algorithm')}) en {roads.fr_seconds(float(m.get('build_seconds', 0)))}",
        f"  Identifiant : {m.get('dataset_id')}",
        "  Étapes :",
    ]
    for st in m.get("stages", []):
        tool = f" ({st['tool']})" if st.get("tool") else ""
        peak = st.get("peak_rss_mb")
        mem = f", mémoire max {roads.fr_megabytes(peak)}" if peak else ""
        lines.append(f"    - {st['label_fr']}{tool} : {roads.fr_seconds(st['seconds'])}{mem}")
    cov = m.get("coverage", {})
    if not cov.get("checked"):
        lines.append("  Couverture de la région : non vérifiée")
    elif cov.get("missing"):
        names = ", ".join(f"{d} ({roads.DEPARTEMENT_NAMES.get(d, d)})" for d in cov["missing"])
        lines.append(f"  Couverture de la région : PARTIELLE ; départements absents : {names}")
    else:
        lines.append("  Couverture de la région : 12 départements sur 12")
    return lines


def run_info(args: argparse.Namespace) -> int:
    path, origin = _locate(args.path)
    if path is None:
        print(
            "Aucun jeu de données routier : construisez-en un avec "
            "`parcours roads build FICHIER.osm.pbf` (voir docs/roads.md). "
            "Les distances restent calculées à vol d'oiseau."
        )
        return 1
    ds = roads.open_dataset(path)
    if args.json:
        json.dump(ds.manifest, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(describe(ds, origin)))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    path, _ = _locate(args.path)
    if path is None:
        raise RoadEngineError(
            "Aucun jeu de données routier à servir : construisez-en un avec "
            "`parcours roads build FICHIER.osm.pbf`."
        )
    ds = roads.open_dataset(path)
    url = f"http://127.0.0.1:{args.port}"
    print(
        f"Serveur OSRM sur {url} (Ctrl-C pour l'arrêter) ; les outils l'utilisent avec "
        f"--osrm-url {url} ou {roads.URL_ENV}={url}.",
        flush=True,
    )
    cmd = [
        str(roads.tool_path("routed")),
        "--algorithm",
        roads.ALGORITHM,
        "-i",
        "127.0.0.1",
        "-p",
        str(args.port),
        "-t",
        str(args.threads),
        str(ds.base),
    ]
    return subprocess.call(cmd)

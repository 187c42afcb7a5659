"""``parcours roads``: build the road dataset (OSRM), say which one is active, serve it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from coverage import french, roads
from coverage._errors import CoverageError, RoadEngineError
from coverage.cli import add_region_option
from coverage.data.region import load_region
from coverage.geography import RegionSpec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roads",
        help="réseau routier (OSRM) : construire, consulter, servir",
        description="Distances et temps de trajet par la route avec OSRM (profil voiture).",
    )
    rsub = p.add_subparsers(dest="roads_command", required=True, metavar="ACTION")
    _register_build(rsub)
    _register_info_and_serve(rsub)


def _register_build(rsub: argparse._SubParsersAction) -> None:
    build = rsub.add_parser(
        "build",
        help="construire le jeu de données routier depuis un extrait OpenStreetMap",
        description="Construire le jeu de données routier (OSRM, MLD, voiture) depuis un "
        "extrait OpenStreetMap (.osm.pbf) couvrant la région servie (--region).",
    )
    build.add_argument("pbf", metavar="FICHIER.osm.pbf", help="extrait OpenStreetMap")
    add_region_option(build)
    build.add_argument(
        "--out",
        metavar="DOSSIER",
        help="dossier du jeu de données (défaut : cache/osrm/<nom>-<identifiant>)",
    )
    build.add_argument(
        "--partial",
        action="store_true",
        help="accepter un extrait qui ne couvre pas tous les départements de la région",
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


def _register_info_and_serve(rsub: argparse._SubParsersAction) -> None:
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


def _stage_start(e: roads.BuildEvent) -> str:
    tool = f" ({e.tool})" if e.tool else ""
    return f"Étape {e.step}/{e.steps} : {e.label_fr}{tool}…"


def _coverage_done(e: roads.BuildEvent) -> str:
    found = (
        f"départements absents : {roads.name_departements(list(e.missing))}"
        if e.missing
        else "chaque département de la région est couvert"
    )
    return f"  couverture vérifiée : {french.seconds(e.seconds or 0.0)} ; {found}"


#: The French line of each kind of build event.
_EVENT_LINES: dict[str, Callable[[roads.BuildEvent], str]] = {
    "read_start": lambda e: (
        f"Lecture de l'extrait {e.extract} ({french.number(e.megabytes, decimals=1)} Mo)…"
    ),
    "no_header_date": lambda e: (
        "  L'en-tête de l'extrait n'a pas de date : lecture de la date des nœuds…"
    ),
    "read_done": lambda e: (
        f"  date des données : {e.date} ; sha256 {e.sha256[:12]}… "
        f"({french.seconds(e.seconds or 0.0)})"
    ),
    "reused": lambda e: (
        f"Jeu de données déjà construit le {e.built_at} dans {e.folder} : rien à refaire "
        "(--force pour reconstruire)."
    ),
    "no_communes": lambda e: "Communes de la région indisponibles : couverture non vérifiée.",
    "stage_start": _stage_start,
    "stage_done": lambda e: (
        f"  {e.label_fr} : {french.seconds(e.seconds or 0.0)} "
        f"(mémoire max {french.megabytes(e.peak_rss_mb)})"
    ),
    "coverage_done": _coverage_done,
    "ready": lambda e: f"Jeu de données prêt en {french.seconds(e.seconds or 0.0)} : {e.folder}",
}


def render_event(event: roads.BuildEvent) -> str:
    """The French line printed for one build event."""
    line = _EVENT_LINES.get(event.kind)
    return line(event) if line is not None else f"  {event.kind}"


def _communes(region: RegionSpec, partial: bool) -> pd.DataFrame | None:
    """The communes of ``region`` for the coverage check; ``None`` (unchecked) only if
    partial."""
    try:
        return load_region(region=region).communes
    except CoverageError as exc:
        if not partial:
            raise RoadEngineError(
                "Impossible de vérifier que l'extrait couvre la région (communes "
                f"indisponibles : {exc}) ; relancez avec --partial pour construire sans "
                "vérification."
            ) from exc
        return None


def run_build(args: argparse.Namespace) -> int:
    folder = roads.build_dataset(
        args.pbf,
        communes=lambda: _communes(args.region_spec, args.partial),
        out=args.out,
        partial=args.partial,
        progress=lambda event: print(render_event(event), flush=True),
        tools=roads.ToolOptions(
            threads=args.threads,
            log=(lambda line: print(f"    | {line}", flush=True)) if args.verbose else None,
        ),
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
    size = french.number(ext.get("bytes", 0) / 1e6, decimals=1)
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
        f"{m.get('algorithm')}) en {french.seconds(float(m.get('build_seconds', 0)))}",
        f"  Identifiant : {m.get('dataset_id')}",
        "  Étapes :",
    ]
    for st in m.get("stages", []):
        tool = f" ({st['tool']})" if st.get("tool") else ""
        peak = st.get("peak_rss_mb")
        mem = f", mémoire max {french.megabytes(peak)}" if peak else ""
        lines.append(f"    - {st['label_fr']}{tool} : {french.seconds(st['seconds'])}{mem}")
    cov = m.get("coverage", {})
    if not cov.get("checked"):
        lines.append("  Couverture de la région : non vérifiée")
    elif cov.get("missing"):
        names = roads.name_departements(list(cov["missing"]))
        lines.append(f"  Couverture de la région : PARTIELLE ; départements absents : {names}")
    else:
        lines.append("  Couverture de la région : chaque département couvert")
    return lines


def run_info(args: argparse.Namespace) -> int:
    path, origin = _locate(args.path)
    if path is None:
        print(
            "Aucun jeu de données routier : construisez-en un avec "
            f"`parcours roads build FICHIER.osm.pbf` (voir {roads.README_SECTION}). "
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

"""Road travel model: driving distance and time from OSRM, in this process or from osrm-routed.

``OsrmModel`` implements ``travel.TravelModel``: the finder and the analytics use it as they
use ``GeodesicModel``. It answers either in this process, through the bindings' table service
on a dataset built by ``coverage.roads.build_dataset``, or from a running ``osrm-routed``
(``url``, HTTP ``/table/v1/driving``). Tables of any size are cut into blocks that each engine
accepts. Unreachable pairs and points too far from any road are NaN, never 0, and counted in a
warning and in ``table.attrs``. Results are cached on disk, keyed by the dataset's identity and
the points' coordinates. ``travel.make_model("osrm", dataset=..., url=...)`` builds one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coverage import roads, settings
from coverage._atomic import atomic_open
from coverage._errors import CoverageWarning, RoadEngineError, ValidationError
from coverage.travel.base import TABLE_COLUMNS, check_points

#: Points farther than this from every road of the dataset get NaN: the dataset does not
#: cover them (a commune's town hall is always much closer to a road than this).
DEFAULT_MAX_SNAP_M = 5000.0
#: Coordinates per table call in this process.
DEFAULT_CHUNK = 1000
#: Coordinates per HTTP request: osrm-routed's default ``--max-table-size``.
DEFAULT_MAX_TABLE_SIZE = 100
#: Extra columns of an OSRM table: distance from each point to the road it was snapped to.
SNAP_COLUMNS: tuple[str, ...] = ("origin_snap_m", "destination_snap_m")
#: Bump when the cached arrays change meaning.
CACHE_SCHEMA = 1


class RoadTravelWarning(CoverageWarning):
    """Some pairs have no road route (NaN in the table)."""


def _blocks(n: int, m: int, limit: int) -> Iterator[tuple[slice, slice]]:
    """Cut an n x m table into blocks of at most ``limit`` coordinates (sources + targets)."""
    if m <= limit // 2:
        src_step, dst_step = limit - m, m
    elif n <= limit // 2:
        src_step, dst_step = n, limit - n
    else:
        src_step = dst_step = limit // 2
    for i in range(0, n, src_step):
        for j in range(0, m, dst_step):
            yield slice(i, min(i + src_step, n)), slice(j, min(j + dst_step, m))


def _matrix(rows: Any) -> np.ndarray:
    """An OSRM matrix (lists with None/null for no route) as a float array with NaN."""
    return np.array(
        [[np.nan if v is None else float(v) for v in row] for row in rows], dtype=float
    ).reshape(len(rows), -1)


def _points_key(o: pd.DataFrame, d: pd.DataFrame) -> str:
    digest = hashlib.sha256(f"schema {CACHE_SCHEMA};{len(o)}x{len(d)}".encode())
    for frame in (o, d):
        for col in ("lon", "lat"):
            digest.update(np.round(frame[col].to_numpy(dtype=float), 6).tobytes())
    return digest.hexdigest()[:32]


class OsrmModel:
    """Driving distance and time by road (OSRM, car profile).

    Parameters
    ----------
    dataset
        Dataset folder (or ``.osrm`` base path); default ``roads.active_dataset()``.
    url
        Address of a running ``osrm-routed`` (e.g. ``"http://127.0.0.1:5000"``); when given,
        the dataset is not loaded in this process. Default ``$PARCOURS_OSRM_URL`` when neither
        ``dataset`` nor ``url`` is given.
    max_snap_m
        Points farther than this from every road get NaN; ``None`` keeps every point.
    chunk_size
        Coordinates per table call; default 1,000 in this process, 100 with ``url``
        (osrm-routed's default ``--max-table-size``).
    cache
        Keep results on disk under ``settings.cache_dir() / "osrm-tables"``.
    timeout_s
        Seconds to wait for each HTTP answer.

    Raises
    ------
    RoadEngineError
        No dataset, a missing or incomplete dataset (in French, naming it).
    """

    name: ClassVar[str] = "osrm"
    label_fr: ClassVar[str] = "par la route (OSRM, voiture)"
    has_time: ClassVar[bool] = True

    def __init__(
        self,
        *,
        dataset: str | os.PathLike[str] | None = None,
        url: str | None = None,
        max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
        chunk_size: int | None = None,
        cache: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        if max_snap_m is not None and not (math.isfinite(max_snap_m) and max_snap_m > 0):
            raise ValidationError(f"`max_snap_m` must be a positive distance; got {max_snap_m!r}.")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 2):
            raise ValidationError(f"`chunk_size` must be an integer >= 2; got {chunk_size!r}.")
        if not (isinstance(timeout_s, int | float) and timeout_s > 0):
            raise ValidationError(f"`timeout_s` must be a positive number; got {timeout_s!r}.")
        if dataset is None and url is None:
            url = os.environ.get(roads.URL_ENV, "").strip() or None
        self.max_snap_m = max_snap_m
        self.cache = bool(cache)
        self.timeout_s = float(timeout_s)
        self.url: str | None = None
        self.dataset: roads.Dataset | None = None
        if url is not None:
            self.url = _check_url(url)
            self.chunk_size = chunk_size or DEFAULT_MAX_TABLE_SIZE
        else:
            path = dataset if dataset is not None else roads.active_dataset()
            if path is None:
                raise RoadEngineError(
                    "Aucun jeu de données routier OSRM n'est disponible : construisez-en un "
                    "avec `parcours roads build FICHIER.osm.pbf`, indiquez-le avec "
                    f"${roads.DATASET_ENV} ou un serveur osrm-routed avec ${roads.URL_ENV}. "
                    "Les distances à vol d'oiseau restent disponibles."
                )
            try:
                self.dataset = roads.open_dataset(path)
            except RoadEngineError as exc:
                if dataset is None and os.environ.get(roads.DATASET_ENV, "").strip():
                    raise RoadEngineError(
                        f"{exc} (jeu de données indiqué par ${roads.DATASET_ENV})"
                    ) from exc
                raise
            self.chunk_size = chunk_size or DEFAULT_CHUNK

    def __repr__(self) -> str:
        return f"OsrmModel({self.source})"

    @property
    def source(self) -> str:
        """Where the answers come from, in French (for notes under figures)."""
        if self.url is not None:
            return f"serveur osrm-routed {self.url}"
        assert self.dataset is not None
        return f"jeu de données {self.dataset.folder} (OSM du {self.dataset.extract_date})"

    # ---------------------------------------------------------------------------------------

    def table(self, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
        """One row per (origin, destination): ``TABLE_COLUMNS`` plus ``SNAP_COLUMNS``.

        ``distance_km`` and ``duration_min`` are NaN where no road route exists or where a
        point lies farther than ``max_snap_m`` from every road; ``attrs`` counts them
        (``unreachable_pairs``, ``far_origins``, ``far_destinations``) and a
        ``RoadTravelWarning`` says so.
        """
        o = check_points(origins, name="origins")
        d = check_points(destinations, name="destinations")
        n, m = len(o), len(d)
        if n and m:
            dist_m, dur_s, o_snap, d_snap = self._matrices(o, d)
        else:
            dist_m, dur_s = np.empty((n, m)), np.empty((n, m))
            o_snap, d_snap = np.full(n, np.nan), np.full(m, np.nan)
        far_o = self._far(o_snap)
        far_d = self._far(d_snap)
        dist_m = dist_m.copy()
        dur_s = dur_s.copy()
        dist_m[far_o, :] = np.nan
        dist_m[:, far_d] = np.nan
        unroutable = ~(np.isfinite(dist_m) & np.isfinite(dur_s))
        dist_m[unroutable] = np.nan
        dur_s[unroutable] = np.nan
        n_unreachable = int(unroutable.sum())
        if n_unreachable:
            warnings.warn(
                _unreachable_message(n_unreachable, n * m, o, d, far_o, far_d, self.max_snap_m),
                RoadTravelWarning,
                stacklevel=2,
            )
        table = pd.DataFrame(
            {
                "origin": np.repeat(o["id"].to_numpy(), m),
                "destination": np.tile(d["id"].to_numpy(), n),
                "distance_km": dist_m.ravel() / 1000.0,
                "duration_min": dur_s.ravel() / 60.0,
                "model": self.name,
                "origin_snap_m": np.repeat(o_snap, m),
                "destination_snap_m": np.tile(d_snap, n),
            },
            columns=[*TABLE_COLUMNS, *SNAP_COLUMNS],
        )
        table.attrs["model"] = self.name
        table.attrs["unreachable_pairs"] = n_unreachable
        table.attrs["far_origins"] = int(far_o.sum())
        table.attrs["far_destinations"] = int(far_d.sum())
        return table

    def _far(self, snaps: np.ndarray) -> np.ndarray:
        if self.max_snap_m is None:
            return np.zeros(len(snaps), dtype=bool)
        return ~(np.nan_to_num(snaps, nan=np.inf) <= self.max_snap_m)

    # ---------------------------------------------------------------------------------------

    def _matrices(self, o: pd.DataFrame, d: pd.DataFrame) -> tuple[np.ndarray, ...]:
        identity = self._identity(o) if self.cache else None
        path = None
        if identity:
            path = settings.cache_dir() / "osrm-tables" / identity / f"{_points_key(o, d)}.npz"
            cached = _read_cache(path, len(o), len(d))
            if cached is not None:
                return cached
        result = self._compute(o, d)
        if path is not None:
            with atomic_open(path, "wb") as fh:
                np.savez_compressed(
                    fh,
                    distance_m=result[0],
                    duration_s=result[1],
                    o_snap=result[2],
                    d_snap=result[3],
                )
        return result

    def _identity(self, o: pd.DataFrame) -> str | None:
        """The dataset's identity for the cache (None: do not cache)."""
        if self.dataset is not None:
            return self.dataset.dataset_id
        answer = self._get(
            f"/nearest/v1/driving/{o['lon'].iloc[0]:.6f},{o['lat'].iloc[0]:.6f}",
            {"number": "1", "generate_hints": "false"},
        )
        version = answer.get("data_version")
        return str(version) if version else None

    def _compute(self, o: pd.DataFrame, d: pd.DataFrame) -> tuple[np.ndarray, ...]:
        n, m = len(o), len(d)
        dist_m = np.full((n, m), np.nan)
        dur_s = np.full((n, m), np.nan)
        o_snap = np.full(n, np.nan)
        d_snap = np.full(m, np.nan)
        olon, olat = o["lon"].to_numpy(), o["lat"].to_numpy()
        dlon, dlat = d["lon"].to_numpy(), d["lat"].to_numpy()
        call = self._http_table if self.url is not None else self._local_table
        for si, dj in _blocks(n, m, self.chunk_size):
            coords = list(zip(olon[si], olat[si], strict=True))
            coords += list(zip(dlon[dj], dlat[dj], strict=True))
            k = len(olon[si])
            answer = call(coords, k)
            dist_m[si, dj] = _matrix(answer["distances"])
            dur_s[si, dj] = _matrix(answer["durations"])
            o_snap[si] = [float(w["distance"]) for w in answer["sources"]]
            d_snap[dj] = [float(w["distance"]) for w in answer["destinations"]]
        return dist_m, dur_s, o_snap, d_snap

    def _local_table(self, coords: list[tuple[float, float]], k: int) -> Any:
        import osrm

        assert self.dataset is not None
        engine = roads.load_engine(self.dataset)
        params = osrm.TableParameters(
            coordinates=[(float(x), float(y)) for x, y in coords],
            sources=list(range(k)),
            destinations=list(range(k, len(coords))),
            annotations=["duration", "distance"],
            generate_hints=False,
        )
        try:
            return engine.Table(params)
        except RuntimeError as exc:
            raise RoadEngineError(
                f"Le moteur routier OSRM n'a pas pu calculer la table ({exc})."
            ) from exc

    def _http_table(self, coords: list[tuple[float, float]], k: int) -> Any:
        text = ";".join(f"{x:.6f},{y:.6f}" for x, y in coords)
        query = {
            "sources": ";".join(str(i) for i in range(k)),
            "destinations": ";".join(str(i) for i in range(k, len(coords))),
            "annotations": "duration,distance",
            "generate_hints": "false",
        }
        return self._get(f"/table/v1/driving/{text}", query)

    def _get(self, path: str, query: dict[str, str]) -> dict:
        assert self.url is not None
        address = f"{self.url}{path}?{urllib.parse.urlencode(query, safe=';,')}"
        # The scheme was checked to be http(s) by _check_url.
        request = urllib.request.Request(address, headers={"User-Agent": "parcours"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = _osrm_error(exc.read())
            hint = ""
            if "TooBig" in detail:
                hint = " : réduisez `chunk_size` ou relancez osrm-routed avec --max-table-size"
            raise RoadEngineError(
                f"Le serveur OSRM {self.url!r} a refusé la requête (HTTP {exc.code}, "
                f"{detail}){hint}."
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError | socket.timeout):
                why = f"pas de réponse en {self.timeout_s:g} s"
            elif isinstance(reason, ConnectionRefusedError):
                why = "connexion refusée"
            else:
                why = str(reason)
            raise RoadEngineError(
                f"Le serveur OSRM {self.url!r} ne répond pas ({why}) : démarrez osrm-routed "
                "(`parcours roads serve`) ou utilisez un jeu de données local. Les distances "
                "à vol d'oiseau restent disponibles."
            ) from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise RoadEngineError(
                f"Le serveur {self.url!r} a renvoyé une réponse illisible : est-ce bien "
                "osrm-routed ?"
            ) from exc
        if answer.get("code") != "Ok":
            raise RoadEngineError(
                f"Le serveur OSRM {self.url!r} n'a pas pu répondre ({_osrm_error(body)})."
            )
        return answer


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"`url` must be an http(s) address such as 'http://127.0.0.1:5000'; got {url!r}."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _osrm_error(body: bytes) -> str:
    try:
        data = json.loads(body)
        return f"{data.get('code', '?')} : {data.get('message', '')}".strip(" :")
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _read_cache(path: Path, n: int, m: int) -> tuple[np.ndarray, ...] | None:
    if not path.is_file():
        return None
    with contextlib.suppress(OSError, ValueError, KeyError, EOFError):
        with np.load(path, allow_pickle=False) as data:
            out = tuple(data[k] for k in ("distance_m", "duration_s", "o_snap", "d_snap"))
        shapes = [a.shape for a in out]
        if shapes == [(n, m), (n, m), (n,), (m,)]:
            return out
    return None


def _unreachable_message(
    count: int,
    total: int,
    o: pd.DataFrame,
    d: pd.DataFrame,
    far_o: np.ndarray,
    far_d: np.ndarray,
    max_snap_m: float | None,
) -> str:
    text = (
        f"{count} paire(s) origine-destination sur {total} sans itinéraire par la route : "
        "distance et durée manquantes (NaN), jamais 0"
    )
    if far_o.any() or far_d.any():
        ids = [*o["id"].to_numpy()[far_o].tolist(), *d["id"].to_numpy()[far_d].tolist()]
        examples = list(dict.fromkeys(ids))[:3]
        text += (
            f" ; {int(far_o.sum())} origine(s) et {int(far_d.sum())} destination(s) à plus de "
            f"{max_snap_m:g} m de toute route du jeu de données (hors de sa zone ?), "
            f"par exemple {examples!r}"
        )
    return text + "."

"""What one upload may cost the server: limits checked before any work, and a queue.

A registry upload is read, validated and turned into a finder (and, on the desk, into a
commune x structure table): the most expensive thing a visitor can ask for. Three bounds:

- :func:`check_upload_budget` refuses, before parsing, a file over :data:`UPLOAD_MAX_BYTES`
  or with more than :data:`UPLOAD_MAX_ROWS` structures (rows counted on the raw bytes);
- :func:`upload_slot` lets at most :data:`UPLOAD_SLOTS` uploads be processed at once (each
  in a worker of ``coverage.web.worker``, bounded in time and memory); the others wait in a
  queue (the page says so) for at most :data:`QUEUE_WAIT_S` seconds, then are refused with a
  French message;
- what an upload builds lives in the uploader's own session
  (:class:`coverage.web.sources.UploadSource`), never in a cache shared by the process, so
  it is freed when the session closes.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import PurePath

from coverage import french
from coverage._errors import RegistryError, ValidationError
from coverage.data.spreadsheet import MAX_FILE_BYTES
from coverage.data.workbook_scan import Kind, check_workbook, scan_workbook

#: Largest upload accepted, in bytes (also ``server.maxUploadSize`` in .streamlit/config.toml).
UPLOAD_MAX_BYTES = MAX_FILE_BYTES
#: Most structures (data rows, or GeoJSON features) an upload may hold.
UPLOAD_MAX_ROWS = 5_000
#: Uploads processed at once by one server process.
UPLOAD_SLOTS = 2
#: Longest wait in the queue before an upload is refused.
QUEUE_WAIT_S = 60.0

QUEUE_MESSAGE_FR = (
    "D'autres fichiers sont en cours de vérification : le vôtre est en file d'attente "
    "et sera traité dans un instant."
)
BUSY_MESSAGE_FR = (
    "Le serveur vérifie déjà d'autres fichiers et la file d'attente est pleine : "
    "réessayez dans une minute. Le registre en usage n'a pas changé."
)


def count_rows(name: str, data: bytes) -> int:
    """Structures in an upload, counted before parsing.

    CSV: non-blank lines after the header (a quoted field spread over lines counts more:
    an upper bound). GeoJSON: occurrences of ``"Feature"`` (an upper bound too). Workbook:
    rows holding a value in every sheet, header included, as the workbook scan counts them
    (:func:`_workbook_rows`).
    """
    suffix = PurePath(name).suffix.lower()
    if suffix in {".geojson", ".json"}:
        return data.count(b'"Feature"')
    if suffix in WORKBOOK_KINDS:
        return _workbook_rows(data, suffix)
    lines = sum(1 for line in data.splitlines() if line.strip())
    return max(lines - 1, 0)


#: Workbook suffixes and the kind the workbook scan reads them as.
WORKBOOK_KINDS: dict[str, Kind] = {".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods"}


def _workbook_rows(data: bytes, suffix: str) -> int:
    """Rows holding a value in a workbook's sheets (every sheet found through its
    relationships or its ``table:table`` elements, repeats included, any namespace prefix),
    counted by the same streaming scan as the readers'. A damaged file counts 0 (the reader
    refuses it); a workbook over the scan's limits counts more than :data:`UPLOAD_MAX_ROWS`."""
    try:
        scan = scan_workbook(data, "", kind=WORKBOOK_KINDS[suffix])
    except RegistryError:
        return 0
    if scan.problems:
        return max(scan.filled_rows, UPLOAD_MAX_ROWS + 1)
    return scan.filled_rows


def check_upload_budget(name: str, data: bytes) -> None:
    """Refuse an upload that would cost more than the budget, before any parsing.

    A workbook goes through the readers' scan first (:func:`check_workbook`): its rows,
    cells and shared strings, repeats included, within the same limits as the command line's.

    Raises
    ------
    RegistryError
        The file is over :data:`UPLOAD_MAX_BYTES`, is a workbook over the scan's limits (or
        damaged, or declaring XML entities), or holds more than :data:`UPLOAD_MAX_ROWS`
        structures; the message states the limit.
    """
    if len(data) > UPLOAD_MAX_BYTES:
        raise RegistryError(
            name,
            [
                f"fichier trop gros ({french.number(len(data))} octets) ; au plus "
                f"{french.number(UPLOAD_MAX_BYTES)} octets."
            ],
        )
    kind = WORKBOOK_KINDS.get(PurePath(name).suffix.lower())
    if kind is not None:
        rows = check_workbook(data, name, kind=kind).filled_rows
    else:
        rows = count_rows(name, data)
    if rows > UPLOAD_MAX_ROWS:
        raise RegistryError(
            name,
            [
                f"trop de lignes ({french.number(rows)}) ; ce service accepte au plus "
                f"{french.number(UPLOAD_MAX_ROWS)} structures par fichier."
            ],
        )


@functools.cache
def _slots() -> threading.BoundedSemaphore:
    """The process-wide semaphore of upload slots (one per server process; not a Streamlit
    cache, so that the upload workers, which import this module, never import Streamlit)."""
    return threading.BoundedSemaphore(UPLOAD_SLOTS)


@contextlib.contextmanager
def upload_slot(*, on_wait: Callable[[], None], wait_s: float | None = None) -> Iterator[None]:
    """Hold one of the :data:`UPLOAD_SLOTS` slots while the body runs.

    When every slot is taken, ``on_wait()`` is called (the page shows
    :data:`QUEUE_MESSAGE_FR`) and the call waits up to ``wait_s`` seconds (``None``:
    :data:`QUEUE_WAIT_S` as it is at the call).

    Raises
    ------
    ValidationError
        No slot came free in time (:data:`BUSY_MESSAGE_FR`).
    """
    slots = _slots()
    if not slots.acquire(blocking=False):
        on_wait()
        if not slots.acquire(timeout=QUEUE_WAIT_S if wait_s is None else wait_s):
            raise ValidationError(BUSY_MESSAGE_FR)
    try:
        yield
    finally:
        slots.release()

"""Browser and Streamlit-server helpers shared by the browser tests and the benchmarks.

Debian's Chromium driven by Playwright (path, launch arguments, a request filter that aborts
and records whatever a page may not fetch), and ``streamlit run <script>`` headless on a free
loopback port (start, wait for ``/_stcore/health``, stop).

How to import it: ``from _browser import ...``, as for ``_plane``. Under pytest ``tests/`` is
on ``sys.path`` already (and ``tests/test_soak.py``, which loads ``benchmarks/soak.py``, finds
it the same way). A benchmark script, run as ``python benchmarks/<name>.py``, adds ``tests/``
to ``sys.path`` in one line just above that import. Test tooling stays out of the
``coverage`` package.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_MISSING = "Chromium absent (/usr/bin/chromium) : lancez « make browsers »."

# --------------------------------------------------------------------------- browser


def require_chromium() -> None:
    """Skip the calling pytest test or fixture when Chromium or Playwright is absent."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    pytest.importorskip("playwright.sync_api")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium launched through Playwright (a ``Browser``), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def is_file_url(url: str) -> bool:
    """Allow only ``file:`` URLs (a page saved to disk, opened offline)."""
    return url.startswith("file:")


def is_local_to(server_url: str) -> Callable[[str], bool]:
    """Allow the server at ``server_url`` and in-page URLs (``data:``, ``blob:``, ``about:``)."""
    local = urlsplit(server_url).netloc

    def allow(url: str) -> bool:
        return urlsplit(url).netloc == local or url.startswith(("data:", "blob:", "about:"))

    return allow


def block_requests(
    target: Any, allow: Callable[[str], bool], blocked: list[str] | None = None
) -> None:
    """Abort every request of ``target`` (a Playwright page or context) that ``allow`` refuses.

    The URL of each aborted request is appended to ``blocked`` when a list is given.
    """

    def route(r: Any) -> None:
        if allow(r.request.url):
            r.continue_()
        else:
            if blocked is not None:
                blocked.append(r.request.url)
            r.abort()

    target.route("**/*", route)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``PARCOURS_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCOURS_")}
    env.update(extra)
    return env


def start_streamlit(
    script: Path,
    port: int,
    log: IO[bytes],
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> subprocess.Popen:
    """Start ``streamlit run script`` headless on 127.0.0.1:``port``, output to ``log``.

    ``env`` is the server's whole environment (``None``: this process's); ``args`` are more
    ``streamlit run`` options (e.g. ``--server.disconnectedSessionTTL 5``).
    """
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *args,
    ]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=None if env is None else dict(env), stdout=log, stderr=subprocess.STDOUT
    )


def wait_healthy(
    url: str, proc: subprocess.Popen, *, log: Path | None = None, timeout: float = 120
) -> None:
    """Wait until ``url``'s ``/_stcore/health`` answers 200.

    Raises ``RuntimeError`` (with the end of ``log`` when given) if the server exits first or
    does not answer within ``timeout`` seconds.
    """

    def tail() -> str:
        return f":\n{log.read_text(errors='replace')[-3000:]}" if log is not None else "."

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited ({proc.returncode}){tail()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.05)
    raise RuntimeError(f"streamlit not healthy after {timeout} s{tail()}")


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server; kill it if it has not exited within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass(frozen=True)
class Streamlit:
    """A running ``streamlit run`` process and its loopback port."""

    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def streamlit_server(
    script: Path,
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    args: Sequence[str] = (),
) -> Iterator[Streamlit]:
    """Start ``script`` on a free port (more options in ``args``), wait until healthy, stop it
    at the end."""
    port = free_port()
    with log.open("wb") as out:
        proc = start_streamlit(script, port, out, env=env, args=args)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log=log, timeout=timeout)
        yield Streamlit(port, proc)
    finally:
        stop(proc)

"""Vendored web libraries: find the local copies of Leaflet and inline them into HTML.

``make setup`` installs the map libraries from the npm registry, pinned by
``js/package-lock.json``, into :func:`coverage.settings.vendor_dir`. Every HTML map the tool
writes carries these files inline, so it opens with no network at all (only the basemap tiles
then stay blank). Nothing is ever downloaded at run time.

:func:`inline_assets` rewrites a rendered HTML document: each external ``<script src>`` or
``<link rel="stylesheet">`` is either replaced by the inline copy of the library it names,
removed when the caller says the page does not need it, or refused.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from coverage import settings
from coverage._errors import DataSourceError, ValidationError

__all__ = [
    "ASSETS",
    "Asset",
    "asset_path",
    "asset_text",
    "check_installed",
    "external_resources",
    "inline_assets",
]

SETUP_HINT = "Lancez « make setup » (ou « make vendor ») pour les installer."


@dataclass(frozen=True)
class Asset:
    """One file of an npm package, inlined into HTML pages.

    Attributes
    ----------
    name : str
        Short key, e.g. ``"leaflet_js"``.
    kind : {"js", "css"}
        How the file is inlined: in a ``<script>`` or a ``<style>`` element.
    relpath : str
        Path under the vendor folder (``node_modules``), POSIX style.
    file_name : str
        Base name of the file as it appears at the end of a CDN URL ("leaflet.js"); an
        external reference whose URL path ends with it is replaced by this asset.
    """

    name: str
    kind: Literal["js", "css"]
    relpath: str
    file_name: str


#: The libraries the maps use, keyed by name.
ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        Asset("leaflet_js", "js", "leaflet/dist/leaflet.js", "leaflet.js"),
        Asset("leaflet_css", "css", "leaflet/dist/leaflet.css", "leaflet.css"),
    )
}

_IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*(?://[#@]|/\*[#@])\s*sourceMappingURL=.*$", re.MULTILINE)


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else settings.vendor_dir()


def asset_path(name: str, *, folder: str | Path | None = None) -> Path:
    """Path of the local copy of asset ``name``.

    Parameters
    ----------
    name
        A key of :data:`ASSETS`.
    folder
        Vendor folder; defaults to :func:`coverage.settings.vendor_dir`.

    Raises
    ------
    ValidationError
        ``name`` is not a known asset.
    DataSourceError
        The file is not installed.
    """
    try:
        asset = ASSETS[name]
    except KeyError:
        raise ValidationError(
            f"name={name!r} n'est pas une bibliothèque connue ({', '.join(ASSETS)})."
        ) from None
    path = _folder(folder) / asset.relpath
    if not path.is_file():
        raise DataSourceError(
            f"La bibliothèque cartographique {asset.relpath!r} est introuvable dans "
            f"{str(_folder(folder))!r}. {SETUP_HINT}"
        )
    return path


def check_installed(*, folder: str | Path | None = None) -> None:
    """Raise ``DataSourceError`` (in French, naming ``make setup``) if any asset is missing."""
    for name in ASSETS:
        asset_path(name, folder=folder)


@functools.lru_cache(maxsize=16)
def _read_asset(path: Path, kind: str, mtime_ns: int) -> str:
    text = path.read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if kind == "css":
        text = _CSS_URL.sub(lambda m: _inline_css_url(m, path.parent), text)
    return text


def _inline_css_url(match: re.Match[str], base: Path) -> str:
    """Replace ``url(images/x.png)`` by a data URI; fragments (``#default#VML``) stay."""
    ref = match.group(2).strip()
    if ref.startswith(("#", "data:")):
        return match.group(0)
    target = (base / PurePosixPath(ref)).resolve()
    mime = _IMAGE_TYPES.get(target.suffix.lower())
    if mime is None or not target.is_file() or not target.is_relative_to(base.resolve()):
        raise DataSourceError(
            f"La feuille de style {str(base)!r} cite {ref!r}, introuvable localement. {SETUP_HINT}"
        )
    data = base64.b64encode(target.read_bytes()).decode("ascii")
    return f'url("data:{mime};base64,{data}")'


def asset_text(name: str, *, folder: str | Path | None = None) -> str:
    """Content of asset ``name``, ready to inline.

    Source-map comments are removed; in stylesheets, relative ``url(...)`` references
    (Leaflet's control images) become ``data:`` URIs so the page needs no other file.
    """
    path = asset_path(name, folder=folder)
    return _read_asset(path, ASSETS[name].kind, path.stat().st_mtime_ns)


def _inline_element(asset: Asset, text: str) -> str:
    # A literal "</script" or "</style" would end the element early.
    if asset.kind == "js":
        body = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
        return f"<script>/* {asset.relpath} (inline) */\n{body}\n</script>"
    body = re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
    return f"<style>/* {asset.relpath} (inline) */\n{body}\n</style>"


@dataclass(frozen=True)
class _Ref:
    """One external resource tag found in a document."""

    start: int
    end: int
    tag: str
    url: str


class _ResourceFinder(HTMLParser):
    """Collect ``<script src>`` and ``<link rel=stylesheet|preload|modulepreload href>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        raw = self.get_starttag_text() or ""
        if tag == "script" and "src" in values:
            self.found.append((self.getpos(), tag, values["src"], raw))
        elif tag == "link" and values.get("href"):
            rel = set(values.get("rel", "").lower().split())
            if rel & {"stylesheet", "preload", "modulepreload", "import"}:
                self.found.append((self.getpos(), tag, values["href"], raw))

    handle_startendtag = handle_starttag


def _find_resources(html: str) -> list[_Ref]:
    parser = _ResourceFinder()
    parser.feed(html)
    parser.close()
    line_starts = [0]
    for m in re.finditer("\n", html):
        line_starts.append(m.end())
    refs = []
    for (line, col), tag, url, raw in parser.found:
        start = line_starts[line - 1] + col
        end = start + len(raw)
        if tag == "script":
            close = re.compile(r"</script\s*>", re.IGNORECASE).search(html, end)
            if close is None:
                raise ValidationError(f"Élément <script src={url!r}> sans balise de fin.")
            end = close.end()
        refs.append(_Ref(start, end, tag, url))
    return refs


def external_resources(html: str) -> list[str]:
    """URLs of every ``<script src>`` and stylesheet ``<link href>`` left in ``html``."""
    return [r.url for r in _find_resources(html)]


def _asset_for(url: str, wanted_kind: str) -> Asset | None:
    file_name = PurePosixPath(urlsplit(url).path).name
    for asset in ASSETS.values():
        if asset.kind == wanted_kind and asset.file_name == file_name:
            return asset
    return None


def inline_assets(
    html: str,
    *,
    drop: Iterable[str] | Callable[[str], bool] = (),
    folder: str | Path | None = None,
) -> str:
    """Replace external scripts and stylesheets of ``html`` by inline copies.

    Parameters
    ----------
    html
        A complete HTML document.
    drop
        URLs (or a predicate on a URL) of resources the page does not need: their tags are
        removed. Use it only for libraries nothing in the page calls.
    folder
        Vendor folder; defaults to :func:`coverage.settings.vendor_dir`.

    Returns
    -------
    str
        The document, where each library of :data:`ASSETS` appears inline at most once, at the
        place of its first reference.

    Raises
    ------
    DataSourceError
        A needed library is not installed (run ``make setup``).
    ValidationError
        An external resource is neither a known library nor in ``drop``.
    """
    should_drop = drop if callable(drop) else frozenset(drop).__contains__
    pieces: list[str] = []
    pos = 0
    done: set[str] = set()
    unknown: list[str] = []
    for ref in _find_resources(html):
        asset = _asset_for(ref.url, "js" if ref.tag == "script" else "css")
        if asset is not None:
            replacement = (
                ""
                if asset.name in done
                else _inline_element(asset, asset_text(asset.name, folder=folder))
            )
            done.add(asset.name)
        elif should_drop(ref.url):
            replacement = ""
        else:
            unknown.append(ref.url)
            continue
        pieces.append(html[pos : ref.start])
        pieces.append(replacement)
        pos = ref.end
    if unknown:
        raise ValidationError(
            "La page cite des ressources externes qui ne sont pas disponibles hors ligne : "
            + ", ".join(repr(u) for u in unknown)
        )
    pieces.append(html[pos:])
    out = "".join(pieces)
    left = external_resources(out)
    if left:  # pragma: no cover - defensive: inlining must never add a reference
        raise ValidationError(f"Ressources externes restantes : {left!r}")
    return out

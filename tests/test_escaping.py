"""Escaping everywhere: a registry full of payloads goes through every page the tool writes.

The registry below passes validation (payloads in names, addresses, services, notes, e-mail
and links), and a second one bypasses it (``javascript:`` links set on the loaded frame, as a
future code path might). Each output is parsed, never grepped: the page with ``html.parser``,
and every string literal of its scripts (folium's popups, tooltips and controls) decoded and
parsed as HTML too. Checks: no script runs (a payload's marker never appears in script code,
only inside string literals), no element or ``on*`` attribute comes from data, only
``http(s)``/``mailto``/``tel`` links, and the payload is still shown, as text.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import importlib
import importlib.util
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.data.region import Region
from coverage.data.registry import Registry
from coverage.data.registry_files import load_registry
from coverage.data.registry_schema import COLUMNS
from coverage.outputs import finder_text
from coverage.outputs.maps import base as maps
from coverage.patient.finder import Finder
from coverage.travel.catchments import computed_zones

ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r"xss\d+")
#: What a payload that escaped into script code would contain (the markers are often quoted).
CODE_MARK = re.compile(r"\balert\b|xss\d+")

#: Payloads that pass registry validation; each carries a marker ``xssN``.
HOSTILE_ROWS: list[dict[str, str]] = [
    {
        "id": "h1",
        "kind": "tous_publics",
        "insee": "15014",
        "commune_inferred": "oui",
        "name": "<script>alert('xss1')</script>",
        "address": "<img src=x onerror=alert('xss2')>",
        "services": '" onmouseover="alert(\'xss3\')" x="',
        "email": "javascript:alert(xss4)@example.org",
        "website": "https://example.org/?a=1&b=${alert(xss5)}",
        "location_note": "</script><script>alert('xss6')</script>",
    },
    {
        "id": "h2",
        "kind": "tous_publics",
        "insee": "15187",
        "name": "`${alert('xss7')}` {{7*7}} \u2028 </div></article>",
        "address": "javascript:alert('xss8')",
        "phone": "04 71 00 00 00",
    },
    {
        "id": "h3",
        "kind": "aja",
        "insee": "63113",
        "name": "\"><svg onload=alert('xss9')>",
        "services": "<a href=\"javascript:alert('xss10')\">clic</a>",
    },
    {
        "id": "h4",
        "kind": "tous_publics",
        "dep": "15",
        "name": "<iframe src=javascript:alert('xss11')></iframe>",
    },
]

DANGEROUS_TAGS = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "img",
        "svg",
        "math",
        "base",
        "form",
        "input",
        "button",
        "textarea",
        "link",
        "meta",
        "style",
        "audio",
        "video",
        "source",
    }
)
URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "data"})
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def write_registry(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        full = {"source": f"https://example.org/source/{r['id']}", **r}
        writer.writerow([full.get(c, "") for c in COLUMNS])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_registry(tmp_path_factory.mktemp("hostile") / "structures.csv", HOSTILE_ROWS)


@pytest.fixture(scope="module")
def hostile(region: Region, hostile_path: Path) -> Registry:
    return load_registry(hostile_path, region=region)


@pytest.fixture(scope="module")
def bypassed(hostile: Registry) -> Registry:
    """The hostile registry with unsafe links set after validation."""
    s = hostile.structures.copy()
    s["website"] = "javascript:alert('xss12')"
    s["email"] = "mailto:x@example.org?body=<script>alert('xss13')</script>"
    s["phone"] = "javascript:alert('xss14')"
    return dataclasses.replace(hostile, structures=s)


def _finder(region: Region, registry: Registry) -> Finder:
    return Finder(region, registry, computed_zones(region=region, registry=registry))


# --------------------------------------------------------------------------- the checker


class _Page(HTMLParser):
    """Elements, attributes, text and script bodies of an HTML document or fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def js_literals(code: str) -> tuple[list[str], str]:
    """The string literals of JavaScript ``code`` (raw, quotes included) and the code without
    them or its comments. Enough for folium's generated scripts, which have no regex literal."""
    literals: list[str] = []
    rest: list[str] = []
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in "\"'`":
            j = i + 1
            while j < n and code[j] != c:
                j += 2 if code[j] == "\\" else 1
            literals.append(code[i : j + 1])
            rest.append('""')
            i = j + 1
        elif code.startswith("//", i):
            i = code.find("\n", i) if "\n" in code[i:] else n
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            rest.append(c)
            i += 1
    return literals, "".join(rest)


def decode_literal(raw: str) -> str:
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    return raw[1:-1]


def _link_ok(value: str | None) -> bool:
    v = (value or "").strip().lower()
    return v.startswith(SAFE_SCHEMES) or v.startswith("#")


def check_fragment(html: str, *, where: str) -> _Page:
    """HTML built from data: no dangerous element, no on* attribute, safe links only."""
    page = parse(html)
    for tag, attrs in page.tags:
        assert tag not in DANGEROUS_TAGS, f"{where}: <{tag}> in {html[:200]!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"{where}: attribute {name!r} in {html[:200]!r}"
            assert not MARK.search(name), f"{where}: attribute name {name!r}"
            if name in URL_ATTRS:
                assert _link_ok(value), f"{where}: unsafe link {value!r}"
            if name == "style":
                assert "expression(" not in (value or "") and "url(" not in (value or "")
    return page


def check_page(html: str, *, where: str) -> list[str]:
    """A whole page: checks it and every HTML string in its scripts; returns all data text."""
    page = parse(html)
    shown = list(page.text)
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.startswith("on"), f"{where}: <{tag} {name}=...>"
            assert not MARK.search(name), f"{where}: attribute name {name!r}"
            if name in URL_ATTRS and tag != "script":
                assert _link_ok(value) or (value or "").startswith("data:image/"), (
                    f"{where}: <{tag} {name}={value!r}>"
                )
    for code in page.scripts:
        if "Leaflet" in code[:400] and "@preserve" in code[:400]:
            continue  # the vendored library, inlined verbatim
        literals, bare = js_literals(code)
        hit = CODE_MARK.search(bare)
        assert hit is None, f"{where}: a payload is script code: {bare[hit.start() - 80 :][:160]!r}"
        for raw in literals:
            text = decode_literal(raw)
            if "<" in text:
                shown.extend(check_fragment(text, where=f"{where} (script string)").text)
            else:
                shown.append(text)
    return shown


def assert_shown(shown: list[str], *payloads: str) -> None:
    """Each payload is displayed literally (escaped, not dropped)."""
    joined = "\n".join(shown)
    for p in payloads:
        assert p in joined, f"not shown as text: {p!r}"


def test_the_checker_catches_what_it_must() -> None:
    with pytest.raises(AssertionError, match="<img>"):
        check_fragment("<b>x</b><img src=x onerror=alert('xss1')>", where="t")
    with pytest.raises(AssertionError, match="onmouseover"):
        check_fragment('<a title="" onmouseover="alert(1)">x</a>', where="t")
    with pytest.raises(AssertionError, match="unsafe link"):
        check_fragment('<a href=" JavaScript:alert(1)">x</a>', where="t")
    with pytest.raises(AssertionError, match="script code"):
        check_page('<script>var a = "ok"; alert("xss1");</script>', where="t")
    with pytest.raises(AssertionError, match="script code"):
        check_page('<script>var a = "</script><script>f(xss1)</script>', where="t")
    with pytest.raises(AssertionError, match="<img>"):
        check_page('<script>m.bindPopup("\\u003cimg src=x onerror=f()\\u003e")</script>', where="t")
    shown = check_page(
        '<p>&lt;script&gt;</p><script>x.bindTooltip("a \\u003cb\\u003e")</script>', where="t"
    )
    assert_shown(shown, "<script>", "a ")


# --------------------------------------------------------------------------- outputs


def test_the_hostile_registry_is_accepted_as_it_is(hostile: Registry) -> None:
    s = hostile.structures.set_index("id")
    for r in HOSTILE_ROWS:
        assert s.loc[r["id"], "name"] == r["name"]
    assert hostile.counts()["located"] == 3


def test_finder_map(region: Region, hostile: Registry) -> None:
    from coverage.outputs.maps.finder import finder_map

    finder = _finder(region, hostile)
    result = finder.find(finder.lookup("Aurillac").place, age=19, k=3)
    assert set(result.structures["id"]) == {"h1", "h2"} and result.aja is not None
    shown = check_page(maps.to_html(finder_map(result, finder)), where="finder_map")
    assert_shown(
        shown,
        *(HOSTILE_ROWS[0][f] for f in ("name", "address", "services")),
        HOSTILE_ROWS[1]["name"].replace("\u2028", "").split(" ")[0],
        HOSTILE_ROWS[2]["name"],
        HOSTILE_ROWS[0]["email"],
    )


def test_finder_map_with_unsafe_links_set_after_validation(
    region: Region, bypassed: Registry
) -> None:
    from coverage.outputs.maps.finder import finder_map

    finder = _finder(region, bypassed)
    result = finder.find(finder.lookup("Saint-Flour").place, age=19, k=3)
    html = maps.to_html(finder_map(result, finder))
    shown = check_page(html, where="finder_map (bypassed)")
    assert_shown(shown, "javascript:alert('xss12')")  # shown as text, never a link


def test_finder_text_and_json_keep_payloads_as_data(region: Region, hostile: Registry) -> None:
    finder = _finder(region, hostile)
    result = finder.find(finder.lookup("Aurillac").place, k=3)
    text = finder_text.finder_text(result)
    assert HOSTILE_ROWS[0]["name"] in text  # plain text for a terminal: nothing to escape
    doc = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert {s["name"] for s in doc["structures"]} == {
        HOSTILE_ROWS[0]["name"],
        HOSTILE_ROWS[1]["name"],
    }


@pytest.fixture(scope="module")
def analysis(region: Region, hostile_path: Path):
    importlib.import_module("coverage.analysis.analyse")
    from coverage.analysis.access_build import load_access
    from coverage.analysis.analyse import analyse
    from coverage.analysis.inputs import SitingRequest

    access, region2, registry = load_access(region="84", registry_path=hostile_path)
    return (
        analyse(access, region=region2, registry=registry, siting=SitingRequest(1)),
        access,
        region2,
    )


def test_coverage_report(analysis) -> None:
    report = importlib.import_module("coverage.outputs.report")
    a = analysis[0]
    html = report.render_report(a)
    page = parse(html)
    assert not page.scripts  # the report runs no script at all
    assert not [t for t, _ in page.tags if t in {"iframe", "object", "embed", "img", "base"}]
    metas = [dict(attrs) for t, attrs in page.tags if t == "meta"]
    csp = [m.get("content", "") for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    shown = check_page(html, where="report")
    # The report names the unlocated structures and each gap commune's nearest structure.
    assert_shown(shown, HOSTILE_ROWS[3]["name"], a.gaps.iloc[0]["nearest_name"])


def test_coverage_map(analysis) -> None:
    """The planners' map, with a what-if layer and links made unsafe after validation."""
    cmap = importlib.import_module("coverage.outputs.maps.coverage")
    scenario = importlib.import_module("coverage.analysis.scenario")
    a, access, region = analysis
    result = scenario.WhatIf(access, region).run(
        scenario.Scenario(add=("Murat (15)",), move=(("h2", "Aurillac"),))
    )
    s = a.structures.copy()
    s["website"] = "javascript:alert('xss15')"
    bypassed = dataclasses.replace(a, structures=s)
    html = maps.to_html(cmap.coverage_map(bypassed, region, scenario=result))
    shown = check_page(html, where="coverage_map")
    assert_shown(
        shown, HOSTILE_ROWS[0]["name"], HOSTILE_ROWS[2]["name"], "javascript:alert('xss15')"
    )


def test_prescription_sheet(hostile: Registry, bypassed: Registry) -> None:
    prescription = importlib.import_module("coverage.outputs.prescription")
    from coverage.patient import forfait

    plan = forfait.check_plan(["apa", "psychologique"], 2)
    for reg in (hostile, bypassed):
        row = reg.structures.set_index("id").loc["h1"].to_dict()
        html = prescription.prescription_html(plan, row)
        assert_shown(check_page(html, where="prescription"), HOSTILE_ROWS[0]["name"])


#: Jinja2 syntax: branca re-parses each rendered map script as a template, so these would run
#: on the server (the second one reaches ``os``) unless the braces are escaped.
TEMPLATE_ROWS: list[dict[str, str]] = [
    {"id": "t1", "kind": "tous_publics", "insee": "15014", "name": "{{7*7}} {{ 7 * 6 }}"},
    {
        "id": "t2",
        "kind": "tous_publics",
        "insee": "15187",
        "name": "{{ cycler.__init__.__globals__.os.getpid() }}",
    },
    {
        "id": "t3",
        "kind": "aja",
        "insee": "63113",
        "name": "{% for i in range(3) %}x{% endfor %}",
        "services": "{# unclosed comment",
    },
]


def test_template_syntax_in_data_is_never_evaluated(region: Region, tmp_path: Path) -> None:
    from coverage.outputs.maps.finder import finder_map

    registry = load_registry(write_registry(tmp_path / "t.csv", TEMPLATE_ROWS), region=region)
    finder = _finder(region, registry)
    result = finder.find(finder.lookup("Aurillac").place, age=19, k=3)
    shown = check_page(maps.to_html(finder_map(result, finder)), where="finder_map (jinja)")
    assert_shown(shown, *(r["name"] for r in TEMPLATE_ROWS), TEMPLATE_ROWS[2]["services"])
    if importlib.util.find_spec("coverage.outputs.maps.coverage") is None:
        return
    from coverage.analysis.access_build import load_access
    from coverage.analysis.analyse import analyse
    from coverage.outputs.maps.coverage import coverage_map

    access, region2, reg2 = load_access(region="84", registry_path=tmp_path / "t.csv")
    a = analyse(access, region=region2, registry=reg2)
    shown = check_page(maps.to_html(coverage_map(a, region2)), where="coverage_map (jinja)")
    assert_shown(shown, *(r["name"] for r in TEMPLATE_ROWS))


# --------------------------------------------------------------------------- Streamlit page


def test_streamlit_html_helpers(region: Region, hostile: Registry, bypassed: Registry) -> None:
    cards = importlib.import_module("coverage.web.cards")
    markup = importlib.import_module("coverage.web.markup")
    for reg in (hostile, bypassed):
        finder = _finder(region, reg)
        result = finder.find(finder.lookup("Aurillac").place, age=19, k=3)
        rows = [*result.structures.to_dict("records"), result.aja.device]
        for i, row in enumerate(rows):
            html = cards.structure_card_html(row, model_label=result.model_label, rank=i + 1)
            assert_shown(check_fragment(html, where="card").text, row["name"])
        check_fragment(markup.sources_html(reg.structures), where="sources")
        items = [r["name"] for r in HOSTILE_ROWS]
        assert_shown(check_fragment(markup.list_html(items), where="list").text, *items)


def test_streamlit_markdown_escape() -> None:
    markup = importlib.import_module("coverage.web.markup")
    for r in HOSTILE_ROWS:
        escaped = markup.md_escape(r["name"])
        # Every Markdown/HTML-active character is backslash-escaped.
        assert not re.search(r"(?<!\\)[<>\[\]()`$*_]", escaped), escaped


def _page_sources() -> list[Path]:
    """The page's code: ``app.py`` and every module of ``coverage.web``."""
    app = ROOT / "app.py"
    return [*([app] if app.is_file() else []), *sorted((ROOT / "coverage" / "web").rglob("*.py"))]


def test_the_app_never_renders_unescaped_html_through_markdown() -> None:
    sources = _page_sources()
    assert sources
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, (
                    f"{path.name}:{node.value.lineno}: unsafe_allow_html=True renders data as HTML"
                )


def test_the_app_page_with_a_hostile_registry(
    hostile_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (ROOT / "app.py").is_file():
        pytest.skip("app.py has not landed yet")
    from streamlit.testing.v1 import AppTest

    from coverage import settings as cfg

    monkeypatch.setenv(cfg.REGISTRY_ENV, str(hostile_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["q"] = "Aurillac"
    at.query_params["jeune"] = "1"
    at.run()
    assert not at.exception
    bodies = [h.proto.body for h in at.get("html")]
    assert bodies
    shown: list[str] = []
    for body in bodies:
        shown += check_fragment(
            body.replace("<style>", "").split("</style>")[-1], where="st.html"
        ).text
    assert_shown(shown, HOSTILE_ROWS[0]["name"], HOSTILE_ROWS[0]["address"])
    for el in [*at.markdown, *at.caption, *at.warning, *at.info, *at.error]:
        for m in MARK.finditer(el.value):
            window = el.value[max(0, m.start() - 30) : m.end() + 30]
            assert not re.search(r"(?<!\\)[<>\[\]()`]", window), window


# --------------------------------------------------------------------------- exports

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(cells=st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_csv_cells_can_never_start_a_formula(cells: list[str]) -> None:
    exports = importlib.import_module("coverage.outputs.exports")
    frame = pd.DataFrame({f"c{i}": [c] for i, c in enumerate(cells)})
    data = exports.to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 2
    for written, original in zip(rows[1], cells, strict=True):
        plain_number = re.fullmatch(r"-?\d+(,\d+)?", written)
        assert not written.startswith(DANGEROUS_START) or plain_number, written
        # Nothing else changed: the leading quote, when added, is the only difference.
        assert written in (original, "'" + original)


def test_csv_export_of_a_hostile_analysis(analysis, tmp_path: Path) -> None:
    exports = importlib.import_module("coverage.outputs.exports")
    a = analysis[0]
    s = a.communes.copy()
    s["nearest_name"] = s["nearest_name"].where(s.index % 2 == 0, '=HYPERLINK("http://x")')
    s["epci_name"] = "@SUM(A1)+cmd|' /C calc'!A0"
    path = exports.write_csv(dataclasses.replace(a, communes=s), tmp_path / "communes.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert len(rows) == len(s) + 1
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS_START) or re.fullmatch(r"-?\d+(,\d+)?", cell)


def test_download_names_are_fixed() -> None:
    config = importlib.import_module("coverage.web.config")
    prescription = importlib.import_module("coverage.outputs.prescription")
    exports = importlib.import_module("coverage.outputs.exports")
    names = [
        *config.DOWNLOAD_NAMES.values(),
        prescription.FILE_NAME,
        *exports.EXPORT_NAMES.values(),
    ]
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*\.(html|csv|gpkg)", name), name
    seen = sum(_fixed_download_names(path) for path in _page_sources())
    assert seen


def _fixed_download_names(path: Path) -> int:
    """Check every ``download_button`` of ``path`` takes a fixed name; return how many."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    fixed = {"prescription.FILE_NAME", "DOWNLOAD_NAMES", "config.DOWNLOAD_NAMES"}
    aliases = {  # local names bound to a fixed mapping: ``names = DOWNLOAD_NAMES``
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and ast.unparse(n.value) in fixed
    }
    seen = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("download_button"):
            seen += 1
            arg = next((k.value for k in node.keywords if k.arg == "file_name"), None)
            assert arg is not None, f"{path.name}:{node.lineno}: download without a file_name"
            text = ast.unparse(arg)
            ok = (
                (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
                or text in fixed
                or (
                    isinstance(arg, ast.Subscript)
                    and ast.unparse(arg.value) in fixed | aliases
                    and isinstance(arg.slice, ast.Constant)
                )
            )
            assert ok, f"{path.name}:{node.lineno}: file_name={text} is not a fixed name"
    return seen

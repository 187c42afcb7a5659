"""Escaping helpers: hostile text stays text, only safe links become links."""

from __future__ import annotations

import html as std_html
import math

import pytest
from _html_parse import parse
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import ArgumentError
from coverage.outputs.html import (
    NNBSP,
    contact_html,
    email_link,
    esc,
    format_number,
    phone_link,
    safe_url,
    tel_url,
    web_link,
)

HOSTILE = [
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    "<img src=x onerror=alert(1)>",
    "`${alert(1)}`",
    "\\`; alert(1); //",
    "</div><svg onload=alert(1)>",
    "&lt;script&gt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_esc_creates_no_element_or_attribute(text):
    doc = parse(f'<p title="{esc(text)}">{esc(text)}</p>')
    assert doc.tags == [("p", {"title": text})]
    assert "".join(doc.text) == text


@given(st.text())
def test_esc_round_trips_any_text_and_leaves_no_special_character(text):
    out = esc(text)
    assert std_html.unescape(out) == text
    assert not set(out) & set("<>\"'`$\\")


def test_esc_of_missing_values_is_empty():
    assert esc(None) == ""
    assert esc(math.nan) == ""
    assert esc(0) == "0"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.chu-clermontferrand.fr",
        "https://example.fr/a?b=1&c=2#d",
        "HTTPS://EXAMPLE.FR",
        "mailto:contact@example.fr",
        "tel:+33473750000",
    ],
)
def test_safe_url_accepts_web_mail_and_phone_links(url):
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.fr",
        "//evil.example/x",
        "/relative/path",
        "www.example.fr",
        "https://",
        "http:/example.fr",
        "https://exa mple.fr",
        "mailto:",
        "tel:",
        "",
        None,
        math.nan,
        42,
    ],
)
def test_safe_url_refuses_everything_else(url):
    assert safe_url(url) is None


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("04 73 75 00 00", "tel:+33473750000"),
        ("04.73.75.00.00", "tel:+33473750000"),
        ("+33 (0)4 73 75 00 00", "tel:+33473750000"),
        ("+33 4 73 75 00 00", "tel:+33473750000"),
        ("15", "tel:15"),
        ("voir le site", None),
        ("04 73 75 00 00 ou 04 73 75 00 01", None),
        ("javascript:alert(1)", None),
        (None, None),
    ],
)
def test_tel_url(phone, expected):
    assert tel_url(phone) == expected


def test_phone_link_is_a_tap_to_call_link_with_escaped_text():
    doc = parse(phone_link("04 73 75 00 00"))
    assert doc.tags == [("a", {"href": "tel:+33473750000"})]
    assert "".join(doc.text) == "04 73 75 00 00"
    hostile = "<b>04</b> ou appeler"
    doc = parse(phone_link(hostile))
    assert doc.tags == []
    assert "".join(doc.text) == hostile


def test_email_link():
    doc = parse(email_link("mailto:accueil@ligue-cancer.net"))
    assert doc.tags == [("a", {"href": "mailto:accueil@ligue-cancer.net"})]
    doc = parse(email_link('x@y.fr" onclick="alert(1)'))
    assert doc.tags == []
    assert email_link(None) == ""


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "vbscript:x", '"><script>alert(1)</script>']
)
def test_web_link_never_links_a_hostile_url(url):
    doc = parse(web_link(url))
    assert doc.tags == []
    assert "".join(doc.text) == url


def test_web_link_opens_safe_sites_in_a_new_tab_and_takes_bare_hosts_as_https():
    doc = parse(web_link("www.ch-aurillac.fr/soins", text="Site <officiel>"))
    assert doc.tags == [
        (
            "a",
            {
                "href": "https://www.ch-aurillac.fr/soins",
                "target": "_blank",
                "rel": "noopener noreferrer",
            },
        )
    ]
    assert "".join(doc.text) == "Site <officiel>"
    # mailto:/tel: are safe URLs but not websites: shown as text.
    assert parse(web_link("mailto:a@b.fr")).tags == []


def test_contact_html_has_french_labels_and_only_safe_links():
    out = contact_html(
        address="1 rue <b>Montlosier</b>",
        phone="04 73 75 00 00",
        email="a@b.fr",
        website="javascript:alert(1)",
    )
    doc = parse(out)
    assert [t for t, _ in doc.tags] == ["br", "a", "br", "a", "br"]
    assert [a["href"] for t, a in doc.tags if t == "a"] == ["tel:+33473750000", "mailto:a@b.fr"]
    text = "".join(doc.text)
    assert "1 rue <b>Montlosier</b>" in text
    assert "Tél. : 04 73 75 00 00" in text
    assert "Site : javascript:alert(1)" in text
    assert contact_html(address=math.nan, phone="", email=None) == ""


def test_format_number_is_french():
    assert format_number(12345.678, decimals=1) == f"12{NNBSP}345,7"
    assert format_number(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert format_number(-3) == "−3"
    assert format_number(None) == "–"
    with pytest.raises(ArgumentError, match="decimals"):
        format_number(1, decimals=-1)


def test_dates_are_written_the_french_way():
    import datetime as dt

    from coverage import french

    assert french.date(dt.date(2026, 12, 1)) == "1er décembre 2026"
    assert french.date(dt.date(2024, 3, 15)) == "15 mars 2024"
    assert french.plural(1, "structure") == "1 structure"
    assert french.plural(0, "structure") == "0 structure"
    assert french.plural(3, "structure") == "3 structures"
    assert (
        french.de("Le Puy-en-Velay") == "du Puy-en-Velay" and french.de("Aurillac") == "d'Aurillac"
    )

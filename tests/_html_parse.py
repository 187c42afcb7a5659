"""HTML parsing for the tests: every start tag with its attributes, and the text.

Imported as ``from _html_parse import Tags, parse`` (pytest puts ``tests/`` on ``sys.path``,
as for ``_plane``).
"""

from __future__ import annotations

from html.parser import HTMLParser


class Tags(HTMLParser):
    """Record every start tag (self-closing ones too) with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    """The tags and text of ``html`` (a page or a fragment), parsed to the end."""
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser

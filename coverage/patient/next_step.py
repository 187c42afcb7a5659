"""The patient's next step: who to ask and which public page lists the labelled structures.

Every answer ends with something to act on, taken from public sources only: the doctor who
prescribes the pathway, and the page of the Agence régionale de santé (ARS)
Auvergne-Rhône-Alpes that announces the labelled structures, the source of the embedded
registry (``data/structures.csv``). A place outside the region gets the same, plus the
region it lies in. Facts only: the wording is ``coverage.outputs.finder_text``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: The ARS Auvergne-Rhône-Alpes page on the pathway and its labelled structures: the source
#: the embedded registry cites for its AJA devices (``data/structures.csv``, column source).
ARS_PAGE_URL = (
    "https://www.auvergne-rhone-alpes.ars.sante.fr/parcours-de-soins-globaux-apres-cancer"
    "?parent=14617"
)
ARS_PAGE_TITLE = "Parcours de soins globaux après cancer"
ARS_PUBLISHER = "Agence régionale de santé Auvergne-Rhône-Alpes"
_ARS_HOST = "www.auvergne-rhone-alpes.ars.sante.fr"


@dataclass(frozen=True)
class NextStep:
    """What the patient can do now, as facts.

    ``ask_doctor`` is always true (the pathway is prescribed by the oncologist, GP or
    paediatrician); ``page_url`` is a public page listing the labelled structures;
    ``outside_region`` says the place is not in Auvergne-Rhône-Alpes, with its
    ``region_name`` and ``dep_name`` when known.
    """

    page_url: str
    page_title: str
    page_publisher: str
    ask_doctor: bool = True
    outside_region: bool = False
    region_name: str = ""
    dep_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ask_doctor": self.ask_doctor,
            "page": {
                "url": self.page_url,
                "title": self.page_title,
                "publisher": self.page_publisher,
            },
            "outside_region": self.outside_region,
            "region_name": self.region_name or None,
            "dep_name": self.dep_name or None,
        }


def ars_page(sources: Iterable[object] = ()) -> str:
    """The registry's own ARS page when one of its ``sources`` is on the ARS site, else the
    embedded registry's (``ARS_PAGE_URL``)."""
    for src in sources:
        text = str(src).strip()
        parts = urlsplit(text)
        if parts.scheme == "https" and parts.hostname == _ARS_HOST:
            return text
    return ARS_PAGE_URL


def next_step(
    *,
    sources: Iterable[object] = (),
    outside_region: bool = False,
    region_name: str = "",
    dep_name: str = "",
) -> NextStep:
    """The next step for a patient (see ``NextStep``)."""
    return NextStep(
        page_url=ars_page(sources),
        page_title=ARS_PAGE_TITLE,
        page_publisher=ARS_PUBLISHER,
        outside_region=outside_region,
        region_name=region_name,
        dep_name=dep_name,
    )

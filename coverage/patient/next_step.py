"""The patient's next step: who to ask and which public page lists the labelled structures.

Every answer ends with something to act on, taken from public sources only: the doctor who
prescribes the pathway, and the page of the Agence régionale de santé (ARS)
Auvergne-Rhône-Alpes that announces the labelled structures, the source of the embedded
registry (``data/structures.csv``). For another region, the page is the registry's own public
source when it has one (``data/regions/<code>/structures.csv``), else none is invented: the
patient is told that the region's ARS publishes the list. A place outside the region gets the
same, plus the region it lies in and that region's code, so that the front ends can offer its
answer. Facts only: the wording is ``coverage.outputs.finder_text``'s.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from coverage.data.registry import embedded_registries
from coverage.geography import region_spec
from coverage.settings import DEFAULT_REGION

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
    #: The region the tool serves (its name) and, for a place outside it, the INSEE code of
    #: the place's region: the answer the front ends offer.
    served_region: str = "Auvergne-Rhône-Alpes"
    region_code: str = ""
    #: Structures this tool's embedded registry knows in the place's region (0: none).
    offer_structures: int = 0

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
            "region_code": self.region_code or None,
            "dep_name": self.dep_name or None,
            "served_region": self.served_region,
            "offer_structures": self.offer_structures,
        }


def ars_page(sources: Iterable[object] = (), *, served: str = DEFAULT_REGION) -> str:
    """The registry's own ARS page when one of its ``sources`` is on the ARS site, else the
    embedded registry's (``ARS_PAGE_URL``); for another region, the registry's first public
    source (https), else "" (no page is known)."""
    listed = [str(src).strip() for src in sources]
    for text in listed:
        parts = urlsplit(text)
        if parts.scheme == "https" and parts.hostname == _ARS_HOST:
            return text
    if served == DEFAULT_REGION:
        return ARS_PAGE_URL
    return next((t for t in listed if urlsplit(t).scheme == "https"), "")


def next_step(
    *,
    sources: Iterable[object] = (),
    outside_region: bool = False,
    region_name: str = "",
    dep_name: str = "",
    served: str,
    region_code: str = "",
) -> NextStep:
    """The next step for a patient (see ``NextStep``); ``served`` is the INSEE code of the
    region the tool serves (required)."""
    spec = region_spec(served)
    url = ars_page(sources, served=spec.code)
    ours = spec.code == DEFAULT_REGION
    return NextStep(
        page_url=url,
        page_title=ARS_PAGE_TITLE if ours else ("Source publique de la liste" if url else ""),
        page_publisher=ARS_PUBLISHER if ours else f"Agence régionale de santé ({spec.name})",
        outside_region=outside_region,
        region_name=region_name,
        dep_name=dep_name,
        served_region=spec.name,
        region_code=region_code,
        offer_structures=_embedded_count(region_code) if region_code != spec.code else 0,
    )


def _embedded_count(code: str) -> int:
    """Rows of the embedded registry of region ``code`` (0 when it has none)."""
    path = embedded_registries().get(code) if code else None
    if path is None:
        return 0
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))

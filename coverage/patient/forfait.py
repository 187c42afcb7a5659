"""The "parcours de soins global après cancer" forfait: what it covers and plan checks.

Facts (ARS Auvergne-Rhône-Alpes, https://www.auvergne-rhone-alpes.ars.sante.fr/parcours-de-
soins-globaux-apres-cancer?parent=14617, and the national decree on the forfait): after active
treatment, the oncologist, GP or paediatrician may prescribe, within 12 months of the end of
treatment, a bilan of adapted physical activity (APA) and dietetic and/or psychological bilans,
with follow-up consultations, free to the patient, within a yearly forfait of 180 EUR: a
one-hour bilan is paid 45 EUR, a half-hour follow-up consultation 22.50 EUR, at most six
consultations. The pathway runs over the 12 months after the first bilan. APA sessions
themselves are not covered by the forfait.

This module holds the facts (amounts, limits, the bilans) and the plan check; the sentences
patients read are ``coverage.outputs.finder_text`` (``forfait_lines``, ``plan_summary``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coverage import french
from coverage._errors import ValidationError

BILAN_EUR = 45.0
CONSULTATION_EUR = 22.5
ANNUAL_CAP_EUR = 180.0
MAX_CONSULTATIONS = 6
PRESCRIPTION_WINDOW_MONTHS = 12
PATHWAY_MONTHS = 12

#: Bilans a prescriber may choose, with their French labels.
BILANS: dict[str, str] = {
    "apa": "bilan fonctionnel et motivationnel d'activité physique adaptée (APA)",
    "dietetique": "bilan diététique",
    "psychologique": "bilan psychologique",
}


@dataclass(frozen=True)
class PlanCheck:
    """A prescribed combination checked against the forfait."""

    bilans: tuple[str, ...]
    consultations: int
    total_eur: float
    ok: bool
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "bilans": list(self.bilans),
            "consultations": self.consultations,
            "total_eur": self.total_eur,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def check_plan(bilans: Sequence[str], consultations: int) -> PlanCheck:
    """Check a combination of bilans and follow-up consultations against the forfait.

    Parameters
    ----------
    bilans
        Keys of ``BILANS``, each at most once.
    consultations
        Number of half-hour dietetic or psychological follow-up consultations.
    """
    if isinstance(bilans, str):
        raise ValidationError(f"`bilans` must be a sequence of keys of {list(BILANS)!r}.")
    unknown = [b for b in bilans if b not in BILANS]
    if unknown:
        raise ValidationError(f"`bilans` must be keys of {list(BILANS)!r}; got {unknown!r}.")
    if isinstance(consultations, bool) or not isinstance(consultations, int):
        raise ValidationError(f"`consultations` must be an integer; got {consultations!r}.")
    problems: list[str] = []
    chosen = tuple(dict.fromkeys(bilans))
    if len(chosen) != len(bilans):
        problems.append("Chaque bilan ne peut être prescrit qu'une fois.")
    if not chosen:
        problems.append("Au moins un bilan est nécessaire.")
    if consultations < 0:
        problems.append("Le nombre de consultations ne peut pas être négatif.")
    if consultations > MAX_CONSULTATIONS:
        problems.append(
            f"Au plus {MAX_CONSULTATIONS} consultations de suivi sont prises en charge."
        )
    total = BILAN_EUR * len(bilans) + CONSULTATION_EUR * max(consultations, 0)
    if total > ANNUAL_CAP_EUR:
        problems.append(
            f"Le total ({french.eur(total)}) dépasse le forfait annuel de "
            f"{french.eur(ANNUAL_CAP_EUR)}."
        )
    return PlanCheck(chosen, consultations, total, not problems, tuple(problems))


def max_consultations(n_bilans: int) -> int:
    """Most follow-up consultations that fit the forfait after ``n_bilans`` bilans."""
    if not 0 <= n_bilans <= len(BILANS):
        raise ValidationError(f"`n_bilans` must be between 0 and {len(BILANS)}; got {n_bilans!r}.")
    left = ANNUAL_CAP_EUR - BILAN_EUR * n_bilans
    return int(min(MAX_CONSULTATIONS, left // CONSULTATION_EUR))

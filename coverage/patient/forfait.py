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
``summary_fr``, ``PlanCheck.summary_fr`` and ``format_eur`` remain for the callers that have
not switched yet (the page, the prescription sheet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

    def summary_fr(self) -> str:
        """Deprecated: ``coverage.outputs.finder_text.plan_summary``."""
        what = f"{len(self.bilans)} bilan(s) + {self.consultations} consultation(s)"
        cost = f"{format_eur(self.total_eur)} sur {format_eur(ANNUAL_CAP_EUR)}"
        if self.ok:
            return f"{what} = {cost} : dans le forfait, sans frais pour le patient."
        return f"{what} = {cost} : hors forfait. " + " ".join(self.problems)


def format_eur(amount: float) -> str:
    """Deprecated: ``coverage.outputs.french.eur``."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


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
            f"Le total ({format_eur(total)}) dépasse le forfait annuel de "
            f"{format_eur(ANNUAL_CAP_EUR)}."
        )
    return PlanCheck(chosen, consultations, total, not problems, tuple(problems))


def max_consultations(n_bilans: int) -> int:
    """Most follow-up consultations that fit the forfait after ``n_bilans`` bilans."""
    if not 0 <= n_bilans <= len(BILANS):
        raise ValidationError(f"`n_bilans` must be between 0 and {len(BILANS)}; got {n_bilans!r}.")
    left = ANNUAL_CAP_EUR - BILAN_EUR * n_bilans
    return int(min(MAX_CONSULTATIONS, left // CONSULTATION_EUR))


def summary_fr() -> list[str]:
    """Deprecated: ``coverage.outputs.finder_text.forfait_lines``."""
    return [
        "Le parcours de soins global après cancer est sans frais pour vous : la structure est "
        f"payée par un forfait de {format_eur(ANNUAL_CAP_EUR)} par an.",
        f"Il comprend un bilan d'activité physique adaptée (APA) et un bilan diététique et/ou "
        f"psychologique (1 heure, {format_eur(BILAN_EUR)} chacun), puis jusqu'à "
        f"{MAX_CONSULTATIONS} consultations de suivi diététique ou psychologique (30 minutes, "
        f"{format_eur(CONSULTATION_EUR)} chacune), dans la limite du forfait : par exemple "
        "1 bilan + 6 consultations, 2 bilans + 4 consultations ou 3 bilans + 2 consultations.",
        "Il est prescrit par votre cancérologue, votre médecin traitant ou votre pédiatre, dans "
        f"les {PRESCRIPTION_WINDOW_MONTHS} mois qui suivent la fin des traitements actifs ; il se "
        f"déroule sur les {PATHWAY_MONTHS} mois qui suivent le premier bilan.",
        "Les séances d'activité physique adaptée elles-mêmes ne sont pas comprises dans le "
        "forfait.",
    ]

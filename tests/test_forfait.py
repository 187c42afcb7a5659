"""The forfait: 45 EUR a bilan, 22.50 EUR a consultation, at most six, 180 EUR a year."""

from __future__ import annotations

import pytest

from coverage import french
from coverage._errors import ValidationError
from coverage.outputs.finder_text import forfait_lines, plan_summary
from coverage.patient.forfait import check_plan, max_consultations


@pytest.mark.parametrize(
    ("bilans", "consultations"),
    [
        (["apa"], 6),
        (["apa", "dietetique"], 4),
        (["apa", "dietetique", "psychologique"], 2),
        (["psychologique"], 0),
    ],
)
def test_combinations_within_the_forfait(bilans: list[str], consultations: int) -> None:
    plan = check_plan(bilans, consultations)
    assert plan.ok and plan.total_eur <= 180
    assert plan.total_eur == 45 * len(bilans) + 22.5 * consultations


@pytest.mark.parametrize(
    ("bilans", "consultations", "problem"),
    [
        (["apa", "dietetique", "psychologique"], 3, "dépasse le forfait annuel de 180,00 €"),
        (["apa"], 7, "Au plus 6 consultations"),
        ([], 2, "Au moins un bilan"),
        (["apa", "apa"], 0, "qu'une fois"),
    ],
)
def test_combinations_outside_the_forfait(
    bilans: list[str], consultations: int, problem: str
) -> None:
    plan = check_plan(bilans, consultations)
    assert not plan.ok
    assert any(problem in p for p in plan.problems)
    assert "hors forfait" in plan_summary(plan)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="`bilans` must be keys"):
        check_plan(["yoga"], 1)
    with pytest.raises(ValidationError, match="`consultations` must be an integer"):
        check_plan(["apa"], 1.5)  # type: ignore[arg-type]


def test_helpers() -> None:
    assert [max_consultations(n) for n in range(4)] == [6, 6, 4, 2]
    assert french.eur(22.5) == "22,50 €"


def test_plan_summary_in_french_with_plurals() -> None:

    ok = plan_summary(check_plan(["apa", "dietetique"], 4))
    assert (
        ok == "2 bilans + 4 consultations = 180,00 € sur 180,00 € : dans le forfait, sans frais "
        "pour le patient."
    )
    one = plan_summary(check_plan(["apa"], 1))
    assert one.startswith("1 bilan + 1 consultation = 67,50 €")
    assert "hors forfait" in plan_summary(check_plan(["apa"], 7))


def test_forfait_lines_state_the_amounts_from_the_facts() -> None:
    from coverage.patient import forfait

    text = " ".join(forfait_lines())
    for amount in (forfait.ANNUAL_CAP_EUR, forfait.BILAN_EUR, forfait.CONSULTATION_EUR):
        assert french.eur(amount) in text
    assert f"jusqu'à {forfait.MAX_CONSULTATIONS} consultations" in text
